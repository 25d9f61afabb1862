/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The bad-input table: every public C entry point against every kind of bad
 * input, with its documented result. The table below is the single source:
 * this suite asserts every row, and scripts/bad_input_table.py renders it
 * into README.md (and `--check` fails if README has drifted from it).
 */

#include <zephyr/irq_offload.h>
#include <zephyr/pm/device.h>
#include <zephyr/ztest.h>

#include "test_common.h"

static const struct device *const broken_dev = DEVICE_DT_GET(DT_NODELABEL(evc_broken));
static const struct device *const removed_dev = DEVICE_DT_GET(DT_NODELABEL(evc_removed));

enum state {
	ST_NULL,      /* NULL device pointer */
	ST_NOT_READY, /* init failed (GPIO controller not ready) */
	ST_REMOVED,   /* removed at run time */
	ST_CLOSED,    /* ready, not open */
	ST_OPEN,      /* open */
	ST_ISR,       /* open, called from interrupt context */
	ST_SUSPENDED_CLOSED, /* ready, not open, suspended (PM_DEVICE_ACTION_SUSPEND) */
	ST_SUSPENDED, /* open, then suspended */
};

enum op {
	OP_OPEN,
	OP_CLOSE,
	OP_CLOSE_BAD_POLICY,
	OP_CLOSE_ABSOLUTE,
	OP_READ,
	OP_READ_NULL,
	OP_READ_ZERO,
	OP_READ_OVERSIZED,
	OP_WAIT_NO_WAIT,
	OP_WAIT_1MS,
	OP_WAIT_ABSOLUTE,
	OP_CONFIGURE,
	OP_CONFIGURE_NULL,
	OP_CONFIGURE_BAD_EDGE,
	OP_CONFIGURE_BAD_OVERFLOW,
	OP_GET_SETTINGS,
	OP_GET_SETTINGS_NULL,
	OP_GET_STATS,
	OP_GET_STATS_NULL,
	OP_SET_SINK,
	OP_NOTIFY,
	OP_REMOVE,
	OP_REMOVE_ABSOLUTE,
	OP_RESTORE,
	OP_DRIVER_PRE_DEINIT,
	OP_DRIVER_DEINIT,
};

struct bad_input {
	enum state state;
	const char *entry;
	const char *input;
	int expected;
	enum op op;
};

