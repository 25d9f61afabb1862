//! Model-based fuzzing: random operation sequences run on the real
//! `Device<HostKernel, …>` and on a small reference model written here from
//! the documented behaviour. Every return value, the counters, the events
//! read and the mock source's state are compared after every step; a
//! divergence or a panic fails, and proptest shrinks the sequence to a
//! minimal reproducer. See `FUZZING.md` for the long run.
//!
//! Single-threaded on purpose: the model is exact. Concurrency is covered by
//! `device.rs`, `pm.rs`, `stress.rs` and racefree's loom models. "In flight" still happens
//! here: the notification sink calls back into the device while `notify` is running (a
//! suspend from the sink is refused, its drain finding the notify in flight).

mod common;

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use common::{ctx, Dev, Rig};
use event_counter::host::{FnSink, MockSource};
use event_counter::{ClosePolicy, Edge, Error, Event, RawSettings, Result, Stats, Timeout};
use proptest::prelude::*;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngSeed, TestCaseError, TestError, TestRunner,
};

/// Cases when `PROPTEST_CASES` is not set: 5 to 10 s unoptimised, under 1 s
/// optimised, for CI.
const DEFAULT_CASES: u32 = 1024;
/// Longest operation sequence when `FUZZ_MAX_OPS` is not set.
const DEFAULT_MAX_OPS: usize = 100;

// ---- operations -------------------------------------------------------------

/// What a notification sink does when called (from inside `notify`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum SinkAction {
    /// Just returns this value.
    Return(i32),
    Configure(RawSettings),
    Close(ClosePolicy),
    Remove,
    /// Removes, then re-adds at once, while the `notify` that called the
    /// sink is still using the old source.
    RemoveThenRestore,
    Read(usize),
    Open,
    Stats,
    ClearSink,
    /// Power management from inside `notify`: the notify is in flight, so a
    /// suspend (`NoWait`) is refused and re-arms the source.
    Suspend,
    Resume,
}

/// One step of a scenario. Blocking calls all use `Timeout::NoWait`.
#[derive(Clone, Debug)]
enum Op {
    Open,
    Close(ClosePolicy),
    Read(usize),
    Wait,
    Configure(RawSettings),
    Settings,
    SetSink(Option<SinkAction>),
    Notify,
    Remove,
    /// Re-add after a remove, with a fresh source.
    Restore,
    /// PM action suspend (`NoWait`: nothing is in flight at top level).
    Suspend,
    /// PM action resume.
    Resume,
    /// `count` interrupts with cycle stamps `cycles`, `cycles + 1`, …
    Events { count: u8, cycles: u32 },
    /// Fault injection: make the mock source's `set` fail (or not).
    FailSource(bool),
}

/// What the sink did, as logged by the real sink and predicted by the model.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Nested {
    Returned,
    Unit(Result<()>),
    Units(Result<()>, Result<()>),
    Read(Result<Vec<Event>>),
    Stats(Result<Stats>),
}

/// The result of one top-level operation, comparable across device and model.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    None,
    Unit(Result<()>),
    Count(Result<u32>),
    Read(Result<Vec<Event>>),
    Settings(Result<RawSettings>),
    Notify(Result<i32>, Option<(u32, Nested)>),
}

#[derive(Clone, Debug)]
struct Scenario {
    capacity: usize,
    edge: Edge,
    ops: Vec<Op>,
}

// ---- strategies -------------------------------------------------------------

fn raw_value(valid: u32) -> impl Strategy<Value = u32> {
    prop_oneof![8 => 0..valid, 1 => valid..valid + 3, 1 => any::<u32>()]
}

fn raw_settings() -> impl Strategy<Value = RawSettings> {
    (raw_value(3), raw_value(2), proptest::bool::weighted(0.8))
        .prop_map(|(edge, overflow, enabled)| RawSettings { edge, overflow, enabled })
}

fn policy() -> impl Strategy<Value = ClosePolicy> {
    prop_oneof![Just(ClosePolicy::FailIfBusy), Just(ClosePolicy::Proceed)]
}

