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
	join_helper(1);
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
	join_helper(1);
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

/* ---- Two CPUs at once (seeds 002/003: SMP) ----------------------------
 *
 * The gate's in-flight count (crates/racefree/src/gate.rs: begin/end with
 * Acquire/Release, close waiting for the drain) and the revocable's user
 * count (revocable.rs: remove revokes the hardware binding and waits for its
 * users, restore refills it) rely on memory orderings that a uniprocessor
 * gives for free: there, one CPU sees its own writes in order. On the SMP
 * target a worker on CPU 0 makes every gated call on the timer device while a
 * worker on the other CPU closes, opens, removes and restores the same device,
 * truly at the same time, with the timer's events arriving meanwhile. Every
 * result must be one the header documents for that situation, and everything
 * reconciles at the end. On a uniprocessor both workers share CPU 0 and
 * yield to each other.
 */
#define XCPU_STACK_SIZE 2048
#define XCPU_BUDGET_MS  1500
#define XCPU_CALLS_MAX  200000
#define XCPU_CYCLES_MAX 4000
#define XCPU_JOIN_BOUND K_MSEC(XCPU_BUDGET_MS + 10000)
/* Unexpected results kept for the report. */
#define XCPU_LOG 8

K_THREAD_STACK_DEFINE(xcpu_stack_a, XCPU_STACK_SIZE);
K_THREAD_STACK_DEFINE(xcpu_stack_b, XCPU_STACK_SIZE);
static struct k_thread xcpu_thread_a, xcpu_thread_b;

/* Result kinds counted per worker. */
enum xcpu_kind {
	XK_OK,        /* 0, or a count >= 0 */
	XK_EBADF,
	XK_ENODEV,
	XK_EBUSY,
	XK_EALREADY,
	XK_EAGAIN,
	XK_ETIMEDOUT,
	XK_OTHER,
	XK_KINDS,
};

static const char *const xcpu_kind_name[XK_KINDS] = {
	"ok", "EBADF", "ENODEV", "EBUSY", "EALREADY", "EAGAIN", "ETIMEDOUT", "other",
};

struct xcpu_worker {
	uint32_t iterations;
	uint32_t cpus; /* bit per CPU the worker ran on */
	uint32_t kinds[XK_KINDS];
	uint32_t unexpected;
	struct {
		char call;
		int ret;
		uint32_t iteration;
	} log[XCPU_LOG];
};

static struct xcpu_worker xcpu_a, xcpu_b;
static volatile bool xcpu_stop;
static int64_t xcpu_deadline;
static struct event_counter_settings xcpu_settings;
/* Worker A's read-side checks. */
static uint32_t xcpu_events_read, xcpu_seq_back, xcpu_stats_back;
static uint32_t xcpu_last_seq;
static bool xcpu_have_seq;
/* Worker B's transitions that succeeded. */
static uint32_t xcpu_opens, xcpu_closes, xcpu_removes, xcpu_restores;

static enum xcpu_kind xcpu_kind_of(int ret)
{
	switch (ret) {
	case -EBADF:
		return XK_EBADF;
	case -ENODEV:
		return XK_ENODEV;
	case -EBUSY:
		return XK_EBUSY;
	case -EALREADY:
		return XK_EALREADY;
	case -EAGAIN:
		return XK_EAGAIN;
	case -ETIMEDOUT:
		return XK_ETIMEDOUT;
	default:
		return ret >= 0 ? XK_OK : XK_OTHER;
	}
}

/* Counts `ret` and checks it is one of the kinds in `allowed` (bit per kind). */
static void xcpu_check(struct xcpu_worker *w, char call, int ret, uint32_t allowed)
{
	enum xcpu_kind kind = xcpu_kind_of(ret);

	w->kinds[kind]++;
	if ((allowed & BIT(kind)) == 0) {
		if (w->unexpected < XCPU_LOG) {
			w->log[w->unexpected].call = call;
			w->log[w->unexpected].ret = ret;
			w->log[w->unexpected].iteration = w->iterations;
		}
		w->unexpected++;
	}
}