/* clang-format off */
/* BEGIN BAD INPUT TABLE: one row per line, rendered into README.md */
static const struct bad_input table[] = {
	{ ST_NULL, "event_counter_open", "-", -ENODEV, OP_OPEN },
	{ ST_NULL, "event_counter_close", "-", -ENODEV, OP_CLOSE },
	{ ST_NULL, "event_counter_read", "-", -ENODEV, OP_READ },
	{ ST_NULL, "event_counter_wait", "-", -ENODEV, OP_WAIT_NO_WAIT },
	{ ST_NULL, "event_counter_configure", "-", -ENODEV, OP_CONFIGURE },
	{ ST_NULL, "event_counter_get_settings", "-", -ENODEV, OP_GET_SETTINGS },
	{ ST_NULL, "event_counter_get_stats", "-", -ENODEV, OP_GET_STATS },
	{ ST_NULL, "event_counter_set_sink", "-", -ENODEV, OP_SET_SINK },
	{ ST_NULL, "event_counter_notify", "-", -ENODEV, OP_NOTIFY },
	{ ST_NULL, "event_counter_remove", "-", -ENODEV, OP_REMOVE },
	{ ST_NULL, "event_counter_restore", "-", -ENODEV, OP_RESTORE },
	{ ST_NOT_READY, "event_counter_open", "-", -ENODEV, OP_OPEN },
	{ ST_NOT_READY, "event_counter_close", "-", -ENODEV, OP_CLOSE },
	{ ST_NOT_READY, "event_counter_read", "-", -ENODEV, OP_READ },
	{ ST_NOT_READY, "event_counter_wait", "-", -ENODEV, OP_WAIT_NO_WAIT },
	{ ST_NOT_READY, "event_counter_configure", "-", -ENODEV, OP_CONFIGURE },
	{ ST_NOT_READY, "event_counter_get_settings", "-", -ENODEV, OP_GET_SETTINGS },
	{ ST_NOT_READY, "event_counter_get_stats", "-", -ENODEV, OP_GET_STATS },
	{ ST_NOT_READY, "event_counter_set_sink", "-", -ENODEV, OP_SET_SINK },
	{ ST_NOT_READY, "event_counter_notify", "-", -ENODEV, OP_NOTIFY },
	{ ST_NOT_READY, "event_counter_remove", "-", -ENODEV, OP_REMOVE },
	{ ST_NOT_READY, "event_counter_restore", "-", -ENODEV, OP_RESTORE },
	{ ST_REMOVED, "event_counter_open", "-", -ENODEV, OP_OPEN },
	{ ST_REMOVED, "event_counter_close", "-", -ENODEV, OP_CLOSE },
	{ ST_REMOVED, "event_counter_read", "-", -ENODEV, OP_READ },
	{ ST_REMOVED, "event_counter_wait", "-", -ENODEV, OP_WAIT_NO_WAIT },
	{ ST_REMOVED, "event_counter_configure", "-", -ENODEV, OP_CONFIGURE },
	{ ST_REMOVED, "event_counter_get_settings", "-", -ENODEV, OP_GET_SETTINGS },
	{ ST_REMOVED, "event_counter_get_stats", "-", 0, OP_GET_STATS },
	{ ST_REMOVED, "event_counter_set_sink", "-", -ENODEV, OP_SET_SINK },
	{ ST_REMOVED, "event_counter_notify", "-", -ENODEV, OP_NOTIFY },
	{ ST_REMOVED, "event_counter_remove", "removed twice", -ENODEV, OP_REMOVE },
	{ ST_CLOSED, "event_counter_close", "never opened / double close", -EBADF, OP_CLOSE },
	{ ST_CLOSED, "event_counter_read", "-", -EBADF, OP_READ },
	{ ST_CLOSED, "event_counter_wait", "-", -EBADF, OP_WAIT_NO_WAIT },
	{ ST_CLOSED, "event_counter_configure", "-", -EBADF, OP_CONFIGURE },
	{ ST_CLOSED, "event_counter_get_settings", "-", -EBADF, OP_GET_SETTINGS },
	{ ST_CLOSED, "event_counter_get_stats", "-", 0, OP_GET_STATS },
	{ ST_CLOSED, "event_counter_set_sink", "-", -EBADF, OP_SET_SINK },
	{ ST_CLOSED, "event_counter_notify", "-", -EBADF, OP_NOTIFY },
	{ ST_CLOSED, "event_counter_restore", "present (never removed)", -EALREADY, OP_RESTORE },
	{ ST_OPEN, "event_counter_open", "already open", -EBUSY, OP_OPEN },
	{ ST_OPEN, "event_counter_close", "policy out of range", -EINVAL, OP_CLOSE_BAD_POLICY },
	{ ST_OPEN, "event_counter_close", "absolute timeout", -EINVAL, OP_CLOSE_ABSOLUTE },
	{ ST_OPEN, "event_counter_read", "NULL buffer", -EINVAL, OP_READ_NULL },
	{ ST_OPEN, "event_counter_read", "zero-length buffer", -EINVAL, OP_READ_ZERO },
	{ ST_OPEN, "event_counter_read", "buffer larger than the ring, none pending", 0, OP_READ_OVERSIZED },
	{ ST_OPEN, "event_counter_wait", "K_NO_WAIT, none pending", -EAGAIN, OP_WAIT_NO_WAIT },
	{ ST_OPEN, "event_counter_wait", "K_MSEC(1), none pending", -ETIMEDOUT, OP_WAIT_1MS },
	{ ST_OPEN, "event_counter_wait", "absolute timeout", -EINVAL, OP_WAIT_ABSOLUTE },
	{ ST_OPEN, "event_counter_configure", "NULL settings", -EINVAL, OP_CONFIGURE_NULL },
	{ ST_OPEN, "event_counter_configure", "edge out of range", -EINVAL, OP_CONFIGURE_BAD_EDGE },
	{ ST_OPEN, "event_counter_configure", "overflow policy out of range", -EINVAL, OP_CONFIGURE_BAD_OVERFLOW },
	{ ST_OPEN, "event_counter_get_settings", "NULL settings", -EINVAL, OP_GET_SETTINGS_NULL },
	{ ST_OPEN, "event_counter_get_stats", "NULL stats", -EINVAL, OP_GET_STATS_NULL },
	{ ST_OPEN, "event_counter_notify", "no sink installed", -EINVAL, OP_NOTIFY },
	{ ST_OPEN, "event_counter_remove", "absolute timeout", -EINVAL, OP_REMOVE_ABSOLUTE },
	{ ST_OPEN, "event_counter_restore", "present (open)", -EALREADY, OP_RESTORE },
	{ ST_ISR, "event_counter_open", "-", -EPERM, OP_OPEN },
	{ ST_ISR, "event_counter_close", "-", -EPERM, OP_CLOSE },
	{ ST_ISR, "event_counter_read", "-", -EPERM, OP_READ },
	{ ST_ISR, "event_counter_wait", "K_NO_WAIT", -EPERM, OP_WAIT_NO_WAIT },
	{ ST_ISR, "event_counter_configure", "-", -EPERM, OP_CONFIGURE },
	{ ST_ISR, "event_counter_get_settings", "-", -EPERM, OP_GET_SETTINGS },
	{ ST_ISR, "event_counter_get_stats", "-", 0, OP_GET_STATS },
	{ ST_ISR, "event_counter_set_sink", "-", -EPERM, OP_SET_SINK },
	{ ST_ISR, "event_counter_notify", "-", -EPERM, OP_NOTIFY },
	{ ST_ISR, "event_counter_remove", "-", -EPERM, OP_REMOVE },
	{ ST_ISR, "event_counter_restore", "-", -EPERM, OP_RESTORE },
	{ ST_ISR, "event_counter_driver_pre_deinit", "-", -EPERM, OP_DRIVER_PRE_DEINIT },
	{ ST_ISR, "event_counter_driver_deinit", "-", -EPERM, OP_DRIVER_DEINIT },
	{ ST_SUSPENDED_CLOSED, "event_counter_open", "suspended: resume first", -EAGAIN, OP_OPEN },
	{ ST_SUSPENDED_CLOSED, "event_counter_close", "never opened", -EBADF, OP_CLOSE },
	{ ST_SUSPENDED_CLOSED, "event_counter_read", "-", -EBADF, OP_READ },
	{ ST_SUSPENDED_CLOSED, "event_counter_get_stats", "-", 0, OP_GET_STATS },
	{ ST_SUSPENDED_CLOSED, "event_counter_restore", "present (suspended)", -EALREADY, OP_RESTORE },
	{ ST_SUSPENDED, "event_counter_open", "already open", -EBUSY, OP_OPEN },
	{ ST_SUSPENDED, "event_counter_close", "closes; stays suspended", 0, OP_CLOSE },
	{ ST_SUSPENDED, "event_counter_read", "-", -EAGAIN, OP_READ },
	{ ST_SUSPENDED, "event_counter_wait", "K_NO_WAIT", -EAGAIN, OP_WAIT_NO_WAIT },
	{ ST_SUSPENDED, "event_counter_wait", "K_MSEC(1)", -EAGAIN, OP_WAIT_1MS },
	{ ST_SUSPENDED, "event_counter_configure", "-", -EAGAIN, OP_CONFIGURE },
	{ ST_SUSPENDED, "event_counter_get_settings", "-", -EAGAIN, OP_GET_SETTINGS },
	{ ST_SUSPENDED, "event_counter_get_stats", "-", 0, OP_GET_STATS },
	{ ST_SUSPENDED, "event_counter_set_sink", "-", -EAGAIN, OP_SET_SINK },
	{ ST_SUSPENDED, "event_counter_notify", "-", -EAGAIN, OP_NOTIFY },
	{ ST_SUSPENDED, "event_counter_restore", "present (suspended)", -EALREADY, OP_RESTORE },
};
/* END BAD INPUT TABLE */
/* clang-format on */

