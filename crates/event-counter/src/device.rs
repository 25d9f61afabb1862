//! One event-counter device: the ISR path and the thread API.

use core::mem::ManuallyDrop;
use core::sync::atomic::{AtomicBool, Ordering};

use racefree::{
    lock_class, ClosePolicy, Consistent, Error, Gate, Guard, Lock, Result, Revocable, Semaphore,
    ThreadContext, Timeout, Versioned,
};

use crate::kernel::{EventSource, Kernel, NotificationSink};
use crate::ring::{Event, EventRing};
use crate::settings::{Edge, RawSettings, Settings};

/// How many events are copied per hold of the ISR lock, so that a large read
/// never keeps interrupts masked for long (seed 003: hold spinlocks briefly).
const READ_CHUNK: usize = 8;

/// Reconciliation counters. Same layout as C's `struct event_counter_stats`.
///
/// At any quiescent point: `seen == read + dropped + pending`; every
/// interrupt is `seen` or `ignored`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events counted in interrupt context while enabled.
    pub seen: u32,
    /// Interrupts that arrived while disabled.
    pub ignored: u32,
    /// Events handed to readers.
    pub read: u32,
    /// Events whose timestamp did not fit the ring.
    pub dropped: u32,
    /// Events captured and not yet read.
    pub pending: u32,
}

/// One operation in flight: admitted by the gate, with access to the
/// hardware. Both parts live until the operation ends; fields drop in
/// declaration order, so the gate has counted the operation out before the
/// hardware access ends. A `restore`, which waits for the last hardware
/// user, then finds the gate drained too, and a new `open` is not refused.
struct InFlight<'a, K: Kernel, H> {
    _op: racefree::Operation<'a, K::Semaphore>,
    hardware: racefree::RevocableGuard<'a, H, K::Semaphore>,
}

/// A device held present by [`Device::presence`]: a reference to its
/// current hardware binding, used for nothing but keeping it.
///
/// Lifecycle calls take one on several paths, none of them hot, so taking
/// and dropping it are calls rather than inlined code (BENCHMARKS.md
/// figure 5: inlined, each early return of `open` and `close` carried its
/// own copy of the release).
#[must_use = "the device may be removed and restored as soon as this is dropped"]
pub struct Presence<'a, K: Kernel, H> {
    binding: ManuallyDrop<racefree::RevocableGuard<'a, H, K::Semaphore>>,
}

impl<K: Kernel, H> Drop for Presence<'_, K, H> {
    #[inline(never)]
    fn drop(&mut self) {
        // SAFETY: `binding` is dropped here only, once, and never used again.
        unsafe { ManuallyDrop::drop(&mut self.binding) }
    }
}

/// What the ISR touches, under the ISR lock (seed 000's fix: every access to
/// the shared counters, from the ISR and from readers, is under one spinlock).
struct IsrShared {
    ring: EventRing,
    seen: u32,
    ignored: u32,
    read: u32,
    dropped: u32,
    enabled: bool,
    overflow: crate::settings::Overflow,
}

/// What only threads touch, under the thread lock.
struct ThreadShared<S> {
    settings: Settings,
    sink: Option<S>,
    /// Set by `remove` before it disables the source, so that a concurrent
    /// `configure` revalidating after its callout cannot re-enable it.
    removing: bool,
    /// Set by `open`, cleared by `close` (and a failed open), for the same
    /// reason: a `configure` abandoned by a [`ClosePolicy::Proceed`] close
    /// revalidates and leaves the source disabled.
    open: bool,
    /// The power-management state, for the same reason again: a
    /// `configure` or `open` that revalidates after its callout leaves the
    /// source off while the device is suspended. Mirrors the gate's
    /// suspension, with the steps in between, so that two PM actions never
    /// interleave.
    power: Power,
}

/// A device's power-management state (issue 13), under the thread lock.
///
/// The gate refuses calls from the start of a suspend until the end of a
/// resume; this state also says which way the device is going, for
/// [`Device::apply_settings`] and for refusing a second PM action meanwhile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Power {
    /// Running: the source is armed as the settings and session say.
    Active,
    /// `suspend` switched the source off and is draining the gate.
    Suspending,
    /// Source off, gate drained and refusing calls until `resume`.
    Suspended,
    /// `resume` is re-arming the source; the gate still refuses calls.
    Resuming,
}

