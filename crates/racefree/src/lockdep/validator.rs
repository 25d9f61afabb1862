//! The validator's bookkeeping: fixed tables, updated with atomics only, so any context
//! (thread or ISR, any CPU) can record at any time without blocking.
//!
//! | table | contents | written by |
//! |---|---|---|
//! | `classes` | `&'static LockClass` per small class id | first user, compare-exchange 0 → class |
//! | `after` | dependency graph, a bit matrix: row `a` bit `b` = "`b` taken while `a` held" | `fetch_or`, never cleared except by `reset` |
//! | `edges_added`, `edge_log` | count of dependencies, and who recorded each first | the one `fetch_or` that set the bit |
//! | `usage`, `first_*_use` | per class: taken in an ISR / in a thread with interrupts enabled | `fetch_or` |
//! | `contexts` | per live context: the stack of held locks | only by the owning context |
//! | `reported` | keys of the diagnostics already reported (dedup) | compare-exchange 0 → key |
//! | `last` | a copy of the last report | whoever wins a try-lock flag; never waited for |
//!
//! **Why concurrent recording cannot miss an inversion.** A context adding a new dependency
//! sets its bit, then increments `edges_added` (AcqRel), then searches the graph. The
//! increments are read-modify-writes of one location, hence totally ordered, and each one
//! acquires all earlier ones (a release sequence). Of the dependencies closing a cycle, the
//! one whose increment came last therefore sees all the others and reports the cycle.

use core::fmt;
use core::panic::Location;
use core::ptr;

use super::report::{Diagnostic, DiagnosticKind, Report};
use super::{ContextId, Platform, Policy};
use crate::sync::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering, UnsafeCell};
use crate::{LockClass, Timeout};

/// Lock classes the validator can track (creation sites of validated locks).
pub const MAX_CLASSES: usize = 64;
/// Contexts that can hold validated locks at the same time.
pub const MAX_CONTEXTS: usize = 16;
/// Locks one context can hold at the same time.
pub const MAX_HELD: usize = 8;
/// Dependencies whose recording context is remembered (the graph itself has no limit).
pub const MAX_EDGE_LOG: usize = 64;
/// Distinct diagnostics remembered for reporting each only once.
pub const MAX_DISTINCT_REPORTS: usize = 64;

const ROW_WORDS: usize = MAX_CLASSES / 32;
/// Class id meaning "no class" in dedup keys.
const NO_CLASS: u8 = u8::MAX;

/// `usage` bits.
const USED_IN_ISR: u32 = 1 << 0;
const USED_UNMASKED: u32 = 1 << 1;

/// `capacity_reported` bits, one per table.
const TABLE_CLASSES: u32 = 1 << 0;
const TABLE_CONTEXTS: u32 = 1 << 1;
const TABLE_HELD: u32 = 1 << 2;
const TABLE_REPORTS: u32 = 1 << 3;

/// `[expr; N]` for non-`Copy` atomics: a `const` array outside loom (so that a `Validator`
/// can be a `static`), `from_fn` under loom (whose atomics are not `const`).
#[cfg(not(loom))]
macro_rules! array_of {
    ($value:expr; $n:expr) => {
        [const { $value }; $n]
    };
}
#[cfg(loom)]
macro_rules! array_of {
    ($value:expr; $n:expr) => {
        core::array::from_fn(|_| $value)
    };
}

/// What the validator needs to know about a lock's backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LockTraits {
    /// `Kind = IsrSafe`: never sleeps, may be taken in ISRs.
    pub(crate) isr_safe: bool,
    /// [`Backend::MASKS_INTERRUPTS`](crate::Backend::MASKS_INTERRUPTS).
    pub(crate) masks_interrupts: bool,
    /// [`Backend::RELEASE_LIFO`](crate::Backend::RELEASE_LIFO).
    pub(crate) release_lifo: bool,
}

/// One held lock.
#[derive(Clone, Copy)]
struct HeldLock {
    class: u8,
    instance: usize,
    traits: LockTraits,
}

impl HeldLock {
    const EMPTY: HeldLock = HeldLock {
        class: NO_CLASS,
        instance: 0,
        traits: LockTraits {
            isr_safe: false,
            masks_interrupts: false,
            release_lifo: false,
        },
    };
}

