/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The `event_counter` shell commands, driven with shell_execute_cmd() on the
 * dummy backend: every command's output and result, errors by errno name.
 */

#include <string.h>

#include <zephyr/shell/shell.h>
#include <zephyr/shell/shell_dummy.h>
#include <zephyr/ztest.h>

#include "test_common.h"

static const struct shell *sh;
static const char *out;

/* Runs one command; keeps its output in `out` and returns its result. */
static int run(const char *cmd)
{
	size_t len;

	shell_backend_dummy_clear_output(sh);
	int ret = shell_execute_cmd(sh, cmd);

	out = shell_backend_dummy_get_output(sh, &len);
	TC_PRINT("$ %s -> %d\n%s\n", cmd, ret, out);
	return ret;
}

#define zassert_output_has(text) zassert_not_null(strstr(out, text), "no \"%s\" in: %s", text, out)

static void *setup(void)
{
	sh = shell_backend_dummy_get_ptr();
	WAIT_FOR(shell_ready(sh), 20000, k_msleep(1));
	zassert_true(shell_ready(sh), "shell not ready");
	return NULL;
}

static void before_each(void *fixture)
{
	ARG_UNUSED(fixture);
	reset_device(edges_dev);
	reset_device(ticks_dev);
}

ZTEST(event_counter_shell, test_list_shows_every_instance)
{
	struct event_counter_stats before;
	char expect[96];

	zassert_ok(event_counter_open(edges_dev));
	zassert_ok(event_counter_get_stats(edges_dev, &before));
	pulse();
	pulse();
	zassert_ok(run("event_counter list"));
	snprintk(expect, sizeof(expect),
		 "event-counter-edges: open, gpio gpio-emul pin 0, depth 8, "
		 "seen %u ignored 0 read %u dropped 0 pending 2",
		 before.seen + 2, before.read);
	zassert_output_has(expect);
	zassert_output_has("event-counter-ticks: closed, timer 1000 us, depth 16, seen ");
}

ZTEST(event_counter_shell, test_open_read_stats_close)
{
	struct event_counter_stats before;
	char expect[64];

	zassert_ok(run("event_counter open event-counter-edges"));
	zassert_output_has("event-counter-edges: open");
	/* Sequence numbers run for the device's lifetime: start from its count. */
	zassert_ok(event_counter_get_stats(edges_dev, &before));
	pulse();
	pulse();
	pulse();
	zassert_ok(run("event_counter read event-counter-edges 2"));
	snprintk(expect, sizeof(expect), "#%u at cycle", before.seen);
	zassert_output_has(expect);
	snprintk(expect, sizeof(expect), "#%u at cycle", before.seen + 1);
	zassert_output_has(expect);
	zassert_output_has("2 event(s)");
	zassert_ok(run("event_counter stats event-counter-edges"));
	snprintk(expect, sizeof(expect), "seen %u ignored 0 read %u dropped 0 pending 1",
		 before.seen + 3, before.read + 2);
	zassert_output_has(expect);
	zassert_ok(run("event_counter read event-counter-edges"));
	snprintk(expect, sizeof(expect), "#%u at cycle", before.seen + 2);
	zassert_output_has(expect);
	zassert_output_has("1 event(s)");
	zassert_ok(run("event_counter close event-counter-edges"));
	zassert_output_has("event-counter-edges: closed");
}

ZTEST(event_counter_shell, test_configure_changes_and_prints_settings)
{
	struct event_counter_settings settings;

	zassert_ok(run("event_counter open event-counter-edges"));
	zassert_ok(run("event_counter configure event-counter-edges"));
	zassert_output_has("edge rising, overflow drop-newest, on");
	zassert_ok(run("event_counter configure event-counter-edges both drop-oldest off"));
	zassert_output_has("edge both, overflow drop-oldest, off");
	zassert_ok(event_counter_get_settings(edges_dev, &settings));
	zassert_equal(settings.edge, EVENT_COUNTER_EDGE_BOTH);
	zassert_equal(settings.overflow, EVENT_COUNTER_OVERFLOW_DROP_OLDEST);
	zassert_false(settings.enabled);
	zassert_equal(run("event_counter configure event-counter-edges sideways"), -EINVAL);
	zassert_output_has("sideways: not an edge");
}

ZTEST(event_counter_shell, test_errors_print_the_errno_name)
{
	zassert_equal(run("event_counter read event-counter-edges"), -EBADF);
	zassert_output_has("event-counter-edges: read: -EBADF (-9)");
	zassert_equal(run("event_counter close event-counter-edges"), -EBADF);
	zassert_output_has("-EBADF");
	zassert_ok(run("event_counter open event-counter-edges"));
	zassert_equal(run("event_counter open event-counter-edges"), -EBUSY);
	zassert_output_has("event-counter-edges: open: -EBUSY (-16)");
	zassert_equal(run("event_counter restore event-counter-edges"), -EALREADY);
	zassert_output_has("-EALREADY");
	zassert_equal(run("event_counter read event-counter-edges 0"), -EINVAL);
	zassert_output_has("count must be 1..32");
	zassert_equal(run("event_counter stats no-such-device"), -ENODEV);
	zassert_output_has("no-such-device: no such event-counter device");
}

ZTEST(event_counter_shell, test_remove_and_restore)
{
	zassert_ok(run("event_counter open event-counter-ticks"));
	zassert_ok(run("event_counter remove event-counter-ticks"));
	zassert_output_has("event-counter-ticks: removed");
	zassert_ok(run("event_counter list"));
	zassert_output_has("event-counter-ticks: removed, timer 1000 us");
	zassert_equal(run("event_counter open event-counter-ticks"), -ENODEV);
	zassert_output_has("-ENODEV");
	zassert_ok(run("event_counter restore event-counter-ticks"));
	zassert_output_has("event-counter-ticks: restored (closed)");
	zassert_ok(run("event_counter list"));
	zassert_output_has("event-counter-ticks: closed");
}

ZTEST(event_counter_shell, test_device_names_complete)
{
	/* Completion and help come from one dynamic set: every instance, by name. */
	(void)run("event_counter stats -h");
	zassert_output_has("event-counter-edges");
	zassert_output_has("event-counter-ticks");
	zassert_equal(run("event_counter stats"), -EINVAL, "the device is mandatory");
	zassert_equal(run("event_counter stats event-counter"), -ENODEV);
	zassert_ok(run("event_counter stats event-counter-ticks"));
	zassert_output_has(" ignored ");
}

ZTEST_SUITE(event_counter_shell, NULL, setup, before_each, NULL, NULL);
