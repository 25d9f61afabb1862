//! One generic lock, two kinds (seeds 000 and 003).
//!
//! [`Lock<T, B>`] owns its data and a backend-specific raw lock. The backend's
//! [`Kind`](Backend::Kind) decides the API:
//!
//! * [`IsrSafe`] — spinlock semantics (`k_spinlock`, Linux `spin_lock_irqsave`): usable from
//!   threads and ISRs, never sleeps, `lock()` needs no evidence. Seed 000, *Step 2: Apply
//!   Locking Mechanisms* and seed 003, *Spinlocks and Atomic Context*.
//! * [`ThreadOnly`] — mutex semantics (`k_mutex`, seed 003, *Semaphores and Mutexes*): may sleep,
//!   so every lock call takes a [`ThreadContext`], and supports [`Timeout`]s.
//!
//! Every lock names a [`LockClass`] (seed 000, *Step 3: Validate with Lockdep*): one per
//! creation site, via [`lock_class!`](crate::lock_class).
//!
//! Every lock operation also calls the backend's validation hooks
//! ([`Backend::before_acquire`], [`Backend::after_acquire`], [`Backend::before_release`],
//! [`Backend::check_held`]) with the lock's class and address. Their defaults are empty and
//! `#[inline(always)]`, so with a plain backend they compile to nothing; the lock validator
//! (`racefree::lockdep`, feature `lockdep`) is a backend adapter that fills them in.

use core::cell::UnsafeCell as RawUnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::panic::Location;

use crate::context::{ContextProbe, ThreadContext};
use crate::sync::UnsafeCell;
use crate::{Result, Timeout};

mod sealed {
    pub trait Sealed {}
}

/// The kind of a lock backend: [`IsrSafe`] or [`ThreadOnly`]. Sealed.
pub trait LockKind: sealed::Sealed {
    /// Human-readable kind name, for diagnostics.
    const NAME: &'static str;
    /// True for [`IsrSafe`] (never sleeps, usable from ISRs), false for [`ThreadOnly`].
    const ISR_SAFE: bool;
}

/// Spinlock semantics: usable from ISRs and threads, never sleeps.
///
/// Hold the guard for the minimum time and never across a blocking call
/// (seed 003, *Spinlocks and Atomic Context*).
#[derive(Debug)]
pub enum IsrSafe {}

/// Mutex semantics: thread context only, may sleep, supports timeouts.
#[derive(Debug)]
pub enum ThreadOnly {}

impl sealed::Sealed for IsrSafe {}
impl sealed::Sealed for ThreadOnly {}
impl LockKind for IsrSafe {
    const NAME: &'static str = "isr-safe spinlock";
    const ISR_SAFE: bool = true;
}
impl LockKind for ThreadOnly {
    const NAME: &'static str = "thread-only mutex";
    const ISR_SAFE: bool = false;
}

/// A lockdep-style lock class: one per creation site, named for diagnostics.
///
/// Seed 000, *Step 3: Validate with Lockdep*. Create them with [`lock_class!`](crate::lock_class).
#[derive(Debug)]
pub struct LockClass {
    name: &'static str,
}

impl LockClass {
    /// A class with the given name. Prefer [`lock_class!`](crate::lock_class), which makes it static.
    pub const fn new(name: &'static str) -> Self {
        Self { name }
    }

