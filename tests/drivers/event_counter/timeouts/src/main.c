/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Timeouts are tick-exact: every call that takes a k_timeout_t waits as long
 * as the kernel would (at least the requested ticks, then a few ticks of
 * wake-up latency at most), not the timeout rounded to milliseconds. With
 * CONFIG_SYS_CLOCK_TICKS_PER_SEC=10000 a millisecond is ten ticks, so a
 * driver that converted to milliseconds fails every bound below.
 */

#include <zephyr/ztest.h>

#include "in_flight.h"
#include "test_common.h"

BUILD_ASSERT(CONFIG_SYS_CLOCK_TICKS_PER_SEC == 10000, "the bounds below assume 100 us ticks");

/* Wake-up latency allowed past the requested ticks: the kernel expires a
 * relative timeout on the tick after the one it ends in, and the emulated
 * CPU needs part of a tick to run the timer interrupt and the thread.
 */
#if defined(CONFIG_EVENT_COUNTER_LOCKDEP)
/* Scenario timeouts.lockdep: the validator's bookkeeping on every lock
 * operation costs ticks at this resolution (remove(K_TICKS(1)) took 5). That
 * run proves the paths lockdep-clean and still tick-resolved (the
 * sub-millisecond check below); the 3-tick bound is the default scenario's.
 */
#define SLACK_TICKS 6
#else
#define SLACK_TICKS 3
#endif
#define TICKS_PER_MS (CONFIG_SYS_CLOCK_TICKS_PER_SEC / 1000)

struct case_timeout {
	k_timeout_t timeout;
	int64_t ticks;
	const char *name;
};

static const struct case_timeout cases[] = {
	{K_TICKS(1), 1, "K_TICKS(1)"},
	{K_USEC(100), 1, "K_USEC(100)"},
	{K_TICKS(3), 3, "K_TICKS(3)"},
	{K_USEC(500), 5, "K_USEC(500)"},
	{K_MSEC(1), 10, "K_MSEC(1)"},
};

/* Asserts that a call that gave up took its ticks and a few more at most. */
static void assert_waited(int64_t start, const struct case_timeout *c, const char *call)
{
	int64_t waited = k_uptime_ticks() - start;

	TC_PRINT("%s(%s): %lld ticks\n", call, c->name, waited);
	zassert_true(waited >= c->ticks, "%s(%s) gave up after %lld ticks", call, c->name, waited);
	zassert_true(waited <= c->ticks + SLACK_TICKS, "%s(%s) took %lld ticks", call, c->name,
		     waited);
	if (c->ticks < TICKS_PER_MS) {
		zassert_true(waited < TICKS_PER_MS, "%s(%s) was rounded to a millisecond", call,
			     c->name);
	}
}

static void before_each(void *fixture)
{
	ARG_UNUSED(fixture);
	reset_device(edges_dev);
}

ZTEST(event_counter_timeouts, test_wait_times_out_to_the_tick)
{
	zassert_ok(event_counter_open(edges_dev));
	ARRAY_FOR_EACH_PTR(cases, c) {
		k_sleep(K_TICKS(1)); /* start on a tick boundary */
		int64_t start = k_uptime_ticks();

		zassert_equal(event_counter_wait(edges_dev, c->timeout), -ETIMEDOUT);
		assert_waited(start, c, "wait");
	}
}

ZTEST(event_counter_timeouts, test_close_gives_up_to_the_tick)
{
	struct helper op;

	zassert_ok(event_counter_open(edges_dev));
	hold_operation_in_flight(edges_dev, &op);
	ARRAY_FOR_EACH_PTR(cases, c) {
		k_sleep(K_TICKS(1));
		int64_t start = k_uptime_ticks();

		zassert_equal(event_counter_close(edges_dev, c->timeout,
						  EVENT_COUNTER_CLOSE_FAIL_IF_BUSY),
			      -EBUSY, "an operation is in flight");
		assert_waited(start, c, "close");
	}
	release_operation_in_flight();
	join_helper(0);
	zassert_equal(op.result, 42, "the held notify returns its sink's value");
}

ZTEST(event_counter_timeouts, test_remove_gives_up_to_the_tick)
{
	struct helper op;

	ARRAY_FOR_EACH_PTR(cases, c) {
		zassert_ok(event_counter_open(edges_dev));
		hold_operation_in_flight(edges_dev, &op);
		k_sleep(K_TICKS(1));
		int64_t start = k_uptime_ticks();

		/* Removed all the same; the call in flight keeps the binding alive. */
		zassert_equal(event_counter_remove(edges_dev, c->timeout), -ETIMEDOUT);
		assert_waited(start, c, "remove");
		release_operation_in_flight();
		join_helper(0);
		zassert_ok(event_counter_restore(edges_dev), "restore after the call left");
	}
}

ZTEST(event_counter_timeouts, test_forever_and_no_wait_are_unchanged)
{
	zassert_ok(event_counter_open(edges_dev));
	zassert_equal(event_counter_wait(edges_dev, K_NO_WAIT), -EAGAIN);
	pulse();
	zassert_equal(event_counter_wait(edges_dev, K_FOREVER), 1);
	zassert_equal(event_counter_wait(edges_dev, K_TICKS(1)), 1);
}

ZTEST_SUITE(event_counter_timeouts, NULL, NULL, before_each, NULL, NULL);
