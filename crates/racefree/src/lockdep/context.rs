//! Execution-context identity: which held-lock stack an operation belongs to.

use core::fmt;
use core::num::NonZeroUsize;

/// Identifies one execution context: a thread, or one interrupt nesting level of one CPU.
///
/// The validator keeps one held-lock stack per context, like Linux lockdep keeps one per task
/// and per hard-IRQ context. The platform ([`Platform::current_context`]) builds it:
///
/// * Zephyr thread: `ContextId::thread(k_current_get() as usize)`;
/// * Zephyr ISR (`k_is_in_isr()`): `ContextId::isr(cpu_id, nesting_level)`;
/// * host: [`std_context`](crate::lockdep::std_context) (a per-thread number, and the nesting
///   level of [`with_simulated_isr`](crate::with_simulated_isr)).
///
/// Internally it is one non-zero word: even for threads, odd for ISRs.
///
/// [`Platform::current_context`]: crate::lockdep::Platform::current_context
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContextId(NonZeroUsize);

/// ISR keys: `(cpu << ISR_CPU_SHIFT) | (level << 1) | 1`.
const ISR_CPU_SHIFT: u32 = 9;
const MAX_ISR_LEVEL: u32 = 0xff;

impl ContextId {
    /// A thread, identified by a non-zero, even `id` unique among live threads: the address
    /// of its thread object (`k_current_get()`, at least 2-aligned), or on the host an even
    /// counter value.
    ///
    /// # Panics
    ///
    /// If `id` is zero or odd (odd values denote ISRs).
    pub const fn thread(id: usize) -> Self {
        assert!(
            id & 1 == 0,
            "thread ids are even (aligned thread-object addresses)"
        );
        match NonZeroUsize::new(id) {
            Some(id) => Self(id),
            None => panic!("thread id 0"),
        }
    }

    /// Interrupt nesting `level` (1 for the outermost ISR; clamped to 1..=255) on `cpu`.
    pub const fn isr(cpu: usize, level: u32) -> Self {
        let level = if level == 0 {
            1
        } else if level > MAX_ISR_LEVEL {
            MAX_ISR_LEVEL
        } else {
            level
        };
        let key = (cpu << ISR_CPU_SHIFT) | ((level as usize) << 1) | 1;
        match NonZeroUsize::new(key) {
            Some(key) => Self(key),
            None => unreachable!(),
        }
    }

    /// True for an interrupt context.
    pub const fn is_isr(self) -> bool {
        self.0.get() & 1 == 1
    }

    /// The interrupt nesting level; 0 for a thread.
    pub const fn isr_level(self) -> u32 {
        if self.is_isr() {
            ((self.0.get() >> 1) & MAX_ISR_LEVEL as usize) as u32
        } else {
            0
        }
    }

    /// The raw key stored in the validator's tables (never 0).
    pub(crate) const fn key(self) -> usize {
        self.0.get()
    }

    /// The context whose [`key`](Self::key) is `key`, if `key` is not 0.
    pub(crate) const fn from_key(key: usize) -> Option<Self> {
        match NonZeroUsize::new(key) {
            Some(key) => Some(Self(key)),
            None => None,
        }
    }
}

impl fmt::Display for ContextId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_isr() {
            let cpu = self.0.get() >> ISR_CPU_SHIFT;
            write!(f, "ISR level {} on CPU {cpu}", self.isr_level())
        } else {
            write!(f, "thread {:#x}", self.0.get())
        }
    }
}

impl fmt::Debug for ContextId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContextId({self})")
    }
}

#[cfg(all(test, feature = "std", not(loom)))]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn threads_and_isrs_never_share_a_key() {
        let t = ContextId::thread(0x2000_1000);
        let i = ContextId::isr(3, 2);
        assert!(!t.is_isr() && i.is_isr());
        assert_eq!((t.isr_level(), i.isr_level()), (0, 2));
        assert_ne!(ContextId::isr(0, 1), ContextId::isr(0, 2));
        assert_ne!(ContextId::isr(0, 1), ContextId::isr(1, 1));
        assert_eq!(ContextId::isr(0, 0), ContextId::isr(0, 1));
        assert_eq!(ContextId::from_key(t.key()), Some(t));
        assert_eq!(ContextId::from_key(0), None);
        assert_eq!(t.to_string(), "thread 0x20001000");
        assert_eq!(i.to_string(), "ISR level 2 on CPU 3");
    }

    #[test]
    #[should_panic(expected = "thread ids are even")]
    fn odd_thread_ids_are_refused() {
        let _ = ContextId::thread(3);
    }
}
