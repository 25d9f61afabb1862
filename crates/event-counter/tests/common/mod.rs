//! Test rig shared by the integration tests: a device at a fixed address
//! over ring storage that is freed again (so Miri sees no leak).

// Each test crate compiles this module and uses only part of it.
#![allow(dead_code)]

use std::ptr::NonNull;
use std::sync::Arc;

use event_counter::host::{FnSink, HostKernel, MockSource};
use event_counter::{Device, Edge, Event, EventRing, EventSource, ThreadContext};
use racefree::StdProbe;

/// The device type most tests use: the test keeps a second handle on the
/// mock to inspect it and inject faults.
pub type Dev<H = Arc<MockSource>> = Device<HostKernel, H, FnSink>;

/// Thread-context evidence for the calling (test) thread.
pub fn ctx() -> ThreadContext {
    ThreadContext::current::<StdProbe>().expect("tests run in thread context")
}

/// A device in an `Arc` (its final address) plus the ring storage it
/// borrows. Dropping the rig drops the device first, then frees the storage.
pub struct Rig<H: EventSource = Arc<MockSource>> {
    dev: Option<Arc<Dev<H>>>,
    storage: NonNull<[Event]>,
}

impl<H: EventSource> Rig<H> {
    /// A device with a `capacity`-event ring, not yet initialised.
    pub fn uninit(capacity: usize, hardware: H, edge: Edge) -> Self {
        let storage = NonNull::from(Box::leak(vec![Event::default(); capacity].into_boxed_slice()));
        let cap = u32::try_from(capacity).expect("small test rings");
        // SAFETY: `storage` is a live allocation of `capacity` events that only
        // the ring uses; the rig frees it only after the device is gone.
        let ring = unsafe { EventRing::from_raw(storage.cast::<Event>(), cap) };
        Rig { dev: Some(Arc::new(Device::new(ring, hardware, edge))), storage }
    }

    /// A device with a `capacity`-event ring, initialised and ready.
    pub fn new(capacity: usize, hardware: H, edge: Edge) -> Self {
        let rig = Self::uninit(capacity, hardware, edge);
        // SAFETY: the device sits in an `Arc` allocation and never moves; this
        // is its first and only `init`, and no other handle exists yet.
        unsafe { rig.dev().init() };
        rig
    }

    /// The device.
    pub fn dev(&self) -> &Arc<Dev<H>> {
        self.dev.as_ref().expect("present until drop")
    }
}

impl<H: EventSource> Drop for Rig<H> {
    fn drop(&mut self) {
        let dev = self.dev.take().expect("present until drop");
        // Only free the storage if the device is really gone: a test that
        // failed with a thread still holding a handle leaks instead.
        if let Ok(dev) = Arc::try_unwrap(dev) {
            drop(dev);
            // SAFETY: the storage came from `Box::leak` in `uninit`, and the
            // ring that borrowed it was dropped with the device just now.
            drop(unsafe { Box::from_raw(self.storage.as_ptr()) });
        }
    }
}

/// A rig over a shared mock, plus that mock.
pub fn rig_with_mock(capacity: usize) -> (Rig, Arc<MockSource>) {
    let mock = Arc::new(MockSource::default());
    (Rig::new(capacity, mock.clone(), Edge::Rising), mock)
}

/// A one-shot signal between threads: `open` once, `wait` until opened.
#[derive(Default)]
pub struct Latch {
    opened: std::sync::Mutex<bool>,
    cv: std::sync::Condvar,
}

impl Latch {
    /// A closed latch, shareable.
    pub fn new() -> Arc<Self> {
        Arc::new(Latch::default())
    }

    /// Opens the latch and wakes every waiter.
    pub fn open(&self) {
        *self.opened.lock().unwrap() = true;
        self.cv.notify_all();
    }

    /// Blocks until the latch is open.
    pub fn wait(&self) {
        let mut opened = self.opened.lock().unwrap();
        while !*opened {
            opened = self.cv.wait(opened).unwrap();
        }
    }
}
