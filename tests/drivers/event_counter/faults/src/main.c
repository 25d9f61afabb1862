/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Seeded fault injection (the reliability issue):
 *
 *  - removal during every blocking call: a waiter with K_FOREVER and with a
 *    timeout, a close with a timeout while an operation is in flight (both
 *    policies), a notify whose sink is blocked;
 *  - sink faults: a sink that fails with a random errno, one that blocks past
 *    the close budget, one that re-enters the driver (configure, read,
 *    get_stats, close, remove, restore on its own device);
 *  - an open/close/remove/restore storm from several threads on the timer
 *    device while GPIO edges are raised in interrupt context at a high rate
 *    (test_irq.h: a spare NVIC line on Cortex-M, irq_offload on RISC-V).
 *
 * Every scenario is bounded: each call that may block runs in a helper
 * thread joined with a bound (a helper that does not finish fails the test,
 * it never runs into the twister timeout). Every count reconciles exactly.
 *
 * Every random choice comes from a xorshift32 generator seeded with
 * FAULTS_SEED (override with -DFAULTS_SEED=n through EXTRA_CFLAGS); each
 * test reseeds it from FAULTS_SEED and its own number and prints the seed.
 * Under QEMU's -icount a run is deterministic for a given seed and image.
 */

#include <zephyr/irq.h>
#include <zephyr/ztest.h>

#include "test_common.h"
#include "test_irq.h"

#ifndef FAULTS_SEED
#define FAULTS_SEED 20260311u
#endif

#define STACK_SIZE 2048
#define SLOTS      6
/* Bound on every helper thread: far above any timeout used here. */
#define JOIN_BOUND K_SECONDS(5)
/* Bound on a blocked sink: above JOIN_BOUND would hide a missing release. */
#define SINK_BOUND K_SECONDS(3)
#define RESTORE_TRIES 1000
/* Emulated duration of the storm. */
#define STORM_MS   6000

/* ---- seeded generator ------------------------------------------------- */

static uint32_t rng_state;

static uint32_t xorshift32(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static uint32_t rng(void)
{
	return xorshift32(&rng_state);
}

/* Uniform-enough in [0, n). */
static uint32_t rnd(uint32_t n)
{
	return rng() % n;
}

/* A random timeout of 0..max_ms milliseconds (0 is K_NO_WAIT). */
static k_timeout_t rnd_ms(uint32_t max_ms)
{
	return K_MSEC(rnd(max_ms + 1));
}

static void seed_test(uint32_t test_no, const char *name)
{
	rng_state = FAULTS_SEED ^ (0x9e3779b9u * test_no);
	if (rng_state == 0) {
		rng_state = 1;
	}
	TC_PRINT("faults seed: %u (FAULTS_SEED, %s stream %u)\n", (unsigned int)FAULTS_SEED, name,
		 test_no);
}

/* ---- bounded helper threads ------------------------------------------- */

K_THREAD_STACK_ARRAY_DEFINE(stacks, SLOTS, STACK_SIZE);
static struct k_thread threads[SLOTS];
static bool created[SLOTS];

struct call {
	int (*fn)(struct call *c);
	const struct device *dev;
	k_timeout_t timeout;
	enum event_counter_close_policy policy;
	volatile int result;
	volatile bool done;
};

static void call_entry(void *p1, void *p2, void *p3)
{
	struct call *c = p1;

	ARG_UNUSED(p2);
	ARG_UNUSED(p3);
	c->result = c->fn(c);
	c->done = true;
}

static void start_thread(int slot, k_thread_entry_t entry, void *arg, int prio)
{
	created[slot] = true;
	k_thread_create(&threads[slot], stacks[slot], STACK_SIZE, entry, arg, NULL, NULL, prio, 0,
			K_NO_WAIT);
}

static void start_call(int slot, struct call *c, int prio)
{
	c->done = false;
	c->result = INT32_MIN;
	start_thread(slot, call_entry, c, prio);
}

/* A thread that does not finish within the bound fails the test. */
static void join_bounded(int slot, k_timeout_t bound, const char *what)
{
	int ret = test_thread_join(&threads[slot], bound);

	if (ret != 0) {
		k_thread_abort(&threads[slot]);
		created[slot] = false;
		zassert_ok(ret, "%s: helper thread did not finish in time (hang)", what);
	}
	created[slot] = false;
}

/* Runs `c` in helper `slot` and waits for it, bounded. */
static int run_bounded(int slot, struct call *c, int prio, const char *what)
{
	start_call(slot, c, prio);
	join_bounded(slot, JOIN_BOUND, what);
	return c->result;
}

static int call_wait(struct call *c)
{
	return event_counter_wait(c->dev, c->timeout);
}

static int call_close(struct call *c)
{
	return event_counter_close(c->dev, c->timeout, c->policy);
}

static int call_notify(struct call *c)
{
	return event_counter_notify(c->dev);
}

static int call_remove(struct call *c)
{
	return event_counter_remove(c->dev, c->timeout);
}

/* A random preemptible priority around the test thread's (5). */
static int rnd_prio(void)
{
	return K_PRIO_PREEMPT(3 + rnd(5));
}

/* Restores a removed device, retrying while calls from before the removal
 * are still leaving (-EBUSY), bounded.
 */
static int restore_retry(const struct device *dev, uint32_t *busy)
{
	int ret;
	int tries = 0;

	while ((ret = event_counter_restore(dev)) == -EBUSY && ++tries < RESTORE_TRIES) {
		if (busy != NULL) {
			(*busy)++;
		}
		k_msleep(1);
	}
	return ret;
}

/* ---- notification sink with injectable faults ------------------------- */

enum sink_mode {
	/* Signal `entered`, block on `release` (bounded), return `ret`. */
	SINK_BLOCK,
	/* Return `ret` at once. */
	SINK_RETURN,
	/* Run the re-entry script against the driver, then return `ret`. */
	SINK_REENTER,
};

enum action {
	ACT_CONFIGURE,
	ACT_READ,
	ACT_STATS,
	ACT_CLOSE,
	ACT_REMOVE,
	ACT_RESTORE,
	ACT_COUNT,
};

static const char *const action_names[ACT_COUNT] = {
	"configure", "read", "get_stats", "close", "remove", "restore",
};

#define MAX_ACTIONS 4

struct sink_ctl {
	enum sink_mode mode;
	int ret;
	uint32_t calls;
	uint32_t pending_arg;
	bool release_timed_out;
	/* Re-entry script and what each call returned. */
	int nactions;
	enum action action[MAX_ACTIONS];
	k_timeout_t timeout[MAX_ACTIONS];
	enum event_counter_close_policy policy[MAX_ACTIONS];
	struct event_counter_settings settings[MAX_ACTIONS];
	int result[MAX_ACTIONS];
	bool stats_reconciled[MAX_ACTIONS];
};

static struct sink_ctl sink;
static K_SEM_DEFINE(sink_entered, 0, 1);
static K_SEM_DEFINE(sink_release, 0, 1);

static int sink_fn(const struct device *dev, uint32_t pending, void *user_data)
{
	struct sink_ctl *s = user_data;

	s->calls++;
	s->pending_arg = pending;
	switch (s->mode) {
	case SINK_BLOCK:
		k_sem_give(&sink_entered);
		if (k_sem_take(&sink_release, SINK_BOUND) != 0) {
			s->release_timed_out = true;
		}
		return s->ret;
	case SINK_RETURN:
		return s->ret;
	case SINK_REENTER:
		break;
	}
	for (int i = 0; i < s->nactions; i++) {
		struct event_counter_event ev[8];
		struct event_counter_stats st;

		switch (s->action[i]) {
		case ACT_CONFIGURE:
			s->result[i] = event_counter_configure(dev, &s->settings[i]);
			break;
		case ACT_READ:
			s->result[i] = event_counter_read(dev, ev, ARRAY_SIZE(ev));
			break;
		case ACT_STATS:
			s->result[i] = event_counter_get_stats(dev, &st);
			s->stats_reconciled[i] = st.seen == st.read + st.dropped + st.pending;
			break;
		case ACT_CLOSE:
			s->result[i] = event_counter_close(dev, s->timeout[i], s->policy[i]);
			break;
		case ACT_REMOVE:
			s->result[i] = event_counter_remove(dev, s->timeout[i]);
			break;
		case ACT_RESTORE:
			s->result[i] = event_counter_restore(dev);
			break;
		default:
			s->result[i] = INT32_MIN;
			break;
		}
	}
	return s->ret;
}

static void sink_reset(enum sink_mode mode, int ret)
{
	sink = (struct sink_ctl){.mode = mode, .ret = ret};
	k_sem_reset(&sink_entered);
	k_sem_reset(&sink_release);
}

/* ---- edges device bookkeeping ----------------------------------------- */

static const struct event_counter_settings defaults = {
	.edge = EVENT_COUNTER_EDGE_RISING,
	.overflow = EVENT_COUNTER_OVERFLOW_DROP_NEWEST,
	.enabled = true,
};

/* What the edges device must have counted since the test began. */
struct expect {
	struct event_counter_stats s0;
	uint32_t pulsed;  /* pulses while open and enabled: each one is seen */
	uint32_t read;    /* events the test read */
};

static void expect_begin(struct expect *e)
{
	*e = (struct expect){0};
	zassert_ok(event_counter_get_stats(edges_dev, &e->s0));
}

static void pulse_counted(struct expect *e, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		pulse();
	}
	e->pulsed += n;
}

