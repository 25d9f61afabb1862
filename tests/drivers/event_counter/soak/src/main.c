/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Soak: 10^6 GPIO edges raised in interrupt context (test_irq.h: a spare
 * NVIC line on Cortex-M, irq_offload on RISC-V) in seeded random
 * bursts, two reader threads, an open/close churn thread on the timer
 * device (both close policies, random timeouts), and a third device removed
 * half-way while a thread waits on it. The GPIO device itself is removed and
 * re-added periodically (every REPLUG_EVERY events, with random removal
 * timeouts and a burst of edges while it is away, which its disabled pin
 * interrupt never delivers); its readers ride
 * through each removal and carry on once it is back and reopened; the third
 * device is re-added at the end and must count again. CONFIG_ASSERT and
 * CONFIG_SPIN_VALIDATE are on. Every count reconciles exactly at the end.
 *
 * The scenario is driven by a xorshift32 generator seeded with SOAK_SEED
 * (override with -DSOAK_SEED=n through EXTRA_CFLAGS); under QEMU's -icount
 * the run is deterministic for a given seed and image.
 *
 * On SMP the producer (and so the interrupts it raises) is pinned to CPU 0,
 * the readers, the churn thread and the waiter to CPU 1: the ring, the gate
 * and the revocable binding are used from both CPUs at once (seed 000
 * "particularly on multi-core systems", step 5 memory barriers; seed 002/003
 * SMP). Each actor samples the CPU it ran on, and the test asserts it.
 */

#include <zephyr/irq.h>
#include <zephyr/ztest.h>

#include "test_common.h"
#include "test_irq.h"

#ifndef SOAK_SEED
#define SOAK_SEED 20261122u
#endif

#define EVENTS     1000000u
/* Events between two removals of the GPIO device. */
#define REPLUG_EVERY 62500u
#define STACK_SIZE 2048
#define PRODUCER_CPU 0

static const struct device *const unplug_dev = DEVICE_DT_GET(DT_NODELABEL(evc_unplug));

static uint32_t rng_state = SOAK_SEED;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static volatile uint32_t raised;
static volatile bool stop;

/* Where the raised interrupts' handlers ran. */
static struct isr_context_record isr_context;

static void storm_isr(const void *arg)
{
	ARG_UNUSED(arg);
	isr_context_note(&isr_context);
	pulse();
	raised = raised + 1;
}

struct reader {
	const struct device *dev;
	/* Leave on removal (the one-shot unplug waiter), or ride through it. */
	bool exit_on_removal;
	uint32_t removals_seen;
	uint32_t read;
	struct sequence_check order;
	int exit_code;
	uint32_t cpus;
};

static void reader_entry(void *p1, void *p2, void *p3)
{
	struct reader *r = p1;
	struct event_counter_event ev[8];

	while (true) {
		int ret = event_counter_wait(r->dev, K_MSEC(20));
		int n;

		r->cpus |= BIT(test_cpu_id());
		if (ret == -ENODEV || ret == -EBADF) {
			if (r->exit_on_removal || stop) {
				r->exit_code = ret;
				return;
			}
			/* Removed, or back but not reopened yet. */
			r->removals_seen++;
			k_msleep(1);
			continue;
		}
		if (ret == -ETIMEDOUT && stop) {
			r->exit_code = 0;
			return;
		}
		n = event_counter_read(r->dev, ev, ARRAY_SIZE(ev));
		sequence_check_events(&r->order, ev, n);
		if (n > 0) {
			r->read += n;
		}
	}
}

struct churn {
	uint32_t seed;
	uint32_t closes, busy, reads;
	int unexpected;
	uint32_t cpus;
};