static bool xcpu_running(const struct xcpu_worker *w, uint32_t max)
{
	return w->iterations < max && k_uptime_get() < xcpu_deadline;
}

/* Worker A (CPU 0): the calls that go through the gate (read, wait,
 * configure) and the hardware binding (configure), plus the counters. It
 * never closes, opens or removes: whatever it gets is worker B's doing. No
 * suspend happens here, so -EAGAIN only ever means "K_NO_WAIT, nothing
 * pending" (wait).
 */
static void xcpu_gated_calls(void *p1, void *p2, void *p3)
{
	struct xcpu_worker *w = &xcpu_a;
	struct event_counter_stats prev = {0}, s;
	struct event_counter_event ev[4];

	ARG_UNUSED(p1);
	ARG_UNUSED(p2);
	ARG_UNUSED(p3);
	while (!xcpu_stop && xcpu_running(w, XCPU_CALLS_MAX)) {
		int ret;

		w->cpus |= BIT(test_cpu_id());
		ret = event_counter_read(ticks_dev, ev, ARRAY_SIZE(ev));
		xcpu_check(w, 'r', ret, BIT(XK_OK) | BIT(XK_EBADF) | BIT(XK_ENODEV));
		for (int i = 0; i < ret; i++) {
			/* The only reader: sequences only go up (Acquire on admission). */
			if (xcpu_have_seq && (int32_t)(ev[i].sequence - xcpu_last_seq) <= 0) {
				xcpu_seq_back++;
			}
			xcpu_last_seq = ev[i].sequence;
			xcpu_have_seq = true;
			xcpu_events_read++;
		}
		ret = event_counter_wait(ticks_dev, K_NO_WAIT);
		xcpu_check(w, 'w', ret,
			   BIT(XK_OK) | BIT(XK_EAGAIN) | BIT(XK_EBADF) | BIT(XK_ENODEV));
		if (ret == 0) {
			/* wait's success is a pending count, never 0 */
			xcpu_check(w, 'W', -EINVAL, 0);
		}
		ret = event_counter_configure(ticks_dev, &xcpu_settings);
		xcpu_check(w, 'c', ret, BIT(XK_OK) | BIT(XK_EBADF) | BIT(XK_ENODEV));
		ret = event_counter_get_stats(ticks_dev, &s);
		xcpu_check(w, 's', ret, BIT(XK_OK));
		if (ret == 0) {
			/* Counters only grow, as one observer sees them. */
			if (s.seen < prev.seen || s.ignored < prev.ignored || s.read < prev.read ||
			    s.dropped < prev.dropped) {
				xcpu_stats_back++;
			}
			prev = s;
		}
		w->iterations++;
		if ((w->iterations % 8) == 0) {
			k_yield(); /* a uniprocessor's worker B */
		}
	}
}

/* Restores until the device is back; -EBUSY while calls from before the
 * removal are still in flight. Bounded by tries and by time.
 */
static int xcpu_restore(struct xcpu_worker *w)
{
	int64_t until = k_uptime_get() + 500;
	int ret;

	for (int tries = 0; tries < 100000; tries++) {
		ret = event_counter_restore(ticks_dev);
		xcpu_check(w, 'R', ret, BIT(XK_OK) | BIT(XK_EBUSY));
		if (ret != -EBUSY || k_uptime_get() > until) {
			break;
		}
		k_yield();
	}
	return ret;
}

