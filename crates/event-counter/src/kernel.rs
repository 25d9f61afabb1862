//! What the driver needs from the platform: kernel primitives, the interrupt
//! source, and the notification sink.

use racefree::{Backend, IsrSafe, Result, Semaphore, TimedBackend};

use crate::settings::Edge;

/// The kernel primitives a [`crate::Device`] is built from.
///
/// On Zephyr: k_spinlock, k_mutex, k_sem and k_uptime_ticks. On the host:
/// racefree's std backends.
pub trait Kernel: 'static {
    /// ISR-safe lock (spinlock semantics) for the state the ISR touches.
    type Spin: Backend<Kind = IsrSafe>;
    /// Thread-only lock (mutex semantics) for configuration and clients.
    type Mutex: TimedBackend;
    /// Counting semaphore: the ISR wakes waiters, close and remove wake them too.
    type Semaphore: Semaphore;
    /// The kernel clock's ticks per second (`CONFIG_SYS_CLOCK_TICKS_PER_SEC`).
    const TICKS_PER_SEC: u32;
    /// Ticks since boot, for waits that span several wake-ups: deadlines are
    /// kept in the kernel's own resolution, never rounded to milliseconds.
    fn uptime_ticks() -> u64;
}

/// The hardware that raises the events (a GPIO pin interrupt, a kernel timer).
///
/// Called from thread context only, never with a driver lock held: it is an
/// external component in the sense of seed 001.
pub trait EventSource: Send + Sync {
    /// Enables (with the given edge) or disables the interrupt. After a
    /// disable returns, no new event may start.
    fn set(&self, enabled: bool, edge: Edge) -> Result<()>;
}

/// A client's notification callback (seed 001, *calling an external component*).
pub trait NotificationSink: Clone + Send {
    /// Told how many events are pending. Returns 0 or a negative errno. May
    /// call back into the driver: no driver lock is held while it runs.
    fn notify(&self, pending: u32) -> i32;
}
