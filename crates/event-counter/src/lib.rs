//! Interrupt event-counter driver logic.
//!
//! Everything the driver *decides* lives here, free of Zephyr, so that the
//! host tests, the model-based fuzzer and loom exercise exactly the code that
//! runs on the board. The Zephyr glue (`drivers/event_counter`) supplies a
//! [`Kernel`] (k_spinlock, k_mutex, k_sem), an [`EventSource`] (GPIO
//! interrupt or k_timer) and a [`NotificationSink`], and forwards the C API.
//!
//! # Which lock guards what
//!
//! | state | guard | taken from |
//! |---|---|---|
//! | event ring, `seen`/`ignored`/`read`/`dropped`, enabled, overflow policy | ISR lock ([`racefree::IsrSafe`], k_spinlock) | ISR and threads |
//! | settings, sink, open and removing flags | thread lock ([`racefree::ThreadOnly`], k_mutex) | threads only |
//! | open/closing/closed + in-flight count | [`racefree::Gate`] (atomic) | threads |
//! | the hardware binding | [`racefree::Revocable`] | threads |
//!
//! The ISR path takes only the ISR lock, never blocks and never logs (seed
//! 003, *spinlocks and atomic context*). Thread paths never hold the thread
//! lock across a call into the hardware or a sink (seed 001, *calling an
//! external component*).
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(missing_docs)]

mod device;
mod kernel;
mod ring;
mod settings;

#[cfg(feature = "std")]
pub mod host;

pub use device::{Device, Presence, Stats};
pub use kernel::{EventSource, Kernel, NotificationSink};
pub use ring::{Event, EventRing};
pub use settings::{CloseRequest, Edge, Overflow, RawSettings, Settings};

pub use racefree::{ClosePolicy, Error, Result, ThreadContext, Timeout};
