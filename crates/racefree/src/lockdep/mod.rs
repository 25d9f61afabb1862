//! A lock validator in the style of Linux lockdep (feature `lockdep`).
//!
//! Seed 000, *Step 3: Validate with Lockdep*: "enable lock dependency tracking … monitor logs
//! for warnings about missing locks or incorrect usage patterns". Like Linux lockdep
//! (`Documentation/locking/lockdep-design.rst`) it validates **classes**, not instances — a
//! class is a [`LockClass`], one per creation site ([`lock_class!`](crate::lock_class)) — so a
//! lock-order inversion is reported the first time it becomes *possible*: thread 1 took A
//! then B earlier, thread 2 now takes B then A, even if the two never overlapped.
//!
//! # What it checks
//!
//! | diagnostic | when |
//! |---|---|
//! | [`LockOrderInversion`](Diagnostic::LockOrderInversion) | acquiring B while holding A when the class graph already has a path B → … → A (any context) |
//! | [`SleepInAtomic`](Diagnostic::SleepInAtomic) | a blocking call (thread-only lock, semaphore take with a timeout other than no-wait, [`might_sleep`]) in an ISR or while an isr-safe lock is held |
//! | [`RecursiveLock`](Diagnostic::RecursiveLock) | acquiring a lock instance the context already holds (also by try-lock) |
//! | [`IrqSafetyInversion`](Diagnostic::IrqSafetyInversion) | a class taken in an ISR and, through a backend that does not mask interrupts ([`Backend::MASKS_INTERRUPTS`]), in a thread with interrupts enabled |
//! | [`ThreadLockFromIsr`](Diagnostic::ThreadLockFromIsr) | a thread-only (sleeping) lock acquired in an ISR |
//! | [`UnlockNotHeld`](Diagnostic::UnlockNotHeld) | releasing a lock the context does not hold |
//! | [`UnlockOutOfOrder`](Diagnostic::UnlockOutOfOrder) | releasing a lock before a later one, for backends that require LIFO release ([`Backend::RELEASE_LIFO`]) |
//! | [`AssertHeldFailed`](Diagnostic::AssertHeldFailed), [`AssertNotHeldFailed`](Diagnostic::AssertNotHeldFailed) | [`Lock::assert_held`] / [`Lock::assert_not_held`] contracts |
//! | [`CapacityExceeded`](Diagnostic::CapacityExceeded) | a fixed table is full; validation becomes partial |
//!
//! Each distinct diagnostic (kind and classes) is reported once and counted. The report is
//! formatted into a fixed buffer, kept as [`last_report`], printed by [`Platform::emit`], and
//! then [`Policy`] decides whether to go on or stop ([`Platform::fatal`]).
//!
//! Not checked (unlike Linux): read/write locks, the transitive IRQ rule (an irq-safe class
//! taken before an irq-unsafe one, which needs a second CPU to deadlock), and nesting two
//! instances of one class (ignored, not reported).
//!
//! # How it attaches: through the backend
//!
//! [`Lock`] calls the hooks of its [`Backend`] ([`Backend::before_acquire`],
//! [`after_acquire`](Backend::after_acquire), [`before_release`](Backend::before_release),
//! [`check_held`](Backend::check_held)), which do nothing by default. [`Validated<B, P>`] is a
//! backend that forwards every raw operation to `B` and runs the validator in the hooks, with
//! the platform `P` saying which context runs ([`Platform::current_context`]), where the state
//! lives and how to print. So a driver turns validation on by choosing
//! `Validated<ZephyrSpin, ZephyrLockdep>` instead of `ZephyrSpin` (under a cfg of its own);
//! nothing changes for other users of [`Lock`]. [`ValidatedSemaphore<S, P>`] does the same for
//! a [`Semaphore`]: a take that may wait calls [`might_sleep`].
//!
//! # On Zephyr
//!
//! The driver crate implements [`Platform`] once and picks validated backends under a cfg of
//! its own (set from Kconfig), and declares its spinlock's properties on the raw backend:
//!
//! ```text
//! unsafe impl Backend for ZephyrSpin {
//!     const MASKS_INTERRUPTS: bool = true; // k_spin_lock() masks interrupts
//!     const RELEASE_LIFO: bool = true;     // k_spin_unlock() restores the saved key
//!     // ...
//! }
//!
//! enum ZephyrLockdep {}
//! impl lockdep::Platform for ZephyrLockdep {
//!     const POLICY: Policy = if cfg!(event_counter_lockdep_panic) { Policy::Panic } else { Policy::Warn };
//!     fn current_context() -> ContextId {
//!         if unsafe { raw::k_is_in_isr() } {
//!             ContextId::isr(cpu_id(), isr_nesting()) // arch_curr_cpu()->id, ->nested
//!         } else {
//!             ContextId::thread(unsafe { raw::k_current_get() } as usize)
//!         }
//!     }
//!     fn validator() -> &'static Validator {
//!         static VALIDATOR: Validator = Validator::new();
//!         &VALIDATOR
//!     }
//!     fn emit(report: &Report) { /* printk("%s\n", report) through a fmt::Write */ }
//!     fn fatal(report: &Report) -> ! { /* k_panic() */ }
//! }
//!
//! #[cfg(event_counter_lockdep)]
//! impl event_counter::Kernel for ZephyrKernel {
//!     type Spin = Validated<ZephyrSpin, ZephyrLockdep>;
//!     type Mutex = Validated<ZephyrMutex, ZephyrLockdep>;
//!     type Semaphore = ValidatedSemaphore<ZephyrSemaphore, ZephyrLockdep>;
//!     // ...
//! }
//! ```
//!
//! Any other blocking call (`k_sleep`, a raw `k_sem_take`) can call
//! [`might_sleep::<ZephyrLockdep>("k_sleep")`](might_sleep) first, and
//! [`write_graph`] prints the driver's recorded lock order.
//!
//! # Examples
//!
//! ```
//! use racefree::lockdep::{self, DiagnosticKind, StdLockdep, Validated};
//! use racefree::{lock_class, SpinLock, StdSpin};
//!
//! type Spin = Validated<StdSpin, StdLockdep>;
//! let a: SpinLock<u32, Spin> = SpinLock::new(0, lock_class!("doc.a"));
//! let b: SpinLock<u32, Spin> = SpinLock::new(0, lock_class!("doc.b"));
//! {
//!     let _a = a.lock();
//!     let _b = b.lock(); // records "doc.a" -> "doc.b"
//! }
//! {
//!     let _b = b.lock();
//!     let _a = a.lock(); // the opposite order: reported, although nothing deadlocked
//! }
//! let report = lockdep::last_report::<StdLockdep>().unwrap();
//! assert_eq!(report.kind(), DiagnosticKind::LockOrderInversion);
//! assert!(report.as_str().starts_with("lockdep: lock-order inversion"));
//! ```

