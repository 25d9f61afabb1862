/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Real interrupt context on demand, on every target the suites and the demo
 * run on (one helper, test_irq.c):
 *
 * - Cortex-M: a spare NVIC line that software pends. Its ISR runs with a
 *   peripheral interrupt's priority, on this (the only) CPU.
 * - RISC-V: irq_offload(): an ecall into the kernel's interrupt entry (ISR
 *   stack, nesting count, the interrupt exit path and its reschedule), on the
 *   calling CPU. The PLIC's pending bits are set by devices only and the
 *   machine software interrupt is the kernel's IPI, so there is no spare line
 *   that software could pend. Needs CONFIG_IRQ_OFFLOAD (which needs
 *   CONFIG_TEST).
 *
 * Either way fn(arg) runs with k_is_in_isr() true, before test_irq_run()
 * returns, on the caller's CPU: pin the caller to choose that CPU (SMP).
 * Interrupts that land anywhere in a thread's code come from k_timer
 * expiries (the system timer ISR), which the suites use beside this.
 */

#ifndef EVENT_COUNTER_TEST_IRQ_H_
#define EVENT_COUNTER_TEST_IRQ_H_

#include <zephyr/irq_offload.h>

/* Runs fn(arg) once in interrupt context; thread context, interrupts unlocked. */
void test_irq_run(irq_offload_routine_t fn, const void *arg);

#endif /* EVENT_COUNTER_TEST_IRQ_H_ */
