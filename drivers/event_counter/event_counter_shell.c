/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * `event_counter` shell commands (CONFIG_EVENT_COUNTER_SHELL): look at and
 * drive the event-counter devices of a running board. Everything goes
 * through the public C API, so the shell gets the same checks, locks and
 * errors as any client; it only adds the devicetree view (which source an
 * instance has) from the shim's const config.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zephyr/device.h>
#include <zephyr/shell/shell.h>

#include <drivers/event_counter.h>

#include "event_counter_shim.h"

#define DT_DRV_COMPAT racefree_event_counter

#define INSTANCE_DEVICE(inst) DEVICE_DT_INST_GET(inst),
static const struct device *const instances[] = {DT_INST_FOREACH_STATUS_OKAY(INSTANCE_DEVICE)};

/* Most events `read` prints when no count is given, and at most. */
#define READ_DEFAULT 8
#define READ_MAX     32

/* The errnos the driver's API documents, by name. */
static const char *errno_name(int err)
{
	switch (-err) {
	case EPERM:
		return "EPERM";
	case EAGAIN:
		return "EAGAIN";
	case EBADF:
		return "EBADF";
	case EBUSY:
		return "EBUSY";
	case ENODEV:
		return "ENODEV";
	case EINVAL:
		return "EINVAL";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case EALREADY:
		return "EALREADY";
	default:
		return "error";
	}
}

/* Prints "<what>: -ENAME (-n)" and passes the error on. */
static int report(const struct shell *sh, const struct device *dev, const char *what, int err)
{
	if (err < 0) {
		shell_error(sh, "%s: %s: -%s (%d)", dev->name, what, errno_name(err), err);
	}
	return err;
}

static const struct device *find_instance(const struct shell *sh, const char *name)
{
	ARRAY_FOR_EACH(instances, i) {
		if (strcmp(instances[i]->name, name) == 0) {
			return instances[i];
		}
	}
	shell_error(sh, "%s: no such event-counter device", name);
	return NULL;
}

/* "removed", "open" or "closed", from what the API answers. */
static const char *lifecycle_state(const struct device *dev)
{
	struct event_counter_settings settings;

	if (!device_is_ready(dev)) {
		return "not ready";
	}
	switch (event_counter_get_settings(dev, &settings)) {
	case 0:
		return "open";
	case -EBADF:
		return "closed";
	case -ENODEV:
		return "removed";
	default:
		return "unknown";
	}
}

static void print_source(const struct shell *sh, const struct device *dev)
{
	const struct event_counter_config *config = dev->config;

	if (config->gpio.port != NULL) {
		shell_fprintf(sh, SHELL_NORMAL, "gpio %s pin %u", config->gpio.port->name,
			      config->gpio.pin);
	} else {
		shell_fprintf(sh, SHELL_NORMAL, "timer %u us", config->timer_period_us);
	}
}

static int print_stats(const struct shell *sh, const struct device *dev)
{
	struct event_counter_stats s;
	int err = report(sh, dev, "stats", event_counter_get_stats(dev, &s));

	if (err == 0) {
		shell_print(sh, "seen %u ignored %u read %u dropped %u pending %u", s.seen,
			    s.ignored, s.read, s.dropped, s.pending);
	}
	return err;
}

static int cmd_list(const struct shell *sh, size_t argc, char **argv)
{
	ARG_UNUSED(argc);
	ARG_UNUSED(argv);

	ARRAY_FOR_EACH(instances, i) {
		const struct device *dev = instances[i];

		shell_fprintf(sh, SHELL_NORMAL, "%s: %s, ", dev->name, lifecycle_state(dev));
		print_source(sh, dev);
		shell_fprintf(sh, SHELL_NORMAL, ", depth %u, ",
			      ((const struct event_counter_config *)dev->config)->capture_depth);
		if (!device_is_ready(dev)) {
			shell_print(sh, "no counts");
			continue;
		}
		(void)print_stats(sh, dev);
	}
	return 0;
}

/* Handlers taking `<device>` first. */
#define WITH_DEVICE(sh, argv, dev)                                                                 \
	const struct device *dev = find_instance(sh, argv[1]);                                     \
	if (dev == NULL) {                                                                         \
		return -ENODEV;                                                                    \
	}

static int cmd_stats(const struct shell *sh, size_t argc, char **argv)
{
	WITH_DEVICE(sh, argv, dev);
	return print_stats(sh, dev);
}

static int cmd_read(const struct shell *sh, size_t argc, char **argv)
{
	struct event_counter_event ev[READ_MAX];
	long want = READ_DEFAULT;
	char *end;
	int n;

	WITH_DEVICE(sh, argv, dev);
	if (argc > 2) {
		want = strtol(argv[2], &end, 10);
		if (*end != '\0' || want < 1 || want > READ_MAX) {
			shell_error(sh, "count must be 1..%d", READ_MAX);
			return -EINVAL;
		}
	}
	n = report(sh, dev, "read", event_counter_read(dev, ev, (size_t)want));
	if (n < 0) {
		return n;
	}
	for (int i = 0; i < n; i++) {
		shell_print(sh, "#%u at cycle %u", ev[i].sequence, ev[i].cycles);
	}
	shell_print(sh, "%d event(s)", n);
	return 0;
}

/* Shell timeouts: long enough for a call in flight to finish on a board. */
#define SHELL_TIMEOUT K_MSEC(100)

