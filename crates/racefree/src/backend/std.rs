//! Host backends (feature `std`): real threads stand in for CPUs and ISRs.
//!
//! An "ISR" on the host is code run inside [`with_simulated_isr`](crate::with_simulated_isr);
//! [`StdProbe`] reports it. Host spinlocks do not mask anything: an ISR simulated on another
//! thread simply spins, like a second CPU would.

use ::std::cell::Cell;
use ::std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use ::std::time::{Duration, Instant};

use crate::context::ContextProbe;
use crate::lock::{Backend, TimedBackend};
use crate::sync::{spin_loop, yield_now, AtomicBool, Ordering};
use crate::{Error, IsrSafe, Result, Semaphore, ThreadOnly, Timeout};

::std::thread_local! {
    /// How many simulated ISRs this thread is nested in (0: thread context).
    static ISR_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Sets the simulated-ISR nesting depth of this thread, returning the previous value.
pub(crate) fn set_isr_depth(depth: u32) -> u32 {
    ISR_DEPTH.with(|d| d.replace(depth))
}

/// The simulated-ISR nesting depth of this thread: 0 in thread context, `n` inside `n` nested
/// [`with_simulated_isr`](crate::with_simulated_isr) calls.
pub(crate) fn isr_depth() -> u32 {
    ISR_DEPTH.with(Cell::get)
}

/// Host [`ContextProbe`]: reports the thread-local nesting depth set by
/// [`with_simulated_isr`](crate::with_simulated_isr).
#[derive(Debug)]
pub enum StdProbe {}

impl ContextProbe for StdProbe {
    fn in_isr() -> bool {
        isr_depth() > 0
    }
}

fn relock<G>(r: ::std::sync::LockResult<G>) -> G {
    // The protected values are plain flags/counters updated without calling user code, so a
    // poisoned mutex still holds a consistent value.
    r.unwrap_or_else(PoisonError::into_inner)
}

/// The host backends' tick rate for [`Timeout::Ticks`]: 10 kHz, a common fine Zephyr setting,
/// so that tick-resolution behaviour is exercised on the host too.
pub const HOST_TICKS_PER_SEC: u32 = 10_000;
/// One host tick in nanoseconds.
pub const NANOS_PER_HOST_TICK: u64 = 1_000_000_000 / HOST_TICKS_PER_SEC as u64;

/// Waits on `cv` until `ready(&mut value)` returns true or `timeout` expires.
///
/// Returns `Err(WouldBlock)` for `NoWait`, `Err(TimedOut)` on expiry.
fn wait_until<'a, T>(
    cv: &Condvar,
    mut guard: MutexGuard<'a, T>,
    timeout: Timeout,
    mut ready: impl FnMut(&mut T) -> bool,
) -> Result<MutexGuard<'a, T>> {
    let deadline = match timeout {
        _ if timeout.is_no_wait() => {
            return if ready(&mut guard) {
                Ok(guard)
            } else {
                Err(Error::WouldBlock)
            };
        }
        _ => timeout.to_ticks(HOST_TICKS_PER_SEC).map(|ticks| {
            Instant::now() + Duration::from_nanos(ticks.saturating_mul(NANOS_PER_HOST_TICK))
        }),
    };
    loop {
        if ready(&mut guard) {
            return Ok(guard);
        }
        guard = match deadline {
            None => relock(cv.wait(guard)),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return Err(Error::TimedOut);
                }
                relock(cv.wait_timeout(guard, deadline - now)).0
            }
        };
    }
}

/// Host spinlock ([`IsrSafe`]): an `AtomicBool` test-and-test-and-set lock.
///
/// Spins with a CPU hint and yields the host thread every 64 rounds so oversubscribed test
/// machines make progress.
///
/// # Examples
///
/// ```
/// use racefree::{lock_class, SpinLock, StdSpin};
///
/// let events: SpinLock<u32, StdSpin> = SpinLock::new(0, lock_class!("events"));
/// *events.lock() += 1;
/// assert_eq!(*events.lock(), 1);
/// ```
#[derive(Debug)]
pub enum StdSpin {}

// SAFETY: the `AtomicBool` is acquired by compare-exchange (Acquire) and released by a Release
// store, which gives mutual exclusion and the needed happens-before; it never sleeps.
unsafe impl Backend for StdSpin {
    type Kind = IsrSafe;
    type State = AtomicBool;
    type GuardState = ();
    type Probe = StdProbe;

    fn new_state() -> AtomicBool {
        AtomicBool::new(false)
    }

    unsafe fn lock(state: *mut AtomicBool) {
        // SAFETY: the caller passes a valid state pointer.
        let flag = unsafe { &*state };
        let mut spins = 0u32;
        loop {
            // Ordering: Acquire on success pairs with the Release in `unlock`.
            if flag
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
            // Ordering: Relaxed read-only polling; the CAS above does the synchronising.
            while flag.load(Ordering::Relaxed) {
                spins = spins.wrapping_add(1);
                if spins % 64 == 0 {
                    yield_now();
                } else {
                    spin_loop();
                }
            }
        }
    }

    unsafe fn try_lock(state: *mut AtomicBool) -> Option<()> {
        // SAFETY: the caller passes a valid state pointer.
        let flag = unsafe { &*state };
        // Ordering: Acquire on success pairs with the Release in `unlock`.
        flag.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(drop)
    }