/// The locks a context holds, outermost first.
#[derive(Clone, Copy)]
struct HeldStack {
    len: usize,
    entries: [HeldLock; MAX_HELD],
}

impl HeldStack {
    const EMPTY: HeldStack = HeldStack {
        len: 0,
        entries: [HeldLock::EMPTY; MAX_HELD],
    };

    fn iter(&self) -> impl DoubleEndedIterator<Item = &HeldLock> + '_ {
        self.entries[..self.len].iter()
    }

    fn find_instance(&self, instance: usize) -> Option<usize> {
        self.entries[..self.len]
            .iter()
            .rposition(|h| h.instance == instance)
    }

    /// The innermost held isr-safe lock: holding it makes the context atomic.
    fn innermost_isr_safe(&self) -> Option<&HeldLock> {
        self.iter().rev().find(|h| h.traits.isr_safe)
    }

    fn masks_interrupts(&self) -> bool {
        self.iter().any(|h| h.traits.masks_interrupts)
    }
}

/// A context's claim on a held-lock stack.
///
/// # Invariants
///
/// `held` is accessed only by the context whose key is in `owner`, between its successful
/// compare-exchange 0 → key (Acquire) and its store of 0 (Release). A context is sequential
/// (an ISR that interrupts it is another context with another key), so these accesses never
/// overlap.
struct ContextSlot {
    owner: AtomicUsize,
    held: UnsafeCell<HeldStack>,
}

impl ContextSlot {
    #[cfg(not(loom))]
    const fn new() -> Self {
        Self {
            owner: AtomicUsize::new(0),
            held: UnsafeCell::new(HeldStack::EMPTY),
        }
    }

    #[cfg(loom)]
    fn new() -> Self {
        Self {
            owner: AtomicUsize::new(0),
            held: UnsafeCell::new(HeldStack::EMPTY),
        }
    }

    /// A copy of the stack.
    ///
    /// Only for the owning context (type invariant), which `Validator::slot_of` checks.
    fn snapshot(&self) -> HeldStack {
        // SAFETY: the caller owns the slot, so no other context accesses `held` (invariant).
        self.held.with(|p| unsafe { *p })
    }

    /// Only for the owning context, like [`snapshot`](Self::snapshot).
    fn update<R>(&self, f: impl FnOnce(&mut HeldStack) -> R) -> R {
        // SAFETY: as in `snapshot`; `f` gets the only reference for its duration.
        self.held.with_mut(|p| f(unsafe { &mut *p }))
    }
}

/// A copy of the last report, behind a try-lock flag that nobody ever waits for.
///
/// # Invariants
///
/// `report` is accessed only by whoever set `busy` from false to true (Acquire), until it
/// stores false (Release).
struct LastReport {
    busy: AtomicBool,
    report: UnsafeCell<Option<Report>>,
}

impl LastReport {
    fn try_with<R>(&self, f: impl FnOnce(&mut Option<Report>) -> R) -> Option<R> {
        // Ordering: Acquire pairs with the Release below, so the previous holder's access to
        // `report` happens-before ours.
        self.busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        // SAFETY: we set `busy`, so we have exclusive access (type invariant).
        let r = self.report.with_mut(|p| f(unsafe { &mut *p }));
        // Ordering: Release publishes our access to the next holder.
        self.busy.store(false, Ordering::Release);
        Some(r)
    }
}

/// The lock validator's state: classes, dependency graph, held locks, reports.
///
/// One per platform, usually a `static` returned by
/// [`Platform::validator`](super::Platform::validator). Fixed size (3.8 KiB on a 32-bit
/// target), no allocation; every operation is lock-free and may run in any context,
/// including ISRs.
pub struct Validator {
    classes: [AtomicPtr<LockClass>; MAX_CLASSES],
    usage: [AtomicU32; MAX_CLASSES],
    first_isr_use: [AtomicUsize; MAX_CLASSES],
    first_unmasked_use: [AtomicUsize; MAX_CLASSES],
    after: [[AtomicU32; ROW_WORDS]; MAX_CLASSES],
    edges_added: AtomicU32,
    edge_log_pairs: [AtomicU32; MAX_EDGE_LOG],
    edge_log_contexts: [AtomicUsize; MAX_EDGE_LOG],
    contexts: [ContextSlot; MAX_CONTEXTS],
    reported: [AtomicU32; MAX_DISTINCT_REPORTS],
    report_count: AtomicU32,
    kind_counts: [AtomicU32; DiagnosticKind::ALL.len()],
    capacity_reported: AtomicU32,
    untracked: AtomicU32,
    last: LastReport,
}

