/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The driver's lock validator on target (CONFIG_EVENT_COUNTER_LOCKDEP; seed
 * 000 step 3, Validate with Lockdep; after Linux lockdep's self-tests). Each
 * test commits one lock-usage bug on purpose through the suite's Rust test
 * locks (src/lib.rs), which use the driver's own validated backends, and
 * checks that exactly one report came and what it says. With the validator
 * off, every test fails: no report, count 0 (see the stubs below).
 */

#include <string.h>

#include <zephyr/irq_offload.h>
#include <zephyr/kernel.h>
#include <zephyr/ztest.h>

#include <drivers/event_counter_lockdep.h>

void lockdep_test_init(void);
void lockdep_test_a_then_b(void);
void lockdep_test_b_then_a(void);
void lockdep_test_mutex_under_spinlock(void);
void lockdep_test_recursion(void);
bool lockdep_test_mutex_in_isr(void);
void lockdep_test_assert_held(void);
bool lockdep_test_sem_take_under_spinlock(void);

#ifndef CONFIG_EVENT_COUNTER_LOCKDEP
/* Without the validator the driver has no lockdep API. Answer "nothing
 * reported", so that the suite still builds and runs, and fails: this is how
 * it shows that its tests detect a missing or broken validator.
 */
int event_counter_lockdep_report_count(void)
{
	return 0;
}

int event_counter_lockdep_last_report(char *buf, size_t len)
{
	if (len > 0) {
		buf[0] = '\0';
	}
	return -ENOENT;
}

int event_counter_lockdep_graph(char *buf, size_t len)
{
	if (len > 0) {
		buf[0] = '\0';
	}
	return 0;
}
#endif

static char text[400];
static char expected[200];

/* The current thread as the validator names it ("thread 0x20001234"). */
static const char *thread_name(k_tid_t thread)
{
	static char name[32];

	snprintk(name, sizeof(name), "thread 0x%lx", (unsigned long)(uintptr_t)thread);
	return name;
}

/* Exactly one report since `before`; returns its text. */
static const char *one_new_report(int before)
{
	int len;

	zassert_equal(event_counter_lockdep_report_count(), before + 1,
		      "expected exactly one new lockdep report (validator on?)");
	len = event_counter_lockdep_last_report(text, sizeof(text));
	zassert_true(len > 0 && len < (int)sizeof(text), "last report: %d", len);
	TC_PRINT("got: %s\n", text);
	return text;
}

static void expect_starts_with(const char *s, const char *prefix)
{
	zassert_equal(strncmp(s, prefix, strlen(prefix)), 0, "\"%s\" does not start with \"%s\"",
		      s, prefix);
}

static void expect_contains(const char *s, const char *part)
{
	zassert_not_null(strstr(s, part), "\"%s\" does not contain \"%s\"", s, part);
}

/* ---- inversion: A -> B in one thread, later B -> A in another --------- */

static K_THREAD_STACK_DEFINE(other_stack, 2048);
static struct k_thread other_thread;

static void other_entry(void *a, void *b, void *c)
{
	ARG_UNUSED(a);
	ARG_UNUSED(b);
	ARG_UNUSED(c);
	lockdep_test_a_then_b();
}

ZTEST(lockdep, test_lock_order_inversion)
{
	int before = event_counter_lockdep_report_count();
	const char *r;

	/* One order alone is fine; joined before the other order starts, so the
	 * two never overlap and nothing deadlocks.
	 */
	k_thread_create(&other_thread, other_stack, K_THREAD_STACK_SIZEOF(other_stack),
			other_entry, NULL, NULL, NULL, K_PRIO_PREEMPT(1), 0, K_NO_WAIT);
	zassert_ok(k_thread_join(&other_thread, K_FOREVER));
	zassert_equal(event_counter_lockdep_report_count(), before, "A -> B alone is no bug");
	zassert_true(event_counter_lockdep_graph(text, sizeof(text)) > 0);
	expect_contains(text, "\"lockdep_test::a\" -> \"lockdep_test::b\"\n");

	lockdep_test_b_then_a();
	r = one_new_report(before);
	expect_starts_with(r, "lockdep: lock-order inversion: ");
	snprintk(expected, sizeof(expected),
		 "%s acquires \"lockdep_test::a\" while holding \"lockdep_test::b\", "
		 "but \"lockdep_test::a\" -> \"lockdep_test::b\" was recorded by ",
		 thread_name(k_current_get()));
	expect_contains(r, expected);
	/* Recorded by the other thread, earlier. */
	snprintk(expected, sizeof(expected), "recorded by %s: possible ABBA deadlock",
		 thread_name(&other_thread));
	expect_contains(r, expected);

	/* Reported once: the same inversion again adds nothing. */
	lockdep_test_b_then_a();
	zassert_equal(event_counter_lockdep_report_count(), before + 1);
}

