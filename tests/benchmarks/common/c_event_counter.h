/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Benchmark baseline: the event-counter driver written in C, as a Zephyr
 * maintainer would, behind the same API table (include/drivers/event_counter.h).
 */

#ifndef BENCH_C_EVENT_COUNTER_H_
#define BENCH_C_EVENT_COUNTER_H_

#include <zephyr/drivers/gpio.h>
#include <zephyr/kernel.h>
#include <zephyr/sys/atomic.h>

#include <drivers/event_counter.h>

/* Const, from devicetree (ROM). */
struct c_event_counter_config {
	struct event_counter_event *ring;
	uint32_t capture_depth;
	uint32_t timer_period_us;
	uint32_t default_edge;
	struct gpio_dt_spec gpio;
};

/* Mutable (RAM). */
struct c_event_counter_data {
	/* ISR state: everything below up to `events` is under `lock`. */
	struct k_spinlock lock;
	uint32_t head;
	uint32_t len;
	uint32_t seen;
	uint32_t ignored;
	uint32_t read;
	uint32_t dropped;
	bool enabled;
	uint8_t overflow;
	/* Given on the ring's empty -> non-empty transition, and on close/remove. */
	struct k_sem events;
	/* Lifecycle: state (enum in the .c file) and operations in flight. */
	atomic_t state;
	atomic_t in_flight;
	/* Given by the last operation to leave while closing or removing. */
	struct k_sem drain;
	/* Thread state: under `mutex`. */
	struct k_mutex mutex;
	struct event_counter_settings settings;
	event_counter_sink_t sink;
	void *user_data;
	uint32_t generation;
	/* The event source: exactly one is used by an instance. */
	const struct device *dev;
	union {
		struct gpio_callback gpio_cb;
		struct k_timer timer;
	};
	/* Timer sources, as in the driver's shim (drivers/event_counter/
	 * event_counter.c): whether the source is on, under `timer_lock` (settings
	 * re-applied leave a running timer alone; on SMP an expiry that outlived a
	 * stop stops the timer again), the expiries the handler counted and the
	 * handlers running now.
	 */
	bool timer_running;
	struct k_spinlock timer_lock;
	atomic_t timer_generated;
	atomic_t timer_in_handler;
};

/* The ISR path: what the GPIO callback and the timer expiry call. */
void c_event_counter_on_event(const struct device *dev, uint32_t cycles);

#endif /* BENCH_C_EVENT_COUNTER_H_ */