// SAFETY: all fields are atomics except the two `UnsafeCell`s, whose accesses are made
// exclusive by the ownership protocols stated on `ContextSlot` and `LastReport`; the data in
// them (`HeldStack`, `Report`) is plain `Copy` data with `'static` references only.
unsafe impl Sync for Validator {}

macro_rules! new_validator {
    () => {
        Validator {
            classes: array_of!(AtomicPtr::new(ptr::null_mut()); MAX_CLASSES),
            usage: array_of!(AtomicU32::new(0); MAX_CLASSES),
            first_isr_use: array_of!(AtomicUsize::new(0); MAX_CLASSES),
            first_unmasked_use: array_of!(AtomicUsize::new(0); MAX_CLASSES),
            after: array_of!(array_of!(AtomicU32::new(0); ROW_WORDS); MAX_CLASSES),
            edges_added: AtomicU32::new(0),
            edge_log_pairs: array_of!(AtomicU32::new(0); MAX_EDGE_LOG),
            edge_log_contexts: array_of!(AtomicUsize::new(0); MAX_EDGE_LOG),
            contexts: array_of!(ContextSlot::new(); MAX_CONTEXTS),
            reported: array_of!(AtomicU32::new(0); MAX_DISTINCT_REPORTS),
            report_count: AtomicU32::new(0),
            kind_counts: array_of!(AtomicU32::new(0); DiagnosticKind::ALL.len()),
            capacity_reported: AtomicU32::new(0),
            untracked: AtomicU32::new(0),
            last: LastReport {
                busy: AtomicBool::new(false),
                report: UnsafeCell::new(None),
            },
        }
    };
}

impl Default for Validator {
    fn default() -> Self {
        Self::new()
    }
}

