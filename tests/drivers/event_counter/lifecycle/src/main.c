/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Lifecycle (seed 001: startup, shutdown; seeds 002/003: hot-unplug):
 * failed init, close with operations in flight under both policies, calls
 * after close from other threads, open/close races, removal at run time and
 * re-adding (hot-plug).
 */

#include <zephyr/ztest.h>

#include "in_flight.h"
#include "test_common.h"

static const struct device *const broken_dev = DEVICE_DT_GET(DT_NODELABEL(evc_broken));
static const struct device *const unplug_a = DEVICE_DT_GET(DT_NODELABEL(evc_unplug_a));
static const struct device *const unplug_b = DEVICE_DT_GET(DT_NODELABEL(evc_unplug_b));

static int wait_forever(const struct device *dev)
{
	return event_counter_wait(dev, K_FOREVER);
}

static int read_one(const struct device *dev)
{
	struct event_counter_event ev;

	return event_counter_read(dev, &ev, 1);
}

static int close_fail_if_busy_1s(const struct device *dev)
{
	return event_counter_close(dev, K_SECONDS(1), EVENT_COUNTER_CLOSE_FAIL_IF_BUSY);
}

static void before_each(void *fixture)
{
	ARG_UNUSED(fixture);
	reset_device(edges_dev);
}

ZTEST(event_counter_lifecycle, test_failed_init_is_never_ready)
{
	struct event_counter_event ev;
	struct event_counter_settings settings = {0};
	struct event_counter_stats stats;

	zassert_false(device_is_ready(broken_dev), "GPIO controller failed: must not be ready");
	zassert_equal(event_counter_open(broken_dev), -ENODEV);
	zassert_equal(event_counter_close(broken_dev, K_NO_WAIT, 0), -ENODEV);
	zassert_equal(event_counter_read(broken_dev, &ev, 1), -ENODEV);
	zassert_equal(event_counter_wait(broken_dev, K_NO_WAIT), -ENODEV);
	zassert_equal(event_counter_configure(broken_dev, &settings), -ENODEV);
	zassert_equal(event_counter_get_settings(broken_dev, &settings), -ENODEV);
	zassert_equal(event_counter_get_stats(broken_dev, &stats), -ENODEV);
	zassert_equal(event_counter_set_sink(broken_dev, NULL, NULL), -ENODEV);
	zassert_equal(event_counter_notify(broken_dev), -ENODEV);
	zassert_equal(event_counter_remove(broken_dev, K_NO_WAIT), -ENODEV);
}

ZTEST(event_counter_lifecycle, test_close_wakes_waiter_and_completes)
{
	struct helper waiter = {.dev = edges_dev, .fn = wait_forever};

	zassert_ok(event_counter_open(edges_dev));
	start_helper(0, &waiter, K_PRIO_PREEMPT(5));
	k_sleep(K_MSEC(10));
	zassert_false(waiter.done, "waiter should be blocked");
	zassert_ok(event_counter_close(edges_dev, K_MSEC(500), EVENT_COUNTER_CLOSE_FAIL_IF_BUSY),
		   "close must wake the waiter and drain");
	join_helper(0);
	zassert_equal(waiter.result, -EBADF, "woken waiter sees the close");
}