static int run_op(enum op op, const struct device *dev)
{
	struct event_counter_event ev[64];
	struct event_counter_settings settings = {.edge = 0, .overflow = 0, .enabled = true};
	struct event_counter_stats stats;

	switch (op) {
	case OP_OPEN:
		return event_counter_open(dev);
	case OP_CLOSE:
		return event_counter_close(dev, K_NO_WAIT, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY);
	case OP_CLOSE_BAD_POLICY:
		return event_counter_close(dev, K_NO_WAIT, (enum event_counter_close_policy)2);
	case OP_CLOSE_ABSOLUTE:
		return event_counter_close(dev, K_TIMEOUT_ABS_MS(10), EVENT_COUNTER_CLOSE_PROCEED);
	case OP_READ:
		return event_counter_read(dev, ev, 1);
	case OP_READ_NULL:
		return event_counter_read(dev, NULL, 1);
	case OP_READ_ZERO:
		return event_counter_read(dev, ev, 0);
	case OP_READ_OVERSIZED:
		return event_counter_read(dev, ev, ARRAY_SIZE(ev));
	case OP_WAIT_NO_WAIT:
		return event_counter_wait(dev, K_NO_WAIT);
	case OP_WAIT_1MS:
		return event_counter_wait(dev, K_MSEC(1));
	case OP_WAIT_ABSOLUTE:
		return event_counter_wait(dev, K_TIMEOUT_ABS_MS(10));
	case OP_CONFIGURE:
		return event_counter_configure(dev, &settings);
	case OP_CONFIGURE_NULL:
		return event_counter_configure(dev, NULL);
	case OP_CONFIGURE_BAD_EDGE:
		settings.edge = 3;
		return event_counter_configure(dev, &settings);
	case OP_CONFIGURE_BAD_OVERFLOW:
		settings.overflow = 2;
		return event_counter_configure(dev, &settings);
	case OP_GET_SETTINGS:
		return event_counter_get_settings(dev, &settings);
	case OP_GET_SETTINGS_NULL:
		return event_counter_get_settings(dev, NULL);
	case OP_GET_STATS:
		return event_counter_get_stats(dev, &stats);
	case OP_GET_STATS_NULL:
		return event_counter_get_stats(dev, NULL);
	case OP_SET_SINK:
		return event_counter_set_sink(dev, NULL, NULL);
	case OP_NOTIFY:
		return event_counter_notify(dev);
	case OP_REMOVE:
		return event_counter_remove(dev, K_NO_WAIT);
	case OP_REMOVE_ABSOLUTE:
		return event_counter_remove(dev, K_TIMEOUT_ABS_MS(10));
	case OP_RESTORE:
		return event_counter_restore(dev);
	case OP_DRIVER_PRE_DEINIT:
		return event_counter_driver_pre_deinit();
	case OP_DRIVER_DEINIT:
		return event_counter_driver_deinit();
	}
	return -ENOSYS;
}

