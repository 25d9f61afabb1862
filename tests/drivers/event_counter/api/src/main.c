/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The C API, call by call: normal results, and every bad input with its errno.
 */

#include <zephyr/irq_offload.h>
#include <zephyr/ztest.h>

#include "test_common.h"

static void before_each(void *fixture)
{
	ARG_UNUSED(fixture);
	gpio_emul_input_set(edges_pin.port, edges_pin.pin, 0);
	reset_device(edges_dev);
	reset_device(ticks_dev);
}

ZTEST(event_counter_api, test_devices_are_ready)
{
	zassert_true(device_is_ready(edges_dev), "GPIO-driven counter not ready");
	zassert_true(device_is_ready(ticks_dev), "timer-driven counter not ready");
}

ZTEST(event_counter_api, test_null_device_is_enodev)
{
	struct event_counter_event ev;
	struct event_counter_settings settings = {0};
	struct event_counter_stats stats;

	zassert_equal(event_counter_open(NULL), -ENODEV);
	zassert_equal(event_counter_close(NULL, K_NO_WAIT, EVENT_COUNTER_CLOSE_PROCEED), -ENODEV);
	zassert_equal(event_counter_read(NULL, &ev, 1), -ENODEV);
	zassert_equal(event_counter_wait(NULL, K_NO_WAIT), -ENODEV);
	zassert_equal(event_counter_configure(NULL, &settings), -ENODEV);
	zassert_equal(event_counter_get_settings(NULL, &settings), -ENODEV);
	zassert_equal(event_counter_get_stats(NULL, &stats), -ENODEV);
	zassert_equal(event_counter_set_sink(NULL, NULL, NULL), -ENODEV);
	zassert_equal(event_counter_notify(NULL), -ENODEV);
	zassert_equal(event_counter_remove(NULL, K_NO_WAIT), -ENODEV);
}

ZTEST(event_counter_api, test_open_twice_is_ebusy)
{
	zassert_ok(event_counter_open(edges_dev));
	zassert_equal(event_counter_open(edges_dev), -EBUSY, "second open must be refused");
}

ZTEST(event_counter_api, test_close_when_not_open_is_ebadf)
{
	zassert_equal(event_counter_close(edges_dev, K_NO_WAIT, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY),
		      -EBADF, "close of a closed device");
	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_close(edges_dev, K_NO_WAIT, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	zassert_equal(event_counter_close(edges_dev, K_NO_WAIT, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY),
		      -EBADF, "double close");
}

ZTEST(event_counter_api, test_operations_when_closed_are_ebadf)
{
	struct event_counter_event ev;
	struct event_counter_settings settings = {0};
	struct event_counter_stats stats;

	zassert_equal(event_counter_read(edges_dev, &ev, 1), -EBADF);
	zassert_equal(event_counter_wait(edges_dev, K_NO_WAIT), -EBADF);
	zassert_equal(event_counter_configure(edges_dev, &settings), -EBADF);
	zassert_equal(event_counter_get_settings(edges_dev, &settings), -EBADF);
	zassert_equal(event_counter_set_sink(edges_dev, NULL, NULL), -EBADF);
	zassert_equal(event_counter_notify(edges_dev), -EBADF);
	zassert_ok(event_counter_get_stats(edges_dev, &stats), "stats work while closed");
}

ZTEST(event_counter_api, test_read_bad_buffer_is_einval)
{
	struct event_counter_event ev;

	zassert_ok(event_counter_open(edges_dev));
	zassert_equal(event_counter_read(edges_dev, NULL, 4), -EINVAL, "NULL buffer");
	zassert_equal(event_counter_read(edges_dev, &ev, 0), -EINVAL, "zero-length buffer");
	zassert_equal(event_counter_read(edges_dev, &ev, 1), 0, "nothing pending reads 0");
}

ZTEST(event_counter_api, test_wait_timeouts)
{
	zassert_ok(event_counter_open(edges_dev));
	zassert_equal(event_counter_wait(edges_dev, K_NO_WAIT), -EAGAIN, "K_NO_WAIT, none pending");
	zassert_equal(event_counter_wait(edges_dev, K_MSEC(20)), -ETIMEDOUT, "timed wait");
	zassert_equal(event_counter_wait(edges_dev, K_TIMEOUT_ABS_MS(1000)), -EINVAL,
		      "absolute timeouts are refused");
	pulse();
	zassert_equal(event_counter_wait(edges_dev, K_NO_WAIT), 1, "one pending");
}

ZTEST(event_counter_api, test_configure_invalid_changes_nothing)
{
	struct event_counter_settings before, after;
	struct event_counter_settings bad_edge = {.edge = 3, .overflow = 0, .enabled = true};
	struct event_counter_settings bad_overflow = {.edge = 0, .overflow = 2, .enabled = true};

	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_get_settings(edges_dev, &before));
	zassert_equal(event_counter_configure(edges_dev, NULL), -EINVAL);
	zassert_equal(event_counter_configure(edges_dev, &bad_edge), -EINVAL);
	zassert_equal(event_counter_configure(edges_dev, &bad_overflow), -EINVAL);
	zassert_equal(event_counter_get_settings(edges_dev, NULL), -EINVAL);
	zassert_ok(event_counter_get_settings(edges_dev, &after));
	zassert_mem_equal(&before, &after, sizeof(before), "settings changed by a rejected call");
}

