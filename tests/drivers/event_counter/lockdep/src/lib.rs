//! Test locks for the lockdep suite, on the driver's own backends
//! (`ZephyrKernel`'s `Spin`, `Mutex`, `Semaphore`: k_spinlock, k_mutex and
//! k_sem, validated under `CONFIG_EVENT_COUNTER_LOCKDEP`). Each function
//! below commits one lock-usage bug on purpose, with classes of its own, so
//! that src/main.c can check the validator reports it (seed 000 step 3,
//! Validate with Lockdep; Linux lockdep's self-tests do the same). None of
//! them deadlocks: every lock here is free when taken, or a recursive k_mutex.
//! Test-only code: it lives in the suite, not in the driver.
#![no_std]

extern crate event_counter_zephyr;

use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use event_counter::Kernel;
use event_counter_zephyr::lockdep::ZephyrLockdep;
use event_counter_zephyr::{thread_context, ZephyrKernel, ZephyrProbe};
use racefree::lockdep::Validated;
use racefree::{
    lock_class, Backend, Error, Mutex, Result, Semaphore, SpinLock, ThreadContext, ThreadOnly,
    TimedBackend, Timeout,
};
use static_cell::StaticCell;

type Spin = <ZephyrKernel as Kernel>::Spin;
type KMutex = <ZephyrKernel as Kernel>::Mutex;
type Sem = <ZephyrKernel as Kernel>::Semaphore;

/// A thread-only backend whose raw operations are harmless anywhere (an
/// atomic flag), validated like the driver's: the ISR case provokes the
/// validator's "thread-only lock in an ISR" report without the kernel
/// really running k_mutex_lock()/k_mutex_unlock() in an ISR, which Zephyr
/// forbids (on the SMP target that unlock faulted: it reschedules on behalf
/// of a thread that is not running). What is checked is the validator, and
/// its hooks are the same for every backend.
enum FlagMutex {}

// SAFETY: the flag is taken by one compare-and-swap and released by a store;
// Acquire/Release order the protected data with them.
unsafe impl Backend for FlagMutex {
    type Kind = ThreadOnly;
    type State = AtomicBool;
    type GuardState = ();
    type Probe = ZephyrProbe;

    fn new_state() -> AtomicBool {
        AtomicBool::new(false)
    }

    unsafe fn lock(state: *mut AtomicBool) {
        // SAFETY: as in `try_lock`.
        while unsafe { Self::try_lock(state) }.is_none() {
            core::hint::spin_loop();
        }
    }

    unsafe fn try_lock(state: *mut AtomicBool) -> Option<()> {
        // SAFETY: valid and initialised (Backend contract).
        let flag = unsafe { &*state };
        // Ordering: Acquire: the holder's writes before its release are seen.
        flag.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| ())
    }

    unsafe fn unlock(state: *mut AtomicBool, _guard: &()) {
        // SAFETY: valid and held by the caller (Backend contract).
        // Ordering: Release publishes the critical section to the next holder.
        unsafe { &*state }.store(false, Ordering::Release);
    }
}

// SAFETY: as `try_lock`; the test never contends this lock, so a wait only
// spins until the (free) flag is taken.
unsafe impl TimedBackend for FlagMutex {
    unsafe fn lock_timeout(state: *mut AtomicBool, timeout: Timeout) -> Result<()> {
        // SAFETY: the caller's contract (as for `Backend::lock`).
        match unsafe { Self::try_lock(state) } {
            Some(()) => Ok(()),
            None if timeout == Timeout::NoWait => Err(Error::WouldBlock),
            // SAFETY: as above.
            None => Ok(unsafe { Self::lock(state) }),
        }
    }
}

type IsrHarmlessMutex = Validated<FlagMutex, ZephyrLockdep>;

struct Locks {
    a: Mutex<u32, KMutex>,
    b: Mutex<u32, KMutex>,
    spin: SpinLock<u32, Spin>,
    sleeper: Mutex<u32, KMutex>,
    recursive: Mutex<u32, KMutex>,
    isr_mutex: Mutex<u32, IsrHarmlessMutex>,
    asserted: Mutex<u32, KMutex>,
    sem_spin: SpinLock<u32, Spin>,
    sem: Sem,
}

static LOCKS: StaticCell<Locks> = StaticCell::new();
static READY: AtomicPtr<Locks> = AtomicPtr::new(core::ptr::null_mut());

