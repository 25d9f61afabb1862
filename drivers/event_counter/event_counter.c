/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Device-model shim for the Rust event-counter driver.
 *
 * zephyr-lang-rust cannot define devices, so this file does what only C can:
 * per-instance const config from devicetree, per-instance data (timer, GPIO
 * callback, ring storage and the Rust driver state), the API table and
 * DEVICE_DT_INST_DEFINE. Everything with logic in it is Rust: the API table
 * points straight at the Rust entry points, and the interrupt trampolines
 * below only read the cycle counter and call into Rust.
 */

#define DT_DRV_COMPAT racefree_event_counter

#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/drivers/gpio.h>
#include <zephyr/init.h>
#include <zephyr/kernel.h>
#include <zephyr/pm/device.h>
#include <zephyr/pm/device_runtime.h>
#include <zephyr/sys/util.h>

#include <drivers/event_counter.h>

#include "event_counter_shim.h"

/* ---- Rust entry points (drivers/event_counter/src/ffi.rs) ---------------- */

void z_event_counter_rs_driver_init(void);
int z_event_counter_rs_init(const struct device *dev, void *state, size_t state_size);
void z_event_counter_rs_on_event(void *state, uint32_t cycles);
int z_event_counter_rs_open(const struct device *dev);
int z_event_counter_rs_close(const struct device *dev, int64_t timeout_ticks, uint32_t policy);
int z_event_counter_rs_read(const struct device *dev, struct event_counter_event *events,
			    size_t max_events);
int z_event_counter_rs_wait(const struct device *dev, int64_t timeout_ticks);
int z_event_counter_rs_configure(const struct device *dev,
				 const struct event_counter_settings *settings);
int z_event_counter_rs_get_settings(const struct device *dev,
				    struct event_counter_settings *settings);
int z_event_counter_rs_get_stats(const struct device *dev, struct event_counter_stats *stats);
int z_event_counter_rs_set_sink(const struct device *dev, event_counter_sink_t sink,
				void *user_data);
int z_event_counter_rs_notify(const struct device *dev);
int z_event_counter_rs_remove(const struct device *dev, int64_t timeout_ticks);
int z_event_counter_rs_restore(const struct device *dev);
#if defined(CONFIG_PM_DEVICE)
int z_event_counter_rs_suspend(const struct device *dev, int64_t timeout_ticks);
int z_event_counter_rs_resume(const struct device *dev);
#endif

/* ---- Interrupt trampolines: ISR context, no locks, no logging ------------ */

static void event_counter_gpio_isr(const struct device *port, struct gpio_callback *cb,
				   gpio_port_pins_t pins)
{
	struct event_counter_data *data = CONTAINER_OF(cb, struct event_counter_data, gpio_cb);

	ARG_UNUSED(port);
	ARG_UNUSED(pins);
	z_event_counter_rs_on_event(data->rust_state, k_cycle_get_32());
}

/* Seed 002/003, SMP: on two CPUs k_timer_stop() does not stop an expiry
 * that the system timer ISR on the other CPU has already taken off the
 * timeout list: that handler still runs, re-adds a periodic timer's next
 * timeout (so the timer runs on after the stop) and bumps timer->status,
 * which the next k_timer_start() then zeroes. Found by the demo on
 * qemu_riscv64 SMP (counted 10 more expiries than the kernel's status said,
 * over 54 closes). So the source counts its own expiries, and the disable
 * path waits for the handlers in flight (seed 001: a closing flag and an
 * in-flight count). Both are decided under timer_lock: a handler either
 * enters before the stop, counted in flight, and the stop waits for it, or
 * finds the timer stopped and leaves without counting or delivering (it
 * stops the timer its own expiry re-added). Entering after the flag check
 * without that lock let a late handler deliver after the disable had
 * returned: the pm suite's test_8 counted one expiry more than the device
 * saw, once the kernel ticked (cmake/qemu_riscv64_smp.conf).
 */
static void event_counter_timer_expiry(struct k_timer *timer)
{
	struct event_counter_data *data = CONTAINER_OF(timer, struct event_counter_data, timer);
	k_spinlock_key_t key = k_spin_lock(&data->timer_lock);

	if (!data->timer_running) {
		/* Re-added by this very expiry after a stop on another CPU. */
		k_timer_stop(timer);
		k_spin_unlock(&data->timer_lock, key);
		return;
	}
	atomic_inc(&data->timer_in_handler);
	atomic_inc(&data->timer_generated);
	k_spin_unlock(&data->timer_lock, key);
	z_event_counter_rs_on_event(data->rust_state, k_cycle_get_32());
	atomic_dec(&data->timer_in_handler);
}

