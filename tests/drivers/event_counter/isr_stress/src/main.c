/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * ISR vs threads (seed 000, seed 003 "spinlocks and atomic context"): events
 * raised in real interrupt context at a high rate while reader threads
 * drain them. Every event must be accounted for:
 *   generated == seen + ignored,  seen == read + dropped + pending.
 */

#include <zephyr/irq.h>
#include <zephyr/irq_offload.h>
#include <zephyr/ztest.h>

#include <cmsis_core.h>

#include "test_common.h"

#define EVENTS       100000
#define READERS      2
#define STACK_SIZE   2048
/* A line the lm3s6965 peripherals leave unused. */
#define STORM_IRQ    (CONFIG_NUM_IRQS - 1)

K_THREAD_STACK_ARRAY_DEFINE(reader_stacks, READERS, STACK_SIZE);
static struct k_thread reader_threads[READERS];

struct reader {
	const struct device *dev;
	volatile bool stop;
	uint32_t read;
	uint32_t last_sequence;
	bool have_last;
	uint32_t out_of_order;
};

/* Readers share one device: each sees increasing sequence numbers within
 * its own reads, and together they read every captured event exactly once
 * (their sum equals the driver's read count).
 */
static void reader_entry(void *p1, void *p2, void *p3)
{
	struct reader *r = p1;
	struct event_counter_event ev[8];

	while (true) {
		int pending = event_counter_wait(r->dev, K_MSEC(20));
		int n;

		if (pending == -ETIMEDOUT && r->stop) {
			break;
		}
		n = event_counter_read(r->dev, ev, ARRAY_SIZE(ev));
		for (int i = 0; i < n; i++) {
			if (r->have_last && (int32_t)(ev[i].sequence - r->last_sequence) <= 0) {
				r->out_of_order++;
			}
			r->last_sequence = ev[i].sequence;
			r->have_last = true;
		}
		if (n > 0) {
			r->read += n;
		}
	}
}

static struct reader readers[READERS];

static void start_readers(const struct device *dev, int prio_a, int prio_b)
{
	int prio[READERS] = {prio_a, prio_b};

	for (int i = 0; i < READERS; i++) {
		readers[i] = (struct reader){.dev = dev};
		k_thread_create(&reader_threads[i], reader_stacks[i], STACK_SIZE, reader_entry,
				&readers[i], NULL, NULL, prio[i], 0, K_NO_WAIT);
	}
}

static uint32_t stop_readers(void)
{
	uint32_t total = 0;

	for (int i = 0; i < READERS; i++) {
		readers[i].stop = true;
	}
	for (int i = 0; i < READERS; i++) {
		zassert_ok(k_thread_join(&reader_threads[i], K_SECONDS(10)), "reader hung");
		zassert_equal(readers[i].out_of_order, 0, "reader %d saw sequence go back", i);
		total += readers[i].read;
	}
	return total;
}

static void check_reconciled(const struct device *dev, const struct event_counter_stats *before,
			     uint32_t generated, uint32_t read_by_readers)
{
	struct event_counter_stats after;
	uint32_t seen, ignored, read, dropped;

	zassert_ok(event_counter_get_stats(dev, &after));
	seen = after.seen - before->seen;
	ignored = after.ignored - before->ignored;
	read = after.read - before->read;
	dropped = after.dropped - before->dropped;
	TC_PRINT("%s: generated %u seen %u ignored %u read %u dropped %u pending %u\n", dev->name,
		 generated, seen, ignored, read, dropped, after.pending);
	zassert_equal(generated, seen + ignored, "lost events: generated %u counted %u", generated,
		      seen + ignored);
	zassert_equal(seen, read + dropped + after.pending - before->pending, "unbalanced");
	zassert_equal(read, read_by_readers, "readers got %u, driver handed out %u",
		      read_by_readers, read);
}

static void pulse_from_isr(const void *arg)
{
	ARG_UNUSED(arg);
	pulse();
}

