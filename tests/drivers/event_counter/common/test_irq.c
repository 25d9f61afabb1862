/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * See test_irq.h.
 */

#include <zephyr/init.h>
#include <zephyr/irq.h>
#include <zephyr/kernel.h>

#include "test_irq.h"

#if defined(CONFIG_CPU_CORTEX_M)

#include <cmsis_core.h>

/* The highest line: unused by the lm3s6965 (qemu_cortex_m3) peripherals. */
#define TEST_IRQ_LINE (CONFIG_NUM_IRQS - 1)
#define TEST_IRQ_PRIO 1

/* Written with interrupts locked just before the line is pended, read by its ISR. */
static irq_offload_routine_t pending_fn;
static const void *pending_arg;

static void test_irq_isr(const void *unused)
{
	ARG_UNUSED(unused);
	pending_fn(pending_arg);
}

static int test_irq_init(void)
{
	IRQ_CONNECT(TEST_IRQ_LINE, TEST_IRQ_PRIO, test_irq_isr, NULL, 0);
	irq_enable(TEST_IRQ_LINE);
	return 0;
}

SYS_INIT(test_irq_init, POST_KERNEL, 0);

void test_irq_run(irq_offload_routine_t fn, const void *arg)
{
	/* Locked, so that no other thread's call can replace fn/arg before
	 * this ISR has run: it is taken as soon as the lock is released.
	 */
	unsigned int key = irq_lock();

	__ASSERT(arch_irq_unlocked(key), "test_irq_run() with interrupts locked never returns");
	pending_fn = fn;
	pending_arg = arg;
	NVIC_SetPendingIRQ(TEST_IRQ_LINE);
	/* The pend completes before the mask drops (irq_unlock ends with an isb). */
	__DSB();
	irq_unlock(key);
}

#elif defined(CONFIG_RISCV)

BUILD_ASSERT(IS_ENABLED(CONFIG_IRQ_OFFLOAD), "test_irq.c needs CONFIG_IRQ_OFFLOAD on RISC-V");

void test_irq_run(irq_offload_routine_t fn, const void *arg)
{
	/* irq_offload() serialises callers itself (a semaphore, across CPUs). */
	irq_offload(fn, arg);
}

#else
#error "test_irq.c: no interrupt source for this architecture"
#endif