/* ---- Hardware hooks called by Rust (thread context) ---------------------- */

static gpio_flags_t event_counter_edge_flags(uint32_t edge)
{
	switch (edge) {
	case EVENT_COUNTER_EDGE_FALLING:
		return GPIO_INT_EDGE_FALLING;
	case EVENT_COUNTER_EDGE_BOTH:
		return GPIO_INT_EDGE_BOTH;
	default:
		return GPIO_INT_EDGE_RISING;
	}
}

#if defined(CONFIG_PM_DEVICE_RUNTIME)
/* Runtime PM of the GPIO controller: an armed pin interrupt holds one usage
 * reference on its controller, so that the controller is active exactly while
 * some counter listens on it (seed 002: reference tracking). `gpio_pm_armed`
 * records whether this device holds it; the compare-and-set makes the
 * reference follow arm/disarm transitions only, however often the settings
 * are re-applied. Calls may overlap (Rust applies settings with its thread
 * lock released, then revalidates and applies the newest state again), so
 * the last call decides both the pin and the reference.
 *
 * The reference is taken before the flag says it is held, and released only
 * after the flag stopped saying so: whoever clears the flag always puts a
 * reference that exists. The other order (flag first, then get) let a
 * concurrent disable clear the flag and put before the get had counted; the
 * PM core refused that put (-EALREADY, count 0) and the late get leaked a
 * reference that kept the controller active for good (pm suite, test_7b).
 */
static int event_counter_gpio_set_pm(const struct event_counter_config *config,
				     struct event_counter_data *data, bool enabled, uint32_t edge)
{
	int ret;

	if (!enabled) {
		ret = gpio_pin_interrupt_configure_dt(&config->gpio, GPIO_INT_DISABLE);
		if (ret == 0 && atomic_cas(&data->gpio_pm_armed, 1, 0)) {
			/* The controller may suspend now; nothing of ours needs it. */
			(void)pm_device_runtime_put(config->gpio.port);
		}
		return ret;
	}
	ret = pm_device_runtime_get(config->gpio.port);
	if (ret < 0) {
		return ret;
	}
	if (!atomic_cas(&data->gpio_pm_armed, 0, 1)) {
		/* Held already (re-applied settings): ours is one too many. */
		(void)pm_device_runtime_put(config->gpio.port);
	}
	ret = gpio_pin_interrupt_configure_dt(&config->gpio, event_counter_edge_flags(edge));
	if (ret < 0 && atomic_cas(&data->gpio_pm_armed, 1, 0)) {
		(void)pm_device_runtime_put(config->gpio.port);
	}
	return ret;
}
#endif

int z_event_counter_source_set(const struct device *dev, bool enabled, uint32_t edge)
{
	const struct event_counter_config *config = dev->config;
	struct event_counter_data *data = dev->data;

	if (config->gpio.port != NULL) {
#if defined(CONFIG_PM_DEVICE_RUNTIME)
		return event_counter_gpio_set_pm(config, data, enabled, edge);
#else
		return gpio_pin_interrupt_configure_dt(
			&config->gpio, enabled ? event_counter_edge_flags(edge) : GPIO_INT_DISABLE);
#endif
	}
	k_spinlock_key_t key = k_spin_lock(&data->timer_lock);

	if (enabled) {
		/* Already running (settings re-applied): keep its phase. */
		if (!data->timer_running) {
			data->timer_running = true;
			k_timer_start(&data->timer, K_USEC(config->timer_period_us),
				      K_USEC(config->timer_period_us));
		}
		k_spin_unlock(&data->timer_lock, key);
	} else {
		data->timer_running = false;
		k_timer_stop(&data->timer);
		k_spin_unlock(&data->timer_lock, key);
		/* An expiry already running on another CPU (SMP) finishes first:
		 * when this returns, no handler of ours is mid-way. It is a few
		 * hundred instructions, so the wait is short.
		 */
		while (atomic_get(&data->timer_in_handler) != 0) {
			k_busy_wait(1);
		}
	}
	return 0;
}

/* Hot-plug: the event source came back. What was removed is the device
 * behind the line, not the GPIO controller: the pin keeps the input
 * configuration and the callback from init, and its interrupt stays disabled
 * until an open. Reconfiguring the pin here would be no safer, and on some
 * controllers (gpio_emul among them) raises a spurious interrupt.
 */
int z_event_counter_source_attach(const struct device *dev)
{
	const struct event_counter_config *config = dev->config;

	if (config->gpio.port != NULL && !gpio_is_ready_dt(&config->gpio)) {
		return -ENODEV;
	}
	return 0;
}

