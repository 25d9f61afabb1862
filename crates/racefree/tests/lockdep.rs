//! The lock validator (seed 000, *Step 3: Validate with Lockdep*): one test per diagnostic,
//! each provoking it on purpose with its own lock classes and its own platform (so its own
//! validator state: tests run in parallel without seeing each other's reports). Threads that
//! establish an order are joined before the next one starts, so nothing depends on
//! scheduling and nothing ever deadlocks.
//!
//! Each test asserts the diagnostic kind, the classes and the count, so it fails if the
//! validator is disabled (the hooks then do nothing and no report appears) or broken.
#![cfg(all(feature = "lockdep", feature = "std", not(loom)))]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;

use racefree::lockdep::{
    self, ContextId, Diagnostic, DiagnosticKind, Platform, Policy, Report, Validated,
    ValidatedSemaphore, Validator,
};
use racefree::{
    lock_class, with_simulated_isr, Backend, Consistent, Mutex, Semaphore, SpinLock, StdMutex,
    StdProbe, StdSemaphore, StdSpin, ThreadContext, Timeout, Versioned,
};

/// Declares a host platform with a validator of its own.
macro_rules! platform {
    ($name:ident) => {
        platform!($name, Policy::Warn);
    };
    ($name:ident, $policy:expr) => {
        enum $name {}
        impl Platform for $name {
            const POLICY: Policy = $policy;
            fn current_context() -> ContextId {
                lockdep::std_context()
            }
            fn validator() -> &'static Validator {
                static VALIDATOR: Validator = Validator::new();
                &VALIDATOR
            }
            fn emit(report: &Report) {
                eprintln!("{report}");
            }
        }
    };
}

fn ctx() -> ThreadContext {
    ThreadContext::current::<StdProbe>().unwrap()
}

/// The last report of `P`, after checking that exactly `count` were made.
fn last<P: Platform>(count: u32) -> Report {
    assert_eq!(lockdep::report_count::<P>(), count, "reports so far");
    lockdep::last_report::<P>().expect("a report")
}

fn graph<P: Platform>() -> String {
    let mut out = String::new();
    lockdep::write_graph::<P>(&mut out).unwrap();
    out
}

/// `StdSpin`, declared as masking interrupts like `k_spin_lock`.
enum MaskingSpin {}
/// `StdSpin`, declared as needing LIFO release like `k_spin_unlock`.
enum LifoSpin {}

macro_rules! std_spin_variant {
    ($name:ident, $masks:expr, $lifo:expr) => {
        // SAFETY: every raw operation is `StdSpin`'s; only the declared properties differ.
        unsafe impl Backend for $name {
            type Kind = <StdSpin as Backend>::Kind;
            type State = <StdSpin as Backend>::State;
            type GuardState = <StdSpin as Backend>::GuardState;
            type Probe = <StdSpin as Backend>::Probe;
            const MASKS_INTERRUPTS: bool = $masks;
            const RELEASE_LIFO: bool = $lifo;
            fn new_state() -> Self::State {
                StdSpin::new_state()
            }
            unsafe fn lock(state: *mut Self::State) -> Self::GuardState {
                // SAFETY: forwarded contract.
                unsafe { StdSpin::lock(state) }
            }
            unsafe fn try_lock(state: *mut Self::State) -> Option<Self::GuardState> {
                // SAFETY: forwarded contract.
                unsafe { StdSpin::try_lock(state) }
            }
            unsafe fn unlock(state: *mut Self::State, guard: &Self::GuardState) {
                // SAFETY: forwarded contract.
                unsafe { StdSpin::unlock(state, guard) }
            }
        }
    };
}
std_spin_variant!(MaskingSpin, true, false);
std_spin_variant!(LifoSpin, false, true);

