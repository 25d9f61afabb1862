//! Rust side of the benchmark (figure 2): lock+unlock pairs through
//! racefree's `Lock` over the Zephyr backends, and for comparison through
//! zephyr-lang-rust's own `zephyr::sync::{SpinMutex, Mutex}` and through the
//! raw bindings (`zephyr::raw`). Timing is done by the C caller, around one
//! call, exactly as for the C loops it is compared with.
//!
//! The racefree pairs use the driver's own backends (`backend::chosen`): the
//! raw `ZephyrSpin`/`ZephyrMutex`, or with `CONFIG_EVENT_COUNTER_LOCKDEP`
//! (scenario `perf.lockdep`) the same wrapped in the lock validator, whose
//! cost is what that scenario measures.
#![no_std]

extern crate event_counter_zephyr;

use event_counter_zephyr::backend::chosen;
use event_counter_zephyr::{thread_context, ZephyrDevice, ZephyrSpin};
use core::sync::atomic::{AtomicPtr, Ordering};

use racefree::{lock_class, Lock};
use static_cell::StaticCell;
use zephyr::{kobj_define, raw};

/// Eight copies of a statement: the loops below do eight pairs per turn, so
/// that the loop itself adds well under one instruction per pair.
macro_rules! x8 {
    ($e:expr) => {{
        $e;
        $e;
        $e;
        $e;
        $e;
        $e;
        $e;
        $e;
    }};
}

/// `8 * n` lock+unlock pairs of a racefree `SpinLock` over `k_spinlock`.
#[no_mangle]
extern "C" fn bench_rs_spin_pairs(n: u32) {
    let lock: Lock<u32, chosen::Spin> = Lock::new(0, lock_class!("bench.spin"));
    // SAFETY: `lock` stays where it is until it is dropped below, and no lock
    // operation has started.
    unsafe { lock.init() };
    for _ in 0..n {
        x8!(drop(lock.lock()));
    }
}

/// `8 * n` lock+unlock pairs of a racefree `Mutex` over `k_mutex`.
#[no_mangle]
extern "C" fn bench_rs_mutex_pairs(n: u32) {
    let Some(ctx) = thread_context() else { return };
    let lock: Lock<u32, chosen::Mutex> = Lock::new(0, lock_class!("bench.mutex"));
    // SAFETY: as in `bench_rs_spin_pairs`.
    unsafe { lock.init() };
    for _ in 0..n {
        x8!(drop(lock.lock(&ctx)));
    }
}

/// `8 * n` pairs of raw `k_spin_lock`/`k_spin_unlock` called from Rust.
#[no_mangle]
extern "C" fn bench_rs_raw_spin_pairs(n: u32) {
    // SAFETY: an all-zero k_spinlock is unlocked.
    let mut lock: raw::k_spinlock = unsafe { core::mem::zeroed() };
    let l = &mut lock as *mut raw::k_spinlock;
    for _ in 0..n {
        // SAFETY: a live lock, locked and unlocked in turn with its key.
        x8!(unsafe { raw::k_spin_unlock(l, raw::k_spin_lock(l)) });
    }
}

/// `8 * n` pairs of raw `k_mutex_lock`/`k_mutex_unlock` called from Rust.
#[no_mangle]
extern "C" fn bench_rs_raw_mutex_pairs(n: u32) {
    // SAFETY: plain C data, initialised by k_mutex_init() below before use.
    let mut mutex: raw::k_mutex = unsafe { core::mem::zeroed() };
    let m = &mut mutex as *mut raw::k_mutex;
    // SAFETY: `mutex` does not move while in use; thread context (C caller).
    unsafe { raw::k_mutex_init(m) };
    for _ in 0..n {
        // SAFETY: an initialised mutex, taken and given back by this thread.
        x8!(unsafe {
            raw::k_mutex_lock(m, raw::k_timeout_t { ticks: -1 });
            raw::k_mutex_unlock(m)
        });
    }
}

/// `8 * n` lock+unlock pairs of zephyr-lang-rust's `zephyr::sync::SpinMutex`
/// (`k_spin_lock` through the bindings, with a guard).
#[no_mangle]
extern "C" fn bench_rs_sync_spin_pairs(n: u32) {
    let lock = zephyr::sync::SpinMutex::new(0u32);
    for _ in 0..n {
        x8!(drop(lock.lock()));
    }
}

kobj_define! {
    static SYNC_MUTEX_OBJECT: StaticMutex;
}

/// `8 * n` lock+unlock pairs of zephyr-lang-rust's `zephyr::sync::Mutex`
/// (`k_mutex` through `sys::Mutex`, with a guard). Its `k_mutex` is a static
/// kernel object that can be taken only once, so the mutex is made by the
/// first call (the C side makes it with `n == 0`, outside the timing) and
/// kept.
#[no_mangle]
extern "C" fn bench_rs_sync_mutex_pairs(n: u32) {
    static MUTEX: AtomicPtr<zephyr::sync::Mutex<u32>> = AtomicPtr::new(core::ptr::null_mut());
    static STORAGE: StaticCell<zephyr::sync::Mutex<u32>> = StaticCell::new();
    // Ordering: Acquire pairs with the Release below (one benchmark thread,
    // but stated anyway).
    let mut mutex = MUTEX.load(Ordering::Acquire);
    if mutex.is_null() {
        let Some(object) = SYNC_MUTEX_OBJECT.init_once(()) else { return };
        let Some(made) = STORAGE.try_init(zephyr::sync::Mutex::new_from(0, object)) else {
            return;
        };
        mutex = made;
        MUTEX.store(mutex, Ordering::Release);
    }
    // SAFETY: `mutex` points into `STORAGE`, initialised once and never moved
    // or freed, and is only used through shared references.
    let mutex = unsafe { &*mutex };
    for _ in 0..n {
        x8!(drop(mutex.lock()));
    }
}

/// Bytes the Rust driver state needs (`size_of::<ZephyrDevice>()`), for the
/// RAM analysis of figure 5.
#[no_mangle]
extern "C" fn bench_rs_device_size() -> usize {
    core::mem::size_of::<ZephyrDevice>()
}

/// Whether the driver's `ZephyrSpin` masks interrupts exactly as this
/// image's `k_spin_lock()` does: the same BASEPRI while held, the previous
/// one restored after. In this image `ZephyrSpin` is the inlined
/// uniprocessor lock (backend.rs, module `spin`); its BASEPRI value is the
/// kernel's by construction, and this checks it on the target as well.
#[no_mangle]
extern "C" fn bench_rs_spin_matches_kernel() -> bool {
    fn basepri() -> u32 {
        let v: u32;
        // SAFETY: reads BASEPRI; no memory, no side effects.
        unsafe { core::arch::asm!("mrs {0}, BASEPRI", out(reg) v, options(nomem, nostack)) };
        v
    }
    let before = basepri();
    // SAFETY: an all-zero k_spinlock is unlocked.
    let mut lock: raw::k_spinlock = unsafe { core::mem::zeroed() };
    let l = &mut lock as *mut raw::k_spinlock;
    // SAFETY: a live lock, locked and unlocked with its key.
    let key = unsafe { raw::k_spin_lock(l) };
    let kernel = basepri();
    // SAFETY: as above.
    unsafe { raw::k_spin_unlock(l, key) };
    let ours = Lock::<u32, ZephyrSpin>::new(0, lock_class!("bench.check"));
    // SAFETY: `ours` stays where it is until it is dropped, no lock taken yet.
    unsafe { ours.init() };
    let guard = ours.lock();
    let driver = basepri();
    drop(guard);
    kernel != before && driver == kernel && basepri() == before
}