fn sink_action() -> impl Strategy<Value = SinkAction> {
    prop_oneof![
        4 => any::<i32>().prop_map(SinkAction::Return),
        2 => raw_settings().prop_map(SinkAction::Configure),
        2 => policy().prop_map(SinkAction::Close),
        1 => Just(SinkAction::Remove),
        1 => Just(SinkAction::RemoveThenRestore),
        2 => (0usize..6).prop_map(SinkAction::Read),
        1 => Just(SinkAction::Open),
        1 => Just(SinkAction::Stats),
        1 => Just(SinkAction::ClearSink),
        1 => Just(SinkAction::Suspend),
        1 => Just(SinkAction::Resume),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    // Remove is rare: after it every call but `stats` and `restore` is Gone.
    prop_oneof![
        16 => Just(Op::Open),
        8 => policy().prop_map(Op::Close),
        24 => (0usize..10).prop_map(Op::Read),
        10 => Just(Op::Wait),
        16 => raw_settings().prop_map(Op::Configure),
        4 => Just(Op::Settings),
        16 => proptest::option::weighted(0.85, sink_action()).prop_map(Op::SetSink),
        16 => Just(Op::Notify),
        1 => Just(Op::Remove),
        2 => Just(Op::Restore),
        6 => Just(Op::Suspend),
        6 => Just(Op::Resume),
        32 => (1u8..10, any::<u32>()).prop_map(|(count, cycles)| Op::Events { count, cycles }),
        3 => any::<bool>().prop_map(Op::FailSource),
    ]
}

fn scenario(max_ops: usize) -> impl Strategy<Value = Scenario> {
    let capacity = prop_oneof![1 => Just(0usize), 8 => 1usize..7, 1 => 7usize..20];
    let edge = prop_oneof![Just(Edge::Rising), Just(Edge::Falling), Just(Edge::Both)];
    let ops = proptest::collection::vec(op(), 0..=max_ops);
    (capacity, edge, ops).prop_map(|(capacity, edge, ops)| Scenario { capacity, edge, ops })
}

// ---- coverage -------------------------------------------------------------------

/// How often the model took each interesting branch, printed at the end so a
/// run shows what it exercised (not only that it passed).
static COVERAGE: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());

fn hit(what: &'static str) {
    *COVERAGE.lock().unwrap().entry(what).or_default() += 1;
}

// ---- the reference model ------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gate {
    Unopened,
    Open,
    Closed,
}

/// The driver as documented, in plain data. `in_flight` counts operations
/// running on the device (here: the `notify` whose sink is running).
#[derive(Debug)]
struct Model {
    capacity: usize,
    gate: Gate,
    in_flight: u32,
    /// `remove` ran: the binding is revoked, every call but `stats` is Gone.
    removed: bool,
    /// Suspended for power management (kept across close, remove, restore).
    suspended: bool,
    /// The driver still holds its handle on the source.
    source_held: bool,
    settings: RawSettings,
    sink: Option<SinkAction>,
    /// Bumped by every change of settings, sink, open state or removal
    /// (what `notify` revalidates against).
    generation: u64,
    isr_enabled: bool,
    ring: VecDeque<Event>,
    seen: u32,
    ignored: u32,
    read: u32,
    dropped: u32,
    fail: bool,
    mock_enabled: bool,
    mock_edge: u32,
    mock_calls: u32,
}

fn valid(raw: RawSettings) -> bool {
    raw.edge < 3 && raw.overflow < 2
}

impl Model {
    fn new(capacity: usize, edge: Edge) -> Self {
        Model {
            capacity,
            gate: Gate::Unopened,
            in_flight: 0,
            removed: false,
            suspended: false,
            source_held: true,
            settings: RawSettings { edge: edge as u32, overflow: 0, enabled: true },
            sink: None,
            generation: 0,
            isr_enabled: false,
            ring: VecDeque::new(),
            seen: 0,
            ignored: 0,
            read: 0,
            dropped: 0,
            fail: false,
            mock_enabled: false,
            mock_edge: 0,
            mock_calls: 0,
        }
    }

    fn stats(&self) -> Stats {
        Stats {
            seen: self.seen,
            ignored: self.ignored,
            read: self.read,
            dropped: self.dropped,
            pending: self.ring.len() as u32,
        }
    }

    fn source_set(&mut self, enabled: bool, edge: u32) -> Result<()> {
        self.mock_calls += 1;
        if self.fail {
            hit("source set failed");
            return Err(Error::Invalid);
        }
        self.mock_enabled = enabled;
        self.mock_edge = edge;
        Ok(())
    }

    /// What every thread operation checks first: present, then open, then
    /// not suspended.
    fn begin(&self) -> Result<()> {
        if self.removed {
            Err(Error::Gone)
        } else if self.gate != Gate::Open {
            Err(Error::Closed)
        } else if self.suspended {
            hit("call refused: suspended");
            Err(Error::WouldBlock)
        } else {
            Ok(())
        }
    }