#[test]
fn lock_order_inversion_is_reported_without_a_deadlock() {
    platform!(P);
    type Spin = Validated<StdSpin, P>;
    let a: Arc<SpinLock<u32, Spin>> = Arc::new(SpinLock::new(0, lock_class!("ld.order.a")));
    let b: Arc<SpinLock<u32, Spin>> = Arc::new(SpinLock::new(0, lock_class!("ld.order.b")));

    // Thread 1: A then B. Joined before thread 2 starts: the two never overlap.
    let (a1, b1) = (a.clone(), b.clone());
    let first = thread::spawn(move || {
        let _a = a1.lock();
        let _b = b1.lock();
        P::current_context()
    })
    .join()
    .unwrap();
    assert_eq!(lockdep::report_count::<P>(), 0, "one order alone is fine");
    assert_eq!(graph::<P>(), "\"ld.order.a\" -> \"ld.order.b\"\n");

    // Thread 2: B then A.
    let (a2, b2) = (a.clone(), b.clone());
    let second = thread::spawn(move || {
        let _b = b2.lock();
        let _a = a2.lock();
        P::current_context()
    })
    .join()
    .unwrap();
    let report = last::<P>(1);
    assert_eq!(lockdep::count::<P>(DiagnosticKind::LockOrderInversion), 1);
    match *report.diagnostic() {
        Diagnostic::LockOrderInversion {
            held,
            acquiring,
            context,
            recorded_by,
            through,
        } => {
            assert_eq!(
                (held.name(), acquiring.name()),
                ("ld.order.b", "ld.order.a")
            );
            assert_eq!(context, second);
            assert_eq!(recorded_by, Some(first));
            assert!(through.is_none());
        }
        other => panic!("wrong diagnostic {other:?}"),
    }
    assert_eq!(
        report.as_str(),
        format!(
            "lockdep: lock-order inversion: {second} acquires \"ld.order.a\" while holding \
             \"ld.order.b\", but \"ld.order.a\" -> \"ld.order.b\" was recorded by {first}: \
             possible ABBA deadlock"
        )
    );
    assert_eq!(
        graph::<P>(),
        "\"ld.order.a\" -> \"ld.order.b\"\n\"ld.order.b\" -> \"ld.order.a\"\n"
    );

    // Reported once: the same inversion again, from this thread, adds nothing.
    for _ in 0..3 {
        let _b = b.lock();
        let _a = a.lock();
    }
    assert_eq!(lockdep::report_count::<P>(), 1);
}

#[test]
fn lock_order_inversion_is_found_through_a_chain() {
    platform!(P);
    type Mtx = Validated<StdMutex, P>;
    let a: Mutex<(), Mtx> = Mutex::new((), lock_class!("ld.chain.a"));
    let b: Mutex<(), Mtx> = Mutex::new((), lock_class!("ld.chain.b"));
    let c: Mutex<(), Mtx> = Mutex::new((), lock_class!("ld.chain.c"));
    let ctx = ctx();
    {
        let _a = a.lock(&ctx);
        let _b = b.lock(&ctx);
    }
    {
        let _b = b.lock_timeout(&ctx, Timeout::Millis(100)).unwrap();
        let _c = c.lock(&ctx);
    }
    // A try-lock cannot deadlock: C then A by try adds no dependency and no report.
    {
        let _c = c.lock(&ctx);
        assert!(a.try_lock(&ctx).is_some());
    }
    assert_eq!(lockdep::report_count::<P>(), 0);
    assert!(!P::validator().depends_on(lock_class!("ld.chain.c"), lock_class!("ld.chain.a")));
    {
        let _c = c.lock(&ctx);
        let _a = a.lock(&ctx);
    }
    let report = last::<P>(1);
    let Diagnostic::LockOrderInversion {
        held,
        acquiring,
        through,
        ..
    } = *report.diagnostic()
    else {
        panic!("wrong diagnostic {report:?}");
    };
    assert_eq!(
        (held.name(), acquiring.name()),
        ("ld.chain.c", "ld.chain.a")
    );
    assert_eq!(through.map(|c| c.name()), Some("ld.chain.b"));
    assert!(report
        .as_str()
        .contains("\"ld.chain.a\" -> \"ld.chain.b\" -> ... -> \"ld.chain.c\""));
}