    /// The class name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

/// A `&'static LockClass` unique to this call site.
///
/// # Examples
///
/// ```
/// let class: &'static racefree::LockClass = racefree::lock_class!("uart.tx");
/// assert_eq!(class.name(), "uart.tx");
/// ```
#[macro_export]
macro_rules! lock_class {
    ($name:expr) => {{
        static CLASS: $crate::LockClass = $crate::LockClass::new($name);
        &CLASS
    }};
}

/// A raw lock implementation (k_spinlock, k_mutex, host and loom stand-ins).
///
/// # Safety
///
/// Implementers guarantee:
///
/// * after `init` (or, for backends with a no-op `init`, from `new_state`), `lock`/`try_lock`
///   give mutual exclusion: between a successful `lock`/`try_lock` and the matching `unlock` no
///   other caller succeeds, and `unlock` has release semantics that the next lock acquires;
/// * `State` may be shared and used from any thread (and, for [`IsrSafe`], any ISR): the
///   backend synchronises all accesses to it itself;
/// * `Kind = IsrSafe` only if `lock` never sleeps and is callable from an ISR;
/// * `Probe` reports the platform's real context.
///
/// # Validation hooks
///
/// [`Lock`] calls [`before_acquire`](Backend::before_acquire) before every acquisition
/// attempt, [`after_acquire`](Backend::after_acquire) once it succeeded,
/// [`before_release`](Backend::before_release) before every release (also around
/// [`Guard::unlock_around`]) and [`check_held`](Backend::check_held) from
/// [`Lock::assert_held`]/[`Lock::assert_not_held`]. The defaults do nothing and are
/// `#[inline(always)]`, so a backend that does not override them costs nothing.
/// `racefree::lockdep::Validated` (feature `lockdep`) overrides them to run the lock validator
/// (seed 000, *Step 3: Validate with Lockdep*). The hooks are plain safe functions: they may
/// report or panic but must not lock, sleep or touch the lock.
pub unsafe trait Backend {
    /// [`IsrSafe`] or [`ThreadOnly`].
    type Kind: LockKind;
    /// Raw lock storage (`k_spinlock`, `k_mutex`, an `AtomicBool`…).
    type State;
    /// What `unlock` needs back (`k_spinlock_key_t`, `()`).
    type GuardState;
    /// Context probe used by debug-build checks.
    type Probe: ContextProbe;

    /// True if holding a lock of this backend masks interrupts on the local CPU, so that no
    /// ISR can run there until it is released (`k_spin_lock`, Linux `spin_lock_irqsave`).
    /// The lock validator uses it for its IRQ-safety check. Default: false (host spinlocks
    /// mask nothing).
    const MASKS_INTERRUPTS: bool = false;

    /// True if locks of this backend must be released in the reverse order of acquisition
    /// (`k_spin_unlock` restores the interrupt key saved by its own `k_spin_lock`, so an
    /// out-of-order release re-enables interrupts while an inner spinlock is still held).
    /// The lock validator reports out-of-order releases for such backends. Default: false.
    const RELEASE_LIFO: bool = false;

    /// A movable initial value (e.g. zeroed storage).
    fn new_state() -> Self::State;

    /// Initialises the state in place (`k_mutex_init`). The default does nothing.
    ///
    /// # Safety
    ///
    /// `state` is valid, at its final address, and no lock operation has started yet;
    /// called at most once.
    unsafe fn init(_state: *mut Self::State) {}

    /// Acquires the lock, spinning or sleeping as the kind allows.
    ///
    /// # Safety
    ///
    /// `state` is valid and initialised; the caller's context is allowed by `Kind`; the
    /// returned value goes back to `unlock` exactly once.
    unsafe fn lock(state: *mut Self::State) -> Self::GuardState;

    /// Acquires the lock only if that needs no waiting.
    ///
    /// # Safety
    ///
    /// As for [`lock`](Backend::lock).
    unsafe fn try_lock(state: *mut Self::State) -> Option<Self::GuardState>;

    /// Releases the lock.
    ///
    /// # Safety
    ///
    /// The caller holds the lock, acquired with the `guard` it passes, in the same context.
    unsafe fn unlock(state: *mut Self::State, guard: &Self::GuardState);

    /// Validation hook: the current context is about to try to acquire the lock at `instance`,
    /// of class `class`, waiting at most `wait` ([`Timeout::NoWait`] for `try_lock`,
    /// [`Timeout::Forever`] for `lock`). The default does nothing.
    #[inline(always)]
    fn before_acquire(class: &'static LockClass, instance: *const (), wait: Timeout) {
        let _ = (class, instance, wait);
    }

    /// Validation hook: the acquisition announced by
    /// [`before_acquire`](Backend::before_acquire) with the same arguments succeeded. Not
    /// called when it failed. The default does nothing.
    #[inline(always)]
    fn after_acquire(class: &'static LockClass, instance: *const (), wait: Timeout) {
        let _ = (class, instance, wait);
    }

    /// Validation hook: the current context is about to release the lock at `instance`. The
    /// default does nothing.
    #[inline(always)]
    fn before_release(class: &'static LockClass, instance: *const ()) {
        let _ = (class, instance);
    }