ZTEST(event_counter_lifecycle, test_close_fail_if_busy_keeps_device_usable)
{
	struct helper op;
	struct event_counter_event ev;

	zassert_ok(event_counter_open(edges_dev));
	hold_operation_in_flight(edges_dev, &op);
	zassert_equal(event_counter_close(edges_dev, K_MSEC(20), EVENT_COUNTER_CLOSE_FAIL_IF_BUSY),
		      -EBUSY, "operation in flight past the timeout");
	zassert_equal(event_counter_open(edges_dev), -EBUSY, "still open");
	zassert_equal(event_counter_read(edges_dev, &ev, 1), 0, "still usable");
	release_operation_in_flight();
	join_helper(0);
	zassert_equal(op.result, 42, "in-flight operation finished normally");
	zassert_ok(event_counter_close(edges_dev, K_MSEC(100), EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
}

ZTEST(event_counter_lifecycle, test_close_proceed_refuses_new_operations)
{
	struct helper op;
	struct event_counter_event ev;

	zassert_ok(event_counter_open(edges_dev));
	hold_operation_in_flight(edges_dev, &op);
	zassert_ok(event_counter_close(edges_dev, K_MSEC(20), EVENT_COUNTER_CLOSE_PROCEED),
		   "proceed closes despite the operation in flight");
	zassert_equal(event_counter_read(edges_dev, &ev, 1), -EBADF, "new operations refused");
	zassert_equal(event_counter_open(edges_dev), -EBUSY,
		      "reopen waits until the abandoned operation ends");
	release_operation_in_flight();
	join_helper(0);
	zassert_equal(op.result, -EAGAIN,
		      "the abandoned notify completed and reported the close under it (%d)",
		      op.result);
	zassert_ok(event_counter_open(edges_dev), "reopen once drained");
}

ZTEST(event_counter_lifecycle, test_second_close_while_closing_is_ealready)
{
	struct helper op;
	struct helper closer = {.dev = edges_dev, .fn = close_fail_if_busy_1s};

	zassert_ok(event_counter_open(edges_dev));
	hold_operation_in_flight(edges_dev, &op);
	start_helper(1, &closer, K_PRIO_PREEMPT(5));
	k_sleep(K_MSEC(10));
	zassert_equal(event_counter_close(edges_dev, K_NO_WAIT, EVENT_COUNTER_CLOSE_PROCEED),
		      -EALREADY, "a close is already in progress");
	release_operation_in_flight();
	join_helper(0);
	zassert_ok(k_thread_join(&helper_threads[1], K_SECONDS(5)));
	zassert_ok(closer.result, "the first close drained and completed");
}

ZTEST(event_counter_lifecycle, test_buggy_client_calls_after_close)
{
	struct helper late = {.dev = edges_dev, .fn = read_one};

	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_close(edges_dev, K_NO_WAIT, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	start_helper(0, &late, K_PRIO_PREEMPT(5));
	join_helper(0);
	zassert_equal(late.result, -EBADF, "read from another thread after close");
}

static atomic_t race_opens, race_closes, race_errors;

static int open_close_churn(const struct device *dev)
{
	for (int i = 0; i < 500; i++) {
		int ret = event_counter_open(dev);

		if (ret == 0) {
			atomic_inc(&race_opens);
		} else if (ret != -EBUSY) {
			atomic_inc(&race_errors);
		}
		ret = event_counter_close(dev, K_MSEC(5), (i & 1) ? EVENT_COUNTER_CLOSE_PROCEED
								  : EVENT_COUNTER_CLOSE_FAIL_IF_BUSY);
		if (ret == 0) {
			atomic_inc(&race_closes);
		} else if (ret != -EBADF && ret != -EALREADY && ret != -EBUSY) {
			atomic_inc(&race_errors);
		}
		pulse();
		if ((i % 16) == 0) {
			k_yield();
		}
	}
	return 0;
}

ZTEST(event_counter_lifecycle, test_open_close_race)
{
	struct helper a = {.dev = edges_dev, .fn = open_close_churn};
	struct helper b = {.dev = edges_dev, .fn = open_close_churn};
	struct event_counter_stats s;

	atomic_clear(&race_opens);
	atomic_clear(&race_closes);
	atomic_clear(&race_errors);
	/* Same priority, time-sliced or yielding: the calls interleave. */
	start_helper(0, &a, K_PRIO_PREEMPT(5));
	start_helper(1, &b, K_PRIO_PREEMPT(5));
	join_helper(0);
	zassert_ok(k_thread_join(&helper_threads[1], K_SECONDS(5)));
	zassert_equal(atomic_get(&race_errors), 0, "unexpected errno");
	zassert_true(atomic_get(&race_opens) > 0);
	zassert_equal(atomic_get(&race_opens) - atomic_get(&race_closes),
		      event_counter_open(edges_dev) == -EBUSY ? 1 : 0,
		      "every successful open is matched by one successful close");
	zassert_ok(event_counter_get_stats(edges_dev, &s));
	zassert_equal(s.seen, s.read + s.dropped + s.pending, "counts reconcile");
}

ZTEST(event_counter_lifecycle, test_remove_wakes_waiters_and_stops_source)
{
	struct helper waiter = {.dev = unplug_a, .fn = wait_forever};
	struct event_counter_stats s1, s2;
	struct event_counter_event ev[8];
	uint32_t generated;

	const struct event_counter_settings quiet = {.enabled = false};

	zassert_ok(event_counter_open(unplug_a));
	/* Stop events so the waiter really blocks, then drain. */
	zassert_ok(event_counter_configure(unplug_a, &quiet));
	while (event_counter_read(unplug_a, ev, ARRAY_SIZE(ev)) > 0) {
	}
	start_helper(0, &waiter, K_PRIO_PREEMPT(5));
	k_sleep(K_MSEC(10));
	zassert_false(waiter.done, "waiter should be blocked");
	zassert_ok(event_counter_remove(unplug_a, K_MSEC(500)), "removal drains in time");
	join_helper(0);
	zassert_equal(waiter.result, -ENODEV, "waiter woken by the removal");

	/* The source was disabled first: nothing more arrives. */
	generated = z_event_counter_source_generated(unplug_a);
	zassert_ok(event_counter_get_stats(unplug_a, &s1), "stats outlive removal");
	k_sleep(K_MSEC(20));
	zassert_ok(event_counter_get_stats(unplug_a, &s2));
	zassert_equal(z_event_counter_source_generated(unplug_a), generated, "timer still running");
	zassert_equal(s1.seen + s1.ignored, s2.seen + s2.ignored, "events after removal");
	zassert_equal(generated, s2.seen + s2.ignored, "every expiry counted");

	/* Every later call: -ENODEV. */
	zassert_equal(event_counter_open(unplug_a), -ENODEV);
	zassert_equal(event_counter_read(unplug_a, ev, 1), -ENODEV);
	zassert_equal(event_counter_wait(unplug_a, K_NO_WAIT), -ENODEV);
	zassert_equal(event_counter_close(unplug_a, K_NO_WAIT, 0), -ENODEV);
	zassert_equal(event_counter_remove(unplug_a, K_NO_WAIT), -ENODEV, "double removal");
}

ZTEST(event_counter_lifecycle, test_remove_with_operation_in_flight_times_out_safely)
{
	struct helper op;
	struct event_counter_event ev;
	uint32_t generated;

	zassert_ok(event_counter_open(unplug_b));
	hold_operation_in_flight(unplug_b, &op);
	zassert_equal(event_counter_remove(unplug_b, K_MSEC(20)), -ETIMEDOUT,
		      "an operation is still in flight");
	zassert_equal(event_counter_read(unplug_b, &ev, 1), -ENODEV, "removed at once for new calls");
	generated = z_event_counter_source_generated(unplug_b);
	k_sleep(K_MSEC(10));
	zassert_equal(z_event_counter_source_generated(unplug_b), generated,
		      "source disabled before waiting");
	release_operation_in_flight();
	join_helper(0);
	zassert_equal(op.result, -EAGAIN,
		      "the in-flight notify finished and saw that the device changed under it");
	zassert_equal(event_counter_notify(unplug_b), -ENODEV);
}

/* Hot-plug (seeds 002/003): a removed device comes back closed, with its
 * counters and pending events, and works again once reopened.
 */
ZTEST(event_counter_lifecycle, test_restore_brings_removed_device_back_closed)
{
	struct event_counter_event ev[8];
	struct event_counter_stats s0, s1;
	int n;

	zassert_ok(event_counter_get_stats(edges_dev, &s0));
	zassert_ok(event_counter_open(edges_dev));
	pulse();
	pulse();
	pulse();
	zassert_equal(event_counter_read(edges_dev, ev, 1), 1);
	zassert_ok(event_counter_remove(edges_dev, K_MSEC(500)));
	pulse(); /* removed: the pin interrupt is off, the driver sees nothing */
	zassert_equal(event_counter_read(edges_dev, ev, 1), -ENODEV);

	zassert_ok(event_counter_restore(edges_dev));
	zassert_equal(event_counter_restore(edges_dev), -EALREADY, "present again");
	zassert_equal(event_counter_read(edges_dev, ev, 1), -EBADF, "the old session ended");
	pulse(); /* back, but closed: the pin interrupt is still off */
	zassert_ok(event_counter_open(edges_dev));
	pulse();
	pulse();
	n = event_counter_read(edges_dev, ev, ARRAY_SIZE(ev));
	zassert_equal(n, 4, "2 pending from before the removal + 2 new, got %d", n);
	for (int i = 1; i < n; i++) {
		zassert_equal(ev[i].sequence, ev[i - 1].sequence + 1, "sequence continues");
	}
	zassert_ok(event_counter_get_stats(edges_dev, &s1));
	zassert_equal(s1.seen - s0.seen, 5);
	zassert_equal(s1.ignored - s0.ignored, 0, "no edge reached a disabled device");
	zassert_equal(s1.read - s0.read, 5);
	zassert_equal(s1.seen, s1.read + s1.dropped + s1.pending);
}

ZTEST(event_counter_lifecycle, test_restore_refused_while_a_call_from_before_is_in_flight)
{
	struct helper op;

	zassert_ok(event_counter_open(edges_dev));
	hold_operation_in_flight(edges_dev, &op);
	zassert_equal(event_counter_remove(edges_dev, K_MSEC(20)), -ETIMEDOUT);
	zassert_equal(event_counter_restore(edges_dev), -EBUSY,
		      "the notify in flight still uses the old binding");
	zassert_equal(event_counter_open(edges_dev), -ENODEV, "still removed");
	release_operation_in_flight();
	join_helper(0);
	zassert_equal(op.result, -EAGAIN);
	zassert_ok(event_counter_restore(edges_dev), "the last user has left");
	zassert_ok(event_counter_open(edges_dev));
	pulse();
	zassert_equal(event_counter_wait(edges_dev, K_NO_WAIT), 1, "counting again");
}

/* Timer source: repeated remove/re-add with a waiter; every expiry is
 * counted or ignored, never lost, and the waiter always wakes.
 */
ZTEST(event_counter_lifecycle, test_remove_restore_cycles_reconcile)
{
	struct helper waiter = {.dev = ticks_dev, .fn = wait_forever};
	struct event_counter_event ev[8];
	struct event_counter_stats s0, s1;
	uint32_t gen0 = z_event_counter_source_generated(ticks_dev);
	uint32_t read = 0;

	zassert_ok(event_counter_get_stats(ticks_dev, &s0));
	for (int cycle = 0; cycle < 20; cycle++) {
		int n;

		zassert_ok(event_counter_open(ticks_dev), "cycle %d", cycle);
		k_msleep(3);
		while ((n = event_counter_read(ticks_dev, ev, ARRAY_SIZE(ev))) > 0) {
			read += n;
		}
		start_helper(0, &waiter, K_PRIO_PREEMPT(5));
		zassert_ok(event_counter_remove(ticks_dev, K_MSEC(500)), "cycle %d", cycle);
		join_helper(0);
		zassert_true(waiter.result == -ENODEV || waiter.result > 0, "cycle %d: wait %d",
			     cycle, waiter.result);
		zassert_ok(event_counter_restore(ticks_dev), "cycle %d", cycle);
	}
	zassert_ok(event_counter_open(ticks_dev));
	while (event_counter_read(ticks_dev, ev, ARRAY_SIZE(ev)) > 0) {
		/* pending from the last cycle */
	}
	zassert_ok(event_counter_close(ticks_dev, K_FOREVER, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	zassert_ok(event_counter_get_stats(ticks_dev, &s1));
	zassert_true(s1.seen - s0.seen >= 20 * 2, "the timer ran in every cycle");
	zassert_equal(z_event_counter_source_generated(ticks_dev) - gen0,
		      (s1.seen - s0.seen) + (s1.ignored - s0.ignored), "expiries lost");
	zassert_equal(s1.seen, s1.read + s1.dropped + s1.pending);
	zassert_true(s1.read - s0.read >= read);
}

ZTEST_SUITE(event_counter_lifecycle, NULL, NULL, before_each, NULL, NULL);

/* Runs after event_counter_lifecycle (suites run in name order): the driver
 * deinit is permanent.
 */
ZTEST(event_counter_shutdown, test_driver_deinit_refused_while_a_device_is_open)
{
	struct event_counter_event ev;

	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_driver_pre_deinit());
	zassert_equal(event_counter_driver_pre_deinit(), -EALREADY);
	zassert_equal(event_counter_open(ticks_dev), -ENODEV, "no new opens after PreDeinit");
	zassert_equal(event_counter_driver_deinit(), -EBUSY, "a device is still open");
	zassert_equal(event_counter_read(edges_dev, &ev, 1), 0, "the open device still works");
	zassert_ok(event_counter_close(edges_dev, K_NO_WAIT, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	zassert_ok(event_counter_driver_deinit(), "no device open any more");
	zassert_equal(event_counter_driver_deinit(), -EBADF, "already deinitialised");
	zassert_equal(event_counter_open(edges_dev), -ENODEV);
}

ZTEST_SUITE(event_counter_shutdown, NULL, NULL, NULL, NULL, NULL);
