/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * ISR vs threads (seed 000, seed 003 "spinlocks and atomic context"): events
 * raised in real interrupt context at a high rate while reader threads
 * drain them. Every event must be accounted for:
 *   generated == seen + ignored,  seen == read + dropped + pending.
 *
 * On SMP the producer (and so the interrupts it raises, test_irq.h) runs on
 * CPU 0 and the readers on CPU 1, truly in parallel (seed 000 "particularly
 * on multi-core systems"): the ring's publish under the ISR lock and the
 * reader's copy-out meet across CPUs, with the memory ordering a
 * uniprocessor gives for free (seed 000 step 5). Each actor samples the CPU
 * it ran on, and the test asserts it.
 */

#include <zephyr/irq.h>
#include <zephyr/irq_offload.h>
#include <zephyr/ztest.h>

#include "test_common.h"
#include "test_irq.h"

#define EVENTS       100000
#define READERS      2
#define STACK_SIZE   2048
/* Bound on the producer, whatever the scheduling: far above its run time. */
#define PRODUCER_BOUND_MS 120000
#define PRODUCER_CPU 0

K_THREAD_STACK_ARRAY_DEFINE(reader_stacks, READERS, STACK_SIZE);
static struct k_thread reader_threads[READERS];
K_THREAD_STACK_DEFINE(producer_stack, STACK_SIZE);
static struct k_thread producer_thread;
/* Where the raised interrupts' handlers ran. */
static struct isr_context_record isr_context;

struct reader {
	const struct device *dev;
	volatile bool stop;
	uint32_t read;
	struct sequence_check order;
	/* CPUs this reader ran on (bit per CPU). */
	uint32_t cpus;
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

		r->cpus |= BIT(test_cpu_id());
		if (pending == -ETIMEDOUT && r->stop) {
			break;
		}
		n = event_counter_read(r->dev, ev, ARRAY_SIZE(ev));
		sequence_check_events(&r->order, ev, n);
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
		test_thread_start_on(TEST_OTHER_CPU, &reader_threads[i], reader_stacks[i],
				     STACK_SIZE, reader_entry, &readers[i], NULL, NULL, prio[i]);
	}
}

static uint32_t stop_readers(void)
{
	uint32_t total = 0;

	for (int i = 0; i < READERS; i++) {
		readers[i].stop = true;
	}
	for (int i = 0; i < READERS; i++) {
		zassert_ok(test_thread_join(&reader_threads[i], K_SECONDS(10)), "reader hung");
		zassert_equal(readers[i].order.out_of_order, 0, "reader %d saw sequence go back", i);
		total += readers[i].read;
		TC_PRINT("reader %d ran on CPU mask 0x%x\n", i, readers[i].cpus);
		zassert_equal(readers[i].cpus, BIT(TEST_OTHER_CPU), "reader %d not on CPU %d", i,
			      TEST_OTHER_CPU);
	}
	return total;
}

/* The producer: `events` calls of `raise` from a thread on PRODUCER_CPU, so
 * that the interrupts run there; yields now and then for the readers of a
 * uniprocessor. Bounded by time as well as by count.
 */
struct producer {
	void (*raise)(void);
	uint32_t events;
	uint32_t raised;
	uint32_t cpus;
};

static void producer_entry(void *p1, void *p2, void *p3)
{
	struct producer *p = p1;
	int64_t start = k_uptime_get();

	ARG_UNUSED(p2);
	ARG_UNUSED(p3);
	for (uint32_t i = 0; i < p->events; i++) {
		p->cpus |= BIT(test_cpu_id());
		p->raise();
		p->raised++;
		if ((i % 256) == 0) {
			/* Let the lower-priority reader in now and then. */
			k_msleep(1);
			if (k_uptime_get() - start > PRODUCER_BOUND_MS) {
				break;
			}
		}
	}
}

static void run_producer(struct producer *p)
{
	isr_context_clear(&isr_context);
	test_thread_start_on(PRODUCER_CPU, &producer_thread, producer_stack, STACK_SIZE,
			     producer_entry, p, NULL, NULL, K_PRIO_PREEMPT(5));
	zassert_ok(test_thread_join(&producer_thread, K_MSEC(PRODUCER_BOUND_MS + 10000)),
		   "producer hung");
	zassert_equal(p->raised, p->events, "producer ran out of time after %u", p->raised);
	TC_PRINT("producer ran on CPU mask 0x%x, its interrupts on 0x%x\n", p->cpus,
		 (uint32_t)atomic_get(&isr_context.cpus));
	zassert_equal(p->cpus, BIT(PRODUCER_CPU));
	zassert_equal((uint32_t)atomic_get(&isr_context.cpus), BIT(PRODUCER_CPU),
		      "interrupts not on the producer's CPU");
	zassert_equal(atomic_get(&isr_context.outside_isr), 0,
		      "handler outside interrupt context");
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
	isr_context_note(&isr_context);
	pulse();
}

static void raise_offload(void)
{
	irq_offload(pulse_from_isr, NULL);
}

ZTEST(event_counter_isr_stress, test_irq_offload_gpio_storm)
{
	struct event_counter_stats before;

	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_get_stats(edges_dev, &before));
	/* One reader above the producer's priority, one below. */
	start_readers(edges_dev, K_PRIO_PREEMPT(1), K_PRIO_PREEMPT(8));
	run_producer(&(struct producer){.raise = raise_offload, .events = EVENTS});
	check_reconciled(edges_dev, &before, EVENTS, stop_readers());
}

static volatile uint32_t storm_raised;

static void storm_isr(const void *arg)
{
	ARG_UNUSED(arg);
	isr_context_note(&isr_context);
	pulse();
	storm_raised = storm_raised + 1;
}

static void raise_storm(void)
{
	test_irq_run(storm_isr, NULL);
}

/* The portable interrupt source (a spare NVIC line on Cortex-M, test_irq.h). */
ZTEST(event_counter_isr_stress, test_irq_storm_with_timer)
{
	struct event_counter_stats edges_before, ticks_before;
	uint32_t ticks_generated_before;

	storm_raised = 0;

	/* The timer device's baseline while it is closed (timer stopped): an
	 * expiry between two reads of a running one is in one and not the other.
	 */
	ticks_generated_before = z_event_counter_source_generated(ticks_dev);
	zassert_ok(event_counter_get_stats(ticks_dev, &ticks_before));
	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_open(ticks_dev));
	zassert_ok(event_counter_get_stats(edges_dev, &edges_before));
	start_readers(edges_dev, K_PRIO_PREEMPT(1), K_PRIO_PREEMPT(8));

	run_producer(&(struct producer){.raise = raise_storm, .events = EVENTS});
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
