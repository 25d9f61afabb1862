//! Zephyr glue for the event-counter driver.
//!
//! - [`backend`]: racefree's lock and semaphore backends over k_spinlock,
//!   k_mutex and k_sem, and the ISR probe over k_is_in_isr().
//! - `shim`: the per-instance config and storage the C shim
//!   (`event_counter.c`) defines, the interrupt source and the C sink.
//! - `ffi`: the `extern "C"` entry points the C API table points at.
//! - `registry`: the driver-level structure over all instances (seed 001).
//! - `lockdep` (`CONFIG_EVENT_COUNTER_LOCKDEP`): the lock validator's Zephyr
//!   platform and its C API.
//! - [`EventCounter`]: the Rust API, the same operations as the C header.
#![no_std]
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod backend;
mod ffi;
#[cfg(CONFIG_EVENT_COUNTER_LOCKDEP)]
pub mod lockdep;
mod registry;
mod shim;

use event_counter::Device;

pub use backend::{ZephyrKernel, ZephyrMutex, ZephyrProbe, ZephyrSemaphore, ZephyrSpin};
pub use event_counter::{ClosePolicy, Error, Event, RawSettings, Result, Stats, Timeout};
pub use racefree::ThreadContext;
pub use registry::EventCounterDriver;
pub use shim::{CSink, ShimSource};

/// The driver as instantiated on Zephyr.
pub type ZephyrDevice = Device<ZephyrKernel, ShimSource, CSink>;

/// Thread-context evidence for the thread API, or `None` in an ISR.
pub fn thread_context() -> Option<ThreadContext> {
    ThreadContext::current::<ZephyrProbe>()
}

/// A devicetree instance of the event counter, for Rust callers.
///
/// Deref to [`ZephyrDevice`] gives the thread API (`open`, `read`, `wait`,
/// …), each taking a [`ThreadContext`] from [`thread_context`].
#[derive(Clone, Copy)]
pub struct EventCounter {
    raw: *const zephyr::raw::device,
}

// SAFETY: `raw` points to a static, const `struct device`; all mutable state
// behind it is reached through the driver's own synchronisation.
unsafe impl Send for EventCounter {}
// SAFETY: as above.
unsafe impl Sync for EventCounter {}

impl EventCounter {
    /// Every instance in the devicetree, ready or not.
    pub fn all() -> impl Iterator<Item = EventCounter> {
        shim::devices().iter().map(|&raw| EventCounter { raw })
    }

    /// The instance at `raw`, which must come from `DEVICE_DT_GET` of an
    /// event-counter node.
    ///
    /// # Safety
    /// `raw` points to an event-counter device defined by the shim.
    pub unsafe fn from_raw(raw: *const zephyr::raw::device) -> Self {
        EventCounter { raw }
    }

    /// The devicetree node name.
    pub fn name(&self) -> &'static str {
        shim::name(self.raw)
    }

    /// The period of a timer-driven instance; `None` for a GPIO-driven one.
    pub fn timer_period_us(&self) -> Option<u32> {
        shim::timer_period_us(self.raw)
    }

    /// The C `struct device`.
    pub fn raw(&self) -> *const zephyr::raw::device {
        self.raw
    }

    /// Whether init completed (as `device_is_ready()`).
    pub fn is_ready(&self) -> bool {
        shim::device(self.raw).is_some()
    }

    /// The driver, or [`Error::Gone`] (`-ENODEV`) when init failed.
    ///
    /// Open, close, remove and restore through [`EventCounter`]'s own
    /// methods, which also keep the driver-level structure in step (or
    /// probe the hardware); every other operation is on the device itself.
    pub fn device(&self) -> Result<&'static ZephyrDevice> {
        shim::device(self.raw).ok_or(Error::Gone)
    }

    /// Opens the device (see `event_counter_open()`).
    pub fn open(&self, ctx: &ThreadContext) -> Result<()> {
        ffi::open(self.raw, ctx)
    }

    /// Closes the device (see `event_counter_close()`).
    pub fn close(&self, ctx: &ThreadContext, timeout: Timeout, policy: ClosePolicy) -> Result<()> {
        ffi::close(self.raw, ctx, timeout, policy)
    }

    /// Removes the device at run time (see `event_counter_remove()`).
    pub fn remove(&self, ctx: &ThreadContext, timeout: Timeout) -> Result<()> {
        ffi::remove(self.raw, ctx, timeout)
    }

    /// Re-adds a removed device (see `event_counter_restore()`).
    pub fn restore(&self, ctx: &ThreadContext) -> Result<()> {
        ffi::restore(self.raw, ctx)
    }
}
