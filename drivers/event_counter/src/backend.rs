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
///
/// Where `k_spin_lock()` is nothing but `arch_irq_lock()`, that sequence is
/// inlined (see the `spin` module); everywhere else the kernel's
/// `k_spin_lock()`/`k_spin_unlock()` are called, through bindgen's
/// out-of-line wrappers since they are `static inline` in C.
pub enum ZephyrSpin {}

// SAFETY: k_spin_lock() gives mutual exclusion across CPUs and against ISRs
// on this CPU until k_spin_unlock() with the key it returned; `spin::lock`
// and `spin::unlock` are either those calls or exactly the instructions they
// consist of in this configuration (see `spin`).
unsafe impl Backend for ZephyrSpin {
    type Kind = IsrSafe;
    type State = raw::k_spinlock;
    type GuardState = raw::k_spinlock_key_t;
    type Probe = ZephyrProbe;

    // For the lock validator (src/lockdep.rs); constants only, no code.
    /// `k_spin_lock()` masks interrupts on this CPU (BASEPRI, or the arch's
    /// irq lock): an ISR cannot interrupt the holder.
    const MASKS_INTERRUPTS: bool = true;
    /// `k_spin_unlock()` restores the interrupt state saved by its lock, so
    /// nested k_spinlocks must be released last-in first-out.
    const RELEASE_LIFO: bool = true;

    fn new_state() -> raw::k_spinlock {
        // SAFETY: an all-zero k_spinlock is the unlocked state (K_SPINLOCK
        // zero-initialises statics the same way).
        unsafe { core::mem::zeroed() }
    }

    #[inline(always)]
    unsafe fn lock(state: *mut raw::k_spinlock) -> raw::k_spinlock_key_t {
        // SAFETY: the caller passes a live, initialised lock (Backend contract).
        unsafe { spin::lock(state) }
    }

    #[inline(always)]
    unsafe fn try_lock(state: *mut raw::k_spinlock) -> Option<raw::k_spinlock_key_t> {
        // SAFETY: as in `lock`.
        unsafe { spin::try_lock(state) }
    }

    #[inline(always)]
    unsafe fn unlock(state: *mut raw::k_spinlock, guard: &raw::k_spinlock_key_t) {
        // SAFETY: the caller holds the lock and passes the key `lock` returned.
        unsafe { spin::unlock(state, raw::k_spinlock_key_t { key: guard.key }) }
    }
}

/// `k_spin_lock()`, `k_spin_trylock()`, `k_spin_unlock()`: inlined where
/// they are only `arch_irq_lock()`/`arch_irq_unlock()` on ARMv7-M/ARMv8-M
/// Mainline, the kernel's functions everywhere else. Decided at build time
/// from the application's Kconfig by build.rs, which sets the `cfg`
/// `event_counter_inline_spin`.
///
/// With `CONFIG_SMP` and `CONFIG_SPIN_VALIDATE` off, Zephyr v4.0's
/// `k_spin_lock()` (include/zephyr/spinlock.h) is `arch_irq_lock()` and
/// nothing else, `k_spin_trylock()` the same and always succeeds,
/// `k_spin_unlock()` is `arch_irq_unlock()`, and a `struct k_spinlock` has no
/// fields (`CONFIG_SPIN_LOCK_TIME_LIMIT` only acts under
/// `CONFIG_SPIN_VALIDATE`; spinlock.h has no tracing hooks). On ARMv7-M and
/// ARMv8-M Mainline, and not Baseline (which `arch_irq_lock()` tests first),
/// include/zephyr/arch/arm/asm_inline_gcc.h implements those as
///
/// ```text
/// lock:   mrs key, BASEPRI; msr BASEPRI_MAX, _EXC_IRQ_DEFAULT_PRIO; isb
/// unlock: msr BASEPRI, key; isb
/// ```
///
/// **Where the BASEPRI value comes from.** `_EXC_IRQ_DEFAULT_PRIO`
/// (include/zephyr/arch/arm/cortex_m/exception.h) depends on Kconfig
/// (`CONFIG_ZERO_LATENCY_IRQS`, `CONFIG_ZERO_LATENCY_LEVELS`,
/// `CONFIG_CPU_CORTEX_M_HAS_PROGRAMMABLE_FAULT_PRIOS`) and on devicetree
/// (the NVIC's `arm,num-irq-priority-bits`; Zephyr v4.0 has no Kconfig
/// option for it). It is not recomputed here. The C shim (event_counter.c)
/// publishes the kernel's own macro as the absolute link-time symbol
/// `z_event_counter_irq_lock_basepri` (Zephyr's `GEN_ABSOLUTE_SYM`, the
/// kernel's own mechanism for its offsets), and `irq_lock_basepri` loads it
/// as the immediate of a `movw` that the linker fills in. So there is no
/// second copy of the formula that could drift from the kernel's, and
/// nothing left to cross-check. A constant derived here from Kconfig and
/// devicetree would be such a copy, and its check could not be made at build
/// time (a C `BUILD_ASSERT` cannot see a Rust constant), only at init, on
/// the device.
///
/// **Where the gating is checked.** The C block that defines the symbol
/// exists only under the preprocessor conditions that mirror build.rs's test
/// and asserts `sizeof(struct k_spinlock) == 0`; this side asserts the same
/// of bindgen's `k_spinlock`. If this crate's view of the configuration ever
/// disagreed with the C compiler's, the link fails with
/// `z_event_counter_irq_lock_basepri` undefined, instead of building a lock
/// that does not exclude.
#[cfg(event_counter_inline_spin)]
mod spin {
    use core::arch::asm;

