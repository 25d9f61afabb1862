/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Real interrupts for the demo's GPIO-driven counter: an interrupt whose
 * handler pulses an emulated GPIO input, so the event counter's GPIO callback
 * runs in genuine interrupt context, nested inside it. The interrupt comes
 * from the suites' helper (tests/drivers/event_counter/common/test_irq.h: a
 * spare NVIC line on Cortex-M, irq_offload on RISC-V). Only where the board
 * overlay provides an emulated GPIO (qemu_cortex_m3, qemu_riscv64 SMP);
 * elsewhere the demo counts real edges (a button).
 */

#include <zephyr/drivers/gpio.h>
#include <zephyr/drivers/gpio/gpio_emul.h>
#include <zephyr/kernel.h>

#define EDGE_NODE DT_NODELABEL(evc_edges)

#if DT_NODE_EXISTS(EDGE_NODE) && DT_HAS_COMPAT_STATUS_OKAY(zephyr_gpio_emul)

#include "test_irq.h"

static const struct gpio_dt_spec edge_pin = GPIO_DT_SPEC_GET(EDGE_NODE, gpios);
static volatile uint32_t pulses;

static void demo_irq_isr(const void *arg)
{
	ARG_UNUSED(arg);
	/* One rising edge per interrupt. */
	gpio_emul_input_set(edge_pin.port, edge_pin.pin, 1);
	gpio_emul_input_set(edge_pin.port, edge_pin.pin, 0);
	pulses = pulses + 1;
}

/* Checks the emulated input; returns 0 or a negative errno. */
int demo_irq_init(void)
{
	return gpio_is_ready_dt(&edge_pin) ? 0 : -ENODEV;
}

/* Raises `count` interrupts, one at a time; returns the pulses raised so far. */
uint32_t demo_irq_raise(uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		/* Returns once the handler has run. */
		test_irq_run(demo_irq_isr, NULL);
	}
	return pulses;
}

/* Interrupts raised so far. */
uint32_t demo_irq_pulses(void)
{
	return pulses;
}

#else /* a real board: its own button produces the edges */

int demo_irq_init(void)
{
	return -ENOTSUP;
}

uint32_t demo_irq_raise(uint32_t count)
{
	ARG_UNUSED(count);
	return 0;
}

uint32_t demo_irq_pulses(void)
{
	return 0;
}

#endif
