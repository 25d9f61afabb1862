/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Seed 000 on target: threads and an interrupt storm (a k_timer firing every
 * 100 us, so its expiry runs in the system timer ISR) all increment one
 * counter. One thread per CPU, each pinned to its CPU: on qemu_cortex_m3 one
 * thread against the ISR; on the SMP target two threads truly in parallel
 * plus the ISR (seed 000: "particularly on multi-core systems"). The flawed
 * counter, a separate load and store, loses updates whenever another
 * increment lands between the two; the spinlock-guarded one loses none.
 *
 * Every loop is bounded by time as well as by count, so no scheduling (a
 * timer ISR that starves a CPU, a slow host) can hang the test: each thread
 * stops at THREAD_INCREMENTS or at RUN_BOUND_MS, whichever comes first, and
 * the verdicts use the increments actually made. Under qemu_cortex_m3's
 * -icount both outcomes are deterministic for a given image.
 */

#include <zephyr/kernel.h>
#include <zephyr/ztest.h>

#include "test_common.h"

/* Increments by the threads together, shared out between the CPUs. */
#define THREAD_INCREMENTS 200000
/* The threads go on past their share until the storm has fired this often,
 * so that "the storm interrupted them" never depends on how fast they ran.
 */
#define MIN_ISR_INCREMENTS 200
/* Upper bound on a thread's run and on the storm, whatever the scheduling. */
#define RUN_BOUND_MS      20000
/* Threads check the clock every this many increments. */
#define CLOCK_EVERY       1024
#define STACK_SIZE        2048

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
static int64_t storm_deadline;
/* Where the storm's expiries ran. */
static struct isr_context_record isr_context;

static void storm_expiry(struct k_timer *timer)
{
	storm_target.increment(storm_target.counter);
	/* Only the ISR writes it; expiries do not nest (one timer). */
	isr_increments = isr_increments + 1;
	isr_context_note(&isr_context);
	/* A storm the CPU cannot keep up with must not run forever either. */
	if (k_uptime_get() > storm_deadline) {
		k_timer_stop(timer);
	}
}

static K_TIMER_DEFINE(storm, storm_expiry, NULL);

struct incrementer {
	const struct counter_ops *ops;
	int64_t deadline;
	uint32_t share;
	uint32_t done;
	uint32_t cpus;
};

K_THREAD_STACK_ARRAY_DEFINE(stacks, CONFIG_MP_MAX_NUM_CPUS, STACK_SIZE);
static struct k_thread threads[CONFIG_MP_MAX_NUM_CPUS];
static struct incrementer incrementers[CONFIG_MP_MAX_NUM_CPUS];
/* Released once every thread is pinned and started: they begin together. */
static K_SEM_DEFINE(go, 0, CONFIG_MP_MAX_NUM_CPUS);

static void incrementer_entry(void *p1, void *p2, void *p3)
{
	struct incrementer *inc = p1;

	ARG_UNUSED(p2);
	ARG_UNUSED(p3);
	k_sem_take(&go, K_FOREVER);
	inc->cpus = BIT(test_cpu_id());
	while (inc->done < inc->share || isr_increments < MIN_ISR_INCREMENTS) {
		inc->ops->increment(inc->ops->counter);
		inc->done++;
		if ((inc->done % CLOCK_EVERY) == 0 && k_uptime_get() > inc->deadline) {
			break;
		}
	}
	inc->cpus |= BIT(test_cpu_id());
}

/* Returns the number of updates lost. */
static uint32_t run_storm(const struct counter_ops *ops)
{
	unsigned int cpus = arch_num_cpus();
	uint32_t expected, counted, by_threads = 0;

	storm_target = *ops;
	isr_increments = 0;
	isr_context_clear(&isr_context);
	for (unsigned int c = 0; c < cpus; c++) {
		incrementers[c] = (struct incrementer){
			.ops = ops,
			.deadline = k_uptime_get() + RUN_BOUND_MS,
			.share = THREAD_INCREMENTS / cpus,
		};
		test_thread_start_on(c, &threads[c], stacks[c], STACK_SIZE, incrementer_entry,
				     &incrementers[c], NULL, NULL, K_PRIO_PREEMPT(5));
	}
	storm_deadline = k_uptime_get() + RUN_BOUND_MS;
	k_timer_start(&storm, K_USEC(100), K_USEC(100));
	for (unsigned int c = 0; c < cpus; c++) {
		k_sem_give(&go);
	}
	for (unsigned int c = 0; c < cpus; c++) {
		zassert_ok(test_thread_join(&threads[c], K_MSEC(RUN_BOUND_MS + 10000)),
			   "incrementer %u hung", c);
	}
	k_timer_stop(&storm);

	expected = isr_increments;
	for (unsigned int c = 0; c < cpus; c++) {
		TC_PRINT("thread on CPU %u: %u increments, ran on CPU mask 0x%x\n", c,
			 incrementers[c].done, incrementers[c].cpus);
		zassert_equal(incrementers[c].cpus, BIT(c), "thread %u left its CPU", c);
		by_threads += incrementers[c].done;
	}
	expected += by_threads;
	counted = ops->read(ops->counter);
	TC_PRINT("threads %u + isr %u (on CPU mask 0x%x) = %u, counter %u, lost %u\n", by_threads,
		 isr_increments, (uint32_t)atomic_get(&isr_context.cpus), expected, counted,
		 expected - counted);
	zassert_true(isr_increments >= MIN_ISR_INCREMENTS,
		     "the storm must actually interrupt the threads");
	zassert_equal(atomic_get(&isr_context.outside_isr), 0, "expiry outside interrupt context");
	return expected - counted;
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
		     "the unsynchronised counter should have lost an update");
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
