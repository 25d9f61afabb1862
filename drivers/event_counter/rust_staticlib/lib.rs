//! Links the event-counter driver (its `extern "C"` entry points and the
//! `zephyr` crate's runtime) into an application that has no Rust crate.
#![no_std]

extern crate event_counter_zephyr;
