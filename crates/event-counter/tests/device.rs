//! Host tests of every `Device` operation and every error it returns.
//!
//! Where a test lets another thread block first (`settle`), the sleep only
//! makes the interesting interleaving likely: the asserted outcome is the
//! same whichever thread gets there first.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use common::{ctx, rig_with_mock, Dev, Latch, Rig};
use event_counter::host::{FnSink, MockSource};
use event_counter::{
    ClosePolicy, Edge, Error, Event, EventSource, RawSettings, Result, Stats, Timeout,
};

const FAIL_IF_BUSY: ClosePolicy = ClosePolicy::FailIfBusy;
const PROCEED: ClosePolicy = ClosePolicy::Proceed;

/// Long enough never to expire in a passing run; bounds a failing one.
const NEVER: Timeout = Timeout::Millis(20_000);

fn sink(f: impl Fn(u32) -> i32 + Send + Sync + 'static) -> FnSink {
    FnSink(Arc::new(f))
}

fn raw(edge: u32, overflow: u32, enabled: bool) -> RawSettings {
    RawSettings { edge, overflow, enabled }
}

/// Lets other threads reach their blocking call. Never decides a result.
fn settle() {
    std::thread::sleep(Duration::from_millis(20));
}

fn stats(dev: &Dev<impl EventSource>) -> Stats {
    let s = dev.stats().expect("stats work on a ready device");
    assert_eq!(s.seen, s.read + s.dropped + s.pending, "counters reconcile: {s:?}");
    s
}

fn sequences(events: &[Event]) -> Vec<u32> {
    events.iter().map(|e| e.sequence).collect()
}

/// Reads everything pending (in one call, so the buffer must be big enough).
fn read_all(dev: &Dev<impl EventSource>) -> Vec<Event> {
    let mut buf = [Event::default(); 64];
    let n = dev.read(&ctx(), &mut buf).expect("read");
    buf[..n].to_vec()
}

/// Runs `f` on another thread and fails (instead of hanging) if it deadlocks.
fn without_deadlock<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(f()).expect("test thread waits"));
    rx.recv_timeout(Duration::from_secs(60)).expect("deadlock: no result within 60 s")
}

/// Installs a sink that blocks until released, starts a `notify` on another
/// thread and returns once the sink runs: an operation held in flight on
/// demand. The sink returns `value`; open the latch to let it finish.
fn notify_in_flight<H: EventSource + 'static>(
    dev: &Arc<Dev<H>>,
    value: i32,
) -> (std::thread::JoinHandle<Result<i32, Error>>, Arc<Latch>) {
    let (entered, release) = (Latch::new(), Latch::new());
    let (e, r) = (entered.clone(), release.clone());
    let s = sink(move |_| {
        e.open();
        r.wait();
        value
    });
    dev.set_sink(&ctx(), Some(s)).unwrap();
    let notifier = {
        let dev = dev.clone();
        std::thread::spawn(move || dev.notify(&ctx()))
    };
    entered.wait();
    (notifier, release)
}

/// A source that records whether it was disabled when the driver dropped it.
/// It owns a `MockSource` with a drop flag, which it drops right after.
struct Observed {
    mock: MockSource,
    enabled_at_drop: Arc<Mutex<Option<bool>>>,
}

impl Observed {
    /// The source, its drop flag, and its enable state recorded at drop.
    fn new() -> (Self, Arc<AtomicBool>, Arc<Mutex<Option<bool>>>) {
        let dropped = Arc::new(AtomicBool::new(false));
        let at_drop = Arc::new(Mutex::new(None));
        let mock = MockSource::with_drop_flag(dropped.clone());
        let src = Observed { mock, enabled_at_drop: at_drop.clone() };
        (src, dropped, at_drop)
    }
}

impl EventSource for Observed {
    fn set(&self, enabled: bool, edge: Edge) -> Result<()> {
        self.mock.set(enabled, edge)
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        *self.enabled_at_drop.lock().unwrap() = Some(self.mock.enabled());
    }
}

fn dropped(flag: &AtomicBool) -> bool {
    flag.load(Ordering::SeqCst)
}

// ---- lifecycle --------------------------------------------------------------

#[test]
fn every_call_before_init_is_gone() {
    let mock = Arc::new(MockSource::default());
    let rig = Rig::uninit(4, mock.clone(), Edge::Rising);
    let (dev, c) = (rig.dev(), ctx());
    let mut buf = [Event::default(); 2];
    assert!(!dev.is_ready());
    assert_eq!(dev.open(&c), Err(Error::Gone));
    assert_eq!(dev.close(&c, Timeout::NoWait, FAIL_IF_BUSY), Err(Error::Gone));
    assert_eq!(dev.read(&c, &mut buf), Err(Error::Gone));
    assert_eq!(dev.wait(&c, Timeout::NoWait), Err(Error::Gone));
    assert_eq!(dev.configure(&c, raw(0, 0, true)), Err(Error::Gone));
    assert_eq!(dev.settings(&c), Err(Error::Gone));
    assert_eq!(dev.stats(), Err(Error::Gone));
    assert_eq!(dev.set_sink(&c, None), Err(Error::Gone));
    assert_eq!(dev.notify(&c), Err(Error::Gone));
    assert_eq!(dev.remove(&c, Timeout::NoWait), Err(Error::Gone));
    // Arguments are checked first (Zephyr order), so these are still -EINVAL.
    assert_eq!(dev.read(&c, &mut []), Err(Error::Invalid));
    assert_eq!(dev.configure(&c, raw(9, 0, true)), Err(Error::Invalid));
    // An interrupt before init is not counted at all: there is nothing yet.
    dev.on_event(1);
    assert_eq!(mock.calls(), 0, "the source is untouched before init");

    // SAFETY: the device lives in the rig's `Arc` and never moves; this is its
    // only `init`, and no other thread has a handle.
    unsafe { dev.init() };
    assert!(dev.is_ready());
    assert_eq!(stats(dev), Stats::default());
    dev.open(&c).unwrap();
    assert!(mock.enabled());
}

