//! Rust side of the benchmark (figure 2): lock+unlock pairs through
//! racefree's `Lock` over the Zephyr backends, and through the raw bindings
//! (`zephyr::raw`) for comparison. Timing is done by the C caller, around one
//! call, exactly as for the C loops it is compared with.
#![no_std]

extern crate event_counter_zephyr;

use event_counter_zephyr::{thread_context, ZephyrDevice, ZephyrMutex, ZephyrSpin};
use racefree::{lock_class, Lock};
use zephyr::raw;

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
    let lock: Lock<u32, ZephyrSpin> = Lock::new(0, lock_class!("bench.spin"));
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
    let lock: Lock<u32, ZephyrMutex> = Lock::new(0, lock_class!("bench.mutex"));
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

/// Bytes the Rust driver state needs (`size_of::<ZephyrDevice>()`), for the
/// RAM analysis of figure 5.
#[no_mangle]
extern "C" fn bench_rs_device_size() -> usize {
    core::mem::size_of::<ZephyrDevice>()
}

/// Prototype of the fix proposed in ANALYSIS.md, item 1: a `k_spinlock`
/// backend whose uniprocessor lock is inlined (`arch_irq_lock()` on
/// ARMv7-M), instead of calling bindgen's out-of-line wrappers. Benchmark
/// only: it is valid for this image's configuration alone, which
/// [`bench_rs_inline_spin_valid`] checks at run time before it is measured.
mod inline_spin {
    use core::arch::asm;

    use event_counter_zephyr::ZephyrProbe;
    use racefree::{Backend, IsrSafe};

    /// BASEPRI that `arch_irq_lock()` sets here (`_EXC_IRQ_DEFAULT_PRIO`).
    pub const IRQ_LOCK_BASEPRI: u32 = 0x20;

    pub enum InlineSpin {}

    // SAFETY: on a uniprocessor, raising BASEPRI to the kernel's interrupt
    // lock level excludes every other context that takes the lock, exactly as
    // k_spin_lock() does when SMP and spinlock validation are off (checked by
    // `bench_rs_inline_spin_valid` before use).
    unsafe impl Backend for InlineSpin {
        type Kind = IsrSafe;
        type State = ();
        type GuardState = u32;
        type Probe = ZephyrProbe;

        fn new_state() {}

        #[inline(always)]
        unsafe fn lock(_state: *mut ()) -> u32 {
            let key: u32;
            // SAFETY: reads and raises BASEPRI; no memory is touched, and the
            // asm block is a compiler barrier (no `nomem`).
            unsafe {
                asm!("mrs {key}, BASEPRI", "msr BASEPRI_MAX, {prio}", "isb",
                     key = out(reg) key, prio = in(reg) IRQ_LOCK_BASEPRI,
                     options(nostack, preserves_flags));
            }
            key
        }

        #[inline(always)]
        unsafe fn try_lock(state: *mut ()) -> Option<u32> {
            // SAFETY: forwarded; on a uniprocessor the lock is never held by
            // a context that this one could be waiting for.
            Some(unsafe { Self::lock(state) })
        }

        #[inline(always)]
        unsafe fn unlock(_state: *mut (), key: &u32) {
            // SAFETY: restores the BASEPRI saved by `lock`.
            unsafe {
                asm!("msr BASEPRI, {key}", "isb", key = in(reg) *key,
                     options(nostack, preserves_flags));
            }
        }
    }
}

/// Whether [`inline_spin::InlineSpin`] matches this image's `k_spin_lock()`:
/// no SMP or validation state in `k_spinlock`, and the same BASEPRI.
#[no_mangle]
extern "C" fn bench_rs_inline_spin_valid() -> bool {
    if core::mem::size_of::<raw::k_spinlock>() != 0 {
        return false;
    }
    // SAFETY: an all-zero k_spinlock is unlocked.
    let mut lock: raw::k_spinlock = unsafe { core::mem::zeroed() };
    let l = &mut lock as *mut raw::k_spinlock;
    // SAFETY: a live lock, locked and unlocked with its key.
    let key = unsafe { raw::k_spin_lock(l) };
    let basepri: u32;
    // SAFETY: reads BASEPRI.
    unsafe { core::arch::asm!("mrs {0}, BASEPRI", out(reg) basepri, options(nomem, nostack)) };
    // SAFETY: as above.
    unsafe { raw::k_spin_unlock(l, key) };
    basepri == inline_spin::IRQ_LOCK_BASEPRI
}

/// `8 * n` lock+unlock pairs of a racefree `SpinLock` over the prototype
/// inline backend.
#[no_mangle]
extern "C" fn bench_rs_inline_spin_pairs(n: u32) {
    let lock: Lock<u32, inline_spin::InlineSpin> = Lock::new(0, lock_class!("bench.inline"));
    // SAFETY: as in `bench_rs_spin_pairs`.
    unsafe { lock.init() };
    for _ in 0..n {
        x8!(drop(lock.lock()));
    }
}
