//! What the C shim (`event_counter.c`, `event_counter_shim.h`) defines, seen
//! from Rust: per-instance config, the storage the driver lives in, the
//! interrupt source, and the C notification sink.

use core::ffi::{c_char, c_int, c_void, CStr};
use core::mem::{align_of, size_of, MaybeUninit};
use core::sync::atomic::{AtomicBool, Ordering};

use event_counter::{Edge, Error, Event, EventSource, NotificationSink, Result};
use zephyr::raw;

use crate::ZephyrDevice;

/// Mirror of the Rust-read prefix of C's `struct event_counter_config`
/// (same fields, same order; the C-only fields follow and are not named here).
#[repr(C)]
pub(crate) struct ShimConfig {
    pub ring: *mut Event,
    pub capture_depth: u32,
    pub timer_period_us: u32,
    pub default_edge: u32,
    pub index: u32,
    pub name: *const c_char,
}

/// What lives in C's `event_counter_data.rust_state`.
///
/// `ready` is separate from the device so that a never-initialised slot
/// (zero-filled .bss: init failed before Rust ran) reads as "not ready"
/// without ever viewing the zeroes as a `ZephyrDevice`.
#[repr(C)]
pub(crate) struct Slot {
    ready: AtomicBool,
    device: MaybeUninit<ZephyrDevice>,
}

/// Bytes C reserves per instance (`CONFIG_EVENT_COUNTER_STATE_SIZE`, rounded
/// up to whole `uint64_t`s as the C array is).
const RESERVED: usize = (zephyr::kconfig::CONFIG_EVENT_COUNTER_STATE_SIZE as usize).div_ceil(8) * 8;

const _: () = assert!(
    size_of::<Slot>() <= RESERVED,
    "CONFIG_EVENT_COUNTER_STATE_SIZE is too small for the Rust driver state"
);
/// Bytes to spare. When the state does not fit, this fails to evaluate too,
/// and rustc's error ("attempt to compute `RESERVED - NEEDED`, which would
/// overflow") shows the size the option must have at least.
const _SPARE: usize = RESERVED - size_of::<Slot>();
const _: () = assert!(align_of::<Slot>() <= 8, "rust_state is only 8-byte aligned");

extern "C" {
    static z_event_counter_devices: [*const raw::device; 0];
    static z_event_counter_device_count: usize;
    fn z_event_counter_source_set(dev: *const raw::device, enabled: bool, edge: u32) -> c_int;
    fn z_event_counter_source_attach(dev: *const raw::device) -> c_int;
}

/// Every instance the shim defined.
pub(crate) fn devices() -> &'static [*const raw::device] {
    // SAFETY: the shim defines the array with exactly `count` entries, const
    // for the life of the program.
    unsafe {
        core::slice::from_raw_parts(
            core::ptr::addr_of!(z_event_counter_devices).cast(),
            z_event_counter_device_count,
        )
    }
}

fn config(dev: *const raw::device) -> &'static ShimConfig {
    // SAFETY: `dev` is an event-counter device (callers' contract), whose
    // config is a const `struct event_counter_config` that starts with the
    // fields of `ShimConfig`.
    unsafe { &*((*dev).config as *const ShimConfig) }
}

fn slot_ptr(dev: *const raw::device) -> *mut Slot {
    // SAFETY: as in `config`; `rust_state` is the first member of the data.
    unsafe { (*dev).data as *mut Slot }
}

/// The devicetree node name of `dev`.
pub(crate) fn name(dev: *const raw::device) -> &'static str {
    // SAFETY: the shim stores DT_NODE_FULL_NAME, a static C string.
    unsafe { CStr::from_ptr(config(dev).name) }.to_str().unwrap_or("?")
}

/// The instance number of `dev` (`DT_DRV_INST` order), its slot in the
/// driver-level structure.
pub(crate) fn index(dev: *const raw::device) -> usize {
    config(dev).index as usize
}

/// The timer period of a timer-driven `dev`.
pub(crate) fn timer_period_us(dev: *const raw::device) -> Option<u32> {
    match config(dev).timer_period_us {
        0 => None,
        period => Some(period),
    }
}

/// The driver at `dev`, once its init has completed.
pub(crate) fn device(dev: *const raw::device) -> Option<&'static ZephyrDevice> {
    if dev.is_null() {
        return None;
    }
    // SAFETY: the slot is static storage; `ready` is valid when zeroed.
    let slot = unsafe { &*slot_ptr(dev) };
    // Ordering: Acquire pairs with the Release in `init`, so the device it
    // guards is fully built when seen.
    if slot.ready.load(Ordering::Acquire) {
        // SAFETY: `ready` is set only after the device was written and
        // initialised in place, and it is never dropped or moved.
        Some(unsafe { slot.device.assume_init_ref() })
    } else {
        None
    }
}