    fn apply_settings(&mut self) -> Result<()> {
        self.isr_enabled =
            self.settings.enabled && self.gate == Gate::Open && !self.removed && !self.suspended;
        self.source_set(self.isr_enabled, self.settings.edge)
    }

    fn open(&mut self) -> Result<()> {
        if self.removed {
            return Err(Error::Gone);
        }
        if self.gate == Gate::Open {
            return Err(Error::Busy);
        }
        if self.suspended {
            hit("open refused: suspended");
            return Err(Error::WouldBlock);
        }
        if self.in_flight > 0 {
            return Err(Error::Busy);
        }
        self.gate = Gate::Open;
        self.generation += 1;
        let r = self.apply_settings();
        if r.is_err() {
            hit("open rolled back: source failed");
            self.isr_enabled = false;
            self.gate = Gate::Closed;
            self.generation += 1;
        }
        r
    }

    fn close(&mut self, policy: ClosePolicy) -> Result<()> {
        if self.removed {
            return Err(Error::Gone);
        }
        if self.gate != Gate::Open {
            return Err(Error::Closed);
        }
        if self.in_flight > 0 && policy == ClosePolicy::FailIfBusy {
            hit("close refused: operation in flight");
            return Err(Error::Busy);
        }
        if self.in_flight > 0 {
            hit("close proceeded: operation in flight");
        }
        self.gate = Gate::Closed;
        self.generation += 1;
        self.isr_enabled = false;
        self.source_set(false, self.settings.edge)
    }

    fn read(&mut self, n: usize) -> Result<Vec<Event>> {
        if n == 0 {
            return Err(Error::Invalid);
        }
        self.begin()?;
        let k = n.min(self.ring.len());
        self.read += k as u32;
        Ok(self.ring.drain(..k).collect())
    }

    fn wait(&self) -> Result<u32> {
        self.begin()?;
        match self.ring.len() {
            0 => Err(Error::WouldBlock),
            n => Ok(n as u32),
        }
    }

    fn configure(&mut self, raw: RawSettings) -> Result<()> {
        if !valid(raw) {
            hit("configure: invalid settings");
            return Err(Error::Invalid);
        }
        self.begin()?;
        self.settings = raw;
        self.generation += 1;
        // NOTE: the new settings stay even when the source refuses them.
        self.apply_settings()
    }

    fn get_settings(&self) -> Result<RawSettings> {
        self.begin()?;
        Ok(self.settings)
    }

    fn set_sink(&mut self, sink: Option<SinkAction>) -> Result<()> {
        self.begin()?;
        self.sink = sink;
        self.generation += 1;
        Ok(())
    }

    fn remove(&mut self) -> Result<()> {
        if self.removed {
            return Err(Error::Gone);
        }
        self.generation += 1;
        self.isr_enabled = false;
        let _ = self.source_set(false, self.settings.edge);
        self.removed = true;
        if self.in_flight > 0 {
            // NoWait: users in flight; the last one drops the source.
            hit("remove timed out: operation in flight");
            return Err(Error::TimedOut);
        }
        self.source_held = false;
        Ok(())
    }

    fn restore(&mut self) -> Result<()> {
        if !self.removed {
            hit("restore refused: present");
            return Err(Error::Already);
        }
        if self.source_held {
            hit("restore refused: old source still in use");
            return Err(Error::Busy);
        }
        hit("restored");
        // The old session ends; settings, sink, counters and ring are kept.
        if self.gate == Gate::Open {
            self.gate = Gate::Closed;
        }
        self.removed = false;
        self.generation += 1;
        self.source_held = true;
        // A fresh source: off, never set, not failing.
        self.fail = false;
        self.mock_enabled = false;
        self.mock_edge = 0;
        self.mock_calls = 0;
        Ok(())
    }

    /// Suspend with `NoWait`: the source goes off first, then the drain is
    /// checked once; a refusal re-arms the source.
    fn suspend(&mut self) -> Result<()> {
        if self.removed {
            hit("suspend refused: removed");
            return Err(Error::Gone);
        }
        if self.suspended {
            hit("suspend refused: already suspended");
            return Err(Error::Already);
        }
        self.suspended = true;
        self.generation += 1;
        if let Err(e) = self.apply_settings() {
            hit("suspend refused: source would not switch off");
            self.suspended = false;
            self.generation += 1;
            let _ = self.apply_settings();
            return Err(e);
        }
        if self.in_flight > 0 {
            hit("suspend refused: operation in flight");
            self.suspended = false;
            self.generation += 1;
            return self.apply_settings().and(Err(Error::Busy));
        }
        hit(if self.gate == Gate::Open { "suspended with a client" } else { "suspended without a client" });
        self.generation += 1;
        Ok(())
    }

