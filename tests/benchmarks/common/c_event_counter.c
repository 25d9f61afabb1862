/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Benchmark baseline: the event counter written in C, as a Zephyr maintainer
 * would write it, implementing every call of include/drivers/event_counter.h
 * with the same semantics as the Rust driver:
 *
 * - ISR path: k_spinlock around the counters and a fixed-record ring (the
 *   devicetree-sized array of struct event_counter_event), a k_sem given on
 *   the ring's empty -> non-empty transition.
 * - Lifecycle: an atomic state plus an atomic in-flight count (increment,
 *   then check the state; close/remove set the state, then drain), so that
 *   read and wait take no mutex. A k_sem lets close/remove wait for the last
 *   operation in flight.
 * - Thread side: a k_mutex around settings and sink; notify() calls the sink
 *   with the mutex released and reports -EAGAIN if a generation count moved.
 *
 * It is not part of the product: it exists so that the benchmarks compare
 * the Rust driver with an equivalent, idiomatic C driver in the same image.
 */

#define DT_DRV_COMPAT racefree_c_event_counter

#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/drivers/gpio.h>
#include <zephyr/kernel.h>
#include <zephyr/sys/util.h>

#include <drivers/event_counter.h>

#include "c_event_counter.h"

#if DT_HAS_COMPAT_STATUS_OKAY(DT_DRV_COMPAT)

/* Copied per hold of the spinlock by read(), as the Rust driver does. */
#define READ_CHUNK 8

enum c_evc_state {
	C_EVC_NOT_READY = 0,
	C_EVC_CLOSED,
	C_EVC_OPEN,
	C_EVC_CLOSING,
	C_EVC_REMOVED,
};

/* ---- ISR path ------------------------------------------------------------ */

void c_event_counter_on_event(const struct device *dev, uint32_t cycles)
{
	const struct c_event_counter_config *config = dev->config;
	struct c_event_counter_data *data = dev->data;
	const uint32_t depth = config->capture_depth;
	bool wake = false;
	k_spinlock_key_t key = k_spin_lock(&data->lock);

	if (!data->enabled) {
		data->ignored++;
		k_spin_unlock(&data->lock, key);
		return;
	}

	const struct event_counter_event ev = {.sequence = data->seen++, .cycles = cycles};

	if (data->len < depth) {
		uint32_t tail = data->head + data->len;

		if (tail >= depth) {
			tail -= depth;
		}
		config->ring[tail] = ev;
		wake = (data->len++ == 0U);
	} else if (data->overflow == EVENT_COUNTER_OVERFLOW_DROP_OLDEST) {
		config->ring[data->head] = ev;
		data->head = (data->head + 1U == depth) ? 0U : data->head + 1U;
		data->dropped++;
	} else {
		data->dropped++;
	}
	k_spin_unlock(&data->lock, key);

	if (wake) {
		k_sem_give(&data->events);
	}
}

static void c_evc_gpio_isr(const struct device *port, struct gpio_callback *cb,
			   gpio_port_pins_t pins)
{
	struct c_event_counter_data *data = CONTAINER_OF(cb, struct c_event_counter_data, gpio_cb);

	ARG_UNUSED(port);
	ARG_UNUSED(pins);
	c_event_counter_on_event(data->dev, k_cycle_get_32());
}

static void c_evc_timer_expiry(struct k_timer *timer)
{
	struct c_event_counter_data *data = CONTAINER_OF(timer, struct c_event_counter_data, timer);
	k_spinlock_key_t key;

	atomic_inc(&data->timer_in_handler);
	atomic_inc(&data->timer_generated);
	key = k_spin_lock(&data->timer_lock);
	if (!data->timer_running) {
		/* Re-added by this very expiry after a stop on another CPU. */
		k_timer_stop(timer);
	}
	k_spin_unlock(&data->timer_lock, key);
	c_event_counter_on_event(data->dev, k_cycle_get_32());
	atomic_dec(&data->timer_in_handler);
}

/* ---- Helpers ------------------------------------------------------------- */

/* The API passes ticks (z_event_counter_timeout_ticks()): -1 K_FOREVER, 0
 * K_NO_WAIT, a relative tick count; below -1 an absolute timeout, refused as
 * the Rust driver refuses it.
 */
