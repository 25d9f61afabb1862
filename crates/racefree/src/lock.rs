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

use core::cell::UnsafeCell as RawUnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

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
}
impl LockKind for ThreadOnly {
    const NAME: &'static str = "thread-only mutex";
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
pub unsafe trait Backend {
    /// [`IsrSafe`] or [`ThreadOnly`].
    type Kind: LockKind;
    /// Raw lock storage (`k_spinlock`, `k_mutex`, an `AtomicBool`…).
    type State;
    /// What `unlock` needs back (`k_spinlock_key_t`, `()`).
    type GuardState;
    /// Context probe used by debug-build checks.
    type Probe: ContextProbe;

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

    fn guard(&self, state: B::GuardState) -> Guard<'_, T, B> {
        Guard {
            state: &self.state,
            data: &self.data,
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
        // SAFETY: `Kind = IsrSafe` allows any context; the guard unlocks exactly once on drop.
        let state = unsafe { B::lock(self.state.get()) };
        self.guard(state)
    }

    /// Acquires the lock if it is free.
    pub fn try_lock(&self) -> Option<Guard<'_, T, B>> {
        // SAFETY: as for `lock`.
        let state = unsafe { B::try_lock(self.state.get()) }?;
        Some(self.guard(state))
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
        Self::check_context();
        // SAFETY: `ctx` proves thread context, which `ThreadOnly` requires; the guard unlocks once.
        let state = unsafe { B::lock(self.state.get()) };
        self.guard(state)
    }

    /// Acquires the lock, waiting at most `timeout`.
    ///
    /// `Err(WouldBlock)` for [`Timeout::NoWait`], `Err(TimedOut)` when the timeout expires.
    pub fn lock_timeout(&self, ctx: &ThreadContext, timeout: Timeout) -> Result<Guard<'_, T, B>> {
        let _ = ctx;
        Self::check_context();
        // SAFETY: as for `lock`.
        let state = unsafe { B::lock_timeout(self.state.get(), timeout) }?;
        Ok(self.guard(state))
    }

    /// Acquires the lock if it is free, without sleeping.
    pub fn try_lock(&self, ctx: &ThreadContext) -> Option<Guard<'_, T, B>> {
        let _ = ctx;
        Self::check_context();
        // SAFETY: as for `lock`.
        let state = unsafe { B::try_lock(self.state.get()) }?;
        Some(self.guard(state))
    }
}

/// Proof that a [`Lock`] is held; gives access to the data and unlocks on drop.
///
/// `!Send`: a spinlock key or mutex ownership must be released where it was taken.
///
/// # Invariants
///
/// The backend lock behind `state` is held, acquired with `guard_state`, for as long as the
/// guard lives (except inside [`unlock_around`](Guard::unlock_around), which holds `&mut self`).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct Guard<'a, T: ?Sized, B: Backend> {
    state: &'a RawUnsafeCell<B::State>,
    data: &'a UnsafeCell<T>,
    guard_state: B::GuardState,
    _not_send: PhantomData<*mut ()>,
}

impl<T: ?Sized, B: Backend> Guard<'_, T, B> {
    /// Unlocks, runs `f` with no lock held, and relocks, also when `f` unwinds.
    ///
    /// Relocking uses the raw backend lock: the guard itself proves the context allowed it.
    pub(crate) fn do_unlocked<R>(&mut self, f: impl FnOnce() -> R) -> R {
        struct Relock<'g, 'a, T: ?Sized, B: Backend>(&'g mut Guard<'a, T, B>);
        impl<T: ?Sized, B: Backend> Drop for Relock<'_, '_, T, B> {
            fn drop(&mut self) {
                // SAFETY: the lock was released by `do_unlocked` below; we are in the context
                // that took it first (the guard is `!Send`), so relocking is allowed.
                self.0.guard_state = unsafe { B::lock(self.0.state.get()) };
            }
        }
        // SAFETY: by the type invariant we hold the lock with `guard_state`; `Relock` retakes
        // it before the guard can be used or dropped again.
        unsafe { B::unlock(self.state.get(), &self.guard_state) };
        let _relock = Relock(self);
        f()
    }
}

impl<T: ?Sized, B: Backend> Deref for Guard<'_, T, B> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: by the type invariant the lock is held, so no one else accesses the data.
        self.data.with(|p| unsafe { &*p })
    }
}

impl<T: ?Sized, B: Backend> DerefMut for Guard<'_, T, B> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: by the type invariant the lock is held, and `&mut self` excludes other
        // borrows through this guard.
        self.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: ?Sized, B: Backend> Drop for Guard<'_, T, B> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we hold the lock, acquired with `guard_state`.
        unsafe { B::unlock(self.state.get(), &self.guard_state) };
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
