//! Seed 001, *Shutdown* and *Startup*: a lifecycle gate for a device, which also suspends it for
//! power management.
//!
//! The seed's two-way scheme, lock-free: a closing flag rejects new operations
//! ([`pre_close`](Gate::pre_close), like `PreClose`), an in-flight count tracks running ones,
//! and [`close`](Gate::close) waits for the count to drain, or refuses ([`ClosePolicy::FailIfBusy`]),
//! or gives up waiting and closes anyway ([`ClosePolicy::Proceed`]). *Startup*: nothing gets
//! in before [`open`](Gate::open) publishes the device as ready.
//!
//! Power management is the same problem, so the same mechanism: a [`suspend`](Gate::suspend)
//! is a close that keeps the session. It refuses new operations, waits (bounded) for the
//! running ones, and either leaves the gate suspended or, if they did not drain in time,
//! refuses the suspend and leaves the gate exactly as it was (Zephyr's contract for a refused
//! PM action). [`resume`](Gate::resume) ends the suspension. Suspension is a flag orthogonal
//! to the lifecycle state: a device with no client (unopened or closed) can be suspended, and
//! a suspended device can be closed; only `resume` (or a suspend that failed) clears it.
//!
//! State, waiter flags and count live in one `AtomicU32`, so every transition is a single
//! compare-exchange and the check "closing or suspended?" and the increment "one more in
//! flight" cannot be separated by a close or a suspend (the race the seed warns about).
//!
//! | bits | meaning |
//! |---|---|
//! | 0–1 | lifecycle state: unopened, open, closing, closed |
//! | 2 | `CLOSER`: a `close` waits for the count to drain |
//! | 3 | `SUSPENDED`: operations and `open` are refused for power management |
//! | 4 | `SUSPENDER`: a `suspend` waits for the count to drain (`SUSPENDED` is set too) |
//! | 5–31 | operations in flight |
//!
//! At most one of `CLOSER` and `SUSPENDER` is set: the semaphore wakes one waiter, so a close
//! and a suspend never wait at the same time (the second one decides at once, see
//! [`close`](Gate::close) and [`suspend`](Gate::suspend)).

use core::marker::PhantomData;

use crate::sync::{AtomicU32, Ordering};
use crate::{Error, Result, Semaphore, Timeout};

const STATE_MASK: u32 = 0b11;
const UNOPENED: u32 = 0;
const OPEN: u32 = 1;
const CLOSING: u32 = 2;
const CLOSED: u32 = 3;
/// Set while a `close` call waits for the count to drain; only then does the last op `give`.
const CLOSER: u32 = 1 << 2;
/// Operations and `open` are refused for power management: set when a `suspend` starts, kept
/// when it drained, cleared by `resume` or by a suspend that did not drain.
const SUSPENDED: u32 = 1 << 3;
/// Set while a `suspend` call waits for the count to drain; only then does the last op `give`.
const SUSPENDER: u32 = 1 << 4;
/// A `close` or a `suspend` waits on the semaphore for the count to drain (at most one).
const WAITER: u32 = CLOSER | SUSPENDER;
const ONE_OP: u32 = 1 << 5;
const MAX_IN_FLIGHT: u32 = u32::MAX / ONE_OP;

/// Every bit below the count; checked below to be 5 distinct bits that never overlap it.
const FLAGS: u32 = STATE_MASK | CLOSER | SUSPENDED | SUSPENDER;
const _: () = assert!(FLAGS < ONE_OP && FLAGS.count_ones() == 5);

/// What [`Gate::begin`] and [`Gate::open`] answer while the gate is suspended:
/// [`Error::WouldBlock`], `-EAGAIN`, "try again after resume".
///
/// Zephyr documents no errno for a call on a suspended device, and its drivers differ (some
/// sensor drivers answer `-EBUSY`, others `-EIO`). `-EIO` would report a hardware fault.
/// `-EBUSY` is already this gate's answer for a refused close and a refused suspend (and
/// `pm_device_action_run`'s for "the device is changing its state"), so a caller could not tell
/// "refused because the device sleeps" from "your close or suspend was refused". `-EAGAIN` is
/// POSIX's "resource temporarily unavailable": retrying later is right, and distinct from
/// every other refusal of `begin` (`Closed`, and `Busy` for a full count).
const REFUSED_WHILE_SUSPENDED: Error = Error::WouldBlock;

const fn count(word: u32) -> u32 {
    word / ONE_OP
}

