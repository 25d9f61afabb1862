//! Stress tests with real threads (seed 000, *Step 4: Test in High-Concurrency Scenarios*).
#![cfg(all(feature = "std", not(loom)))]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use racefree::{
    with_simulated_isr, CloseOutcome, ClosePolicy, Error, Gate, GuardedCounter, RacyCounter,
    Revocable, StdSemaphore, StdSpin, Timeout,
};

const THREADS: usize = 4;
const OPS: usize = 1_000_000;
/// Stops a broken primitive from hanging the suite; never reached by a correct one, whatever
/// the machine's load.
const TIME_BOUND: Duration = Duration::from_secs(120);

fn run_parallel(threads: usize, f: impl Fn(usize) + Sync + Send + 'static) {
    let f = Arc::new(f);
    let start = Arc::new(Barrier::new(threads));
    let hs: Vec<_> = (0..threads)
        .map(|i| {
            let (f, start) = (f.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                f(i)
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
}

#[test]
fn racy_counter_loses_updates() {
    // On an idle multi-core machine the first round loses thousands. On a
    // loaded one (the other tests of this binary run in parallel) the
    // threads may happen to run one after the other for a whole round, so
    // keep trying for up to TIME_BOUND: a lost update needs only one
    // overlap (or one preemption between load and store) in that time.
    // loom proves the loss deterministically (tests/loom_races.rs).
    let start = Instant::now();
    let mut round = 0u64;
    while start.elapsed() < TIME_BOUND {
        round += 1;
        let c = Arc::new(RacyCounter::new());
        let c2 = c.clone();
        run_parallel(THREADS, move |_| {
            for _ in 0..OPS {
                c2.increment();
            }
        });
        let lost = (THREADS * OPS) as u64 - u64::from(c.read());
        if lost > 0 {
            eprintln!(
                "RacyCounter lost {lost} of {} updates (round {round})",
                THREADS * OPS
            );
            return;
        }
    }
    panic!("RacyCounter lost no update in {round} rounds of {THREADS}x{OPS} ({TIME_BOUND:?})");
}

#[test]
fn guarded_counter_loses_none() {
    let c: Arc<GuardedCounter<StdSpin>> = Arc::new(GuardedCounter::new());
    let c2 = c.clone();
    run_parallel(THREADS, move |i| {
        for _ in 0..OPS {
            if i == 0 {
                // One thread plays the ISR.
                with_simulated_isr(|_| c2.increment());
            } else {
                c2.increment();
            }
        }
    });
    assert_eq!(c.read() as usize, THREADS * OPS);
}

#[test]
fn gate_operations_and_close_cycles() {
    // 3 worker threads each get a quota of admitted operations (10^6 in total) through the
    // gate while a closer cycles open/close with both policies. Every admitted operation must
    // run while the gate is open or closing, and a drained close must see no operation inside.
    //
    // Bounded by work done (the quota), not by attempts: attempts can all land while the
    // closer holds the gate closed, which made the verdict depend on the scheduler. The time
    // bound only stops a broken gate from hanging the suite; it does not decide the verdict.
    let gate: Arc<Gate<StdSemaphore>> = Arc::new(Gate::new());
    gate.open().unwrap();
    let start = Instant::now();
    let inside = Arc::new(AtomicUsize::new(0));
    let admitted = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let workers = THREADS - 1;
    let hs: Vec<_> = (0..workers)
        .map(|_| {
            let (gate, inside, admitted) = (gate.clone(), inside.clone(), admitted.clone());
            thread::spawn(move || {
                let quota = OPS / workers;
                let mut mine = 0;
                while mine < quota && start.elapsed() < TIME_BOUND {
                    match gate.begin() {
                        Ok(op) => {
                            inside.fetch_add(1, Ordering::SeqCst);
                            admitted.fetch_add(1, Ordering::Relaxed);
                            inside.fetch_sub(1, Ordering::SeqCst);
                            drop(op);
                            mine += 1;
                        }
                        Err(e) => assert!(e == Error::Closed || e == Error::Busy),
                    }
                }
                mine
            })
        })
        .collect();
    let (g2, i2, d2) = (gate.clone(), inside.clone(), done.clone());
    let closer = thread::spawn(move || {
        let mut cycles = 0u64;
        let mut drained = 0u64;
        // At least one cycle, however the workers were scheduled.
        loop {
            let policy = if cycles % 2 == 0 {
                ClosePolicy::FailIfBusy
            } else {
                ClosePolicy::Proceed
            };
            match g2.close(Timeout::Millis(1), policy) {
                Ok(CloseOutcome::Drained) => {
                    drained += 1;
                    assert_eq!(i2.load(Ordering::SeqCst), 0, "drained with an op inside");
                    assert_eq!(g2.in_flight(), 0);
                    assert_eq!(g2.begin().err(), Some(Error::Closed));
                }
                Ok(CloseOutcome::Abandoned { in_flight }) => assert!(in_flight > 0),
                Err(e) => assert_eq!(e, Error::Busy),
            }
            // Reopen (possibly after abandoned ops finish).
            while g2.open() == Err(Error::Busy) && g2.state() != racefree::GateState::Open {
                thread::yield_now();
            }
            cycles += 1;
            if d2.load(Ordering::SeqCst) {
                break;
            }
        }
        (cycles, drained)
    });
    let per_worker: Vec<usize> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    done.store(true, Ordering::SeqCst);
    let (cycles, drained) = closer.join().unwrap();
    assert!(
        per_worker.iter().all(|&n| n == OPS / workers),
        "a worker was not admitted its quota within {TIME_BOUND:?}: {per_worker:?}"
    );
    assert_eq!(
        gate.in_flight(),
        0,
        "an operation was lost or double-counted"
    );
    let admitted = admitted.load(Ordering::Relaxed);
    eprintln!("gate: {admitted} admitted, {cycles} close cycles, {drained} drained");
    assert!(cycles > 0 && admitted > 0);
    let _ = gate.close(Timeout::Forever, ClosePolicy::FailIfBusy);
    assert_eq!(
        gate.close(Timeout::NoWait, ClosePolicy::Proceed),
        Err(Error::Closed)
    );
}

struct Tracked(Arc<AtomicUsize>, u64);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn revocable_access_vs_revoke() {
    // 10^6 accesses in total across rounds; each round revokes under load, alternating a
    // short timeout (hand-off to the last user) and Forever. The value must be dropped exactly
    // once per round and never read after the drop.
    let rounds = 50;
    let per_round = OPS / rounds / THREADS + 1;
    let total_accesses = Arc::new(AtomicU64::new(0));
    for round in 0..rounds {
        let drops = Arc::new(AtomicUsize::new(0));
        let r: Arc<Revocable<Tracked, StdSemaphore>> =
            Arc::new(Revocable::new(Tracked(drops.clone(), 42)));
        let start = Arc::new(Barrier::new(THREADS + 1));
        let hs: Vec<_> = (0..THREADS)
            .map(|_| {
                let (r, drops, start, total) = (
                    r.clone(),
                    drops.clone(),
                    start.clone(),
                    total_accesses.clone(),
                );
                thread::spawn(move || {
                    start.wait();
                    for _ in 0..per_round {
                        total.fetch_add(1, Ordering::Relaxed);
                        if let Some(g) = r.try_access() {
                            assert_eq!(g.1, 42);
                            assert_eq!(drops.load(Ordering::SeqCst), 0, "use after drop");
                        }
                    }
                })
            })
            .collect();
        start.wait();
        let timeout = if round % 2 == 0 {
            Timeout::Forever
        } else {
            Timeout::NoWait
        };
        match r.revoke(timeout) {
            Ok(true) => assert_eq!(drops.load(Ordering::SeqCst), 1),
            Err(Error::TimedOut) => {}
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(r.revoke(Timeout::NoWait), Ok(false));
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped exactly once");
        drop(r);
        assert_eq!(drops.load(Ordering::SeqCst), 1, "no double drop");
    }
    assert!(total_accesses.load(Ordering::Relaxed) >= OPS as u64);
}