static void churn_entry(void *p1, void *p2, void *p3)
{
	struct churn *c = p1;
	struct event_counter_event ev[4];
	uint32_t state = c->seed;

	while (!stop) {
		int ret;

		c->cpus |= BIT(test_cpu_id());
		state ^= state << 13;
		state ^= state >> 17;
		state ^= state << 5;
		ret = event_counter_close(ticks_dev, K_MSEC(state % 4),
					  (state & 0x100) ? EVENT_COUNTER_CLOSE_PROCEED
							  : EVENT_COUNTER_CLOSE_FAIL_IF_BUSY);
		if (ret == 0) {
			c->closes++;
		} else if (ret == -EBUSY) {
			c->busy++;
		} else if (ret != -EBADF) {
			c->unexpected = ret;
		}
		k_msleep(state % 3);
		ret = event_counter_open(ticks_dev);
		if (ret != 0 && ret != -EBUSY) {
			c->unexpected = ret;
		}
		ret = event_counter_read(ticks_dev, ev, ARRAY_SIZE(ev));
		if (ret > 0) {
			c->reads += ret;
		}
		k_msleep(1 + state % 5);
	}
}

K_THREAD_STACK_ARRAY_DEFINE(stacks, 5, STACK_SIZE);
static struct k_thread threads[5];

/* What the producer did, for the verdicts. */
struct producer {
	uint32_t sent;
	uint32_t replugs, replug_busy, removal_timeouts, raised_while_removed;
	bool removed;
	/* 0, or the errno of the first unexpected result and where. */
	int failure;
	int failure_line;
	uint32_t cpus;
};

#define PRODUCER_CHECK(p, cond, ret)                                                               \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			(p)->failure = (ret);                                                      \
			(p)->failure_line = __LINE__;                                              \
			return;                                                                    \
		}                                                                                  \
	} while (false)

static void raise_one(struct producer *p)
{
	p->cpus |= BIT(test_cpu_id());
	test_irq_run(storm_isr, NULL);
}

/* The seeded storm with its periodic hot-unplug, on PRODUCER_CPU. */
static void producer_entry(void *p1, void *p2, void *p3)
{
	struct producer *p = p1;
	uint32_t next_replug = REPLUG_EVERY;

	ARG_UNUSED(p2);
	ARG_UNUSED(p3);
	while (p->sent < EVENTS) {
		uint32_t burst = 1 + rng() % 64;

		burst = MIN(burst, EVENTS - p->sent);
		for (uint32_t i = 0; i < burst; i++) {
			raise_one(p);
		}
		p->sent += burst;
		if ((rng() % 8) == 0) {
			k_msleep(1);
		}
		if (p->sent >= next_replug && p->sent < EVENTS) {
			/* Hot-unplug the device under its readers, toggle the pin
			 * while it is away (removal disabled the pin interrupt, so
			 * these edges never reach the driver), plug it back in.
			 */
			uint32_t away = MIN(1 + rng() % 32, EVENTS - p->sent);
			int ret = event_counter_remove(edges_dev, K_MSEC(rng() % 3));
			int tries = 0;

			PRODUCER_CHECK(p, ret == 0 || ret == -ETIMEDOUT, ret);
			p->removal_timeouts += (ret == -ETIMEDOUT);
			for (uint32_t i = 0; i < away; i++) {
				raise_one(p);
			}
			p->sent += away;
			p->raised_while_removed += away;
			while ((ret = event_counter_restore(edges_dev)) == -EBUSY) {
				/* A reader from before the removal is still leaving. */
				p->replug_busy++;
				PRODUCER_CHECK(p, ++tries < 1000, ret);
				k_msleep(1);
			}
			PRODUCER_CHECK(p, ret == 0, ret);
			ret = event_counter_open(edges_dev);
			PRODUCER_CHECK(p, ret == 0, ret);
			p->replugs++;
			next_replug += REPLUG_EVERY;
		}
		if (!p->removed && p->sent >= EVENTS / 2) {
			/* Removal with a waiter drains. */
			int ret = event_counter_remove(unplug_dev, K_MSEC(500));

			PRODUCER_CHECK(p, ret == 0, ret);
			p->removed = true;
		}
	}
}

