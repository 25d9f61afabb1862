//! Seed 000, the ISR-vs-reader shared counter: the flawed driver and its
//! `spin_lock_irqsave` fix.
//!
//! ```c
//! void driver_interrupt_handler(void) { shared_counter++; }   /* load, add, store */
//! ```
//!
//! [`RacyCounter`] keeps the bug (a load and a store as two separate operations, so two
//! concurrent increments can both read the same value and one update is lost) while staying
//! free of undefined behaviour in Rust. [`GuardedCounter`] is the fix from *Step 2: Apply
//! Locking Mechanisms*: every access under an [`IsrSafe`] lock.

use crate::lock::{Backend, Lock};
use crate::sync::{AtomicU32, Ordering};
use crate::IsrSafe;

/// The flawed counter of seed 000: increment is a separate load and store. **Do not use.**
///
/// # Examples
///
/// ```
/// use racefree::RacyCounter;
///
/// let c = RacyCounter::new();
/// c.increment();
/// assert_eq!(c.read(), 1); // correct only without concurrency
/// ```
#[derive(Debug, Default)]
pub struct RacyCounter {
    value: AtomicU32,
}

impl RacyCounter {
    /// Zero.
    pub fn new() -> Self {
        Self {
            value: AtomicU32::new(0),
        }
    }

    /// `shared_counter++`, racy on purpose: an update between the load and the store is lost.
    pub fn increment(&self) {
        // Ordering: Relaxed on purpose; the bug is the split read-modify-write (seed 000).
        let v = self.value.load(Ordering::Relaxed);
        // Ordering: Relaxed on purpose, as above.
        self.value.store(v.wrapping_add(1), Ordering::Relaxed);
    }

    /// Reads the counter.
    pub fn read(&self) -> u32 {
        // Ordering: Relaxed; a plain read as in `driver_read`.
        self.value.load(Ordering::Relaxed)
    }
}

/// The fixed counter of seed 000: increments (ISR) and reads (thread) under a spinlock.
///
/// # Examples
///
/// ```
/// use racefree::{GuardedCounter, StdSpin, with_simulated_isr};
///
/// let c: GuardedCounter<StdSpin> = GuardedCounter::new();
/// with_simulated_isr(|_isr| c.increment());
/// assert_eq!(c.read(), 1);
/// ```
pub struct GuardedCounter<B: Backend<Kind = IsrSafe>> {
    value: Lock<u32, B>,
}

impl<B: Backend<Kind = IsrSafe>> Default for GuardedCounter<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend<Kind = IsrSafe>> GuardedCounter<B> {
    /// Zero. Backends that need in-place initialisation are not supported here (host, loom
    /// and `k_spinlock` need none).
    pub fn new() -> Self {
        Self {
            value: Lock::new(0, crate::lock_class!("racefree::GuardedCounter")),
        }
    }

    /// Increments under the lock (`spin_lock_irqsave`); ISR-safe.
    pub fn increment(&self) {
        let mut v = self.value.lock();
        *v = v.wrapping_add(1);
    }

    /// Reads under the lock.
    pub fn read(&self) -> u32 {
        *self.value.lock()
    }
}

#[cfg(all(test, feature = "std", not(loom)))]
mod tests {
    use super::*;
    use crate::StdSpin;

    #[test]
    fn counts_single_threaded() {
        let r = RacyCounter::new();
        let g: GuardedCounter<StdSpin> = GuardedCounter::default();
        for _ in 0..1000 {
            r.increment();
            g.increment();
        }
        assert_eq!((r.read(), g.read()), (1000, 1000));
    }
}