ZTEST(event_counter_api, test_close_bad_arguments_keep_it_open)
{
	zassert_ok(event_counter_open(edges_dev));
	zassert_equal(event_counter_close(edges_dev, K_NO_WAIT, 7), -EINVAL, "bad policy");
	zassert_equal(event_counter_close(edges_dev, K_TIMEOUT_ABS_MS(5), 0), -EINVAL,
		      "absolute timeout");
	zassert_equal(event_counter_open(edges_dev), -EBUSY, "still open");
}

ZTEST(event_counter_api, test_get_stats_null_is_einval)
{
	zassert_equal(event_counter_get_stats(edges_dev, NULL), -EINVAL);
}

ZTEST(event_counter_api, test_rising_edges_are_counted_in_order)
{
	struct event_counter_event ev[8];
	struct event_counter_stats before, after;

	zassert_ok(event_counter_get_stats(edges_dev, &before));
	zassert_ok(event_counter_open(edges_dev));
	for (int i = 0; i < 5; i++) {
		pulse();
	}
	zassert_equal(event_counter_wait(edges_dev, K_MSEC(100)), 5);
	zassert_equal(event_counter_read(edges_dev, ev, ARRAY_SIZE(ev)), 5);
	for (int i = 1; i < 5; i++) {
		zassert_equal(ev[i].sequence, ev[i - 1].sequence + 1, "sequence gap at %d", i);
		zassert_true((int32_t)(ev[i].cycles - ev[i - 1].cycles) >= 0, "time went back");
	}
	zassert_equal(ev[0].sequence, before.seen, "first sequence continues the count");
	zassert_ok(event_counter_get_stats(edges_dev, &after));
	zassert_equal(after.seen - before.seen, 5);
	zassert_equal(after.read - before.read, 5);
}

ZTEST(event_counter_api, test_edge_selection)
{
	struct event_counter_settings falling = {.edge = EVENT_COUNTER_EDGE_FALLING};
	struct event_counter_settings both = {.edge = EVENT_COUNTER_EDGE_BOTH};
	struct event_counter_event ev[8];

	falling.enabled = both.enabled = true;
	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_configure(edges_dev, &falling));
	gpio_emul_input_set(edges_pin.port, edges_pin.pin, 1);
	zassert_equal(event_counter_wait(edges_dev, K_NO_WAIT), -EAGAIN, "rising edge ignored");
	gpio_emul_input_set(edges_pin.port, edges_pin.pin, 0);
	zassert_equal(event_counter_wait(edges_dev, K_NO_WAIT), 1, "falling edge counted");
	zassert_equal(event_counter_read(edges_dev, ev, ARRAY_SIZE(ev)), 1);

	zassert_ok(event_counter_configure(edges_dev, &both));
	pulse();
	zassert_equal(event_counter_read(edges_dev, ev, ARRAY_SIZE(ev)), 2, "both edges counted");
}