    /// Validation hook for [`Lock::assert_held`] (`expect_held`) and
    /// [`Lock::assert_not_held`] (`!expect_held`), called at `caller`. The default checks
    /// nothing.
    #[inline(always)]
    fn check_held(
        class: &'static LockClass,
        instance: *const (),
        expect_held: bool,
        caller: &'static Location<'static>,
    ) {
        let _ = (class, instance, expect_held, caller);
    }
}

/// A [`ThreadOnly`] backend whose lock can wait with a timeout (`k_mutex_lock(m, timeout)`).
///
/// # Safety
///
/// `lock_timeout` has the same exclusion guarantees as [`Backend::lock`] when it returns `Ok`,
/// and holds nothing when it returns `Err`.
pub unsafe trait TimedBackend: Backend<Kind = ThreadOnly> {
    /// Acquires the lock, waiting at most `timeout`.
    ///
    /// Returns `Err(WouldBlock)` for [`Timeout::NoWait`] and `Err(TimedOut)` when a finite
    /// timeout expires.
    ///
    /// # Safety
    ///
    /// As for [`Backend::lock`].
    unsafe fn lock_timeout(state: *mut Self::State, timeout: Timeout) -> Result<Self::GuardState>;
}

/// A lock owning the data it protects (seed 001, *Simultaneous requests*: "the most important
/// point is the relationship of the mutex to the data it is protecting").
///
/// The API depends on the backend's kind; see [`SpinLock`] and [`Mutex`]. The third type
/// parameter is always `B::Kind`: it only exists so that the `IsrSafe` and `ThreadOnly` method
/// sets, which share names, can live in two inherent impls. Never spell it out.
///
/// # Invariants
///
/// `data` is accessed only while the backend lock is held, or through `&mut self`/`self`.
///
/// # Examples
///
/// ```
/// use racefree::{lock_class, SpinLock, StdSpin};
///
/// let lock: SpinLock<u32, StdSpin> = SpinLock::new(0, lock_class!("example"));
/// *lock.lock() += 1;
/// assert_eq!(*lock.lock(), 1);
/// assert_eq!(lock.class().name(), "example");
/// ```
pub struct Lock<T: ?Sized, B: Backend, K: LockKind = <B as Backend>::Kind> {
    // NOTE: the raw state is a plain `UnsafeCell` even under loom: the backend synchronises
    // it with its own atomics and it is shared by design.
    state: RawUnsafeCell<B::State>,
    class: &'static LockClass,
    _kind: PhantomData<fn() -> K>,
    data: UnsafeCell<T>,
}

/// A spinlock: pick it for data shared with ISRs, for short critical sections that never sleep
/// (seed 000's `spin_lock_irqsave` fix). `lock()` works from threads and ISRs.
pub type SpinLock<T, B> = Lock<T, B>;

/// A mutex: pick it for thread-only data whose critical section may sleep or be long
/// (seed 003's semaphore-as-mutex). Locking requires a [`ThreadContext`].
pub type Mutex<T, B> = Lock<T, B>;

// SAFETY: moving the lock moves `T` (hence `T: Send`); the backend state is shareable and
// movable by the `Backend` contract.
unsafe impl<T: ?Sized + Send, B: Backend, K: LockKind> Send for Lock<T, B, K> {}
// SAFETY: the lock hands out `&mut T` to one thread at a time, which is sound when `T: Send`
// (as for `std::sync::Mutex`); the backend state is synchronised by the backend.
unsafe impl<T: ?Sized + Send, B: Backend, K: LockKind> Sync for Lock<T, B, K> {}

impl<T, B: Backend> Lock<T, B, B::Kind> {
    /// A new, unlocked lock. Call [`init`](Lock::init) once it is at its final address.
    pub fn new(data: T, class: &'static LockClass) -> Self {
        Self {
            state: RawUnsafeCell::new(B::new_state()),
            class,
            _kind: PhantomData,
            data: UnsafeCell::new(data),
        }
    }
}

impl<T, B: Backend, K: LockKind> Lock<T, B, K> {
    /// Consumes the lock and returns the data; no locking needed since we own it.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized, B: Backend, K: LockKind> Lock<T, B, K> {
    /// Initialises the backend in place (`k_mutex_init`). Harmless for no-op backends.
    ///
    /// # Safety
    ///
    /// * the lock is at its final address and is never moved afterwards;
    /// * called once, before any lock operation.
    pub unsafe fn init(&self) {
        // SAFETY: the caller guarantees the address is final and no lock operation has started.
        unsafe { B::init(self.state.get()) }
    }

