//! Seed 000 on target: the flawed ISR-vs-thread counter and its spinlock fix,
//! both from racefree, exported to the C test. The fixed one runs on the
//! driver's own Zephyr backend (k_spinlock).
#![no_std]

extern crate event_counter_zephyr;

use event_counter_zephyr::ZephyrSpin;
use racefree::{GuardedCounter, RacyCounter};
use static_cell::StaticCell;

static RACY: StaticCell<RacyCounter> = StaticCell::new();
static GUARDED: StaticCell<GuardedCounter<ZephyrSpin>> = StaticCell::new();

/// The flawed counter (separate load and store). Call once.
#[no_mangle]
extern "C" fn seed000_racy_new() -> *const RacyCounter {
    RACY.try_init(RacyCounter::new()).map_or(core::ptr::null(), |c| c as *const _)
}

/// Increment the flawed counter (thread or ISR).
///
/// # Safety
/// `counter` comes from `seed000_racy_new`.
#[no_mangle]
unsafe extern "C" fn seed000_racy_increment(counter: *const RacyCounter) {
    // SAFETY: a 'static counter from `seed000_racy_new` (caller contract).
    unsafe { &*counter }.increment()
}

/// Read the flawed counter.
///
/// # Safety
/// As for `seed000_racy_increment`.
#[no_mangle]
unsafe extern "C" fn seed000_racy_read(counter: *const RacyCounter) -> u32 {
    // SAFETY: as above.
    unsafe { &*counter }.read()
}

/// The fixed counter (k_spinlock around the read-modify-write). Call once.
#[no_mangle]
extern "C" fn seed000_guarded_new() -> *const GuardedCounter<ZephyrSpin> {
    GUARDED.try_init(GuardedCounter::new()).map_or(core::ptr::null(), |c| c as *const _)
}

/// Increment the fixed counter (thread or ISR).
///
/// # Safety
/// `counter` comes from `seed000_guarded_new`.
#[no_mangle]
unsafe extern "C" fn seed000_guarded_increment(counter: *const GuardedCounter<ZephyrSpin>) {
    // SAFETY: a 'static counter from `seed000_guarded_new` (caller contract).
    unsafe { &*counter }.increment()
}

/// Read the fixed counter.
///
/// # Safety
/// As for `seed000_guarded_increment`.
#[no_mangle]
unsafe extern "C" fn seed000_guarded_read(counter: *const GuardedCounter<ZephyrSpin>) -> u32 {
    // SAFETY: as above.
    unsafe { &*counter }.read()
}