uint32_t z_event_counter_source_generated(const struct device *dev)
{
	const struct event_counter_config *config = dev->config;
	struct event_counter_data *data = dev->data;

	if (config->gpio.port != NULL) {
		return 0;
	}
	return (uint32_t)atomic_get(&data->timer_generated);
}

/* ---- Init: wire the source, then hand over to Rust ----------------------- */

static int event_counter_init(const struct device *dev)
{
	const struct event_counter_config *config = dev->config;
	struct event_counter_data *data = dev->data;
	int ret;

	if (config->gpio.port != NULL) {
		if (!gpio_is_ready_dt(&config->gpio)) {
			/* Rust never initialises: every call answers -ENODEV. */
			return -ENODEV;
		}
		ret = gpio_pin_configure_dt(&config->gpio, GPIO_INPUT);
		if (ret < 0) {
			return ret;
		}
		gpio_init_callback(&data->gpio_cb, event_counter_gpio_isr, BIT(config->gpio.pin));
		ret = gpio_add_callback_dt(&config->gpio, &data->gpio_cb);
		if (ret < 0) {
			return ret;
		}
	} else {
		k_timer_init(&data->timer, event_counter_timer_expiry, NULL);
	}

	/* Last step: Rust publishes the device as ready only if all of it succeeded. */
	return z_event_counter_rs_init(dev, data->rust_state, sizeof(data->rust_state));
}

/* ---- Power management (issue 13) ----------------------------------------- *
 *
 * Seed 001, *Shutdown*: a suspend is a close that keeps the session. It
 * switches the source off, then drains the calls in flight through the same
 * racefree Gate that close uses (crates/event-counter/src/device.rs,
 * Device::suspend), bounded by CONFIG_EVENT_COUNTER_PM_DRAIN_TIMEOUT_MS. No
 * second state machine lives here: the PM core keeps its record, the Rust
 * device its own, and an action changes the PM core's record only when the
 * Rust side succeeded.
 */
#if defined(CONFIG_PM_DEVICE)
static int event_counter_pm_action(const struct device *dev, enum pm_device_action action)
{
	int ret;

	switch (action) {
	case PM_DEVICE_ACTION_SUSPEND:
		/* 0; -EBUSY: calls did not drain in time, refused, the device is
		 * active and usable as before; -EALREADY.
		 */
		ret = z_event_counter_rs_suspend(
			dev, K_MSEC(CONFIG_EVENT_COUNTER_PM_DRAIN_TIMEOUT_MS).ticks);
		break;
	case PM_DEVICE_ACTION_RESUME:
		ret = z_event_counter_rs_resume(dev);
		break;
	default:
		/* TURN_ON/TURN_OFF come from a power domain cutting or restoring
		 * power. The counter has no power of its own: a device that is
		 * turned off was suspended first (the PM core only turns off
		 * suspended devices) and stays so, and pm_device_action_run records
		 * the domain's state whatever we answer.
		 */
		return -ENOTSUP;
	}
	/* A removed (hot-unplugged) or never-ready device answers -ENODEV: its
	 * source is already off and its binding released, there is nothing to
	 * suspend or resume. -ENOTSUP is the answer the PM core tolerates: a
	 * system suspend (pm_suspend_devices) skips such a device, where any
	 * other error would abort the whole system suspend because of a device
	 * that is not even there. The PM core keeps its record on an error, so
	 * after event_counter_restore() the two records agree again (the Rust
	 * device comes back in the power state it was removed in).
	 */
	if (ret == -ENODEV) {
		return -ENOTSUP;
	}
	/* Already in the target state: done. pm_device_action_run() never asks
	 * for the state its record already holds, but runtime PM's last put
	 * suspends whatever the record says (e.g. after an explicit suspend of
	 * an open device), and failing it would keep the usage count up. When
	 * the records disagree this realigns the PM core's with the device's.
	 */
	if (ret == -EALREADY) {
		return 0;
	}
	return ret;
}
#endif

#if defined(CONFIG_PM_DEVICE_RUNTIME)
/* Runtime PM: an open session holds one usage reference on its device, so an
 * unused device suspends and an open one never does behind its client's back
 * (seed 002: the usage count is reference tracking). Rust calls these from
 * open, close, remove and restore (drivers/event_counter/src/ffi.rs), thread
 * context only, so the synchronous get/put are safe to use.
 */