static int c_evc_timeout(int64_t ticks, k_timeout_t *out)
{
	if (ticks < K_TICKS_FOREVER) {
		return -EINVAL;
	}
	*out = ticks == K_TICKS_FOREVER ? K_FOREVER : K_TICKS(ticks);
	return 0;
}

static int c_evc_source_set(const struct device *dev, bool enabled, uint32_t edge)
{
	const struct c_event_counter_config *config = dev->config;
	struct c_event_counter_data *data = dev->data;

	if (config->gpio.port != NULL) {
		gpio_flags_t flags = GPIO_INT_DISABLE;

		if (enabled) {
			flags = edge == EVENT_COUNTER_EDGE_FALLING ? GPIO_INT_EDGE_FALLING
				: edge == EVENT_COUNTER_EDGE_BOTH  ? GPIO_INT_EDGE_BOTH
								   : GPIO_INT_EDGE_RISING;
		}
		return gpio_pin_interrupt_configure_dt(&config->gpio, flags);
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
		/* An expiry already running on another CPU finishes first. */
		while (atomic_get(&data->timer_in_handler) != 0) {
			k_busy_wait(1);
		}
	}
	return 0;
}

/* Caller holds the mutex. */
static int c_evc_apply(const struct device *dev)
{
	struct c_event_counter_data *data = dev->data;
	const bool enabled = data->settings.enabled &&
			     atomic_get(&data->state) != C_EVC_REMOVED;
	k_spinlock_key_t key = k_spin_lock(&data->lock);

	data->enabled = enabled;
	data->overflow = (uint8_t)data->settings.overflow;
	k_spin_unlock(&data->lock, key);
	return c_evc_source_set(dev, enabled, data->settings.edge);
}

static void c_evc_end(struct c_event_counter_data *data)
{
	if (atomic_dec(&data->in_flight) == 1 && atomic_get(&data->state) != C_EVC_OPEN) {
		k_sem_give(&data->drain);
	}
}

/* Admits one operation: counted first, then the state checked, so that a
 * closer that sets the state and then reads the count never misses it.
 */
static int c_evc_begin(struct c_event_counter_data *data)
{
	atomic_inc(&data->in_flight);
	const atomic_val_t state = atomic_get(&data->state);

	if (likely(state == C_EVC_OPEN)) {
		return 0;
	}
	c_evc_end(data);
	return (state == C_EVC_NOT_READY || state == C_EVC_REMOVED) ? -ENODEV : -EBADF;
}

/* Waits until no operation is in flight; 0 or -EAGAIN at the timeout. */
static int c_evc_drain(struct c_event_counter_data *data, k_timeout_t timeout)
{
	k_timepoint_t end = sys_timepoint_calc(timeout);

	while (atomic_get(&data->in_flight) != 0) {
		if (k_sem_take(&data->drain, sys_timepoint_timeout(end)) != 0) {
			return atomic_get(&data->in_flight) != 0 ? -EAGAIN : 0;
		}
	}
	return 0;
}

/* ---- API ------------------------------------------------------------------- */

static int c_evc_open(const struct device *dev)
{
	struct c_event_counter_data *data = dev->data;
	int ret;

	if (k_is_in_isr()) {
		return -EPERM;
	}
	k_mutex_lock(&data->mutex, K_FOREVER);
	switch (atomic_get(&data->state)) {
	case C_EVC_CLOSED:
		break;
	case C_EVC_NOT_READY:
	case C_EVC_REMOVED:
		k_mutex_unlock(&data->mutex);
		return -ENODEV;
	default:
		k_mutex_unlock(&data->mutex);
		return -EBUSY;
	}
	if (atomic_get(&data->in_flight) != 0) {
		/* A forced close left operations behind. */
		k_mutex_unlock(&data->mutex);
		return -EBUSY;
	}
	atomic_set(&data->state, C_EVC_OPEN);
	ret = c_evc_apply(dev);
	if (ret < 0) {
		k_spinlock_key_t key = k_spin_lock(&data->lock);

		data->enabled = false;
		k_spin_unlock(&data->lock, key);
		atomic_set(&data->state, C_EVC_CLOSED);
	}
	k_mutex_unlock(&data->mutex);
	return ret;
}

