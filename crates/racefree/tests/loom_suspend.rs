//! Loom models: gate suspend vs concurrent operations (issue 13; seed 001, *Shutdown*, applied
//! to power management: refuse new operations, drain the running ones, or refuse the suspend).
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::model::Builder;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use racefree::{
    CloseOutcome, ClosePolicy, Error, Gate, GateState, LoomSemaphore, Semaphore, Timeout,
};
use std::sync::atomic::{AtomicUsize as StdAtomic, Ordering as StdOrdering};

fn builder(preemptions: usize) -> Builder {
    let mut b = Builder::new();
    b.preemption_bound = Some(preemptions);
    b
}

fn open_gate() -> Arc<Gate<LoomSemaphore>> {
    let gate: Arc<Gate<LoomSemaphore>> = Arc::new(Gate::new());
    gate.open().unwrap();
    gate
}

/// An operation that marks itself inside while admitted; `true` if it was admitted.
fn operation(gate: &Gate<LoomSemaphore>, inside: &AtomicUsize) -> bool {
    match gate.begin() {
        Ok(op) => {
            inside.fetch_add(1, Ordering::SeqCst);
            inside.fetch_sub(1, Ordering::SeqCst);
            drop(op);
            true
        }
        Err(e) => {
            assert_eq!(
                e,
                Error::WouldBlock,
                "an open gate refuses only while suspended"
            );
            false
        }
    }
}

/// Suspend vs operation. Threads: 2 operations + the suspender (main), which waits a
/// modelled bounded time (`Millis`: loom explores both "drained while waiting" and "timed
/// out"). Preemption bound: 3.
///
/// Checks: a successful suspend leaves no operation inside and refuses new ones; a refused
/// suspend (`Busy`) leaves the gate open, not suspended and admitting; every admitted
/// operation ends; both outcomes occur.
#[test]
fn suspend_vs_operations() {
    // Outcomes seen across all interleavings: [suspended, refused].
    let seen = std::sync::Arc::new([StdAtomic::new(0), StdAtomic::new(0)]);
    let seen2 = seen.clone();
    builder(3).check(move || {
        let gate = open_gate();
        let inside = Arc::new(AtomicUsize::new(0));
        let ops: Vec<_> = (0..2)
            .map(|_| {
                let (gate, inside) = (gate.clone(), inside.clone());
                thread::spawn(move || operation(&gate, &inside))
            })
            .collect();
        let r = gate.suspend(Timeout::Millis(1));
        match r {
            Ok(()) => {
                seen2[0].fetch_add(1, StdOrdering::Relaxed);
                assert_eq!(
                    inside.load(Ordering::SeqCst),
                    0,
                    "suspended while an op was inside"
                );
                assert_eq!(gate.in_flight(), 0);
                assert!(gate.is_suspended());
                assert_eq!(gate.begin().err(), Some(Error::WouldBlock));
                assert_eq!(gate.state(), GateState::Open, "the session survives");
            }
            Err(e) => {
                seen2[1].fetch_add(1, StdOrdering::Relaxed);
                assert_eq!(e, Error::Busy);
                assert!(!gate.is_suspended(), "a refused suspend leaves no trace");
                assert_eq!(gate.state(), GateState::Open, "device stays usable");
                drop(gate.begin().expect("admits again after a refused suspend"));
            }
        }
        for op in ops {
            op.join().unwrap();
        }
        assert_eq!(gate.in_flight(), 0, "every admitted op ended");
        if r.is_ok() {
            assert_eq!(gate.resume(), Ok(()));
        }
        drop(gate.begin().expect("admits after resume"));
    });
    assert!(
        seen[0].load(StdOrdering::Relaxed) > 0,
        "no interleaving suspended"
    );
    assert!(
        seen[1].load(StdOrdering::Relaxed) > 0,
        "no interleaving refused the suspend"
    );
}

