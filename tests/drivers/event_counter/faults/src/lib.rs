//! Links the event-counter driver into this ztest suite.
#![no_std]

extern crate event_counter_zephyr;
