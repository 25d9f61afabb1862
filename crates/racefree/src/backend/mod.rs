//! Host and model backends. The Zephyr backends (`k_spinlock`, `k_mutex`, `k_sem`) live in
//! the Zephyr glue crate and implement the same traits.
//!
//! | backend | kind | Zephyr counterpart |
//! |---|---|---|
//! | `StdSpin` / `LoomSpin` | [`IsrSafe`](crate::IsrSafe) | `k_spinlock` |
//! | `StdMutex` / `LoomMutex` | [`ThreadOnly`](crate::ThreadOnly), timed | `k_mutex` |
//! | `StdSemaphore` / `LoomSemaphore` | [`Semaphore`](crate::Semaphore) | `k_sem` |
//!
//! With feature `lockdep`, `racefree::lockdep::Validated<B, P>` wraps any of them (and the
//! Zephyr ones) to run the lock validator, and `lockdep::ValidatedSemaphore<S, P>` any
//! semaphore.

#[cfg(loom)]
pub mod loom;
#[cfg(all(feature = "std", not(loom)))]
pub mod std;
