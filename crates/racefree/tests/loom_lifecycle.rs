//! Loom models: gate close vs concurrent operations (both policies), revoke vs access.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::model::Builder;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use racefree::{
    CloseOutcome, ClosePolicy, Error, Gate, GateState, LoomSemaphore, Revocable, Timeout,
};
use std::sync::atomic::{AtomicUsize as StdAtomic, Ordering as StdOrdering};

fn builder(preemptions: usize) -> Builder {
    let mut b = Builder::new();
    b.preemption_bound = Some(preemptions);
    b
}

/// Threads: 2 operations + the closer (main). Preemption bound: 2.
fn gate_model(policy: ClosePolicy, timeout: Timeout) {
    // Outcomes seen across all interleavings: [drained, refused/abandoned].
    let seen = std::sync::Arc::new([StdAtomic::new(0), StdAtomic::new(0)]);
    let seen2 = seen.clone();
    builder(2).check(move || {
        let seen = &seen2;
        let gate: Arc<Gate<LoomSemaphore>> = Arc::new(Gate::new());
        gate.open().unwrap();
        // Set by an operation while it is admitted; cleared before it ends.
        let inside = Arc::new(AtomicUsize::new(0));
        let ops: Vec<_> = (0..2)
            .map(|_| {
                let (gate, inside) = (gate.clone(), inside.clone());
                thread::spawn(move || match gate.begin() {
                    Ok(op) => {
                        inside.fetch_add(1, Ordering::SeqCst);
                        inside.fetch_sub(1, Ordering::SeqCst);
                        drop(op);
                        true
                    }
                    Err(e) => {
                        assert_eq!(e, Error::Closed);
                        false
                    }
                })
            })
            .collect();
        let r = gate.close(timeout, policy);
        match r {
            Ok(CloseOutcome::Drained) => {
                seen[0].fetch_add(1, StdOrdering::Relaxed);
                assert_eq!(gate.state(), GateState::Closed);
                assert_eq!(
                    inside.load(Ordering::SeqCst),
                    0,
                    "drained while an op was inside"
                );
                assert_eq!(gate.in_flight(), 0);
                assert!(gate.begin().is_err());
            }
            Ok(CloseOutcome::Abandoned { in_flight }) => {
                seen[1].fetch_add(1, StdOrdering::Relaxed);
                assert_eq!(policy, ClosePolicy::Proceed);
                assert!((1..=2).contains(&in_flight));
                assert_eq!(gate.state(), GateState::Closed);
                assert!(gate.begin().is_err());
            }
            Err(e) => {
                seen[1].fetch_add(1, StdOrdering::Relaxed);
                assert_eq!(policy, ClosePolicy::FailIfBusy);
                assert_eq!(e, Error::Busy);
                assert_eq!(gate.state(), GateState::Open, "device stays usable");
            }
        }
        let admitted = ops
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&a| a)
            .count();
        assert!(admitted <= 2);
        assert_eq!(gate.in_flight(), 0, "every admitted op ended");
        if r == Ok(CloseOutcome::Drained) || matches!(r, Ok(CloseOutcome::Abandoned { .. })) {
            // All ops ended: the gate can be reopened.
            gate.open().unwrap();
        }
    });
    // Both branches of the policy were explored.
    assert!(
        seen[0].load(StdOrdering::Relaxed) > 0,
        "no interleaving drained"
    );
    assert!(
        seen[1].load(StdOrdering::Relaxed) > 0,
        "no interleaving timed out"
    );
}

#[test]
fn gate_close_fail_if_busy() {
    gate_model(ClosePolicy::FailIfBusy, Timeout::Millis(1));
}

#[test]
fn gate_close_proceed() {
    gate_model(ClosePolicy::Proceed, Timeout::Millis(1));
}

#[test]
fn gate_close_forever_always_drains() {
    // Threads: 1 operation + the closer. Preemption bound: 3.
    builder(3).check(|| {
        let gate: Arc<Gate<LoomSemaphore>> = Arc::new(Gate::new());
        gate.open().unwrap();
        let g2 = gate.clone();
        let h = thread::spawn(move || g2.begin().map(drop).is_ok());
        assert_eq!(
            gate.close(Timeout::Forever, ClosePolicy::FailIfBusy),
            Ok(CloseOutcome::Drained)
        );
        h.join().unwrap();
        assert_eq!(gate.in_flight(), 0);
    });
}

/// The gate's memory orderings, checked with plain (non-atomic) data, which
/// loom reports as a data race unless accesses are ordered by happens-before:
/// what the opener wrote before `open` is visible to an admitted operation
/// (Acquire in `begin`), and what the operation wrote is visible to the
/// closer once `close` reports it drained (Release in the operation's end).
/// Threads: 1 operation + the opener/closer (main). Preemption bound: 3.
#[test]
fn gate_publishes_open_to_ops_and_ops_to_close() {
    builder(3).check(|| {
        let gate: Arc<Gate<LoomSemaphore>> = Arc::new(Gate::new());
        // [device state written before open, result written by the operation]
        let cells = Arc::new([UnsafeCell::new(0u32), UnsafeCell::new(0u32)]);
        let (g2, c2) = (gate.clone(), cells.clone());
        let op = thread::spawn(move || {
            if let Ok(op) = g2.begin() {
                // SAFETY: a valid `u32`; whether this read is ordered after
                // the opener's write is what loom checks (it reports a race).
                let state = c2[0].with(|p| unsafe { *p });
                assert_eq!(state, 7, "admitted before the device was ready");
                // SAFETY: as above, against the closer's read.
                c2[1].with_mut(|p| unsafe { *p = state + 1 });
                drop(op);
            }
        });
        // SAFETY: as above, against the operation's read.
        cells[0].with_mut(|p| unsafe { *p = 7 });
        gate.open().unwrap();
        assert_eq!(
            gate.close(Timeout::Forever, ClosePolicy::FailIfBusy),
            Ok(CloseOutcome::Drained)
        );
        // SAFETY: as above, against the operation's write.
        let result = cells[1].with(|p| unsafe { *p });
        assert!(result == 0 || result == 8);
        op.join().unwrap();
    });
}