ZTEST(event_counter_soak, test_soak)
{
	struct reader readers[2] = {{.dev = edges_dev}, {.dev = edges_dev}};
	struct reader unplug_waiter = {.dev = unplug_dev, .exit_on_removal = true};
	struct churn churn = {.seed = SOAK_SEED ^ 0x9e3779b9u};
	struct event_counter_stats e0, e1, t0, t1, u;
	struct event_counter_settings quiet = {.enabled = false};
	uint32_t ticks_gen0, ticks_gen1, unplug_gen;
	static struct producer prod;

	TC_PRINT("soak seed: %u (events %u)\n", SOAK_SEED, EVENTS);
	isr_context_clear(&isr_context);

	/* The timer device's baseline while it is closed (timer stopped, no
	 * expiry in flight): with the timer running, an expiry between the two
	 * reads is in one and not the other (seen one more than generated).
	 */
	zassert_ok(event_counter_get_stats(ticks_dev, &t0));
	ticks_gen0 = z_event_counter_source_generated(ticks_dev);
	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_open(ticks_dev));
	zassert_ok(event_counter_open(unplug_dev));
	zassert_ok(event_counter_configure(unplug_dev, &quiet), "waiter must block until removal");
	zassert_ok(event_counter_get_stats(edges_dev, &e0));

	test_thread_start_on(TEST_OTHER_CPU, &threads[0], stacks[0], STACK_SIZE, reader_entry,
			     &readers[0], NULL, NULL, K_PRIO_PREEMPT(1));
	test_thread_start_on(TEST_OTHER_CPU, &threads[1], stacks[1], STACK_SIZE, reader_entry,
			     &readers[1], NULL, NULL, K_PRIO_PREEMPT(8));
	test_thread_start_on(TEST_OTHER_CPU, &threads[2], stacks[2], STACK_SIZE, churn_entry, &churn,
			     NULL, NULL, K_PRIO_PREEMPT(4));
	test_thread_start_on(TEST_OTHER_CPU, &threads[3], stacks[3], STACK_SIZE, reader_entry,
			     &unplug_waiter, NULL, NULL, K_PRIO_PREEMPT(6));

	test_thread_start_on(PRODUCER_CPU, &threads[4], stacks[4], STACK_SIZE, producer_entry,
			     &prod, NULL, NULL, K_PRIO_PREEMPT(5));
	/* Bounded: about 4 minutes on qemu_cortex_m3 (-icount) and on the SMP target. */
	zassert_ok(test_thread_join(&threads[4], K_SECONDS(1200)), "producer hung");
	zassert_equal(prod.failure, 0, "producer: unexpected %d at line %d", prod.failure,
		      prod.failure_line);
	stop = true;
	for (int i = 0; i < 4; i++) {
		zassert_ok(test_thread_join(&threads[i], K_SECONDS(30)), "thread %d hung", i);
	}

	/* GPIO device: every raised interrupt counted, every event accounted for. */
	zassert_ok(event_counter_get_stats(edges_dev, &e1));
	TC_PRINT("edges: raised %u seen %u ignored %u read %u+%u dropped %u pending %u\n", raised,
		 e1.seen - e0.seen, e1.ignored - e0.ignored, readers[0].read, readers[1].read,
		 e1.dropped - e0.dropped, e1.pending);
	zassert_equal(raised, EVENTS, "every pended interrupt ran");
	zassert_equal(raised - prod.raised_while_removed, (e1.seen - e0.seen) + (e1.ignored - e0.ignored),
		      "events lost");
	zassert_equal(e1.seen - e0.seen,
		      (e1.read - e0.read) + (e1.dropped - e0.dropped) + e1.pending - e0.pending);
	zassert_equal(e1.read - e0.read, readers[0].read + readers[1].read, "reads unaccounted");
	zassert_equal(readers[0].order.out_of_order + readers[1].order.out_of_order, 0,
		      "sequence went back");
	TC_PRINT("edges: %u remove/re-add cycles (%u removals timed out, %u restores busy), "
		 "%u raised while removed; readers saw the device away %u+%u times\n",
		 prod.replugs, prod.removal_timeouts, prod.replug_busy, prod.raised_while_removed,
		 readers[0].removals_seen, readers[1].removals_seen);
	zassert_equal(prod.replugs, EVENTS / REPLUG_EVERY - 1, "periodic re-add did not run");
	zassert_true(prod.raised_while_removed > 0);

	/* Who ran where: on SMP the interrupts on the producer's CPU, every
	 * thread that used the devices with them on the other one.
	 */
	TC_PRINT("CPUs: producer 0x%x, its interrupts 0x%x, readers 0x%x 0x%x, churn 0x%x, "
		 "waiter 0x%x\n", prod.cpus, (uint32_t)atomic_get(&isr_context.cpus), readers[0].cpus,
		 readers[1].cpus, churn.cpus, unplug_waiter.cpus);
	zassert_equal(prod.cpus, BIT(PRODUCER_CPU));
	zassert_equal((uint32_t)atomic_get(&isr_context.cpus), BIT(PRODUCER_CPU));
	zassert_equal(atomic_get(&isr_context.outside_isr), 0, "handler outside interrupt context");
	zassert_equal(readers[0].cpus | readers[1].cpus | churn.cpus | unplug_waiter.cpus,
		      BIT(TEST_OTHER_CPU));

	/* Timer device under churn. */
	(void)event_counter_open(ticks_dev);
	zassert_ok(event_counter_close(ticks_dev, K_FOREVER, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	ticks_gen1 = z_event_counter_source_generated(ticks_dev);
	zassert_ok(event_counter_get_stats(ticks_dev, &t1));
	TC_PRINT("ticks: generated %u seen %u ignored %u; churn: %u closes, %u busy\n",
		 ticks_gen1 - ticks_gen0, t1.seen - t0.seen, t1.ignored - t0.ignored,
		 churn.closes, churn.busy);
	zassert_equal(churn.unexpected, 0, "churn saw errno %d", churn.unexpected);
	zassert_true(churn.closes > 0);
	zassert_equal(ticks_gen1 - ticks_gen0, (t1.seen - t0.seen) + (t1.ignored - t0.ignored),
		      "timer expiries lost");
	zassert_equal(t1.seen, t1.read + t1.dropped + t1.pending);

	/* Removed device: its waiter was woken with -ENODEV; nothing after. */
	zassert_equal(unplug_waiter.exit_code, -ENODEV, "waiter not woken by removal");
	unplug_gen = z_event_counter_source_generated(unplug_dev);
	zassert_ok(event_counter_get_stats(unplug_dev, &u));
	zassert_equal(unplug_gen, u.seen + u.ignored, "unplugged device lost events");
	zassert_equal(event_counter_open(unplug_dev), -ENODEV);

	/* Plugged back in: it counts again, and the totals still reconcile. */
	zassert_ok(event_counter_restore(unplug_dev));
	zassert_ok(event_counter_open(unplug_dev));
	zassert_ok(event_counter_configure(unplug_dev, &(struct event_counter_settings){
		.enabled = true}));
	k_msleep(5);
	zassert_ok(event_counter_close(unplug_dev, K_FOREVER, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	unplug_gen = z_event_counter_source_generated(unplug_dev);
	zassert_ok(event_counter_get_stats(unplug_dev, &u));
	TC_PRINT("unplug: re-added, generated %u seen %u ignored %u\n", unplug_gen, u.seen,
		 u.ignored);
	zassert_true(u.seen > 0, "re-added device counts again");
	zassert_equal(unplug_gen, u.seen + u.ignored, "re-added device lost events");
	zassert_equal(u.seen, u.read + u.dropped + u.pending);
}

#ifdef CONFIG_EVENT_COUNTER_LOCKDEP
/* The driver's lock order as the validator recorded it over the whole soak
 * (every path the soak drives): one "held" -> "taken" line per dependency
 * between lock classes (README, "Lock validator on target").
 */
static void print_lock_graph(void *fixture)
{
	static char graph[1024];
	int len = event_counter_lockdep_graph(graph, sizeof(graph));

	ARG_UNUSED(fixture);
	TC_PRINT("lockdep: recorded lock graph (%d bytes, %d reports):\n%s", len,
		 event_counter_lockdep_report_count(), graph);
}
#define SOAK_TEARDOWN print_lock_graph
#else
#define SOAK_TEARDOWN NULL
#endif

ZTEST_SUITE(event_counter_soak, NULL, NULL, NULL, NULL, SOAK_TEARDOWN);
