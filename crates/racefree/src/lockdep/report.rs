//! What the validator finds: diagnostics, and reports formatted into a fixed buffer.

use core::fmt::{self, Write};
use core::panic::Location;

use super::ContextId;
use crate::LockClass;

/// The kind of a [`Diagnostic`], without its details: for counting and matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DiagnosticKind {
    /// See [`Diagnostic::LockOrderInversion`].
    LockOrderInversion,
    /// See [`Diagnostic::SleepInAtomic`].
    SleepInAtomic,
    /// See [`Diagnostic::RecursiveLock`].
    RecursiveLock,
    /// See [`Diagnostic::IrqSafetyInversion`].
    IrqSafetyInversion,
    /// See [`Diagnostic::ThreadLockFromIsr`].
    ThreadLockFromIsr,
    /// See [`Diagnostic::UnlockNotHeld`].
    UnlockNotHeld,
    /// See [`Diagnostic::UnlockOutOfOrder`].
    UnlockOutOfOrder,
    /// See [`Diagnostic::AssertHeldFailed`].
    AssertHeldFailed,
    /// See [`Diagnostic::AssertNotHeldFailed`].
    AssertNotHeldFailed,
    /// See [`Diagnostic::CapacityExceeded`].
    CapacityExceeded,
}

impl DiagnosticKind {
    /// Every kind, in declaration order.
    pub const ALL: [DiagnosticKind; 10] = [
        DiagnosticKind::LockOrderInversion,
        DiagnosticKind::SleepInAtomic,
        DiagnosticKind::RecursiveLock,
        DiagnosticKind::IrqSafetyInversion,
        DiagnosticKind::ThreadLockFromIsr,
        DiagnosticKind::UnlockNotHeld,
        DiagnosticKind::UnlockOutOfOrder,
        DiagnosticKind::AssertHeldFailed,
        DiagnosticKind::AssertNotHeldFailed,
        DiagnosticKind::CapacityExceeded,
    ];