impl Validator {
    /// An empty validator; `const` so it can be a `static` (not under loom).
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        new_validator!()
    }

    /// An empty validator (loom: create it inside the model, e.g. with `loom::lazy_static!`).
    #[cfg(loom)]
    pub fn new() -> Self {
        new_validator!()
    }

    // ---- queries -------------------------------------------------------------------------

    /// Distinct diagnostics reported since creation or [`reset`](Self::reset).
    pub fn report_count(&self) -> u32 {
        // Ordering: Relaxed: a statistic; callers synchronise with the reporters otherwise
        // (e.g. by joining them).
        self.report_count.load(Ordering::Relaxed)
    }

    /// Distinct diagnostics of `kind` reported.
    pub fn count(&self, kind: DiagnosticKind) -> u32 {
        // Ordering: Relaxed, as in `report_count`.
        self.kind_counts[kind.index()].load(Ordering::Relaxed)
    }

    /// A copy of the last report, if any. `None` also while a report is being stored
    /// concurrently (never waits).
    pub fn last_report(&self) -> Option<Report> {
        self.last.try_with(|r| *r).flatten()
    }

    /// True if the graph records that `to` was taken while `from` was held.
    pub fn depends_on(&self, from: &'static LockClass, to: &'static LockClass) -> bool {
        match (self.find_class(from), self.find_class(to)) {
            (Some(a), Some(b)) => self.has_edge(a, b),
            _ => false,
        }
    }

    /// Calls `f(from, to)` for every recorded dependency (`to` taken while `from` held), in
    /// class-registration order.
    pub fn for_each_dependency(&self, mut f: impl FnMut(&'static LockClass, &'static LockClass)) {
        for from in 0..MAX_CLASSES as u8 {
            let Some(from_class) = self.class(from) else {
                break;
            };
            self.for_each_successor(from, |to| {
                if let Some(to_class) = self.class(to) {
                    f(from_class, to_class);
                }
                false
            });
        }
    }

    /// Writes the dependency graph, one `"held" -> "taken"` line per dependency: the driver's
    /// lock order as recorded so far.
    pub fn write_graph(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        let mut result = Ok(());
        self.for_each_dependency(|from, to| {
            if result.is_ok() {
                result = writeln!(out, "\"{}\" -> \"{}\"", from.name(), to.name());
            }
        });
        result
    }

    /// Forgets what was learned: the dependency graph, interrupt usage, reported diagnostics,
    /// counts and the last report. Keeps the class table and the locks currently held, which
    /// are facts, not history. For tests; call it while no other context uses the validator,
    /// or concurrent reports may survive it.
    pub fn reset(&self) {
        // Ordering: Relaxed throughout: `reset` publishes nothing; callers order it against
        // other validator users themselves (it is for quiescent test set-ups).
        for row in &self.after {
            for word in row {
                word.store(0, Ordering::Relaxed);
            }
        }
        for i in 0..MAX_CLASSES {
            self.usage[i].store(0, Ordering::Relaxed);
            self.first_isr_use[i].store(0, Ordering::Relaxed);
            self.first_unmasked_use[i].store(0, Ordering::Relaxed);
        }
        self.edges_added.store(0, Ordering::Relaxed);
        for pair in &self.edge_log_pairs {
            pair.store(0, Ordering::Relaxed);
        }
        for key in &self.reported {
            key.store(0, Ordering::Relaxed);
        }
        self.report_count.store(0, Ordering::Relaxed);
        for count in &self.kind_counts {
            count.store(0, Ordering::Relaxed);
        }
        self.capacity_reported.store(0, Ordering::Relaxed);
        self.untracked.store(0, Ordering::Relaxed);
        while self.last.try_with(|r| *r = None).is_none() {
            crate::sync::spin_loop();
        }
    }

    // ---- the checks, called from the backend hooks ----------------------------------------

    /// Before an acquisition attempt: context, recursion, sleep and lock-order checks; records
    /// the new dependencies of a blocking acquisition.
    pub(crate) fn acquiring<P: Platform>(
        &self,
        class: &'static LockClass,
        instance: usize,
        wait: Timeout,
        traits: LockTraits,
    ) {
        let context = P::current_context();
        let Some(id) = self.class_id::<P>(class, context) else {
            return;
        };
        let held = self.held(context);
        if !traits.isr_safe {
            if context.is_isr() {
                self.report::<P>(
                    Diagnostic::ThreadLockFromIsr { class, context },
                    (id, NO_CLASS),
                );
            } else if !wait.is_no_wait() {
                if let Some(atomic) = held.innermost_isr_safe() {
                    self.report::<P>(
                        Diagnostic::SleepInAtomic {
                            what: "thread-only lock",
                            acquiring: Some(class),
                            held: self.class(atomic.class),
                            context,
                            at: None,
                        },
                        (atomic.class, id),
                    );
                }
            }
        }
        if held.find_instance(instance).is_some() {
            // Also for try-locks: `k_mutex` is recursive and an uniprocessor `k_spin_trylock`
            // always succeeds, so a second guard would alias the data.
            self.report::<P>(
                Diagnostic::RecursiveLock {
                    class,
                    instance,
                    context,
                },
                (id, id),
            );
            return;
        }
        if wait.is_no_wait() {
            // A try-lock cannot deadlock: it adds no dependency (as in Linux lockdep).
            return;
        }
        for h in held.iter() {
            // Nesting two instances of one class is not an order between classes.
            if h.class != id {
                self.add_dependency::<P>(h.class, id, context);
            }
        }
    }

    /// After a successful acquisition: interrupt-usage marks, then push on the held stack.
    pub(crate) fn acquired<P: Platform>(
        &self,
        class: &'static LockClass,
        instance: usize,
        wait: Timeout,
        traits: LockTraits,
    ) {
        let context = P::current_context();
        let Some(id) = self.find_class(class) else {
            // Reported as capacity exceeded by `acquiring`.
            self.note_untracked();
            return;
        };
        let slot = self.slot_of(context);
        if traits.isr_safe {
            if context.is_isr() {
                // A try-lock in an ISR cannot spin on a holder (as in Linux lockdep).
                if !wait.is_no_wait() {
                    self.mark_usage::<P>(id, USED_IN_ISR, context);
                }
            } else if !traits.masks_interrupts
                && !slot.is_some_and(|s| s.snapshot().masks_interrupts())
            {
                self.mark_usage::<P>(id, USED_UNMASKED, context);
            }
        }
        let slot = match slot {
            Some(slot) => slot,
            None => match self.claim_slot(context) {
                Some(slot) => slot,
                None => {
                    self.capacity::<P>(TABLE_CONTEXTS, "context table", context);
                    self.note_untracked();
                    return;
                }
            },
        };
        let pushed = slot.update(|stack| {
            if stack.len == MAX_HELD {
                return false;
            }
            stack.entries[stack.len] = HeldLock {
                class: id,
                instance,
                traits,
            };
            stack.len += 1;
            true
        });
        if !pushed {
            self.capacity::<P>(TABLE_HELD, "held-lock stack", context);
            self.note_untracked();
        }
    }

    /// Before a release: it must be held by this context, and be the innermost for LIFO
    /// backends.
    pub(crate) fn releasing<P: Platform>(
        &self,
        class: &'static LockClass,
        instance: usize,
        traits: LockTraits,
    ) {
        let context = P::current_context();
        enum Outcome {
            NotHeld,
            Released {
                innermost: Option<u8>,
                now_empty: bool,
            },
        }
        let slot = self.slot_of(context);
        let outcome = match slot {
            None => Outcome::NotHeld,
            Some(slot) => slot.update(|stack| match stack.find_instance(instance) {
                None => Outcome::NotHeld,
                Some(i) => {
                    let top = stack.len - 1;
                    let innermost = (i != top).then_some(stack.entries[top].class);
                    stack.entries.copy_within(i + 1..stack.len, i);
                    stack.len -= 1;
                    Outcome::Released {
                        innermost,
                        now_empty: stack.len == 0,
                    }
                }
            }),
        };
        match outcome {
            Outcome::NotHeld => {
                if !self.forgive_untracked() {
                    let id = self.find_class(class).unwrap_or(NO_CLASS);
                    self.report::<P>(
                        Diagnostic::UnlockNotHeld {
                            class,
                            instance,
                            context,
                        },
                        (id, NO_CLASS),
                    );
                }
            }
            Outcome::Released {
                innermost,
                now_empty,
            } => {
                if now_empty {
                    if let Some(slot) = slot {
                        // Ordering: Release: our accesses to the stack happen-before those of
                        // the next owner, which claims it with Acquire.
                        slot.owner.store(0, Ordering::Release);
                    }
                }
                if let (Some(innermost), true) = (innermost, traits.release_lifo) {
                    let id = self.find_class(class).unwrap_or(NO_CLASS);
                    if let Some(innermost_class) = self.class(innermost) {
                        self.report::<P>(
                            Diagnostic::UnlockOutOfOrder {
                                released: class,
                                innermost: innermost_class,
                                context,
                            },
                            (id, innermost),
                        );
                    }
                }
            }
        }
    }

    /// `Lock::assert_held` / `assert_not_held`.
    pub(crate) fn check_held<P: Platform>(
        &self,
        class: &'static LockClass,
        instance: usize,
        expect_held: bool,
        at: &'static Location<'static>,
    ) {
        let context = P::current_context();
        let held = self.held(context).find_instance(instance).is_some();
        if held == expect_held {
            return;
        }
        let id = self.class_id::<P>(class, context).unwrap_or(NO_CLASS);
        let diagnostic = if expect_held {
            Diagnostic::AssertHeldFailed { class, context, at }
        } else {
            Diagnostic::AssertNotHeldFailed { class, context, at }
        };
        self.report::<P>(diagnostic, (id, NO_CLASS));
    }

    /// A call that may sleep: not in an ISR, not while an isr-safe lock is held.
    pub(crate) fn might_sleep<P: Platform>(
        &self,
        what: &'static str,
        at: &'static Location<'static>,
    ) {
        let context = P::current_context();
        let held = if context.is_isr() {
            None
        } else {
            match self.held(context).innermost_isr_safe() {
                Some(h) => Some(h.class),
                None => return,
            }
        };
        self.report::<P>(
            Diagnostic::SleepInAtomic {
                what,
                acquiring: None,
                held: held.and_then(|id| self.class(id)),
                context,
                at: Some(at),
            },
            (held.unwrap_or(NO_CLASS), NO_CLASS),
        );
    }

    // ---- classes ---------------------------------------------------------------------------

    /// The id of `class`, registering it on first use.
    fn class_id<P: Platform>(&self, class: &'static LockClass, context: ContextId) -> Option<u8> {
        let wanted = class as *const LockClass as *mut LockClass;
        for (id, slot) in self.classes.iter().enumerate() {
            // Ordering: Acquire pairs with the Release of the registering compare-exchange,
            // so the class it published is visible (it is a `'static`, but may have been
            // created at run time).
            let current = slot.load(Ordering::Acquire);
            if current == wanted {
                return Some(id as u8);
            }
            if current.is_null() {
                // Ordering: Release publishes the class; Acquire on failure as for the load.
                match slot.compare_exchange(
                    ptr::null_mut(),
                    wanted,
                    Ordering::Release,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return Some(id as u8),
                    // Someone registered the same class here first.
                    Err(actual) if actual == wanted => return Some(id as u8),
                    // Another class took the slot; `wanted` is not in any earlier slot, keep on.
                    Err(_) => {}
                }
            }
        }
        self.capacity::<P>(TABLE_CLASSES, "lock class table", context);
        None
    }

    /// The id of `class` if registered. Ids are unique: a class is only ever registered in
    /// the first empty slot after all slots holding other classes.
    fn find_class(&self, class: &'static LockClass) -> Option<u8> {
        let wanted = class as *const LockClass as *mut LockClass;
        for (id, slot) in self.classes.iter().enumerate() {
            // Ordering: Acquire, as in `class_id`.
            let current = slot.load(Ordering::Acquire);
            if current == wanted {
                return Some(id as u8);
            }
            if current.is_null() {
                return None;
            }
        }
        None
    }

    /// The class with id `id`.
    fn class(&self, id: u8) -> Option<&'static LockClass> {
        let slot = self.classes.get(usize::from(id))?;
        // Ordering: Acquire, as in `class_id`.
        let class = slot.load(Ordering::Acquire);
        // SAFETY: non-null entries were stored from `&'static LockClass` references only, and
        // are never written through.
        unsafe { class.as_ref() }
    }

    // ---- held-lock stacks ------------------------------------------------------------------

    /// The slot `context` owns, if any.
    fn slot_of(&self, context: ContextId) -> Option<&ContextSlot> {
        // Ordering: Relaxed: only `context` itself ever stores its key, earlier in its own
        // program order, and no other context can store it; coherence suffices.
        self.contexts
            .iter()
            .find(|s| s.owner.load(Ordering::Relaxed) == context.key())
    }

    /// Claims a free slot for `context`, with an empty stack.
    fn claim_slot(&self, context: ContextId) -> Option<&ContextSlot> {
        let slot = self.contexts.iter().find(|s| {
            // Ordering: Acquire pairs with the Release store that freed the slot, so the
            // previous owner's stack accesses happen-before ours.
            s.owner
                .compare_exchange(0, context.key(), Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        })?;
        slot.update(|stack| *stack = HeldStack::EMPTY);
        Some(slot)
    }

    /// A copy of the locks `context` holds (empty if it holds none).
    fn held(&self, context: ContextId) -> HeldStack {
        self.slot_of(context)
            .map_or(HeldStack::EMPTY, ContextSlot::snapshot)
    }

    /// An acquisition could not be recorded (a table was full).
    fn note_untracked(&self) {
        // Ordering: Relaxed: a counter, only compared with zero.
        self.untracked.fetch_add(1, Ordering::Relaxed);
    }

    /// True (consuming one) if an acquisition went unrecorded, which may explain a release
    /// of a lock we do not know to be held.
    fn forgive_untracked(&self) -> bool {
        // Ordering: Relaxed, as in `note_untracked`.
        self.untracked
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    // ---- interrupt usage -------------------------------------------------------------------

    /// Marks class `id` as used in an ISR or in a thread with interrupts enabled, and reports
    /// if it now is both.
    fn mark_usage<P: Platform>(&self, id: u8, usage: u32, context: ContextId) {
        let i = usize::from(id);
        // Ordering: Relaxed: a fast path only; if the bit is already set, the one who set it
        // did the check below (the two bits are set by RMWs of one location, so the later one
        // sees the earlier one).
        if self.usage[i].load(Ordering::Relaxed) & usage != 0 {
            return;
        }
        let (first_use, other) = if usage == USED_IN_ISR {
            (&self.first_isr_use[i], USED_UNMASKED)
        } else {
            (&self.first_unmasked_use[i], USED_IN_ISR)
        };
        // Record who used it first, before publishing the usage bit.
        // Ordering: Relaxed; published by the AcqRel `fetch_or` below.
        let _ = first_use.compare_exchange(0, context.key(), Ordering::Relaxed, Ordering::Relaxed);
        // Ordering: AcqRel: Release publishes `first_use`; Acquire sees the other kind's
        // `first_use` if its bit is set.
        let before = self.usage[i].fetch_or(usage, Ordering::AcqRel);
        if before & other == 0 {
            return;
        }
        let Some(class) = self.class(id) else {
            return;
        };
        let first = |of: &AtomicUsize| ContextId::from_key(of.load(Ordering::Relaxed));
        self.report::<P>(
            Diagnostic::IrqSafetyInversion {
                class,
                // Ordering (both loads): Relaxed; made visible by the `fetch_or`s above.
                isr_context: first(&self.first_isr_use[i]),
                thread_context: first(&self.first_unmasked_use[i]),
            },
            (id, id),
        );
    }

    // ---- dependency graph ------------------------------------------------------------------

    fn has_edge(&self, from: u8, to: u8) -> bool {
        let (word, bit) = (usize::from(to) / 32, 1u32 << (to % 32));
        // Ordering: Relaxed: graph readers outside `add_dependency` need no ordering; inside
        // it the `edges_added` RMW provides it (module docs).
        self.after[usize::from(from)][word].load(Ordering::Relaxed) & bit != 0
    }

    /// Calls `f` for each successor of `from` until it returns true; returns whether it did.
    fn for_each_successor(&self, from: u8, mut f: impl FnMut(u8) -> bool) -> bool {
        for (w, word) in self.after[usize::from(from)].iter().enumerate() {
            // Ordering: Relaxed, as in `has_edge`.
            let mut bits = word.load(Ordering::Relaxed);
            while bits != 0 {
                let b = bits.trailing_zeros();
                bits &= bits - 1;
                if f((w * 32) as u8 + b as u8) {
                    return true;
                }
            }
        }
        false
    }

    /// Records "`to` taken while `from` held" and, if new, reports an existing opposite path.
    fn add_dependency<P: Platform>(&self, from: u8, to: u8, context: ContextId) {
        let (word, bit) = (usize::from(to) / 32, 1u32 << (to % 32));
        // Ordering: Relaxed; published by the AcqRel increment of `edges_added` below.
        let before = self.after[usize::from(from)][word].fetch_or(bit, Ordering::Relaxed);
        if before & bit != 0 {
            // Known dependency: whoever added it did the search.
            return;
        }
        // Ordering: AcqRel: Release publishes our new bit to every later adder, Acquire makes
        // the bits of every earlier adder visible to our search (module docs).
        let index = self.edges_added.fetch_add(1, Ordering::AcqRel) as usize;
        if index < MAX_EDGE_LOG {
            // Ordering: Relaxed for the context, published by the Release store of the pair.
            self.edge_log_contexts[index].store(context.key(), Ordering::Relaxed);
            self.edge_log_pairs[index].store(edge_key(from, to), Ordering::Release);
        }
        let Some(first_hop) = self.first_hop_on_path(to, from) else {
            return;
        };
        let (Some(held), Some(acquiring)) = (self.class(from), self.class(to)) else {
            return;
        };
        let through = if first_hop == from {
            None
        } else {
            self.class(first_hop)
        };
        self.report::<P>(
            Diagnostic::LockOrderInversion {
                held,
                acquiring,
                context,
                recorded_by: self.recorded_by(to, first_hop),
                through,
            },
            // One report per pair of classes, whichever of the two orders came last.
            (from.min(to), from.max(to)),
        );
    }

    /// Breadth-first search for a path `src` → … → `dst`; returns its first hop after `src`.
    fn first_hop_on_path(&self, src: u8, dst: u8) -> Option<u8> {
        let mut visited = [0u32; ROW_WORDS];
        visited[usize::from(src) / 32] |= 1 << (src % 32);
        // (class, first hop on the way to it); each class is queued at most once.
        let mut queue = [(0u8, 0u8); MAX_CLASSES];
        let (mut head, mut tail) = (0, 0);
        // The class being expanded, and the first hop that led to it (`None` for `src`).
        let mut current = (src, None);
        loop {
            let (class, hop) = current;
            let mut found = None;
            self.for_each_successor(class, |next| {
                let next_hop = match hop {
                    Some(hop) => hop,
                    None => next,
                };
                if next == dst {
                    found = Some(next_hop);
                    return true;
                }
                let (w, b) = (usize::from(next) / 32, 1u32 << (next % 32));
                if visited[w] & b == 0 {
                    visited[w] |= b;
                    queue[tail] = (next, next_hop);
                    tail += 1;
                }
                false
            });
            if found.is_some() {
                return found;
            }
            if head == tail {
                return None;
            }
            current = (queue[head].0, Some(queue[head].1));
            head += 1;
        }
    }

    /// Who first recorded "`to` taken while `from` held", if still in the log.
    fn recorded_by(&self, from: u8, to: u8) -> Option<ContextId> {
        let key = edge_key(from, to);
        // Ordering: Relaxed: an upper bound for the scan only.
        let logged = (self.edges_added.load(Ordering::Relaxed) as usize).min(MAX_EDGE_LOG);
        (0..logged).find_map(|i| {
            // Ordering: Acquire pairs with the Release store of the pair, so the context
            // stored before it is visible.
            if self.edge_log_pairs[i].load(Ordering::Acquire) == key {
                // Ordering: Relaxed; made visible by the Acquire above.
                ContextId::from_key(self.edge_log_contexts[i].load(Ordering::Relaxed))
            } else {
                None
            }
        })
    }

    // ---- reporting -------------------------------------------------------------------------

    /// Reports `diagnostic` unless one of its kind with the same `classes` key was reported.
    fn report<P: Platform>(&self, diagnostic: Diagnostic, classes: (u8, u8)) {
        let kind = diagnostic.kind();
        let key =
            ((kind.index() as u32 + 1) << 16) | (u32::from(classes.0) << 8) | u32::from(classes.1);
        match self.first_report_of(key) {
            Some(true) => self.emit::<P>(diagnostic),
            Some(false) => {}
            None => {
                // Dedup table full: report that once, then stay quiet rather than flood an
                // ISR-heavy system with repeats.
                self.capacity::<P>(TABLE_REPORTS, "report dedup table", P::current_context());
            }
        }
    }

    /// Reports a full table, once per table.
    fn capacity<P: Platform>(&self, table_bit: u32, table: &'static str, context: ContextId) {
        // Ordering: Relaxed: only the bit's own modification order matters (first setter
        // reports).
        if self
            .capacity_reported
            .fetch_or(table_bit, Ordering::Relaxed)
            & table_bit
            == 0
        {
            self.emit::<P>(Diagnostic::CapacityExceeded { table, context });
        }
    }

    /// `Some(true)` if `key` was not reported yet (now it is), `Some(false)` if it was,
    /// `None` if the table is full.
    fn first_report_of(&self, key: u32) -> Option<bool> {
        for slot in &self.reported {
            // Ordering: Relaxed: only each slot's own modification order matters (one 0 →
            // key transition per slot; the key carries no other data).
            let current = slot.load(Ordering::Relaxed);
            if current == key {
                return Some(false);
            }
            if current == 0 {
                // Ordering: Relaxed, as above.
                match slot.compare_exchange(0, key, Ordering::Relaxed, Ordering::Relaxed) {
                    Ok(_) => return Some(true),
                    Err(actual) if actual == key => return Some(false),
                    Err(_) => {}
                }
            }
        }
        None
    }

    /// Counts, stores, prints and applies the policy.
    fn emit<P: Platform>(&self, diagnostic: Diagnostic) {
        // Ordering: Relaxed: statistics (see `report_count`).
        self.report_count.fetch_add(1, Ordering::Relaxed);
        self.kind_counts[diagnostic.kind().index()].fetch_add(1, Ordering::Relaxed);
        let report = Report::new(diagnostic);
        // If another context is storing its report right now, keep that one: never wait.
        let _ = self.last.try_with(|last| *last = Some(report));
        P::emit(&report);
        if matches!(P::POLICY, Policy::Panic) {
            P::fatal(&report);
        }
    }
}

fn edge_key(from: u8, to: u8) -> u32 {
    ((u32::from(from) + 1) << 8) | (u32::from(to) + 1)
}