struct isr_call {
	const struct bad_input *row;
	int result;
};

static void isr_trampoline(const void *arg)
{
	struct isr_call *call = (struct isr_call *)arg;

	call->result = run_op(call->row->op, edges_dev);
}

static const struct device *device_for(enum state state)
{
	switch (state) {
	case ST_NULL:
		return NULL;
	case ST_NOT_READY:
		return broken_dev;
	case ST_REMOVED:
		return removed_dev;
	default:
		return edges_dev;
	}
}

static void run_rows(enum state state)
{
	int rows = 0;

	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		const struct bad_input *row = &table[i];
		int result;

		if (row->state != state) {
			continue;
		}
		reset_device(edges_dev);
		if (state == ST_OPEN || state == ST_ISR || state == ST_SUSPENDED) {
			zassert_ok(event_counter_open(edges_dev));
		}
		if (state == ST_SUSPENDED || state == ST_SUSPENDED_CLOSED) {
			zassert_ok(pm_device_action_run(edges_dev, PM_DEVICE_ACTION_SUSPEND));
		}
		if (state == ST_ISR) {
			struct isr_call call = {.row = row};

			irq_offload(isr_trampoline, &call);
			result = call.result;
		} else {
			result = run_op(row->op, device_for(state));
		}
		if (state == ST_SUSPENDED || state == ST_SUSPENDED_CLOSED) {
			zassert_ok(pm_device_action_run(edges_dev, PM_DEVICE_ACTION_RESUME));
		}
		zassert_equal(result, row->expected, "row %u: %s (%s): got %d, documented %d",
			      (unsigned int)i, row->entry, row->input, result, row->expected);
		rows++;
	}
	zassert_true(rows > 0, "no rows for state %d", state);
}

static void *setup(void)
{
	/* The removed-device rows need a device removed at run time. */
	zassert_ok(event_counter_open(removed_dev));
	zassert_ok(event_counter_remove(removed_dev, K_MSEC(100)));
	return NULL;
}

ZTEST(event_counter_bad_input, test_null_device)
{
	run_rows(ST_NULL);
}

ZTEST(event_counter_bad_input, test_not_ready_device)
{
	zassert_false(device_is_ready(broken_dev));
	run_rows(ST_NOT_READY);
}

ZTEST(event_counter_bad_input, test_removed_device)
{
	run_rows(ST_REMOVED);
}

ZTEST(event_counter_bad_input, test_closed_device)
{
	run_rows(ST_CLOSED);
}

ZTEST(event_counter_bad_input, test_open_device)
{
	run_rows(ST_OPEN);
	/* Rejected calls changed nothing: the device is still open and works. */
	zassert_equal(event_counter_open(edges_dev), -EBUSY);
	pulse();
	zassert_equal(event_counter_wait(edges_dev, K_NO_WAIT), 1);
}

ZTEST(event_counter_bad_input, test_isr_context)
{
	run_rows(ST_ISR);
	zassert_equal(event_counter_open(edges_dev), -EBUSY, "ISR calls changed nothing");
}

/* Suspended (CONFIG_PM_DEVICE): calls of the session answer -EAGAIN, "try
 * again after resume"; the session itself (close) and the statistics work.
 */
ZTEST(event_counter_bad_input, test_suspended_device)
{
	run_rows(ST_SUSPENDED_CLOSED);
	run_rows(ST_SUSPENDED);
	/* Rejected calls changed nothing: resumed, it opens and counts. */
	reset_device(edges_dev);
	zassert_ok(event_counter_open(edges_dev));
	pulse();
	zassert_equal(event_counter_wait(edges_dev, K_NO_WAIT), 1);
}

ZTEST_SUITE(event_counter_bad_input, NULL, setup, NULL, NULL, NULL);
