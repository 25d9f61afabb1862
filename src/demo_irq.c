/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Real interrupts for the demo's GPIO-driven counter: a spare NVIC line whose
 * ISR pulses an emulated GPIO input, so the event counter's GPIO callback runs
 * in genuine interrupt context, nested inside this ISR. Only where the board
 * overlay provides an emulated GPIO (qemu_cortex_m3); elsewhere the demo counts
 * real edges (a button).
 */

#include <zephyr/drivers/gpio.h>
#include <zephyr/drivers/gpio/gpio_emul.h>
#include <zephyr/irq.h>
#include <zephyr/kernel.h>

#include <cmsis_core.h>

/* The highest line: unused by the lm3s6965 (qemu_cortex_m3) peripherals. */
#define DEMO_IRQ      (CONFIG_NUM_IRQS - 1)
#define DEMO_IRQ_PRIO 1

#define EDGE_NODE DT_NODELABEL(evc_edges)

#if DT_NODE_EXISTS(EDGE_NODE) && DT_HAS_COMPAT_STATUS_OKAY(zephyr_gpio_emul)

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

/* Sets up the line; returns 0 or a negative errno. */
int demo_irq_init(void)
{
	if (!gpio_is_ready_dt(&edge_pin)) {
		return -ENODEV;
	}
	IRQ_CONNECT(DEMO_IRQ, DEMO_IRQ_PRIO, demo_irq_isr, NULL, 0);
	irq_enable(DEMO_IRQ);
	return 0;
}

/* Raises `count` interrupts, one at a time; returns the pulses raised so far. */
uint32_t demo_irq_raise(uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		NVIC_SetPendingIRQ(DEMO_IRQ);
		/* The ISR preempts this thread before the next instruction completes;
		 * the barrier makes sure of it before pending the line again.
		 */
		__DSB();
		__ISB();
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
