/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The C half of the driver's lock validator (CONFIG_EVENT_COUNTER_LOCKDEP,
 * seed 000 step 3: Validate with Lockdep; after Linux lockdep). The validator
 * is Rust (racefree::lockdep, platform in drivers/event_counter/src/lockdep.rs);
 * this file does what only C can: read the CPU's interrupt nesting, printk()
 * and k_panic().
 */

#include <zephyr/kernel.h>
#include <zephyr/kernel_structs.h>
#include <zephyr/sys/printk.h>

#if defined(CONFIG_CPU_CORTEX_M)
#include <cmsis_core.h>
#endif

/* (cpu id << 16) | nesting level of the calling ISR: the validator keeps one
 * held-lock stack per thread and per interrupt level of each CPU, as Linux
 * lockdep does per task and per hard-IRQ context.
 */
uint32_t z_event_counter_lockdep_isr_id(void)
{
	uint32_t level;

#if defined(CONFIG_CPU_CORTEX_M)
	/* Cortex-M does not count nesting in _current_cpu->nested. The active
	 * exception number tells nested ISRs apart just as well: an exception
	 * never preempts itself, so each level of a nest has its own.
	 */
	level = __get_IPSR();
#else
	level = _current_cpu->nested;
#endif
	return ((uint32_t)_current_cpu->id << 16) | (level & 0xffffU);
}

/* printk, never the logger: a report can come from an ISR or with a
 * k_spinlock held (and printk is one call, so one line stays together).
 */
void z_event_counter_lockdep_emit(const char *text, size_t len)
{
	printk("%.*s\n", (int)len, text);
}

/* CONFIG_EVENT_COUNTER_LOCKDEP_PANIC: stop on the first report. */
FUNC_NORETURN void z_event_counter_lockdep_fatal(void)
{
	k_panic();
	CODE_UNREACHABLE;
}
