/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Per-instance config and data of the event-counter shim. The fields marked
 * "read by Rust" are mirrored, in this order, by `ShimConfig` in
 * drivers/event_counter/src/ffi.rs; keep the two in step.
 */

#ifndef EVENT_COUNTER_SHIM_H_
#define EVENT_COUNTER_SHIM_H_

#include <zephyr/drivers/gpio.h>
#include <zephyr/kernel.h>
#include <zephyr/sys/util.h>

#include <drivers/event_counter.h>

/* Const, from devicetree (ROM). */
struct event_counter_config {
	/* Read by Rust. */
	struct event_counter_event *ring;
	uint32_t capture_depth;
	uint32_t timer_period_us;
	uint32_t default_edge;
	uint32_t index;
	const char *name;
	/* C only. */
	struct gpio_dt_spec gpio;
};

/* Mutable (RAM). The Rust driver state comes first so that its alignment holds. */
struct event_counter_data {
	/* Opaque to C: the Rust `Device` lives here, initialised in place by
	 * z_event_counter_rs_init(); its size is checked at build time by Rust
	 * and again at init against sizeof().
	 */
	uint64_t rust_state[DIV_ROUND_UP(CONFIG_EVENT_COUNTER_STATE_SIZE, sizeof(uint64_t))];
	/* The event source: exactly one of these is used by an instance. */
	union {
		struct gpio_callback gpio_cb;
		struct k_timer timer;
	};
	/* Timer sources: expiries delivered to the driver (the reference the
	 * counts reconcile against), whether the source is switched on, and
	 * expiry handlers running now (see event_counter_timer_expiry()).
	 */
	atomic_t timer_generated;
	atomic_t timer_in_handler;
	/* Timer sources: whether the source is on. Re-applying enabled
	 * settings leaves a running timer alone (k_timer_start() would re-phase
	 * it: configure calls faster than the period would starve it; found by
	 * lifecycle's test_cross_cpu_gate_and_revocable). Rust applies settings
	 * with its thread lock released, so calls may overlap on SMP:
	 * `timer_lock` serialises each switch and each expiry's entry check.
	 */
	bool timer_running;
	struct k_spinlock timer_lock;
#if defined(CONFIG_PM_DEVICE_RUNTIME)
	/* Runtime PM usage references of ended sessions that the PM core could
	 * not release yet (its suspend was refused, or the device is removed):
	 * released at the next open or restore, so that none is ever lost
	 * (seed 002: the usage count is reference tracking).
	 */
	atomic_t pm_owed;
	/* GPIO sources: 1 while the pin interrupt is armed and this device
	 * holds a runtime PM reference on its GPIO controller.
	 */
	atomic_t gpio_pm_armed;
#endif
};

/* Enable or disable the interrupt source (thread context; called by Rust). */
int z_event_counter_source_set(const struct device *dev, bool enabled, uint32_t edge);

#endif /* EVENT_COUNTER_SHIM_H_ */