    /// The lock class given at creation.
    pub fn class(&self) -> &'static LockClass {
        self.class
    }

    /// Exclusive access without locking: the `&mut` borrow proves no guard exists.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// The address that identifies this lock instance to the validation hooks.
    #[inline(always)]
    fn instance(&self) -> *const () {
        (self as *const Self).cast()
    }

    /// States that the current context holds this lock ("called with X held").
    ///
    /// Checked by a validating backend (`racefree::lockdep::Validated`), which reports
    /// `AssertHeldFailed` otherwise; a no-op with plain backends.
    #[track_caller]
    #[inline(always)]
    pub fn assert_held(&self) {
        B::check_held(self.class, self.instance(), true, Location::caller());
    }

    /// States that the current context does not hold this lock ("called without X held").
    ///
    /// Checked by a validating backend, which reports `AssertNotHeldFailed` otherwise; a
    /// no-op with plain backends.
    #[track_caller]
    #[inline(always)]
    pub fn assert_not_held(&self) {
        B::check_held(self.class, self.instance(), false, Location::caller());
    }
}

impl<T: ?Sized, B: Backend> Lock<T, B, B::Kind> {
    /// Announces an acquisition attempt to the backend's validation hook.
    #[inline(always)]
    fn before_acquire(&self, wait: Timeout) {
        B::before_acquire(self.class, self.instance(), wait);
    }

    /// Wraps a successful acquisition in a guard, after telling the validation hook.
    #[inline(always)]
    fn guard(&self, state: B::GuardState, wait: Timeout) -> Guard<'_, T, B> {
        B::after_acquire(self.class, self.instance(), wait);
        Guard {
            lock: self,
            guard_state: state,
            _not_send: PhantomData,
        }
    }
}

impl<T: ?Sized, B: Backend<Kind = crate::IsrSafe>> Lock<T, B, crate::IsrSafe> {
    /// Acquires the lock, spinning; callable from threads and ISRs.
    ///
    /// On Zephyr this masks interrupts on the local CPU until the guard drops, like
    /// `spin_lock_irqsave`. Do not block while holding the guard.
    pub fn lock(&self) -> Guard<'_, T, B> {
        self.before_acquire(Timeout::Forever);
        // SAFETY: `Kind = IsrSafe` allows any context; the guard unlocks exactly once on drop.
        let state = unsafe { B::lock(self.state.get()) };
        self.guard(state, Timeout::Forever)
    }

    /// Acquires the lock if it is free.
    pub fn try_lock(&self) -> Option<Guard<'_, T, B>> {
        self.before_acquire(Timeout::NoWait);
        // SAFETY: as for `lock`.
        let state = unsafe { B::try_lock(self.state.get()) }?;
        Some(self.guard(state, Timeout::NoWait))
    }
}

impl<T: ?Sized, B: TimedBackend> Lock<T, B, ThreadOnly> {
    fn check_context() {
        debug_assert!(
            !B::Probe::in_isr(),
            "thread-only lock taken in ISR context (ThreadContext evidence was forged)"
        );
    }

    /// Acquires the lock, sleeping as long as needed. Thread context only.
    pub fn lock(&self, ctx: &ThreadContext) -> Guard<'_, T, B> {
        let _ = ctx;
        self.before_acquire(Timeout::Forever);
        Self::check_context();
        // SAFETY: `ctx` proves thread context, which `ThreadOnly` requires; the guard unlocks once.
        let state = unsafe { B::lock(self.state.get()) };
        self.guard(state, Timeout::Forever)
    }

    /// Acquires the lock, waiting at most `timeout`.
    ///
    /// `Err(WouldBlock)` for [`Timeout::NoWait`], `Err(TimedOut)` when the timeout expires.
    pub fn lock_timeout(&self, ctx: &ThreadContext, timeout: Timeout) -> Result<Guard<'_, T, B>> {
        let _ = ctx;
        self.before_acquire(timeout);
        Self::check_context();
        // SAFETY: as for `lock`.
        let state = unsafe { B::lock_timeout(self.state.get(), timeout) }?;
        Ok(self.guard(state, timeout))
    }

    /// Acquires the lock if it is free, without sleeping.
    pub fn try_lock(&self, ctx: &ThreadContext) -> Option<Guard<'_, T, B>> {
        let _ = ctx;
        self.before_acquire(Timeout::NoWait);
        Self::check_context();
        // SAFETY: as for `lock`.
        let state = unsafe { B::try_lock(self.state.get()) }?;
        Some(self.guard(state, Timeout::NoWait))
    }
}