static int close_fail_if_busy(const struct device *dev)
{
	return event_counter_close(dev, SHELL_TIMEOUT, EVENT_COUNTER_CLOSE_FAIL_IF_BUSY);
}

static int remove_device(const struct device *dev)
{
	return event_counter_remove(dev, SHELL_TIMEOUT);
}

/* One lifecycle call on `<device>`: says what happened, returns its result. */
static int lifecycle_cmd(const struct shell *sh, char **argv, const char *what,
			 int (*call)(const struct device *dev), const char *done)
{
	WITH_DEVICE(sh, argv, dev);
	int err = report(sh, dev, what, call(dev));

	if (err == 0) {
		shell_print(sh, "%s: %s", dev->name, done);
	}
	return err;
}

static int cmd_open(const struct shell *sh, size_t argc, char **argv)
{
	return lifecycle_cmd(sh, argv, "open", event_counter_open, "open");
}

static int cmd_close(const struct shell *sh, size_t argc, char **argv)
{
	return lifecycle_cmd(sh, argv, "close", close_fail_if_busy, "closed");
}

static int cmd_remove(const struct shell *sh, size_t argc, char **argv)
{
	return lifecycle_cmd(sh, argv, "remove", remove_device, "removed");
}

static int cmd_restore(const struct shell *sh, size_t argc, char **argv)
{
	return lifecycle_cmd(sh, argv, "restore", event_counter_restore, "restored (closed)");
}

static const char *const edge_names[] = {
	[EVENT_COUNTER_EDGE_RISING] = "rising",
	[EVENT_COUNTER_EDGE_FALLING] = "falling",
	[EVENT_COUNTER_EDGE_BOTH] = "both",
};
static const char *const overflow_names[] = {
	[EVENT_COUNTER_OVERFLOW_DROP_NEWEST] = "drop-newest",
	[EVENT_COUNTER_OVERFLOW_DROP_OLDEST] = "drop-oldest",
};

static int lookup(const char *const *names, size_t count, const char *word)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(names[i], word) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/* configure <device> [rising|falling|both] [drop-newest|drop-oldest] [on|off]:
 * the words given change those settings; with none, print the settings.
 */
static int cmd_configure(const struct shell *sh, size_t argc, char **argv)
{
	struct event_counter_settings settings;
	int err;

	WITH_DEVICE(sh, argv, dev);
	err = report(sh, dev, "get_settings", event_counter_get_settings(dev, &settings));
	if (err < 0) {
		return err;
	}
	for (size_t i = 2; i < argc; i++) {
		int edge = lookup(edge_names, ARRAY_SIZE(edge_names), argv[i]);
		int overflow = lookup(overflow_names, ARRAY_SIZE(overflow_names), argv[i]);

		if (edge >= 0) {
			settings.edge = edge;
		} else if (overflow >= 0) {
			settings.overflow = overflow;
		} else if (strcmp(argv[i], "on") == 0 || strcmp(argv[i], "off") == 0) {
			settings.enabled = argv[i][1] == 'n';
		} else {
			shell_error(sh, "%s: not an edge, overflow policy or on/off", argv[i]);
			return -EINVAL;
		}
	}
	if (argc > 2) {
		err = report(sh, dev, "configure", event_counter_configure(dev, &settings));
		if (err < 0) {
			return err;
		}
	}
	shell_print(sh, "%s: edge %s, overflow %s, %s", dev->name,
		    settings.edge < ARRAY_SIZE(edge_names) ? edge_names[settings.edge] : "?",
		    settings.overflow < ARRAY_SIZE(overflow_names) ? overflow_names[settings.overflow]
								   : "?",
		    settings.enabled ? "on" : "off");
	return 0;
}

/* Device-name completion, as Zephyr's `device` shell does. */
static void instance_name_get(size_t idx, struct shell_static_entry *entry)
{
	entry->syntax = idx < ARRAY_SIZE(instances) ? instances[idx]->name : NULL;
	entry->handler = NULL;
	entry->help = NULL;
	entry->subcmd = NULL;
}
SHELL_DYNAMIC_CMD_CREATE(dsub_instance_name, instance_name_get);

/* clang-format off */
SHELL_STATIC_SUBCMD_SET_CREATE(sub_event_counter,
	SHELL_CMD_ARG(list, NULL, "List every instance: state, source, counts", cmd_list, 1, 0),
	SHELL_CMD_ARG(stats, &dsub_instance_name, "<device>: counters", cmd_stats, 2, 0),
	SHELL_CMD_ARG(read, &dsub_instance_name, "<device> [n]: read up to n events (8)",
		      cmd_read, 2, 1),
	SHELL_CMD_ARG(open, &dsub_instance_name, "<device>: open", cmd_open, 2, 0),
	SHELL_CMD_ARG(close, &dsub_instance_name, "<device>: close (100 ms, fail if busy)",
		      cmd_close, 2, 0),
	SHELL_CMD_ARG(configure, &dsub_instance_name,
		      "<device> [rising|falling|both] [drop-newest|drop-oldest] [on|off]",
		      cmd_configure, 2, 3),
	SHELL_CMD_ARG(remove, &dsub_instance_name, "<device>: hot-unplug (100 ms)", cmd_remove,
		      2, 0),
	SHELL_CMD_ARG(restore, &dsub_instance_name, "<device>: re-add after remove",
		      cmd_restore, 2, 0),
	SHELL_SUBCMD_SET_END);
/* clang-format on */

SHELL_CMD_REGISTER(event_counter, &sub_event_counter, "Event-counter devices", NULL);
