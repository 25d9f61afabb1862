/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The event-counter driver from a plain C application: open every device,
 * wait for events with a timeout, read them, print their sequence numbers
 * and timestamps. On a board with a real button (nrf52840dk) it runs forever
 * and prints presses as they come; where the input is an emulated GPIO
 * (QEMU) the sample presses it itself, prints what it read and ends.
 */

#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/kernel.h>
#include <zephyr/sys/printk.h>
#include <zephyr/sys/util.h>

#include <drivers/event_counter.h>

#if DT_HAS_COMPAT_STATUS_OKAY(zephyr_gpio_emul)
#include <zephyr/drivers/gpio.h>
#include <zephyr/drivers/gpio/gpio_emul.h>
#define EMULATED_INPUT 1
#define PRESSES 5
#else
#define EMULATED_INPUT 0
#endif

#define DEVICE_AND_COMMA(node) DEVICE_DT_GET(node),
static const struct device *const counters[] = {
	DT_FOREACH_STATUS_OKAY(racefree_event_counter, DEVICE_AND_COMMA)};

#if EMULATED_INPUT
#define GPIO_SPEC_AND_COMMA(node)                                                                  \
	IF_ENABLED(DT_NODE_HAS_PROP(node, gpios), (GPIO_DT_SPEC_GET(node, gpios),))
static const struct gpio_dt_spec inputs[] = {
	DT_FOREACH_STATUS_OKAY(racefree_event_counter, GPIO_SPEC_AND_COMMA)};

/* Rising edges on every emulated input: what a button would do. */
static void press_emulated_buttons(int presses)
{
	for (int i = 0; i < presses; i++) {
		ARRAY_FOR_EACH(inputs, j) {
			gpio_emul_input_set(inputs[j].port, inputs[j].pin, 1);
			gpio_emul_input_set(inputs[j].port, inputs[j].pin, 0);
		}
	}
}
#endif

/* Reads what is pending on one device and says what it got. */
static int drain(const struct device *dev)
{
	struct event_counter_event ev[16];
	int total = 0;
	uint32_t first = 0, last = 0;
	bool increasing = true;
	int n;

	while ((n = event_counter_read(dev, ev, ARRAY_SIZE(ev))) > 0) {
		for (int i = 0; i < n; i++) {
			if (total == 0 && i == 0) {
				first = ev[0].sequence;
			} else if (ev[i].sequence <= last) {
				increasing = false;
			}
			if (i > 0 && ev[i].cycles < ev[i - 1].cycles) {
				increasing = false;
			}
			last = ev[i].sequence;
		}
		total += n;
	}
	if (n < 0) {
		printk("%s: read failed: %d\n", dev->name, n);
		return n;
	}
	if (total > 0) {
		printk("%s: read %d events, sequences %u..%u, %s\n", dev->name, total, first, last,
		       increasing ? "increasing cycles" : "OUT OF ORDER");
	}
	return total;
}

int main(void)
{
	int ret;

	ARRAY_FOR_EACH(counters, i) {
		const struct device *dev = counters[i];

		if (!device_is_ready(dev)) {
			printk("%s: not ready\n", dev->name);
			continue;
		}
		ret = event_counter_open(dev);
		printk("%s: %s (%d)\n", dev->name, ret == 0 ? "opened" : "open failed", ret);
	}

#if EMULATED_INPUT
	press_emulated_buttons(PRESSES);
	/* Let the timer device count a few expiries too. */
	k_sleep(K_MSEC(20));
	ARRAY_FOR_EACH(counters, i) {
		if (event_counter_wait(counters[i], K_MSEC(100)) > 0) {
			(void)drain(counters[i]);
		}
		(void)event_counter_close(counters[i], K_MSEC(100),
					  EVENT_COUNTER_CLOSE_FAIL_IF_BUSY);
	}
	printk("sample done\n");
#else
	for (;;) {
		ARRAY_FOR_EACH(counters, i) {
			if (event_counter_wait(counters[i], K_MSEC(500)) > 0) {
				(void)drain(counters[i]);
			}
		}
	}
#endif
	return 0;
}