static int c_evc_close(const struct device *dev, int64_t timeout_ticks, uint32_t policy)
{
	struct c_event_counter_data *data = dev->data;
	k_timeout_t timeout;
	int ret;

	if (k_is_in_isr()) {
		return -EPERM;
	}
	if (policy > EVENT_COUNTER_CLOSE_PROCEED || c_evc_timeout(timeout_ticks, &timeout) < 0) {
		return -EINVAL;
	}
	k_mutex_lock(&data->mutex, K_FOREVER);
	switch (atomic_get(&data->state)) {
	case C_EVC_OPEN:
		break;
	case C_EVC_CLOSING:
		k_mutex_unlock(&data->mutex);
		return -EALREADY;
	case C_EVC_NOT_READY:
	case C_EVC_REMOVED:
		k_mutex_unlock(&data->mutex);
		return -ENODEV;
	default:
		k_mutex_unlock(&data->mutex);
		return -EBADF;
	}
	atomic_set(&data->state, C_EVC_CLOSING);
	k_sem_reset(&data->drain);
	/* Blocked waiters are operations in flight: wake them. */
	k_sem_give(&data->events);
	k_mutex_unlock(&data->mutex);

	ret = c_evc_drain(data, timeout);

	k_mutex_lock(&data->mutex, K_FOREVER);
	if (ret < 0 && policy == EVENT_COUNTER_CLOSE_FAIL_IF_BUSY) {
		atomic_set(&data->state, C_EVC_OPEN);
		k_mutex_unlock(&data->mutex);
		return -EBUSY;
	}
	atomic_set(&data->state, C_EVC_CLOSED);
	k_spinlock_key_t key = k_spin_lock(&data->lock);

	data->enabled = false;
	k_spin_unlock(&data->lock, key);
	ret = c_evc_source_set(dev, false, data->settings.edge);
	k_mutex_unlock(&data->mutex);
	return ret;
}

static int c_evc_read(const struct device *dev, struct event_counter_event *events,
		      size_t max_events)
{
	const struct c_event_counter_config *config = dev->config;
	struct c_event_counter_data *data = dev->data;
	const uint32_t depth = config->capture_depth;
	size_t copied = 0;
	int ret;

	if (k_is_in_isr()) {
		return -EPERM;
	}
	if (events == NULL || max_events == 0) {
		return -EINVAL;
	}
	ret = c_evc_begin(data);
	if (ret < 0) {
		return ret;
	}
	max_events = MIN(max_events, (size_t)INT_MAX);
	while (copied < max_events) {
		const size_t want = MIN(max_events - copied, READ_CHUNK);
		k_spinlock_key_t key = k_spin_lock(&data->lock);
		const uint32_t n = MIN(want, data->len);

		for (uint32_t i = 0; i < n; i++) {
			events[copied + i] = config->ring[data->head];
			data->head = (data->head + 1U == depth) ? 0U : data->head + 1U;
		}
		data->len -= n;
		data->read += n;
		k_spin_unlock(&data->lock, key);
		copied += n;
		if (n < want) {
			break;
		}
	}
	c_evc_end(data);
	return (int)copied;
}

static int c_evc_wait(const struct device *dev, int64_t timeout_ticks)
{
	struct c_event_counter_data *data = dev->data;
	k_timeout_t timeout;
	k_timepoint_t end;
	int ret;

	if (k_is_in_isr()) {
		return -EPERM;
	}
	if (c_evc_timeout(timeout_ticks, &timeout) < 0) {
		return -EINVAL;
	}
	ret = c_evc_begin(data);
	if (ret < 0) {
		return ret;
	}
	end = sys_timepoint_calc(timeout);
	for (;;) {
		k_spinlock_key_t key = k_spin_lock(&data->lock);
		const uint32_t pending = data->len;

		k_spin_unlock(&data->lock, key);
		if (pending > 0) {
			ret = (int)MIN(pending, (uint32_t)INT_MAX);
			break;
		}
		const atomic_val_t state = atomic_get(&data->state);

		if (state != C_EVC_OPEN) {
			/* Pass the wake-up on to any other waiter. */
			k_sem_give(&data->events);
			ret = state == C_EVC_REMOVED ? -ENODEV : -EBADF;
			break;
		}
		if (k_sem_take(&data->events, sys_timepoint_timeout(end)) != 0) {
			ret = K_TIMEOUT_EQ(timeout, K_NO_WAIT) ? -EAGAIN : -ETIMEDOUT;
			break;
		}
	}
	c_evc_end(data);
	return ret;
}