ZTEST(event_counter_api, test_overflow_drop_newest_keeps_oldest)
{
	struct event_counter_event ev[16];
	struct event_counter_stats before, after;

	zassert_ok(event_counter_get_stats(edges_dev, &before));
	zassert_ok(event_counter_open(edges_dev));
	for (int i = 0; i < 12; i++) {
		pulse();
	}
	/* capture-depth is 8 */
	zassert_equal(event_counter_read(edges_dev, ev, ARRAY_SIZE(ev)), 8);
	zassert_equal(ev[0].sequence, before.seen, "oldest kept");
	zassert_equal(ev[7].sequence, before.seen + 7);
	zassert_ok(event_counter_get_stats(edges_dev, &after));
	zassert_equal(after.dropped - before.dropped, 4);
	zassert_equal(after.seen - before.seen, 12, "every event counted");
}

ZTEST(event_counter_api, test_overflow_drop_oldest_keeps_newest)
{
	struct event_counter_settings drop_oldest = {
		.edge = EVENT_COUNTER_EDGE_RISING,
		.overflow = EVENT_COUNTER_OVERFLOW_DROP_OLDEST,
		.enabled = true,
	};
	struct event_counter_event ev[16];
	struct event_counter_stats before, after;

	zassert_ok(event_counter_get_stats(edges_dev, &before));
	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_configure(edges_dev, &drop_oldest));
	for (int i = 0; i < 12; i++) {
		pulse();
	}
	zassert_equal(event_counter_read(edges_dev, ev, ARRAY_SIZE(ev)), 8);
	zassert_equal(ev[0].sequence, before.seen + 4, "oldest replaced");
	zassert_equal(ev[7].sequence, before.seen + 11);
	zassert_ok(event_counter_get_stats(edges_dev, &after));
	zassert_equal(after.dropped - before.dropped, 4);
}

ZTEST(event_counter_api, test_disabled_source_counts_nothing)
{
	struct event_counter_settings disabled = {.edge = 0, .overflow = 0, .enabled = false};
	struct event_counter_stats before, after;

	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_configure(edges_dev, &disabled));
	zassert_ok(event_counter_get_stats(edges_dev, &before));
	pulse();
	pulse();
	zassert_ok(event_counter_get_stats(edges_dev, &after));
	zassert_equal(after.seen, before.seen, "disabled: interrupt is off");
	zassert_equal(event_counter_wait(edges_dev, K_NO_WAIT), -EAGAIN);
}

struct sink_probe {
	int calls;
	uint32_t last_pending;
	int read_in_sink;
	int result;
	bool reconfigure;
};

static int sink(const struct device *dev, uint32_t pending, void *user_data)
{
	struct sink_probe *probe = user_data;
	struct event_counter_event ev[4];

	probe->calls++;
	probe->last_pending = pending;
	/* No driver lock is held: calling back in must not deadlock. */
	probe->read_in_sink = event_counter_read(dev, ev, ARRAY_SIZE(ev));
	if (probe->reconfigure) {
		struct event_counter_settings s = {.edge = 2, .overflow = 1, .enabled = true};

		(void)event_counter_configure(dev, &s);
	}
	return probe->result;
}

ZTEST(event_counter_api, test_notify_calls_sink_unlocked)
{
	struct sink_probe probe = {.result = 7};

	zassert_ok(event_counter_open(edges_dev));
	zassert_equal(event_counter_notify(edges_dev), -EINVAL, "no sink installed");
	zassert_ok(event_counter_set_sink(edges_dev, sink, &probe));
	pulse();
	pulse();
	zassert_equal(event_counter_notify(edges_dev), 7, "sink result returned");
	zassert_equal(probe.calls, 1);
	zassert_equal(probe.last_pending, 2);
	zassert_equal(probe.read_in_sink, 2, "sink read back through the driver");
	zassert_ok(event_counter_set_sink(edges_dev, NULL, NULL));
	zassert_equal(event_counter_notify(edges_dev), -EINVAL, "sink removed");
}

