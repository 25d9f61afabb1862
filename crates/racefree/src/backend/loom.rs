//! Loom model backends (`--cfg loom`). Only usable inside `loom::model`.
//!
//! Timeouts are modelled, not timed: `NoWait` (and `Millis(0)`) tries once; `Millis(n)` tries,
//! passes one scheduling point (where loom may run the other threads), tries again and then
//! gives up with `TimedOut`, so both the "succeeded while waiting" and the "timed out" branches
//! are explored;
//! `Forever` blocks on a loom `Mutex` + `Condvar` (never spins, so loom's state space stays finite).
//!
//! ISRs are modelled as ordinary loom threads; [`LoomProbe`] therefore always reports thread
//! context.

use crate::context::ContextProbe;
use crate::lock::{Backend, TimedBackend};
use crate::sync::{Condvar, Mutex, MutexGuard};
use crate::{Error, IsrSafe, Result, Semaphore, ThreadOnly, Timeout};

/// Loom [`ContextProbe`]: always thread context.
#[derive(Debug)]
pub enum LoomProbe {}

impl ContextProbe for LoomProbe {
    fn in_isr() -> bool {
        false
    }
}

/// A value behind a loom mutex plus a condition variable signalled on every release.
#[derive(Debug)]
pub struct LoomWaitState<T> {
    value: Mutex<T>,
    cv: Condvar,
}

impl<T> LoomWaitState<T> {
    fn new(value: T) -> Self {
        Self {
            value: Mutex::new(value),
            cv: Condvar::new(),
        }
    }

    fn guard(&self) -> MutexGuard<'_, T> {
        self.value.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies `f` once it returns `Some`, waiting according to the modelled `timeout`.
    fn wait<R>(&self, timeout: Timeout, mut f: impl FnMut(&mut T) -> Option<R>) -> Result<R> {
        let mut g = self.guard();
        if let Some(r) = f(&mut g) {
            return Ok(r);
        }
        match timeout {
            _ if timeout.is_no_wait() => Err(Error::WouldBlock),
            Timeout::Millis(_) | Timeout::Ticks(_) => {
                // Release and retake the mutex: a scheduling point where loom may run other
                // threads (within the preemption bound) or let the timeout expire.
                drop(g);
                f(&mut self.guard()).ok_or(Error::TimedOut)
            }
            _ => loop {
                g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner());
                if let Some(r) = f(&mut g) {
                    return Ok(r);
                }
            },
        }
    }

    fn update(&self, f: impl FnOnce(&mut T)) {
        f(&mut self.guard());
        self.cv.notify_all();
    }
}

/// Loom spinlock ([`IsrSafe`]).
///
/// Loom cannot explore an unbounded spin, so the model waits on a loom condition variable
/// instead; the exclusion and ordering semantics are those of a spinlock, and ISRs are modelled
/// as threads anyway.
#[derive(Debug)]
pub enum LoomSpin {}

// SAFETY: same protocol as `LoomMutex` (flag under a loom mutex); it never sleeps in the
// modelled sense, loom only parks the model thread.
unsafe impl Backend for LoomSpin {
    type Kind = IsrSafe;
    type State = LoomWaitState<bool>;
    type GuardState = ();
    type Probe = LoomProbe;

    fn new_state() -> LoomWaitState<bool> {
        LoomWaitState::new(false)
    }

    unsafe fn lock(state: *mut LoomWaitState<bool>) {
        // SAFETY: the caller passes a valid state pointer.
        let s = unsafe { &*state };
        let r = s.wait(Timeout::Forever, take_flag);
        debug_assert!(r.is_ok());
    }

    unsafe fn try_lock(state: *mut LoomWaitState<bool>) -> Option<()> {
        // SAFETY: the caller passes a valid state pointer.
        let s = unsafe { &*state };
        s.wait(Timeout::NoWait, take_flag).ok()
    }

    unsafe fn unlock(state: *mut LoomWaitState<bool>, _guard: &()) {
        // SAFETY: the caller passes a valid state pointer and holds the lock.
        let s = unsafe { &*state };
        s.update(|locked| *locked = false);
    }
}

fn take_flag(locked: &mut bool) -> Option<()> {
    if *locked {
        None
    } else {
        *locked = true;
        Some(())
    }
}

/// Loom mutex ([`ThreadOnly`], timed; see the module docs for the timeout model).
#[derive(Debug)]
pub enum LoomMutex {}

// SAFETY: the `locked` flag changes only under the loom mutex, which gives exclusion and the
// happens-before from unlock to the next lock; loom checks it.
unsafe impl Backend for LoomMutex {
    type Kind = ThreadOnly;
    type State = LoomWaitState<bool>;
    type GuardState = ();
    type Probe = LoomProbe;

    fn new_state() -> LoomWaitState<bool> {
        LoomWaitState::new(false)
    }

    unsafe fn lock(state: *mut LoomWaitState<bool>) {
        // SAFETY: the caller guarantees the preconditions of `lock_timeout`, which are the same.
        let r = unsafe { Self::lock_timeout(state, Timeout::Forever) };
        debug_assert!(r.is_ok());
    }

    unsafe fn try_lock(state: *mut LoomWaitState<bool>) -> Option<()> {
        // SAFETY: as above.
        unsafe { Self::lock_timeout(state, Timeout::NoWait) }.ok()
    }

    unsafe fn unlock(state: *mut LoomWaitState<bool>, _guard: &()) {
        // SAFETY: the caller passes a valid state pointer and holds the lock.
        let s = unsafe { &*state };
        s.update(|locked| *locked = false);
    }
}

// SAFETY: `Ok` only after observing the flag clear and setting it, under the loom mutex.
unsafe impl TimedBackend for LoomMutex {
    unsafe fn lock_timeout(state: *mut LoomWaitState<bool>, timeout: Timeout) -> Result<()> {
        // SAFETY: the caller passes a valid state pointer.
        let s = unsafe { &*state };
        s.wait(timeout, take_flag)
    }
}

/// Loom counting semaphore (see the module docs for the timeout model).
#[derive(Debug)]
pub struct LoomSemaphore {
    count: LoomWaitState<u32>,
}

// SAFETY: `give` holds the loom mutex only for an increment (never waits for a token); `take`
// consumes a token under the same mutex, which orders it after the `give`.
unsafe impl Semaphore for LoomSemaphore {
    fn new() -> Self {
        Self {
            count: LoomWaitState::new(0),
        }
    }

    fn give(&self) {
        self.count.update(|c| *c = c.saturating_add(1));
    }

    fn take(&self, timeout: Timeout) -> Result<()> {
        self.count
            .wait(timeout, |c| c.checked_sub(1).map(|n| *c = n))
    }

    fn reset(&self) {
        self.count.update(|c| *c = 0);
    }
}
