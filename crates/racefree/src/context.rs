//! Context evidence: zero-sized tokens proving where the caller runs.
//!
//! Seed 003, *Spinlocks and Atomic Context*: code that may sleep must never run in an ISR.
//! Blocking calls ([`Mutex`](crate::Mutex) locking, [`OnceSlot::get_or_init`](crate::OnceSlot))
//! take a `&ThreadContext`, so passing an ISR's [`IsrContext`] is a compile error. Both tokens
//! are `!Send` and `!Sync`: evidence cannot migrate to another thread or into an ISR.

use core::marker::PhantomData;

/// Evidence that the holder runs in thread context and may sleep.
///
/// Zero-sized, `!Send`, `!Sync`.
///
/// # Examples
///
/// ```
/// use racefree::{StdProbe, ThreadContext, with_simulated_isr};
///
/// assert!(ThreadContext::current::<StdProbe>().is_some());
/// with_simulated_isr(|_isr| assert!(ThreadContext::current::<StdProbe>().is_none()));
/// ```
#[derive(Debug)]
pub struct ThreadContext {
    _not_send: PhantomData<*mut ()>,
}

/// Evidence that the holder runs in an interrupt service routine and must not sleep.
///
/// Zero-sized, `!Send`, `!Sync`. Only ISR-safe operations accept it (or need no evidence).
#[derive(Debug)]
pub struct IsrContext {
    _not_send: PhantomData<*mut ()>,
}

/// Asks the platform whether the current CPU runs an ISR.
///
/// Zephyr: `k_is_in_isr()`. Host (`std`): `StdProbe`, a thread-local flag set by
/// `with_simulated_isr`. Used by debug-build context checks.
pub trait ContextProbe {
    /// True while the current CPU services an interrupt.
    fn in_isr() -> bool;
}

impl ThreadContext {
    /// Creates the evidence without checking.
    ///
    /// # Safety
    ///
    /// The caller runs in thread context (not in an ISR) and the token does not outlive that.
    pub unsafe fn new_unchecked() -> Self {
        Self {
            _not_send: PhantomData,
        }
    }

    /// Checked creation: `None` when `P` reports ISR context.
    pub fn current<P: ContextProbe>() -> Option<Self> {
        if P::in_isr() {
            None
        } else {
            // SAFETY: the probe just reported thread context.
            Some(unsafe { Self::new_unchecked() })
        }
    }
}

impl IsrContext {
    /// Creates the evidence without checking.
    ///
    /// # Safety
    ///
    /// The caller runs in an ISR (the ISR entry shim is the intended caller).
    pub unsafe fn new_unchecked() -> Self {
        Self {
            _not_send: PhantomData,
        }
    }
}

/// Runs `f` as a simulated ISR on the host: [`StdProbe`](crate::StdProbe) reports ISR context
/// until `f` returns (or unwinds), so debug-build context checks can be tested. Calls nest
/// like interrupt levels: an inner call is one level deeper (the lock validator keeps a
/// separate held-lock stack per level).
///
/// # Examples
///
/// ```
/// use racefree::{ContextProbe, StdProbe, with_simulated_isr};
///
/// assert!(!StdProbe::in_isr());
/// let inside = with_simulated_isr(|_isr| StdProbe::in_isr());
/// assert!(inside);
/// assert!(!StdProbe::in_isr());
/// ```
#[cfg(all(feature = "std", not(loom)))]
pub fn with_simulated_isr<R>(f: impl FnOnce(&IsrContext) -> R) -> R {
    struct Restore(u32);
    impl Drop for Restore {
        fn drop(&mut self) {
            crate::backend::std::set_isr_depth(self.0);
        }
    }
    let outer = crate::backend::std::isr_depth();
    let _restore = Restore(crate::backend::std::set_isr_depth(outer + 1));
    // SAFETY: on the host an "ISR" is whatever runs while the probe flag is set, which it now is.
    let isr = unsafe { IsrContext::new_unchecked() };
    f(&isr)
}

#[cfg(all(test, feature = "std", not(loom)))]
mod tests {
    use super::*;
    use crate::StdProbe;

    #[test]
    fn tokens_are_zero_sized() {
        assert_eq!(core::mem::size_of::<ThreadContext>(), 0);
        assert_eq!(core::mem::size_of::<IsrContext>(), 0);
    }

    #[test]
    fn simulated_isr_nests_and_restores_on_panic() {
        with_simulated_isr(|_| {
            with_simulated_isr(|_| assert!(StdProbe::in_isr()));
            assert!(StdProbe::in_isr());
        });
        assert!(!StdProbe::in_isr());
        let r = std::panic::catch_unwind(|| with_simulated_isr(|_| panic!("boom")));
        assert!(r.is_err());
        assert!(!StdProbe::in_isr());
        assert!(ThreadContext::current::<StdProbe>().is_some());
    }
}