fn locks() -> &'static Locks {
    // Ordering: Acquire pairs with the Release in `lockdep_test_init`.
    let p = READY.load(Ordering::Acquire);
    assert!(!p.is_null(), "lockdep_test_init() first");
    // SAFETY: set once from a `&'static Locks`, never changed afterwards.
    unsafe { &*p }
}

fn ctx() -> ThreadContext {
    thread_context().expect("thread context")
}

/// Builds the test locks (k_mutex_init, k_sem_init at their final address).
#[no_mangle]
extern "C" fn lockdep_test_init() {
    let l = LOCKS.init(Locks {
        a: Mutex::new(0, lock_class!("lockdep_test::a")),
        b: Mutex::new(0, lock_class!("lockdep_test::b")),
        spin: SpinLock::new(0, lock_class!("lockdep_test::spin")),
        sleeper: Mutex::new(0, lock_class!("lockdep_test::sleeper")),
        recursive: Mutex::new(0, lock_class!("lockdep_test::recursive")),
        isr_mutex: Mutex::new(0, lock_class!("lockdep_test::isr_mutex")),
        asserted: Mutex::new(0, lock_class!("lockdep_test::asserted")),
        sem_spin: SpinLock::new(0, lock_class!("lockdep_test::sem_spin")),
        sem: Sem::new(),
    });
    // SAFETY: in a static, never moved; once, before any use.
    unsafe {
        for lock in [&l.a, &l.b, &l.sleeper, &l.recursive, &l.asserted] {
            lock.init();
        }
        l.isr_mutex.init();
        l.spin.init();
        l.sem_spin.init();
        l.sem.init();
    }
    // Ordering: Release publishes the initialised locks (see `locks`).
    READY.store(l as *const Locks as *mut Locks, Ordering::Release);
}

/// A then B (records "a" -> "b"; no report).
#[no_mangle]
extern "C" fn lockdep_test_a_then_b() {
    let (l, ctx) = (locks(), ctx());
    let _a = l.a.lock(&ctx);
    let _b = l.b.lock(&ctx);
}

/// B then A, later and in another thread than `lockdep_test_a_then_b`: an
/// ABBA inversion that did not deadlock (the two never overlapped).
#[no_mangle]
extern "C" fn lockdep_test_b_then_a() {
    let (l, ctx) = (locks(), ctx());
    let _b = l.b.lock(&ctx);
    let _a = l.a.lock(&ctx);
}

/// A k_mutex-backed lock taken while a k_spinlock-backed one is held (the
/// mutex is free, so nothing sleeps this time; it could).
#[no_mangle]
extern "C" fn lockdep_test_mutex_under_spinlock() {
    let (l, ctx) = (locks(), ctx());
    let _s = l.spin.lock();
    let _m = l.sleeper.lock(&ctx);
}

/// The same k_mutex twice in one thread (k_mutex is recursive, so this
/// returns; with a k_spinlock it would hang).
#[no_mangle]
extern "C" fn lockdep_test_recursion() {
    let (l, ctx) = (locks(), ctx());
    let _first = l.recursive.lock(&ctx);
    let _second = l.recursive.lock(&ctx);
}

/// A thread-only (k_mutex-backed) lock reached from an ISR, as a buggy entry
/// point would: thread-context evidence forged in interrupt context.
///
/// # Safety
/// Deliberately wrong; call from `irq_offload()` only, with the lock free
/// (its raw operations are an atomic flag, see [`FlagMutex`]).
#[no_mangle]
unsafe extern "C" fn lockdep_test_mutex_in_isr() -> bool {
    // SAFETY: false on purpose (we are in an ISR), to provoke the
    // diagnostic; the try-lock of the free flag does not block.
    let forged = unsafe { ThreadContext::new_unchecked() };
    locks().isr_mutex.try_lock(&forged).is_some()
}

/// `assert_held` on a lock that is held (fine), then on one that is not.
#[no_mangle]
extern "C" fn lockdep_test_assert_held() {
    let (l, ctx) = (locks(), ctx());
    {
        let _g = l.asserted.lock(&ctx);
        l.asserted.assert_held();
    }
    l.asserted.assert_held();
}

/// A semaphore take that cannot wait under a k_spinlock (fine), then one
/// that may wait (10 ms; the count is there, so it returns at once).
#[no_mangle]
extern "C" fn lockdep_test_sem_take_under_spinlock() -> bool {
    let l = locks();
    l.sem.give();
    l.sem.give();
    let _s = l.sem_spin.lock();
    let no_wait = l.sem.take(Timeout::NoWait).is_ok();
    let may_wait = l.sem.take(Timeout::from_millis(10)).is_ok();
    no_wait && may_wait
}