mod context;
#[cfg(all(feature = "std", not(loom)))]
mod host;
mod report;
mod validator;

use core::convert::Infallible;
use core::fmt;
use core::marker::PhantomData;
use core::panic::Location;

pub use context::ContextId;
#[cfg(all(feature = "std", not(loom)))]
pub use host::{std_context, StdLockdep};
pub use report::{Diagnostic, DiagnosticKind, Report, REPORT_TEXT_CAPACITY};
pub use validator::{
    Validator, MAX_CLASSES, MAX_CONTEXTS, MAX_DISTINCT_REPORTS, MAX_EDGE_LOG, MAX_HELD,
};

use crate::lock::LockKind;
use crate::{Backend, Lock, LockClass, Result, Semaphore, TimedBackend, Timeout};
use validator::LockTraits;

/// What happens after a diagnostic has been reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Go on (the report has been emitted and counted).
    Warn,
    /// Stop: call [`Platform::fatal`] (`k_panic()` on Zephyr, `panic!` on the host).
    Panic,
}

/// What the validator needs from the platform.
///
/// Zephyr: `current_context` from `k_is_in_isr()`, `k_current_get()` and the CPU's nesting
/// count; `validator` a `static`; `emit` with `printk`; `POLICY` from a Kconfig choice and
/// `fatal` calling `k_panic()`. Host: [`StdLockdep`].
pub trait Platform: 'static {
    /// Warn or panic after a report. Default: warn.
    const POLICY: Policy = Policy::Warn;

    /// The context the caller runs in. Must be callable from threads and ISRs.
    fn current_context() -> ContextId;

    /// The validator state of this platform (usually a `static`).
    fn validator() -> &'static Validator;

    /// Prints a report (`printk("%s\n", …)`, `eprintln!`). Called in the context that found
    /// the problem, possibly an ISR, possibly with locks held: must not block.
    fn emit(report: &Report);

    /// Stops the system after a report under [`Policy::Panic`]. Default: `panic!`.
    fn fatal(report: &Report) -> ! {
        panic!("{report}")
    }
}