static void event_counter_pm_repay(const struct device *dev)
{
	struct event_counter_data *data = dev->data;
	atomic_val_t owed;
	int ret;

	while ((owed = atomic_get(&data->pm_owed)) > 0) {
		if (!atomic_cas(&data->pm_owed, owed, owed - 1)) {
			continue;
		}
		ret = pm_device_runtime_put(dev);
		if (ret < 0 && ret != -EALREADY) {
			/* Still refused (removed, or calls still in flight): keep it. */
			atomic_inc(&data->pm_owed);
			return;
		}
	}
}

/* Takes the session's reference (resuming the device if it was unused). On
 * success it also settles references owed by earlier sessions: the count is
 * at least 1 + owed now, so those puts only count down, without an action.
 */
int z_event_counter_pm_session_get(const struct device *dev)
{
	int ret = pm_device_runtime_get(dev);

	if (ret < 0) {
		/* The resume answered -ENOTSUP: removed (see the PM action). */
		return ret == -ENOTSUP ? -ENODEV : ret;
	}
	event_counter_pm_repay(dev);
	return 0;
}

/* Releases a session's reference (closed, failed open, or removed). If the PM
 * core refuses (the suspend that the last put runs did not drain, or the
 * device was removed and answers -ENOTSUP) it keeps counting the reference:
 * it is recorded as owed and released at the next open or restore.
 */
void z_event_counter_pm_session_put(const struct device *dev)
{
	struct event_counter_data *data = dev->data;
	int ret = pm_device_runtime_put(dev);

	/* -EALREADY: the count is 0 already (runtime PM was enabled after the
	 * open, which resets it): nothing is held.
	 */
	if (ret < 0 && ret != -EALREADY) {
		atomic_inc(&data->pm_owed);
	}
}

/* After a restore: release what the removal could not. */
void z_event_counter_pm_restored(const struct device *dev)
{
	event_counter_pm_repay(dev);
}
#endif

static const struct event_counter_driver_api event_counter_api = {
	.open = z_event_counter_rs_open,
	.close = z_event_counter_rs_close,
	.read = z_event_counter_rs_read,
	.wait = z_event_counter_rs_wait,
	.configure = z_event_counter_rs_configure,
	.get_settings = z_event_counter_rs_get_settings,
	.get_stats = z_event_counter_rs_get_stats,
	.set_sink = z_event_counter_rs_set_sink,
	.notify = z_event_counter_rs_notify,
	.remove = z_event_counter_rs_remove,
	.restore = z_event_counter_rs_restore,
};

/* ---- The Rust driver's inlined k_spinlock ------------------------------- *
 *
 * Where k_spin_lock() is exactly arch_irq_lock() on ARMv7-M/ARMv8-M Mainline
 * (no SMP, no spinlock validation), the Rust side (drivers/event_counter/
 * src/backend.rs, module `spin`) executes that BASEPRI sequence inline instead
 * of calling bindgen's out-of-line k_spin_lock__extern(). The mask level is
 * not recomputed in Rust: it is _EXC_IRQ_DEFAULT_PRIO itself, published here
 * as the absolute symbol z_event_counter_irq_lock_basepri, so the two sides
 * cannot disagree on it. These conditions mirror the test in
 * drivers/event_counter/build.rs (the Rust cfg event_counter_inline_spin); if
 * Rust ever inlined where C does not agree, the symbol is missing and the link
 * fails.
 */
#if defined(CONFIG_ARMV7_M_ARMV8_M_MAINLINE) && !defined(CONFIG_ARMV6_M_ARMV8_M_BASELINE) &&     \
	!defined(CONFIG_SMP) && !defined(CONFIG_SPIN_VALIDATE)
#define Z_EVENT_COUNTER_INLINE_SPIN 1
BUILD_ASSERT(sizeof(struct k_spinlock) == 0,
	     "k_spin_lock() carries state here: the Rust inlined lock would be wrong");
BUILD_ASSERT(_EXC_IRQ_DEFAULT_PRIO > 0 && _EXC_IRQ_DEFAULT_PRIO <= 0xff,
	     "the Rust inlined lock loads the BASEPRI value as a 16-bit immediate");
#else
#define Z_EVENT_COUNTER_INLINE_SPIN 0
#endif

/* ---- Driver-level init, before any instance (seed 001: startup) ---------- */

static int event_counter_driver_init(void)
{
#if Z_EVENT_COUNTER_INLINE_SPIN
	/* The interrupt-lock level for the Rust driver's inlined k_spinlock:
	 * the kernel's own macro, as an absolute symbol (no bytes, no code)
	 * that the Rust side takes as a link-time immediate. See below.
	 */
	GEN_ABSOLUTE_SYM(z_event_counter_irq_lock_basepri, _EXC_IRQ_DEFAULT_PRIO);
#endif
	z_event_counter_rs_driver_init();
	return 0;
}

