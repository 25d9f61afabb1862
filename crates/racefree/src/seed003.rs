//! Seed 003, the scull check-then-allocate race, reproduced on purpose. **Do not use.**
//!
//! ```c
//! if (!dptr->data[s_pos]) {                       /* check ...               */
//!     dptr->data[s_pos] = kmalloc(quantum, GFP_KERNEL);  /* ... then allocate */
//! ```
//!
//! Two processes can both see "empty", both allocate, and the later assignment overwrites
//! (leaks) the earlier one. [`RacyOnce`] keeps that logic, check then store with nothing
//! held across the two steps, while staying memory-safe: the store itself goes through a tiny
//! internal spin flag, and the overwritten value is leaked with `mem::forget` exactly like the
//! C code leaks its allocation. The loom models use it to show that the race is found; the fix
//! is [`OnceSlot`](crate::OnceSlot).

use core::mem::{self, MaybeUninit};

use crate::sync::{spin_loop, AtomicBool, AtomicU32, Ordering, UnsafeCell};

/// The flawed check-then-allocate slot (seed 003). For tests and demonstrations only.
///
/// # Invariants
///
/// `value` is initialised iff `present` is true; it is only accessed while `busy` is held.
///
/// # Examples
///
/// ```
/// use racefree::seed003::RacyOnce;
///
/// let slot = RacyOnce::new();
/// slot.get_or_init(|| 1u32);
/// slot.get_or_init(|| 2u32);           // single-threaded: the check works
/// assert_eq!(slot.get(), Some(1));
/// assert_eq!((slot.allocations(), slot.leaked()), (1, 0));
/// ```
pub struct RacyOnce<T> {
    present: AtomicBool,
    busy: AtomicBool,
    allocations: AtomicU32,
    leaked: AtomicU32,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: moving the slot moves the `T`.
unsafe impl<T: Send> Send for RacyOnce<T> {}
// SAFETY: the value is only touched while the internal `busy` flag is held (no shared
// references escape), so sharing needs only `T: Send`, like a mutex.
unsafe impl<T: Send> Sync for RacyOnce<T> {}

impl<T> Default for RacyOnce<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> RacyOnce<T> {
    /// An empty slot.
    pub fn new() -> Self {
        Self {
            present: AtomicBool::new(false),
            busy: AtomicBool::new(false),
            allocations: AtomicU32::new(0),
            leaked: AtomicU32::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    fn with_value<R>(&self, f: impl FnOnce(&mut MaybeUninit<T>) -> R) -> R {
        // Ordering: Acquire pairs with the Release below: the store critical sections are ordered.
        while self
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            spin_loop();
        }
        // SAFETY: `busy` is held, so this is the only access to the value.
        let r = self.value.with_mut(|p| f(unsafe { &mut *p }));
        // Ordering: Release publishes the store to the next holder of `busy`.
        self.busy.store(false, Ordering::Release);
        r
    }

    /// The flawed initialisation: check `present`, then (without holding anything across the
    /// two steps) allocate with `f` and store, overwriting and leaking any concurrent result.
    pub fn get_or_init(&self, f: impl FnOnce() -> T) {
        // Ordering: Acquire; the bug is the missing lock between check and store, not ordering.
        if self.present.load(Ordering::Acquire) {
            return;
        }
        let value = f();
        // Ordering: Relaxed; a statistics counter.
        self.allocations.fetch_add(1, Ordering::Relaxed);
        self.with_value(|slot| {
            // Ordering: Relaxed; `busy` orders the accesses to `present` made under it.
            if self.present.load(Ordering::Relaxed) {
                // The earlier allocation is overwritten and lost, as in scull.
                // SAFETY: present, so initialised (type invariant).
                mem::forget(unsafe { slot.assume_init_read() });
                // Ordering: Relaxed; a statistics counter.
                self.leaked.fetch_add(1, Ordering::Relaxed);
            }
            slot.write(value);
            // Ordering: Release publishes the value to the Acquire check above.
            self.present.store(true, Ordering::Release);
        });
    }

    /// A copy of the current value.
    pub fn get(&self) -> Option<T>
    where
        T: Copy,
    {
        self.with_value(|slot| {
            // Ordering: Relaxed; read under `busy`.
            if self.present.load(Ordering::Relaxed) {
                // SAFETY: present, so initialised (type invariant).
                Some(unsafe { slot.assume_init_read() })
            } else {
                None
            }
        })
    }

    /// How many times the initialiser ran. Correct code: at most 1.
    pub fn allocations(&self) -> u32 {
        // Ordering: Relaxed; read after the racing threads were joined.
        self.allocations.load(Ordering::Relaxed)
    }

    /// How many allocations were overwritten and leaked.
    pub fn leaked(&self) -> u32 {
        // Ordering: Relaxed; read after the racing threads were joined.
        self.leaked.load(Ordering::Relaxed)
    }
}

impl<T> Drop for RacyOnce<T> {
    fn drop(&mut self) {
        // Ordering: `&mut self` excludes concurrency; Relaxed suffices.
        if self.present.load(Ordering::Relaxed) {
            // SAFETY: present, so initialised; `&mut self` rules out other access.
            unsafe { self.value.get_mut().assume_init_drop() };
        }
    }
}

#[cfg(all(test, feature = "std", not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn second_store_leaks_the_first() {
        // Simulate the interleaving by hand: both "checks" passed before either store.
        let slot = RacyOnce::new();
        slot.get_or_init(|| {
            slot.get_or_init(|| 1u32); // the other process, after our check
            2u32
        });
        assert_eq!(slot.allocations(), 2);
        assert_eq!(slot.leaked(), 1);
        assert_eq!(slot.get(), Some(2));
    }
}