impl Power {
    /// Whether the source may be armed in this state.
    fn arms_source(self) -> bool {
        matches!(self, Power::Active | Power::Resuming)
    }
}

impl<S> Consistent for ThreadShared<S> {
    // Every field is updated in one step under the lock, so the state is
    // consistent whenever the lock can be released.
    fn is_consistent(&self) -> bool {
        true
    }
}

/// An event-counter device.
///
/// Built in place by the platform glue: [`Device::new`], then
/// [`Device::init`] at its final address, which publishes the device as
/// ready as its very last step (seed 001, *Startup*; seed 002, "no object
/// can be made available until it is in a state where it can function").
///
/// # Power management
///
/// One function per action of the Zephyr PM action callback
/// (`PM_DEVICE_DT_INST_DEFINE`), each returning the errno to hand back
/// (`Error::to_errno`):
///
/// | action | call | result |
/// |---|---|---|
/// | `PM_DEVICE_ACTION_SUSPEND` | [`Device::suspend`]`(ctx, timeout)` | 0; `-EBUSY` refused, still active; `-EALREADY`; `-ENODEV` removed |
/// | `PM_DEVICE_ACTION_RESUME` | [`Device::resume`]`(ctx)` | 0; `-EALREADY`; `-EBUSY`; `-ENODEV` removed; the source's error (still suspended) |
/// | `TURN_ON`, `TURN_OFF` | none | `-ENOTSUP`: the device has no power of its own to cut |
///
/// System PM skips a device whose suspend answers `-ENOTSUP` or `-EALREADY`
/// but aborts the system suspend on any other error, so the callback may
/// answer `-ENOTSUP` for a removed device (`-ENODEV`) to let the system
/// sleep. The actions take the thread lock (a `k_mutex`, held by other calls
/// only briefly), so they belong in thread context that may block briefly:
/// runtime PM's caller of `pm_device_runtime_get`/`put` or its work queue,
/// rather than system PM's idle thread; `Timeout::NoWait` at least keeps the
/// drain from blocking.
///
/// Suspension is orthogonal to the client session: a device nobody opened
/// suspends, a suspended device can be closed and removed, and nothing but
/// `resume` ends a suspension.
pub struct Device<K: Kernel, H: EventSource, S: NotificationSink> {
    isr: Lock<IsrShared, K::Spin>,
    thread: Lock<Versioned<ThreadShared<S>>, K::Mutex>,
    /// Seed 001, *Shutdown*: closing flag plus in-flight count; the same
    /// drain suspends the device for power management (issue 13).
    gate: Gate<K::Semaphore>,
    /// Seeds 002/003, hot-unplug: the hardware binding can go away.
    hardware: Revocable<H, K::Semaphore>,
    /// Given by the ISR when the ring goes from empty to non-empty, and by
    /// close/remove to wake waiters.
    events: K::Semaphore,
    /// Set by `remove` before it wakes waiters. `hardware.is_revoked()` only
    /// turns true later, inside `revoke`, so a waiter woken in between would
    /// go back to sleep and `remove` would wait for it forever.
    removed: AtomicBool,
    ready: AtomicBool,
}

impl<K: Kernel, H: EventSource, S: NotificationSink> Device<K, H, S> {
    /// A device over `ring`, driving `hardware`, with devicetree's `edge`.
    /// Not usable until [`Device::init`] has run.
    pub fn new(ring: EventRing, hardware: H, edge: Edge) -> Self {
        let settings = Settings::with_edge(edge);
        Device {
            isr: Lock::new(
                IsrShared {
                    ring,
                    seen: 0,
                    ignored: 0,
                    read: 0,
                    dropped: 0,
                    enabled: false,
                    overflow: settings.overflow,
                },
                lock_class!("event_counter::isr"),
            ),
            thread: Lock::new(
                Versioned::new(ThreadShared {
                    settings,
                    sink: None,
                    removing: false,
                    open: false,
                    power: Power::Active,
                }),
                lock_class!("event_counter::thread"),
            ),
            gate: Gate::new(),
            hardware: Revocable::new(hardware),
            events: K::Semaphore::new(),
            removed: AtomicBool::new(false),
            ready: AtomicBool::new(false),
        }
    }

