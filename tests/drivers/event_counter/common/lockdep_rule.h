/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * With CONFIG_EVENT_COUNTER_LOCKDEP (every suite's default, debug scenario),
 * the driver's lock validator watches every lock the driver takes while the
 * suite runs (seed 000 step 3, Validate with Lockdep; after Linux lockdep).
 * This rule checks after each test that it has reported nothing: the driver
 * is lockdep-clean under everything the suite does. The first test after a
 * report fails (ztest cannot fail a test from a rule, so the run stops there
 * with the report printed).
 */

#ifndef EVENT_COUNTER_TEST_LOCKDEP_RULE_H_
#define EVENT_COUNTER_TEST_LOCKDEP_RULE_H_

#ifdef CONFIG_EVENT_COUNTER_LOCKDEP

#include <zephyr/ztest.h>

#include <drivers/event_counter_lockdep.h>

static void event_counter_lockdep_after_each(const struct ztest_unit_test *test, void *data)
{
	static char last[400];
	int reports = event_counter_lockdep_report_count();

	ARG_UNUSED(data);
	if (reports != 0) {
		(void)event_counter_lockdep_last_report(last, sizeof(last));
	}
	zassert_equal(reports, 0, "lockdep: %d report(s) by the end of %s, last: %s", reports,
		      test->name, last);
}

ZTEST_RULE(event_counter_lockdep_clean, NULL, event_counter_lockdep_after_each);

#endif /* CONFIG_EVENT_COUNTER_LOCKDEP */

#endif /* EVENT_COUNTER_TEST_LOCKDEP_RULE_H_ */