    /// Position in [`ALL`](Self::ALL).
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// One lock-usage bug found by the validator, with the classes involved and where.
///
/// Classes are the [`LockClass`]es given at lock creation; `context` is where the offending
/// operation ran. Instances are lock addresses.
#[derive(Clone, Copy, Debug)]
pub enum Diagnostic {
    /// `context` acquires `acquiring` while holding `held`, but the dependency graph already
    /// has a path `acquiring` → … → `held`: some context took them in the opposite order
    /// before (possible ABBA deadlock). Reported the first time the inversion becomes possible,
    /// even if no deadlock happened.
    LockOrderInversion {
        /// The class already held by `context`.
        held: &'static LockClass,
        /// The class being acquired.
        acquiring: &'static LockClass,
        /// Where `acquiring` is being taken.
        context: ContextId,
        /// Where the first dependency of the opposite path (`acquiring` → next) was recorded,
        /// if still known.
        recorded_by: Option<ContextId>,
        /// The next class on the opposite path when it is not direct.
        through: Option<&'static LockClass>,
    },
    /// A call that may sleep (`what`) in atomic context: in an ISR, or in a thread while it
    /// holds the isr-safe lock `held`.
    SleepInAtomic {
        /// The blocking operation.
        what: &'static str,
        /// The thread-only lock being acquired, when the blocking call is a lock.
        acquiring: Option<&'static LockClass>,
        /// The innermost isr-safe lock held (`None` when `context` is an ISR).
        held: Option<&'static LockClass>,
        /// Where the blocking call happened.
        context: ContextId,
        /// The caller, for [`might_sleep`](crate::lockdep::might_sleep) calls.
        at: Option<&'static Location<'static>>,
    },
    /// `context` acquires the lock instance `instance` of `class`, which it already holds
    /// (self-deadlock; with a recursive raw lock, two guards to the same data).
    RecursiveLock {
        /// The class of the lock.
        class: &'static LockClass,
        /// The lock's address.
        instance: usize,
        /// Where it is taken twice.
        context: ContextId,
    },
    /// `class` is taken in interrupt context and, through a backend that does not mask
    /// interrupts, in thread context with interrupts enabled: an ISR can interrupt the holder
    /// on its CPU and spin on the lock forever.
    IrqSafetyInversion {
        /// The class used both ways.
        class: &'static LockClass,
        /// Where it was taken in interrupt context, if known.
        isr_context: Option<ContextId>,
        /// Where it was taken in thread context with interrupts enabled, if known.
        thread_context: Option<ContextId>,
    },
    /// The thread-only (sleeping) lock `class` is acquired from the ISR `context`.
    ThreadLockFromIsr {
        /// The thread-only class.
        class: &'static LockClass,
        /// The interrupt context.
        context: ContextId,
    },
    /// `context` releases lock `instance` of `class`, which it does not hold.
    UnlockNotHeld {
        /// The class of the released lock.
        class: &'static LockClass,
        /// The lock's address.
        instance: usize,
        /// Where it is released.
        context: ContextId,
    },
    /// `context` releases `released` while `innermost`, taken after it, is still held, and
    /// the released lock's backend requires LIFO release
    /// ([`Backend::RELEASE_LIFO`](crate::Backend::RELEASE_LIFO)).
    UnlockOutOfOrder {
        /// The class released out of order.
        released: &'static LockClass,
        /// The innermost class still held.
        innermost: &'static LockClass,
        /// Where.
        context: ContextId,
    },
    /// [`Lock::assert_held`](crate::Lock::assert_held) failed: `context` does not hold it.
    AssertHeldFailed {
        /// The class of the lock.
        class: &'static LockClass,
        /// Where the assertion ran.
        context: ContextId,
        /// The caller of `assert_held`.
        at: &'static Location<'static>,
    },
    /// [`Lock::assert_not_held`](crate::Lock::assert_not_held) failed: `context` holds it.
    AssertNotHeldFailed {
        /// The class of the lock.
        class: &'static LockClass,
        /// Where the assertion ran.
        context: ContextId,
        /// The caller of `assert_not_held`.
        at: &'static Location<'static>,
    },
    /// A fixed-size table of the validator is full (`table`): from now on some locks are not
    /// validated. Reported once per table.
    CapacityExceeded {
        /// Which table.
        table: &'static str,
        /// Where it overflowed.
        context: ContextId,
    },
}

impl Diagnostic {
    /// The kind of this diagnostic.
    pub const fn kind(&self) -> DiagnosticKind {
        match self {
            Diagnostic::LockOrderInversion { .. } => DiagnosticKind::LockOrderInversion,
            Diagnostic::SleepInAtomic { .. } => DiagnosticKind::SleepInAtomic,
            Diagnostic::RecursiveLock { .. } => DiagnosticKind::RecursiveLock,
            Diagnostic::IrqSafetyInversion { .. } => DiagnosticKind::IrqSafetyInversion,
            Diagnostic::ThreadLockFromIsr { .. } => DiagnosticKind::ThreadLockFromIsr,
            Diagnostic::UnlockNotHeld { .. } => DiagnosticKind::UnlockNotHeld,
            Diagnostic::UnlockOutOfOrder { .. } => DiagnosticKind::UnlockOutOfOrder,
            Diagnostic::AssertHeldFailed { .. } => DiagnosticKind::AssertHeldFailed,
            Diagnostic::AssertNotHeldFailed { .. } => DiagnosticKind::AssertNotHeldFailed,
            Diagnostic::CapacityExceeded { .. } => DiagnosticKind::CapacityExceeded,
        }
    }

