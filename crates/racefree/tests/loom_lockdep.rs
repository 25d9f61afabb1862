//! Loom models of the lock validator's shared bookkeeping (class table, dependency graph,
//! per-context held stacks, dedup table, counters, last-report buffer) under concurrent
//! recording.
//!
//! Needs the feature: `RUSTFLAGS="--cfg loom" cargo test -p racefree --release
//! --target-dir target/loom --test 'loom_*' --features lockdep`. Without it this file is
//! empty.
#![cfg(all(loom, feature = "lockdep"))]

use std::cell::Cell;

use loom::model::Builder;
use loom::thread;
use racefree::lockdep::{
    self, ContextId, Diagnostic, DiagnosticKind, Platform, Report, Validated, Validator,
};
use racefree::{lock_class, LockClass, LoomSpin, SpinLock};

loom::thread_local! {
    /// The model thread's number (main: 0), set by `enter`.
    static THREAD: Cell<usize> = Cell::new(0);
}

loom::lazy_static! {
    /// A fresh validator per explored execution.
    static ref VALIDATOR: Validator = Validator::new();
}

/// The loom platform: model threads are contexts 2, 4, 6…; reports are only recorded.
enum LoomLockdep {}

impl Platform for LoomLockdep {
    fn current_context() -> ContextId {
        ContextId::thread(THREAD.with(Cell::get) * 2 + 2)
    }

    fn validator() -> &'static Validator {
        &VALIDATOR
    }

    fn emit(_: &Report) {}
}

/// Marks the current model thread as thread number `n`.
fn enter(n: usize) {
    THREAD.with(|t| t.set(n));
}

type Spin = SpinLock<u32, Validated<LoomSpin, LoomLockdep>>;

fn builder(preemptions: usize) -> Builder {
    let mut b = Builder::new();
    b.preemption_bound = Some(preemptions);
    b
}

#[test]
fn concurrent_opposite_orders_are_reported_exactly_once() {
    // Threads: two recorders (A→B and B→A on their own lock instances: they never contend,
    // nothing can deadlock) + main. Preemption bound: 2.
    // Whatever the interleaving, the inversion is found (the later of the two dependencies
    // sees the earlier one) and reported once (dedup by class pair).
    builder(2).check(|| {
        let a: &'static LockClass = lock_class!("loom.order.a");
        let b: &'static LockClass = lock_class!("loom.order.b");
        let threads: Vec<_> = [(a, b), (b, a)]
            .into_iter()
            .enumerate()
            .map(|(i, (first, second))| {
                thread::spawn(move || {
                    enter(i + 1);
                    let outer = Spin::new(0, first);
                    let inner = Spin::new(0, second);
                    let _o = outer.lock();
                    let _i = inner.lock();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let v = LoomLockdep::validator();
        assert!(
            v.depends_on(a, b) && v.depends_on(b, a),
            "both orders recorded"
        );
        assert_eq!(v.count(DiagnosticKind::LockOrderInversion), 1);
        assert_eq!(v.report_count(), 1);
        let report = v.last_report().expect("the report was stored");
        let Diagnostic::LockOrderInversion {
            held, acquiring, ..
        } = *report.diagnostic()
        else {
            panic!("wrong diagnostic {report:?}");
        };
        let mut pair = [held.name(), acquiring.name()];
        pair.sort_unstable();
        assert_eq!(pair, ["loom.order.a", "loom.order.b"]);
    });
}

#[test]
fn concurrent_identical_diagnostics_are_reported_once() {
    // Threads: two contexts that both sleep while holding a spinlock of one class (each its
    // own instance) + main. Preemption bound: 3.
    builder(3).check(|| {
        let class: &'static LockClass = lock_class!("loom.atomic");
        let threads: Vec<_> = (1..=2)
            .map(|n| {
                thread::spawn(move || {
                    enter(n);
                    let spin = Spin::new(0, class);
                    let _g = spin.lock();
                    lockdep::might_sleep::<LoomLockdep>("k_sleep");
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let v = LoomLockdep::validator();
        assert_eq!(v.report_count(), 1, "deduplicated");
        assert_eq!(v.count(DiagnosticKind::SleepInAtomic), 1);
        let report = v.last_report().expect("the report was stored");
        assert_eq!(
            report.diagnostic().class_names(),
            (None, Some("loom.atomic"))
        );
        // Both contexts released everything: their held-lock slots are free again.
        let spin = Spin::new(0, class);
        spin.assert_not_held();
        assert_eq!(v.report_count(), 1);
    });
}

#[test]
fn concurrent_distinct_diagnostics_are_all_counted() {
    // Threads: two contexts each reporting its own recursive try-lock (two classes, two
    // reports stored into the one last-report buffer at once) + main. Preemption bound: 3.
    builder(3).check(|| {
        let classes: [&'static LockClass; 2] = [
            lock_class!("loom.recursive.x"),
            lock_class!("loom.recursive.y"),
        ];
        let threads: Vec<_> = classes
            .into_iter()
            .enumerate()
            .map(|(i, class)| {
                thread::spawn(move || {
                    enter(i + 1);
                    let spin = Spin::new(0, class);
                    let _g = spin.lock();
                    assert!(spin.try_lock().is_none());
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let v = LoomLockdep::validator();
        assert_eq!(v.report_count(), 2);
        assert_eq!(v.count(DiagnosticKind::RecursiveLock), 2);
        let report = v.last_report().expect("one of the two was stored");
        assert_eq!(report.kind(), DiagnosticKind::RecursiveLock);
    });
}