    /// Initialises the kernel objects in place and publishes the device.
    ///
    /// # Safety
    /// - `self` is at its final address and is never moved afterwards;
    /// - called once, before any other method, with no concurrent access.
    pub unsafe fn init(&self) {
        // SAFETY: forwarded from this function's contract.
        unsafe {
            self.isr.init();
            self.thread.init();
            self.gate.init();
            self.hardware.init();
            self.events.init();
        }
        // Ordering: Release publishes the initialised objects to every
        // context that sees `ready == true` with Acquire.
        self.ready.store(true, Ordering::Release);
    }

    /// Whether [`Device::init`] completed.
    pub fn is_ready(&self) -> bool {
        // Ordering: Acquire pairs with the Release in `init`.
        self.ready.load(Ordering::Acquire)
    }

    fn check_ready(&self) -> Result<()> {
        if self.is_ready() {
            Ok(())
        } else {
            Err(Error::Gone)
        }
    }

    // ---- ISR path -------------------------------------------------------

    /// Records one event. Interrupt context: takes only the ISR lock, never
    /// blocks, never logs. Does nothing until [`Device::init`] has completed.
    #[inline]
    pub fn on_event(&self, cycles: u32) {
        if self.is_ready() {
            // SAFETY: `is_ready()` returned true (an Acquire load that pairs
            // with the Release at the end of `init`).
            unsafe { self.on_event_ready(cycles) }
        }
    }

    /// [`Device::on_event`] without its readiness check, for platform glue
    /// whose interrupt entry already checked a ready flag of its own, so
    /// that the ISR path tests readiness once.
    ///
    /// # Safety
    /// [`Device::init`] has returned, and that happens-before this call:
    /// e.g. [`Device::is_ready`] returned true in this context, or the caller
    /// observed, with an Acquire load, a flag that was stored with Release
    /// after `init` returned.
    #[inline]
    pub unsafe fn on_event_ready(&self, cycles: u32) {
        let wake = {
            let mut s = self.isr.lock();
            if !s.enabled {
                s.ignored = s.ignored.wrapping_add(1);
                return;
            }
            let event = Event { sequence: s.seen, cycles };
            s.seen = s.seen.wrapping_add(1);
            let overflow = s.overflow;
            let was_empty = s.ring.is_empty();
            if s.ring.push(event, overflow) {
                s.dropped = s.dropped.wrapping_add(1);
            }
            // Only the empty -> non-empty transition needs a wake-up: a waiter
            // always checks the ring before it sleeps (no lost wake-up).
            was_empty && !s.ring.is_empty()
        };
        if wake {
            self.events.give();
        }
    }

    // ---- thread API -----------------------------------------------------

    /// Opens the device for its one client and enables the source.
    ///
    /// [`Error::Gone`] once a [`Device::remove`] has begun, even before it
    /// revokes the binding: a session that opened then would outlive the
    /// removal's end of sessions (see [`Device::remove_ending`]).
    pub fn open(&self, ctx: &ThreadContext) -> Result<()> {
        self.check_ready()?;
        let hardware = self.hardware.try_access().ok_or(Error::Gone)?;
        let mut guard = self.thread.lock(ctx);
        // Checked and opened under the lock that `remove` sets the flag
        // under: either this session opens first, and the removal ends it,
        // or the removal comes first and no session opens.
        if guard.get().removing {
            return Err(Error::Gone);
        }
        self.gate.open()?;
        guard.update(|t| t.open = true);
        if let Err(e) = self.apply_settings(guard, &hardware) {
            // The device stays closed when its source cannot be set up.
            self.thread.lock(ctx).update(|t| t.open = false);
            self.isr.lock().enabled = false;
            let _ = self.gate.close(Timeout::NoWait, ClosePolicy::Proceed);
            // A wait that got in while the gate was open must leave, or it
            // would sleep on, in flight, and refuse every later open.
            self.events.give();
            return Err(e);
        }
        Ok(())
    }