    /// The names of the (up to two) classes involved, in the order the variant lists them.
    pub fn class_names(&self) -> (Option<&'static str>, Option<&'static str>) {
        let name = |c: &'static LockClass| Some(c.name());
        match *self {
            Diagnostic::LockOrderInversion {
                held, acquiring, ..
            } => (name(held), name(acquiring)),
            Diagnostic::SleepInAtomic {
                acquiring, held, ..
            } => (acquiring.map(LockClass::name), held.map(LockClass::name)),
            Diagnostic::RecursiveLock { class, .. }
            | Diagnostic::IrqSafetyInversion { class, .. }
            | Diagnostic::ThreadLockFromIsr { class, .. }
            | Diagnostic::UnlockNotHeld { class, .. }
            | Diagnostic::AssertHeldFailed { class, .. }
            | Diagnostic::AssertNotHeldFailed { class, .. } => (name(class), None),
            Diagnostic::UnlockOutOfOrder {
                released,
                innermost,
                ..
            } => (name(released), name(innermost)),
            Diagnostic::CapacityExceeded { .. } => (None, None),
        }
    }
}

/// `" at file:line"` when known.
struct At(Option<&'static Location<'static>>);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(at) => write!(f, " at {}:{}", at.file(), at.line()),
            None => Ok(()),
        }
    }
}

/// `"<context>"` or `"an unknown context"`.
struct Maybe(Option<ContextId>);

impl fmt::Display for Maybe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(ctx) => ctx.fmt(f),
            None => f.write_str("an unknown context"),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lockdep: ")?;
        match *self {
            Diagnostic::LockOrderInversion {
                held,
                acquiring,
                context,
                recorded_by,
                through,
            } => {
                let (h, a) = (held.name(), acquiring.name());
                write!(
                    f,
                    "lock-order inversion: {context} acquires \"{a}\" while holding \"{h}\", \
                     but \"{a}\" -> "
                )?;
                if let Some(via) = through {
                    write!(f, "\"{}\" -> ... -> ", via.name())?;
                }
                write!(
                    f,
                    "\"{h}\" was recorded by {}: possible ABBA deadlock",
                    Maybe(recorded_by)
                )
            }
            Diagnostic::SleepInAtomic {
                what,
                acquiring,
                held,
                context,
                at,
            } => {
                write!(f, "sleep in atomic context: {what}")?;
                if let Some(class) = acquiring {
                    write!(f, " \"{}\"", class.name())?;
                }
                write!(f, "{} may sleep in {context}", At(at))?;
                match held {
                    Some(class) => write!(f, " while holding isr-safe \"{}\"", class.name()),
                    None => Ok(()),
                }
            }
            Diagnostic::RecursiveLock {
                class,
                instance,
                context,
            } => write!(
                f,
                "recursive locking: {context} acquires \"{}\" ({instance:#x}), which it \
                 already holds: self-deadlock",
                class.name()
            ),
            Diagnostic::IrqSafetyInversion {
                class,
                isr_context,
                thread_context,
            } => write!(
                f,
                "irq-safety inversion: \"{}\" is taken in interrupt context ({}) and, \
                 without masking interrupts, in thread context ({}): an ISR can deadlock \
                 against the holder",
                class.name(),
                Maybe(isr_context),
                Maybe(thread_context)
            ),
            Diagnostic::ThreadLockFromIsr { class, context } => write!(
                f,
                "thread-only lock \"{}\" acquired in {context}",
                class.name()
            ),
            Diagnostic::UnlockNotHeld {
                class,
                instance,
                context,
            } => write!(
                f,
                "bad unlock: {context} releases \"{}\" ({instance:#x}), which it does not hold",
                class.name()
            ),
            Diagnostic::UnlockOutOfOrder {
                released,
                innermost,
                context,
            } => write!(
                f,
                "unlock out of order: {context} releases \"{}\" while \"{}\", taken after \
                 it, is still held (this lock must be released last-in first-out)",
                released.name(),
                innermost.name()
            ),
            Diagnostic::AssertHeldFailed { class, context, at } => write!(
                f,
                "assert_held failed{}: \"{}\" is not held by {context}",
                At(Some(at)),
                class.name()
            ),
            Diagnostic::AssertNotHeldFailed { class, context, at } => write!(
                f,
                "assert_not_held failed{}: \"{}\" is held by {context}",
                At(Some(at)),
                class.name()
            ),
            Diagnostic::CapacityExceeded { table, context } => write!(
                f,
                "capacity exceeded: {table} full (in {context}); some locks are no longer \
                 validated"
            ),
        }
    }
}

