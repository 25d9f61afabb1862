//! Footprint baseline: an empty Rust staticlib, so that the Rust runtime is
//! in every footprint image and only the driver differs.
#![no_std]

extern crate zephyr;
