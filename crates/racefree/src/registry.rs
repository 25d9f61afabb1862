//! Seed 001, *Foundation*: one driver, many devices (1:n), a lock each, and the driver lock
//! never held while working in a device.
//!
//! [`Driver`] tracks which device slots are attached (`Open`), refuses new ones after
//! [`pre_deinit`](Driver::pre_deinit) (`PreDeinit`), and refuses [`deinit`](Driver::deinit)
//! while any device is attached (seed 001, *Shutdown*, applied to `s_driver`: "a counter of all
//! `s_device` instances"). Its lock is taken and released inside each call, so callers always
//! work in a device with no driver lock held.

use core::marker::PhantomData;

use crate::context::{ContextProbe, ThreadContext};
use crate::lock::{Backend, Lock, LockClass, TimedBackend};
use crate::{Error, Result};

struct DriverState<const N: usize> {
    deiniting: bool,
    deinited: bool,
    open_devices: usize,
    open: [bool; N],
    /// Bumped by every attach of the slot: a ticket releases only the
    /// attachment it made. Without it, a ticket whose slot was detached by
    /// index meanwhile (a device removed while its open was still failing)
    /// would count the slot out twice, or detach the next client's attachment.
    attachment: [u32; N],
}

/// Driver-level bookkeeping for up to `N` devices, behind a thread-only lock.
///
/// # Examples
///
/// ```
/// use racefree::{lock_class, Driver, Error, StdMutex, StdProbe, ThreadContext};
///
/// let ctx = ThreadContext::current::<StdProbe>().unwrap();
/// let drv: Driver<StdMutex, 2> = Driver::new(lock_class!("uart.driver"));
/// // SAFETY: not moved after this, not used yet.
/// unsafe { drv.init() };
/// let com1 = drv.attach(&ctx, 0).unwrap();      // driver lock already released here
/// assert_eq!(drv.attach(&ctx, 0).err(), Some(Error::Busy));
/// assert_eq!(drv.attach(&ctx, 2).err(), Some(Error::Invalid));
/// drv.pre_deinit(&ctx).unwrap();
/// assert_eq!(drv.attach(&ctx, 1).err(), Some(Error::Closed));
/// assert_eq!(drv.deinit(&ctx), Err(Error::Busy));
/// drv.detach(&ctx, com1);
/// drv.deinit(&ctx).unwrap();
/// ```
pub struct Driver<B: TimedBackend, const N: usize> {
    state: Lock<DriverState<N>, B>,
}

impl<B: TimedBackend, const N: usize> Driver<B, N> {
    /// A driver with no device attached.
    pub fn new(class: &'static LockClass) -> Self {
        Self {
            state: Lock::new(
                DriverState {
                    deiniting: false,
                    deinited: false,
                    open_devices: 0,
                    open: [false; N],
                    attachment: [0; N],
                },
                class,
            ),
        }
    }