/// The word with one more operation in flight, if `word` admits one (see [`Gate::begin`]).
const fn admit(word: u32) -> Result<u32> {
    match word & STATE_MASK {
        OPEN if word & SUSPENDED != 0 => Err(REFUSED_WHILE_SUSPENDED),
        OPEN if count(word) < MAX_IN_FLIGHT => Ok(word + ONE_OP),
        OPEN => Err(Error::Busy),
        _ => Err(Error::Closed),
    }
}

/// A close's verdict on `word` (closing, its own `CLOSER` bit if any still set) once it stops
/// waiting: the new word and the outcome. Flags other than `CLOSER` (a suspension) are kept.
fn close_verdict(word: u32, policy: ClosePolicy) -> (u32, Result<CloseOutcome>) {
    let keep = word & !(STATE_MASK | CLOSER);
    match (count(word), policy) {
        (0, _) => (keep | CLOSED, Ok(CloseOutcome::Drained)),
        (_, ClosePolicy::FailIfBusy) => (keep | OPEN, Err(Error::Busy)),
        (n, ClosePolicy::Proceed) => (keep | CLOSED, Ok(CloseOutcome::Abandoned { in_flight: n })),
    }
}

/// Lifecycle state of a [`Gate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateState {
    /// Never opened: operations are refused (seed 001, *Startup*).
    Unopened,
    /// Operations are admitted.
    Open,
    /// New operations are refused; running ones finish (after `PreClose`).
    Closing,
    /// Closed; may be reopened once nothing is in flight.
    Closed,
}

/// What [`Gate::close`] does when operations are still in flight at the timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClosePolicy {
    /// Reject the close: the gate goes back to `Open` and the device stays usable.
    FailIfBusy,
    /// Close anyway; the stragglers finish on their own. Reopening waits for them.
    Proceed,
}

/// Successful outcome of [`Gate::close`].
#[derive(Debug, PartialEq, Eq)]
pub enum CloseOutcome {
    /// Every operation finished.
    Drained,
    /// Closed with `in_flight` operations still running ([`ClosePolicy::Proceed`]).
    Abandoned {
        /// Operations still running when the gate closed.
        in_flight: u32,
    },
}

/// A device lifecycle gate: admits operations while open, drains them on close and on suspend.
///
/// Seed 001, *Shutdown* (closing flag + in-flight count, wait or refuse) and *Startup*; the
/// same drain serves power management ([`suspend`](Gate::suspend) / [`resume`](Gate::resume)).
///
/// # Examples
///
/// ```
/// use racefree::{ClosePolicy, CloseOutcome, Error, Gate, GateState, StdSemaphore, Timeout};
///
/// let gate: Gate<StdSemaphore> = Gate::new();
/// // SAFETY: `gate` is not moved after this and not used yet.
/// unsafe { gate.init() };
/// assert_eq!(gate.begin().err(), Some(Error::Closed)); // not ready yet
/// gate.open().unwrap();
/// {
///     let _op = gate.begin().unwrap();
///     assert_eq!(gate.in_flight(), 1);
///     // Refused while busy; the device stays usable.
///     assert_eq!(gate.close(Timeout::NoWait, ClosePolicy::FailIfBusy), Err(Error::Busy));
///     assert_eq!(gate.suspend(Timeout::NoWait), Err(Error::Busy));
///     assert_eq!(gate.state(), GateState::Open);
///     assert!(!gate.is_suspended());
/// }
/// // Suspended: operations are refused with -EAGAIN until resume.
/// assert_eq!(gate.suspend(Timeout::Forever), Ok(()));
/// assert_eq!(gate.begin().err(), Some(Error::WouldBlock));
/// assert_eq!(gate.resume(), Ok(()));
/// drop(gate.begin().unwrap());
/// assert_eq!(gate.close(Timeout::Forever, ClosePolicy::FailIfBusy), Ok(CloseOutcome::Drained));
/// assert_eq!(gate.begin().err(), Some(Error::Closed));
/// ```
#[derive(Debug)]
pub struct Gate<S: Semaphore> {
    word: AtomicU32,
    wake: S,
}

impl<S: Semaphore> Default for Gate<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Semaphore> Gate<S> {
    /// An unopened gate.
    pub fn new() -> Self {
        Self {
            word: AtomicU32::new(UNOPENED),
            wake: S::new(),
        }
    }

