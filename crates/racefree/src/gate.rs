//! Seed 001, *Shutdown* and *Startup*: a lifecycle gate for a device.
//!
//! The seed's two-way scheme, lock-free: a closing flag rejects new operations
//! ([`pre_close`](Gate::pre_close), like `PreClose`), an in-flight count tracks running ones,
//! and [`close`](Gate::close) waits for the count to drain, or refuses ([`ClosePolicy::FailIfBusy`]),
//! or gives up waiting and closes anyway ([`ClosePolicy::Proceed`]). *Startup*: nothing gets
//! in before [`open`](Gate::open) publishes the device as ready.
//!
//! State, closer flag and count live in one `AtomicU32`, so every transition is a single
//! compare-exchange and the check "closing?" and the increment "one more in flight" cannot be
//! separated by a close (the race the seed warns about).

use core::marker::PhantomData;

use crate::sync::{AtomicU32, Ordering};
use crate::{Error, Result, Semaphore, Timeout};

const STATE_MASK: u32 = 0b11;
const UNOPENED: u32 = 0;
const OPEN: u32 = 1;
const CLOSING: u32 = 2;
const CLOSED: u32 = 3;
/// Set while a `close` call waits for the count to drain; only then does the last op `give`.
const CLOSER: u32 = 0b100;
const ONE_OP: u32 = 0b1000;
const MAX_IN_FLIGHT: u32 = u32::MAX / ONE_OP;

const fn count(word: u32) -> u32 {
    word / ONE_OP
}

/// The word with one more operation in flight, if `word` admits one (see [`Gate::begin`]).
const fn admit(word: u32) -> Result<u32> {
    match word & STATE_MASK {
        OPEN if count(word) < MAX_IN_FLIGHT => Ok(word + ONE_OP),
        OPEN => Err(Error::Busy),
        _ => Err(Error::Closed),
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

/// A device lifecycle gate: admits operations while open, drains them on close.
///
/// Seed 001, *Shutdown* (closing flag + in-flight count, wait or refuse) and *Startup*.
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
///     assert_eq!(gate.state(), GateState::Open);
/// }
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
            // open, operation done on close), Acquire sees those of the previous writers.
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
    /// abandoned by a [`ClosePolicy::Proceed`] close are still in flight.
    ///
    /// Call it only once the device is completely ready (seed 001, *Startup*).
    pub fn open(&self) -> Result<()> {
        self.transition(|w| match w & STATE_MASK {
            UNOPENED | CLOSED if count(w) == 0 => Ok((OPEN, ())),
            _ => Err(Error::Busy),
        })
    }

    /// Admits one operation: `Open → Ok` (in flight + 1); otherwise `Err(Closed)`.
    ///
    /// `Err(Busy)` only if the in-flight count would overflow (2²⁹ − 1 operations).
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
            // Ordering: Acquire on success pairs with the Release of `open`'s transition: the
            // device state it published is visible to the operation.
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
    pub fn close(&self, timeout: Timeout, policy: ClosePolicy) -> Result<CloseOutcome> {
        self.transition(|w| match w & STATE_MASK {
            _ if w & CLOSER != 0 => Err(Error::Already),
            OPEN | CLOSING => Ok(((w & !STATE_MASK) | CLOSING | CLOSER, ())),
            _ => Err(Error::Closed),
        })?;
        // Only the closer (unique through the CLOSER bit) resets. A token given before this
        // reset is lost, but its giver had already brought the count to 0, which the load
        // below then sees.
        self.wake.reset();
        loop {
            // Ordering: Acquire pairs with the AcqRel decrement in `Operation::drop`, so a
            // drained gate happens-after every operation's work.
            if count(self.word.load(Ordering::Acquire)) == 0 {
                break;
            }
            if self.wake.take(timeout).is_err() {
                break;
            }
        }
        self.transition(|w| {
            debug_assert_eq!(w & (STATE_MASK | CLOSER), CLOSING | CLOSER);
            let keep = w & !(STATE_MASK | CLOSER);
            Ok(match (count(w), policy) {
                (0, _) => (CLOSED, Ok(CloseOutcome::Drained)),
                (_, ClosePolicy::FailIfBusy) => (keep | OPEN, Err(Error::Busy)),
                (n, ClosePolicy::Proceed) => {
                    (keep | CLOSED, Ok(CloseOutcome::Abandoned { in_flight: n }))
                }
            })
        })?
    }

    /// The current lifecycle state.
    pub fn state(&self) -> GateState {
        // Ordering: Acquire so a caller acting on the state sees what the transition published.
        match self.word.load(Ordering::Acquire) & STATE_MASK {
            UNOPENED => GateState::Unopened,
            OPEN => GateState::Open,
            CLOSING => GateState::Closing,
            _ => GateState::Closed,
        }
    }

    /// Operations currently in flight.
    pub fn in_flight(&self) -> u32 {
        // Ordering: Acquire, as for `state`.
        count(self.word.load(Ordering::Acquire))
    }

    #[inline]
    fn end(&self) {
        // Ordering: Release publishes the operation's work to the closer's Acquire load. No
        // Acquire: the operation takes over nothing (it drops no shared value), and the closer
        // it may wake synchronises through its own Acquire load of the word.
        let prev = self.word.fetch_sub(ONE_OP, Ordering::Release);
        debug_assert!(count(prev) > 0);
        if count(prev) == 1 && prev & (STATE_MASK | CLOSER) == CLOSING | CLOSER {
            self.wake_closer();
        }
    }

    /// The last operation wakes the waiting closer: rare, so out of line.
    #[cold]
    #[inline(never)]
    fn wake_closer(&self) {
        self.wake.give();
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

    #[test]
    fn close_waits_for_last_operation() {
        let g = Arc::new(open_gate());
        let started = Arc::new(std::sync::Barrier::new(2));
        let (g2, s2) = (g.clone(), started.clone());
        let h = std::thread::spawn(move || {
            let op = g2.begin().unwrap();
            s2.wait();
            std::thread::sleep(Duration::from_millis(20));
            drop(op);
        });
        started.wait();
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
        while g.word.load(Ordering::Acquire) & CLOSER == 0 {
            std::thread::yield_now();
        }
        assert_eq!(
            g.close(Timeout::NoWait, ClosePolicy::Proceed),
            Err(Error::Already)
        );
        drop(op);
        assert_eq!(h.join().unwrap(), Ok(CloseOutcome::Drained));
    }
}