/* ---- a k_mutex under a k_spinlock -------------------------------------- */

ZTEST(lockdep, test_sleep_in_atomic_mutex_under_spinlock)
{
	int before = event_counter_lockdep_report_count();
	const char *r;

	lockdep_test_mutex_under_spinlock();
	r = one_new_report(before);
	snprintk(expected, sizeof(expected),
		 "lockdep: sleep in atomic context: thread-only lock \"lockdep_test::sleeper\" "
		 "may sleep in %s while holding isr-safe \"lockdep_test::spin\"",
		 thread_name(k_current_get()));
	zassert_str_equal(r, expected);
}

/* ---- recursion ---------------------------------------------------------- */

ZTEST(lockdep, test_recursive_lock)
{
	int before = event_counter_lockdep_report_count();
	const char *r;

	lockdep_test_recursion();
	r = one_new_report(before);
	snprintk(expected, sizeof(expected),
		 "lockdep: recursive locking: %s acquires \"lockdep_test::recursive\" (0x",
		 thread_name(k_current_get()));
	expect_starts_with(r, expected);
	expect_contains(r, "), which it already holds: self-deadlock");
}

/* ---- a thread-only lock in an ISR ------------------------------------- */

static volatile bool isr_locked;
/* The CPU the offloaded ISR ran on: on SMP it is the test thread's CPU at the
 * time of irq_offload(), which may be either one.
 */
static volatile unsigned int isr_cpu;

static void offload_handler(const void *arg)
{
	ARG_UNUSED(arg);
	isr_cpu = _current_cpu->id;
	isr_locked = lockdep_test_mutex_in_isr();
}

ZTEST(lockdep, test_thread_lock_from_isr)
{
	int before = event_counter_lockdep_report_count();
	const char *r;

	irq_offload(offload_handler, NULL);
	zassert_true(isr_locked, "the free lock was taken (and released) in the ISR");
	r = one_new_report(before);
	expect_starts_with(r, "lockdep: thread-only lock \"lockdep_test::isr_mutex\" acquired in "
			      "ISR level ");
	snprintk(expected, sizeof(expected), " on CPU %u", isr_cpu);
	expect_contains(r, expected);
}

/* ---- assert_held ------------------------------------------------------- */

ZTEST(lockdep, test_assert_held_fails)
{
	int before = event_counter_lockdep_report_count();
	const char *r;

	/* Held, then not held: only the second assertion fails. */
	lockdep_test_assert_held();
	r = one_new_report(before);
	expect_starts_with(r, "lockdep: assert_held failed at ");
	expect_contains(r, " at src/lib.rs:");
	snprintk(expected, sizeof(expected), ": \"lockdep_test::asserted\" is not held by %s",
		 thread_name(k_current_get()));
	expect_contains(r, expected);
}

/* ---- a semaphore take that may wait, under a k_spinlock ---------------- */

ZTEST(lockdep, test_sem_take_with_timeout_under_spinlock)
{
	int before = event_counter_lockdep_report_count();
	const char *r;

	/* K_NO_WAIT first (fine), then a 10 ms timeout (reported). */
	zassert_true(lockdep_test_sem_take_under_spinlock(), "both takes found a count");
	r = one_new_report(before);
	expect_starts_with(r, "lockdep: sleep in atomic context: semaphore take at ");
	expect_contains(r, " at src/lib.rs:");
	snprintk(expected, sizeof(expected),
		 " may sleep in %s while holding isr-safe \"lockdep_test::sem_spin\"",
		 thread_name(k_current_get()));
	expect_contains(r, expected);
}

static void *lockdep_setup(void)
{
	lockdep_test_init();
	return NULL;
}

ZTEST_SUITE(lockdep, NULL, lockdep_setup, NULL, NULL, NULL);
