//! Seeds 002/003, hot-unplug and reference tracking ("your device could simply disappear while
//! you are in the middle of working with it"; "that object must continue to exist until it is
//! known that no outside references to it exist"), after Rust-for-Linux's `kernel::revocable`.
//!
//! Users take short-lived [`RevocableGuard`]s; [`Revocable::revoke`] refuses new access, waits
//! for the users in flight and drops the value. If the wait times out, the last user's guard
//! drops the value instead: never a leak, never a use after free.
//!
//! A revoked value can be replaced by a new one with [`Revocable::restore`] (the device is
//! plugged in again), but only once the old value has been dropped: a user of the old value
//! never sees the new one, and the two never coexist.

use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::Deref;

use crate::sync::{AtomicU32, Ordering, UnsafeCell};
use crate::{Error, Result, Semaphore, Timeout};

const REVOKED: u32 = 0b001;
/// The revoker waits on the semaphore: the last user gives it.
const WAITING: u32 = 0b010;
/// The revoker gave up waiting: the last user drops the value.
const ABANDONED: u32 = 0b100;
/// The revoked value has been dropped (set by whoever dropped it, after the drop): the slot is
/// empty and [`Revocable::restore`] may refill it.
const DROPPED: u32 = 0b1000;
const ONE_USER: u32 = 0b1_0000;
const MAX_USERS: u32 = u32::MAX / ONE_USER;

const fn users(word: u32) -> u32 {
    word / ONE_USER
}

/// The word with one more user, if `word` admits one (not revoked, count not full).
const fn admit_user(word: u32) -> Option<u32> {
    if word & REVOKED == 0 && users(word) < MAX_USERS {
        Some(word + ONE_USER)
    } else {
        None
    }
}

/// A value that can be revoked (hot-unplugged) while users may hold temporary access.
///
/// # Invariants
///
/// `value` is initialised until exactly one party drops it: the `revoke` call that saw zero
/// users, or, after a timed-out `revoke`, the guard that brought the user count to zero. The
/// value is only read while a user is counted, and only dropped once `REVOKED` is set and the
/// count is zero. `DROPPED` is set only after that drop completed; the one `restore` that
/// clears it owns the empty slot until it publishes the new value by clearing `REVOKED`.
///
/// # Examples
///
/// ```
/// use racefree::{Revocable, StdSemaphore, Timeout};
///
/// let regs: Revocable<u32, StdSemaphore> = Revocable::new(0x4000_0000);
/// // SAFETY: not moved after this, not used yet.
/// unsafe { regs.init() };
/// assert_eq!(regs.try_access_with(|base| *base + 4), Some(0x4000_0004));
/// assert_eq!(regs.revoke(Timeout::Forever), Ok(true));   // unplugged: value dropped
/// assert!(regs.try_access().is_none());
/// assert_eq!(regs.revoke(Timeout::NoWait), Ok(false));   // someone else already did it
/// assert_eq!(regs.restore(0x5000_0000), Ok(()));          // plugged in again
/// assert_eq!(regs.try_access_with(|base| *base), Some(0x5000_0000));
/// assert_eq!(regs.restore(0), Err((racefree::Error::Already, 0))); // present: refused
/// ```
pub struct Revocable<T, S: Semaphore> {
    word: AtomicU32,
    wake: S,
    value: UnsafeCell<ManuallyDrop<T>>,
}

// SAFETY: moving a `Revocable` moves the `T` (and the semaphore) to the other thread.
unsafe impl<T: Send, S: Semaphore + Send> Send for Revocable<T, S> {}
// SAFETY: users on several threads share `&T` (needs `T: Sync`), and revoking may drop the
// `T` on a thread other than the one that created it (needs `T: Send`); the semaphore is `Sync`.
unsafe impl<T: Send + Sync, S: Semaphore> Sync for Revocable<T, S> {}

impl<T, S: Semaphore> Revocable<T, S> {
    /// A live (not revoked) value.
    pub fn new(value: T) -> Self {
        Self {
            word: AtomicU32::new(0),
            wake: S::new(),
            value: UnsafeCell::new(ManuallyDrop::new(value)),
        }
    }