    /// Closes the device: refuses new operations, wakes waiters, waits up to
    /// `timeout` for operations in flight, then fails or proceeds per `policy`.
    ///
    /// Once the gate has closed, the device is closed even if disabling the
    /// source then fails; that error is returned for the caller to log.
    ///
    /// A suspended device closes (and stays suspended). While a
    /// [`Device::suspend`] drains the device, a close does not wait for the
    /// same calls: it decides at once, as if its timeout had expired.
    pub fn close(&self, ctx: &ThreadContext, timeout: Timeout, policy: ClosePolicy) -> Result<()> {
        self.check_ready()?;
        if self.hardware.is_revoked() {
            return Err(Error::Gone);
        }
        self.gate.pre_close()?;
        // Blocked waiters are operations in flight: wake them so that they
        // see the closing flag and leave.
        self.events.give();
        self.gate.close(timeout, policy)?;
        // Closed: no operation can start, but under `Proceed` a configure may
        // still be applying settings; clearing `open` bumps the generation so
        // that it revalidates. Interrupts from now on count as ignored.
        let mut guard = self.thread.lock(ctx);
        // Seed 001, *releasing the lock at a consistent point*: the gate is
        // closed, so another thread's `open` may already have taken the
        // device. Its `open` flag is then set (or about to be, behind this
        // lock) and must stay set, or this late close would switch off the
        // new client's source.
        if self.gate.state() != racefree::GateState::Open {
            guard.update(|t| t.open = false);
        }
        match self.hardware.try_access() {
            // Disables the source through the revalidating path: if the new
            // client's `open` changes the state meanwhile, the newest state
            // is what the hardware ends up with.
            Some(hardware) => self.apply_settings(guard, &hardware),
            // Removed meanwhile: `remove` disabled the source.
            None => Ok(()),
        }
    }

    /// Moves up to `out.len()` captured events into `out`, oldest first.
    pub fn read(&self, ctx: &ThreadContext, out: &mut [Event]) -> Result<usize> {
        let _ = ctx;
        if out.is_empty() {
            return Err(Error::Invalid);
        }
        let _op = self.begin_data()?;
        let mut copied = 0;
        for chunk in out.chunks_mut(READ_CHUNK) {
            let mut s = self.isr.lock();
            let n = s.ring.pop_into(chunk);
            s.read = s.read.wrapping_add(n);
            copied += n as usize;
            if (n as usize) < chunk.len() {
                break;
            }
        }
        Ok(copied)
    }

    /// Waits until at least one event is pending; returns how many.
    ///
    /// The ISR wakes one waiter per empty-to-non-empty change of the ring:
    /// with several threads waiting on one device, the others sleep on
    /// (while events are pending) until the next such change or their
    /// timeout. One reader per device is the intended use.
    ///
    /// A waiter woken by [`Device::close`] returns [`Error::Closed`], one
    /// woken by [`Device::remove`] [`Error::Gone`], one woken by
    /// [`Device::suspend`] [`Error::WouldBlock`] (`-EAGAIN`, whatever the
    /// timeout: "suspended, try again after resume"), even if events are
    /// pending: it passes the wake-up on, so every other waiter leaves too.
    pub fn wait(&self, ctx: &ThreadContext, timeout: Timeout) -> Result<u32> {
        let _ = ctx;
        let _op = self.begin_data()?;
        // A finite wait keeps its deadline in ticks across wake-ups: the
        // kernel's resolution, so K_TICKS(1) waits one tick, not a millisecond.
        let deadline = match timeout {
            Timeout::Millis(_) | Timeout::Ticks(_) => timeout
                .to_ticks(K::TICKS_PER_SEC)
                .map(|ticks| K::uptime_ticks().saturating_add(ticks)),
            Timeout::NoWait | Timeout::Forever => None,
        };
        loop {
            // Leaving is checked before the ring: a waiter that took the
            // wake-up of close or remove must pass it on, not return `Ok`
            // with it while other waiters sleep on.
            // Ordering: Acquire pairs with the Release in `remove`; the flag
            // is set before the wake-up that a take here consumed.
            if self.removed.load(Ordering::Acquire) {
                self.events.give();
                return Err(Error::Gone);
            }
            if self.gate.state() != racefree::GateState::Open {
                self.events.give();
                return Err(Error::Closed);
            }
            // A suspend refuses new calls, then wakes the waiters so that the
            // gate can drain (`Gate::suspend_waking`).
            if self.gate.is_suspended() {
                self.events.give();
                return Err(Error::WouldBlock);
            }
            let pending = self.isr.lock().ring.len();
            if pending > 0 {
                return Ok(pending);
            }
            let remaining = match deadline {
                Some(deadline) => {
                    let now = K::uptime_ticks();
                    if now >= deadline {
                        return Err(Error::TimedOut);
                    }
                    Timeout::Ticks(deadline - now)
                }
                None => timeout,
            };
            // A give that raced the check above is still counted by the
            // semaphore, so this returns at once; a stale token only costs
            // one more turn of the loop.
            self.events.take(remaining)?;
        }
    }