    use zephyr::raw;

    // bindgen's view agrees: no SMP or validation state in the lock.
    const _: () = assert!(core::mem::size_of::<raw::k_spinlock>() == 0);

    /// `_EXC_IRQ_DEFAULT_PRIO`, the BASEPRI value of `arch_irq_lock()`.
    ///
    /// A separate `pure` asm block, so that the compiler may hoist it out of
    /// a loop or share it between locks, as gcc does with the constant in C.
    #[inline(always)]
    fn irq_lock_basepri() -> u32 {
        let prio: u32;
        // SAFETY: loads a link-time constant into a register: no memory, no
        // stack, no flags, no side effects (hence `pure, nomem`). The symbol
        // is z_event_counter_irq_lock_basepri = _EXC_IRQ_DEFAULT_PRIO, an
        // absolute symbol that event_counter.c defines (and asserts to be in
        // 1..=0xff, so its lower 16 bits are all of it) under the same
        // conditions as this module.
        unsafe {
            asm!(
                "movw {prio}, #:lower16:z_event_counter_irq_lock_basepri",
                prio = out(reg) prio,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        prio
    }

    /// `k_spin_lock()` = `arch_irq_lock()`: the previous BASEPRI is the key.
    ///
    /// # Safety
    /// Paired with [`unlock`] of the returned key, properly nested.
    #[inline(always)]
    pub(super) unsafe fn lock(_state: *mut raw::k_spinlock) -> raw::k_spinlock_key_t {
        let key: u32;
        // SAFETY: reads BASEPRI and raises it (BASEPRI_MAX never lowers it)
        // to the kernel's interrupt-lock level, then `isb` so that the new
        // mask is in effect before the next instruction, as arch_irq_lock()
        // does. Without `nomem` the block is a compiler memory barrier, like
        // the "memory" clobbers of CMSIS's __set_BASEPRI_MAX() and __ISB():
        // no access to the protected data moves above it.
        unsafe {
            asm!(
                "mrs {key}, BASEPRI",
                "msr BASEPRI_MAX, {prio}",
                "isb",
                key = out(reg) key,
                prio = in(reg) irq_lock_basepri(),
                options(nostack, preserves_flags),
            );
        }
        raw::k_spinlock_key_t { key: key as core::ffi::c_int }
    }

    /// `k_spin_trylock()`: without `CONFIG_SMP` it is `arch_irq_lock()` and
    /// always succeeds (no other CPU can hold the lock, and an ISR of this
    /// CPU that held it has released it before this context runs again).
    ///
    /// # Safety
    /// As [`lock`].
    #[inline(always)]
    pub(super) unsafe fn try_lock(state: *mut raw::k_spinlock) -> Option<raw::k_spinlock_key_t> {
        // SAFETY: forwarded contract.
        Some(unsafe { lock(state) })
    }

    /// `k_spin_unlock()` = `arch_irq_unlock(key)`.
    ///
    /// # Safety
    /// `key` is what the matching [`lock`] returned, and this is the
    /// innermost lock held.
    #[inline(always)]
    pub(super) unsafe fn unlock(_state: *mut raw::k_spinlock, key: raw::k_spinlock_key_t) {
        // SAFETY: restores the BASEPRI that `lock` saved, then `isb`, as
        // arch_irq_unlock() does; a compiler memory barrier as above, so no
        // access to the protected data moves below it.
        unsafe {
            asm!(
                "msr BASEPRI, {key}",
                "isb",
                key = in(reg) key.key as u32,
                options(nostack, preserves_flags),
            );
        }
    }
}

/// The kernel's `k_spin_lock()`, `k_spin_trylock()`, `k_spin_unlock()` (see
/// the inlined `spin` above for when that is not used).
#[cfg(not(event_counter_inline_spin))]
mod spin {
    use zephyr::raw;

    /// # Safety
    /// A live, initialised lock.
    #[inline(always)]
    pub(super) unsafe fn lock(state: *mut raw::k_spinlock) -> raw::k_spinlock_key_t {
        // SAFETY: forwarded contract.
        unsafe { raw::k_spin_lock(state) }
    }

    /// # Safety
    /// As [`lock`].
    #[inline(always)]
    pub(super) unsafe fn try_lock(state: *mut raw::k_spinlock) -> Option<raw::k_spinlock_key_t> {
        let mut key = raw::k_spinlock_key_t { key: 0 };
        // SAFETY: forwarded contract; `key` is a valid out-pointer.
        match unsafe { raw::k_spin_trylock(state, &mut key) } {
            0 => Some(key),
            _ => None,
        }
    }

    /// # Safety
    /// The caller holds the lock; `key` is what `lock` returned.
    #[inline(always)]
    pub(super) unsafe fn unlock(state: *mut raw::k_spinlock, key: raw::k_spinlock_key_t) {
        // SAFETY: forwarded contract.
        unsafe { raw::k_spin_unlock(state, key) }
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
    type Spin = chosen::Spin;
    type Mutex = chosen::Mutex;
    type Semaphore = chosen::Semaphore;

    const TICKS_PER_SEC: u32 = zephyr::time::SYS_FREQUENCY;

    fn uptime_ticks() -> u64 {
        // SAFETY: reads the system clock; callable from any context.
        unsafe { raw::k_uptime_ticks() as u64 }
    }
}

/// The backends the driver's locks use ([`ZephyrKernel`]'s types): the raw
/// ones above.
#[cfg(not(CONFIG_EVENT_COUNTER_LOCKDEP))]
pub mod chosen {
    /// The ISR lock's backend.
    pub type Spin = super::ZephyrSpin;
    /// The thread locks' backend (devices and the driver-level structure).
    pub type Mutex = super::ZephyrMutex;
    /// The event semaphore.
    pub type Semaphore = super::ZephyrSemaphore;
}

/// With `CONFIG_EVENT_COUNTER_LOCKDEP`: the same, validated (seed 000 step 3,
/// Validate with Lockdep). `Validated` forwards every raw operation to the
/// backend above and runs the validator in the lock hooks; the raw backends
/// stay untouched, so with the option off nothing changes.
#[cfg(CONFIG_EVENT_COUNTER_LOCKDEP)]
pub mod chosen {
    use crate::lockdep::ZephyrLockdep;
    use racefree::lockdep::{Validated, ValidatedSemaphore};

    /// The ISR lock's backend.
    pub type Spin = Validated<super::ZephyrSpin, ZephyrLockdep>;
    /// The thread locks' backend (devices and the driver-level structure).
    pub type Mutex = Validated<super::ZephyrMutex, ZephyrLockdep>;
    /// The event semaphore: a take that may wait is checked.
    pub type Semaphore = ValidatedSemaphore<super::ZephyrSemaphore, ZephyrLockdep>;
}

/// A kernel timeout: ticks as they are, milliseconds rounded up as K_MSEC()
/// does. A finite wait is at least one tick and stays relative (positive,
/// below the absolute range).
fn to_k_timeout(timeout: Timeout) -> raw::k_timeout_t {
    let ticks = match timeout.to_ticks(zephyr::time::SYS_FREQUENCY) {
        None => -1,
        Some(0) => 0,
        Some(ticks) => ticks.min(i64::MAX as u64) as i64,
    };
    raw::k_timeout_t { ticks }
}