    /// Initialises the semaphore in place.
    ///
    /// # Safety
    ///
    /// Same contract as [`Lock::init`](crate::Lock::init): final address, once, before use.
    pub unsafe fn init(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.wake.init() }
    }

    /// Temporary access, or `None` once revocation started.
    ///
    /// One compare-exchange attempt inline, the retry loop out of line (as in
    /// [`Gate::begin`](crate::Gate::begin)).
    #[inline]
    pub fn try_access(&self) -> Option<RevocableGuard<'_, T, S>> {
        // Ordering: Relaxed first read; the compare-exchange decides.
        let cur = self.word.load(Ordering::Relaxed);
        if let Some(next) = admit_user(cur) {
            // Ordering: as in `try_access_contended`.
            if self
                .word
                .compare_exchange_weak(cur, next, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return Some(self.guard());
            }
        }
        self.try_access_contended()
    }

    /// [`Revocable::try_access`]'s retry loop, and its refusal.
    #[cold]
    #[inline(never)]
    fn try_access_contended(&self) -> Option<RevocableGuard<'_, T, S>> {
        // Ordering: Relaxed first read; the compare-exchange below decides.
        let mut cur = self.word.load(Ordering::Relaxed);
        loop {
            let next = admit_user(cur)?;
            // Ordering: Acquire on success: the value is read after being counted, and the
            // count is what the dropper's Acquire load synchronises with.
            match self
                .word
                .compare_exchange_weak(cur, next, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return Some(self.guard()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// The guard of a user just counted in.
    fn guard(&self) -> RevocableGuard<'_, T, S> {
        RevocableGuard {
            owner: self,
            _not_send: PhantomData,
        }
    }

    /// Runs `f` on the value if it is still accessible.
    pub fn try_access_with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.try_access().map(|g| f(&g))
    }

    /// True once revocation started; access is refused from then on.
    pub fn is_revoked(&self) -> bool {
        // Ordering: Relaxed; a hint only, `try_access` is the authoritative check.
        self.word.load(Ordering::Relaxed) & REVOKED != 0
    }

    /// Revokes: refuses new access, waits up to `timeout` for users in flight, drops the value.
    ///
    /// * `Ok(true)`: this call revoked, users drained, value dropped;
    /// * `Ok(false)`: already revoked by someone else;
    /// * `Err(TimedOut)` (also for `NoWait`): users still in flight; access stays refused and
    ///   the last user's guard drops the value.
    pub fn revoke(&self, timeout: Timeout) -> Result<bool> {
        // Ordering: Relaxed first read; the compare-exchange below decides.
        let mut cur = self.word.load(Ordering::Relaxed);
        loop {
            if cur & REVOKED != 0 {
                return Ok(false);
            }
            // Ordering: AcqRel: Acquire sees the work of users that already left.
            match self.word.compare_exchange_weak(
                cur,
                cur | REVOKED | WAITING,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        loop {
            // Ordering: Acquire pairs with the AcqRel decrement in the guard's drop: every
            // user's reads happen before the value is dropped.
            let cur = self.word.load(Ordering::Acquire);
            if users(cur) == 0 {
                break;
            }
            if self.wake.take(timeout).is_err() {
                // Hand the drop over to the last user, unless it left meanwhile.
                let mut cur = cur;
                loop {
                    if users(cur) == 0 {
                        break;
                    }
                    let new = (cur & !WAITING) | ABANDONED;
                    // Ordering: AcqRel; on failure Acquire because we may then drop the value.
                    match self.word.compare_exchange_weak(
                        cur,
                        new,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => return Err(Error::TimedOut),
                        Err(actual) => cur = actual,
                    }
                }
                break;
            }
        }
        // SAFETY: REVOKED is set and the count is zero, so no guard exists and none can be
        // created; only this call saw that transition with WAITING set (no ABANDONED), so by
        // the type invariant it is the unique dropper.
        unsafe { self.drop_value() };
        Ok(true)
    }

    /// Puts a new value into a revoked `Revocable` and makes it accessible again (the device
    /// came back). The old value is never seen again: its users have all left and it has been
    /// dropped, which is what this call checks.
    ///
    /// * `Err((Already, value))`: not revoked, the current value is live;
    /// * `Err((Busy, value))`: revoked, but the old value is not dropped yet (a timed-out
    ///   `revoke` left users in flight, or a revoke or another restore is in progress); try
    ///   again later.
    pub fn restore(&self, value: T) -> core::result::Result<(), (Error, T)> {
        // Ordering: Relaxed first read; the compare-exchange below decides.
        let mut cur = self.word.load(Ordering::Relaxed);
        loop {
            if cur & REVOKED == 0 {
                return Err((Error::Already, value));
            }
            if cur & DROPPED == 0 || users(cur) != 0 {
                return Err((Error::Busy, value));
            }
            // Claim the empty slot: REVOKED stays set (no access yet), DROPPED is cleared (no
            // second restorer). Ordering: Acquire pairs with the Release that set DROPPED, so
            // the old value's drop happens before the new value is written.
            match self
                .word
                .compare_exchange_weak(cur, REVOKED, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        // SAFETY: this call cleared DROPPED, so the slot holds no value (dropped, per the type
        // invariant), nobody can access it (REVOKED, no users) and no other restore can claim
        // it; it is this call's alone until the store below.
        self.value
            .with_mut(|p| unsafe { core::ptr::write(p, ManuallyDrop::new(value)) });
        // Ordering: Release publishes the new value to every user whose Acquire increment
        // sees the cleared REVOKED.
        self.word.store(0, Ordering::Release);
        Ok(())
    }

    /// Drops the value and records that the slot is empty.
    ///
    /// # Safety
    ///
    /// The caller is the unique dropper named by the type invariant.
    unsafe fn drop_value(&self) {
        // SAFETY: forwarded; nobody else accesses the value any more.
        self.value
            .with_mut(|p| unsafe { ManuallyDrop::drop(&mut *p) });
        // Ordering: Release: the drop happens before a `restore` (Acquire) reuses the slot.
        self.word.fetch_or(DROPPED, Ordering::Release);
    }

    #[inline]
    fn end_access(&self) {
        // Ordering: AcqRel: Release publishes this user's reads to the dropper; Acquire in
        // case this user becomes the dropper.
        let prev = self.word.fetch_sub(ONE_USER, Ordering::AcqRel);
        if users(prev) == 1 && prev & REVOKED != 0 {
            self.last_user_after_revoke(prev);
        }
    }

    /// The last user of a revoked value wakes the revoker or drops the value: rare, so out of
    /// line.
    #[cold]
    #[inline(never)]
    fn last_user_after_revoke(&self, prev: u32) {
        if prev & ABANDONED != 0 {
            // SAFETY: the revoker gave up with users in flight and we were the last one: by
            // the type invariant we are the unique dropper.
            unsafe { self.drop_value() };
        } else if prev & WAITING != 0 {
            self.wake.give();
        }
    }
}

impl<T, S: Semaphore> Drop for Revocable<T, S> {
    fn drop(&mut self) {
        // Ordering: `&mut self` excludes concurrency; Relaxed suffices.
        if self.word.load(Ordering::Relaxed) & REVOKED == 0 {
            // SAFETY: never revoked, so never dropped, and `&mut self` rules out guards.
            unsafe { self.drop_value() };
        }
    }
}

/// Temporary access to a [`Revocable`]'s value. `!Send`: it must end where it began.
///
/// # Invariants
///
/// While it lives, this guard is counted as a user of `owner`, so the value stays initialised.
// NOTE: holds `&Revocable`, not `&T`: the value is reached through the cell at each deref so
// loom can check the access.
#[must_use = "access ends as soon as the guard is dropped"]
pub struct RevocableGuard<'a, T, S: Semaphore> {
    owner: &'a Revocable<T, S>,
    _not_send: PhantomData<*mut ()>,
}

impl<T, S: Semaphore> Deref for RevocableGuard<'_, T, S> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: by the guard's invariant we are a counted user, so the value is initialised
        // and only read until the count drops to zero.
        self.owner.value.with(|p| unsafe { &**p })
    }
}

impl<T, S: Semaphore> Drop for RevocableGuard<'_, T, S> {
    #[inline]
    fn drop(&mut self) {
        self.owner.end_access();
    }
}