    /// Applies new settings. Out-of-range values are [`Error::Invalid`] and
    /// change nothing. If the hardware then refuses the settings, its error
    /// is returned and the settings stay recorded as requested (the next
    /// successful `configure` or `open` applies them again).
    pub fn configure(&self, ctx: &ThreadContext, raw: RawSettings) -> Result<()> {
        let settings = Settings::try_from(raw)?;
        let in_flight = self.begin()?;
        let mut guard = self.thread.lock(ctx);
        guard.update(|t| t.settings = settings);
        self.apply_settings(guard, &in_flight.hardware)
    }

    /// The current settings.
    pub fn settings(&self, ctx: &ThreadContext) -> Result<RawSettings> {
        let _op = self.begin_data()?;
        Ok(self.thread.lock(ctx).get().settings.into())
    }

    /// The reconciliation counters; available whether or not the device is
    /// open, and after removal (they are driver memory, not hardware).
    pub fn stats(&self) -> Result<Stats> {
        self.check_ready()?;
        let s = self.isr.lock();
        Ok(Stats {
            seen: s.seen,
            ignored: s.ignored,
            read: s.read,
            dropped: s.dropped,
            pending: s.ring.len(),
        })
    }

    /// Installs or clears the notification sink.
    pub fn set_sink(&self, ctx: &ThreadContext, sink: Option<S>) -> Result<()> {
        let _op = self.begin_data()?;
        self.thread.lock(ctx).update(|t| t.sink = sink);
        Ok(())
    }

    /// Calls the sink with the pending count, with no driver lock held, and
    /// revalidates afterwards (seed 001, *calling an external component*).
    ///
    /// Returns the sink's result, or [`Error::WouldBlock`] (`-EAGAIN`) when
    /// the settings, the sink or the device's open or present state changed
    /// while it ran, so the result may be stale and the caller should notify
    /// again.
    pub fn notify(&self, ctx: &ThreadContext) -> Result<i32> {
        let _in_flight = self.begin()?;
        let mut guard = self.thread.lock(ctx);
        let sink = guard.get().sink.clone().ok_or(Error::Invalid)?;
        let pending = self.isr.lock().ring.len();
        let outcome = guard.unlock_around(|| sink.notify(pending))?;
        if outcome.changed {
            return Err(Error::WouldBlock);
        }
        Ok(outcome.value)
    }

    /// Removes the device at run time (hot-unplug): disables the source
    /// first, wakes waiters, then waits up to `timeout` for calls in flight
    /// and releases the hardware binding. A suspended device can be removed;
    /// it keeps its power state (see [`Device::restore`]).
    pub fn remove(&self, ctx: &ThreadContext, timeout: Timeout) -> Result<()> {
        self.remove_ending(ctx, timeout, || {})
    }

    /// [`Device::remove`], calling `end_session` once, as soon as the
    /// removal is decided (after that, `open` answers [`Error::Gone`]) and
    /// before the binding is revoked, for a caller that keeps per-session
    /// state of its own (the driver-level registry, a PM usage reference)
    /// and must end it for the session this removal ends.
    ///
    /// Seed 002, reference tracking, across a hot-unplug: `end_session`
    /// runs while this incarnation of the device still exists. A
    /// [`Device::restore`] cannot complete until the revocation has, so it
    /// cannot bring in a new incarnation, whose client might already have
    /// opened, before `end_session` has ended the old session: the caller's
    /// state can be keyed by device alone. Not called if the removal is
    /// refused ([`Error::Gone`]: removed already, or not ready).
    pub fn remove_ending(
        &self,
        ctx: &ThreadContext,
        timeout: Timeout,
        end_session: impl FnOnce(),
    ) -> Result<()> {
        self.check_ready()?;
        {
            let hardware = self.hardware.try_access().ok_or(Error::Gone)?;
            let mut guard = self.thread.lock(ctx);
            if guard.get().removing {
                return Err(Error::Gone);
            }
            guard.update(|t| t.removing = true);
            let edge = guard.get().settings.edge;
            drop(guard);
            self.isr.lock().enabled = false;
            // Best effort: the binding's own drop disables it too.
            let _ = hardware.set(false, edge);
        }
        end_session();
        // Ordering: Release, then the give: a waiter that takes this wake-up
        // (or checks after it) sees the flag (Acquire in `wait`).
        self.removed.store(true, Ordering::Release);
        self.events.give();
        match self.hardware.revoke(timeout)? {
            true => Ok(()),
            false => Err(Error::Gone),
        }
    }

