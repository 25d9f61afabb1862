//! Host platform (feature `std`): threads are numbered, simulated ISRs are nesting levels.

use core::sync::atomic::{AtomicUsize, Ordering};
use std::cell::Cell;

use super::{ContextId, Platform, Report, Validator};

std::thread_local! {
    /// This thread's number, assigned on first use (0: not yet).
    static THREAD_NUMBER: Cell<usize> = const { Cell::new(0) };
}

/// Numbers handed out to host threads, from 1.
static NEXT_THREAD_NUMBER: AtomicUsize = AtomicUsize::new(1);

/// The current host context: thread `2 * n` for the `n`-th thread that asked, or, inside
/// [`with_simulated_isr`](crate::with_simulated_isr), ISR level `depth` on "CPU" `n` (each host
/// thread stands for a CPU of its own).
pub fn std_context() -> ContextId {
    let number = THREAD_NUMBER.with(|n| {
        if n.get() == 0 {
            // Ordering: Relaxed: only uniqueness matters, which the RMW gives.
            n.set(NEXT_THREAD_NUMBER.fetch_add(1, Ordering::Relaxed));
        }
        n.get()
    });
    match crate::backend::std::isr_depth() {
        0 => ContextId::thread(number * 2),
        depth => ContextId::isr(number, depth),
    }
}

/// The ready-made host [`Platform`]: [`std_context`], one process-wide [`Validator`], reports
/// printed to stderr, [`Policy::Warn`](super::Policy::Warn).
///
/// Tests that count reports should declare a platform of their own (with its own `static`
/// validator), so that tests running in parallel do not see each other's reports.
#[derive(Debug)]
pub enum StdLockdep {}

impl Platform for StdLockdep {
    fn current_context() -> ContextId {
        std_context()
    }

    fn validator() -> &'static Validator {
        static VALIDATOR: Validator = Validator::new();
        &VALIDATOR
    }

    fn emit(report: &Report) {
        std::eprintln!("{report}");
    }
}