/* The device counts again: one pulse, exactly one event, the next sequence. */
static void check_counts_again(struct expect *e, const char *what, int round)
{
	struct event_counter_event ev[8];
	struct event_counter_stats s;
	int ret;

	zassert_ok(event_counter_get_stats(edges_dev, &s));
	zassert_equal(s.pending, 0, "%s round %d: %u events pending before the check", what,
		      round, s.pending);
	pulse_counted(e, 1);
	ret = event_counter_wait(edges_dev, K_NO_WAIT);
	zassert_equal(ret, 1, "%s round %d: wait after reopen: %d", what, round, ret);
	ret = event_counter_read(edges_dev, ev, ARRAY_SIZE(ev));
	zassert_equal(ret, 1, "%s round %d: read after reopen: %d", what, round, ret);
	e->read += 1;
	zassert_equal(ev[0].sequence, s.seen, "%s round %d: sequence %u, expected %u", what,
		      round, ev[0].sequence, s.seen);
}

/* Exact reconciliation of the edges device against what the test did. */
static void reconcile(struct expect *e, const char *what, int round)
{
	struct event_counter_stats s;

	zassert_ok(event_counter_get_stats(edges_dev, &s));
	zassert_equal(s.seen, s.read + s.dropped + s.pending,
		      "%s round %d: seen %u != read %u + dropped %u + pending %u", what, round,
		      s.seen, s.read, s.dropped, s.pending);
	zassert_equal(s.seen - e->s0.seen, e->pulsed, "%s round %d: seen %u, pulsed %u", what,
		      round, s.seen - e->s0.seen, e->pulsed);
	zassert_equal(s.ignored - e->s0.ignored, 0, "%s round %d: %u edges ignored", what, round,
		      s.ignored - e->s0.ignored);
	zassert_equal(s.read - e->s0.read, e->read, "%s round %d: read %u, test read %u", what,
		      round, s.read - e->s0.read, e->read);
	zassert_equal(s.dropped - e->s0.dropped, 0, "%s round %d: dropped", what, round);
}

