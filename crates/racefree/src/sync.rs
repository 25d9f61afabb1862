//! The one internal synchronisation shim.
//!
//! Every atomic, cell, spin hint and yield the crate uses comes from here, so that the loom
//! models (`RUSTFLAGS="--cfg loom"`) see every access. Outside loom these are the `core`
//! types at zero cost. Keep this module the only place that names `loom`.

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
/// Pointer-sized atomics for the lock validator's tables.
#[cfg(all(feature = "lockdep", not(loom)))]
pub(crate) use core::sync::atomic::{AtomicPtr, AtomicUsize};
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU32, Ordering};
#[cfg(all(feature = "lockdep", loom))]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicUsize};
/// Blocking primitives for the loom backends' `Forever` waits (spinning would make loom
/// explore unbounded schedules).
#[cfg(loom)]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};

/// Hint that we are spinning. Under loom this yields to the model scheduler, which is what
/// keeps spin loops finite there.
#[inline]
pub(crate) fn spin_loop() {
    #[cfg(not(loom))]
    core::hint::spin_loop();
    #[cfg(loom)]
    loom::hint::spin_loop();
}

/// Yield the current host thread (host backends only; the loom backends block on loom
/// primitives instead of yielding).
#[cfg(all(feature = "std", not(loom)))]
#[inline]
pub(crate) fn yield_now() {
    ::std::thread::yield_now();
}

/// Data cell with closure-scoped access, so loom can check every access for races.
///
/// Outside loom this is a transparent wrapper around [`core::cell::UnsafeCell`].
#[cfg(not(loom))]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    #[inline]
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    #[inline]
    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

#[cfg(not(loom))]
impl<T: ?Sized> UnsafeCell<T> {
    /// Runs `f` with a shared pointer to the contents.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with an exclusive pointer to the contents.
    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }

    /// Exclusive access through an exclusive borrow; no synchronisation needed.
    #[inline]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.0.get_mut()
    }
}

#[cfg(loom)]
pub(crate) struct UnsafeCell<T: ?Sized>(loom::cell::UnsafeCell<T>);

#[cfg(loom)]
impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(loom::cell::UnsafeCell::new(value))
    }

    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

#[cfg(loom)]
impl<T: ?Sized> UnsafeCell<T> {
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        self.0.with(f)
    }

    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        self.0.with_mut(f)
    }

    pub(crate) fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no other access to the cell exists.
        self.0.with_mut(|p| unsafe { &mut *p })
    }
}