/// A backend adapter that validates every operation of the raw backend `B` with platform `P`.
///
/// Raw operations and properties are `B`'s; the hooks run the validator, then `B`'s own hooks.
/// Implements [`TimedBackend`] when `B` does. Never instantiated (like all backends).
///
/// # Examples
///
/// ```
/// use racefree::lockdep::{self, DiagnosticKind, StdLockdep, Validated};
/// use racefree::{lock_class, Mutex, SpinLock, StdMutex, StdProbe, StdSpin, ThreadContext};
///
/// let spin: SpinLock<u32, Validated<StdSpin, StdLockdep>> =
///     SpinLock::new(0, lock_class!("doc.validated.spin"));
/// let mutex: Mutex<u32, Validated<StdMutex, StdLockdep>> =
///     Mutex::new(0, lock_class!("doc.validated.mutex"));
/// let ctx = ThreadContext::current::<StdProbe>().unwrap();
/// let before = lockdep::count::<StdLockdep>(DiagnosticKind::SleepInAtomic);
/// {
///     let _s = spin.lock();
///     let _m = mutex.lock(&ctx); // sleeping while a spinlock is held
/// }
/// assert_eq!(lockdep::count::<StdLockdep>(DiagnosticKind::SleepInAtomic), before + 1);
/// ```
pub struct Validated<B, P> {
    _never: Infallible,
    _backend: PhantomData<fn() -> (B, P)>,
}

impl<B, P> fmt::Debug for Validated<B, P> {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self._never {}
    }
}

impl<B: Backend, P: Platform> Validated<B, P> {
    const TRAITS: LockTraits = LockTraits {
        isr_safe: <B::Kind as LockKind>::ISR_SAFE,
        masks_interrupts: B::MASKS_INTERRUPTS,
        release_lifo: B::RELEASE_LIFO,
    };
}

// SAFETY: every raw operation is `B`'s, unchanged, so `B`'s guarantees carry over; the hooks
// only read and update the validator's own state.
unsafe impl<B: Backend, P: Platform> Backend for Validated<B, P> {
    type Kind = B::Kind;
    type State = B::State;
    type GuardState = B::GuardState;
    type Probe = B::Probe;

    const MASKS_INTERRUPTS: bool = B::MASKS_INTERRUPTS;
    const RELEASE_LIFO: bool = B::RELEASE_LIFO;

    #[inline]
    fn new_state() -> B::State {
        B::new_state()
    }

    #[inline]
    unsafe fn init(state: *mut B::State) {
        // SAFETY: forwarded contract.
        unsafe { B::init(state) }
    }

    #[inline]
    unsafe fn lock(state: *mut B::State) -> B::GuardState {
        // SAFETY: forwarded contract.
        unsafe { B::lock(state) }
    }

    #[inline]
    unsafe fn try_lock(state: *mut B::State) -> Option<B::GuardState> {
        // SAFETY: forwarded contract.
        unsafe { B::try_lock(state) }
    }

    #[inline]
    unsafe fn unlock(state: *mut B::State, guard: &B::GuardState) {
        // SAFETY: forwarded contract.
        unsafe { B::unlock(state, guard) }
    }

    fn before_acquire(class: &'static LockClass, instance: *const (), wait: Timeout) {
        P::validator().acquiring::<P>(class, instance as usize, wait, Self::TRAITS);
        B::before_acquire(class, instance, wait);
    }

    fn after_acquire(class: &'static LockClass, instance: *const (), wait: Timeout) {
        B::after_acquire(class, instance, wait);
        P::validator().acquired::<P>(class, instance as usize, wait, Self::TRAITS);
    }

    fn before_release(class: &'static LockClass, instance: *const ()) {
        P::validator().releasing::<P>(class, instance as usize, Self::TRAITS);
        B::before_release(class, instance);
    }

    fn check_held(
        class: &'static LockClass,
        instance: *const (),
        expect_held: bool,
        caller: &'static Location<'static>,
    ) {
        P::validator().check_held::<P>(class, instance as usize, expect_held, caller);
        B::check_held(class, instance, expect_held, caller);
    }
}

