/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The event-counter driver's lock validator, for tests
 * (CONFIG_EVENT_COUNTER_LOCKDEP; these functions exist only with it).
 *
 * Every lock the driver takes is validated after Linux lockdep (seed 000
 * step 3, Validate with Lockdep): lock-order inversions between lock classes,
 * sleeping in an ISR or under a k_spinlock, recursion, thread-only locks in
 * ISRs, unlocks out of order, failed held-lock assertions. Each distinct
 * problem is printed once with printk ("lockdep: ...") and counted.
 */

#ifndef EVENT_COUNTER_DRIVERS_EVENT_COUNTER_LOCKDEP_H_
#define EVENT_COUNTER_DRIVERS_EVENT_COUNTER_LOCKDEP_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Distinct lock-usage problems reported since boot (0 for a clean run). */
int event_counter_lockdep_report_count(void);

/**
 * Copies the last report's text into @p buf (NUL-terminated, cut to fit).
 * @return its full length, or -ENOENT if nothing was reported.
 */
int event_counter_lockdep_last_report(char *buf, size_t len);

/**
 * Writes the lock-class dependency graph recorded so far into @p buf, one
 * line per dependency: "held" -> "taken" (NUL-terminated, cut to fit).
 * @return its full length (as snprintf()).
 */
int event_counter_lockdep_graph(char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* EVENT_COUNTER_DRIVERS_EVENT_COUNTER_LOCKDEP_H_ */
