//! Footprint image with the Rust driver: links it in.
#![no_std]

extern crate event_counter_zephyr;