    fn resume(&mut self) -> Result<()> {
        if self.removed {
            hit("resume refused: removed");
            return Err(Error::Gone);
        }
        if !self.suspended {
            return Err(Error::Already);
        }
        self.suspended = false;
        self.generation += 1;
        if let Err(e) = self.apply_settings() {
            hit("resume refused: source would not re-arm");
            self.suspended = true;
            self.generation += 1;
            let _ = self.apply_settings();
            return Err(e);
        }
        hit("resumed");
        self.generation += 1;
        Ok(())
    }

    fn notify(&mut self) -> (Result<i32>, Option<(u32, Nested)>) {
        if let Err(e) = self.begin() {
            return (Err(e), None);
        }
        let Some(action) = self.sink.clone() else {
            return (Err(Error::Invalid), None);
        };
        hit("notify: sink called");
        let pending = self.ring.len() as u32;
        let before = self.generation;
        self.in_flight += 1;
        let (value, nested) = match action {
            SinkAction::Return(v) => (v, Nested::Returned),
            SinkAction::Configure(raw) => (SINK_DONE, Nested::Unit(self.configure(raw))),
            SinkAction::Close(policy) => (SINK_DONE, Nested::Unit(self.close(policy))),
            SinkAction::Remove => (SINK_DONE, Nested::Unit(self.remove())),
            SinkAction::RemoveThenRestore => {
                (SINK_DONE, Nested::Units(self.remove(), self.restore()))
            }
            SinkAction::Read(n) => (SINK_DONE, Nested::Read(self.read(n))),
            SinkAction::Open => (SINK_DONE, Nested::Unit(self.open())),
            SinkAction::Stats => (SINK_DONE, Nested::Stats(Ok(self.stats()))),
            SinkAction::ClearSink => (SINK_DONE, Nested::Unit(self.set_sink(None))),
            SinkAction::Suspend => (SINK_DONE, Nested::Unit(self.suspend())),
            SinkAction::Resume => (SINK_DONE, Nested::Unit(self.resume())),
        };
        self.in_flight -= 1;
        if self.removed && self.in_flight == 0 {
            self.source_held = false;
        }
        if self.generation != before {
            hit("notify: changed meanwhile (WouldBlock)");
        }
        let result = if self.generation != before { Err(Error::WouldBlock) } else { Ok(value) };
        (result, Some((pending, nested)))
    }

    fn on_event(&mut self, cycles: u32) {
        if !self.isr_enabled {
            hit("event ignored");
            self.ignored += 1;
            return;
        }
        hit("event recorded");
        let event = Event { sequence: self.seen, cycles };
        self.seen += 1;
        if self.capacity == 0 {
            self.dropped += 1;
        } else if self.ring.len() == self.capacity {
            hit(if self.settings.overflow == 1 { "event dropped: oldest" } else { "event dropped: newest" });
            self.dropped += 1;
            if self.settings.overflow == 1 {
                self.ring.pop_front();
                self.ring.push_back(event);
            }
        } else {
            self.ring.push_back(event);
        }
    }

    fn apply(&mut self, op: &Op) -> Outcome {
        if self.removed && !matches!(op, Op::Restore) {
            hit("operation after remove");
        }
        match op {
            Op::Open => Outcome::Unit(self.open()),
            Op::Close(p) => Outcome::Unit(self.close(*p)),
            Op::Read(n) => Outcome::Read(self.read(*n)),
            Op::Wait => Outcome::Count(self.wait()),
            Op::Configure(raw) => Outcome::Unit(self.configure(*raw)),
            Op::Settings => Outcome::Settings(self.get_settings()),
            Op::SetSink(s) => Outcome::Unit(self.set_sink(s.clone())),
            Op::Notify => {
                let (r, nested) = self.notify();
                Outcome::Notify(r, nested)
            }
            Op::Remove => Outcome::Unit(self.remove()),
            Op::Restore => Outcome::Unit(self.restore()),
            Op::Suspend => Outcome::Unit(self.suspend()),
            Op::Resume => Outcome::Unit(self.resume()),
            Op::Events { count, cycles } => {
                for i in 0..u32::from(*count) {
                    self.on_event(cycles.wrapping_add(i));
                }
                Outcome::None
            }
            Op::FailSource(fail) => {
                self.fail = *fail;
                Outcome::None
            }
        }
    }
}