/// Bytes of report text kept; longer texts are cut and end in `...`.
pub const REPORT_TEXT_CAPACITY: usize = 320;

/// A diagnostic and its text, formatted once into a fixed buffer (no allocation).
///
/// `Display` writes the text; [`Platform::emit`](crate::lockdep::Platform::emit) prints it.
#[derive(Clone, Copy)]
pub struct Report {
    diagnostic: Diagnostic,
    len: usize,
    text: [u8; REPORT_TEXT_CAPACITY],
}

impl Report {
    /// Formats `diagnostic`.
    pub fn new(diagnostic: Diagnostic) -> Self {
        let mut text = TextBuffer {
            bytes: [0; REPORT_TEXT_CAPACITY],
            len: 0,
            truncated: false,
        };
        // A `TextBuffer` never fails; a failing `Display` impl would leave a shorter text.
        let _ = write!(text, "{diagnostic}");
        text.finish();
        Self {
            diagnostic,
            len: text.len,
            text: text.bytes,
        }
    }

    /// The diagnostic.
    pub fn diagnostic(&self) -> &Diagnostic {
        &self.diagnostic
    }

    /// Its kind.
    pub fn kind(&self) -> DiagnosticKind {
        self.diagnostic.kind()
    }

    /// The formatted text, e.g. `lockdep: lock-order inversion: ...`.
    pub fn as_str(&self) -> &str {
        // Only whole UTF-8 sequences are ever copied in (see `TextBuffer`).
        core::str::from_utf8(&self.text[..self.len]).unwrap_or("lockdep: (unprintable report)")
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("diagnostic", &self.diagnostic)
            .field("text", &self.as_str())
            .finish()
    }
}

/// A `fmt::Write` into a fixed buffer that keeps whole characters and marks truncation.
struct TextBuffer {
    bytes: [u8; REPORT_TEXT_CAPACITY],
    len: usize,
    truncated: bool,
}

const ELLIPSIS: &str = "...";

impl TextBuffer {
    /// Ends a truncated text with `...`.
    fn finish(&mut self) {
        if self.truncated {
            let mut end = self.len.min(REPORT_TEXT_CAPACITY - ELLIPSIS.len());
            // Back off to a character boundary (continuation bytes are 0b10xx_xxxx).
            while end > 0 && self.bytes[end] & 0xc0 == 0x80 {
                end -= 1;
            }
            self.bytes[end..end + ELLIPSIS.len()].copy_from_slice(ELLIPSIS.as_bytes());
            self.len = end + ELLIPSIS.len();
        }
    }
}

impl Write for TextBuffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = REPORT_TEXT_CAPACITY - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        if take < s.len() {
            self.truncated = true;
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "std", not(loom)))]
mod tests {
    use super::*;
    use crate::lock_class;

    #[test]
    fn long_texts_are_cut_at_a_character_boundary() {
        static LONG: LockClass = LockClass::new(
            "äääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääää\
             äääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääää\
             äääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääää",
        );
        let r = Report::new(Diagnostic::ThreadLockFromIsr {
            class: &LONG,
            context: ContextId::isr(0, 1),
        });
        assert!(r.as_str().ends_with("ä..."), "{}", r.as_str());
        assert!(r.as_str().len() <= REPORT_TEXT_CAPACITY);
        assert!(r.as_str().starts_with("lockdep: thread-only lock \"ää"));
    }

    #[test]
    fn kinds_and_class_names() {
        let a = lock_class!("r.a");
        let b = lock_class!("r.b");
        let d = Diagnostic::UnlockOutOfOrder {
            released: a,
            innermost: b,
            context: ContextId::thread(2),
        };
        assert_eq!(d.kind(), DiagnosticKind::UnlockOutOfOrder);
        assert_eq!(d.class_names(), (Some("r.a"), Some("r.b")));
        for (i, k) in DiagnosticKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
        assert_eq!(
            Report::new(d).as_str(),
            "lockdep: unlock out of order: thread 0x2 releases \"r.a\" while \"r.b\", taken \
             after it, is still held (this lock must be released last-in first-out)"
        );
    }
}