    /// Re-adds a removed device (hot-plug) with a new hardware binding,
    /// made by `bind` (which may fail, e.g. with [`Error::Gone`] when the
    /// hardware is not back).
    ///
    /// The session of the client from before the removal ends here: the
    /// device comes back closed, and a client must [`Device::open`] it again.
    /// Settings, counters and events still pending are kept (they are driver
    /// memory), so reconciliation holds across the removal.
    ///
    /// The power state is kept too: the device comes back active, or
    /// suspended if it was removed while suspended (then it needs
    /// [`Device::resume`] before `open`). While removed, both PM actions
    /// answer [`Error::Gone`] and change nothing, and Zephyr's PM core
    /// changes its record only when an action succeeds, so the two records
    /// still agree when the device comes back.
    ///
    /// * [`Error::Already`] (`-EALREADY`): the device is present (`bind` is
    ///   not called, so no second binding to live hardware ever exists);
    /// * [`Error::Busy`] (`-EBUSY`): a `remove` is still in progress, or
    ///   calls from before it are still in flight (those that use the
    ///   hardware binding, after a `remove` that timed out, and those that
    ///   only use driver memory and have not left yet); try again.
    ///
    /// On error the device stays removed and the new binding is dropped.
    pub fn restore(&self, ctx: &ThreadContext, bind: impl FnOnce() -> Result<H>) -> Result<()> {
        self.check_ready()?;
        // Held throughout, `bind` included: a concurrent `restore` waits and
        // then finds the device present. This is no external call under a
        // lock in seed 001's sense: while the device is removed, no other
        // path takes this lock (they all stop at the revoked binding first),
        // so nothing can wait on it but another `restore`.
        let mut guard = self.thread.lock(ctx);
        if !guard.get().removing {
            return Err(Error::Already);
        }
        // End the old session before the hardware is back, so that the old
        // client's handle cannot start operations again. Fails harmlessly if
        // the gate is already closed (or a late close is closing it).
        let _ = self.gate.close(Timeout::NoWait, ClosePolicy::Proceed);
        // Calls of the old session that use only driver memory (`read`,
        // `wait`, ...) hold no reference to the binding, so
        // `hardware.restore` below cannot see them; the gate counts them.
        // Until they have left, a new `open` would be refused (seed 001: a
        // reopen waits for abandoned operations), so the device is not
        // handed back yet. The gate is closed now: the count only falls.
        if self.gate.in_flight() != 0 {
            return Err(Error::Busy);
        }
        let hardware = bind()?;
        // Cleared before the hardware is published: an operation that begins
        // once it is must not see a stale "removed" and leave with `Gone`.
        // Ordering: Release, paired with the Acquire in `wait`.
        self.removed.store(false, Ordering::Release);
        if let Err((e, _hardware)) = self.hardware.restore(hardware) {
            // Ordering: as above. Only callers from before the removal can
            // be in flight (they hold the old binding), and they must leave.
            self.removed.store(true, Ordering::Release);
            self.events.give();
            return Err(match e {
                // Revoked and not yet emptied: the remove has not finished.
                Error::Already => Error::Busy,
                other => other,
            });
        }
        guard.update(|t| {
            t.removing = false;
            t.open = false;
        });
        Ok(())
    }