static int c_evc_configure(const struct device *dev, const struct event_counter_settings *settings)
{
	struct c_event_counter_data *data = dev->data;
	int ret;

	if (k_is_in_isr()) {
		return -EPERM;
	}
	if (settings == NULL || settings->edge > EVENT_COUNTER_EDGE_BOTH ||
	    settings->overflow > EVENT_COUNTER_OVERFLOW_DROP_OLDEST) {
		return -EINVAL;
	}
	ret = c_evc_begin(data);
	if (ret < 0) {
		return ret;
	}
	k_mutex_lock(&data->mutex, K_FOREVER);
	data->settings = *settings;
	data->generation++;
	ret = c_evc_apply(dev);
	k_mutex_unlock(&data->mutex);
	c_evc_end(data);
	return ret;
}

static int c_evc_get_settings(const struct device *dev, struct event_counter_settings *settings)
{
	struct c_event_counter_data *data = dev->data;
	int ret;

	if (k_is_in_isr()) {
		return -EPERM;
	}
	if (settings == NULL) {
		return -EINVAL;
	}
	ret = c_evc_begin(data);
	if (ret < 0) {
		return ret;
	}
	k_mutex_lock(&data->mutex, K_FOREVER);
	*settings = data->settings;
	k_mutex_unlock(&data->mutex);
	c_evc_end(data);
	return 0;
}

static int c_evc_get_stats(const struct device *dev, struct event_counter_stats *stats)
{
	struct c_event_counter_data *data = dev->data;

	if (atomic_get(&data->state) == C_EVC_NOT_READY) {
		return -ENODEV;
	}
	if (stats == NULL) {
		return -EINVAL;
	}
	k_spinlock_key_t key = k_spin_lock(&data->lock);

	*stats = (struct event_counter_stats){
		.seen = data->seen,
		.ignored = data->ignored,
		.read = data->read,
		.dropped = data->dropped,
		.pending = data->len,
	};
	k_spin_unlock(&data->lock, key);
	return 0;
}

static int c_evc_set_sink(const struct device *dev, event_counter_sink_t sink, void *user_data)
{
	struct c_event_counter_data *data = dev->data;
	int ret;

	if (k_is_in_isr()) {
		return -EPERM;
	}
	ret = c_evc_begin(data);
	if (ret < 0) {
		return ret;
	}
	k_mutex_lock(&data->mutex, K_FOREVER);
	data->sink = sink;
	data->user_data = user_data;
	data->generation++;
	k_mutex_unlock(&data->mutex);
	c_evc_end(data);
	return 0;
}

static int c_evc_notify(const struct device *dev)
{
	struct c_event_counter_data *data = dev->data;
	event_counter_sink_t sink;
	void *user_data;
	uint32_t generation;
	uint32_t pending;
	int ret;

	if (k_is_in_isr()) {
		return -EPERM;
	}
	ret = c_evc_begin(data);
	if (ret < 0) {
		return ret;
	}
	k_mutex_lock(&data->mutex, K_FOREVER);
	sink = data->sink;
	user_data = data->user_data;
	generation = data->generation;
	k_mutex_unlock(&data->mutex);
	if (sink == NULL) {
		c_evc_end(data);
		return -EINVAL;
	}
	k_spinlock_key_t key = k_spin_lock(&data->lock);

	pending = data->len;
	k_spin_unlock(&data->lock, key);

	/* No driver lock held: the sink may call back into the driver. */
	ret = sink(dev, pending, user_data);

	k_mutex_lock(&data->mutex, K_FOREVER);
	if (generation != data->generation) {
		ret = -EAGAIN;
	}
	k_mutex_unlock(&data->mutex);
	c_evc_end(data);
	return ret;
}