#[test]
fn sleeping_lock_under_a_spinlock_is_sleep_in_atomic() {
    platform!(P);
    let spin: SpinLock<u32, Validated<StdSpin, P>> =
        SpinLock::new(0, lock_class!("ld.atomic.spin"));
    let mutex: Mutex<u32, Validated<StdMutex, P>> = Mutex::new(0, lock_class!("ld.atomic.mutex"));
    let other: Mutex<u32, Validated<StdMutex, P>> = Mutex::new(0, lock_class!("ld.atomic.other"));
    let ctx = ctx();
    {
        // Fine: mutex outside, spinlock inside.
        let _m = mutex.lock(&ctx);
        let _s = spin.lock();
        // Fine: a try-lock never sleeps.
        assert!(other.try_lock(&ctx).is_some());
        assert!(other.lock_timeout(&ctx, Timeout::NoWait).is_ok());
    }
    assert_eq!(lockdep::report_count::<P>(), 0);
    // (Another spinlock class: taking "ld.atomic.spin" here would also invert the order
    // recorded above.)
    let spin2: SpinLock<u32, Validated<StdSpin, P>> =
        SpinLock::new(0, lock_class!("ld.atomic.spin2"));
    {
        let _s = spin2.lock();
        let _m = mutex.lock(&ctx);
    }
    let report = last::<P>(1);
    assert_eq!(lockdep::count::<P>(DiagnosticKind::SleepInAtomic), 1);
    assert_eq!(report.kind(), DiagnosticKind::SleepInAtomic);
    assert_eq!(
        report.diagnostic().class_names(),
        (Some("ld.atomic.mutex"), Some("ld.atomic.spin2"))
    );
    assert_eq!(
        report.as_str(),
        format!(
            "lockdep: sleep in atomic context: thread-only lock \"ld.atomic.mutex\" may sleep \
             in {} while holding isr-safe \"ld.atomic.spin2\"",
            P::current_context()
        )
    );
}

#[test]
fn semaphore_take_that_may_wait_is_sleep_in_atomic() {
    platform!(P);
    let spin: SpinLock<u32, Validated<StdSpin, P>> = SpinLock::new(0, lock_class!("ld.sem.spin"));
    let sem: ValidatedSemaphore<StdSemaphore, P> = ValidatedSemaphore::new();
    sem.give();
    sem.give();
    {
        let _s = spin.lock();
        // No-wait never sleeps.
        assert!(sem.take(Timeout::NoWait).is_ok());
    }
    assert!(sem.take(Timeout::Millis(1)).is_ok(), "no lock held: fine");
    assert_eq!(lockdep::report_count::<P>(), 0);
    let line = {
        let _s = spin.lock();
        let line = line!() + 1;
        let _ = sem.take(Timeout::Millis(1));
        line
    };
    let report = last::<P>(1);
    let Diagnostic::SleepInAtomic {
        what,
        acquiring,
        held,
        context,
        at,
    } = *report.diagnostic()
    else {
        panic!("wrong diagnostic {report:?}");
    };
    assert_eq!(what, "semaphore take");
    assert!(acquiring.is_none());
    assert_eq!(held.map(|c| c.name()), Some("ld.sem.spin"));
    assert_eq!(context, P::current_context());
    assert_eq!(at.map(|l| (l.file(), l.line())), Some((file!(), line)));

    // From an ISR, any take that may wait is a bug, lock or no lock.
    with_simulated_isr(|_| {
        let _ = sem.take(Timeout::Millis(1));
    });
    let report = last::<P>(2);
    let Diagnostic::SleepInAtomic { held, context, .. } = *report.diagnostic() else {
        panic!("wrong diagnostic {report:?}");
    };
    assert!(held.is_none());
    assert!(context.is_isr());
    assert!(report.as_str().contains("may sleep in ISR level 1"));
    assert_eq!(lockdep::count::<P>(DiagnosticKind::SleepInAtomic), 2);
}

#[test]
fn might_sleep_reports_the_caller() {
    platform!(P);
    let spin: SpinLock<u32, Validated<StdSpin, P>> = SpinLock::new(0, lock_class!("ld.might.spin"));
    lockdep::might_sleep::<P>("k_sleep");
    assert_eq!(lockdep::report_count::<P>(), 0);
    let g = spin.lock();
    lockdep::might_sleep::<P>("k_sleep");
    let line = line!() - 1;
    drop(g);
    let report = last::<P>(1);
    assert!(
        report.as_str().starts_with(&format!(
            "lockdep: sleep in atomic context: k_sleep at {}:{line} may sleep",
            file!()
        )),
        "{report}"
    );
}

