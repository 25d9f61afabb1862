//! `extern "C"` entry points: the C API table (`event_counter.c`) points at
//! these. Each resolves the device (`-ENODEV` until its init completed),
//! demands thread context where the operation may block (`-EPERM` from an
//! ISR), converts arguments (`-EINVAL`) and maps racefree's errors to
//! negative errnos. None of them can panic on bad input.

use core::ffi::{c_int, c_void};

use event_counter::{ClosePolicy, CloseRequest, Event, RawSettings, Result, Stats, Timeout};
use racefree::{Error, ThreadContext};
use zephyr::raw;

use crate::registry;
use crate::shim::{self, CSink, ShimSource, SinkFn};
use crate::{ZephyrDevice, ZephyrProbe};

/// `-EPERM`: a thread-only call from interrupt context.
const EPERM: c_int = -1;

/// The device and thread-context evidence, or the errno to return.
fn thread_call(dev: *const raw::device) -> core::result::Result<(&'static ZephyrDevice, ThreadContext), c_int> {
    let device = shim::device(dev).ok_or(Error::Gone.to_errno())?;
    let ctx = ThreadContext::current::<ZephyrProbe>().ok_or(EPERM)?;
    Ok((device, ctx))
}

fn errno(result: Result<()>) -> c_int {
    match result {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

macro_rules! thread_entry {
    ($dev:expr, |$device:ident, $ctx:ident| $body:expr) => {
        match thread_call($dev) {
            Ok(($device, $ctx)) => $body,
            Err(errno) => errno,
        }
    };
}

#[no_mangle]
unsafe extern "C" fn z_event_counter_rs_init(
    dev: *const raw::device,
    state: *mut c_void,
    size: usize,
) -> c_int {
    // SAFETY: called once per device by its init function with its own storage.
    errno(unsafe { shim::init(dev, state, size) })
}

#[no_mangle]
unsafe extern "C" fn z_event_counter_rs_on_event(state: *mut c_void, cycles: u32) {
    // SAFETY: the trampolines pass their instance's `rust_state`.
    unsafe { shim::on_event(state, cycles) }
}

/// Open: take the session's runtime PM reference (which resumes an unused
/// device), attach to the driver-level structure (its lock is taken and
/// released inside), then open the device with no driver lock held.
///
/// Seed 003's check-then-allocate lesson: every reference taken on the way
/// is a guard that gives it back when a later step fails, so a failed open
/// (already open, suspended, driver deinitialised) leaks neither a driver
/// ticket nor a PM usage count.
///
/// Seed 002, reference tracking across a hot-unplug: the attach and the
/// device's open happen under one [`Presence`](event_counter::Presence), so
/// both belong to the same incarnation of the device. Without it, a remove
/// could end this attachment (and turn its usage reference into an owed
/// one) and a restore bring the device back before the device's open, which
/// then opened a session that held no usage reference: the next put
/// suspended the open device (`read` answered `-EAGAIN`, issue 13).
pub(crate) fn open(dev: *const raw::device, ctx: &ThreadContext) -> Result<()> {
    let device = shim::device(dev).ok_or(Error::Gone)?;
    let driver = registry::driver().ok_or(Error::Gone)?;
    // Released on drop: if the attach fails, here. Taken before the
    // presence, so that its resume action runs with nothing held.
    let usage = pm::SessionRef::acquire(dev)?;
    let _present = device.presence()?;
    let ticket = driver.attach(ctx, shim::index(dev)).map_err(|e| match e {
        // The driver is being deinitialised: there is no device to open.
        Error::Closed => Error::Gone,
        other => other,
    })?;
    if let Err(e) = device.open(ctx) {
        // The usage reference belongs to the attachment, and is given back
        // by whoever ends it: this open, or a `remove` (or `close`) that
        // detached it by index meanwhile and released it there.
        if !ticket.release(ctx) {
            usage.keep();
            // Only a removal (its own detach, or a close racing it)
            // detaches an open still under way: whatever this open ran
            // into, the device is being removed. The presence keeps a
            // restore out until this open has returned.
            return Err(Error::Gone);
        }
        return Err(e);
    }
    ticket.keep();
    usage.keep();
    Ok(())
}

/// Close: close the device, then detach it from the driver-level structure.
///
/// Both under one [`Presence`](event_counter::Presence), as in [`open`]: the
/// detach is by device index, and without it a remove and a restore between
/// the device's close and the detach could let a new client attach, whose
/// attachment this close would then end.
pub(crate) fn close(
    dev: *const raw::device,
    ctx: &ThreadContext,
    timeout: Timeout,
    policy: ClosePolicy,
) -> Result<()> {
    let device = shim::device(dev).ok_or(Error::Gone)?;
    let present = device.presence()?;
    device.close(ctx, timeout, policy)?;
    // Err(Invalid) if a `remove` detached the device meanwhile (it released
    // the usage reference then), or if it was opened around the registry.
    let detached = registry::driver()
        .is_some_and(|driver| driver.detach_index(ctx, shim::index(dev)).is_ok());
    // The reference is counted until the put, whatever happens to the
    // device from here on: the put needs no presence.
    drop(present);
    if detached {
        // The attachment ended here: so does its runtime PM reference.
        pm::release_session(dev);
    }
    Ok(())
}

#[no_mangle]
extern "C" fn z_event_counter_rs_open(dev: *const raw::device) -> c_int {
    thread_entry!(dev, |_device, ctx| errno(open(dev, &ctx)))
}

#[no_mangle]
extern "C" fn z_event_counter_rs_close(dev: *const raw::device, timeout_ticks: i64, policy: u32) -> c_int {
    thread_entry!(dev, |_device, ctx| {
        errno((|| {
            let policy = CloseRequest::policy_from_raw(policy)?;
            let timeout = CloseRequest::timeout_from_ticks(timeout_ticks)?;
            close(dev, &ctx, timeout, policy)
        })())
    })
}

#[no_mangle]
unsafe extern "C" fn z_event_counter_rs_read(
    dev: *const raw::device,
    events: *mut Event,
    max_events: usize,
) -> c_int {
    thread_entry!(dev, |device, ctx| {
        if events.is_null() || max_events == 0 {
            return Error::Invalid.to_errno();
        }
        // The count is returned as an int.
        let max = max_events.min(c_int::MAX as usize);
        // SAFETY: the caller passes a buffer of `max_events` events.
        let out = unsafe { core::slice::from_raw_parts_mut(events, max) };
        match device.read(&ctx, out) {
            Ok(n) => n as c_int,
            Err(e) => e.to_errno(),
        }
    })
}

#[no_mangle]
extern "C" fn z_event_counter_rs_wait(dev: *const raw::device, timeout_ticks: i64) -> c_int {
    thread_entry!(dev, |device, ctx| {
        let result = CloseRequest::timeout_from_ticks(timeout_ticks).and_then(|t| device.wait(&ctx, t));
        match result {
            Ok(pending) => pending.min(c_int::MAX as u32) as c_int,
            Err(e) => e.to_errno(),
        }
    })
}

#[no_mangle]
unsafe extern "C" fn z_event_counter_rs_configure(
    dev: *const raw::device,
    settings: *const RawSettings,
) -> c_int {
    thread_entry!(dev, |device, ctx| {
        // SAFETY: NULL or a valid settings struct (C contract).
        match unsafe { settings.as_ref() } {
            Some(raw) => errno(device.configure(&ctx, *raw)),
            None => Error::Invalid.to_errno(),
        }
    })
}

#[no_mangle]
unsafe extern "C" fn z_event_counter_rs_get_settings(
    dev: *const raw::device,
    settings: *mut RawSettings,
) -> c_int {
    thread_entry!(dev, |device, ctx| {
        if settings.is_null() {
            return Error::Invalid.to_errno();
        }
        match device.settings(&ctx) {
            Ok(current) => {
                // SAFETY: non-NULL, and valid for writes (C contract).
                unsafe { settings.write(current) };
                0
            }
            Err(e) => e.to_errno(),
        }
    })
}

#[no_mangle]
unsafe extern "C" fn z_event_counter_rs_get_stats(dev: *const raw::device, stats: *mut Stats) -> c_int {
    let Some(device) = shim::device(dev) else {
        return Error::Gone.to_errno();
    };
    if stats.is_null() {
        return Error::Invalid.to_errno();
    }
    // Only the ISR lock is taken: allowed from any context.
    match device.stats() {
        Ok(current) => {
            // SAFETY: non-NULL, and valid for writes (C contract).
            unsafe { stats.write(current) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

#[no_mangle]
extern "C" fn z_event_counter_rs_set_sink(
    dev: *const raw::device,
    sink: Option<SinkFn>,
    user_data: *mut c_void,
) -> c_int {
    thread_entry!(dev, |device, ctx| {
        let sink = sink.map(|func| CSink { func, dev, user_data });
        errno(device.set_sink(&ctx, sink))
    })
}

#[no_mangle]
extern "C" fn z_event_counter_rs_notify(dev: *const raw::device) -> c_int {
    thread_entry!(dev, |device, ctx| match device.notify(&ctx) {
        Ok(ret) => ret,
        Err(e) => e.to_errno(),
    })
}

/// Remove (hot-unplug), detaching from the driver-level structure: a
/// removed device is no longer open.
///
/// The detach runs inside the removal, before the binding is revoked
/// ([`remove_ending`](event_counter::Device::remove_ending)), so no restore,
/// and no client of the restored device, can come in between: a detach by
/// index after the removal returned could end the next client's attachment.
pub(crate) fn remove(dev: *const raw::device, ctx: &ThreadContext, timeout: Timeout) -> Result<()> {
    let device = shim::device(dev).ok_or(Error::Gone)?;
    let mut ended_session = false;
    let result = device.remove_ending(ctx, timeout, || {
        // The removal ended an attachment (an open session, or an open still
        // under way, which the device now refuses) if and only if it
        // detaches one here; after a driver deinit none is left.
        ended_session = registry::driver()
            .is_some_and(|driver| driver.detach_index(ctx, shim::index(dev)).is_ok());
    });
    if ended_session {
        // The PM core cannot suspend a removed device, so this reference is
        // kept as owed and released by `restore` (see the C shim).
        pm::release_session(dev);
    }
    result
}

/// Re-add after removal: the new binding is made (and the hardware probed)
/// only once the device is known to be removed, under its thread lock.
pub(crate) fn restore(dev: *const raw::device, ctx: &ThreadContext) -> Result<()> {
    let device = shim::device(dev).ok_or(Error::Gone)?;
    device.restore(ctx, || ShimSource::attach(dev))?;
    pm::restored(dev);
    Ok(())
}

#[no_mangle]
extern "C" fn z_event_counter_rs_remove(dev: *const raw::device, timeout_ticks: i64) -> c_int {
    thread_entry!(dev, |_device, ctx| {
        errno(CloseRequest::timeout_from_ticks(timeout_ticks).and_then(|t| remove(dev, &ctx, t)))
    })
}

#[no_mangle]
extern "C" fn z_event_counter_rs_restore(dev: *const raw::device) -> c_int {
    thread_entry!(dev, |_device, ctx| errno(restore(dev, &ctx)))
}

/// `PM_DEVICE_ACTION_SUSPEND` (the C shim's PM action callback): drains for
/// at most `timeout_ticks` (`CONFIG_EVENT_COUNTER_PM_DRAIN_TIMEOUT_MS`).
#[cfg(CONFIG_PM_DEVICE)]
#[no_mangle]
extern "C" fn z_event_counter_rs_suspend(dev: *const raw::device, timeout_ticks: i64) -> c_int {
    thread_entry!(dev, |device, ctx| {
        errno(CloseRequest::timeout_from_ticks(timeout_ticks).and_then(|t| device.suspend(&ctx, t)))
    })
}

/// `PM_DEVICE_ACTION_RESUME` (the C shim's PM action callback).
#[cfg(CONFIG_PM_DEVICE)]
#[no_mangle]
extern "C" fn z_event_counter_rs_resume(dev: *const raw::device) -> c_int {
    thread_entry!(dev, |device, ctx| errno(device.resume(&ctx)))
}

/// Runtime PM (`CONFIG_PM_DEVICE_RUNTIME`): an open session holds one usage
/// reference on its device (seed 002: the usage count is reference
/// tracking). Without runtime PM everything here is empty and inlined away.
mod pm {
    use event_counter::Result;
    #[cfg(CONFIG_PM_DEVICE_RUNTIME)]
    use racefree::Error;
    use zephyr::raw;

    #[cfg(CONFIG_PM_DEVICE_RUNTIME)]
    extern "C" {
        fn z_event_counter_pm_session_get(dev: *const raw::device) -> core::ffi::c_int;
        fn z_event_counter_pm_session_put(dev: *const raw::device);
        fn z_event_counter_pm_restored(dev: *const raw::device);
    }

    /// A usage reference taken for a session that is not open yet: released
    /// on drop unless [`SessionRef::keep`] hands it to the session.
    pub(super) struct SessionRef {
        #[cfg(CONFIG_PM_DEVICE_RUNTIME)]
        dev: *const raw::device,
    }

    impl SessionRef {
        /// `pm_device_runtime_get()`: resumes the device if it was unused.
        pub(super) fn acquire(dev: *const raw::device) -> Result<SessionRef> {
            #[cfg(CONFIG_PM_DEVICE_RUNTIME)]
            {
                // SAFETY: `dev` is a ready event-counter device (checked by
                // the caller); thread context (the caller holds a
                // ThreadContext), which the synchronous get needs.
                match unsafe { z_event_counter_pm_session_get(dev) } {
                    0 => Ok(SessionRef { dev }),
                    errno => Err(Error::from_errno(errno).unwrap_or(Error::Invalid)),
                }
            }
            #[cfg(not(CONFIG_PM_DEVICE_RUNTIME))]
            {
                let _ = dev;
                Ok(SessionRef {})
            }
        }

        /// The open succeeded: the session owns the reference now.
        pub(super) fn keep(self) {
            core::mem::forget(self);
        }
    }

    impl Drop for SessionRef {
        fn drop(&mut self) {
            #[cfg(CONFIG_PM_DEVICE_RUNTIME)]
            release_session(self.dev);
        }
    }

    /// `pm_device_runtime_put()` for a session that ended.
    pub(super) fn release_session(dev: *const raw::device) {
        #[cfg(CONFIG_PM_DEVICE_RUNTIME)]
        // SAFETY: as in `SessionRef::acquire`.
        unsafe {
            z_event_counter_pm_session_put(dev)
        };
        let _ = dev;
    }

    /// After a restore: releases the reference a removal could not.
    pub(super) fn restored(dev: *const raw::device) {
        #[cfg(CONFIG_PM_DEVICE_RUNTIME)]
        // SAFETY: as in `SessionRef::acquire`.
        unsafe {
            z_event_counter_pm_restored(dev)
        };
        let _ = dev;
    }
}

#[no_mangle]
extern "C" fn z_event_counter_rs_driver_init() {
    // SAFETY: called once by the SYS_INIT hook, before any device init.
    unsafe { registry::init() }
}

/// Seed 001 `PreDeinit`: refuse new opens from now on.
#[no_mangle]
extern "C" fn event_counter_driver_pre_deinit() -> c_int {
    driver_call(|driver, ctx| driver.pre_deinit(ctx))
}

/// Seed 001 `Deinit`: refused with `-EBUSY` while any device is open.
#[no_mangle]
extern "C" fn event_counter_driver_deinit() -> c_int {
    driver_call(|driver, ctx| driver.deinit(ctx))
}

fn driver_call(f: impl FnOnce(&registry::EventCounterDriver, &ThreadContext) -> Result<()>) -> c_int {
    let Some(driver) = registry::driver() else {
        return Error::Gone.to_errno();
    };
    match ThreadContext::current::<ZephyrProbe>() {
        Some(ctx) => errno(f(driver, &ctx)),
        None => EPERM,
    }
}
