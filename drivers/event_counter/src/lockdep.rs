//! The lock validator on Zephyr (`CONFIG_EVENT_COUNTER_LOCKDEP`): seed 000
//! step 3 (Validate with Lockdep), after Linux lockdep.
//!
//! [`ZephyrLockdep`] is racefree's [`Platform`] for this kernel: which
//! context runs (a thread, or an ISR nesting level of a CPU), where the
//! validator state lives, how a report is printed and what a fatal one does.
//! `backend::chosen` wraps the driver's backends in
//! [`Validated`](racefree::lockdep::Validated) with it, so every lock the
//! driver takes is checked. The `event_counter_lockdep_*` functions below are
//! the C API of include/drivers/event_counter_lockdep.h, for tests.
//!
//! The C half (event_counter_lockdep.c) does what only C can: read the CPU's
//! interrupt nesting, `printk()` and `k_panic()` (macros or variadic).

use core::ffi::{c_char, c_int};
use core::fmt::{self, Write};

use racefree::lockdep::{self, ContextId, Platform, Policy, Report, Validator};
use zephyr::raw;

extern "C" {
    /// `(cpu id << 16) | interrupt nesting level` of the calling ISR.
    fn z_event_counter_lockdep_isr_id() -> u32;
    /// `printk("%.*s\n", len, text)`.
    fn z_event_counter_lockdep_emit(text: *const c_char, len: usize);
    /// `k_panic()`.
    fn z_event_counter_lockdep_fatal() -> !;
}

/// Context id of code that runs before any thread exists (`k_current_get()`
/// is NULL): one pseudo-thread. Even and below any RAM address, so it never
/// names a real thread object.
const EARLY_BOOT: usize = 2;

/// The lock validator's platform on Zephyr.
pub enum ZephyrLockdep {}

impl Platform for ZephyrLockdep {
    const POLICY: Policy = if cfg!(CONFIG_EVENT_COUNTER_LOCKDEP_PANIC) {
        Policy::Panic
    } else {
        Policy::Warn
    };

    fn current_context() -> ContextId {
        // SAFETY: k_is_in_isr() only reads the current CPU's state; callable
        // from any context.
        if unsafe { raw::k_is_in_isr() } {
            // SAFETY: a pure read of the current CPU's id and nesting, called
            // in an ISR as it requires.
            let id = unsafe { z_event_counter_lockdep_isr_id() };
            ContextId::isr((id >> 16) as usize, id & 0xffff)
        } else {
            // SAFETY: k_current_get() reads the current thread pointer.
            match unsafe { raw::k_current_get() } as usize {
                0 => ContextId::thread(EARLY_BOOT),
                // Thread objects are word-aligned, so the id is even.
                thread => ContextId::thread(thread),
            }
        }
    }

    fn validator() -> &'static Validator {
        static VALIDATOR: Validator = Validator::new();
        &VALIDATOR
    }

    fn emit(report: &Report) {
        let text = report.as_str();
        // SAFETY: `text` is valid for `len` bytes; the C side prints exactly
        // those with printk, never the logger: a report can come from an ISR
        // or with a k_spinlock held, where printk is allowed and the
        // deferred logger's allocation is not what we want.
        unsafe { z_event_counter_lockdep_emit(text.as_ptr().cast(), text.len()) }
    }

    fn fatal(_report: &Report) -> ! {
        // SAFETY: k_panic() may be called from any context; the report has
        // been printed by `emit` first.
        unsafe { z_event_counter_lockdep_fatal() }
    }
}

/// A `fmt::Write` into a C buffer, snprintf-style: keeps what fits (leaving
/// room for the NUL) and counts everything.
struct CBuffer {
    buf: *mut u8,
    cap: usize,
    used: usize,
    total: usize,
}

impl CBuffer {
    /// # Safety
    /// `buf` is NULL (then `len` is ignored) or valid for `len` bytes of writes.
    unsafe fn new(buf: *mut c_char, len: usize) -> Self {
        let cap = if buf.is_null() { 0 } else { len };
        CBuffer { buf: buf.cast(), cap, used: 0, total: 0 }
    }

    /// NUL-terminates (when there is a buffer) and returns the full length.
    fn finish(self) -> c_int {
        if self.cap > 0 {
            // SAFETY: `used < cap` (write_str keeps one byte), within the buffer.
            unsafe { self.buf.add(self.used).write(0) };
        }
        self.total.min(c_int::MAX as usize) as c_int
    }
}

impl Write for CBuffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.cap.saturating_sub(1).saturating_sub(self.used);
        let take = s.len().min(room);
        // SAFETY: `used + take <= cap - 1`, inside the caller's buffer
        // (`CBuffer::new`'s contract); `s` does not overlap it.
        unsafe { core::ptr::copy_nonoverlapping(s.as_ptr(), self.buf.add(self.used), take) };
        self.used += take;
        self.total += s.len();
        Ok(())
    }
}

/// Distinct lock-usage problems reported since boot.
#[no_mangle]
extern "C" fn event_counter_lockdep_report_count() -> c_int {
    lockdep::report_count::<ZephyrLockdep>().min(c_int::MAX as u32) as c_int
}

/// Copies the last report's text into `buf` (NUL-terminated, cut to fit);
/// returns its full length, or `-ENOENT` if nothing was reported.
///
/// # Safety
/// `buf` is NULL or valid for `len` bytes of writes.
#[no_mangle]
unsafe extern "C" fn event_counter_lockdep_last_report(buf: *mut c_char, len: usize) -> c_int {
    let Some(report) = lockdep::last_report::<ZephyrLockdep>() else {
        return -(raw::ENOENT as c_int);
    };
    // SAFETY: the caller's contract.
    let mut out = unsafe { CBuffer::new(buf, len) };
    let _ = out.write_str(report.as_str());
    out.finish()
}

/// Writes the recorded class dependency graph, one `"held" -> "taken"` line
/// per dependency, into `buf` (NUL-terminated, cut to fit); returns its full
/// length.
///
/// # Safety
/// `buf` is NULL or valid for `len` bytes of writes.
#[no_mangle]
unsafe extern "C" fn event_counter_lockdep_graph(buf: *mut c_char, len: usize) -> c_int {
    // SAFETY: the caller's contract.
    let mut out = unsafe { CBuffer::new(buf, len) };
    // CBuffer never fails.
    let _ = lockdep::write_graph::<ZephyrLockdep>(&mut out);
    out.finish()
}