#[test]
fn recursive_try_lock_is_reported() {
    platform!(P);
    let a: SpinLock<u32, Validated<StdSpin, P>> = SpinLock::new(0, lock_class!("ld.rec.a"));
    let a2: SpinLock<u32, Validated<StdSpin, P>> = SpinLock::new(0, lock_class!("ld.rec.a"));
    let g = a.lock();
    // Another instance of another site's class: nothing.
    drop(a2.lock());
    assert_eq!(lockdep::report_count::<P>(), 0);
    // The same instance again: on Zephyr a uniprocessor k_spin_trylock would succeed.
    assert!(a.try_lock().is_none());
    drop(g);
    let report = last::<P>(1);
    let Diagnostic::RecursiveLock {
        class,
        instance,
        context,
    } = *report.diagnostic()
    else {
        panic!("wrong diagnostic {report:?}");
    };
    assert_eq!(class.name(), "ld.rec.a");
    assert_eq!(instance, &a as *const _ as usize);
    assert_eq!(context, P::current_context());
    assert_eq!(lockdep::count::<P>(DiagnosticKind::RecursiveLock), 1);
}

#[test]
fn recursive_blocking_lock_panics_before_deadlocking_under_the_panic_policy() {
    platform!(P, Policy::Panic);
    let m: Mutex<u32, Validated<StdMutex, P>> = Mutex::new(0, lock_class!("ld.rec.mutex"));
    let ctx = ctx();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let _g = m.lock(&ctx);
        // StdMutex is not recursive: `lock` would hang forever without the validator; a
        // timed wait is just as blocking for the validator, and times out without it.
        let again = m.lock_timeout(&ctx, Timeout::Millis(50));
        assert!(again.is_err(), "StdMutex is not recursive");
    }));
    let message = outcome.unwrap_err();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with("lockdep: recursive locking: "),
        "{message}"
    );
    assert!(message.contains("\"ld.rec.mutex\""));
    assert_eq!(last::<P>(1).kind(), DiagnosticKind::RecursiveLock);
    // The first guard was released while unwinding: the lock is usable and not held.
    m.assert_not_held();
    assert_eq!(*m.try_lock(&ctx).unwrap(), 0);
    assert_eq!(lockdep::report_count::<P>(), 1);
}

#[test]
fn irq_safety_inversion_isr_first() {
    platform!(P);
    let events: SpinLock<u32, Validated<StdSpin, P>> =
        SpinLock::new(0, lock_class!("ld.irq.events"));
    let isr = with_simulated_isr(|_| {
        *events.lock() += 1;
        P::current_context()
    });
    assert_eq!(lockdep::report_count::<P>(), 0, "ISR use alone is fine");
    // The thread takes it with a lock that does not mask interrupts.
    *events.lock() += 1;
    let report = last::<P>(1);
    let Diagnostic::IrqSafetyInversion {
        class,
        isr_context,
        thread_context,
    } = *report.diagnostic()
    else {
        panic!("wrong diagnostic {report:?}");
    };
    assert_eq!(class.name(), "ld.irq.events");
    assert_eq!(isr_context, Some(isr));
    assert_eq!(thread_context, Some(P::current_context()));
    assert_eq!(lockdep::count::<P>(DiagnosticKind::IrqSafetyInversion), 1);
}

#[test]
fn irq_safety_inversion_thread_first_and_masking_backends_are_fine() {
    platform!(P);
    let unmasked: SpinLock<u32, Validated<StdSpin, P>> =
        SpinLock::new(0, lock_class!("ld.irq.unmasked"));
    let masked: SpinLock<u32, Validated<MaskingSpin, P>> =
        SpinLock::new(0, lock_class!("ld.irq.masked"));
    let nested: SpinLock<u32, Validated<StdSpin, P>> =
        SpinLock::new(0, lock_class!("ld.irq.nested"));
    // Masking backend in thread and ISR: fine. A non-masking lock taken only under a
    // masking one: interrupts are off, fine too. A try-lock in an ISR cannot spin: fine.
    {
        let _m = masked.lock();
        *nested.lock() += 1;
    }
    *unmasked.lock() += 1;
    with_simulated_isr(|_| {
        *masked.lock() += 1;
        *nested.lock() += 1;
        assert!(unmasked.try_lock().is_some());
    });
    assert_eq!(lockdep::report_count::<P>(), 0);
    // Thread first (above, unmasked), then a blocking use in an ISR: reported.
    with_simulated_isr(|_| *unmasked.lock() += 1);
    let report = last::<P>(1);
    assert_eq!(report.kind(), DiagnosticKind::IrqSafetyInversion);
    assert_eq!(report.diagnostic().class_names().0, Some("ld.irq.unmasked"));
    assert!(report.as_str().contains("interrupt context (ISR level 1"));
}

