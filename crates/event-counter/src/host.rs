//! A host [`Kernel`] (std threads) and simple sources and sinks, for tests,
//! the model-based fuzzer and host benchmarks.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use racefree::backend::std::{
    StdMutex, StdSemaphore, StdSpin, HOST_TICKS_PER_SEC, NANOS_PER_HOST_TICK,
};

use crate::kernel::{EventSource, Kernel, NotificationSink};
use crate::settings::Edge;
use crate::Result;

/// std-backed kernel primitives.
pub struct HostKernel;

impl Kernel for HostKernel {
    type Spin = StdSpin;
    type Mutex = StdMutex;
    type Semaphore = StdSemaphore;

    const TICKS_PER_SEC: u32 = HOST_TICKS_PER_SEC;

    fn uptime_ticks() -> u64 {
        static START: OnceLock<Instant> = OnceLock::new();
        (START.get_or_init(Instant::now).elapsed().as_nanos() / u128::from(NANOS_PER_HOST_TICK)) as u64
    }
}

/// A source that records what the driver asked of it.
#[derive(Default)]
pub struct MockSource {
    enabled: AtomicBool,
    edge: AtomicU32,
    calls: AtomicU32,
    fail: AtomicBool,
    dropped: Option<Arc<AtomicBool>>,
}

impl MockSource {
    /// A source that sets `dropped` when the driver releases it.
    pub fn with_drop_flag(dropped: Arc<AtomicBool>) -> Self {
        MockSource {
            enabled: AtomicBool::new(false),
            edge: AtomicU32::new(0),
            calls: AtomicU32::new(0),
            fail: AtomicBool::new(false),
            dropped: Some(dropped),
        }
    }
    /// Whether the interrupt is enabled now.
    pub fn enabled(&self) -> bool {
        // Ordering: SeqCst keeps test observations simple; not a hot path.
        self.enabled.load(Ordering::SeqCst)
    }
    /// Edge last set.
    pub fn edge(&self) -> u32 {
        // Ordering: as above.
        self.edge.load(Ordering::SeqCst)
    }
    /// Number of `set` calls.
    pub fn calls(&self) -> u32 {
        // Ordering: as above.
        self.calls.load(Ordering::SeqCst)
    }
    /// Makes the next `set` calls fail with `-EINVAL` (fault injection).
    pub fn fail_next(&self, fail: bool) {
        // Ordering: as above.
        self.fail.store(fail, Ordering::SeqCst)
    }
}

impl EventSource for MockSource {
    fn set(&self, enabled: bool, edge: Edge) -> Result<()> {
        // Ordering: SeqCst throughout; test double, not a hot path.
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(crate::Error::Invalid);
        }
        self.enabled.store(enabled, Ordering::SeqCst);
        self.edge.store(edge as u32, Ordering::SeqCst);
        Ok(())
    }
}

impl Drop for MockSource {
    fn drop(&mut self) {
        if let Some(flag) = &self.dropped {
            // Ordering: SeqCst; observed by the test after revoke returns.
            flag.store(true, Ordering::SeqCst);
        }
    }
}

impl<T: EventSource> EventSource for Arc<T> {
    fn set(&self, enabled: bool, edge: Edge) -> Result<()> {
        (**self).set(enabled, edge)
    }
}

/// A sink that runs a closure.
#[derive(Clone)]
pub struct FnSink(pub Arc<dyn Fn(u32) -> i32 + Send + Sync>);

impl NotificationSink for FnSink {
    fn notify(&self, pending: u32) -> i32 {
        (self.0)(pending)
    }
}
