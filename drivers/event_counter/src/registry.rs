//! The driver-level structure (seed 001, *Foundation*): one driver, many
//! devices. It counts open devices so that driver deinit is refused while any
//! is open, and its lock is released before any work in a device.
//!
//! Startup ordering: it is built by a SYS_INIT hook at
//! `CONFIG_EVENT_COUNTER_DRIVER_INIT_PRIORITY`, which the build checks is
//! below the devices' priority, so it exists before any device can be opened.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};

use racefree::{lock_class, Driver};

use crate::backend::chosen;

/// Upper bound on instances; the C shim checks the devicetree against it.
pub(crate) const MAX_DEVICES: usize = zephyr::kconfig::CONFIG_EVENT_COUNTER_MAX_DEVICES as usize;

/// The event-counter driver structure. Its lock is the devices' thread-lock
/// backend, so it is validated with them under `CONFIG_EVENT_COUNTER_LOCKDEP`.
pub type EventCounterDriver = Driver<chosen::Mutex, MAX_DEVICES>;

struct DriverCell {
    ready: AtomicBool,
    driver: UnsafeCell<MaybeUninit<EventCounterDriver>>,
}

// SAFETY: `driver` is written once, before `ready` is published, and only
// shared (`&`) afterwards; `Driver` is Sync.
unsafe impl Sync for DriverCell {}

static DRIVER: DriverCell = DriverCell {
    ready: AtomicBool::new(false),
    driver: UnsafeCell::new(MaybeUninit::uninit()),
};

/// The driver structure, once its init hook has run.
pub(crate) fn driver() -> Option<&'static EventCounterDriver> {
    // Ordering: Acquire pairs with the Release in `init`.
    if DRIVER.ready.load(Ordering::Acquire) {
        // SAFETY: initialised before `ready` was published; never moved or dropped.
        Some(unsafe { (*DRIVER.driver.get()).assume_init_ref() })
    } else {
        None
    }
}

/// Builds the driver structure in place.
///
/// # Safety
/// Called once, from the SYS_INIT hook, before any device exists.
pub(crate) unsafe fn init() {
    // SAFETY: sole access (caller contract); the value is written, then
    // initialised at its final, static address.
    unsafe {
        let slot = (*DRIVER.driver.get()).as_mut_ptr();
        slot.write(Driver::new(lock_class!("event_counter::driver")));
        (*slot).init();
    }
    // Ordering: Release publishes the initialised driver (see `driver`).
    DRIVER.ready.store(true, Ordering::Release);
}