    /// Initialises the driver lock in place.
    ///
    /// # Safety
    ///
    /// Same contract as [`Lock::init`]: final address, once, before use.
    pub unsafe fn init(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.state.init() }
    }

    /// Attaches device `index` (`Open`).
    ///
    /// `Err(Invalid)` for a bad index, `Err(Closed)` once deinit started, `Err(Busy)` if the
    /// index is already attached. The driver lock is released before returning.
    pub fn attach(&self, ctx: &ThreadContext, index: usize) -> Result<DeviceTicket<'_, B, N>> {
        if index >= N {
            return Err(Error::Invalid);
        }
        let mut s = self.state.lock(ctx);
        if s.deiniting || s.deinited {
            return Err(Error::Closed);
        }
        if s.open[index] {
            return Err(Error::Busy);
        }
        s.open[index] = true;
        s.open_devices += 1;
        s.attachment[index] = s.attachment[index].wrapping_add(1);
        let attachment = s.attachment[index];
        drop(s);
        Ok(DeviceTicket {
            driver: self,
            index,
            attachment,
            _not_send: PhantomData,
        })
    }

    /// Detaches a device (`Close`); dropping the ticket does the same.
    ///
    /// # Panics
    ///
    /// If the ticket belongs to another driver.
    pub fn detach(&self, ctx: &ThreadContext, ticket: DeviceTicket<'_, B, N>) {
        assert!(
            core::ptr::eq(ticket.driver, self),
            "ticket from another driver"
        );
        let (index, attachment) = (ticket.index, ticket.attachment);
        core::mem::forget(ticket);
        self.release(ctx, index, attachment);
    }

    /// Detaches by index, for drivers whose `Open` and `Close` are separate calls, possibly
    /// from different threads (see [`DeviceTicket::keep`]). `Err(Invalid)` if `index` is out
    /// of range or not attached, leaving the state unchanged.
    pub fn detach_index(&self, ctx: &ThreadContext, index: usize) -> Result<()> {
        let mut s = self.state.lock(ctx);
        if index >= N || !s.open[index] {
            return Err(Error::Invalid);
        }
        s.open[index] = false;
        s.open_devices -= 1;
        Ok(())
    }

    /// Detaches `index` if it still holds `attachment`; a no-op if it was
    /// detached by index meanwhile (and perhaps attached again by another
    /// client, whose attachment stays).
    /// Returns whether it detached.
    fn release(&self, ctx: &ThreadContext, index: usize, attachment: u32) -> bool {
        let mut s = self.state.lock(ctx);
        if s.open[index] && s.attachment[index] == attachment {
            s.open[index] = false;
            s.open_devices -= 1;
            true
        } else {
            false
        }
    }

    /// Refuses new attaches from now on (`PreDeinit`). `Err(Already)` if already called,
    /// `Err(Closed)` after `deinit`.
    pub fn pre_deinit(&self, ctx: &ThreadContext) -> Result<()> {
        let mut s = self.state.lock(ctx);
        if s.deinited {
            return Err(Error::Closed);
        }
        if s.deiniting {
            return Err(Error::Already);
        }
        s.deiniting = true;
        Ok(())
    }

    /// Deinitialises (`Deinit`). `Err(Busy)` while any device is attached, leaving the state
    /// unchanged; `Err(Closed)` if already deinitialised.
    pub fn deinit(&self, ctx: &ThreadContext) -> Result<()> {
        let mut s = self.state.lock(ctx);
        if s.deinited {
            return Err(Error::Closed);
        }
        if s.open_devices > 0 {
            return Err(Error::Busy);
        }
        s.deiniting = true;
        s.deinited = true;
        Ok(())
    }

    /// Number of attached devices.
    pub fn attached(&self, ctx: &ThreadContext) -> usize {
        self.state.lock(ctx).open_devices
    }
}

/// An attached device slot; detaches on drop. `!Send`: it is dropped in the thread that
/// attached it.
#[must_use = "the device is detached as soon as the ticket is dropped"]
pub struct DeviceTicket<'a, B: TimedBackend, const N: usize> {
    driver: &'a Driver<B, N>,
    index: usize,
    attachment: u32,
    _not_send: PhantomData<*mut ()>,
}

impl<B: TimedBackend, const N: usize> DeviceTicket<'_, B, N> {
    /// The device index.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Keeps the device attached past this ticket, returning its index; detach it later
    /// with [`Driver::detach_index`].
    pub fn keep(self) -> usize {
        let index = self.index;
        core::mem::forget(self);
        index
    }

    /// Detaches as dropping the ticket does, and tells whether this ticket's attachment was
    /// still in place: `false` if [`Driver::detach_index`] detached it meanwhile. A driver
    /// that holds something more per attachment (a power-management usage reference) gives
    /// it back exactly once: here when `true`, else where `detach_index` succeeded.
    pub fn release(self, ctx: &ThreadContext) -> bool {
        let (driver, index, attachment) = (self.driver, self.index, self.attachment);
        core::mem::forget(self);
        driver.release(ctx, index, attachment)
    }
}

impl<B: TimedBackend, const N: usize> Drop for DeviceTicket<'_, B, N> {
    fn drop(&mut self) {
        debug_assert!(
            !<B as Backend>::Probe::in_isr(),
            "device ticket dropped in ISR"
        );
        // SAFETY: the ticket was created with thread-context evidence and is `!Send`, so it is
        // dropped on that same thread, in thread context.
        let ctx = unsafe { ThreadContext::new_unchecked() };
        let _ = self.driver.release(&ctx, self.index, self.attachment);
    }
}

#[cfg(all(test, feature = "std", not(loom)))]
mod tests {
    use super::*;
    use crate::{lock_class, StdMutex, StdProbe};

    fn ctx() -> ThreadContext {
        ThreadContext::current::<StdProbe>().unwrap()
    }

    #[test]
    fn kept_ticket_detaches_by_index() {
        let d: Driver<StdMutex, 2> = Driver::new(lock_class!("t.drv.keep"));
        // SAFETY: not moved after this, not used yet.
        unsafe { d.init() };
        let c = ctx();
        let index = d.attach(&c, 1).unwrap().keep();
        assert_eq!(d.attached(&c), 1, "kept ticket stays attached");
        assert_eq!(d.deinit(&c), Err(Error::Busy));
        assert_eq!(d.detach_index(&c, 0), Err(Error::Invalid), "not attached");
        assert_eq!(d.detach_index(&c, 2), Err(Error::Invalid), "out of range");
        assert_eq!(d.detach_index(&c, index), Ok(()));
        assert_eq!(d.detach_index(&c, index), Err(Error::Invalid), "double detach");
        assert_eq!(d.deinit(&c), Ok(()));
    }

