/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Footprint image (figure 5 of BENCHMARKS.md): the same application code for
 * every variant. Each devicetree variant (overlays in this folder) gives it
 * no event counter, one or two of the Rust driver, or one or two of the C
 * baseline, always labelled evc0 and evc1; scripts/bench.sh compares the
 * images' sizes.
 */

#include <zephyr/kernel.h>
#include <zephyr/sys/printk.h>

#include <drivers/event_counter.h>

#define EVC_DEV(n) DEVICE_DT_GET(DT_NODELABEL(evc##n)),

static const struct device *const devices[] = {
#if DT_NODE_EXISTS(DT_NODELABEL(evc0))
	EVC_DEV(0)
#endif
#if DT_NODE_EXISTS(DT_NODELABEL(evc1))
	EVC_DEV(1)
#endif
};

int main(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		const struct device *dev = devices[i];
		struct event_counter_event events[4];
		struct event_counter_stats stats;

		(void)event_counter_open(dev);
		(void)event_counter_wait(dev, K_MSEC(5));
		(void)event_counter_read(dev, events, ARRAY_SIZE(events));
		(void)event_counter_get_stats(dev, &stats);
		(void)event_counter_close(dev, K_FOREVER, EVENT_COUNTER_CLOSE_PROCEED);
	}
	printk("FOOTPRINT done devices=%u\n", (unsigned int)ARRAY_SIZE(devices));
	return 0;
}