/// Proof that a [`Lock`] is held; gives access to the data and unlocks on drop.
///
/// `!Send`: a spinlock key or mutex ownership must be released where it was taken.
///
/// # Invariants
///
/// The backend lock of `lock` is held, acquired with `guard_state`, for as long as the guard
/// lives (except inside [`unlock_around`](Guard::unlock_around), which holds `&mut self`).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct Guard<'a, T: ?Sized, B: Backend> {
    lock: &'a Lock<T, B, B::Kind>,
    guard_state: B::GuardState,
    _not_send: PhantomData<*mut ()>,
}

impl<T: ?Sized, B: Backend> Guard<'_, T, B> {
    /// The class of the held lock.
    pub fn class(&self) -> &'static LockClass {
        self.lock.class
    }

    /// Tells the validation hook, then releases the backend lock.
    ///
    /// # Safety
    ///
    /// The lock is held with `guard_state`, and is not used through this guard again until
    /// it has been reacquired.
    #[inline(always)]
    unsafe fn release(&self) {
        B::before_release(self.lock.class, self.lock.instance());
        // SAFETY: the caller guarantees we hold the lock, acquired with `guard_state`.
        unsafe { B::unlock(self.lock.state.get(), &self.guard_state) };
    }

    /// Unlocks, runs `f` with no lock held, and relocks, also when `f` unwinds.
    ///
    /// Relocking uses the raw backend lock: the guard itself proves the context allowed it.
    pub(crate) fn do_unlocked<R>(&mut self, f: impl FnOnce() -> R) -> R {
        struct Relock<'g, 'a, T: ?Sized, B: Backend>(&'g mut Guard<'a, T, B>);
        impl<T: ?Sized, B: Backend> Drop for Relock<'_, '_, T, B> {
            fn drop(&mut self) {
                let lock = self.0.lock;
                lock.before_acquire(Timeout::Forever);
                // SAFETY: the lock was released by `do_unlocked` below; we are in the context
                // that took it first (the guard is `!Send`), so relocking is allowed.
                self.0.guard_state = unsafe { B::lock(lock.state.get()) };
                B::after_acquire(lock.class, lock.instance(), Timeout::Forever);
            }
        }
        // SAFETY: by the type invariant we hold the lock with `guard_state`; `Relock` retakes
        // it before the guard can be used or dropped again.
        unsafe { self.release() };
        let _relock = Relock(self);
        f()
    }
}

impl<T: ?Sized, B: Backend> Deref for Guard<'_, T, B> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: by the type invariant the lock is held, so no one else accesses the data.
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T: ?Sized, B: Backend> DerefMut for Guard<'_, T, B> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: by the type invariant the lock is held, and `&mut self` excludes other
        // borrows through this guard.
        self.lock.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: ?Sized, B: Backend> Drop for Guard<'_, T, B> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we hold the lock, acquired with `guard_state`; the
        // guard is gone afterwards.
        unsafe { self.release() };
    }
}

impl<T: ?Sized + core::fmt::Debug, B: Backend> core::fmt::Debug for Guard<'_, T, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(all(test, feature = "std", not(loom)))]
mod tests {
    use super::*;
    use crate::{with_simulated_isr, Error, StdMutex, StdProbe, StdSpin};
    use std::sync::Arc;

    fn ctx() -> ThreadContext {
        ThreadContext::current::<StdProbe>().unwrap()
    }

