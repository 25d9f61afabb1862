//! Seed 001, *Calling an external component*: unlock only at a consistent point, revalidate after.
//!
//! Before calling out (another driver, a callback) with a lock held, bring the data to a
//! consistent state, release the lock, call, relock, and treat anything copied before the call
//! as stale. [`Guard::unlock_around`] does exactly that: it refuses to unlock inconsistent data,
//! runs the callout with no lock held, relocks (also on unwind), and reports whether anyone
//! changed the data meanwhile, using the generation count of [`Versioned`].

use crate::lock::{Backend, Guard};
use crate::{Error, Result};

/// Data that can say whether it is consistent, i.e. whether another routine may see and change
/// it now (seed 001's list-plus-counter example: consistent when the counter matches the list).
pub trait Consistent {
    /// True when the lock protecting this data may be released.
    fn is_consistent(&self) -> bool;
}

/// A value with a generation count bumped by every [`update`](Versioned::update).
///
/// Read through [`get`](Versioned::get); mutate only through `update`, so every change is seen
/// by [`Guard::unlock_around`]'s revalidation.
///
/// # Examples
///
/// ```
/// use racefree::Versioned;
///
/// let mut v = Versioned::new(1u32);
/// assert_eq!(v.generation(), 0);
/// v.update(|x| *x += 1);
/// assert_eq!((*v.get(), v.generation()), (2, 1));
/// ```
#[derive(Debug, Default)]
pub struct Versioned<T> {
    value: T,
    generation: u32,
}

impl<T> Versioned<T> {
    /// `value` at generation 0.
    pub const fn new(value: T) -> Self {
        Self {
            value,
            generation: 0,
        }
    }

    /// The current value.
    pub fn get(&self) -> &T {
        &self.value
    }

    /// The generation: the number of updates so far (wrapping).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Mutates the value and bumps the generation (wrapping).
    pub fn update<R>(&mut self, f: impl FnOnce(&mut T) -> R) -> R {
        self.generation = self.generation.wrapping_add(1);
        f(&mut self.value)
    }
}

/// What [`Guard::unlock_around`] observed.
#[must_use = "check `changed`: data read before the callout may be stale"]
#[derive(Debug, PartialEq, Eq)]
pub struct Revalidate<R> {
    /// The callout's result.
    pub value: R,
    /// True if the data was updated while the lock was released; anything derived from it
    /// before the callout must be recomputed.
    pub changed: bool,
}

impl<T: Consistent, B: Backend> Guard<'_, Versioned<T>, B> {
    /// Releases the lock, runs `f` with no lock held, re-acquires (also if `f` panics, via a
    /// scope guard), and reports whether anyone changed the data meanwhile. `Err(Error::Invalid)`
    /// — without unlocking — if the data is not consistent.
    ///
    /// Works for both lock kinds: for a [`Mutex`](crate::Mutex) the guard already proves thread
    /// context, so no [`ThreadContext`](crate::ThreadContext) is needed to relock. For a
    /// [`SpinLock`](crate::SpinLock), `f` must still not block. A change is missed only if
    /// exactly a multiple of 2³² updates happen during the callout.
    ///
    /// # Examples
    ///
    /// ```
    /// use racefree::{lock_class, Consistent, Mutex, StdMutex, StdProbe, ThreadContext, Versioned};
    ///
    /// struct Queue { items: [u8; 4], len: usize, count: usize }
    /// impl Consistent for Queue {
    ///     fn is_consistent(&self) -> bool { self.len == self.count }
    /// }
    ///
    /// let ctx = ThreadContext::current::<StdProbe>().unwrap();
    /// let q: Mutex<Versioned<Queue>, StdMutex> =
    ///     Mutex::new(Versioned::new(Queue { items: [0; 4], len: 0, count: 0 }), lock_class!("q"));
    /// let mut g = q.lock(&ctx);
    /// g.update(|q| { q.items[0] = 7; q.len = 1; q.count = 1; });
    /// let r = g.unlock_around(|| "external component called").unwrap();
    /// assert!(!r.changed);
    /// assert_eq!(g.get().items[0], 7);
    /// ```
    pub fn unlock_around<R>(&mut self, f: impl FnOnce() -> R) -> Result<Revalidate<R>> {
        if !self.get().is_consistent() {
            return Err(Error::Invalid);
        }
        let before = self.generation();
        let value = self.do_unlocked(f);
        Ok(Revalidate {
            value,
            changed: self.generation() != before,
        })
    }
}

#[cfg(all(test, feature = "std", not(loom)))]
mod tests {
    use super::*;
    use crate::{lock_class, Mutex, SpinLock, StdMutex, StdProbe, StdSpin, ThreadContext};

    #[derive(Debug)]
    struct Pair {
        a: u32,
        b: u32,
    }
    impl Consistent for Pair {
        fn is_consistent(&self) -> bool {
            self.a == self.b
        }
    }

    #[test]
    fn refuses_to_unlock_inconsistent_data() {
        let l: SpinLock<Versioned<Pair>, StdSpin> =
            SpinLock::new(Versioned::new(Pair { a: 0, b: 0 }), lock_class!("t.co"));
        let mut g = l.lock();
        g.update(|p| p.a = 1);
        let mut called = false;
        assert_eq!(
            g.unlock_around(|| called = true).err(),
            Some(Error::Invalid)
        );
        assert!(!called);
        assert!(l.try_lock().is_none(), "still locked");
        g.update(|p| p.b = 1);
        let r = g.unlock_around(|| l.try_lock().is_some()).unwrap();
        assert!(r.value, "callout ran unlocked");
        assert!(!r.changed);
    }

    #[test]
    fn reports_concurrent_change() {
        let ctx = ThreadContext::current::<StdProbe>().unwrap();
        let l: Mutex<Versioned<Pair>, StdMutex> =
            Mutex::new(Versioned::new(Pair { a: 0, b: 0 }), lock_class!("t.co2"));
        let mut g = l.lock(&ctx);
        let r = g
            .unlock_around(|| {
                l.lock(&ctx).update(|p| {
                    p.a = 5;
                    p.b = 5;
                })
            })
            .unwrap();
        assert!(r.changed);
        assert_eq!(g.get().a, 5);
        assert_eq!(g.generation(), 1);
    }

    #[test]
    fn generation_wraps() {
        let mut v = Versioned {
            value: 0u8,
            generation: u32::MAX,
        };
        v.update(|x| *x = 1);
        assert_eq!(v.generation(), 0);
    }
}
