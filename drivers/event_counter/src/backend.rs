//! racefree backends over Zephyr's kernel primitives.
//!
//! These call the raw `k_*` functions directly rather than going through
//! `zephyr::sync::SpinMutex`/`Mutex`: racefree's [`Lock`](racefree::Lock)
//! already owns the data and the guard, so the std-shaped wrappers would only
//! add a second layer with the same job.

use core::cell::UnsafeCell;

use racefree::{Backend, ContextProbe, Error, IsrSafe, Result, Semaphore, ThreadOnly, TimedBackend, Timeout};
use zephyr::raw;

/// `k_is_in_isr()`.
pub enum ZephyrProbe {}

impl ContextProbe for ZephyrProbe {
    #[inline]
    fn in_isr() -> bool {
        // SAFETY: k_is_in_isr() only reads the current CPU's nesting count.
        unsafe { raw::k_is_in_isr() }
    }
}

/// `k_spinlock`: ISR-safe; masks interrupts on this CPU while held.
pub enum ZephyrSpin {}

// SAFETY: k_spin_lock() gives mutual exclusion across CPUs and against ISRs
// on this CPU until k_spin_unlock() with the key it returned.
unsafe impl Backend for ZephyrSpin {
    type Kind = IsrSafe;
    type State = raw::k_spinlock;
    type GuardState = raw::k_spinlock_key_t;
    type Probe = ZephyrProbe;

    fn new_state() -> raw::k_spinlock {
        // SAFETY: an all-zero k_spinlock is the unlocked state (K_SPINLOCK
        // zero-initialises statics the same way).
        unsafe { core::mem::zeroed() }
    }

    #[inline]
    unsafe fn lock(state: *mut raw::k_spinlock) -> raw::k_spinlock_key_t {
        // SAFETY: the caller passes a live, initialised lock (Backend contract).
        unsafe { raw::k_spin_lock(state) }
    }

    #[inline]
    unsafe fn try_lock(state: *mut raw::k_spinlock) -> Option<raw::k_spinlock_key_t> {
        let mut key = raw::k_spinlock_key_t { key: 0 };
        // SAFETY: as in `lock`; `key` is a valid out-pointer.
        match unsafe { raw::k_spin_trylock(state, &mut key) } {
            0 => Some(key),
            _ => None,
        }
    }

    #[inline]
    unsafe fn unlock(state: *mut raw::k_spinlock, guard: &raw::k_spinlock_key_t) {
        // SAFETY: the caller holds the lock and passes the key `lock` returned.
        unsafe { raw::k_spin_unlock(state, raw::k_spinlock_key_t { key: guard.key }) }
    }
}

/// `k_mutex`: thread context only; sleeps while contended; priority inheritance.
pub enum ZephyrMutex {}

// SAFETY: k_mutex_lock() returning 0 gives exclusive ownership to the calling
// thread until k_mutex_unlock() from the same thread.
unsafe impl Backend for ZephyrMutex {
    type Kind = ThreadOnly;
    type State = raw::k_mutex;
    type GuardState = ();
    type Probe = ZephyrProbe;

    fn new_state() -> raw::k_mutex {
        // SAFETY: plain C data; `init` sets it up in place before first use.
        unsafe { core::mem::zeroed() }
    }

    unsafe fn init(state: *mut raw::k_mutex) {
        // SAFETY: the caller passes the mutex at its final address, once.
        unsafe { raw::k_mutex_init(state) };
    }

    #[inline]
    unsafe fn lock(state: *mut raw::k_mutex) {
        // SAFETY: initialised mutex, thread context (Backend contract).
        let ret = unsafe { raw::k_mutex_lock(state, raw::k_timeout_t { ticks: -1 }) };
        debug_assert_eq!(ret, 0, "k_mutex_lock(K_FOREVER) cannot fail");
    }