    #[test]
    fn spin_lock_excludes() {
        let l: SpinLock<u32, StdSpin> = Lock::new(1, lock_class!("t.spin"));
        // SAFETY: not moved after this point, first operation.
        unsafe { l.init() };
        let g = l.lock();
        assert!(l.try_lock().is_none());
        drop(g);
        assert_eq!(*l.try_lock().unwrap(), 1);
        assert_eq!(<IsrSafe as LockKind>::NAME, "isr-safe spinlock");
    }

    #[test]
    fn spin_lock_from_simulated_isr() {
        let l: SpinLock<u32, StdSpin> = Lock::new(0, lock_class!("t.isr"));
        with_simulated_isr(|_| *l.lock() += 1);
        assert_eq!(l.into_inner(), 1);
    }

    #[test]
    fn mutex_timeouts() {
        let l: Mutex<u32, StdMutex> = Lock::new(0, lock_class!("t.mutex"));
        let c = ctx();
        let g = l.lock(&c);
        assert_eq!(
            l.lock_timeout(&c, Timeout::NoWait).err(),
            Some(Error::WouldBlock)
        );
        assert_eq!(
            l.lock_timeout(&c, Timeout::Millis(5)).err(),
            Some(Error::TimedOut)
        );
        assert!(l.try_lock(&c).is_none());
        drop(g);
        *l.lock_timeout(&c, Timeout::Forever).unwrap() += 2;
        *l.lock_timeout(&c, Timeout::Millis(5)).unwrap() += 2;
        assert_eq!(*l.try_lock(&c).unwrap(), 4);
    }