/* Worker B (the other CPU): the lifecycle transitions on the same device. */
static void xcpu_transitions(void *p1, void *p2, void *p3)
{
	struct xcpu_worker *w = &xcpu_b;

	ARG_UNUSED(p1);
	ARG_UNUSED(p2);
	ARG_UNUSED(p3);
	while (xcpu_running(w, XCPU_CYCLES_MAX)) {
		uint32_t i = w->iterations;
		enum event_counter_close_policy policy =
			(i & 1) ? EVENT_COUNTER_CLOSE_PROCEED : EVENT_COUNTER_CLOSE_FAIL_IF_BUSY;
		int ret;

		w->cpus |= BIT(test_cpu_id());
		/* -EBUSY: still open (a refused close), or a PROCEED close left calls
		 * in flight.
		 */
		ret = event_counter_open(ticks_dev);
		xcpu_check(w, 'o', ret, BIT(XK_OK) | BIT(XK_EBUSY));
		xcpu_opens += (ret == 0);
		/* Keep the session open for a while: worker A's calls get in, and
		 * now and then the timer (1 ms) delivers events.
		 */
		if ((i % 8) == 0) {
			k_msleep(3);
		} else {
			k_busy_wait((i % 4) * 20);
			k_yield();
		}
		/* 0; -EBUSY only under FAIL_IF_BUSY (calls in flight at the
		 * timeout); -EBADF if the open above found it closed with calls in
		 * flight. No other thread closes: -EALREADY would be a bug.
		 */
		ret = event_counter_close(ticks_dev, (i & 2) ? K_TICKS(1) : K_NO_WAIT, policy);
		xcpu_check(w, 'C', ret,
			   BIT(XK_OK) | BIT(XK_EBADF) |
				   (policy == EVENT_COUNTER_CLOSE_FAIL_IF_BUSY ? BIT(XK_EBUSY)
									       : 0));
		xcpu_closes += (ret == 0);
		if ((i % 4) == 3) {
			/* Hot-unplug under worker A's calls: 0, or -ETIMEDOUT with a
			 * configure still holding the binding (removed all the same).
			 */
			ret = event_counter_remove(ticks_dev, (i & 4) ? K_TICKS(1) : K_NO_WAIT);
			xcpu_check(w, 'x', ret, BIT(XK_OK) | BIT(XK_ETIMEDOUT));
			xcpu_removes += (ret == 0 || ret == -ETIMEDOUT);
			xcpu_check(w, 'O', event_counter_open(ticks_dev), BIT(XK_ENODEV));
			xcpu_check(w, 'X', event_counter_remove(ticks_dev, K_NO_WAIT),
				   BIT(XK_ENODEV));
			k_yield();
			if (xcpu_restore(w) == 0) {
				xcpu_restores++;
				xcpu_check(w, 'A', event_counter_restore(ticks_dev),
					   BIT(XK_EALREADY));
			}
		}
		w->iterations++;
	}
	xcpu_stop = true;
}

static void xcpu_print(const char *name, const struct xcpu_worker *w)
{
	TC_PRINT("%s: %u iterations, CPU mask 0x%x, results:", name, w->iterations, w->cpus);
	for (int k = 0; k < XK_KINDS; k++) {
		TC_PRINT(" %s %u", xcpu_kind_name[k], w->kinds[k]);
	}
	TC_PRINT(", unexpected %u\n", w->unexpected);
	for (uint32_t i = 0; i < MIN(w->unexpected, XCPU_LOG); i++) {
		TC_PRINT("  unexpected: call '%c' returned %d at iteration %u\n", w->log[i].call,
			 w->log[i].ret, w->log[i].iteration);
	}
}