static int c_evc_remove(const struct device *dev, int64_t timeout_ticks)
{
	struct c_event_counter_data *data = dev->data;
	k_timeout_t timeout;

	if (k_is_in_isr()) {
		return -EPERM;
	}
	if (c_evc_timeout(timeout_ticks, &timeout) < 0) {
		return -EINVAL;
	}
	k_mutex_lock(&data->mutex, K_FOREVER);
	if (atomic_get(&data->state) == C_EVC_REMOVED ||
	    atomic_get(&data->state) == C_EVC_NOT_READY) {
		k_mutex_unlock(&data->mutex);
		return -ENODEV;
	}
	atomic_set(&data->state, C_EVC_REMOVED);
	k_sem_reset(&data->drain);
	k_spinlock_key_t key = k_spin_lock(&data->lock);

	data->enabled = false;
	k_spin_unlock(&data->lock, key);
	(void)c_evc_source_set(dev, false, data->settings.edge);
	k_mutex_unlock(&data->mutex);

	k_sem_give(&data->events);
	return c_evc_drain(data, timeout) < 0 ? -ETIMEDOUT : 0;
}

/* ---- Init ------------------------------------------------------------------- */

static int c_evc_init(const struct device *dev)
{
	const struct c_event_counter_config *config = dev->config;
	struct c_event_counter_data *data = dev->data;
	int ret;

	data->dev = dev;
	k_sem_init(&data->events, 0, K_SEM_MAX_LIMIT);
	k_sem_init(&data->drain, 0, 1);
	k_mutex_init(&data->mutex);
	data->settings = (struct event_counter_settings){
		.edge = config->default_edge,
		.overflow = EVENT_COUNTER_OVERFLOW_DROP_NEWEST,
		.enabled = true,
	};

	if (config->gpio.port != NULL) {
		if (!gpio_is_ready_dt(&config->gpio)) {
			return -ENODEV;
		}
		ret = gpio_pin_configure_dt(&config->gpio, GPIO_INPUT);
		if (ret < 0) {
			return ret;
		}
		gpio_init_callback(&data->gpio_cb, c_evc_gpio_isr, BIT(config->gpio.pin));
		ret = gpio_add_callback_dt(&config->gpio, &data->gpio_cb);
		if (ret < 0) {
			return ret;
		}
	} else {
		k_timer_init(&data->timer, c_evc_timer_expiry, NULL);
	}

	atomic_set(&data->state, C_EVC_CLOSED);
	return 0;
}

static const struct event_counter_driver_api c_evc_api = {
	.open = c_evc_open,
	.close = c_evc_close,
	.read = c_evc_read,
	.wait = c_evc_wait,
	.configure = c_evc_configure,
	.get_settings = c_evc_get_settings,
	.get_stats = c_evc_get_stats,
	.set_sink = c_evc_set_sink,
	.notify = c_evc_notify,
	.remove = c_evc_remove,
};

#define C_EVC_DEFINE(inst)                                                                         \
	BUILD_ASSERT(DT_INST_NODE_HAS_PROP(inst, gpios) !=                                         \
			     DT_INST_NODE_HAS_PROP(inst, timer_period_us),                         \
		     "set exactly one event source");                                              \
	BUILD_ASSERT(DT_INST_PROP(inst, capture_depth) > 0, "capture-depth must be >= 1");        \
	static struct event_counter_event c_evc_ring_##inst[DT_INST_PROP(inst, capture_depth)];    \
	static struct c_event_counter_data c_evc_data_##inst;                                      \
	static const struct c_event_counter_config c_evc_config_##inst = {                         \
		.ring = c_evc_ring_##inst,                                                         \
		.capture_depth = DT_INST_PROP(inst, capture_depth),                                \
		.timer_period_us = DT_INST_PROP_OR(inst, timer_period_us, 0),                      \
		.default_edge = DT_INST_ENUM_IDX(inst, edge),                                      \
		.gpio = GPIO_DT_SPEC_INST_GET_OR(inst, gpios, {0}),                                \
	};                                                                                         \
	DEVICE_DT_INST_DEFINE(inst, c_evc_init, NULL, &c_evc_data_##inst, &c_evc_config_##inst,    \
			      POST_KERNEL, CONFIG_KERNEL_INIT_PRIORITY_DEVICE, &c_evc_api);

DT_INST_FOREACH_STATUS_OKAY(C_EVC_DEFINE)

#endif /* DT_HAS_COMPAT_STATUS_OKAY(DT_DRV_COMPAT) */