    unsafe fn unlock(state: *mut AtomicBool, _guard: &()) {
        // SAFETY: the caller passes a valid state pointer and holds the lock.
        let flag = unsafe { &*state };
        // Ordering: Release publishes the critical section to the next Acquire in `lock`.
        flag.store(false, Ordering::Release);
    }
}

/// State of [`StdMutex`]: a "locked" flag guarded by a std mutex, plus a condition variable.
#[derive(Debug, Default)]
pub struct StdMutexState {
    locked: Mutex<bool>,
    cv: Condvar,
}

/// Host sleeping mutex ([`ThreadOnly`], timed): `Mutex<bool>` + `Condvar`.
///
/// Unlike `k_mutex` it is not recursive: relocking from the owner deadlocks.
///
/// # Examples
///
/// ```
/// use racefree::{lock_class, Mutex, StdMutex, StdProbe, ThreadContext, Timeout};
///
/// let ctx = ThreadContext::current::<StdProbe>().unwrap();
/// let m: Mutex<u32, StdMutex> = Mutex::new(0, lock_class!("config"));
/// let g = m.lock(&ctx);
/// assert!(m.lock_timeout(&ctx, Timeout::Millis(1)).is_err());
/// drop(g);
/// *m.lock_timeout(&ctx, Timeout::Forever).unwrap() = 5;
/// ```
#[derive(Debug)]
pub enum StdMutex {}

// SAFETY: the `locked` flag is only changed under the std mutex, which provides exclusion and
// the happens-before between unlock and the next lock; `StdMutexState` is `Send + Sync`.
unsafe impl Backend for StdMutex {
    type Kind = ThreadOnly;
    type State = StdMutexState;
    type GuardState = ();
    type Probe = StdProbe;

    fn new_state() -> StdMutexState {
        StdMutexState::default()
    }

    unsafe fn lock(state: *mut StdMutexState) {
        // SAFETY: the caller guarantees the preconditions of `lock_timeout`, which are the same.
        let r = unsafe { Self::lock_timeout(state, Timeout::Forever) };
        debug_assert!(r.is_ok(), "Forever cannot time out");
    }

    unsafe fn try_lock(state: *mut StdMutexState) -> Option<()> {
        // SAFETY: as above.
        unsafe { Self::lock_timeout(state, Timeout::NoWait) }.ok()
    }

    unsafe fn unlock(state: *mut StdMutexState, _guard: &()) {
        // SAFETY: the caller passes a valid state pointer.
        let s = unsafe { &*state };
        *relock(s.locked.lock()) = false;
        s.cv.notify_one();
    }
}

// SAFETY: `lock_timeout` sets the flag only after observing it clear, under the std mutex.
unsafe impl TimedBackend for StdMutex {
    unsafe fn lock_timeout(state: *mut StdMutexState, timeout: Timeout) -> Result<()> {
        // SAFETY: the caller passes a valid state pointer.
        let s = unsafe { &*state };
        let g = wait_until(&s.cv, relock(s.locked.lock()), timeout, |locked| !*locked)?;
        let mut g = g;
        *g = true;
        Ok(())
    }
}

/// Host counting semaphore: `Mutex<u32>` + `Condvar`. Counts saturate at `u32::MAX`.
///
/// # Examples
///
/// ```
/// use racefree::{Error, Semaphore, StdSemaphore, Timeout};
///
/// let sem = StdSemaphore::new();
/// sem.give();
/// assert_eq!(sem.take(Timeout::NoWait), Ok(()));
/// assert_eq!(sem.take(Timeout::NoWait), Err(Error::WouldBlock));
/// assert_eq!(sem.take(Timeout::Millis(1)), Err(Error::TimedOut));
/// ```
#[derive(Debug, Default)]
pub struct StdSemaphore {
    count: Mutex<u32>,
    cv: Condvar,
}

// SAFETY: `give` never blocks for longer than the internal std mutex is held (no user code
// runs under it); the count is only changed under that mutex.
unsafe impl Semaphore for StdSemaphore {
    fn new() -> Self {
        Self::default()
    }

    fn give(&self) {
        let mut c = relock(self.count.lock());
        *c = c.saturating_add(1);
        drop(c);
        self.cv.notify_one();
    }

    fn take(&self, timeout: Timeout) -> Result<()> {
        let mut g = wait_until(&self.cv, relock(self.count.lock()), timeout, |c| *c > 0)?;
        *g -= 1;
        Ok(())
    }

    fn reset(&self) {
        *relock(self.count.lock()) = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::std::sync::Arc;

    #[test]
    fn semaphore_wakes_a_waiter() {
        let sem = Arc::new(StdSemaphore::new());
        let s2 = sem.clone();
        let h = ::std::thread::spawn(move || s2.take(Timeout::Forever));
        ::std::thread::sleep(Duration::from_millis(5));
        sem.give();
        assert_eq!(h.join().unwrap(), Ok(()));
        sem.give();
        sem.give();
        sem.reset();
        assert_eq!(sem.take(Timeout::NoWait), Err(Error::WouldBlock));
    }

    #[test]
    fn probe_defaults_to_thread() {
        assert!(!StdProbe::in_isr());
    }
}