// SAFETY: forwarded unchanged to `B`.
unsafe impl<B: TimedBackend, P: Platform> TimedBackend for Validated<B, P> {
    #[inline]
    unsafe fn lock_timeout(state: *mut B::State, timeout: Timeout) -> Result<B::GuardState> {
        // SAFETY: forwarded contract.
        unsafe { B::lock_timeout(state, timeout) }
    }
}

/// A [`Semaphore`] adapter: a `take` that may wait (any timeout but no-wait) is a blocking
/// call, checked with [`might_sleep`]. `give` never blocks and is not checked.
///
/// # Examples
///
/// ```
/// use racefree::lockdep::{self, DiagnosticKind, StdLockdep, ValidatedSemaphore};
/// use racefree::{with_simulated_isr, Semaphore, StdSemaphore, Timeout};
///
/// let sem: ValidatedSemaphore<StdSemaphore, StdLockdep> = ValidatedSemaphore::new();
/// sem.give();
/// let before = lockdep::count::<StdLockdep>(DiagnosticKind::SleepInAtomic);
/// with_simulated_isr(|_| sem.take(Timeout::NoWait)).unwrap(); // fine in an ISR
/// assert_eq!(lockdep::count::<StdLockdep>(DiagnosticKind::SleepInAtomic), before);
/// ```
pub struct ValidatedSemaphore<S, P> {
    inner: S,
    _platform: PhantomData<fn() -> P>,
}

impl<S: fmt::Debug, P> fmt::Debug for ValidatedSemaphore<S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ValidatedSemaphore")
            .field(&self.inner)
            .finish()
    }
}

impl<S, P> ValidatedSemaphore<S, P> {
    /// The wrapped semaphore.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

// SAFETY: every operation is `S`'s, unchanged; `take` only adds a validator check first.
unsafe impl<S: Semaphore, P: Platform> Semaphore for ValidatedSemaphore<S, P> {
    fn new() -> Self {
        Self {
            inner: S::new(),
            _platform: PhantomData,
        }
    }

    unsafe fn init(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.init() }
    }

    fn give(&self) {
        self.inner.give();
    }

    #[track_caller]
    fn take(&self, timeout: Timeout) -> Result<()> {
        if !timeout.is_no_wait() {
            might_sleep::<P>("semaphore take");
        }
        self.inner.take(timeout)
    }

    fn reset(&self) {
        self.inner.reset();
    }
}

/// States that the caller is about to block (`what`, e.g. `"k_sem_take"`): reports
/// [`SleepInAtomic`](Diagnostic::SleepInAtomic) in an ISR or while an isr-safe lock is held.
///
/// Call it from every blocking path that does not go through a validated lock or semaphore.
#[track_caller]
pub fn might_sleep<P: Platform>(what: &'static str) {
    P::validator().might_sleep::<P>(what, Location::caller());
}

/// [`Lock::assert_held`]: reports [`AssertHeldFailed`](Diagnostic::AssertHeldFailed) unless the
/// current context holds `lock` (validated backends only; a no-op otherwise).
#[track_caller]
pub fn assert_held<T: ?Sized, B: Backend>(lock: &Lock<T, B>) {
    lock.assert_held();
}

/// [`Lock::assert_not_held`]: reports [`AssertNotHeldFailed`](Diagnostic::AssertNotHeldFailed)
/// if the current context holds `lock` (validated backends only; a no-op otherwise).
#[track_caller]
pub fn assert_not_held<T: ?Sized, B: Backend>(lock: &Lock<T, B>) {
    lock.assert_not_held();
}

/// Distinct diagnostics reported on platform `P` ([`Validator::report_count`]).
pub fn report_count<P: Platform>() -> u32 {
    P::validator().report_count()
}

/// Distinct diagnostics of `kind` reported on platform `P` ([`Validator::count`]).
pub fn count<P: Platform>(kind: DiagnosticKind) -> u32 {
    P::validator().count(kind)
}

/// A copy of the last report on platform `P` ([`Validator::last_report`]).
pub fn last_report<P: Platform>() -> Option<Report> {
    P::validator().last_report()
}

/// Forgets the recorded history of platform `P` ([`Validator::reset`]). For tests.
pub fn reset<P: Platform>() {
    P::validator().reset();
}

/// Writes the recorded class dependency graph of platform `P`, one `"held" -> "taken"` line
/// per dependency ([`Validator::write_graph`]).
pub fn write_graph<P: Platform>(out: &mut dyn fmt::Write) -> fmt::Result {
    P::validator().write_graph(out)
}