#[cfg(all(test, feature = "std", not(loom)))]
mod tests {
    use super::*;
    use crate::StdSemaphore;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn drops() -> (Arc<AtomicUsize>, Revocable<Counted, StdSemaphore>) {
        let n = Arc::new(AtomicUsize::new(0));
        let r = Revocable::new(Counted(n.clone()));
        (n, r)
    }

    fn count(n: &AtomicUsize) -> usize {
        n.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[test]
    fn revoke_drops_once() {
        let (n, r) = drops();
        assert_eq!(r.revoke(Timeout::NoWait), Ok(true));
        assert_eq!(count(&n), 1);
        assert!(r.is_revoked());
        assert_eq!(r.revoke(Timeout::Forever), Ok(false));
        drop(r);
        assert_eq!(count(&n), 1);
    }

    #[test]
    fn unrevoked_drops_on_drop() {
        let (n, r) = drops();
        assert!(r.try_access_with(|_| ()).is_some());
        drop(r);
        assert_eq!(count(&n), 1);
    }

    #[test]
    fn timed_out_revoke_hands_drop_to_last_user() {
        let (n, r) = drops();
        let g1 = r.try_access().unwrap();
        let g2 = r.try_access().unwrap();
        assert_eq!(r.revoke(Timeout::Millis(2)), Err(Error::TimedOut));
        assert!(r.try_access().is_none());
        assert_eq!(r.revoke(Timeout::NoWait), Ok(false));
        drop(g1);
        assert_eq!(count(&n), 0, "a user is still in flight");
        let _still_readable = &g2.0;
        drop(g2);
        assert_eq!(count(&n), 1);
        drop(r);
        assert_eq!(count(&n), 1);
    }

    #[test]
    fn restore_refills_only_an_emptied_slot() {
        let (n, r) = drops();
        let n2 = Arc::new(AtomicUsize::new(0));
        let fresh = Counted(n2.clone());
        let fresh = match r.restore(fresh) {
            Err((Error::Already, v)) => v,
            other => panic!("restored a live value: {:?}", other.map_err(|(e, _)| e)),
        };
        let g = r.try_access().unwrap();
        assert_eq!(r.revoke(Timeout::NoWait), Err(Error::TimedOut));
        // The old value is still in use: refilling now would destroy it under its user.
        let fresh = match r.restore(fresh) {
            Err((Error::Busy, v)) => v,
            other => panic!("expected Busy, got {:?}", other.map_err(|(e, _)| e)),
        };
        drop(g);
        assert_eq!(count(&n), 1, "last user dropped the old value");
        assert!(r.restore(fresh).is_ok());
        assert!(!r.is_revoked());
        assert!(Arc::ptr_eq(&r.try_access().unwrap().0, &n2), "users see the new value");
        assert_eq!(count(&n2), 0);
        assert_eq!(r.revoke(Timeout::NoWait), Ok(true));
        assert_eq!((count(&n), count(&n2)), (1, 1));
        drop(r);
        assert_eq!((count(&n), count(&n2)), (1, 1), "each value dropped exactly once");
    }

    #[test]
    fn restored_value_is_dropped_with_the_revocable() {
        let (n, r) = drops();
        let n2 = Arc::new(AtomicUsize::new(0));
        assert_eq!(r.revoke(Timeout::NoWait), Ok(true));
        assert!(r.restore(Counted(n2.clone())).is_ok());
        drop(r);
        assert_eq!((count(&n), count(&n2)), (1, 1), "no leak of the restored value");
    }

    #[test]
    fn revoke_waits_for_user_on_another_thread() {
        let (n, r) = drops();
        let r = Arc::new(r);
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let (r2, b2) = (r.clone(), barrier.clone());
        let h = std::thread::spawn(move || {
            let g = r2.try_access().unwrap();
            b2.wait();
            std::thread::sleep(std::time::Duration::from_millis(20));
            drop(g);
        });
        barrier.wait();
        assert_eq!(r.revoke(Timeout::Forever), Ok(true));
        assert_eq!(count(&n), 1);
        h.join().unwrap();
    }
}