/// What a sink that did something other than `Return` returns.
const SINK_DONE: i32 = 7;

// ---- the real device ------------------------------------------------------------

static OPS_EXECUTED: AtomicU64 = AtomicU64::new(0);

struct Real {
    rig: Rig,
    mock: Arc<MockSource>,
    log: Arc<Mutex<Vec<(u32, Nested)>>>,
}

fn real_sink(dev: Weak<Dev>, action: SinkAction, log: Arc<Mutex<Vec<(u32, Nested)>>>) -> FnSink {
    FnSink(Arc::new(move |pending| {
        OPS_EXECUTED.fetch_add(1, Ordering::Relaxed);
        let dev = dev.upgrade().expect("the device outlives notify");
        let c = ctx();
        let (value, nested) = match &action {
            SinkAction::Return(v) => (*v, Nested::Returned),
            SinkAction::Configure(raw) => (SINK_DONE, Nested::Unit(dev.configure(&c, *raw))),
            SinkAction::Close(p) => (SINK_DONE, Nested::Unit(dev.close(&c, Timeout::NoWait, *p))),
            SinkAction::Remove => (SINK_DONE, Nested::Unit(dev.remove(&c, Timeout::NoWait))),
            SinkAction::RemoveThenRestore => {
                let removed = dev.remove(&c, Timeout::NoWait);
                // Refused while `notify` holds the old source, so the
                // mock under observation stays the same one.
                let restored = dev.restore(&c, || Ok(Arc::new(MockSource::default())));
                assert!(restored.is_err(), "restored under a user of the old source");
                (SINK_DONE, Nested::Units(removed, restored))
            }
            SinkAction::Read(n) => (SINK_DONE, Nested::Read(read(&dev, *n))),
            SinkAction::Open => (SINK_DONE, Nested::Unit(dev.open(&c))),
            SinkAction::Stats => (SINK_DONE, Nested::Stats(dev.stats())),
            SinkAction::ClearSink => (SINK_DONE, Nested::Unit(dev.set_sink(&c, None))),
            SinkAction::Suspend => (SINK_DONE, Nested::Unit(dev.suspend(&c, Timeout::NoWait))),
            SinkAction::Resume => (SINK_DONE, Nested::Unit(dev.resume(&c))),
        };
        log.lock().unwrap().push((pending, nested));
        value
    }))
}

fn read(dev: &Dev, n: usize) -> Result<Vec<Event>> {
    let mut buf = vec![Event::default(); n];
    let k = dev.read(&ctx(), &mut buf)?;
    buf.truncate(k);
    Ok(buf)
}

impl Real {
    fn new(capacity: usize, edge: Edge) -> Self {
        let mock = Arc::new(MockSource::default());
        let rig = Rig::new(capacity, mock.clone(), edge);
        Real { rig, mock, log: Arc::default() }
    }

    fn apply(&mut self, op: &Op) -> Outcome {
        OPS_EXECUTED.fetch_add(1, Ordering::Relaxed);
        let dev = self.rig.dev();
        let c = ctx();
        match op {
            Op::Open => Outcome::Unit(dev.open(&c)),
            Op::Close(p) => Outcome::Unit(dev.close(&c, Timeout::NoWait, *p)),
            Op::Read(n) => Outcome::Read(read(dev, *n)),
            Op::Wait => Outcome::Count(dev.wait(&c, Timeout::NoWait)),
            Op::Configure(raw) => Outcome::Unit(dev.configure(&c, *raw)),
            Op::Settings => Outcome::Settings(dev.settings(&c)),
            Op::SetSink(action) => {
                let sink = action.clone().map(|a| real_sink(Arc::downgrade(dev), a, self.log.clone()));
                Outcome::Unit(dev.set_sink(&c, sink))
            }
            Op::Notify => {
                let r = dev.notify(&c);
                let mut log = self.log.lock().unwrap();
                let nested = log.pop();
                assert!(log.is_empty(), "the sink ran more than once");
                Outcome::Notify(r, nested)
            }
            Op::Remove => Outcome::Unit(dev.remove(&c, Timeout::NoWait)),
            Op::Restore => {
                let fresh = Arc::new(MockSource::default());
                let r = dev.restore(&c, || Ok(fresh.clone()));
                if r.is_ok() {
                    self.mock = fresh;
                }
                Outcome::Unit(r)
            }
            Op::Suspend => Outcome::Unit(dev.suspend(&c, Timeout::NoWait)),
            Op::Resume => Outcome::Unit(dev.resume(&c)),
            Op::Events { count, cycles } => {
                for i in 0..u32::from(*count) {
                    dev.on_event(cycles.wrapping_add(i));
                }
                Outcome::None
            }
            Op::FailSource(fail) => {
                self.mock.fail_next(*fail);
                Outcome::None
            }
        }
    }
}