/// The drain's memory ordering, checked with a plain (non-atomic) cell, which loom reports as
/// a data race unless the accesses are ordered by happens-before: what an operation wrote is
/// visible to the suspender once `suspend(Forever)` returns (the device may then power the
/// hardware down), and what the resumer wrote before `resume` is visible to an operation
/// admitted after it. Threads: 1 operation + the suspender/resumer (main). Preemption bound: 3.
#[test]
fn suspend_forever_always_drains_and_publishes_the_operations_work() {
    builder(3).check(|| {
        let gate = open_gate();
        // [written by the operation, written by the resumer]
        let cells = Arc::new([UnsafeCell::new(0u32), UnsafeCell::new(0u32)]);
        let (g2, c2) = (gate.clone(), cells.clone());
        let op = thread::spawn(move || {
            if let Ok(op) = g2.begin() {
                // SAFETY: a valid `u32`; whether this write is ordered before the suspender's
                // read is what loom checks (it reports a race).
                c2[0].with_mut(|p| unsafe { *p = 1 });
                drop(op);
            }
            // Admitted only after `resume`, so the resumer's write is visible.
            if let Ok(op) = g2.begin() {
                // SAFETY: as above, against the resumer's write.
                let armed = c2[1].with(|p| unsafe { *p });
                assert!(armed == 0 || armed == 7);
                drop(op);
            }
        });
        assert_eq!(
            gate.suspend(Timeout::Forever),
            Ok(()),
            "Forever always drains"
        );
        // SAFETY: as above, against the operation's write.
        let done = cells[0].with(|p| unsafe { *p });
        assert!(done == 0 || done == 1);
        assert_eq!(gate.in_flight(), 0);
        // SAFETY: as above, against the operation's read after its admission.
        cells[1].with_mut(|p| unsafe { *p = 7 });
        assert_eq!(gate.resume(), Ok(()));
        op.join().unwrap();
    });
}

/// An operation that sleeps on the caller's semaphore (the driver's `wait`) leaves once it is
/// woken and sees the suspension; no wake-up is lost, because `suspend_waking` wakes only once
/// the refusal is published. Loom reports a deadlock otherwise. Threads: 1 sleeper + the
/// suspender (main). Preemption bound: 3.
#[test]
fn suspend_wakes_an_operation_sleeping_on_the_callers_semaphore() {
    builder(3).check(|| {
        let gate = open_gate();
        let events = Arc::new(LoomSemaphore::new());
        let (g2, e2) = (gate.clone(), events.clone());
        let sleeper = thread::spawn(move || {
            let Ok(op) = g2.begin() else { return };
            // The driver's wait loop: check, then sleep; a wake-up rechecks.
            while !g2.is_suspended() {
                e2.take(Timeout::Forever).unwrap();
            }
            drop(op);
        });
        assert_eq!(
            gate.suspend_waking(Timeout::Forever, || events.give()),
            Ok(())
        );
        assert_eq!(gate.in_flight(), 0);
        sleeper.join().unwrap();
    });
}

/// Suspend vs close vs operation: one waiter at a time, the other decides at once. Threads:
/// 1 operation + the closer + the suspender (main). Preemption bound: 3.
///
/// Checks: no deadlock, every admitted operation ends, and each outcome leaves the state its
/// documentation names; a suspension survives the close, and the gate reopens after resume.
#[test]
fn suspend_vs_close_vs_operation() {
    builder(3).check(|| {
        let gate = open_gate();
        let inside = Arc::new(AtomicUsize::new(0));
        let op = {
            let (gate, inside) = (gate.clone(), inside.clone());
            thread::spawn(move || match gate.begin() {
                Ok(op) => {
                    inside.fetch_add(1, Ordering::SeqCst);
                    inside.fetch_sub(1, Ordering::SeqCst);
                    drop(op);
                }
                Err(e) => assert!(matches!(e, Error::WouldBlock | Error::Closed), "{e:?}"),
            })
        };
        let closer = {
            let gate = gate.clone();
            thread::spawn(move || gate.close(Timeout::Millis(1), ClosePolicy::FailIfBusy))
        };
        let suspended = gate.suspend(Timeout::Millis(1));
        if suspended.is_ok() {
            assert_eq!(
                inside.load(Ordering::SeqCst),
                0,
                "suspended while an op was inside"
            );
        }
        let closed = closer.join().unwrap();
        op.join().unwrap();
        assert_eq!(gate.in_flight(), 0);
        match suspended {
            Ok(()) => assert!(gate.is_suspended()),
            Err(e) => {
                assert_eq!(e, Error::Busy);
                assert!(!gate.is_suspended());
            }
        }
        match closed {
            Ok(outcome) => {
                assert_eq!(outcome, CloseOutcome::Drained);
                assert_eq!(gate.state(), GateState::Closed);
            }
            Err(e) => {
                assert_eq!(e, Error::Busy);
                assert_eq!(gate.state(), GateState::Open);
            }
        }
        if gate.is_suspended() {
            assert_eq!(gate.resume(), Ok(()));
        }
        if gate.state() == GateState::Closed {
            gate.open().expect("reopens once resumed and drained");
        }
        drop(gate.begin().expect("open and active again"));
    });
}