#[test]
fn thread_only_lock_from_isr_is_reported() {
    platform!(P);
    let m: Mutex<u32, Validated<StdMutex, P>> = Mutex::new(0, lock_class!("ld.isr.mutex"));
    let isr = with_simulated_isr(|_| {
        // Deliberately wrong: evidence forged in an ISR. In debug builds the context check
        // panics right after the validator reported; in release builds the lock proceeds.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: deliberately false, to provoke the diagnostic; the host mutex is
            // harmless in a simulated ISR.
            let forged = unsafe { ThreadContext::new_unchecked() };
            m.try_lock(&forged).map(|g| *g)
        }));
        P::current_context()
    });
    let report = last::<P>(1);
    let Diagnostic::ThreadLockFromIsr { class, context } = *report.diagnostic() else {
        panic!("wrong diagnostic {report:?}");
    };
    assert_eq!(class.name(), "ld.isr.mutex");
    assert_eq!(context, isr);
    assert_eq!(
        report.as_str(),
        format!("lockdep: thread-only lock \"ld.isr.mutex\" acquired in {isr}")
    );
}

#[test]
fn unlock_in_another_context_is_unlock_not_held() {
    platform!(P);
    let l: SpinLock<u32, Validated<StdSpin, P>> = SpinLock::new(0, lock_class!("ld.unheld"));
    let g = l.lock();
    // The thread took it; the "ISR" releases it.
    let isr = with_simulated_isr(move |_| {
        drop(g);
        P::current_context()
    });
    let report = last::<P>(1);
    let Diagnostic::UnlockNotHeld {
        class,
        instance,
        context,
    } = *report.diagnostic()
    else {
        panic!("wrong diagnostic {report:?}");
    };
    assert_eq!(class.name(), "ld.unheld");
    assert_eq!(instance, &l as *const _ as usize);
    assert_eq!(context, isr);
    assert_eq!(lockdep::count::<P>(DiagnosticKind::UnlockNotHeld), 1);
}

#[test]
fn out_of_order_release_is_reported_for_lifo_backends_only() {
    platform!(P);
    let a: SpinLock<u32, Validated<LifoSpin, P>> = SpinLock::new(0, lock_class!("ld.lifo.a"));
    let b: SpinLock<u32, Validated<LifoSpin, P>> = SpinLock::new(0, lock_class!("ld.lifo.b"));
    let x: SpinLock<u32, Validated<StdSpin, P>> = SpinLock::new(0, lock_class!("ld.lifo.x"));
    let y: SpinLock<u32, Validated<StdSpin, P>> = SpinLock::new(0, lock_class!("ld.lifo.y"));
    // Any order is fine for a backend that does not need LIFO.
    let (gx, gy) = (x.lock(), y.lock());
    drop(gx);
    drop(gy);
    // In order: fine.
    let (ga, gb) = (a.lock(), b.lock());
    drop(gb);
    drop(ga);
    assert_eq!(lockdep::report_count::<P>(), 0);
    // A released while B, taken after it, is still held.
    let (ga, gb) = (a.lock(), b.lock());
    drop(ga);
    drop(gb);
    let report = last::<P>(1);
    let Diagnostic::UnlockOutOfOrder {
        released,
        innermost,
        context,
    } = *report.diagnostic()
    else {
        panic!("wrong diagnostic {report:?}");
    };
    assert_eq!(
        (released.name(), innermost.name()),
        ("ld.lifo.a", "ld.lifo.b")
    );
    assert_eq!(context, P::current_context());
    // Both were removed from the held stack all the same.
    a.assert_not_held();
    b.assert_not_held();
    assert_eq!(lockdep::report_count::<P>(), 1);
}