#[test]
fn open_enables_the_source_with_the_devicetree_edge() {
    let mock = Arc::new(MockSource::default());
    let rig = Rig::new(4, mock.clone(), Edge::Falling);
    let (dev, c) = (rig.dev(), ctx());
    assert!(!mock.enabled());
    dev.open(&c).unwrap();
    assert!(mock.enabled());
    assert_eq!(mock.edge(), Edge::Falling as u32);
    assert_eq!(dev.settings(&c), Ok(raw(Edge::Falling as u32, 0, true)));
}

#[test]
fn open_twice_is_busy() {
    let (rig, mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    let calls = mock.calls();
    assert_eq!(dev.open(&c), Err(Error::Busy));
    assert_eq!(mock.calls(), calls, "a refused open does not touch the source");
    // Still open and usable.
    dev.on_event(7);
    assert_eq!(dev.wait(&c, Timeout::NoWait), Ok(1));
}

#[test]
fn calls_on_a_device_that_is_not_open_are_closed() {
    let (rig, mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    let check = |when: &str| {
        let mut buf = [Event::default(); 2];
        assert_eq!(dev.read(&c, &mut buf), Err(Error::Closed), "{when}: read");
        assert_eq!(dev.wait(&c, Timeout::NoWait), Err(Error::Closed), "{when}: wait NoWait");
        assert_eq!(dev.wait(&c, Timeout::Forever), Err(Error::Closed), "{when}: wait Forever");
        assert_eq!(dev.configure(&c, raw(1, 1, true)), Err(Error::Closed), "{when}: configure");
        assert_eq!(dev.settings(&c), Err(Error::Closed), "{when}: settings");
        assert_eq!(dev.set_sink(&c, Some(sink(|_| 0))), Err(Error::Closed), "{when}: set_sink");
        assert_eq!(dev.notify(&c), Err(Error::Closed), "{when}: notify");
    };
    check("never opened");
    dev.open(&c).unwrap();
    dev.close(&c, Timeout::NoWait, FAIL_IF_BUSY).unwrap();
    check("after close");
    // None of them changed anything: reopening gives the old settings, no sink.
    let calls = mock.calls();
    dev.open(&c).unwrap();
    assert_eq!(mock.calls(), calls + 1);
    assert_eq!(dev.settings(&c), Ok(raw(0, 0, true)));
    assert_eq!(dev.notify(&c), Err(Error::Invalid), "no sink was installed");
}

#[test]
fn close_twice_and_close_of_a_never_opened_device_are_closed() {
    let (rig, mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    assert_eq!(dev.close(&c, Timeout::NoWait, FAIL_IF_BUSY), Err(Error::Closed));
    assert_eq!(dev.close(&c, Timeout::Forever, PROCEED), Err(Error::Closed));
    assert_eq!(mock.calls(), 0);
    dev.open(&c).unwrap();
    assert_eq!(dev.close(&c, Timeout::Forever, FAIL_IF_BUSY), Ok(()));
    assert!(!mock.enabled(), "close disables the source");
    assert_eq!(dev.close(&c, Timeout::Forever, FAIL_IF_BUSY), Err(Error::Closed));
    assert_eq!(dev.close(&c, Timeout::NoWait, PROCEED), Err(Error::Closed));
}

#[test]
fn reopen_keeps_settings_and_pending_events() {
    let (rig, mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    dev.configure(&c, raw(2, 1, true)).unwrap();
    dev.on_event(10);
    dev.close(&c, Timeout::NoWait, FAIL_IF_BUSY).unwrap();
    dev.on_event(11); // closed: ignored
    dev.open(&c).unwrap();
    assert!(mock.enabled());
    assert_eq!(mock.edge(), Edge::Both as u32);
    assert_eq!(dev.settings(&c), Ok(raw(2, 1, true)));
    assert_eq!(read_all(dev), vec![Event { sequence: 0, cycles: 10 }]);
    assert_eq!(stats(dev), Stats { seen: 1, ignored: 1, read: 1, dropped: 0, pending: 0 });
}

#[test]
fn open_rolls_back_when_the_source_fails() {
    let (rig, mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    mock.fail_next(true);
    assert_eq!(dev.open(&c), Err(Error::Invalid));
    assert!(!mock.enabled());
    // The device stayed closed.
    assert_eq!(dev.read(&c, &mut [Event::default()]), Err(Error::Closed));
    assert_eq!(dev.wait(&c, Timeout::NoWait), Err(Error::Closed));
    assert_eq!(dev.close(&c, Timeout::NoWait, FAIL_IF_BUSY), Err(Error::Closed));
    dev.on_event(1);
    assert_eq!(stats(dev), Stats { ignored: 1, ..Stats::default() });
    // And it can be opened once the source works.
    mock.fail_next(false);
    dev.open(&c).unwrap();
    assert!(mock.enabled());
    dev.on_event(2);
    assert_eq!(read_all(dev), vec![Event { sequence: 0, cycles: 2 }]);
}

/// A source whose first `set` blocks until released and then fails.
struct FailsSlowly {
    armed: AtomicBool,
    entered: Arc<Latch>,
    release: Arc<Latch>,
}

impl EventSource for FailsSlowly {
    fn set(&self, _enabled: bool, _edge: Edge) -> Result<()> {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.entered.open();
            self.release.wait();
            return Err(Error::Invalid);
        }
        Ok(())
    }
}

/// Regression: a wait that got in while a failing open had the gate open was
/// abandoned by the rollback and slept on, in flight, refusing every later open.
#[test]
fn failed_open_releases_a_wait_that_got_in_meanwhile() {
    let (entered, release) = (Latch::new(), Latch::new());
    let armed = AtomicBool::new(true);
    let src = FailsSlowly { armed, entered: entered.clone(), release: release.clone() };
    let rig = Rig::new(4, src, Edge::Rising);
    let dev = rig.dev().clone();
    let opener = {
        let dev = dev.clone();
        std::thread::spawn(move || dev.open(&ctx()))
    };
    entered.wait(); // the gate is open, the source call is in progress
    let waiter = {
        let dev = dev.clone();
        std::thread::spawn(move || dev.wait(&ctx(), NEVER))
    };
    settle();
    release.open();
    assert_eq!(opener.join().unwrap(), Err(Error::Invalid));
    assert_eq!(waiter.join().unwrap(), Err(Error::Closed));
    assert_eq!(dev.open(&ctx()), Ok(()), "nothing is left in flight");
}

// ---- read and wait ----------------------------------------------------------

#[test]
fn zero_length_read_is_invalid_and_consumes_nothing() {
    let (rig, _mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    dev.on_event(1);
    assert_eq!(dev.read(&c, &mut []), Err(Error::Invalid));
    assert_eq!(stats(dev).pending, 1);
}

#[test]
fn read_returns_oldest_first_across_chunks() {
    let (rig, _mock) = rig_with_mock(32);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    for i in 0..20 {
        dev.on_event(1000 + i);
    }
    // More than one internal chunk (8), less than everything.
    let mut buf = [Event::default(); 13];
    assert_eq!(dev.read(&c, &mut buf), Ok(13));
    assert_eq!(sequences(&buf), (0..13).collect::<Vec<_>>());
    assert!(buf.iter().all(|e| e.cycles == 1000 + e.sequence));
    // A buffer bigger than what is pending gets what is pending.
    let mut big = [Event::default(); 20];
    assert_eq!(dev.read(&c, &mut big), Ok(7));
    assert_eq!(sequences(&big[..7]), (13..20).collect::<Vec<_>>());
    assert_eq!(dev.read(&c, &mut big), Ok(0));
    assert_eq!(stats(dev), Stats { seen: 20, ignored: 0, read: 20, dropped: 0, pending: 0 });
}

#[test]
fn wait_without_events_would_block_or_times_out() {
    let (rig, _mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    assert_eq!(dev.wait(&c, Timeout::NoWait), Err(Error::WouldBlock));
    assert_eq!(dev.wait(&c, Timeout::Millis(15)), Err(Error::TimedOut));
    dev.on_event(3);
    dev.on_event(4);
    assert_eq!(dev.wait(&c, Timeout::NoWait), Ok(2));
    assert_eq!(dev.wait(&c, Timeout::Millis(15)), Ok(2));
    assert_eq!(dev.wait(&c, Timeout::Forever), Ok(2));
    assert_eq!(stats(dev).pending, 2, "wait consumes nothing");
}

/// A tick timeout waits at least its ticks (the host clock runs at
/// HOST_TICKS_PER_SEC) and is not stretched to a millisecond multiple first:
/// the deadline is kept in ticks. The upper bound is asserted on target
/// (tests/drivers/event_counter/timeouts), where time is deterministic.
#[test]
fn wait_with_a_tick_timeout_waits_those_ticks() {
    use racefree::backend::std::NANOS_PER_HOST_TICK;
    let (rig, _mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    for ticks in [1u64, 3, 25] {
        let start = std::time::Instant::now();
        assert_eq!(dev.wait(&c, Timeout::Ticks(ticks)), Err(Error::TimedOut));
        let waited = start.elapsed();
        assert!(
            waited.as_nanos() >= u128::from(ticks * NANOS_PER_HOST_TICK),
            "Ticks({ticks}) returned after {waited:?}"
        );
    }
    assert_eq!(dev.wait(&c, Timeout::Ticks(0)), Err(Error::TimedOut));
    dev.on_event(1);
    assert_eq!(dev.wait(&c, Timeout::Ticks(1)), Ok(1));
}

#[test]
fn wait_returns_when_an_event_arrives() {
    let (rig, _mock) = rig_with_mock(4);
    let dev = rig.dev().clone();
    dev.open(&ctx()).unwrap();
    let waiter = {
        let dev = dev.clone();
        std::thread::spawn(move || dev.wait(&ctx(), NEVER))
    };
    settle();
    dev.on_event(5);
    assert_eq!(waiter.join().unwrap(), Ok(1));
}

// ---- close with operations in flight ---------------------------------------

#[test]
fn close_wakes_a_waiter_blocked_forever() {
    let (rig, mock) = rig_with_mock(4);
    let dev = rig.dev().clone();
    dev.open(&ctx()).unwrap();
    let waiter = {
        let dev = dev.clone();
        std::thread::spawn(move || dev.wait(&ctx(), Timeout::Forever))
    };
    settle();
    assert_eq!(dev.close(&ctx(), Timeout::Forever, FAIL_IF_BUSY), Ok(()));
    assert_eq!(waiter.join().unwrap(), Err(Error::Closed));
    assert!(!mock.enabled());
}

/// Regression: a waiter that took close's (or remove's) wake-up while events
/// were pending returned `Ok` without passing it on, so a third waiter slept
/// on and close (or remove) waited for it forever.
#[test]
fn close_and_remove_release_every_waiter_even_with_events_pending() {
    for remove in [false, true] {
        let (rig, _mock) = rig_with_mock(4);
        let dev = rig.dev().clone();
        dev.open(&ctx()).unwrap();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let dev = dev.clone();
                std::thread::spawn(move || dev.wait(&ctx(), NEVER))
            })
            .collect();
        settle();
        dev.on_event(1); // wakes one waiter; one event stays pending
        settle();
        let (result, leaving) = if remove {
            (dev.remove(&ctx(), NEVER), Error::Gone)
        } else {
            (dev.close(&ctx(), NEVER, FAIL_IF_BUSY), Error::Closed)
        };
        assert_eq!(result, Ok(()), "remove: {remove}");
        for w in waiters {
            let r = w.join().unwrap();
            assert!(r == Ok(1) || r == Err(leaving), "remove: {remove}, waiter got {r:?}");
        }
    }
}

#[test]
fn close_fail_if_busy_with_an_operation_in_flight_keeps_the_device_open() {
    let (rig, mock) = rig_with_mock(4);
    let dev = rig.dev().clone();
    let c = ctx();
    dev.open(&c).unwrap();
    let (notifier, release) = notify_in_flight(&dev, 42);
    assert_eq!(dev.close(&c, Timeout::NoWait, FAIL_IF_BUSY), Err(Error::Busy));
    assert_eq!(dev.close(&c, Timeout::Millis(10), FAIL_IF_BUSY), Err(Error::Busy));
    // Still open and usable.
    assert!(mock.enabled());
    assert_eq!(dev.open(&c), Err(Error::Busy));
    dev.on_event(9);
    assert_eq!(dev.wait(&c, Timeout::NoWait), Ok(1));
    assert_eq!(read_all(&dev), vec![Event { sequence: 0, cycles: 9 }]);
    assert_eq!(dev.settings(&c), Ok(raw(0, 0, true)));
    release.open();
    assert_eq!(notifier.join().unwrap(), Ok(42));
    assert_eq!(dev.close(&c, Timeout::NoWait, FAIL_IF_BUSY), Ok(()));
    assert!(!mock.enabled());
}

#[test]
fn close_proceed_with_an_operation_in_flight_closes_and_blocks_reopen() {
    let (rig, mock) = rig_with_mock(4);
    let dev = rig.dev().clone();
    let c = ctx();
    dev.open(&c).unwrap();
    let (notifier, release) = notify_in_flight(&dev, 5);
    assert_eq!(dev.close(&c, Timeout::Millis(10), PROCEED), Ok(()));
    assert!(!mock.enabled());
    assert_eq!(dev.read(&c, &mut [Event::default()]), Err(Error::Closed));
    assert_eq!(dev.wait(&c, Timeout::NoWait), Err(Error::Closed));
    assert_eq!(dev.settings(&c), Err(Error::Closed));
    assert_eq!(dev.close(&c, Timeout::NoWait, PROCEED), Err(Error::Closed));
    dev.on_event(1);
    assert_eq!(stats(&dev).ignored, 1, "closed: events are ignored");
    // The abandoned notify is still in flight: reopening must wait for it.
    assert_eq!(dev.open(&c), Err(Error::Busy));
    assert_eq!(dev.open(&c), Err(Error::Busy));
    release.open();
    // The straggler finishes; the device closed while its sink ran.
    assert_eq!(notifier.join().unwrap(), Err(Error::WouldBlock));
    assert_eq!(dev.open(&c), Ok(()));
    assert!(mock.enabled());
}

/// A source whose next calls can be made to stall until released.
#[derive(Default)]
struct Stalling {
    mock: MockSource,
    stalls: Mutex<std::collections::VecDeque<(Arc<Latch>, Arc<Latch>)>>,
}

impl Stalling {
    /// Makes the next `set` stall; returns (entered, release).
    fn arm(&self) -> (Arc<Latch>, Arc<Latch>) {
        let (entered, release) = (Latch::new(), Latch::new());
        self.stalls.lock().unwrap().push_back((entered.clone(), release.clone()));
        (entered, release)
    }
}

impl EventSource for Stalling {
    fn set(&self, enabled: bool, edge: Edge) -> Result<()> {
        let stall = self.stalls.lock().unwrap().pop_front();
        if let Some((entered, release)) = stall {
            entered.open();
            release.wait();
        }
        self.mock.set(enabled, edge)
    }
}

/// Regression: a configure abandoned by a Proceed close finished its source
/// call after close had disabled the source, leaving it enabled; with a
/// second configure in flight it also re-enabled counting in the ISR, so a
/// closed device counted events as seen.
#[test]
fn configures_abandoned_by_close_proceed_cannot_reenable_the_device() {
    for stragglers in [1usize, 2] {
        let src = Arc::new(Stalling::default());
        let rig = Rig::new(4, src.clone(), Edge::Rising);
        let dev = rig.dev().clone();
        dev.open(&ctx()).unwrap();
        let mut threads = Vec::new();
        let mut releases = Vec::new();
        for edge in 0..stragglers as u32 {
            let (entered, release) = src.arm();
            let dev = dev.clone();
            threads.push(std::thread::spawn(move || dev.configure(&ctx(), raw(edge, 0, true))));
            entered.wait(); // this configure is inside its source call
            releases.push(release);
        }
        assert_eq!(dev.close(&ctx(), Timeout::NoWait, PROCEED), Ok(()));
        assert!(!src.mock.enabled(), "{stragglers}: close disabled the source");
        for (thread, release) in threads.into_iter().zip(releases) {
            release.open();
            assert_eq!(thread.join().unwrap(), Ok(()), "{stragglers}: the straggler's settings are stored");
        }
        assert!(!src.mock.enabled(), "{stragglers}: still disabled after the stragglers finished");
        dev.on_event(1);
        assert_eq!(stats(&dev), Stats { ignored: 1, ..Stats::default() }, "{stragglers}: closed: ignored");
        // Reopening applies the last configure's settings.
        dev.open(&ctx()).unwrap();
        assert!(src.mock.enabled());
        assert_eq!(src.mock.edge(), stragglers as u32 - 1);
    }
}

// ---- remove (hot-unplug) ------------------------------------------------------

#[test]
fn remove_wakes_a_blocked_waiter_and_drops_the_disabled_source() {
    let (src, dropped_flag, at_drop) = Observed::new();
    let rig = Rig::new(4, src, Edge::Rising);
    let dev = rig.dev().clone();
    dev.open(&ctx()).unwrap();
    let waiter = {
        let dev = dev.clone();
        std::thread::spawn(move || dev.wait(&ctx(), Timeout::Forever))
    };
    settle();
    assert_eq!(dev.remove(&ctx(), Timeout::Forever), Ok(()));
    assert_eq!(waiter.join().unwrap(), Err(Error::Gone));
    assert!(dropped(&dropped_flag), "the MockSource was dropped");
    assert_eq!(*at_drop.lock().unwrap(), Some(false), "disabled before it was dropped");
}

#[test]
fn remove_twice_is_gone() {
    let (rig, mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    assert_eq!(dev.remove(&c, Timeout::NoWait), Ok(()));
    assert!(!mock.enabled());
    assert_eq!(Arc::strong_count(&mock), 1, "the driver released its handle");
    let calls = mock.calls();
    assert_eq!(dev.remove(&c, Timeout::NoWait), Err(Error::Gone));
    assert_eq!(dev.remove(&c, Timeout::Forever), Err(Error::Gone));
    assert_eq!(mock.calls(), calls);
}

#[test]
fn remove_of_a_never_opened_device_works() {
    let (src, dropped_flag, at_drop) = Observed::new();
    let rig = Rig::new(4, src, Edge::Rising);
    let (dev, c) = (rig.dev(), ctx());
    assert_eq!(dev.remove(&c, Timeout::NoWait), Ok(()));
    assert!(dropped(&dropped_flag));
    assert_eq!(*at_drop.lock().unwrap(), Some(false));
    assert_eq!(dev.open(&c), Err(Error::Gone));
}

/// An open device over an [`Observed`] source, removed while a `notify` is
/// in flight: the removal timed out and the notify holds the source.
struct RemovedUnderNotify {
    _rig: Rig<Observed>,
    dev: Arc<Dev<Observed>>,
    notifier: std::thread::JoinHandle<Result<i32, Error>>,
    release: Arc<Latch>,
    dropped_flag: Arc<AtomicBool>,
    at_drop: Arc<Mutex<Option<bool>>>,
}

fn removed_under_notify() -> RemovedUnderNotify {
    let (src, dropped_flag, at_drop) = Observed::new();
    let rig = Rig::new(4, src, Edge::Rising);
    let dev = rig.dev().clone();
    dev.open(&ctx()).unwrap();
    let (notifier, release) = notify_in_flight(&dev, 1);
    assert_eq!(dev.remove(&ctx(), Timeout::Millis(10)), Err(Error::TimedOut));
    RemovedUnderNotify { _rig: rig, dev, notifier, release, dropped_flag, at_drop }
}

#[test]
fn remove_with_an_operation_in_flight_times_out_and_the_last_user_drops_the_source() {
    let RemovedUnderNotify { _rig, dev, notifier, release, dropped_flag, at_drop } =
        removed_under_notify();
    let c = ctx();
    assert!(!dropped(&dropped_flag), "still in use by the notify in flight");
    assert_eq!(*at_drop.lock().unwrap(), None);
    // Access is refused already.
    assert_eq!(dev.read(&c, &mut [Event::default()]), Err(Error::Gone));
    assert_eq!(dev.remove(&c, Timeout::NoWait), Err(Error::Gone));
    release.open();
    // The removal changed the device while the sink ran.
    assert_eq!(notifier.join().unwrap(), Err(Error::WouldBlock));
    assert!(dropped(&dropped_flag), "the last user dropped the source");
    assert_eq!(*at_drop.lock().unwrap(), Some(false), "disabled before it was dropped");
}

#[test]
fn every_call_after_remove_is_gone_but_stats_work() {
    let (rig, mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    dev.on_event(1);
    dev.on_event(2);
    assert_eq!(dev.read(&c, &mut [Event::default()]), Ok(1));
    dev.remove(&c, Timeout::NoWait).unwrap();
    let mut buf = [Event::default(); 2];
    assert_eq!(dev.open(&c), Err(Error::Gone));
    assert_eq!(dev.close(&c, Timeout::NoWait, FAIL_IF_BUSY), Err(Error::Gone));
    assert_eq!(dev.close(&c, Timeout::NoWait, PROCEED), Err(Error::Gone));
    assert_eq!(dev.read(&c, &mut buf), Err(Error::Gone));
    assert_eq!(dev.wait(&c, Timeout::NoWait), Err(Error::Gone));
    assert_eq!(dev.wait(&c, Timeout::Forever), Err(Error::Gone));
    assert_eq!(dev.configure(&c, raw(0, 0, true)), Err(Error::Gone));
    assert_eq!(dev.settings(&c), Err(Error::Gone));
    assert_eq!(dev.set_sink(&c, None), Err(Error::Gone));
    assert_eq!(dev.notify(&c), Err(Error::Gone));
    assert_eq!(dev.remove(&c, Timeout::NoWait), Err(Error::Gone));
    // Interrupts still arriving are ignored; the counters stay readable.
    dev.on_event(3);
    assert_eq!(stats(dev), Stats { seen: 2, ignored: 1, read: 1, dropped: 0, pending: 1 });
    assert!(dev.is_ready());
    assert!(!mock.enabled());
}

// ---- restore (re-add after hot-unplug) -------------------------------------------

#[test]
fn restore_of_a_present_device_is_already_and_keeps_the_source() {
    let (rig, mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    // The binding is never even made: dropping a second binding to live
    // hardware could switch off the first one's interrupt.
    let bind = || -> Result<Arc<MockSource>, Error> { panic!("bound present hardware twice") };
    assert_eq!(dev.restore(&c, bind), Err(Error::Already));
    dev.on_event(1);
    assert_eq!(stats(dev).seen, 1, "still counting on the original source");
    assert!(mock.enabled());
}

#[test]
fn restore_brings_a_removed_device_back_closed_with_its_counters_and_events() {
    let (rig, old) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    dev.configure(&c, raw(1, 1, true)).unwrap();
    dev.on_event(10);
    dev.on_event(11);
    dev.remove(&c, Timeout::NoWait).unwrap();
    dev.on_event(12);
    // The hardware is not back yet: the device stays removed.
    assert_eq!(dev.restore(&c, || Err(Error::Gone)), Err(Error::Gone));
    assert_eq!(dev.open(&c), Err(Error::Gone));
    let new = Arc::new(MockSource::default());
    assert_eq!(dev.restore(&c, || Ok(new.clone())), Ok(()));
    assert_eq!(Arc::strong_count(&old), 1, "the old source stays released");
    // Back, but closed: the old client's session ended with the removal.
    assert!(!new.enabled());
    assert_eq!(dev.read(&c, &mut [Event::default()]), Err(Error::Closed));
    dev.on_event(13);
    assert_eq!(stats(dev), Stats { seen: 2, ignored: 2, read: 0, dropped: 0, pending: 2 });
    // A new open drives the new source with the kept settings, and the
    // events from before the removal are still there to read.
    dev.open(&c).unwrap();
    assert!(new.enabled());
    assert_eq!(new.edge(), Edge::Falling as u32);
    assert!(!old.enabled());
    dev.on_event(14);
    assert_eq!(sequences(&read_all(dev)), vec![0, 1, 2]);
    let s = stats(dev);
    assert_eq!((s.seen, s.ignored, s.read, s.pending), (3, 2, 3, 0));
    // And it can go away again, as often as the hardware does.
    assert_eq!(dev.remove(&c, Timeout::NoWait), Ok(()));
    assert_eq!(Arc::strong_count(&new), 1);
    assert_eq!(dev.open(&c), Err(Error::Gone));
    assert_eq!(dev.restore(&c, || Ok(Arc::new(MockSource::default()))), Ok(()));
    assert_eq!(dev.open(&c), Ok(()));
}

#[test]
fn restore_is_refused_while_a_call_from_before_the_removal_is_in_flight() {
    let RemovedUnderNotify { _rig, dev, notifier, release, dropped_flag, .. } =
        removed_under_notify();
    let c = ctx();
    let (fresh, fresh_dropped, _) = Observed::new();
    // The notify in flight still uses the old source: swapping it now would
    // pull it from under that call.
    assert_eq!(dev.restore(&c, || Ok(fresh)), Err(Error::Busy));
    assert!(dropped(&fresh_dropped), "the refused source was dropped");
    assert!(!dropped(&dropped_flag));
    assert_eq!(dev.read(&c, &mut [Event::default()]), Err(Error::Gone), "still removed");
    release.open();
    assert_eq!(notifier.join().unwrap(), Err(Error::WouldBlock));
    assert!(dropped(&dropped_flag), "the last user dropped the old source");
    let (fresh, fresh_dropped, _) = Observed::new();
    assert_eq!(dev.restore(&c, || Ok(fresh)), Ok(()));
    assert!(!dropped(&fresh_dropped));
    assert_eq!(dev.open(&c), Ok(()));
}

#[test]
#[cfg_attr(miri, ignore = "thousands of thread rounds: too slow under Miri")]
fn restore_races_remove_open_and_waiters_without_hanging() {
    // Seeds 002/003 (hot-unplug) under churn: one thread removes and
    // re-adds, another opens, waits, reads and closes, a third raises
    // events. Every call returns a documented error or succeeds; counts
    // reconcile at the end.
    const ROUNDS: u32 = 2_000;
    let (rig, _first) = rig_with_mock(8);
    let dev = rig.dev().clone();
    let stop = Arc::new(AtomicBool::new(false));
    let plug = {
        let dev = dev.clone();
        std::thread::spawn(move || {
            let c = ctx();
            let mut restored = 0;
            for round in 0..ROUNDS {
                match dev.remove(&c, Timeout::Millis(1)) {
                    Ok(()) | Err(Error::TimedOut) => {}
                    other => panic!("round {round}: remove {other:?}"),
                }
                loop {
                    match dev.restore(&c, || Ok(Arc::new(MockSource::default()))) {
                        Ok(()) => break,
                        Err(Error::Busy) => std::thread::yield_now(),
                        other => panic!("round {round}: restore {other:?}"),
                    }
                }
                restored += 1;
            }
            restored
        })
    };
    let client = {
        let (dev, stop) = (dev.clone(), stop.clone());
        std::thread::spawn(move || {
            let c = ctx();
            let mut buf = [Event::default(); 4];
            let mut sessions = 0u32;
            while !stop.load(Ordering::SeqCst) {
                match dev.open(&c) {
                    Ok(()) => sessions += 1,
                    Err(Error::Gone) => continue,
                    // Never Busy: once re-added, the device is closed and
                    // drained (an operation leaves the gate before it gives
                    // up the hardware that `restore` waits for).
                    other => panic!("open {other:?}"),
                }
                match dev.wait(&c, Timeout::Millis(1)) {
                    Ok(_) | Err(Error::TimedOut | Error::Gone | Error::Closed) => {}
                    other => panic!("wait {other:?}"),
                }
                match dev.read(&c, &mut buf) {
                    Ok(_) | Err(Error::Gone | Error::Closed) => {}
                    other => panic!("read {other:?}"),
                }
                match dev.close(&c, Timeout::Millis(100), FAIL_IF_BUSY) {
                    // Already: a re-add is ending this session at this moment.
                    Ok(()) | Err(Error::Gone | Error::Closed | Error::Already) => {}
                    other => panic!("close {other:?}"),
                }
            }
            sessions
        })
    };
    let isr = {
        let (dev, stop) = (dev.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut raised = 0u32;
            while !stop.load(Ordering::SeqCst) {
                dev.on_event(raised);
                raised += 1;
            }
            raised
        })
    };
    assert_eq!(plug.join().unwrap(), ROUNDS);
    stop.store(true, Ordering::SeqCst);
    let sessions = client.join().unwrap();
    let raised = isr.join().unwrap();
    let s = stats(&dev);
    assert_eq!(s.seen + s.ignored, raised, "every interrupt counted or ignored");
    assert_eq!(s.seen, s.read + s.dropped + s.pending);
    println!("{ROUNDS} remove/restore rounds, {sessions} client sessions, {raised} interrupts");
}

// ---- one incarnation per session (presence, remove_ending) ---------------------
//
// Seed 002, reference tracking across a hot-unplug: a caller that keeps
// per-session state outside the device (the Zephyr driver's registry and PM
// usage reference) must see the session open and end within one incarnation
// of the device, or a remove and restore in between hand its state to the
// next client (issue 13: an open device suspended under runtime PM).

#[test]
fn open_is_refused_once_a_removal_has_begun() {
    let (rig, mock) = rig_with_mock(4);
    let dev = rig.dev().clone();
    let (entered, release) = (Latch::new(), Latch::new());
    let remover = {
        let (dev, e, r) = (dev.clone(), entered.clone(), release.clone());
        std::thread::spawn(move || {
            dev.remove_ending(&ctx(), NEVER, || {
                e.open();
                r.wait();
            })
        })
    };
    entered.wait();
    // Decided but not yet revoked: the binding is still there, and yet a
    // session opened now would outlive the end of sessions just run.
    assert_eq!(dev.open(&ctx()), Err(Error::Gone));
    assert_eq!(dev.read(&ctx(), &mut [Event::default()]), Err(Error::Closed));
    release.open();
    assert_eq!(remover.join().unwrap(), Ok(()));
    assert!(!mock.enabled());
}

#[test]
fn a_removal_ends_its_session_before_a_restore_can_complete() {
    let (rig, _mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    let mut ended = 0;
    let removed = dev.remove_ending(&c, Timeout::NoWait, || {
        ended += 1;
        // Still this incarnation: no new one can be brought in yet.
        assert_eq!(
            dev.restore(&ctx(), || Ok(Arc::new(MockSource::default()))),
            Err(Error::Busy)
        );
    });
    assert_eq!(removed, Ok(()));
    assert_eq!(ended, 1);
    // A refused removal ends nothing.
    assert_eq!(dev.remove_ending(&c, Timeout::NoWait, || ended += 1), Err(Error::Gone));
    assert_eq!(ended, 1);
    assert_eq!(dev.restore(&c, || Ok(Arc::new(MockSource::default()))), Ok(()));
    assert_eq!(dev.open(&c), Ok(()));
}

#[test]
fn a_presence_keeps_a_restore_out_until_it_drops() {
    let (rig, _mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    let present = dev.presence().unwrap();
    assert_eq!(dev.remove(&c, Timeout::Millis(10)), Err(Error::TimedOut));
    assert_eq!(dev.presence().err(), Some(Error::Gone), "removed: no new presence");
    let fresh = || Ok(Arc::new(MockSource::default()));
    assert_eq!(dev.restore(&c, fresh), Err(Error::Busy), "the old incarnation is held");
    drop(present);
    assert_eq!(dev.restore(&c, fresh), Ok(()));
    let _again = dev.presence().unwrap();
    assert_eq!(dev.open(&c), Ok(()), "back, closed, and open again");
}

// ---- settings, overflow, ignored events --------------------------------------

#[test]
fn invalid_settings_are_refused_and_change_nothing() {
    let (rig, mock) = rig_with_mock(2);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    dev.configure(&c, raw(1, 0, true)).unwrap();
    let calls = mock.calls();
    for bad in [raw(3, 0, false), raw(0, 2, false), raw(u32::MAX, u32::MAX, false), raw(2, 7, true)] {
        assert_eq!(dev.configure(&c, bad), Err(Error::Invalid), "{bad:?}");
    }
    assert_eq!(dev.settings(&c), Ok(raw(1, 0, true)));
    assert_eq!(mock.calls(), calls, "the source was not touched");
    assert!(mock.enabled());
    assert_eq!(mock.edge(), Edge::Falling as u32);
    // Behaviour unchanged too: still enabled, still drop-newest.
    for i in 0..3 {
        dev.on_event(i);
    }
    assert_eq!(sequences(&read_all(dev)), vec![0, 1]);
}

#[test]
fn configure_applies_to_the_source_and_the_isr() {
    let (rig, mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    dev.configure(&c, raw(2, 1, false)).unwrap();
    assert_eq!(dev.settings(&c), Ok(raw(2, 1, false)));
    assert!(!mock.enabled());
    assert_eq!(mock.edge(), Edge::Both as u32);
    dev.on_event(1);
    dev.configure(&c, raw(1, 0, true)).unwrap();
    assert!(mock.enabled());
    assert_eq!(mock.edge(), Edge::Falling as u32);
    dev.on_event(2);
    assert_eq!(read_all(dev), vec![Event { sequence: 0, cycles: 2 }]);
    assert_eq!(stats(dev), Stats { seen: 1, ignored: 1, read: 1, dropped: 0, pending: 0 });
}

#[test]
fn events_while_disabled_count_as_ignored() {
    let (rig, _mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    dev.on_event(0); // ready but never opened
    dev.open(&c).unwrap();
    dev.on_event(1);
    dev.configure(&c, raw(0, 0, false)).unwrap();
    dev.on_event(2);
    dev.on_event(3);
    dev.configure(&c, raw(0, 0, true)).unwrap();
    dev.on_event(4);
    dev.close(&c, Timeout::NoWait, FAIL_IF_BUSY).unwrap();
    dev.on_event(5);
    let s = stats(dev);
    assert_eq!(s, Stats { seen: 2, ignored: 4, read: 0, dropped: 0, pending: 2 });
    assert_eq!(s.seen + s.ignored, 6, "every interrupt is seen or ignored");
    dev.open(&c).unwrap();
    let got = read_all(dev);
    assert_eq!(got, vec![Event { sequence: 0, cycles: 1 }, Event { sequence: 1, cycles: 4 }]);
}

#[test]
fn drop_newest_keeps_the_oldest_sequences() {
    let (rig, _mock) = rig_with_mock(3);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    for i in 0..7 {
        dev.on_event(100 + i);
    }
    assert_eq!(stats(dev), Stats { seen: 7, ignored: 0, read: 0, dropped: 4, pending: 3 });
    let got = read_all(dev);
    assert_eq!(sequences(&got), vec![0, 1, 2]);
    assert_eq!(got[2].cycles, 102);
}

#[test]
fn drop_oldest_keeps_the_newest_sequences() {
    let (rig, _mock) = rig_with_mock(3);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    dev.configure(&c, raw(0, 1, true)).unwrap();
    for i in 0..7 {
        dev.on_event(100 + i);
    }
    assert_eq!(stats(dev), Stats { seen: 7, ignored: 0, read: 0, dropped: 4, pending: 3 });
    let got = read_all(dev);
    assert_eq!(sequences(&got), vec![4, 5, 6]);
    assert_eq!(got[0].cycles, 104);
    assert_eq!(stats(dev), Stats { seen: 7, ignored: 0, read: 3, dropped: 4, pending: 0 });
}

#[test]
fn a_zero_capacity_ring_drops_every_event() {
    let (rig, _mock) = rig_with_mock(0);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    dev.on_event(1);
    dev.on_event(2);
    assert_eq!(dev.wait(&c, Timeout::NoWait), Err(Error::WouldBlock));
    assert_eq!(dev.read(&c, &mut [Event::default()]), Ok(0));
    assert_eq!(stats(dev), Stats { seen: 2, ignored: 0, read: 0, dropped: 2, pending: 0 });
}

// ---- notification sink -------------------------------------------------------

#[test]
fn notify_without_a_sink_is_invalid() {
    let (rig, _mock) = rig_with_mock(4);
    let (dev, c) = (rig.dev(), ctx());
    dev.open(&c).unwrap();
    assert_eq!(dev.notify(&c), Err(Error::Invalid));
    dev.set_sink(&c, Some(sink(|p| p as i32))).unwrap();
    dev.on_event(1);
    assert_eq!(dev.notify(&c), Ok(1));
    dev.set_sink(&c, None).unwrap();
    assert_eq!(dev.notify(&c), Err(Error::Invalid));
}

#[test]
fn notify_calls_the_sink_with_no_lock_held() {
    let (rig, _mock) = rig_with_mock(8);
    let dev = rig.dev().clone();
    let c = ctx();
    dev.open(&c).unwrap();
    let seen_by_sink = Arc::new(Mutex::new(Vec::new()));
    let (weak, log) = (Arc::downgrade(&dev), seen_by_sink.clone());
    let s = sink(move |pending| {
        let dev = weak.upgrade().expect("device alive during notify");
        let c = ctx();
        // Each of these takes a driver lock: a lock held by notify deadlocks.
        let before = dev.stats().unwrap();
        let settings = dev.settings(&c).unwrap();
        let mut buf = [Event::default(); 8];
        let n = dev.read(&c, &mut buf).unwrap();
        let after = dev.stats().unwrap();
        log.lock().unwrap().push((pending, before.pending, settings, sequences(&buf[..n]), after.pending));
        100 + n as i32
    });
    dev.set_sink(&c, Some(s)).unwrap();
    for i in 0..3 {
        dev.on_event(i);
    }
    let d = dev.clone();
    assert_eq!(without_deadlock(move || d.notify(&ctx())), Ok(103));
    assert_eq!(*seen_by_sink.lock().unwrap(), vec![(3, 3, raw(0, 0, true), vec![0, 1, 2], 0)]);
    assert_eq!(stats(&dev), Stats { seen: 3, ignored: 0, read: 3, dropped: 0, pending: 0 });
    // Nothing pending: the sink is still called, with 0.
    let d = dev.clone();
    assert_eq!(without_deadlock(move || d.notify(&ctx())), Ok(100));
    assert_eq!(seen_by_sink.lock().unwrap()[1].0, 0);
}

#[test]
fn notify_is_would_block_when_the_sink_changes_the_device() {
    let (rig, mock) = rig_with_mock(4);
    let dev = rig.dev().clone();
    let c = ctx();
    dev.open(&c).unwrap();
    let weak = Arc::downgrade(&dev);
    let s = sink(move |_| {
        let dev = weak.upgrade().expect("device alive during notify");
        dev.configure(&ctx(), raw(2, 1, false)).expect("configure from the sink");
        0
    });
    dev.set_sink(&c, Some(s)).unwrap();
    let d = dev.clone();
    assert_eq!(without_deadlock(move || d.notify(&ctx())), Err(Error::WouldBlock));
    // The sink's configure took effect.
    assert_eq!(dev.settings(&c), Ok(raw(2, 1, false)));
    assert!(!mock.enabled());
    assert_eq!(mock.edge(), Edge::Both as u32);

    // Replacing the sink from inside the sink is a change as well.
    let weak = Arc::downgrade(&dev);
    let s = sink(move |_| {
        let dev = weak.upgrade().expect("device alive during notify");
        dev.set_sink(&ctx(), Some(sink(|_| 8))).expect("set_sink from the sink");
        7
    });
    dev.set_sink(&c, Some(s)).unwrap();
    let d = dev.clone();
    assert_eq!(without_deadlock(move || d.notify(&ctx())), Err(Error::WouldBlock));
    assert_eq!(dev.notify(&c), Ok(8), "the new sink is in place");
    // A sink that only reads leaves the result valid.
    let weak = Arc::downgrade(&dev);
    let s = sink(move |_| weak.upgrade().map_or(-1, |d| d.settings(&ctx()).map_or(-2, |s| s.edge as i32)));
    dev.set_sink(&c, Some(s)).unwrap();
    assert_eq!(dev.notify(&c), Ok(2));
}

/// Calls that use only driver memory take no reference to the hardware
/// binding (`Device::begin_data`; seeds 002/003: reference what you use): a
/// removal does not wait for a reader blocked in `wait`, so it completes at
/// once even with `NoWait`, and the reader leaves with `Gone`. (While `wait`
/// held the binding, this removal timed out whenever it checked before the
/// woken reader had left, which on this host is a race the reader usually wins.)
#[test]
fn remove_does_not_wait_for_a_blocked_reader() {
    let (rig, _mock) = rig_with_mock(4);
    let dev = rig.dev().clone();
    dev.open(&ctx()).unwrap();
    let reader = {
        let dev = dev.clone();
        std::thread::spawn(move || dev.wait(&ctx(), Timeout::Forever))
    };
    // Let the reader get in and block (if it has not yet, it is refused
    // with `Gone` after the removal, and the removal cannot wait for it).
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(dev.remove(&ctx(), Timeout::NoWait), Ok(()));
    assert_eq!(reader.join().unwrap(), Err(Error::Gone));
    assert_eq!(dev.read(&ctx(), &mut [Event::default()]), Err(Error::Gone));
}
