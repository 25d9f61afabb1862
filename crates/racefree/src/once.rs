//! Seed 003, the scull check-then-allocate race, fixed: exactly-once initialisation.
//!
//! scull checked "is the quantum set allocated?" and then allocated, with no lock across
//! both steps, so two processes could both allocate and one allocation leaked.
//! [`OnceSlot`] does the check again *under the lock* before allocating; a lock-free fast path
//! serves every access after the first. The flawed version is kept as
//! [`seed003::RacyOnce`](crate::seed003::RacyOnce) so the loom models can show the difference.

use core::mem::MaybeUninit;

use crate::context::ThreadContext;
use crate::lock::{Lock, TimedBackend};
use crate::sync::{AtomicBool, Ordering, UnsafeCell};

/// A slot initialised exactly once, by the first caller of
/// [`get_or_init`](OnceSlot::get_or_init); thread context only (the initialiser may sleep).
///
/// # Invariants
///
/// `value` is initialised iff `ready` is true; `ready` goes false → true once, under `lock`,
/// after the value was written, and is never reset.
///
/// # Examples
///
/// ```
/// use racefree::{OnceSlot, StdMutex, StdProbe, ThreadContext};
///
/// let ctx = ThreadContext::current::<StdProbe>().unwrap();
/// let buf: OnceSlot<[u8; 16], StdMutex> = OnceSlot::new();
/// // SAFETY: not moved after this, not used yet.
/// unsafe { buf.init() };
/// assert!(buf.get().is_none());
/// assert_eq!(buf.get_or_init(&ctx, || [7; 16])[0], 7);
/// assert_eq!(buf.get_or_init(&ctx, || unreachable!())[0], 7);
/// assert!(buf.get().is_some());
/// ```
pub struct OnceSlot<T, B: TimedBackend> {
    ready: AtomicBool,
    lock: Lock<(), B>,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: moving the slot moves the `T`; the lock state is movable by the `Backend` contract.
unsafe impl<T: Send, B: TimedBackend> Send for OnceSlot<T, B> {}
// SAFETY: threads share `&T` (needs `T: Sync`) and the `T` may be created on one thread and
// dropped on another (needs `T: Send`); writes happen once, under the lock, before `ready`.
unsafe impl<T: Send + Sync, B: TimedBackend> Sync for OnceSlot<T, B> {}

impl<T, B: TimedBackend> Default for OnceSlot<T, B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, B: TimedBackend> OnceSlot<T, B> {
    /// An empty slot.
    pub fn new() -> Self {
        Self {
            ready: AtomicBool::new(false),
            lock: Lock::new((), crate::lock_class!("racefree::OnceSlot")),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Initialises the lock in place.
    ///
    /// # Safety
    ///
    /// Same contract as [`Lock::init`]: final address, once, before use.
    pub unsafe fn init(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.lock.init() }
    }

    /// The value, if initialised. Lock-free; callable from any context.
    pub fn get(&self) -> Option<&T> {
        // Ordering: Acquire pairs with the Release store in `get_or_try_init`, so the value
        // written before it is visible.
        if self.ready.load(Ordering::Acquire) {
            // SAFETY: by the type invariant the value is initialised and never written again.
            Some(self.value.with(|p| unsafe { (*p).assume_init_ref() }))
        } else {
            None
        }
    }

    /// The value, initialising it with `f` if this is the first call. Concurrent callers wait
    /// on the lock; `f` runs exactly once (unless it panics, which leaves the slot empty).
    ///
    /// # Panics
    ///
    /// If `f` initialises this same slot re-entrantly.
    pub fn get_or_init(&self, ctx: &ThreadContext, f: impl FnOnce() -> T) -> &T {
        match self.get_or_try_init(ctx, || Ok::<T, core::convert::Infallible>(f())) {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// As [`get_or_init`](OnceSlot::get_or_init), but `f` may fail; on `Err` the slot stays
    /// empty and a later call tries again.
    pub fn get_or_try_init<E>(
        &self,
        ctx: &ThreadContext,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<&T, E> {
        if let Some(v) = self.get() {
            return Ok(v);
        }
        let guard = self.lock.lock(ctx);
        // The scull fix: check again, now that no one else can be between check and store.
        // Ordering: Relaxed; the lock orders us after any previous initialiser's store.
        if !self.ready.load(Ordering::Relaxed) {
            let value = f()?;
            // Ordering: Relaxed, as above. A recursive `k_mutex` would let `f` re-enter.
            assert!(
                !self.ready.load(Ordering::Relaxed),
                "OnceSlot initialised re-entrantly"
            );
            // SAFETY: not ready, so no reader exists; we hold the lock, so no other writer.
            self.value.with_mut(|p| unsafe { (*p).write(value) });
            // Ordering: Release publishes the value to the Acquire in `get`.
            self.ready.store(true, Ordering::Release);
        }
        drop(guard);
        // Ordering: the value is ready now; `get` re-reads with Acquire.
        Ok(self
            .get()
            .expect("initialised above or by an earlier holder of the lock"))
    }
}

impl<T, B: TimedBackend> Drop for OnceSlot<T, B> {
    fn drop(&mut self) {
        // Ordering: `&mut self` excludes concurrency; Relaxed suffices.
        if self.ready.load(Ordering::Relaxed) {
            // SAFETY: ready, so initialised (type invariant); `&mut self` rules out borrows.
            unsafe { self.value.get_mut().assume_init_drop() };
        }
    }
}

#[cfg(all(test, feature = "std", not(loom)))]
mod tests {
    use super::*;
    use crate::{StdMutex, StdProbe};
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    fn ctx() -> ThreadContext {
        ThreadContext::current::<StdProbe>().unwrap()
    }

    #[test]
    fn failure_leaves_slot_empty() {
        let s: OnceSlot<u32, StdMutex> = OnceSlot::new();
        assert_eq!(
            s.get_or_try_init(&ctx(), || Err("no memory")),
            Err("no memory")
        );
        assert!(s.get().is_none());
        assert_eq!(s.get_or_try_init::<()>(&ctx(), || Ok(3)), Ok(&3));
    }

    #[test]
    fn exactly_once_across_threads() {
        let s: Arc<OnceSlot<usize, StdMutex>> = Arc::new(OnceSlot::new());
        let calls = Arc::new(AtomicUsize::new(0));
        let hs: std::vec::Vec<_> = (0..8)
            .map(|i| {
                let (s, calls) = (s.clone(), calls.clone());
                std::thread::spawn(move || {
                    *s.get_or_init(&ctx(), || {
                        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        i
                    })
                })
            })
            .collect();
        let seen: std::vec::Vec<usize> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(seen.iter().all(|&v| v == seen[0]));
    }

    #[test]
    fn drops_value() {
        let n = Arc::new(());
        let s: OnceSlot<Arc<()>, StdMutex> = OnceSlot::new();
        s.get_or_init(&ctx(), || n.clone());
        assert_eq!(Arc::strong_count(&n), 2);
        drop(s);
        assert_eq!(Arc::strong_count(&n), 1);
    }
}