#[test]
fn assert_held_contracts() {
    platform!(P);
    let l: Mutex<u32, Validated<StdMutex, P>> = Mutex::new(0, lock_class!("ld.assert"));
    let ctx = ctx();
    {
        let _g = l.lock(&ctx);
        l.assert_held();
        lockdep::assert_held(&l);
    }
    l.assert_not_held();
    assert_eq!(lockdep::report_count::<P>(), 0);

    // Held by another thread is not held by this one.
    let l = Arc::new(l);
    let (taken_tx, taken_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let l2 = l.clone();
    let holder = thread::spawn(move || {
        let _g = l2.lock(&ThreadContext::current::<StdProbe>().unwrap());
        taken_tx.send(()).unwrap();
        done_rx.recv().unwrap();
    });
    taken_rx.recv().unwrap();
    lockdep::assert_held(&l);
    let line = line!() - 1;
    done_tx.send(()).unwrap();
    holder.join().unwrap();
    let report = last::<P>(1);
    let Diagnostic::AssertHeldFailed { class, context, at } = *report.diagnostic() else {
        panic!("wrong diagnostic {report:?}");
    };
    assert_eq!(class.name(), "ld.assert");
    assert_eq!(context, P::current_context());
    assert_eq!((at.file(), at.line()), (file!(), line));

    let g = l.lock(&ctx);
    lockdep::assert_not_held(&*l);
    drop(g);
    let report = last::<P>(2);
    assert_eq!(report.kind(), DiagnosticKind::AssertNotHeldFailed);
    assert_eq!(report.diagnostic().class_names().0, Some("ld.assert"));
    assert!(report
        .as_str()
        .starts_with("lockdep: assert_not_held failed at "));
}

#[test]
fn unlock_around_keeps_the_held_stack_right() {
    #[derive(Debug)]
    struct Pair(u32, u32);
    impl Consistent for Pair {
        fn is_consistent(&self) -> bool {
            self.0 == self.1
        }
    }
    platform!(P);
    let l: Mutex<Versioned<Pair>, Validated<StdMutex, P>> =
        Mutex::new(Versioned::new(Pair(0, 0)), lock_class!("ld.callout"));
    let ctx = ctx();
    let mut g = l.lock(&ctx);
    let r = g
        .unlock_around(|| {
            // Released during the callout.
            l.assert_not_held();
        })
        .unwrap();
    assert!(!r.changed);
    l.assert_held();
    drop(g);
    l.assert_not_held();
    assert_eq!(lockdep::report_count::<P>(), 0);
    // And the validator was watching: a wrong contract now is caught.
    l.assert_held();
    assert_eq!(last::<P>(1).kind(), DiagnosticKind::AssertHeldFailed);
}

#[test]
fn a_full_held_stack_is_reported_once_and_not_blamed_on_releases() {
    platform!(P);
    let locks: Vec<SpinLock<u32, Validated<StdSpin, P>>> = (0..lockdep::MAX_HELD + 2)
        .map(|_| SpinLock::new(0, lock_class!("ld.capacity")))
        .collect();
    let guards: Vec<_> = locks.iter().map(|l| l.lock()).collect();
    drop(guards);
    let report = last::<P>(1);
    let Diagnostic::CapacityExceeded { table, .. } = *report.diagnostic() else {
        panic!("wrong diagnostic {report:?}");
    };
    assert_eq!(table, "held-lock stack");
    assert!(report
        .as_str()
        .starts_with("lockdep: capacity exceeded: held-lock stack full"));
    // Everything was released, and nothing is held any more.
    for l in &locks {
        l.assert_not_held();
    }
    assert_eq!(lockdep::report_count::<P>(), 1);
}

#[test]
fn reset_forgets_history_and_correct_use_reports_nothing() {
    platform!(P);
    type Spin = Validated<StdSpin, P>;
    let outer: SpinLock<u32, Spin> = SpinLock::new(0, lock_class!("ld.reset.outer"));
    let inner: SpinLock<u32, Spin> = SpinLock::new(0, lock_class!("ld.reset.inner"));
    for _ in 0..10 {
        let _o = outer.lock();
        let _i = inner.lock();
    }
    assert_eq!(lockdep::report_count::<P>(), 0);
    assert!(lockdep::last_report::<P>().is_none());
    assert_eq!(graph::<P>(), "\"ld.reset.outer\" -> \"ld.reset.inner\"\n");
    {
        let _i = inner.lock();
        let _o = outer.lock();
    }
    assert_eq!(last::<P>(1).kind(), DiagnosticKind::LockOrderInversion);
    lockdep::reset::<P>();
    assert_eq!(lockdep::report_count::<P>(), 0);
    assert_eq!(lockdep::count::<P>(DiagnosticKind::LockOrderInversion), 0);
    assert!(lockdep::last_report::<P>().is_none());
    assert_eq!(graph::<P>(), "");
    // After the reset the (now first) order is fine again, the opposite one reported again.
    {
        let _i = inner.lock();
        let _o = outer.lock();
    }
    assert_eq!(lockdep::report_count::<P>(), 0);
    {
        let _o = outer.lock();
        let _i = inner.lock();
    }
    assert_eq!(last::<P>(1).kind(), DiagnosticKind::LockOrderInversion);
}