    /// Initialises the semaphore in place.
    ///
    /// # Safety
    ///
    /// Same contract as [`Lock::init`](crate::Lock::init): final address, once, before use.
    pub unsafe fn init(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.wake.init() }
    }

    /// Applies `f` to the word by compare-exchange until it succeeds or `f` refuses.
    fn transition<T>(
        &self,
        mut f: impl FnMut(u32) -> core::result::Result<(u32, T), Error>,
    ) -> Result<T> {
        // Ordering: Acquire so a transition sees what the previous ones published.
        let mut cur = self.word.load(Ordering::Acquire);
        loop {
            let (new, out) = f(cur)?;
            // Ordering: AcqRel: Release publishes this thread's prior writes (device ready on
            // open, operation done on close, source switched off before a suspend), Acquire
            // sees those of the previous writers (on a drained close or suspend, the work of
            // every operation).
            match self
                .word
                .compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Ok(out),
                Err(actual) => cur = actual,
            }
        }
    }

    /// `Unopened | Closed → Open`. `Err(Busy)` if already open or closing, or if operations
    /// abandoned by a [`ClosePolicy::Proceed`] close are still in flight; `Err(WouldBlock)`
    /// (`-EAGAIN`) if the gate is suspended (a device is not handed to a client while it
    /// sleeps: resume first).
    ///
    /// Call it only once the device is completely ready (seed 001, *Startup*).
    pub fn open(&self) -> Result<()> {
        self.transition(|w| match w & STATE_MASK {
            UNOPENED | CLOSED if w & SUSPENDED != 0 => Err(REFUSED_WHILE_SUSPENDED),
            UNOPENED | CLOSED if count(w) == 0 => Ok((OPEN, ())),
            _ => Err(Error::Busy),
        })
    }

    /// Admits one operation: `Open → Ok` (in flight + 1). Refused with `Err(Closed)` unless
    /// open, and with `Err(WouldBlock)` (`-EAGAIN`: "suspended, try again after resume") while
    /// open but suspended.
    ///
    /// `Err(Busy)` only if the in-flight count would overflow (2²⁷ − 1 operations).
    ///
    /// The hot path of every call on a device: one compare-exchange attempt inline, and the
    /// retry loop out of line (it runs only when another context changed the word between the
    /// load and the exchange), so that each caller carries one short sequence, not an unrolled
    /// loop. An operation only needs to see what `open` published (Acquire on success) and
    /// publishes nothing by starting, so neither the load nor the exchange needs a barrier
    /// before it.
    #[inline]
    pub fn begin(&self) -> Result<Operation<'_, S>> {
        // Ordering: Relaxed first read; the compare-exchange decides.
        let cur = self.word.load(Ordering::Relaxed);
        if let Ok(next) = admit(cur) {
            // Ordering: as in `begin_contended`.
            if self
                .word
                .compare_exchange_weak(cur, next, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return Ok(self.operation());
            }
        }
        self.begin_contended()
    }

    /// [`Gate::begin`]'s retry loop, and its refusals.
    #[cold]
    #[inline(never)]
    fn begin_contended(&self) -> Result<Operation<'_, S>> {
        // Ordering: Relaxed first read; the compare-exchange below decides.
        let mut cur = self.word.load(Ordering::Relaxed);
        loop {
            let next = admit(cur)?;
            // Ordering: Acquire on success pairs with the Release of `open`'s (and `resume`'s)
            // transition: the device state it published is visible to the operation.
            match self
                .word
                .compare_exchange_weak(cur, next, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return Ok(self.operation()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// The guard of an operation just counted in.
    fn operation(&self) -> Operation<'_, S> {
        Operation {
            gate: self,
            _not_send: PhantomData,
        }
    }

    /// Refuses new operations from now on (`PreClose`): `Open → Closing`.
    ///
    /// `Err(Already)` if closing, `Err(Closed)` if unopened or closed.
    pub fn pre_close(&self) -> Result<()> {
        self.transition(|w| match w & STATE_MASK {
            OPEN => Ok(((w & !STATE_MASK) | CLOSING, ())),
            CLOSING => Err(Error::Already),
            _ => Err(Error::Closed),
        })
    }

    /// Closes: pre-closes if still open, then waits up to `timeout` for in-flight operations
    /// (`NoWait` checks once).
    ///
    /// * drained → `Closed`, `Ok(Drained)`;
    /// * timed out, [`FailIfBusy`](ClosePolicy::FailIfBusy) → back to `Open`, `Err(Busy)`
    ///   (the device stays usable);
    /// * timed out, [`Proceed`](ClosePolicy::Proceed) → `Closed`,
    ///   `Ok(Abandoned { in_flight })`;
    /// * unopened or closed → `Err(Closed)`;
    /// * another `close` is already waiting → `Err(Already)`.
    ///
    /// A suspension is kept: a suspended gate closes (nothing is in flight, so at once) and
    /// stays suspended, and the next `open` waits for `resume`. While a
    /// [`suspend`](Gate::suspend) waits for the same drain, this close does not wait (the
    /// semaphore wakes one waiter): it decides at once, as if its timeout had expired.
    pub fn close(&self, timeout: Timeout, policy: ClosePolicy) -> Result<CloseOutcome> {
        let decided = self.transition(|w| match w & STATE_MASK {
            _ if w & CLOSER != 0 => Err(Error::Already),
            OPEN | CLOSING if w & SUSPENDER != 0 => {
                let (new, outcome) = close_verdict((w & !STATE_MASK) | CLOSING, policy);
                Ok((new, Some(outcome)))
            }
            OPEN | CLOSING => Ok(((w & !STATE_MASK) | CLOSING | CLOSER, None)),
            _ => Err(Error::Closed),
        })?;
        if let Some(outcome) = decided {
            return outcome;
        }
        self.wait_for_drain(timeout);
        self.transition(|w| {
            debug_assert_eq!(w & (STATE_MASK | CLOSER), CLOSING | CLOSER);
            Ok(close_verdict(w, policy))
        })?
    }

    /// Suspends (a power-management action): refuses new operations from now on, then waits up
    /// to `timeout` for those in flight (`NoWait` checks once). Seed 001, *Shutdown*, applied to
    /// power: the same closing flag and in-flight count, but the session survives.
    ///
    /// * drained → suspended, `Ok(())`: [`begin`](Gate::begin) and [`open`](Gate::open) answer
    ///   `Err(WouldBlock)` (`-EAGAIN`) until [`resume`](Gate::resume); `close` still works;
    /// * not drained in time → `Err(Busy)`, and the gate is exactly as before the call
    ///   (open and admitting, if it was): Zephyr's contract for a refused PM action;
    /// * already suspended → `Err(Already)` (`-EALREADY`, as `pm_device_action_run`);
    /// * a `close` or another `suspend` is waiting for the drain → `Err(Busy)` at once,
    ///   nothing changed (`-EBUSY`: "the device is changing its state").
    ///
    /// Works in every lifecycle state, since a device with no client is suspended too (then
    /// only operations abandoned by a [`ClosePolicy::Proceed`] close can be in flight).
    pub fn suspend(&self, timeout: Timeout) -> Result<()> {
        self.suspend_waking(timeout, || {})
    }

    /// [`Gate::suspend`], calling `wake_sleepers` once new operations are refused and before
    /// waiting: operations in flight that sleep on something of the caller's (a driver's
    /// event semaphore) must be woken to see the refusal and leave, or the drain would wait
    /// for them until the timeout. `wake_sleepers` is not called if the suspend is refused
    /// at once (`Already`, or `Busy` with another waiter).
    pub fn suspend_waking(&self, timeout: Timeout, wake_sleepers: impl FnOnce()) -> Result<()> {
        self.transition(|w| match w & (SUSPENDED | WAITER) {
            SUSPENDED => Err(Error::Already),
            0 => Ok((w | SUSPENDED | SUSPENDER, ())),
            _ => Err(Error::Busy),
        })?;
        wake_sleepers();
        self.wait_for_drain(timeout);
        self.transition(|w| {
            debug_assert_eq!(w & (SUSPENDED | SUSPENDER), SUSPENDED | SUSPENDER);
            let w = w & !SUSPENDER;
            Ok(if count(w) == 0 {
                (w, Ok(()))
            } else {
                (w & !SUSPENDED, Err(Error::Busy))
            })
        })?
    }

    /// Ends a suspension: operations are admitted again (if the gate is open) and `open` works
    /// again. `Err(Already)` if not suspended, `Err(Busy)` while a [`suspend`](Gate::suspend)
    /// still waits for the drain (it decides the suspension's fate).
    ///
    /// Its Release (in the transition) publishes what the caller did before (source re-armed)
    /// to every operation admitted afterwards.
    pub fn resume(&self) -> Result<()> {
        self.transition(|w| match w & (SUSPENDED | SUSPENDER) {
            SUSPENDED => Ok((w & !SUSPENDED, ())),
            0 => Err(Error::Already),
            _ => Err(Error::Busy),
        })
    }

    /// Waits up to `timeout` for the in-flight count to reach zero. Only the one waiter calls
    /// it: the `close` or `suspend` whose transition set `CLOSER` or `SUSPENDER`.
    fn wait_for_drain(&self, timeout: Timeout) {
        // Only the waiter (unique through the WAITER bits) resets. A token given before this
        // reset is lost, but its giver had already brought the count to 0, which the load
        // below then sees.
        self.wake.reset();
        loop {
            // Ordering: Acquire pairs with the Release decrement in `end`, so a drained gate
            // happens-after every operation's work.
            if count(self.word.load(Ordering::Acquire)) == 0 {
                break;
            }
            if self.wake.take(timeout).is_err() {
                break;
            }
        }
    }

    /// The current lifecycle state (a suspension does not change it: see
    /// [`is_suspended`](Gate::is_suspended)).
    pub fn state(&self) -> GateState {
        // Ordering: Acquire so a caller acting on the state sees what the transition published.
        match self.word.load(Ordering::Acquire) & STATE_MASK {
            UNOPENED => GateState::Unopened,
            OPEN => GateState::Open,
            CLOSING => GateState::Closing,
            _ => GateState::Closed,
        }
    }

    /// True while operations are refused for power management: from the start of a
    /// [`suspend`](Gate::suspend) (while it drains, too) until [`resume`](Gate::resume), or
    /// until that suspend fails.
    pub fn is_suspended(&self) -> bool {
        // Ordering: Acquire, as for `state`.
        self.word.load(Ordering::Acquire) & SUSPENDED != 0
    }

    /// Operations currently in flight.
    pub fn in_flight(&self) -> u32 {
        // Ordering: Acquire, as for `state`.
        count(self.word.load(Ordering::Acquire))
    }

    #[inline]
    fn end(&self) {
        // Ordering: Release publishes the operation's work to the waiter's Acquire load. No
        // Acquire: the operation takes over nothing (it drops no shared value), and the waiter
        // it may wake synchronises through its own Acquire load of the word.
        let prev = self.word.fetch_sub(ONE_OP, Ordering::Release);
        debug_assert!(count(prev) > 0);
        // The common case, nobody waiting, is one test of the waiter bits; whether this was
        // the last operation is asked out of line (the read path's cost, BENCHMARKS.md
        // figure 3, is the same as before suspend added a second waiter bit).
        if prev & WAITER != 0 {
            self.wake_waiter_if_last(prev);
        }
    }

    /// The last operation wakes the waiting closer or suspender: rare, so out of line.
    #[cold]
    #[inline(never)]
    fn wake_waiter_if_last(&self, prev: u32) {
        if count(prev) == 1 {
            self.wake.give();
        }
    }
}

/// One admitted operation; dropping it ends the operation and wakes a waiting closer when it
/// is the last one. `!Send`: it ends in the context that began it.
#[must_use = "the operation ends as soon as this is dropped"]
#[derive(Debug)]
pub struct Operation<'a, S: Semaphore> {
    gate: &'a Gate<S>,
    _not_send: PhantomData<*mut ()>,
}