SYS_INIT(event_counter_driver_init, POST_KERNEL, CONFIG_EVENT_COUNTER_DRIVER_INIT_PRIORITY);

BUILD_ASSERT(CONFIG_EVENT_COUNTER_DRIVER_INIT_PRIORITY < CONFIG_EVENT_COUNTER_INIT_PRIORITY,
	     "the driver structure must be initialised before its devices");
BUILD_ASSERT(DT_NUM_INST_STATUS_OKAY(DT_DRV_COMPAT) <= CONFIG_EVENT_COUNTER_MAX_DEVICES,
	     "more event-counter nodes than CONFIG_EVENT_COUNTER_MAX_DEVICES");

/* ---- Instances ---------------------------------------------------------- */

#define EVENT_COUNTER_HAS_GPIO(inst)  DT_INST_NODE_HAS_PROP(inst, gpios)
#define EVENT_COUNTER_HAS_TIMER(inst) DT_INST_NODE_HAS_PROP(inst, timer_period_us)

#define EVENT_COUNTER_DEFINE(inst)                                                                 \
	BUILD_ASSERT(EVENT_COUNTER_HAS_GPIO(inst) != EVENT_COUNTER_HAS_TIMER(inst),                 \
		     "event-counter " DT_NODE_PATH(DT_DRV_INST(inst))                              \
		     ": set exactly one event source, `gpios` or `timer-period-us`");               \
	BUILD_ASSERT(DT_INST_PROP(inst, capture_depth) > 0,                                        \
		     "event-counter " DT_NODE_PATH(DT_DRV_INST(inst))                              \
		     ": capture-depth must be at least 1");                                        \
	BUILD_ASSERT(DT_INST_PROP_OR(inst, timer_period_us, 1) > 0,                                \
		     "event-counter " DT_NODE_PATH(DT_DRV_INST(inst))                              \
		     ": timer-period-us must be at least 1");                                      \
	static struct event_counter_event                                                          \
		event_counter_ring_##inst[DT_INST_PROP(inst, capture_depth)];                       \
	static struct event_counter_data event_counter_data_##inst;                                \
	PM_DEVICE_DT_INST_DEFINE(inst, event_counter_pm_action);                                   \
	static const struct event_counter_config event_counter_config_##inst = {                   \
		.ring = event_counter_ring_##inst,                                                 \
		.capture_depth = DT_INST_PROP(inst, capture_depth),                                \
		.timer_period_us = DT_INST_PROP_OR(inst, timer_period_us, 0),                      \
		.default_edge = DT_INST_ENUM_IDX(inst, edge),                                      \
		.index = inst,                                                                     \
		.name = DT_NODE_FULL_NAME(DT_DRV_INST(inst)),                                      \
		.gpio = GPIO_DT_SPEC_INST_GET_OR(inst, gpios, {0}),                                \
	};                                                                                         \
	DEVICE_DT_INST_DEFINE(inst, event_counter_init, PM_DEVICE_DT_INST_GET(inst),               \
			      &event_counter_data_##inst,                                          \
			      &event_counter_config_##inst, POST_KERNEL,                           \
			      CONFIG_EVENT_COUNTER_INIT_PRIORITY, &event_counter_api);

DT_INST_FOREACH_STATUS_OKAY(EVENT_COUNTER_DEFINE)

/* Startup ordering (seed 001): a GPIO-driven counter must initialise after its
 * controller. Zephyr's build also checks the devicetree dependency
 * (CONFIG_CHECK_INIT_PRIORITIES); this states the Kconfig contract directly.
 */
#if defined(CONFIG_GPIO)
BUILD_ASSERT(CONFIG_EVENT_COUNTER_INIT_PRIORITY > CONFIG_GPIO_INIT_PRIORITY,
	     "CONFIG_EVENT_COUNTER_INIT_PRIORITY must be greater than CONFIG_GPIO_INIT_PRIORITY");
#endif

/* Every instance, for enumeration from Rust and C (the demo lists them). */
#define EVENT_COUNTER_DEVICE_PTR(inst) DEVICE_DT_INST_GET(inst),

const struct device *const z_event_counter_devices[] = {
	DT_INST_FOREACH_STATUS_OKAY(EVENT_COUNTER_DEVICE_PTR)};
const size_t z_event_counter_device_count = ARRAY_SIZE(z_event_counter_devices);
