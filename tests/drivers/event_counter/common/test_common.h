/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Shared helpers of the event-counter suites.
 */

#ifndef EVENT_COUNTER_TEST_COMMON_H_
#define EVENT_COUNTER_TEST_COMMON_H_

#include <zephyr/drivers/gpio.h>
#include <zephyr/drivers/gpio/gpio_emul.h>
#include <zephyr/kernel.h>

#include <drivers/event_counter.h>

#include "lockdep_rule.h"

#define EDGES_NODE DT_NODELABEL(evc_edges)

static const struct device *const edges_dev = DEVICE_DT_GET(EDGES_NODE);
static const struct device *const ticks_dev = DEVICE_DT_GET(DT_NODELABEL(evc_ticks));
static const struct gpio_dt_spec edges_pin = GPIO_DT_SPEC_GET(EDGES_NODE, gpios);

/* One low-high-low pulse on the edges device's emulated input. */
static inline void pulse(void)
{
	gpio_emul_input_set(edges_pin.port, edges_pin.pin, 1);
	gpio_emul_input_set(edges_pin.port, edges_pin.pin, 0);
}

/* Drain, close and reset a device to "closed, default settings" between tests. */
static inline void reset_device(const struct device *dev)
{
	struct event_counter_event buf[8];
	const struct event_counter_settings defaults = {
		.edge = EVENT_COUNTER_EDGE_RISING,
		.overflow = EVENT_COUNTER_OVERFLOW_DROP_NEWEST,
		.enabled = true,
	};

	/* Already open is fine: -EBUSY. */
	(void)event_counter_open(dev);
	(void)event_counter_configure(dev, &defaults);
	(void)event_counter_set_sink(dev, NULL, NULL);
	while (event_counter_read(dev, buf, ARRAY_SIZE(buf)) > 0) {
	}
	(void)event_counter_close(dev, K_FOREVER, EVENT_COUNTER_CLOSE_PROCEED);
}

#endif /* EVENT_COUNTER_TEST_COMMON_H_ */