    /// A device removed while its open is still in progress: the remover
    /// detaches by index, then the open fails and drops its ticket. The drop
    /// must not count the slot out a second time (driver deinit refused for
    /// ever), nor detach a client that attached the slot again meanwhile.
    #[test]
    fn ticket_detached_by_index_meanwhile_releases_nothing() {
        let d: Driver<StdMutex, 2> = Driver::new(lock_class!("t.drv.aba"));
        // SAFETY: not moved after this, not used yet.
        unsafe { d.init() };
        let c = ctx();
        let failing_open = d.attach(&c, 1).unwrap();
        assert_eq!(d.detach_index(&c, 1), Ok(()), "removed meanwhile");
        drop(failing_open);
        assert_eq!(d.attached(&c), 0, "counted out once");
        assert_eq!(d.deinit(&c), Ok(()), "nothing left attached");

        let d: Driver<StdMutex, 2> = Driver::new(lock_class!("t.drv.aba2"));
        // SAFETY: as above.
        unsafe { d.init() };
        let failing_open = d.attach(&c, 1).unwrap();
        assert_eq!(d.detach_index(&c, 1), Ok(()));
        let next_client = d.attach(&c, 1).unwrap().keep();
        drop(failing_open);
        assert_eq!(d.attached(&c), 1, "the next client stays attached");
        assert_eq!(d.attach(&c, 1).err(), Some(Error::Busy));
        assert_eq!(d.detach_index(&c, next_client), Ok(()));
        assert_eq!(d.deinit(&c), Ok(()));
    }

    /// Issue 13: what the driver holds per attachment (a runtime PM usage reference) is given
    /// back once, by whichever of the failing open and the removal detached it.
    #[test]
    fn ticket_release_says_who_detached() {
        let d: Driver<StdMutex, 2> = Driver::new(lock_class!("t.drv.rel"));
        // SAFETY: not moved after this, not used yet.
        unsafe { d.init() };
        let c = ctx();
        let failing_open = d.attach(&c, 0).unwrap();
        assert!(failing_open.release(&c), "still attached: this open detaches");
        assert_eq!(d.attached(&c), 0);

        let failing_open = d.attach(&c, 0).unwrap();
        assert_eq!(d.detach_index(&c, 0), Ok(()), "removed meanwhile: the removal detaches");
        let next_client = d.attach(&c, 0).unwrap().keep();
        assert!(!failing_open.release(&c), "not this open's to give back");
        assert_eq!(d.attached(&c), 1, "the next client stays attached");
        assert_eq!(d.detach_index(&c, next_client), Ok(()));
        assert_eq!(d.deinit(&c), Ok(()));
    }

    #[test]
    fn attach_releases_the_driver_lock() {
        let d: Driver<StdMutex, 3> = Driver::new(lock_class!("t.drv"));
        let c = ctx();
        let t = d.attach(&c, 1).unwrap();
        assert_eq!(t.index(), 1);
        assert!(
            d.state.try_lock(&c).is_some(),
            "no driver lock held while in a device"
        );
        assert_eq!(d.attached(&c), 1);
        drop(t);
        assert_eq!(d.attached(&c), 0);
    }

    #[test]
    fn deinit_busy_keeps_state() {
        let d: Driver<StdMutex, 1> = Driver::new(lock_class!("t.drv2"));
        let c = ctx();
        let t = d.attach(&c, 0).unwrap();
        assert_eq!(d.deinit(&c), Err(Error::Busy));
        drop(t);
        let t = d.attach(&c, 0).unwrap(); // still attachable: deinit changed nothing
        d.detach(&c, t);
        assert_eq!(d.pre_deinit(&c), Ok(()));
        assert_eq!(d.pre_deinit(&c), Err(Error::Already));
        assert_eq!(d.deinit(&c), Ok(()));
        assert_eq!(d.deinit(&c), Err(Error::Closed));
        assert_eq!(d.pre_deinit(&c), Err(Error::Closed));
        assert_eq!(d.attach(&c, 0).err(), Some(Error::Closed));
    }

    #[test]
    #[should_panic(expected = "ticket from another driver")]
    fn foreign_ticket_panics() {
        let a: Driver<StdMutex, 1> = Driver::new(lock_class!("t.a"));
        let b: Driver<StdMutex, 1> = Driver::new(lock_class!("t.b"));
        let c = ctx();
        let t = a.attach(&c, 0).unwrap();
        b.detach(&c, t);
    }
}