    #[inline]
    unsafe fn try_lock(state: *mut raw::k_mutex) -> Option<()> {
        // SAFETY: as in `lock`.
        (unsafe { raw::k_mutex_lock(state, raw::k_timeout_t { ticks: 0 }) } == 0).then_some(())
    }

    #[inline]
    unsafe fn unlock(state: *mut raw::k_mutex, _guard: &()) {
        // SAFETY: the calling thread holds the mutex (Backend contract).
        let ret = unsafe { raw::k_mutex_unlock(state) };
        debug_assert_eq!(ret, 0, "k_mutex_unlock by its owner cannot fail");
    }
}

// SAFETY: k_mutex_lock() with a timeout returns 0 only once the mutex is held.
unsafe impl TimedBackend for ZephyrMutex {
    #[inline]
    unsafe fn lock_timeout(state: *mut raw::k_mutex, timeout: Timeout) -> Result<()> {
        // SAFETY: as in `lock`.
        match unsafe { raw::k_mutex_lock(state, to_k_timeout(timeout)) } {
            0 => Ok(()),
            _ if timeout == Timeout::NoWait => Err(Error::WouldBlock),
            _ => Err(Error::TimedOut),
        }
    }
}

/// `k_sem`: given from ISRs, taken by threads.
pub struct ZephyrSemaphore(UnsafeCell<raw::k_sem>);

// SAFETY: every access goes through k_sem_* calls, which synchronise
// internally (they are ISR- and SMP-safe).
unsafe impl Sync for ZephyrSemaphore {}
// SAFETY: before `init` it is plain zeroed data; after, it is never moved.
unsafe impl Send for ZephyrSemaphore {}

// SAFETY: k_sem_take() returns 0 only after consuming a count given by k_sem_give().
unsafe impl Semaphore for ZephyrSemaphore {
    fn new() -> Self {
        // SAFETY: plain C data; `init` sets it up in place before first use.
        ZephyrSemaphore(UnsafeCell::new(unsafe { core::mem::zeroed() }))
    }

    unsafe fn init(&self) {
        // SAFETY: final address, once, before use (Semaphore contract). The
        // limit is the largest count k_sem allows.
        unsafe { raw::k_sem_init(self.0.get(), 0, u32::MAX) };
    }

    #[inline]
    fn give(&self) {
        // SAFETY: initialised before any use (Semaphore contract).
        unsafe { raw::k_sem_give(self.0.get()) }
    }

    #[inline]
    fn take(&self, timeout: Timeout) -> Result<()> {
        // SAFETY: as in `give`.
        match unsafe { raw::k_sem_take(self.0.get(), to_k_timeout(timeout)) } {
            0 => Ok(()),
            _ if timeout == Timeout::NoWait => Err(Error::WouldBlock),
            _ => Err(Error::TimedOut),
        }
    }

    fn reset(&self) {
        // SAFETY: as in `give`.
        unsafe { raw::k_sem_reset(self.0.get()) }
    }
}

/// The Zephyr kernel for [`event_counter::Device`].
pub enum ZephyrKernel {}

impl event_counter::Kernel for ZephyrKernel {
    type Spin = ZephyrSpin;
    type Mutex = ZephyrMutex;
    type Semaphore = ZephyrSemaphore;

    fn uptime_ms() -> u64 {
        // SAFETY: reads the system clock; callable from any context.
        unsafe { raw::k_uptime_get() as u64 }
    }
}

/// Milliseconds to ticks, rounding up as K_MSEC() does.
fn to_k_timeout(timeout: Timeout) -> raw::k_timeout_t {
    let ticks = match timeout {
        Timeout::NoWait => 0,
        Timeout::Forever => -1,
        Timeout::Millis(ms) => {
            let hz = u64::from(zephyr::time::SYS_FREQUENCY);
            ((u64::from(ms) * hz).div_ceil(1000)).max(1) as i64
        }
    };
    raw::k_timeout_t { ticks }
}
