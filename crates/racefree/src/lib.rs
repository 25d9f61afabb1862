#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

#[cfg(any(test, feature = "std"))]
extern crate std;

mod sync;

pub mod backend;
mod callout;
mod context;
mod error;
mod gate;
mod lock;
#[cfg(feature = "lockdep")]
pub mod lockdep;
mod once;
mod registry;
mod revocable;
pub mod seed000;
pub mod seed003;
mod semaphore;
mod timeout;

pub use callout::{Consistent, Revalidate, Versioned};
#[cfg(all(feature = "std", not(loom)))]
pub use context::with_simulated_isr;
pub use context::{ContextProbe, IsrContext, ThreadContext};
pub use error::{errno, Error, Result};
pub use gate::{CloseOutcome, ClosePolicy, Gate, GateState, Operation};
pub use lock::{
    Backend, Guard, IsrSafe, Lock, LockClass, LockKind, Mutex, SpinLock, ThreadOnly, TimedBackend,
};
pub use once::OnceSlot;
pub use registry::{DeviceTicket, Driver};
pub use revocable::{Revocable, RevocableGuard};
pub use seed000::{GuardedCounter, RacyCounter};
pub use semaphore::Semaphore;
pub use timeout::Timeout;

#[cfg(loom)]
pub use backend::loom::{LoomMutex, LoomProbe, LoomSemaphore, LoomSpin};
#[cfg(all(feature = "std", not(loom)))]
pub use backend::std::{StdMutex, StdMutexState, StdProbe, StdSemaphore, StdSpin};
