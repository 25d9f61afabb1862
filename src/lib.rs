//! Event-counter demo.
//!
//! Boots, lists the event-counter devices and whether each is ready, then
//! runs a short concurrent workload: interrupts at a high rate (a spare NVIC
//! line pulsing an emulated GPIO, and the kernel timer), a reader thread per
//! device, and a thread that churns open/close on the timer device under both
//! close policies. Finally it reconciles every device's counts:
//!
//! generated (by the producer) == counted (seen + ignored) == read + dropped
//! + pending + ignored, and lost (generated - counted) must be 0.
#![no_std]

use core::cell::Cell;
use core::ffi::c_void;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use critical_section::Mutex;
use event_counter_zephyr::{thread_context, ClosePolicy, Error, Event, EventCounter, Timeout};
use static_cell::StaticCell;
use zephyr::time::{sleep, Duration};
use zephyr::{kobj_define, printkln};

/// Devices the demo drives (the overlay defines two).
const MAX_DEVICES: usize = 4;
/// Interrupts raised on the GPIO-driven device.
const PULSES: u32 = 20_000;
/// Raised back to back before the generator sleeps and readers catch up.
const BURST: u32 = 50;

extern "C" {
    fn demo_irq_init() -> i32;
    fn demo_irq_raise(count: u32) -> u32;
    fn demo_irq_pulses() -> u32;
    fn z_event_counter_source_generated(dev: *const zephyr::raw::device) -> u32;
}

/// What the worker threads share, built once and published to them.
struct Workload {
    devices: [Option<EventCounter>; MAX_DEVICES],
    read: [AtomicU32; MAX_DEVICES],
    stop: AtomicBool,
    done: AtomicU32,
    closes: AtomicU32,
    busy_closes: AtomicU32,
}

static WORKLOAD: StaticCell<Workload> = StaticCell::new();
/// Published once before the threads start; read by them.
static SHARED: Mutex<Cell<Option<&'static Workload>>> = Mutex::new(Cell::new(None));

kobj_define! {
    static READERS: [StaticThread; MAX_DEVICES];
    static READER_STACKS: [ThreadStack<2048>; MAX_DEVICES];
    static CHURN: StaticThread;
    static CHURN_STACK: ThreadStack<2048>;
}

fn shared() -> &'static Workload {
    critical_section::with(|cs| SHARED.borrow(cs).get()).expect("published before threads start")
}

#[no_mangle]
extern "C" fn rust_main() {
    // SAFETY: called once, before any other thread logs.
    unsafe { zephyr::set_logger().ok() };

    printkln!("event-counter demo on {}", zephyr::kconfig::CONFIG_BOARD);
    let mut devices = [None; MAX_DEVICES];
    for (slot, dev) in devices.iter_mut().zip(EventCounter::all()) {
        printkln!("  device {:<24} ready: {}", dev.name(), dev.is_ready());
        *slot = Some(dev);
    }
    let ctx = thread_context().expect("main runs in thread context");
    for dev in devices.iter().flatten().filter(|d| d.is_ready()) {
        if let Err(e) = dev.open(&ctx) {
            printkln!("open {}: {:?}", dev.name(), e);
        }
    }

    let work: &'static Workload = WORKLOAD.init(Workload {
        devices,
        read: [const { AtomicU32::new(0) }; MAX_DEVICES],
        stop: AtomicBool::new(false),
        done: AtomicU32::new(0),
        closes: AtomicU32::new(0),
        busy_closes: AtomicU32::new(0),
    });
    critical_section::with(|cs| SHARED.borrow(cs).set(Some(work)));

    let mut threads = 0;
    for (i, dev) in work.devices.iter().enumerate() {
        if dev.is_some_and(|d| d.is_ready()) {
            let stack = READER_STACKS[i].init_once(()).expect("stack used once");
            let mut thread = READERS[i].init_once(stack).expect("thread used once");
            thread.set_priority(5);
            // SAFETY: `reader_entry` takes its device index through p1.
            unsafe { thread.simple_spawn(Some(reader_entry), i as *mut c_void, null_mut(), null_mut()) };
            threads += 1;
        }
    }
    let stack = CHURN_STACK.init_once(()).expect("stack used once");
    let mut thread = CHURN.init_once(stack).expect("thread used once");
    thread.set_priority(4);
    // SAFETY: `churn_entry` ignores its arguments.
    unsafe { thread.simple_spawn(Some(churn_entry), null_mut(), null_mut(), null_mut()) };
    threads += 1;

    // The producer: interrupts at a high rate on the GPIO-driven device.
    // SAFETY: C helper, called once from thread context.
    let irq_ready = unsafe { demo_irq_init() } == 0;
    if irq_ready {
        let mut raised = 0;
        while raised < PULSES {
            // SAFETY: C helper, thread context.
            unsafe { demo_irq_raise(BURST) };
            raised += BURST;
            sleep(Duration::millis_at_least(1));
        }
    } else {
        printkln!("no emulated GPIO: counting real edges for 2 s");
        sleep(Duration::millis_at_least(2000));
    }

    // Ordering: Release/Acquire pairs make the stop flag and the per-thread
    // totals visible in order.
    work.stop.store(true, Ordering::Release);
    while work.done.load(Ordering::Acquire) < threads {
        sleep(Duration::millis_at_least(10));
    }

    let ok = reconcile(work, irq_ready);
    printkln!(
        "churn: {} closes, {} refused with -EBUSY",
        work.closes.load(Ordering::Relaxed),
        work.busy_closes.load(Ordering::Relaxed)
    );
    printkln!("{}", if ok { "PASS" } else { "FAIL" });
}

