/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Shared helpers of the event-counter suites.
 */

#ifndef EVENT_COUNTER_TEST_COMMON_H_
#define EVENT_COUNTER_TEST_COMMON_H_

#include <zephyr/drivers/gpio.h>
#include <zephyr/drivers/gpio/gpio_emul.h>
#include <zephyr/kernel.h>

#include <drivers/event_counter.h>

#include "lockdep_rule.h"

#define EDGES_NODE DT_NODELABEL(evc_edges)

static const struct device *const edges_dev = DEVICE_DT_GET(EDGES_NODE);
static const struct device *const ticks_dev = DEVICE_DT_GET(DT_NODELABEL(evc_ticks));
static const struct gpio_dt_spec edges_pin = GPIO_DT_SPEC_GET(EDGES_NODE, gpios);

/* One low-high-low pulse on the edges device's emulated input. */
static inline void pulse(void)
{
	gpio_emul_input_set(edges_pin.port, edges_pin.pin, 1);
	gpio_emul_input_set(edges_pin.port, edges_pin.pin, 0);
}

/* Drain, close and reset a device to "closed, default settings" between tests. */
static inline void reset_device(const struct device *dev)
{
	struct event_counter_event buf[8];
	const struct event_counter_settings defaults = {
		.edge = EVENT_COUNTER_EDGE_RISING,
		.overflow = EVENT_COUNTER_OVERFLOW_DROP_NEWEST,
		.enabled = true,
	};

	/* Already open is fine: -EBUSY. */
	(void)event_counter_open(dev);
	(void)event_counter_configure(dev, &defaults);
	(void)event_counter_set_sink(dev, NULL, NULL);
	while (event_counter_read(dev, buf, ARRAY_SIZE(buf)) > 0) {
	}
	(void)event_counter_close(dev, K_FOREVER, EVENT_COUNTER_CLOSE_PROCEED);
}

/* ---- CPUs: truly concurrent actors on SMP (seed 000 "particularly on
 * multi-core systems"; seed 002/003 SMP). On a uniprocessor every actor is
 * on CPU 0 and these reduce to k_thread_start() and 0.
 */

/* The CPU the caller runs on (exact for a pinned thread and in an ISR). */
static inline unsigned int test_cpu_id(void)
{
	unsigned int key = arch_irq_lock();
	unsigned int id = arch_curr_cpu()->id;

	arch_irq_unlock(key);
	return id;
}

/* The CPU a second actor should run on: the other one on SMP. */
#define TEST_OTHER_CPU (arch_num_cpus() > 1 ? 1 : 0)

/* Creates a thread that runs on `cpu` only, then starts it. Suites that pin
 * set CONFIG_SCHED_CPU_MASK in boards/qemu_riscv64_qemu_virt_riscv64_smp.conf
 * (without it on SMP this helper is absent, and the build says so).
 */
#if !defined(CONFIG_SMP) || defined(CONFIG_SCHED_CPU_MASK)
static inline k_tid_t test_thread_start_on(int cpu, struct k_thread *thread,
					   k_thread_stack_t *stack, size_t stack_size,
					   k_thread_entry_t entry, void *p1, void *p2, void *p3,
					   int prio)
{
	k_tid_t tid = k_thread_create(thread, stack, stack_size, entry, p1, p2, p3, prio, 0,
				      K_FOREVER);

#if defined(CONFIG_SMP)
	/* Before the start: a running thread cannot be pinned. */
	int ret = k_thread_cpu_pin(tid, cpu);

	__ASSERT(ret == 0, "k_thread_cpu_pin: %d", ret);
	ARG_UNUSED(ret);
#else
	ARG_UNUSED(cpu);
#endif
	k_thread_start(tid);
	return tid;
}
#endif

/* Joins a thread, bounded, and returns only once the thread has left its CPU,
 * so that its k_thread and stack may be used again (seed 002, reference
 * tracking: an object is reused only after its last user is gone).
 *
 * On SMP, a k_thread_join() that had to block in Zephyr v4.0 is woken from
 * the exiting thread's own exit path, and its caller may run on before that
 * CPU has saved the thread's context; only a join of a thread already dead
 * spins until it is saved (z_sched_switch_spin; zephyrproject-rtos/zephyr
 * #58116, #58334, and #103516 for a test that re-created threads too soon).
 * A k_thread_create() on the object meanwhile would queue it while it is
 * still the other CPU's current thread. Hence the second call. Returns
 * k_thread_join()'s result.
 */
static inline int test_thread_join(struct k_thread *thread, k_timeout_t bound)
{
	int ret = k_thread_join(thread, bound);

	if (ret == 0) {
		ret = k_thread_join(thread, K_NO_WAIT);
	}
	return ret;
}

/* Where a suite's interrupt handlers ran: the CPUs (bit per CPU) and how
 * many ran outside interrupt context (a suite asserts zero: its events must
 * come from real interrupts, seed 000's ISR-vs-thread race).
 */
struct isr_context_record {
	atomic_t cpus;
	atomic_t outside_isr;
};

static inline void isr_context_clear(struct isr_context_record *rec)
{
	atomic_clear(&rec->cpus);
	atomic_clear(&rec->outside_isr);
}

/* Called first thing in the handler. */
static inline void isr_context_note(struct isr_context_record *rec)
{
	atomic_or(&rec->cpus, BIT(test_cpu_id()));
	if (!k_is_in_isr()) {
		atomic_inc(&rec->outside_isr);
	}
}

/* A reader's view of the events it got: sequence numbers only go forward
 * within one reader's reads (the ring's publish order, on any CPU).
 */
struct sequence_check {
	uint32_t last;
	bool have_last;
	uint32_t out_of_order;
};

static inline void sequence_check_events(struct sequence_check *check,
					 const struct event_counter_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		if (check->have_last && (int32_t)(ev[i].sequence - check->last) <= 0) {
			check->out_of_order++;
		}
		check->last = ev[i].sequence;
		check->have_last = true;
	}
}

#endif /* EVENT_COUNTER_TEST_COMMON_H_ */
