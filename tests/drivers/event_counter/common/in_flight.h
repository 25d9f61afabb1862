/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Helper threads that run one driver call each, and an operation kept in
 * flight on demand (a notify whose sink blocks until released): what the
 * lifecycle and timeouts suites need to put a close, a removal or a restore
 * against a call that has not returned yet (seed 001, *Shutdown*).
 */

#ifndef EVENT_COUNTER_TEST_IN_FLIGHT_H_
#define EVENT_COUNTER_TEST_IN_FLIGHT_H_

#include <zephyr/kernel.h>
#include <zephyr/ztest.h>

#include <drivers/event_counter.h>

#include "test_common.h"

#define STACK_SIZE 2048
#define HELPERS    2
K_THREAD_STACK_ARRAY_DEFINE(helper_stacks, HELPERS, STACK_SIZE);
static struct k_thread helper_threads[HELPERS];

/* A helper thread runs `fn(dev)` and records its result. */
struct helper {
	const struct device *dev;
	int (*fn)(const struct device *dev);
	volatile int result;
	volatile bool done;
};

static void helper_entry(void *p1, void *p2, void *p3)
{
	struct helper *h = p1;

	h->result = h->fn(h->dev);
	h->done = true;
}

static k_tid_t start_helper(int slot, struct helper *h, int prio)
{
	h->done = false;
	return k_thread_create(&helper_threads[slot], helper_stacks[slot], STACK_SIZE, helper_entry,
			       h, NULL, NULL, prio, 0, K_NO_WAIT);
}

static void join_helper(int slot)
{
	zassert_ok(test_thread_join(&helper_threads[slot], K_SECONDS(5)), "helper hung");
}

/* A sink that blocks until released: an operation kept in flight on demand. */
static K_SEM_DEFINE(sink_entered, 0, 1);
static K_SEM_DEFINE(sink_release, 0, 1);

static int blocking_sink(const struct device *dev, uint32_t pending, void *user_data)
{
	k_sem_give(&sink_entered);
	k_sem_take(&sink_release, K_FOREVER);
	return 42;
}

static int notify(const struct device *dev)
{
	return event_counter_notify(dev);
}

/* Starts a notify whose sink blocks; returns once the sink runs. */
static void hold_operation_in_flight(const struct device *dev, struct helper *h)
{
	zassert_ok(event_counter_set_sink(dev, blocking_sink, NULL));
	k_sem_reset(&sink_entered);
	k_sem_reset(&sink_release);
	*h = (struct helper){.dev = dev, .fn = notify};
	start_helper(0, h, K_PRIO_PREEMPT(5));
	zassert_ok(k_sem_take(&sink_entered, K_SECONDS(1)), "sink never ran");
}

/* Lets the notify held by hold_operation_in_flight() return. */
static inline void release_operation_in_flight(void)
{
	k_sem_give(&sink_release);
}

#endif /* EVENT_COUNTER_TEST_IN_FLIGHT_H_ */