/// Closes every device, drains what is left, and checks the counts.
fn reconcile(work: &Workload, irq_ready: bool) -> bool {
    let ctx = thread_context().expect("thread context");
    let mut ok = true;
    for (i, dev) in work.devices.iter().enumerate() {
        let Some(dev) = dev else { continue };
        let Ok(device) = dev.device() else {
            printkln!("{}: not ready", dev.name());
            ok = false;
            continue;
        };
        // Stop the source, then read what is still captured.
        let _ = dev.open(&ctx);
        let _ = dev.close(&ctx, Timeout::Forever, ClosePolicy::Proceed);
        dev.open(&ctx).ok();
        let mut buf = [Event::default(); 16];
        while let Ok(n @ 1..) = device.read(&ctx, &mut buf) {
            work.read[i].fetch_add(n as u32, Ordering::Relaxed);
        }
        let _ = dev.close(&ctx, Timeout::Forever, ClosePolicy::Proceed);

        let stats = device.stats().expect("ready device");
        // SAFETY: C helpers reading counters of a live device.
        let generated = unsafe {
            match dev.timer_period_us() {
                Some(_) => z_event_counter_source_generated(dev.raw()),
                None if irq_ready => demo_irq_pulses(),
                None => 0,
            }
        };
        let counted = stats.seen + stats.ignored;
        let read = work.read[i].load(Ordering::Relaxed);
        let lost = generated as i64 - counted as i64;
        printkln!(
            "{}: generated {} counted {} (seen {} ignored {}) read {} dropped {} pending {} lost {}",
            dev.name(),
            generated,
            counted,
            stats.seen,
            stats.ignored,
            read,
            stats.dropped,
            stats.pending,
            lost
        );
        let balanced = stats.seen == stats.read + stats.dropped + stats.pending && read == stats.read;
        // Without a producer (a real board's button) nothing can be lost-checked.
        let checkable = dev.timer_period_us().is_some() || irq_ready;
        if checkable && (lost != 0 || generated == 0) || !balanced {
            ok = false;
        }
    }
    ok
}

/// One reader per device: wait, read, repeat; rides out closes by the churn thread.
fn reader(index: usize) {
    let work = shared();
    let ctx = thread_context().expect("thread context");
    let dev = work.devices[index].expect("spawned for a present device");
    let device = dev.device().expect("spawned for a ready device");
    let mut buf = [Event::default(); 8];
    // Ordering: Acquire pairs with the Release store of `stop`.
    while !work.stop.load(Ordering::Acquire) {
        match device.wait(&ctx, Timeout::Millis(20)) {
            Ok(_) => {}
            Err(Error::Closed) => {
                sleep(Duration::millis_at_least(1));
                continue;
            }
            Err(_) => continue,
        }
        if let Ok(n) = device.read(&ctx, &mut buf) {
            // Sequence numbers only go up within one read.
            debug_assert!(buf[..n].windows(2).all(|w| w[0].sequence < w[1].sequence));
            work.read[index].fetch_add(n as u32, Ordering::Relaxed);
        }
    }
    // Ordering: Release publishes this thread's totals to main.
    work.done.fetch_add(1, Ordering::Release);
}

extern "C" fn reader_entry(index: *mut c_void, _: *mut c_void, _: *mut c_void) {
    reader(index as usize);
}

extern "C" fn churn_entry(_: *mut c_void, _: *mut c_void, _: *mut c_void) {
    churn();
}

/// Open/close churn on the timer-driven devices, both close policies.
fn churn() {
    let work = shared();
    let ctx = thread_context().expect("thread context");
    let mut round = 0u32;
    while !work.stop.load(Ordering::Acquire) {
        for dev in work.devices.iter().flatten() {
            // Only timer-driven devices: their generated count comes from the
            // kernel timer, which stops while closed.
            if dev.timer_period_us().is_none() {
                continue;
            }
            let policy = if round % 2 == 0 { ClosePolicy::FailIfBusy } else { ClosePolicy::Proceed };
            match dev.close(&ctx, Timeout::Millis(5), policy) {
                Ok(()) => {
                    work.closes.fetch_add(1, Ordering::Relaxed);
                    sleep(Duration::millis_at_least(3));
                    while dev.open(&ctx) == Err(Error::Busy) {
                        sleep(Duration::millis_at_least(1));
                    }
                }
                Err(Error::Busy) => {
                    work.busy_closes.fetch_add(1, Ordering::Relaxed);
                }
                Err(_) => {}
            }
        }
        round = round.wrapping_add(1);
        sleep(Duration::millis_at_least(25));
    }
    work.done.fetch_add(1, Ordering::Release);
}