impl<S: Semaphore> Drop for Operation<'_, S> {
    #[inline]
    fn drop(&mut self) {
        self.gate.end();
    }
}

#[cfg(all(test, feature = "std", not(loom)))]
mod tests {
    use super::*;
    use crate::StdSemaphore;
    use std::sync::Arc;
    use std::time::Duration;

    /// Returns once another thread's close or suspend has set `flag` (it waits for the drain).
    /// Bounded by rounds and by time, so a thread that never gets there fails the test
    /// instead of hanging it.
    fn until_flag_set(g: &Gate<StdSemaphore>, flag: u32) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        for _ in 0..100_000_000u64 {
            if g.word.load(Ordering::Acquire) & flag != 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "flag {flag:#b} never set"
            );
            std::thread::yield_now();
        }
        panic!("flag {flag:#b} never set");
    }

    fn open_gate() -> Gate<StdSemaphore> {
        let g = Gate::new();
        g.open().unwrap();
        g
    }

    #[test]
    fn transitions() {
        let g: Gate<StdSemaphore> = Gate::new();
        assert_eq!(g.state(), GateState::Unopened);
        assert_eq!(g.pre_close(), Err(Error::Closed));
        assert_eq!(
            g.close(Timeout::NoWait, ClosePolicy::Proceed),
            Err(Error::Closed)
        );
        g.open().unwrap();
        assert_eq!(g.open(), Err(Error::Busy));
        g.pre_close().unwrap();
        assert_eq!(g.pre_close(), Err(Error::Already));
        assert_eq!(g.open(), Err(Error::Busy));
        assert_eq!(g.begin().err(), Some(Error::Closed));
        assert_eq!(
            g.close(Timeout::NoWait, ClosePolicy::FailIfBusy),
            Ok(CloseOutcome::Drained)
        );
        assert_eq!(g.state(), GateState::Closed);
        assert_eq!(
            g.close(Timeout::NoWait, ClosePolicy::FailIfBusy),
            Err(Error::Closed)
        );
        g.open().unwrap();
        drop(g.begin().unwrap());
        assert_eq!(g.in_flight(), 0);
    }

    #[test]
    fn fail_if_busy_reopens() {
        let g = open_gate();
        let op = g.begin().unwrap();
        assert_eq!(
            g.close(Timeout::Millis(2), ClosePolicy::FailIfBusy),
            Err(Error::Busy)
        );
        assert_eq!(g.state(), GateState::Open);
        let op2 = g.begin().unwrap();
        assert_eq!(g.in_flight(), 2);
        drop((op, op2));
        assert_eq!(
            g.close(Timeout::NoWait, ClosePolicy::FailIfBusy),
            Ok(CloseOutcome::Drained)
        );
    }

    #[test]
    fn proceed_abandons_and_blocks_reopen() {
        let g = open_gate();
        let op = g.begin().unwrap();
        assert_eq!(
            g.close(Timeout::NoWait, ClosePolicy::Proceed),
            Ok(CloseOutcome::Abandoned { in_flight: 1 })
        );
        assert_eq!(g.state(), GateState::Closed);
        assert_eq!(g.open(), Err(Error::Busy));
        drop(op);
        g.open().unwrap();
    }

    /// Another thread begins an operation and ends it after `hold`; returns once it is in.
    fn hold_an_operation_for(
        g: &Arc<Gate<StdSemaphore>>,
        hold: Duration,
    ) -> std::thread::JoinHandle<()> {
        let started = Arc::new(std::sync::Barrier::new(2));
        let (g2, s2) = (g.clone(), started.clone());
        let h = std::thread::spawn(move || {
            let op = g2.begin().unwrap();
            s2.wait();
            std::thread::sleep(hold);
            drop(op);
        });
        started.wait();
        h
    }

    #[test]
    fn close_waits_for_last_operation() {
        let g = Arc::new(open_gate());
        let h = hold_an_operation_for(&g, Duration::from_millis(20));
        assert_eq!(
            g.close(Timeout::Forever, ClosePolicy::FailIfBusy),
            Ok(CloseOutcome::Drained)
        );
        assert_eq!(g.in_flight(), 0);
        h.join().unwrap();
    }

    #[test]
    fn concurrent_closer_gets_already() {
        let g = Arc::new(open_gate());
        let op = g.begin().unwrap();
        let g2 = g.clone();
        let h = std::thread::spawn(move || g2.close(Timeout::Millis(200), ClosePolicy::Proceed));
        until_flag_set(&g, CLOSER);
        assert_eq!(
            g.close(Timeout::NoWait, ClosePolicy::Proceed),
            Err(Error::Already)
        );
        drop(op);
        assert_eq!(h.join().unwrap(), Ok(CloseOutcome::Drained));
    }

    // ---- suspend / resume ---------------------------------------------------------------

    fn suspended_open_gate() -> Gate<StdSemaphore> {
        let g = open_gate();
        assert_eq!(g.suspend(Timeout::NoWait), Ok(()));
        g
    }

    #[test]
    fn suspension_adds_no_field() {
        assert_eq!(
            core::mem::size_of::<Gate<StdSemaphore>>(),
            core::mem::size_of::<(AtomicU32, StdSemaphore)>()
        );
    }

    #[test]
    fn suspend_an_idle_open_gate_then_resume() {
        let g = suspended_open_gate();
        assert!(g.is_suspended());
        assert_eq!(
            g.state(),
            GateState::Open,
            "the session survives a suspension"
        );
        assert_eq!(g.begin().err(), Some(Error::WouldBlock));
        assert_eq!(g.in_flight(), 0, "a refused operation is not counted");
        assert_eq!(
            g.open(),
            Err(Error::Busy),
            "still open: the client keeps it"
        );
        assert_eq!(g.suspend(Timeout::NoWait), Err(Error::Already));
        assert_eq!(g.suspend(Timeout::Forever), Err(Error::Already));
        assert_eq!(g.resume(), Ok(()));
        assert!(!g.is_suspended());
        assert_eq!(g.resume(), Err(Error::Already));
        drop(g.begin().unwrap());
        assert_eq!(g.in_flight(), 0);
    }

    #[test]
    fn suspend_without_a_client() {
        for closed in [false, true] {
            let g: Gate<StdSemaphore> = Gate::new();
            if closed {
                g.open().unwrap();
                g.close(Timeout::NoWait, ClosePolicy::FailIfBusy).unwrap();
            }
            let state = g.state();
            assert_eq!(g.suspend(Timeout::NoWait), Ok(()), "closed: {closed}");
            assert_eq!(g.state(), state, "the lifecycle state is untouched");
            assert_eq!(
                g.begin().err(),
                Some(Error::Closed),
                "no session: Closed first"
            );
            assert_eq!(
                g.open(),
                Err(Error::WouldBlock),
                "no new session while suspended"
            );
            assert_eq!(
                g.close(Timeout::NoWait, ClosePolicy::Proceed),
                Err(Error::Closed)
            );
            assert_eq!(g.resume(), Ok(()));
            g.open().unwrap();
            assert!(!g.is_suspended());
            drop(g.begin().unwrap());
        }
    }

    #[test]
    fn resume_of_a_gate_that_never_suspended_is_already() {
        let g: Gate<StdSemaphore> = Gate::new();
        assert_eq!(g.resume(), Err(Error::Already));
        g.open().unwrap();
        assert_eq!(g.resume(), Err(Error::Already));
        assert_eq!(g.state(), GateState::Open);
    }

    #[test]
    fn suspend_not_drained_in_time_is_busy_and_leaves_the_gate_open() {
        for timeout in [Timeout::NoWait, Timeout::Millis(2)] {
            let g = open_gate();
            let op = g.begin().unwrap();
            assert_eq!(g.suspend(timeout), Err(Error::Busy), "{timeout:?}");
            assert!(!g.is_suspended());
            assert_eq!(g.state(), GateState::Open);
            // Usable exactly as before: admits, closes, suspends again once idle.
            let op2 = g.begin().unwrap();
            assert_eq!(g.in_flight(), 2);
            drop((op, op2));
            assert_eq!(g.suspend(Timeout::NoWait), Ok(()));
            assert_eq!(g.resume(), Ok(()));
            assert_eq!(
                g.close(Timeout::NoWait, ClosePolicy::FailIfBusy),
                Ok(CloseOutcome::Drained)
            );
        }
    }

    #[test]
    fn suspend_waits_for_the_last_operation() {
        let g = Arc::new(open_gate());
        let h = hold_an_operation_for(&g, Duration::from_millis(20));
        assert_eq!(g.suspend(Timeout::Forever), Ok(()));
        assert_eq!(g.in_flight(), 0);
        assert!(g.is_suspended());
        h.join().unwrap();
    }

    #[test]
    fn suspend_waking_wakes_after_refusing() {
        let g = open_gate();
        let mut woken = false;
        assert_eq!(
            g.suspend_waking(Timeout::NoWait, || {
                // Whoever wakes up now must find new operations refused.
                assert!(g.is_suspended());
                assert_eq!(g.begin().err(), Some(Error::WouldBlock));
                woken = true;
            }),
            Ok(())
        );
        assert!(woken);
        // Refused at once: nothing to wake.
        let mut called = false;
        assert_eq!(
            g.suspend_waking(Timeout::NoWait, || called = true),
            Err(Error::Already)
        );
        assert!(!called);
    }

    #[test]
    fn close_of_a_suspended_gate_keeps_the_suspension() {
        let g = suspended_open_gate();
        g.pre_close().unwrap();
        assert_eq!(g.state(), GateState::Closing);
        assert_eq!(
            g.close(Timeout::NoWait, ClosePolicy::FailIfBusy),
            Ok(CloseOutcome::Drained)
        );
        assert_eq!(g.state(), GateState::Closed);
        assert!(g.is_suspended(), "only resume ends a suspension");
        assert_eq!(g.open(), Err(Error::WouldBlock));
        assert_eq!(g.resume(), Ok(()));
        g.open().unwrap();
        assert!(!g.is_suspended(), "the new session starts active");
        drop(g.begin().unwrap());
    }

    #[test]
    fn suspend_after_pre_close_drains_the_closing_gate() {
        let g = open_gate();
        let op = g.begin().unwrap();
        g.pre_close().unwrap();
        assert_eq!(g.suspend(Timeout::NoWait), Err(Error::Busy));
        assert_eq!(g.state(), GateState::Closing, "left as it was");
        drop(op);
        assert_eq!(g.suspend(Timeout::NoWait), Ok(()));
        assert_eq!(
            g.close(Timeout::NoWait, ClosePolicy::FailIfBusy),
            Ok(CloseOutcome::Drained)
        );
        assert!(g.is_suspended());
    }

    #[test]
    fn suspend_waits_for_operations_abandoned_by_a_close() {
        let g = Arc::new(open_gate());
        let op = g.begin().unwrap();
        assert_eq!(
            g.close(Timeout::NoWait, ClosePolicy::Proceed),
            Ok(CloseOutcome::Abandoned { in_flight: 1 })
        );
        // A straggler may still touch the device: no suspend under it.
        assert_eq!(g.suspend(Timeout::NoWait), Err(Error::Busy));
        assert_eq!(g.state(), GateState::Closed);
        let suspender = suspend_waiting(&g, Timeout::Forever);
        drop(op); // the straggler leaves and wakes the suspender
        assert_eq!(suspender.join().unwrap(), Ok(()));
        assert!(g.is_suspended());
        assert_eq!(g.state(), GateState::Closed);
    }

    /// Spawns a `suspend(timeout)` on another thread and returns once it waits for the drain.
    fn suspend_waiting(
        g: &Arc<Gate<StdSemaphore>>,
        timeout: Timeout,
    ) -> std::thread::JoinHandle<Result<()>> {
        let g2 = g.clone();
        let h = std::thread::spawn(move || g2.suspend(timeout));
        until_flag_set(g, SUSPENDER);
        h
    }

    #[test]
    fn while_a_suspend_drains_other_transitions_decide_at_once() {
        let g = Arc::new(open_gate());
        let op = g.begin().unwrap();
        let suspender = suspend_waiting(&g, Timeout::Millis(20_000));
        assert!(g.is_suspended());
        assert_eq!(g.begin().err(), Some(Error::WouldBlock));
        assert_eq!(g.suspend(Timeout::NoWait), Err(Error::Busy));
        assert_eq!(g.resume(), Err(Error::Busy));
        // A close does not wait for the drain the suspender waits for.
        assert_eq!(
            g.close(Timeout::Millis(20_000), ClosePolicy::FailIfBusy),
            Err(Error::Busy)
        );
        assert_eq!(g.state(), GateState::Open);
        g.pre_close().unwrap();
        assert_eq!(
            g.close(Timeout::Forever, ClosePolicy::Proceed),
            Ok(CloseOutcome::Abandoned { in_flight: 1 })
        );
        assert_eq!(g.state(), GateState::Closed);
        drop(op);
        assert_eq!(suspender.join().unwrap(), Ok(()));
        assert!(g.is_suspended());
        assert_eq!(g.state(), GateState::Closed);
        assert_eq!(g.open(), Err(Error::WouldBlock));
    }

    #[test]
    fn a_suspend_that_gives_up_leaves_the_close_it_raced_in_place() {
        let g = Arc::new(open_gate());
        let op = g.begin().unwrap();
        let suspender = suspend_waiting(&g, Timeout::Millis(30));
        assert_eq!(
            g.close(Timeout::NoWait, ClosePolicy::Proceed),
            Ok(CloseOutcome::Abandoned { in_flight: 1 })
        );
        assert_eq!(suspender.join().unwrap(), Err(Error::Busy));
        assert!(!g.is_suspended());
        assert_eq!(g.state(), GateState::Closed);
        drop(op);
        g.open().unwrap();
    }

    #[test]
    fn suspend_while_a_close_waits_is_busy() {
        let g = Arc::new(open_gate());
        let op = g.begin().unwrap();
        let g2 = g.clone();
        let closer =
            std::thread::spawn(move || g2.close(Timeout::Millis(20_000), ClosePolicy::FailIfBusy));
        until_flag_set(&g, CLOSER);
        assert_eq!(g.suspend(Timeout::Forever), Err(Error::Busy));
        assert!(!g.is_suspended());
        drop(op);
        assert_eq!(closer.join().unwrap(), Ok(CloseOutcome::Drained));
        // Closed and idle: a suspend now works.
        assert_eq!(g.suspend(Timeout::NoWait), Ok(()));
    }
}