ZTEST(event_counter_lifecycle, test_cross_cpu_gate_and_revocable)
{
	const unsigned int cpu_a = 0;
	const unsigned int cpu_b = TEST_OTHER_CPU;
	struct event_counter_event ev[8];
	struct event_counter_stats s0, s1;
	uint32_t gen0, gen1;
	int ret, n;

	/* Present and closed, with its settings to re-apply. */
	ret = event_counter_open(ticks_dev);
	zassert_true(ret == 0 || ret == -EBUSY, "open %d", ret);
	zassert_ok(event_counter_get_settings(ticks_dev, &xcpu_settings));
	zassert_true(xcpu_settings.enabled, "the timer device counts");
	zassert_ok(event_counter_close(ticks_dev, K_FOREVER, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	k_msleep(2); /* an expiry on its way when the timer stopped lands */
	gen0 = z_event_counter_source_generated(ticks_dev);
	zassert_ok(event_counter_get_stats(ticks_dev, &s0));

	xcpu_a = (struct xcpu_worker){0};
	xcpu_b = (struct xcpu_worker){0};
	xcpu_stop = false;
	xcpu_events_read = xcpu_seq_back = xcpu_stats_back = 0;
	xcpu_have_seq = false;
	xcpu_opens = xcpu_closes = xcpu_removes = xcpu_restores = 0;
	xcpu_deadline = k_uptime_get() + XCPU_BUDGET_MS;
	test_thread_start_on(cpu_a, &xcpu_thread_a, xcpu_stack_a, XCPU_STACK_SIZE,
			     xcpu_gated_calls, NULL, NULL, NULL, K_PRIO_PREEMPT(5));
	test_thread_start_on(cpu_b, &xcpu_thread_b, xcpu_stack_b, XCPU_STACK_SIZE,
			     xcpu_transitions, NULL, NULL, NULL, K_PRIO_PREEMPT(5));
	ret = test_thread_join(&xcpu_thread_b, XCPU_JOIN_BOUND);
	xcpu_stop = true;
	zassert_ok(ret, "worker B (transitions) hung");
	zassert_ok(test_thread_join(&xcpu_thread_a, XCPU_JOIN_BOUND), "worker A (calls) hung");

	xcpu_print("worker A (read/wait/configure/stats)", &xcpu_a);
	xcpu_print("worker B (open/close/remove/restore)", &xcpu_b);
	TC_PRINT("B: %u opens, %u closes, %u removes, %u restores; A: %u events read\n",
		 xcpu_opens, xcpu_closes, xcpu_removes, xcpu_restores, xcpu_events_read);

	zassert_true(xcpu_a.iterations > 0 && xcpu_b.iterations > 0, "both workers ran");
	zassert_equal(xcpu_a.cpus, BIT(cpu_a), "worker A ran on CPU mask 0x%x, not CPU %u",
		      xcpu_a.cpus, cpu_a);
	zassert_equal(xcpu_b.cpus, BIT(cpu_b), "worker B ran on CPU mask 0x%x, not CPU %u",
		      xcpu_b.cpus, cpu_b);
	zassert_equal(xcpu_a.unexpected, 0, "worker A: %u undocumented results",
		      xcpu_a.unexpected);
	zassert_equal(xcpu_b.unexpected, 0, "worker B: %u undocumented results",
		      xcpu_b.unexpected);
	zassert_equal(xcpu_seq_back, 0, "sequence went back %u times", xcpu_seq_back);
	zassert_equal(xcpu_stats_back, 0, "counters went back %u times", xcpu_stats_back);
	zassert_equal(xcpu_removes, xcpu_restores, "every removal restored");

	/* Present (every removal was restored); close whatever session is left. */
	ret = event_counter_close(ticks_dev, K_FOREVER, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY);
	zassert_true(ret == 0 || ret == -EBADF, "final close %d", ret);
	/* Nothing left in flight, no driver-level attachment leaked: it opens. */
	zassert_ok(event_counter_open(ticks_dev), "reopen after the storm");
	while ((n = event_counter_read(ticks_dev, ev, ARRAY_SIZE(ev))) > 0) {
		for (int i = 0; i < n; i++) {
			zassert_true(!xcpu_have_seq || (int32_t)(ev[i].sequence - xcpu_last_seq) > 0,
				     "sequence went back after the storm");
			xcpu_last_seq = ev[i].sequence;
			xcpu_have_seq = true;
		}
	}
	zassert_ok(event_counter_close(ticks_dev, K_FOREVER, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY));
	k_msleep(2);
	gen1 = z_event_counter_source_generated(ticks_dev);
	zassert_ok(event_counter_get_stats(ticks_dev, &s1));
	TC_PRINT("timer: %u expiries = %u seen + %u ignored; read %u, dropped %u, pending %u\n",
		 gen1 - gen0, s1.seen - s0.seen, s1.ignored - s0.ignored, s1.read - s0.read,
		 s1.dropped - s0.dropped, s1.pending);
	zassert_true(s1.seen - s0.seen > 0, "the timer delivered events meanwhile");
	zassert_equal(s1.seen, s1.read + s1.dropped + s1.pending, "counts reconcile");
	zassert_equal(s1.pending, 0, "drained");
	zassert_equal(gen1 - gen0, (s1.seen - s0.seen) + (s1.ignored - s0.ignored),
		      "every expiry seen or ignored");
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