    /// Holds this incarnation of the device present: until the returned
    /// guard drops, a [`Device::remove`] waits for it (up to its timeout)
    /// and a [`Device::restore`] answers [`Error::Busy`]. [`Error::Gone`]
    /// if the device is removed (or a removal has begun revoking it).
    ///
    /// Seed 002, reference tracking: a lifecycle call that spans state
    /// outside the device (the driver-level registry, a PM usage reference)
    /// holds one across all of it, so that the outside state and the
    /// device's session change within one incarnation. Without it an `open`
    /// could attach before a removal and open the gate after the restore
    /// that followed, into a session nobody accounts for.
    #[inline(never)]
    pub fn presence(&self) -> Result<Presence<'_, K, H>> {
        self.check_ready()?;
        let binding = self.hardware.try_access().ok_or(Error::Gone)?;
        Ok(Presence { binding: ManuallyDrop::new(binding) })
    }

    // ---- power management (issue 13) --------------------------------------

    /// PM action `PM_DEVICE_ACTION_SUSPEND`: switches the interrupt source
    /// off, then refuses new calls and waits up to `timeout` for those in
    /// flight. Seed 001, *Shutdown*, applied to power: a suspend is a close
    /// that keeps the session, drained by the same [`racefree::Gate`].
    ///
    /// The source goes off first, so that nothing new arrives while the
    /// calls drain; an interrupt already on its way is counted as ignored
    /// (as while disabled), never lost. Waiters blocked in [`Device::wait`]
    /// are woken and leave.
    ///
    /// * `Ok(())`: suspended. Until [`Device::resume`], every call that
    ///   needs the session (`read`, `wait`, `configure`, `settings`,
    ///   `set_sink`, `notify`) returns [`Error::WouldBlock`] (`-EAGAIN`,
    ///   "try again after resume"; why that errno: [`racefree::Gate::begin`]),
    ///   and so does `open` of a closed device; `close`, `stats` and
    ///   `remove` work as always. A device with no client suspends too
    ///   (Zephyr suspends devices nobody opened).
    /// * [`Error::Busy`] (`-EBUSY`): calls in flight did not finish within
    ///   `timeout`, or a `close` is draining the device: refused, and the
    ///   device is active exactly as before, its source re-armed (Zephyr's
    ///   contract for a refused PM action); or another suspend or a resume
    ///   is under way (nothing changed).
    /// * [`Error::Already`] (`-EALREADY`): already suspended.
    /// * [`Error::Gone`] (`-ENODEV`): removed or not ready; the power state
    ///   stays as it was (see [`Device::restore`]).
    /// * the source's error if it refused to switch off (the device stays
    ///   active), or to re-arm after a refused suspend.
    ///
    /// `timeout` bounds only the drain; the thread lock is taken briefly,
    /// never across it. A caller that must not block passes
    /// [`Timeout::NoWait`]: the suspend then succeeds only if nothing is in
    /// flight.
    pub fn suspend(&self, ctx: &ThreadContext, timeout: Timeout) -> Result<()> {
        self.check_ready()?;
        // The binding is held only while the source is switched (seeds
        // 002/003: reference what you use, for as long as you use it), not
        // across the drain, which a removal would otherwise wait for.
        {
            let hardware = self.hardware.try_access().ok_or(Error::Gone)?;
            let mut guard = self.thread.lock(ctx);
            Self::start_power_change(guard.get(), Power::Active)?;
            // Through the revalidating path: a `configure` or `open` in its
            // callout meanwhile re-applies, and finds the source must be off.
            guard.update(|t| t.power = Power::Suspending);
            if let Err(e) = self.apply_settings(guard, &hardware) {
                // The source may still be on: stay active.
                let _ = self.settle_power(ctx, Power::Active);
                return Err(e);
            }
        }
        // Blocked waiters are calls in flight: the gate wakes them once it
        // refuses new calls, so that they see the suspension and leave.
        match self.gate.suspend_waking(timeout, || self.events.give()) {
            Ok(()) => {
                self.thread.lock(ctx).update(|t| t.power = Power::Suspended);
                Ok(())
            }
            Err(refused) => self.settle_power(ctx, Power::Active).and(Err(refused)),
        }
    }

    /// PM action `PM_DEVICE_ACTION_RESUME`: re-arms the source exactly as
    /// it was before [`Device::suspend`] (enabled only if the settings
    /// enable it and a client has the device open, with the same edge; a
    /// `close` while suspended leaves it off), then admits calls again.
    ///
    /// * [`Error::Already`] (`-EALREADY`): not suspended;
    /// * [`Error::Busy`] (`-EBUSY`): a suspend is still draining;
    /// * [`Error::Gone`] (`-ENODEV`): removed (a removed device cannot be
    ///   resumed; [`Device::restore`] brings it back) or not ready;
    /// * the source's error if it refused to re-arm: the device stays
    ///   suspended (source off, calls refused), as Zephyr's PM core, which
    ///   keeps its record on a failed action, expects.
    pub fn resume(&self, ctx: &ThreadContext) -> Result<()> {
        self.check_ready()?;
        let hardware = self.hardware.try_access().ok_or(Error::Gone)?;
        let mut guard = self.thread.lock(ctx);
        Self::start_power_change(guard.get(), Power::Suspended)?;
        guard.update(|t| t.power = Power::Resuming);
        if let Err(e) = self.apply_settings(guard, &hardware) {
            let _ = self.settle_power(ctx, Power::Suspended);
            return Err(e);
        }
        let mut guard = self.thread.lock(ctx);
        guard.update(|t| t.power = Power::Active);
        // Last, and under the lock, so that no PM action sees `Active`
        // while the gate still refuses. The gate's Release publishes the
        // re-armed state to every call it admits from now on.
        self.gate.resume()
    }

    /// Whether calls are refused for power management: from the moment a
    /// [`Device::suspend`] refuses new calls until its failure or the end of
    /// [`Device::resume`] (the gate's flag; lock-free, ISR-safe).
    pub fn is_suspended(&self) -> bool {
        self.gate.is_suspended()
    }

    /// Whether a PM action from `from` may start now; `Err` as documented
    /// on [`Device::suspend`] and [`Device::resume`].
    fn start_power_change(t: &ThreadShared<S>, from: Power) -> Result<()> {
        if t.removing {
            return Err(Error::Gone);
        }
        match t.power {
            p if p == from => Ok(()),
            Power::Suspending | Power::Resuming => Err(Error::Busy),
            _ => Err(Error::Already),
        }
    }

    /// Ends a PM action that cannot complete in `to` (`Active`: source
    /// re-armed; `Suspended`: source off), through the revalidating path.
    fn settle_power(&self, ctx: &ThreadContext, to: Power) -> Result<()> {
        let mut guard = self.thread.lock(ctx);
        guard.update(|t| t.power = to);
        match self.hardware.try_access() {
            Some(hardware) => self.apply_settings(guard, &hardware),
            // Removed meanwhile: `remove` switched the source off.
            None => Err(Error::Gone),
        }
    }

    /// Starts an operation that uses the hardware binding (or, for
    /// `notify`, calls out while the device must stay present): ready, open,
    /// and the hardware still present. Both returned guards must live until
    /// the operation ends.
    fn begin(&self) -> Result<InFlight<'_, K, H>> {
        self.check_ready()?;
        let hardware = self.hardware.try_access().ok_or(Error::Gone)?;
        let op = self.gate.begin()?;
        Ok(InFlight { _op: op, hardware })
    }

    /// Starts an operation on driver memory only (ring, counters, settings,
    /// sink): the gate admits it and a removed device refuses it, but it
    /// takes no reference to the hardware binding, which it never touches
    /// (seeds 002/003: hold a reference to what you use, for as long as you
    /// use it). One atomic read-modify-write to enter and one to leave, as
    /// the C driver's `begin`/`end`, instead of two each.
    ///
    /// Readiness is checked only when the gate refuses: until `init`
    /// publishes the device, its gate is unopened (a plain word, valid from
    /// `Device::new` on) and refuses everything.
    #[inline]
    fn begin_data(&self) -> Result<racefree::Operation<'_, K::Semaphore>> {
        let admitted = self.gate.begin();
        if admitted.is_err() {
            self.check_ready()?;
        }
        // Ordering: Relaxed: `remove` stores the flag before it returns, so a
        // call that starts after `remove` returned (happens-after it) reads it
        // by coherence. A call racing the removal may still run: it only
        // touches driver memory, which outlives the removal, and while it is
        // in flight `restore` answers `Busy`, so no new session starts under
        // it. An admitted operation refused here ends as `admitted` drops.
        if self.removed.load(Ordering::Relaxed) {
            return Err(Error::Gone);
        }
        admitted
    }

    /// Pushes the settings to the ISR state and to the hardware. The call
    /// into the hardware runs with the thread lock released; if anything
    /// changed meanwhile, the newest settings are applied again, so the last
    /// writer always wins (seed 001: revalidate after the callout).
    fn apply_settings(
        &self,
        mut guard: Guard<'_, Versioned<ThreadShared<S>>, K::Mutex>,
        hardware: &H,
    ) -> Result<()> {
        loop {
            let t = guard.get();
            let enabled = t.settings.enabled && t.open && !t.removing && t.power.arms_source();
            let (edge, overflow) = (t.settings.edge, t.settings.overflow);
            {
                let mut s = self.isr.lock();
                s.enabled = enabled;
                s.overflow = overflow;
            }
            let outcome = guard.unlock_around(|| hardware.set(enabled, edge))?;
            if !outcome.changed {
                return outcome.value;
            }
        }
    }
}