    #[test]
    fn mutex_excludes_across_threads() {
        let l: Arc<Mutex<u64, StdMutex>> = Arc::new(Lock::new(0, lock_class!("t.mt")));
        let hs: std::vec::Vec<_> = (0..4)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || {
                    let c = ctx();
                    for _ in 0..10_000 {
                        *l.lock(&c) += 1;
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(*l.lock(&ctx()), 40_000);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "thread-only lock taken in ISR context")]
    fn forged_thread_context_in_isr_is_caught() {
        let l: Mutex<u32, StdMutex> = Lock::new(0, lock_class!("t.forged"));
        with_simulated_isr(|_| {
            // SAFETY: deliberately wrong, to test the debug check; the check fires before locking.
            let forged = unsafe { ThreadContext::new_unchecked() };
            let _g = l.lock(&forged);
        });
    }

    #[test]
    fn get_mut_and_unsized() {
        let mut l: SpinLock<[u8; 3], StdSpin> = Lock::new([1, 2, 3], lock_class!("t.arr"));
        l.get_mut()[0] = 9;
        let r: &SpinLock<[u8], StdSpin> = &l;
        assert_eq!(r.lock().len(), 3);
        assert_eq!(r.lock()[0], 9);
    }

    /// A backend that forwards to `B` and logs every validation hook call of this thread.
    enum Recording<B> {
        _Never(core::convert::Infallible, PhantomData<B>),
    }

    std::thread_local! {
        static HOOK_LOG: core::cell::RefCell<std::vec::Vec<std::string::String>> =
            const { core::cell::RefCell::new(std::vec::Vec::new()) };
    }

    fn log(event: std::string::String) {
        HOOK_LOG.with(|l| l.borrow_mut().push(event));
    }

    fn take_log() -> std::vec::Vec<std::string::String> {
        HOOK_LOG.with(|l| core::mem::take(&mut *l.borrow_mut()))
    }

    // SAFETY: every raw operation is forwarded unchanged to `B`.
    unsafe impl<B: Backend> Backend for Recording<B> {
        type Kind = B::Kind;
        type State = B::State;
        type GuardState = B::GuardState;
        type Probe = B::Probe;

        fn new_state() -> B::State {
            B::new_state()
        }
        unsafe fn lock(state: *mut B::State) -> B::GuardState {
            // SAFETY: forwarded contract.
            unsafe { B::lock(state) }
        }
        unsafe fn try_lock(state: *mut B::State) -> Option<B::GuardState> {
            // SAFETY: forwarded contract.
            unsafe { B::try_lock(state) }
        }
        unsafe fn unlock(state: *mut B::State, guard: &B::GuardState) {
            // SAFETY: forwarded contract.
            unsafe { B::unlock(state, guard) }
        }
        fn before_acquire(class: &'static LockClass, instance: *const (), wait: Timeout) {
            log(std::format!(
                "before_acquire {} {:?} {wait:?}",
                class.name(),
                instance
            ));
        }
        fn after_acquire(class: &'static LockClass, instance: *const (), wait: Timeout) {
            log(std::format!(
                "after_acquire {} {:?} {wait:?}",
                class.name(),
                instance
            ));
        }
        fn before_release(class: &'static LockClass, instance: *const ()) {
            log(std::format!(
                "before_release {} {:?}",
                class.name(),
                instance
            ));
        }
        fn check_held(
            class: &'static LockClass,
            instance: *const (),
            expect_held: bool,
            caller: &'static Location<'static>,
        ) {
            log(std::format!(
                "check_held {} {:?} {expect_held} line {}",
                class.name(),
                instance,
                caller.line()
            ));
        }
    }

    // SAFETY: forwarded unchanged to `B`.
    unsafe impl<B: TimedBackend> TimedBackend for Recording<B> {
        unsafe fn lock_timeout(state: *mut B::State, timeout: Timeout) -> Result<B::GuardState> {
            // SAFETY: forwarded contract.
            unsafe { B::lock_timeout(state, timeout) }
        }
    }

    #[test]
    fn hooks_see_every_spin_lock_operation() {
        let l: SpinLock<u32, Recording<StdSpin>> = Lock::new(0, lock_class!("t.hooks.spin"));
        let at = std::format!("{:?}", &l as *const _ as *const ());
        drop(l.lock());
        let g = l.try_lock().unwrap();
        assert!(l.try_lock().is_none());
        l.assert_held();
        let line = line!() - 1;
        drop(g);
        l.assert_not_held();
        assert_eq!(
            take_log(),
            [
                std::format!("before_acquire t.hooks.spin {at} Forever"),
                std::format!("after_acquire t.hooks.spin {at} Forever"),
                std::format!("before_release t.hooks.spin {at}"),
                std::format!("before_acquire t.hooks.spin {at} NoWait"),
                std::format!("after_acquire t.hooks.spin {at} NoWait"),
                // The failed try_lock: announced, never acquired.
                std::format!("before_acquire t.hooks.spin {at} NoWait"),
                std::format!("check_held t.hooks.spin {at} true line {line}"),
                std::format!("before_release t.hooks.spin {at}"),
                std::format!("check_held t.hooks.spin {at} false line {}", line + 3),
            ]
        );
    }

    #[test]
    fn hooks_see_mutex_timeouts_and_unlock_around() {
        let l: Mutex<u32, Recording<StdMutex>> = Lock::new(0, lock_class!("t.hooks.mutex"));
        let at = std::format!("{:?}", &l as *const _ as *const ());
        let c = ctx();
        let mut g = l.lock_timeout(&c, Timeout::Millis(5)).unwrap();
        assert!(l.lock_timeout(&c, Timeout::Millis(1)).is_err());
        g.do_unlocked(|| ());
        assert_eq!(g.class().name(), "t.hooks.mutex");
        drop(g);
        assert_eq!(
            take_log(),
            [
                std::format!("before_acquire t.hooks.mutex {at} Millis(5)"),
                std::format!("after_acquire t.hooks.mutex {at} Millis(5)"),
                std::format!("before_acquire t.hooks.mutex {at} Millis(1)"),
                std::format!("before_release t.hooks.mutex {at}"),
                std::format!("before_acquire t.hooks.mutex {at} Forever"),
                std::format!("after_acquire t.hooks.mutex {at} Forever"),
                std::format!("before_release t.hooks.mutex {at}"),
            ]
        );
    }

    #[test]
    fn do_unlocked_relocks_after_panic() {
        let l: Mutex<u32, StdMutex> = Lock::new(0, lock_class!("t.relock"));
        let c = ctx();
        let mut g = l.lock(&c);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            g.do_unlocked(|| {
                assert!(l.try_lock(&c).is_some(), "unlocked inside");
                panic!("callout failed")
            })
        }));
        assert!(r.is_err());
        assert!(l.try_lock(&c).is_none(), "relocked after the panic");
        *g += 1;
        drop(g);
        assert_eq!(*l.lock(&c), 1);
    }
}
