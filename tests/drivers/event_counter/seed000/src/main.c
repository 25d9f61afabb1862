/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Seed 000 on target: a thread and an interrupt storm (a k_timer firing
 * every 100 us) both increment one counter. The flawed counter, a separate
 * load and store, loses updates whenever the ISR lands between the two; the
 * spinlock-guarded one loses none. QEMU runs with -icount, so both outcomes
 * are deterministic for a given image.
 */

#include <zephyr/kernel.h>
#include <zephyr/ztest.h>

#include "lockdep_rule.h"

#define THREAD_INCREMENTS 200000

struct counter_ops {
	const void *counter;
	void (*increment)(const void *counter);
	uint32_t (*read)(const void *counter);
};

const void *seed000_racy_new(void);
void seed000_racy_increment(const void *counter);
uint32_t seed000_racy_read(const void *counter);
const void *seed000_guarded_new(void);
void seed000_guarded_increment(const void *counter);
uint32_t seed000_guarded_read(const void *counter);

static struct counter_ops storm_target;
static volatile uint32_t isr_increments;

static void storm_expiry(struct k_timer *timer)
{
	ARG_UNUSED(timer);
	storm_target.increment(storm_target.counter);
	isr_increments = isr_increments + 1;
}

static K_TIMER_DEFINE(storm, storm_expiry, NULL);

/* Returns the number of updates lost. */
static uint32_t run_storm(const struct counter_ops *ops)
{
	uint32_t expected;

	storm_target = *ops;
	isr_increments = 0;
	k_timer_start(&storm, K_USEC(100), K_USEC(100));
	for (uint32_t i = 0; i < THREAD_INCREMENTS; i++) {
		ops->increment(ops->counter);
	}
	k_timer_stop(&storm);
	expected = THREAD_INCREMENTS + isr_increments;
	TC_PRINT("thread %u + isr %u = %u, counter %u\n", THREAD_INCREMENTS, isr_increments,
		 expected, ops->read(ops->counter));
	zassert_true(isr_increments > 100, "the storm must actually interrupt the thread");
	return expected - ops->read(ops->counter);
}

ZTEST(event_counter_seed000, test_flawed_counter_loses_updates)
{
	const struct counter_ops racy = {
		.counter = seed000_racy_new(),
		.increment = seed000_racy_increment,
		.read = seed000_racy_read,
	};

	zassert_not_null(racy.counter);
	zassert_true(run_storm(&racy) > 0,
		     "the unsynchronised counter should have lost an update to the ISR");
}

ZTEST(event_counter_seed000, test_spinlock_counter_loses_none)
{
	const struct counter_ops guarded = {
		.counter = seed000_guarded_new(),
		.increment = seed000_guarded_increment,
		.read = seed000_guarded_read,
	};

	zassert_not_null(guarded.counter);
	zassert_equal(run_storm(&guarded), 0, "the spinlock-guarded counter lost updates");
}

ZTEST_SUITE(event_counter_seed000, NULL, NULL, NULL, NULL, NULL);