/// Builds the driver in the slot C reserved for `dev` and publishes it.
///
/// # Safety
/// Called once per device, from its init function, with `state` being its
/// `rust_state` of `size` bytes.
pub(crate) unsafe fn init(dev: *const raw::device, state: *mut c_void, size: usize) -> Result<()> {
    if state.is_null() || size < size_of::<Slot>() || (state as usize) % align_of::<Slot>() != 0 {
        // No arguments: formatting them would link core::fmt's integer
        // printing into every image (about 2 KiB) for a case the build
        // already rules out (the size assertions above).
        log::error!("event-counter: CONFIG_EVENT_COUNTER_STATE_SIZE storage too small or misaligned");
        return Err(Error::Invalid);
    }
    let cfg = config(dev);
    let edge = Edge::from_raw(cfg.default_edge)?;
    let ring_start = core::ptr::NonNull::new(cfg.ring).ok_or(Error::Invalid)?;
    // SAFETY: the shim gives each instance its own static array of
    // `capture_depth` events, used by nothing else.
    let ring = unsafe { event_counter::EventRing::from_raw(ring_start, cfg.capture_depth) };
    let slot = state as *mut Slot;
    // SAFETY: `slot` is this device's storage (checked above), not yet shared:
    // `ready` is false, so no other context dereferences the device.
    unsafe {
        let device = core::ptr::addr_of_mut!((*slot).device).cast::<ZephyrDevice>();
        // The source was probed by the C init function before it called us.
        device.write(ZephyrDevice::new(ring, ShimSource { dev }, edge));
        (*device).init();
        // Ordering: Release publishes the initialised device (see `device`).
        (*slot).ready.store(true, Ordering::Release);
    }
    Ok(())
}

/// Records an event from the ISR trampoline.
///
/// `inline(always)`: this is the interrupt path, with one caller
/// (`z_event_counter_rs_on_event`); left to the inliner it was sometimes
/// outlined, which costs every interrupt a second call and frame.
///
/// # Safety
/// `state` is some device's `rust_state`.
#[inline(always)]
pub(crate) unsafe fn on_event(state: *mut c_void, cycles: u32) {
    // SAFETY: static storage; `ready` is valid when zeroed.
    let slot = unsafe { &*(state as *const Slot) };
    if ready_in_isr(&slot.ready) {
        // SAFETY: as in `device`. `init` stores `ready` (Release) only after
        // `Device::init` returned, and this acquiring load (`ready_in_isr`)
        // saw it, so the device's own readiness check would pass: skip it
        // (one check per interrupt, not two).
        unsafe { slot.device.assume_init_ref().on_event_ready(cycles) };
    }
}

/// `flag.load(Acquire)` for interrupt context, as Linux's
/// `smp_load_acquire()`: with `CONFIG_SMP` a real Acquire (a `dmb` on Arm).
/// On a uniprocessor the interrupt runs on the one CPU, which executed the
/// `init` that stored the flag (or a thread that synchronised with it) and
/// observes its own stores in program order; only the compiler must be kept
/// from moving the device's accesses above the check, which a compiler fence
/// does. This is what Linux's `smp_*` barriers are on `!CONFIG_SMP`
/// (`barrier()`), and the same reasoning as the inlined uniprocessor
/// `k_spinlock` in backend.rs.
#[inline(always)]
fn ready_in_isr(flag: &AtomicBool) -> bool {
    #[cfg(not(CONFIG_SMP))]
    {
        // Ordering: Relaxed plus a compiler fence; see above.
        let ready = flag.load(Ordering::Relaxed);
        core::sync::atomic::compiler_fence(Ordering::Acquire);
        ready
    }
    #[cfg(CONFIG_SMP)]
    {
        // Ordering: Acquire pairs with the Release in `init`.
        flag.load(Ordering::Acquire)
    }
}

/// The interrupt source of one instance: its GPIO pin interrupt or k_timer,
/// switched by the C shim.
pub struct ShimSource {
    dev: *const raw::device,
}

// SAFETY: `dev` points to a static device; the shim's source calls are
// thread-safe Zephyr calls (GPIO driver API, k_timer).
unsafe impl Send for ShimSource {}
// SAFETY: as above.
unsafe impl Sync for ShimSource {}

impl ShimSource {
    /// A new binding to `dev`'s source after a removal, once its GPIO
    /// controller (if any) is ready.
    ///
    /// Only for a removed device (see `Device::restore`): dropping the
    /// binding disables the source's interrupt.
    pub(crate) fn attach(dev: *const raw::device) -> Result<Self> {
        // SAFETY: `dev` is an event-counter device (callers' contract).
        match unsafe { z_event_counter_source_attach(dev) } {
            0 => Ok(ShimSource { dev }),
            errno => Err(Error::from_errno(errno).unwrap_or(Error::Invalid)),
        }
    }
}

impl EventSource for ShimSource {
    fn set(&self, enabled: bool, edge: Edge) -> Result<()> {
        // SAFETY: `dev` is this instance's device.
        match unsafe { z_event_counter_source_set(self.dev, enabled, edge as u32) } {
            0 => Ok(()),
            errno => Err(Error::from_errno(errno).unwrap_or(Error::Invalid)),
        }
    }
}

impl Drop for ShimSource {
    /// Hot-unplug's last step: the binding never outlives an enabled source.
    fn drop(&mut self) {
        // SAFETY: as in `set`.
        unsafe { z_event_counter_source_set(self.dev, false, 0) };
    }
}

/// C's `event_counter_sink_t`.
pub type SinkFn = unsafe extern "C" fn(*const raw::device, u32, *mut c_void) -> c_int;

/// A C notification sink with its device and user data.
#[derive(Clone)]
pub struct CSink {
    pub(crate) func: SinkFn,
    pub(crate) dev: *const raw::device,
    pub(crate) user_data: *mut c_void,
}

// SAFETY: the C contract of event_counter_set_sink(): the sink and its
// user_data may be called from any thread.
unsafe impl Send for CSink {}

impl NotificationSink for CSink {
    fn notify(&self, pending: u32) -> i32 {
        // SAFETY: installed through event_counter_set_sink() with this contract.
        unsafe { (self.func)(self.dev, pending, self.user_data) }
    }
}