/// Counts drops of the revocable value.
struct Tracked(Arc<AtomicUsize>);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Threads: 2 users + the revoker (main). Preemption bound: 2.
fn revoke_model(timeout: Timeout) {
    builder(2).check(move || {
        let drops = Arc::new(AtomicUsize::new(0));
        let r: Arc<Revocable<Tracked, LoomSemaphore>> =
            Arc::new(Revocable::new(Tracked(drops.clone())));
        let users: Vec<_> = (0..2)
            .map(|_| {
                let r = r.clone();
                thread::spawn(move || {
                    // Reading the value checks (via loom's cell tracking) that it is not dropped
                    // concurrently.
                    r.try_access_with(|t| t.0.load(Ordering::SeqCst))
                        .map(|d| assert_eq!(d, 0))
                })
            })
            .collect();
        let outcome = r.revoke(timeout);
        match outcome {
            Ok(true) => assert_eq!(drops.load(Ordering::SeqCst), 1),
            Err(Error::TimedOut) => {}
            other => panic!("unexpected {other:?}"),
        }
        assert!(r.try_access().is_none());
        assert_eq!(r.revoke(Timeout::NoWait), Ok(false));
        for u in users {
            u.join().unwrap();
        }
        // Whoever dropped it, the value is dropped exactly once, no leak.
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop(r);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn revoke_vs_access_with_timeout() {
    revoke_model(Timeout::Millis(1));
}

#[test]
fn revoke_vs_access_no_wait() {
    revoke_model(Timeout::NoWait);
}

/// Hot-unplug and re-plug: a user of the old value races a revoke that gives up at once
/// (`NoWait`, so the user may become the dropper) and a restore. Threads: 1 user + the
/// revoker/restorer (main). Preemption bound: 4 (3 misses the
/// window between the last user's decrement and its drop).
///
/// Checks that the new value never overwrites the old one while it is in use or not yet
/// dropped (loom's cell tracking), that the user sees exactly one of the two values, live, and
/// that each value is dropped exactly once.
#[test]
fn restore_vs_late_user_of_revoked_value() {
    builder(4).check(|| {
        let old_drops = Arc::new(AtomicUsize::new(0));
        let new_drops = Arc::new(AtomicUsize::new(0));
        let r: Arc<Revocable<Tracked, LoomSemaphore>> =
            Arc::new(Revocable::new(Tracked(old_drops.clone())));
        let user = {
            let (r, new) = (r.clone(), new_drops.clone());
            // Some(true): saw the new value; Some(false): the old one; None: no access.
            thread::spawn(move || {
                r.try_access_with(|t| {
                    // Whichever value this is, it is live while we hold access.
                    assert_eq!(t.0.load(Ordering::SeqCst), 0);
                    Arc::ptr_eq(&t.0, &new)
                })
            })
        };
        let _ = r.revoke(Timeout::NoWait);
        match r.restore(Tracked(new_drops.clone())) {
            Ok(()) => {
                user.join().unwrap();
            }
            Err((e, value)) => {
                // Only a user of the old value still in flight may delay the restore.
                assert_eq!(e, Error::Busy);
                assert_eq!(user.join().unwrap(), Some(false));
                assert_eq!(old_drops.load(Ordering::SeqCst), 1, "last user dropped it");
                assert!(r.restore(value).is_ok(), "slot empty once the user left");
            }
        }
        assert_eq!(old_drops.load(Ordering::SeqCst), 1);
        assert!(r.try_access_with(|t| Arc::ptr_eq(&t.0, &new_drops)).unwrap());
        assert_eq!(new_drops.load(Ordering::SeqCst), 0);
        drop(r);
        assert_eq!(new_drops.load(Ordering::SeqCst), 1);
    });
}

/// Two threads restore the same revoked slot at once: exactly one wins; the loser gets its
/// value back (`Busy` while the winner fills the slot, `Already` after). Threads: 2.
/// Preemption bound: 3.
#[test]
fn concurrent_restores_one_wins() {
    builder(3).check(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let r: Arc<Revocable<Tracked, LoomSemaphore>> =
            Arc::new(Revocable::new(Tracked(drops.clone())));
        assert_eq!(r.revoke(Timeout::NoWait), Ok(true));
        let other = {
            let (r, drops) = (r.clone(), drops.clone());
            thread::spawn(move || r.restore(Tracked(drops)).map_err(|(e, _)| e))
        };
        let mine = r.restore(Tracked(drops.clone())).map_err(|(e, _)| e);
        let theirs = other.join().unwrap();
        let wins = [mine, theirs].iter().filter(|o| o.is_ok()).count();
        assert_eq!(wins, 1, "{mine:?} {theirs:?}");
        for loser in [mine, theirs].into_iter().filter_map(Result::err) {
            assert!(matches!(loser, Error::Busy | Error::Already), "{loser:?}");
        }
        // Old value + the loser's value dropped; the winner's is live.
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        assert!(r.try_access().is_some());
        drop(r);
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    });
}