// ---- comparison -------------------------------------------------------------------

/// Everything observable after a step, besides the step's own result.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    stats: Result<Stats>,
    ready: bool,
    source_enabled: bool,
    source_edge: u32,
    source_calls: u32,
    source_held_by_driver: bool,
    suspended: bool,
}

fn observe_real(real: &Real) -> Observed {
    Observed {
        stats: real.rig.dev().stats(),
        ready: real.rig.dev().is_ready(),
        source_enabled: real.mock.enabled(),
        source_edge: real.mock.edge(),
        source_calls: real.mock.calls(),
        source_held_by_driver: Arc::strong_count(&real.mock) > 1,
        suspended: real.rig.dev().is_suspended(),
    }
}

fn observe_model(model: &Model) -> Observed {
    Observed {
        stats: Ok(model.stats()),
        ready: true,
        source_enabled: model.mock_enabled,
        source_edge: model.mock_edge,
        source_calls: model.mock_calls,
        source_held_by_driver: model.source_held,
        suspended: model.suspended,
    }
}

fn run(scenario: &Scenario) -> std::result::Result<(), TestCaseError> {
    let mut real = Real::new(scenario.capacity, scenario.edge);
    let mut model = Model::new(scenario.capacity, scenario.edge);
    let mut generated = 0u32;
    prop_assert_eq!(observe_real(&real), observe_model(&model), "at start");
    for (step, op) in scenario.ops.iter().enumerate() {
        let got = real.apply(op);
        let want = model.apply(op);
        prop_assert_eq!(&got, &want, "step {}: {:?}: device vs model", step, op);
        let (got, want) = (observe_real(&real), observe_model(&model));
        prop_assert_eq!(&got, &want, "after step {}: {:?}: device vs model", step, op);
        // The documented invariants, checked on the device's own numbers.
        if let Op::Events { count, .. } = op {
            generated += u32::from(*count);
        }
        let s = got.stats.expect("stats work after init");
        prop_assert_eq!(s.seen, s.read + s.dropped + s.pending, "after step {}: reconciliation", step);
        prop_assert_eq!(generated, s.seen + s.ignored, "after step {}: seen or ignored", step);
    }
    Ok(())
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

#[test]
#[cfg_attr(miri, ignore = "thousands of scenarios, and proptest's regression file needs file I/O")]
fn device_matches_model() {
    let mut config = Config {
        // Absolute, so the regressions file lands beside this file.
        source_file: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/model_fuzz.rs")),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..Config::default()
    };
    // `Config::default()` already honours PROPTEST_CASES and PROPTEST_RNG_SEED.
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = DEFAULT_CASES;
    }
    // Always run from a known seed, and print it, so any run can be replayed.
    let seed = match config.rng_seed {
        RngSeed::Fixed(seed) => seed,
        RngSeed::Random => {
            use std::hash::{BuildHasher, Hasher};
            std::collections::hash_map::RandomState::new().build_hasher().finish()
        }
    };
    config.rng_seed = RngSeed::Fixed(seed);
    let cases = config.cases;
    let max_ops = env_number("FUZZ_MAX_OPS", DEFAULT_MAX_OPS);
    let before = OPS_EXECUTED.load(Ordering::Relaxed);
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&scenario(max_ops), |s| run(&s));
    let ops = OPS_EXECUTED.load(Ordering::Relaxed) - before;
    match outcome {
        Ok(()) => {
            println!(
                "model_fuzz: seed {seed}, {cases} cases (max {max_ops} operations each), \
                 {ops} operations executed, 0 divergences, {:.1?}",
                started.elapsed()
            );
            for (what, n) in COVERAGE.lock().unwrap().iter() {
                println!("  {n:>9}  {what}");
            }
        }
        Err(TestError::Fail(why, minimal)) => {
            panic!(
                "device and model diverge: {why}\nminimal reproducer (seed {seed}, {ops} operations \
                 executed; replay with PROPTEST_RNG_SEED={seed}):\n{minimal:#?}"
            )
        }
        Err(e) => panic!("fuzzing aborted (seed {seed}): {e}"),
    }
}