ZTEST(event_counter_api, test_notify_revalidates_after_sink)
{
	struct sink_probe probe = {.result = 0, .reconfigure = true};

	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_set_sink(edges_dev, sink, &probe));
	zassert_equal(event_counter_notify(edges_dev), -EAGAIN,
		      "state changed while the sink ran: result must be discarded");
	probe.reconfigure = false;
	zassert_equal(event_counter_notify(edges_dev), 0, "unchanged state: result returned");
}

struct isr_results {
	int open, read, wait, configure, get_settings, set_sink, notify, close, remove, stats;
};

static void calls_from_isr(const void *arg)
{
	struct isr_results *r = (struct isr_results *)arg;
	struct event_counter_event ev;
	struct event_counter_settings settings = {0};
	struct event_counter_stats stats;

	r->open = event_counter_open(edges_dev);
	r->read = event_counter_read(edges_dev, &ev, 1);
	r->wait = event_counter_wait(edges_dev, K_NO_WAIT);
	r->configure = event_counter_configure(edges_dev, &settings);
	r->get_settings = event_counter_get_settings(edges_dev, &settings);
	r->set_sink = event_counter_set_sink(edges_dev, NULL, NULL);
	r->notify = event_counter_notify(edges_dev);
	r->close = event_counter_close(edges_dev, K_NO_WAIT, EVENT_COUNTER_CLOSE_PROCEED);
	r->remove = event_counter_remove(edges_dev, K_NO_WAIT);
	r->stats = event_counter_get_stats(edges_dev, &stats);
}

ZTEST(event_counter_api, test_thread_calls_from_isr_are_eperm)
{
	struct isr_results r;

	zassert_ok(event_counter_open(edges_dev));
	irq_offload(calls_from_isr, &r);
	zassert_equal(r.open, -EPERM);
	zassert_equal(r.read, -EPERM);
	zassert_equal(r.wait, -EPERM);
	zassert_equal(r.configure, -EPERM);
	zassert_equal(r.get_settings, -EPERM);
	zassert_equal(r.set_sink, -EPERM);
	zassert_equal(r.notify, -EPERM);
	zassert_equal(r.close, -EPERM);
	zassert_equal(r.remove, -EPERM);
	zassert_ok(r.stats, "stats are ISR-safe");
	zassert_equal(event_counter_open(edges_dev), -EBUSY, "still open: ISR calls changed nothing");
}

ZTEST(event_counter_api, test_timer_device_counts_expiries)
{
	struct event_counter_event ev[16];
	int pending;

	zassert_ok(event_counter_open(ticks_dev));
	pending = event_counter_wait(ticks_dev, K_MSEC(200));
	zassert_true(pending > 0, "timer expiries arrive (%d)", pending);
	zassert_true(event_counter_read(ticks_dev, ev, ARRAY_SIZE(ev)) > 0);
	zassert_ok(event_counter_close(ticks_dev, K_FOREVER, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	zassert_true(z_event_counter_source_generated(ticks_dev) > 0);
}

ZTEST(event_counter_api, test_stats_reconcile)
{
	struct event_counter_event ev[3];
	struct event_counter_stats s;

	zassert_ok(event_counter_open(edges_dev));
	for (int i = 0; i < 20; i++) {
		pulse();
		if (i % 4 == 0) {
			(void)event_counter_read(edges_dev, ev, ARRAY_SIZE(ev));
		}
	}
	zassert_ok(event_counter_get_stats(edges_dev, &s));
	zassert_equal(s.seen, s.read + s.dropped + s.pending, "seen %u read %u dropped %u pending %u",
		      s.seen, s.read, s.dropped, s.pending);
}

ZTEST_SUITE(event_counter_api, NULL, NULL, before_each, NULL, NULL);