/* Reads everything pending (the test knows how many there are). */
static void drain_counted(struct expect *e)
{
	struct event_counter_event ev[8];
	int n;

	while ((n = event_counter_read(edges_dev, ev, ARRAY_SIZE(ev))) > 0) {
		e->read += n;
	}
	zassert_equal(n, 0, "drain: %d", n);
}

static bool errno_in(int ret, const int *set, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ret == set[i]) {
			return true;
		}
	}
	return false;
}

#define ERRNO_IN(ret, ...)                                                                         \
	errno_in((ret), (const int[]){__VA_ARGS__}, ARRAY_SIZE(((const int[]){__VA_ARGS__})))

/* ---- 1. removal during each blocking call ----------------------------- */

enum blocking_kind {
	BLOCK_WAIT_FOREVER,
	BLOCK_WAIT_TIMEOUT,
	BLOCK_CLOSE_IN_FLIGHT,
	BLOCK_NOTIFY,
	BLOCK_KINDS,
};

static const char *const kind_names[BLOCK_KINDS] = {
	"wait(K_FOREVER)", "wait(timeout)", "close(in flight)", "notify(blocked sink)",
};

ZTEST(event_counter_faults, test_1_removal_during_blocking_calls)
{
	struct expect e;
	uint32_t rounds_done = 0, removal_timeouts = 0, restore_busy = 0;
	uint32_t results[BLOCK_KINDS][3] = {{0}};

	seed_test(1, "removal");
	expect_begin(&e);
	zassert_ok(event_counter_open(edges_dev));

	for (int kind = 0; kind < BLOCK_KINDS; kind++) {
		uint32_t rounds = 8 + rnd(8);

		for (uint32_t round = 0; round < rounds; round++) {
			struct call blocker = {.dev = edges_dev};
			struct call closer = {.dev = edges_dev, .fn = call_close};
			struct call remover = {.dev = edges_dev, .fn = call_remove};
			const char *what = kind_names[kind];
			bool op_in_flight = false;
			int ret;

			zassert_ok(event_counter_set_sink(edges_dev, sink_fn, &sink));
			sink_reset(SINK_BLOCK, (int)rnd(1000));

			switch (kind) {
			case BLOCK_WAIT_FOREVER:
				blocker.fn = call_wait;
				blocker.timeout = K_FOREVER;
				start_call(0, &blocker, rnd_prio());
				break;
			case BLOCK_WAIT_TIMEOUT:
				blocker.fn = call_wait;
				blocker.timeout = K_MSEC(1 + rnd(8));
				start_call(0, &blocker, rnd_prio());
				break;
			case BLOCK_CLOSE_IN_FLIGHT:
				/* An operation in flight: a notify whose sink blocks. */
				blocker.fn = call_notify;
				start_call(0, &blocker, rnd_prio());
				zassert_ok(k_sem_take(&sink_entered, K_SECONDS(1)),
					   "%s round %u: sink never ran", what, round);
				op_in_flight = true;
				closer.timeout = rnd_ms(10);
				closer.policy = rnd(2) ? EVENT_COUNTER_CLOSE_PROCEED
						       : EVENT_COUNTER_CLOSE_FAIL_IF_BUSY;
				start_call(1, &closer, rnd_prio());
				break;
			case BLOCK_NOTIFY:
				blocker.fn = call_notify;
				start_call(0, &blocker, rnd_prio());
				zassert_ok(k_sem_take(&sink_entered, K_SECONDS(1)),
					   "%s round %u: sink never ran", what, round);
				op_in_flight = true;
				break;
			default:
				break;
			}

			k_msleep(rnd(6));
			remover.timeout = rnd_ms(4);
			ret = run_bounded(2, &remover, K_PRIO_PREEMPT(5), "remove");
			if (op_in_flight) {
				/* The notify holds the binding: removal cannot drain. */
				zassert_equal(ret, -ETIMEDOUT,
					      "%s round %u: remove with a call in flight: %d", what,
					      round, ret);
			} else {
				zassert_true(ret == 0 || ret == -ETIMEDOUT,
					     "%s round %u: remove: %d", what, round, ret);
			}
			removal_timeouts += ret == -ETIMEDOUT;

			/* Edges while removed never reach the driver. */
			for (uint32_t i = rnd(3); i > 0; i--) {
				pulse();
			}

			/* Release what must be released, then join, bounded. */
			k_sem_give(&sink_release);
			join_bounded(0, JOIN_BOUND, what);
			if (kind == BLOCK_CLOSE_IN_FLIGHT) {
				join_bounded(1, JOIN_BOUND, "close");
			}
			zassert_false(sink.release_timed_out, "%s round %u: sink never released",
				      what, round);

			switch (kind) {
			case BLOCK_WAIT_FOREVER:
				/* Woken by the removal, or started after it. */
				zassert_equal(blocker.result, -ENODEV,
					      "%s round %u: waiter returned %d", what, round,
					      blocker.result);
				break;
			case BLOCK_WAIT_TIMEOUT:
				zassert_true(blocker.result == -ENODEV ||
						     blocker.result == -ETIMEDOUT,
					     "%s round %u: waiter returned %d", what, round,
					     blocker.result);
				results[kind][blocker.result == -ENODEV ? 0 : 1]++;
				break;
			case BLOCK_CLOSE_IN_FLIGHT:
				/* The sink ran while the device was removed under it. */
				zassert_equal(blocker.result, -EAGAIN,
					      "%s round %u: notify returned %d", what, round,
					      blocker.result);
				if (closer.policy == EVENT_COUNTER_CLOSE_PROCEED) {
					zassert_true(ERRNO_IN(closer.result, 0, -ENODEV),
						     "%s round %u: close(PROCEED, %u ms) returned %d",
						     what, round,
						     (uint32_t)k_ticks_to_ms_ceil32(
							     closer.timeout.ticks),
						     closer.result);
				} else {
					zassert_true(ERRNO_IN(closer.result, 0, -EBUSY, -ENODEV),
						     "%s round %u: close(FAIL_IF_BUSY, %u ms) returned "
						     "%d",
						     what, round,
						     (uint32_t)k_ticks_to_ms_ceil32(
							     closer.timeout.ticks),
						     closer.result);
				}
				results[kind][closer.result == 0 ? 0
								 : closer.result == -EBUSY ? 1 : 2]++;
				break;
			case BLOCK_NOTIFY:
				zassert_equal(blocker.result, -EAGAIN,
					      "%s round %u: notify returned %d", what, round,
					      blocker.result);
				break;
			default:
				break;
			}

			/* Every later call: -ENODEV until restored. */
			zassert_equal(event_counter_open(edges_dev), -ENODEV, "%s round %u", what,
				      round);
			ret = restore_retry(edges_dev, &restore_busy);
			zassert_ok(ret, "%s round %u: restore: %d", what, round, ret);
			/* Back but closed: the pin interrupt stays off until an open. */
			for (uint32_t i = rnd(3); i > 0; i--) {
				pulse();
			}
			ret = event_counter_open(edges_dev);
			zassert_ok(ret, "%s round %u: reopen: %d", what, round, ret);
			check_counts_again(&e, what, round);
			reconcile(&e, what, round);
			rounds_done++;
		}
	}
	zassert_ok(event_counter_set_sink(edges_dev, NULL, NULL));
	zassert_ok(event_counter_close(edges_dev, K_NO_WAIT, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	TC_PRINT("removal: %u rounds, %u removals timed out, %u restores busy; "
		 "wait(timeout) woken/expired %u/%u; close in flight 0/EBUSY/ENODEV %u/%u/%u; "
		 "edges pulsed %u read %u\n",
		 rounds_done, removal_timeouts, restore_busy, results[BLOCK_WAIT_TIMEOUT][0],
		 results[BLOCK_WAIT_TIMEOUT][1], results[BLOCK_CLOSE_IN_FLIGHT][0],
		 results[BLOCK_CLOSE_IN_FLIGHT][1], results[BLOCK_CLOSE_IN_FLIGHT][2], e.pulsed,
		 e.read);
}

/* ---- 2. sink faults ----------------------------------------------------- */

/* A sink that fails: notify returns exactly its errno. */
ZTEST(event_counter_faults, test_2a_sink_returns_errno)
{
	struct expect e;
	uint32_t rounds;

	seed_test(2, "sink errno");
	rounds = 16 + rnd(16);
	expect_begin(&e);
	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_set_sink(edges_dev, sink_fn, &sink));
	for (uint32_t round = 0; round < rounds; round++) {
		struct call notifier = {.dev = edges_dev, .fn = call_notify};
		int err = -(int)(1 + rnd(140));
		uint32_t pulses = rnd(4);
		int ret;

		sink_reset(SINK_RETURN, err);
		pulse_counted(&e, pulses);
		ret = run_bounded(0, &notifier, rnd_prio(), "notify");
		zassert_equal(ret, err, "round %u: sink returned %d, notify %d", round, err, ret);
		zassert_equal(sink.calls, 1, "round %u: sink called %u times", round, sink.calls);
		zassert_equal(sink.pending_arg, pulses, "round %u: sink saw %u pending, pulsed %u",
			      round, sink.pending_arg, pulses);
		drain_counted(&e);
		check_counts_again(&e, "sink errno", round);
		reconcile(&e, "sink errno", round);
	}
	zassert_ok(event_counter_close(edges_dev, K_NO_WAIT, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	TC_PRINT("sink errno: %u rounds, edges pulsed %u read %u\n", rounds, e.pulsed, e.read);
}

/* A sink that blocks past the close budget. */
ZTEST(event_counter_faults, test_2b_sink_blocks_past_close_budget)
{
	struct expect e;
	uint32_t rounds, busy = 0, proceeded = 0;

	seed_test(3, "sink blocks");
	rounds = 12 + rnd(12);
	expect_begin(&e);
	zassert_ok(event_counter_open(edges_dev));
	for (uint32_t round = 0; round < rounds; round++) {
		struct call notifier = {.dev = edges_dev, .fn = call_notify};
		struct call closer = {.dev = edges_dev, .fn = call_close};
		struct event_counter_event ev;
		int value = (int)rnd(1000);
		int ret;

		zassert_ok(event_counter_set_sink(edges_dev, sink_fn, &sink));
		sink_reset(SINK_BLOCK, value);
		start_call(0, &notifier, rnd_prio());
		zassert_ok(k_sem_take(&sink_entered, K_SECONDS(1)), "round %u: sink never ran",
			   round);
		closer.timeout = rnd_ms(8);
		closer.policy = rnd(2) ? EVENT_COUNTER_CLOSE_PROCEED : EVENT_COUNTER_CLOSE_FAIL_IF_BUSY;
		ret = run_bounded(1, &closer, rnd_prio(), "close");

		if (closer.policy == EVENT_COUNTER_CLOSE_FAIL_IF_BUSY) {
			zassert_equal(ret, -EBUSY, "round %u: close(FAIL_IF_BUSY) past budget: %d",
				      round, ret);
			busy++;
			/* Still open and usable while the sink blocks. */
			zassert_equal(event_counter_open(edges_dev), -EBUSY, "round %u", round);
			zassert_equal(event_counter_read(edges_dev, &ev, 1), 0, "round %u", round);
			check_counts_again(&e, "sink blocks (FAIL_IF_BUSY)", round);
			k_sem_give(&sink_release);
			join_bounded(0, JOIN_BOUND, "notify");
			zassert_equal(notifier.result, value,
				      "round %u: nothing changed under the sink: %d, expected %d",
				      round, notifier.result, value);
		} else {
			zassert_equal(ret, 0, "round %u: close(PROCEED) past budget: %d", round, ret);
			proceeded++;
			zassert_equal(event_counter_read(edges_dev, &ev, 1), -EBADF, "round %u",
				      round);
			zassert_equal(event_counter_open(edges_dev), -EBUSY,
				      "round %u: reopen while the abandoned notify runs", round);
			k_sem_give(&sink_release);
			join_bounded(0, JOIN_BOUND, "notify");
			zassert_equal(notifier.result, -EAGAIN,
				      "round %u: the device was closed under the sink: %d", round,
				      notifier.result);
			ret = event_counter_open(edges_dev);
			zassert_ok(ret, "round %u: reopen: %d", round, ret);
			check_counts_again(&e, "sink blocks (PROCEED)", round);
		}
		zassert_false(sink.release_timed_out, "round %u", round);
		reconcile(&e, "sink blocks", round);
	}
	zassert_ok(event_counter_set_sink(edges_dev, NULL, NULL));
	zassert_ok(event_counter_close(edges_dev, K_NO_WAIT, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	TC_PRINT("sink blocks: %u rounds (%u FAIL_IF_BUSY -> EBUSY, %u PROCEED -> 0/EAGAIN), "
		 "edges pulsed %u read %u\n",
		 rounds, busy, proceeded, e.pulsed, e.read);
}

enum model_state {
	MODEL_OPEN,
	MODEL_CLOSED,
	MODEL_REMOVED,
};

/* A sink that re-enters the driver on its own device. */
ZTEST(event_counter_faults, test_2c_sink_reenters_driver)
{
	struct expect e;
	uint32_t rounds, actions_run = 0, removed_rounds = 0, closed_rounds = 0;
	uint32_t per_action[ACT_COUNT] = {0};
	uint32_t overflow = EVENT_COUNTER_OVERFLOW_DROP_NEWEST;

	seed_test(4, "sink re-enters");
	rounds = 48 + rnd(32);
	expect_begin(&e);
	zassert_ok(event_counter_open(edges_dev));
	for (uint32_t round = 0; round < rounds; round++) {
		struct call notifier = {.dev = edges_dev, .fn = call_notify};
		enum model_state state = MODEL_OPEN;
		int expected[MAX_ACTIONS];
		uint32_t pending = rnd(4);
		bool changed = false;
		int ret;

		zassert_ok(event_counter_set_sink(edges_dev, sink_fn, &sink));
		sink_reset(SINK_REENTER, (int)rnd(1000));
		sink.nactions = 1 + (int)rnd(MAX_ACTIONS);
		pulse_counted(&e, pending);

		/* The script, and what the documentation says each call returns. */
		for (int i = 0; i < sink.nactions; i++) {
			enum action a = (enum action)rnd(ACT_COUNT);

			sink.action[i] = a;
			sink.timeout[i] = rnd_ms(3);
			sink.policy[i] = rnd(2) ? EVENT_COUNTER_CLOSE_PROCEED
						: EVENT_COUNTER_CLOSE_FAIL_IF_BUSY;
			/* Always a real change: the overflow policy flips. */
			sink.settings[i] = (struct event_counter_settings){
				.edge = rnd(2) ? EVENT_COUNTER_EDGE_RISING
					       : EVENT_COUNTER_EDGE_FALLING,
				.overflow = overflow ^ 1u,
				.enabled = rnd(2) != 0,
			};
			switch (state) {
			case MODEL_REMOVED:
				expected[i] = a == ACT_STATS     ? 0
					      : a == ACT_RESTORE ? -EBUSY /* own notify in flight */
								 : -ENODEV;
				break;
			case MODEL_CLOSED:
				switch (a) {
				case ACT_STATS:
					expected[i] = 0;
					break;
				case ACT_REMOVE:
					expected[i] = -ETIMEDOUT;
					state = MODEL_REMOVED;
					changed = true;
					break;
				case ACT_RESTORE:
					expected[i] = -EALREADY;
					break;
				default:
					expected[i] = -EBADF;
					break;
				}
				break;
			case MODEL_OPEN:
				switch (a) {
				case ACT_CONFIGURE:
					expected[i] = 0;
					overflow ^= 1u;
					changed = true;
					break;
				case ACT_READ:
					expected[i] = (int)pending;
					e.read += pending;
					pending = 0;
					break;
				case ACT_STATS:
					expected[i] = 0;
					break;
				case ACT_CLOSE:
					/* Its own notify is in flight and never drains. */
					if (sink.policy[i] == EVENT_COUNTER_CLOSE_PROCEED) {
						expected[i] = 0;
						state = MODEL_CLOSED;
						changed = true;
					} else {
						expected[i] = -EBUSY;
					}
					break;
				case ACT_REMOVE:
					expected[i] = -ETIMEDOUT;
					state = MODEL_REMOVED;
					changed = true;
					break;
				case ACT_RESTORE:
					expected[i] = -EALREADY;
					break;
				default:
					expected[i] = INT32_MIN;
					break;
				}
				break;
			}
		}

		ret = run_bounded(0, &notifier, rnd_prio(), "notify with re-entering sink");
		zassert_equal(sink.calls, 1, "round %u: sink called %u times", round, sink.calls);
		for (int i = 0; i < sink.nactions; i++) {
			zassert_equal(sink.result[i], expected[i],
				      "round %u: %s (#%d of %d) from the sink returned %d, "
				      "expected %d",
				      round, action_names[sink.action[i]], i, sink.nactions,
				      sink.result[i], expected[i]);
			if (sink.action[i] == ACT_STATS) {
				zassert_true(sink.stats_reconciled[i],
					     "round %u: stats in the sink do not reconcile", round);
			}
			per_action[sink.action[i]]++;
			actions_run++;
		}
		zassert_equal(ret, changed ? -EAGAIN : sink.ret,
			      "round %u: notify returned %d (sink %d, state changed: %d)", round,
			      ret, sink.ret, changed);

		/* Back to open, default settings; the device counts again. */
		if (state == MODEL_REMOVED) {
			removed_rounds++;
			ret = restore_retry(edges_dev, NULL);
			zassert_ok(ret, "round %u: restore after remove-from-sink: %d", round, ret);
		}
		if (state != MODEL_OPEN) {
			closed_rounds += state == MODEL_CLOSED;
			ret = event_counter_open(edges_dev);
			zassert_ok(ret, "round %u: reopen: %d", round, ret);
		}
		zassert_ok(event_counter_configure(edges_dev, &defaults));
		overflow = EVENT_COUNTER_OVERFLOW_DROP_NEWEST;
		drain_counted(&e);
		check_counts_again(&e, "sink re-enters", round);
		reconcile(&e, "sink re-enters", round);
	}
	zassert_ok(event_counter_set_sink(edges_dev, NULL, NULL));
	zassert_ok(event_counter_close(edges_dev, K_NO_WAIT, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	TC_PRINT("sink re-enters: %u rounds, %u calls from the sink (configure %u read %u "
		 "get_stats %u close %u remove %u restore %u), %u rounds removed, %u closed; "
		 "edges pulsed %u read %u\n",
		 rounds, actions_run, per_action[ACT_CONFIGURE], per_action[ACT_READ],
		 per_action[ACT_STATS], per_action[ACT_CLOSE], per_action[ACT_REMOVE],
		 per_action[ACT_RESTORE], removed_rounds, closed_rounds, e.pulsed, e.read);
}

/* ---- 3. open/close/remove storm under a GPIO interrupt storm ----------- */

static volatile uint32_t raised;
static volatile bool storm_stop;

static void storm_isr(const void *arg)
{
	ARG_UNUSED(arg);
	pulse();
	raised = raised + 1;
}

/* The first errno a thread did not expect, and how many it saw. */
struct unexpected {
	uint32_t count;
	int first;
	const char *op;
};

static void note_unexpected(struct unexpected *u, const char *op, int ret)
{
	if (u->count++ == 0) {
		u->first = ret;
		u->op = op;
	}
}

struct churner {
	uint32_t rng;
	/* How long this thread's sink sleeps: an operation kept in flight. */
	uint32_t sink_ms;
	uint32_t opens, closes, close_busy, reads, waits_ok, notifies, gone;
	struct unexpected bad;
};

static int sleepy_sink(const struct device *dev, uint32_t pending, void *user_data)
{
	const uint32_t *ms = user_data;

	ARG_UNUSED(dev);
	ARG_UNUSED(pending);
	k_msleep(*ms);
	return 0;
}

static void churner_entry(void *p1, void *p2, void *p3)
{
	struct churner *c = p1;
	struct event_counter_event ev[8];

	ARG_UNUSED(p2);
	ARG_UNUSED(p3);
	while (!storm_stop) {
		uint32_t r = xorshift32(&c->rng);
		int ret;

		switch (r % 6) {
		case 4:
			c->sink_ms = (r >> 8) % 5;
			ret = event_counter_set_sink(ticks_dev, sleepy_sink, &c->sink_ms);
			if (ret == -ENODEV) {
				c->gone++;
			} else if (ret != 0 && ret != -EBADF) {
				note_unexpected(&c->bad, "set_sink", ret);
			}
			break;
		case 5:
			/* The sink returns 0; -EAGAIN when the device changed under
			 * it, -EINVAL before any sink was installed.
			 */
			ret = event_counter_notify(ticks_dev);
			if (ret == 0) {
				c->notifies++;
			} else if (ret == -ENODEV) {
				c->gone++;
			} else if (ret != -EAGAIN && ret != -EINVAL && ret != -EBADF) {
				note_unexpected(&c->bad, "notify", ret);
			}
			break;
		case 0:
			ret = event_counter_open(ticks_dev);
			if (ret == 0) {
				c->opens++;
			} else if (ret == -ENODEV) {
				c->gone++;
			} else if (ret != -EBUSY) {
				note_unexpected(&c->bad, "open", ret);
			}
			break;
		case 1: {
			enum event_counter_close_policy policy =
				(r & 0x100) ? EVENT_COUNTER_CLOSE_PROCEED
					    : EVENT_COUNTER_CLOSE_FAIL_IF_BUSY;

			ret = event_counter_close(ticks_dev, K_MSEC((r >> 9) % 4), policy);
			if (ret == 0) {
				c->closes++;
			} else if (ret == -EBUSY && policy == EVENT_COUNTER_CLOSE_FAIL_IF_BUSY) {
				c->close_busy++;
			} else if (ret == -ENODEV) {
				c->gone++;
			} else if (ret != -EBADF && ret != -EALREADY) {
				note_unexpected(&c->bad, "close", ret);
			}
			break;
		}
		case 2:
			ret = event_counter_read(ticks_dev, ev, 1 + (r >> 8) % ARRAY_SIZE(ev));
			if (ret > 0) {
				c->reads += ret;
			} else if (ret == -ENODEV) {
				c->gone++;
			} else if (ret != 0 && ret != -EBADF) {
				note_unexpected(&c->bad, "read", ret);
			}
			break;
		default: {
			uint32_t ms = (r >> 8) % 6;

			ret = event_counter_wait(ticks_dev, K_MSEC(ms));
			if (ret > 0) {
				c->waits_ok++;
			} else if (ret == -ENODEV) {
				c->gone++;
			} else if (ret != -EBADF && ret != (ms == 0 ? -EAGAIN : -ETIMEDOUT)) {
				note_unexpected(&c->bad, "wait", ret);
			}
			break;
		}
		}
		k_msleep((r >> 16) % 3);
	}
}

struct remover {
	uint32_t rng;
	uint32_t removals, timeouts, restore_busy;
	struct unexpected bad;
};

static void remover_entry(void *p1, void *p2, void *p3)
{
	struct remover *rm = p1;

	ARG_UNUSED(p2);
	ARG_UNUSED(p3);
	while (!storm_stop) {
		int ret;

		k_msleep(1 + xorshift32(&rm->rng) % 20);
		ret = event_counter_remove(ticks_dev, K_MSEC(xorshift32(&rm->rng) % 4));
		if (ret == -ETIMEDOUT) {
			rm->timeouts++;
		} else if (ret != 0) {
			note_unexpected(&rm->bad, "remove", ret);
		}
		rm->removals++;
		k_msleep(xorshift32(&rm->rng) % 5);
		ret = restore_retry(ticks_dev, &rm->restore_busy);
		if (ret != 0) {
			note_unexpected(&rm->bad, "restore", ret);
			return;
		}
	}
}

struct reader {
	uint32_t rng;
	uint32_t read, out_of_order, last;
	bool have_last;
	struct unexpected bad;
};

static void reader_entry(void *p1, void *p2, void *p3)
{
	struct reader *rd = p1;
	struct event_counter_event ev[8];

	ARG_UNUSED(p2);
	ARG_UNUSED(p3);
	while (!storm_stop) {
		int ret = event_counter_wait(edges_dev, K_MSEC(1 + xorshift32(&rd->rng) % 5));

		if (ret == -ETIMEDOUT) {
			continue;
		}
		if (ret <= 0) {
			note_unexpected(&rd->bad, "wait", ret);
			k_msleep(1);
			continue;
		}
		ret = event_counter_read(edges_dev, ev, 1 + xorshift32(&rd->rng) % ARRAY_SIZE(ev));
		if (ret < 0) {
			note_unexpected(&rd->bad, "read", ret);
			continue;
		}
		for (int i = 0; i < ret; i++) {
			if (rd->have_last && (int32_t)(ev[i].sequence - rd->last) <= 0) {
				rd->out_of_order++;
			}
			rd->last = ev[i].sequence;
			rd->have_last = true;
		}
		rd->read += ret;
	}
}

static void assert_no_unexpected(const struct unexpected *u, const char *who)
{
	zassert_equal(u->count, 0, "%s saw %u unexpected results, first: %s returned %d", who,
		      u->count, u->count ? u->op : "-", u->count ? u->first : 0);
}

ZTEST(event_counter_faults, test_3_open_close_storm)
{
	/* Static: the sink installed by a churner points into its struct. */
	static struct churner churners[3];
	static struct remover rm;
	static struct reader rd;
	struct event_counter_stats e0, e1, t0, t1;
	struct event_counter_event ev[8];
	uint32_t tgen0, tgen1, nchurn, churn_reads = 0, final_reads = 0, bursts = 0;
	int64_t start;
	int ret, n;

	seed_test(5, "storm");
#if defined(CONFIG_SMP)
	/* Found by this test on qemu_riscv64/qemu_virt_riscv64/smp: Zephyr
	 * v4.0's thread-timeout handler races a wake-up from the other CPU
	 * (sys_clock_announce() drops its lock before z_thread_timeout()
	 * takes the scheduler's; a thread woken and pended again meanwhile is
	 * woken by the stale timeout, with its new one still queued), and the
	 * next timed k_sem_take() in Device::wait asserts
	 * "!sys_dnode_is_linked(&to->node)" in kernel/timeout.c. Upstream
	 * zephyrproject-rtos/zephyr#106653, fixed by #108452, after v4.0.0.
	 * This storm makes timed waits and wake-ups meet constantly; it stays
	 * for uniprocessors and for a Zephyr with the fix.
	 */
	ztest_test_skip();
#endif
	memset(churners, 0, sizeof(churners));
	rm = (struct remover){0};
	rd = (struct reader){0};
	nchurn = 2 + rnd(2);
	raised = 0;
	storm_stop = false;

	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_get_stats(edges_dev, &e0));
	zassert_ok(event_counter_get_stats(ticks_dev, &t0));
	tgen0 = z_event_counter_source_generated(ticks_dev);

	rd.rng = rng() | 1;
	rm.rng = rng() | 1;
	start_thread(0, reader_entry, &rd, rnd_prio());
	start_thread(1, remover_entry, &rm, rnd_prio());
	for (uint32_t i = 0; i < nchurn; i++) {
		churners[i].rng = rng() | 1;
		start_thread(2 + i, churner_entry, &churners[i], rnd_prio());
	}

	start = k_uptime_get();
	while (k_uptime_get() - start < STORM_MS) {
		uint32_t burst = 1 + rnd(24);

		for (uint32_t i = 0; i < burst; i++) {
			test_irq_run(storm_isr, NULL);
		}
		bursts++;
		if (rnd(2) == 0) {
			k_msleep(1);
		} else {
			k_yield();
		}
	}
	storm_stop = true;

	join_bounded(0, K_SECONDS(10), "edges reader");
	join_bounded(1, K_SECONDS(10), "remover");
	for (uint32_t i = 0; i < nchurn; i++) {
		join_bounded(2 + i, K_SECONDS(10), "open/close thread");
	}

	/* Edges device: open throughout; every raised interrupt seen. */
	while ((n = event_counter_read(edges_dev, ev, ARRAY_SIZE(ev))) > 0) {
		final_reads += n;
	}
	zassert_equal(n, 0, "edges drain: %d", n);
	zassert_ok(event_counter_close(edges_dev, K_SECONDS(1), EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	zassert_ok(event_counter_get_stats(edges_dev, &e1));
	TC_PRINT("storm edges: raised %u in %u bursts, seen %u ignored %u read %u+%u dropped %u "
		 "pending %u\n",
		 raised, bursts, e1.seen - e0.seen, e1.ignored - e0.ignored, rd.read, final_reads,
		 e1.dropped - e0.dropped, e1.pending);

	/* No thread saw an errno the documentation does not give. */
	assert_no_unexpected(&rd.bad, "edges reader");
	assert_no_unexpected(&rm.bad, "remover");
	for (uint32_t i = 0; i < nchurn; i++) {
		assert_no_unexpected(&churners[i].bad, "open/close thread");
	}

	/* Timer device: present (the remover restores before it leaves); close it. */
	ret = event_counter_open(ticks_dev);
	zassert_true(ret == 0 || ret == -EBUSY, "ticks reopen: %d", ret);
	n = 0;
	while ((ret = event_counter_read(ticks_dev, ev, ARRAY_SIZE(ev))) > 0) {
		n += ret;
	}
	zassert_equal(ret, 0, "ticks drain: %d", ret);
	zassert_ok(event_counter_set_sink(ticks_dev, NULL, NULL));
	zassert_ok(event_counter_close(ticks_dev, K_SECONDS(1), EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	tgen1 = z_event_counter_source_generated(ticks_dev);
	zassert_ok(event_counter_get_stats(ticks_dev, &t1));
	for (uint32_t i = 0; i < nchurn; i++) {
		churn_reads += churners[i].reads;
		TC_PRINT("storm churn %u: opens %u closes %u close-busy %u reads %u waits %u "
			 "notifies %u ENODEV %u\n",
			 i, churners[i].opens, churners[i].closes, churners[i].close_busy,
			 churners[i].reads, churners[i].waits_ok, churners[i].notifies,
			 churners[i].gone);
	}
	TC_PRINT("storm ticks: generated %u seen %u ignored %u read %u+%u dropped %u pending %u; "
		 "%u removals (%u timed out, %u restores busy)\n",
		 tgen1 - tgen0, t1.seen - t0.seen, t1.ignored - t0.ignored, churn_reads, n,
		 t1.dropped - t0.dropped, t1.pending, rm.removals, rm.timeouts, rm.restore_busy);

	zassert_equal(raised, (e1.seen - e0.seen) + (e1.ignored - e0.ignored),
		      "edges: raised %u != seen + ignored %u", raised,
		      (e1.seen - e0.seen) + (e1.ignored - e0.ignored));
	zassert_equal(e1.seen, e1.read + e1.dropped + e1.pending, "edges do not reconcile");
	zassert_equal(e1.read - e0.read, rd.read + final_reads, "edges reads unaccounted");
	zassert_equal(rd.out_of_order, 0, "edges sequence went back");
	zassert_true(raised > 0);

	zassert_equal(tgen1 - tgen0, (t1.seen - t0.seen) + (t1.ignored - t0.ignored),
		      "ticks: generated %u != seen + ignored %u", tgen1 - tgen0,
		      (t1.seen - t0.seen) + (t1.ignored - t0.ignored));
	zassert_equal(t1.seen, t1.read + t1.dropped + t1.pending, "ticks do not reconcile");
	zassert_equal(t1.read - t0.read, churn_reads + n, "ticks reads unaccounted");
	zassert_true(rm.removals > 0, "the remover never ran");
}

/* ---- 4. the driver-level open count reconciles too ------------------- */

/* Runs last (tests run in name order): the driver deinit is permanent. After
 * the faults above, with every device closed, the driver must count no open
 * device: an open, close or removal that lost track of it would leave the
 * count wrong and Deinit refused (-EBUSY) for ever.
 */
ZTEST(event_counter_faults, test_9_driver_deinit_after_faults)
{
	struct event_counter_stats s;
	int ret;

	seed_test(9, "deinit");
	/* before_each closed both devices; they are present and closed. */
	zassert_equal(event_counter_restore(edges_dev), -EALREADY);
	zassert_equal(event_counter_restore(ticks_dev), -EALREADY);
	zassert_equal(event_counter_close(edges_dev, K_NO_WAIT, EVENT_COUNTER_CLOSE_PROCEED),
		      -EBADF, "edges closed");
	zassert_equal(event_counter_close(ticks_dev, K_NO_WAIT, EVENT_COUNTER_CLOSE_PROCEED),
		      -EBADF, "ticks closed");
	ret = event_counter_driver_deinit();
	zassert_ok(ret, "no device is open, yet the driver deinit returned %d", ret);
	zassert_equal(event_counter_open(edges_dev), -ENODEV);
	zassert_ok(event_counter_get_stats(edges_dev, &s));
	zassert_equal(s.seen, s.read + s.dropped + s.pending);
}

/* ---- fixture ----------------------------------------------------------- */

static void before_each(void *fixture)
{
	ARG_UNUSED(fixture);
	(void)event_counter_restore(edges_dev);
	(void)event_counter_restore(ticks_dev);
	reset_device(edges_dev);
	reset_device(ticks_dev);
	k_sem_reset(&sink_entered);
	k_sem_reset(&sink_release);
}

/* A failed test may leave helpers behind: they must not outlive it. */
static void after_each(void *fixture)
{
	ARG_UNUSED(fixture);
	storm_stop = true;
	k_sem_give(&sink_release);
	for (int i = 0; i < SLOTS; i++) {
		if (created[i]) {
			k_thread_abort(&threads[i]);
			created[i] = false;
		}
	}
}

ZTEST_SUITE(event_counter_faults, NULL, NULL, before_each, after_each, NULL);
