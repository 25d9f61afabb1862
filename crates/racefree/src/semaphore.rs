//! Counting semaphore backend used for wake-ups (`k_sem` on Zephyr).
//!
//! Seed 003, *Semaphores and Mutexes* (`up`/`down`, here `give`/`take`). The building blocks
//! use it only to wake a waiter ([`Gate::close`](crate::Gate::close),
//! [`Revocable::revoke`](crate::Revocable::revoke)), never for mutual exclusion, and always
//! recheck their own atomic state after a wake-up, so spurious or stale tokens are harmless.

use crate::{Result, Timeout};

/// A counting semaphore (`k_sem`).
///
/// # Safety
///
/// Implementers guarantee:
///
/// * `give` never blocks and may be called from an ISR;
/// * `take` returns `Ok` only after consuming a token from a `give`, and a `take` that returns
///   `Ok` happens-after that `give` (acquire/release);
/// * the value may be shared between threads and ISRs (`Sync`).
///
/// # Examples
///
/// ```
/// use racefree::{Semaphore, StdSemaphore, Timeout};
///
/// let sem = StdSemaphore::new();
/// // SAFETY: `sem` stays where it is and is not used yet.
/// unsafe { sem.init() };
/// sem.give();
/// assert!(sem.take(Timeout::Forever).is_ok());
/// ```
pub unsafe trait Semaphore: Sync {
    /// A movable, not yet initialised semaphore with count 0.
    fn new() -> Self;

    /// Initialises in place (`k_sem_init`). The default does nothing.
    ///
    /// # Safety
    ///
    /// Same contract as [`Lock::init`](crate::Lock::init): final address, once, before use.
    unsafe fn init(&self) {}

    /// Adds a token and wakes one waiter. ISR-safe, never blocks.
    fn give(&self);

    /// Takes a token, waiting at most `timeout`: `Err(WouldBlock)` for
    /// [`Timeout::NoWait`], `Err(TimedOut)` otherwise.
    fn take(&self, timeout: Timeout) -> Result<()>;

    /// Drops all tokens (`k_sem_reset`).
    fn reset(&self);
}