ZTEST(event_counter_isr_stress, test_irq_offload_gpio_storm)
{
	struct event_counter_stats before;

	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_get_stats(edges_dev, &before));
	/* One reader above the producer's priority, one below. */
	start_readers(edges_dev, K_PRIO_PREEMPT(1), K_PRIO_PREEMPT(8));
	for (uint32_t i = 0; i < EVENTS; i++) {
		irq_offload(pulse_from_isr, NULL);
		if ((i % 256) == 0) {
			/* Let the lower-priority reader in now and then. */
			k_msleep(1);
		}
	}
	check_reconciled(edges_dev, &before, EVENTS, stop_readers());
}

static volatile uint32_t storm_raised;

static void storm_isr(const void *arg)
{
	ARG_UNUSED(arg);
	pulse();
	storm_raised = storm_raised + 1;
}

ZTEST(event_counter_isr_stress, test_nvic_irq_storm_with_timer)
{
	struct event_counter_stats edges_before, ticks_before;
	uint32_t ticks_generated_before;

	IRQ_CONNECT(STORM_IRQ, 1, storm_isr, NULL, 0);
	irq_enable(STORM_IRQ);
	storm_raised = 0;

	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_open(ticks_dev));
	zassert_ok(event_counter_get_stats(edges_dev, &edges_before));
	start_readers(edges_dev, K_PRIO_PREEMPT(1), K_PRIO_PREEMPT(8));
	ticks_generated_before = z_event_counter_source_generated(ticks_dev);
	zassert_ok(event_counter_get_stats(ticks_dev, &ticks_before));

	for (uint32_t i = 0; i < EVENTS; i++) {
		NVIC_SetPendingIRQ(STORM_IRQ);
		__DSB();
		__ISB();
		if ((i % 256) == 0) {
			k_msleep(1);
		}
	}
	irq_disable(STORM_IRQ);
	check_reconciled(edges_dev, &edges_before, storm_raised, stop_readers());
	zassert_equal(storm_raised, EVENTS, "every pended interrupt ran");

	/* The timer device ran throughout; stop it and reconcile it too. */
	zassert_ok(event_counter_close(ticks_dev, K_FOREVER, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	{
		struct event_counter_stats after;
		uint32_t generated =
			z_event_counter_source_generated(ticks_dev) - ticks_generated_before;

		zassert_ok(event_counter_get_stats(ticks_dev, &after));
		zassert_true(generated > 0, "timer ran");
		zassert_equal(generated,
			      (after.seen - ticks_before.seen) + (after.ignored - ticks_before.ignored),
			      "timer expiries lost");
		zassert_equal(after.seen, after.read + after.dropped + after.pending);
	}
}

ZTEST(event_counter_isr_stress, test_churn_during_storm_loses_nothing)
{
	struct event_counter_stats before, after;
	uint32_t generated_before, generated;

	zassert_ok(event_counter_get_stats(ticks_dev, &before));
	generated_before = z_event_counter_source_generated(ticks_dev);
	/* Open/close churn on the timer device while it fires every 1 ms. */
	for (int i = 0; i < 200; i++) {
		zassert_ok(event_counter_open(ticks_dev));
		k_busy_wait(1500);
		zassert_ok(event_counter_close(ticks_dev, K_MSEC(10),
					       (i & 1) ? EVENT_COUNTER_CLOSE_PROCEED
						       : EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	}
	generated = z_event_counter_source_generated(ticks_dev) - generated_before;
	zassert_ok(event_counter_get_stats(ticks_dev, &after));
	zassert_true(generated > 0, "timer ran");
	zassert_equal(generated, (after.seen - before.seen) + (after.ignored - before.ignored),
		      "expiries lost across open/close");
	zassert_equal(after.seen, after.read + after.dropped + after.pending);
}

static void before_each(void *fixture)
{
	ARG_UNUSED(fixture);
	gpio_emul_input_set(edges_pin.port, edges_pin.pin, 0);
	reset_device(edges_dev);
	reset_device(ticks_dev);
}

ZTEST_SUITE(event_counter_isr_stress, NULL, NULL, before_each, NULL, NULL);
