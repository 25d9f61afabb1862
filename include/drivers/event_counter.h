/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Interrupt event counter: public C API.
 *
 * Events (GPIO edges or kernel-timer expiries) are counted and timestamped in
 * interrupt context; threads open the device, read, wait for and configure
 * them. The driver itself is written in Rust (drivers/event_counter/src);
 * these static inline wrappers dispatch through the device's API table as
 * every Zephyr driver class does.
 *
 * Every call returns a negative errno on failure:
 *   -ENODEV    NULL device, device not ready (init failed), or removed
 *   -EBADF     device not open, or being closed
 *   -EBUSY     already open, or close timed out with operations in flight
 *   -EALREADY  close already in progress; restore of a device that is present
 *   -EINVAL    invalid argument (NULL buffer, zero length, bad setting)
 *   -EAGAIN    nothing to wait for and K_NO_WAIT given; or the device is
 *              suspended (power management): try again after resume
 *   -ETIMEDOUT timeout expired
 *   -EPERM     thread-only call made from interrupt context
 *
 * Timeouts (close, wait, remove) are k_timeout_t and are kept in ticks, as the
 * kernel keeps them: a call gives up after at least the requested ticks, not
 * after the timeout rounded to milliseconds (K_USEC(100) at
 * CONFIG_SYS_CLOCK_TICKS_PER_SEC=10000 is one tick). K_NO_WAIT and K_FOREVER
 * are accepted everywhere; absolute timeouts (K_TIMEOUT_ABS_*) are -EINVAL.
 *
 * Power management (CONFIG_PM_DEVICE). Every instance has a PM action
 * callback: PM_DEVICE_ACTION_SUSPEND switches the interrupt source off, then
 * refuses new calls and waits up to CONFIG_EVENT_COUNTER_PM_DRAIN_TIMEOUT_MS
 * for the calls in flight (a blocked event_counter_wait() is woken and returns
 * -EAGAIN). If they do not leave in time the suspend fails with -EBUSY and the
 * device stays active and usable. While suspended, the calls of a session
 * (read, wait, configure, get_settings, set_sink, notify) and opening a closed
 * device return -EAGAIN; close, get_stats and remove work as always; edges
 * reach nothing (the source is off), a timer source does not run. RESUME
 * re-arms the source as it was and admits calls again. -EAGAIN rather than
 * -EBUSY, because -EBUSY already means "your close or suspend was refused";
 * -EAGAIN says "nothing wrong with the call, try again later", as for
 * K_NO_WAIT. TURN_ON/TURN_OFF answer -ENOTSUP. A removed device answers
 * -ENOTSUP to both actions (a system suspend skips it), keeps its power
 * state and comes back in it on event_counter_restore().
 *
 * Runtime PM (CONFIG_PM_DEVICE_RUNTIME, devicetree
 * `zephyr,pm-device-runtime-auto;`): an open session holds one usage
 * reference (event_counter_open() takes it and resumes the device; close,
 * or remove, releases it), so an unused device suspends and an open one never
 * does behind its client's back. An armed GPIO source also holds one reference
 * on its GPIO controller.
 */

#ifndef EVENT_COUNTER_DRIVERS_EVENT_COUNTER_H_
#define EVENT_COUNTER_DRIVERS_EVENT_COUNTER_H_

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zephyr/device.h>
#include <zephyr/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Event counter API
 * @defgroup event_counter_api Event counter
 * @{
 */

/** One captured event: its sequence number and the cycle counter at the ISR. */
struct event_counter_event {
	/** Number of the event since the device was initialised, from 0. */
	uint32_t sequence;
	/** k_cycle_get_32() when the interrupt was handled. */
	uint32_t cycles;
};

/** Which GPIO edges are events (ignored by timer-driven devices). */
enum event_counter_edge {
	EVENT_COUNTER_EDGE_RISING = 0,
	EVENT_COUNTER_EDGE_FALLING = 1,
	EVENT_COUNTER_EDGE_BOTH = 2,
};

/** What a full timestamp ring does with a new event. Either way it is counted. */
enum event_counter_overflow {
	/** Keep the oldest timestamps; the new one is counted as dropped. */
	EVENT_COUNTER_OVERFLOW_DROP_NEWEST = 0,
	/** Replace the oldest timestamp, which is counted as dropped. */
	EVENT_COUNTER_OVERFLOW_DROP_OLDEST = 1,
};

/** What event_counter_close() does when operations are still in flight at its timeout. */
enum event_counter_close_policy {
	/** Fail with -EBUSY; the device stays open and usable. */
	EVENT_COUNTER_CLOSE_FAIL_IF_BUSY = 0,
	/** Close anyway; the in-flight operations finish, new ones get -EBADF. */
	EVENT_COUNTER_CLOSE_PROCEED = 1,
};

/** Run-time settings. Fields are plain integers so that bad values can be rejected (-EINVAL). */
struct event_counter_settings {
	/** enum event_counter_edge */
	uint32_t edge;
	/** enum event_counter_overflow */
	uint32_t overflow;
	/** Whether events are counted; the interrupt source is disabled while false. */
	bool enabled;
};

/**
 * Counters that reconcile: seen == read + dropped + pending at any quiescent
 * point, and every interrupt is either seen or ignored.
 */
struct event_counter_stats {
	/** Events counted in interrupt context while enabled. */
	uint32_t seen;
	/** Interrupts that arrived while disabled (counted, not captured). */
	uint32_t ignored;
	/** Events handed to readers. */
	uint32_t read;
	/** Events whose timestamp did not fit the ring. */
	uint32_t dropped;
	/** Events captured and not yet read. */
	uint32_t pending;
};

/**
 * Notification sink, called from thread context by event_counter_notify()
 * with no driver lock held. It may call back into the driver.
 *
 * @return 0 on success or a negative errno, which event_counter_notify() returns.
 */
typedef int (*event_counter_sink_t)(const struct device *dev, uint32_t pending, void *user_data);

/** @cond INTERNAL_HIDDEN */

/* Timeouts cross into Rust as they are, in ticks: -1 K_FOREVER, 0 K_NO_WAIT,
 * a positive relative tick count; below -1, an absolute timeout (refused with
 * -EINVAL). No rounding: a call waits to the tick, as the kernel does.
 */
static inline int64_t z_event_counter_timeout_ticks(k_timeout_t timeout)
{
	return (int64_t)timeout.ticks;
}

__subsystem struct event_counter_driver_api {
	int (*open)(const struct device *dev);
	int (*close)(const struct device *dev, int64_t timeout_ticks, uint32_t policy);
	int (*read)(const struct device *dev, struct event_counter_event *events, size_t max_events);
	int (*wait)(const struct device *dev, int64_t timeout_ticks);
	int (*configure)(const struct device *dev, const struct event_counter_settings *settings);
	int (*get_settings)(const struct device *dev, struct event_counter_settings *settings);
	int (*get_stats)(const struct device *dev, struct event_counter_stats *stats);
	int (*set_sink)(const struct device *dev, event_counter_sink_t sink, void *user_data);
	int (*notify)(const struct device *dev);
	int (*remove)(const struct device *dev, int64_t timeout_ticks);
	int (*restore)(const struct device *dev);
};

#define Z_EVENT_COUNTER_API(dev) ((const struct event_counter_driver_api *)(dev)->api)

/* Events the source itself generated, as the kernel counts them: k_timer
 * expiries for a timer source (its status count), 0 for a GPIO source, whose
 * edges only their producer can count. For reconciliation in tests and demos.
 */
uint32_t z_event_counter_source_generated(const struct device *dev);

/** @endcond */

/**
 * @brief Open the device for this client (one client at a time).
 *
 * @retval 0 opened
 * @retval -EBUSY already open, or a forced close still has operations in flight
 * @retval -EAGAIN suspended (power management): resume first. With runtime PM
 *         the open resumes the device itself.
 * @retval -ENODEV NULL, not ready, removed or being removed, or the driver is
 *         (being) deinitialised. An open racing event_counter_remove() either
 *         answers this or opens first and has its session ended by the removal.
 * @retval -EPERM called from an ISR
 */
static inline int event_counter_open(const struct device *dev)
{
	if (dev == NULL) {
		return -ENODEV;
	}
	return Z_EVENT_COUNTER_API(dev)->open(dev);
}

/**
 * @brief Close the device (seed 001's protocol).
 *
 * New operations are refused at once (-EBADF); the call then waits up to
 * @p timeout for operations in flight to finish. Blocked waiters are woken
 * and return -EBADF.
 *
 * @retval 0 closed
 * @retval -EBUSY timed out with operations in flight and policy FAIL_IF_BUSY; still open
 * @retval -EALREADY another close is in progress
 * @retval -EBADF not open
 * @retval -EINVAL bad policy or absolute timeout
 * @retval -ENODEV NULL, not ready, or removed
 * @retval -EPERM called from an ISR
 */
static inline int event_counter_close(const struct device *dev, k_timeout_t timeout,
				      enum event_counter_close_policy policy)
{
	if (dev == NULL) {
		return -ENODEV;
	}
	return Z_EVENT_COUNTER_API(dev)->close(dev, z_event_counter_timeout_ticks(timeout),
					       (uint32_t)policy);
}

/**
 * @brief Copy out up to @p max_events captured events, oldest first.
 *
 * @return number of events copied (0 when none are pending)
 * @retval -EINVAL NULL buffer or @p max_events == 0
 * @retval -EAGAIN suspended: try again after resume
 * @retval -EBADF not open, or closing
 * @retval -ENODEV NULL, not ready, or removed
 * @retval -EPERM called from an ISR
 */
static inline int event_counter_read(const struct device *dev, struct event_counter_event *events,
				     size_t max_events)
{
	if (dev == NULL) {
		return -ENODEV;
	}
	return Z_EVENT_COUNTER_API(dev)->read(dev, events, max_events);
}

/**
 * @brief Wait until at least one event is pending.
 *
 * @return number of pending events (> 0)
 * @retval -EAGAIN none pending and @p timeout is K_NO_WAIT; or suspended
 *         (also while waiting: a suspend wakes the waiter)
 * @retval -ETIMEDOUT none arrived within @p timeout
 * @retval -EBADF not open, or closed while waiting
 * @retval -EINVAL absolute timeout
 * @retval -ENODEV NULL, not ready, or removed (also while waiting)
 * @retval -EPERM called from an ISR
 */
static inline int event_counter_wait(const struct device *dev, k_timeout_t timeout)
{
	if (dev == NULL) {
		return -ENODEV;
	}
	return Z_EVENT_COUNTER_API(dev)->wait(dev, z_event_counter_timeout_ticks(timeout));
}

/**
 * @brief Change edge, overflow policy and enable state.
 *
 * @retval 0 applied
 * @retval -EINVAL NULL settings or a value out of range (nothing changed)
 * @retval -EAGAIN suspended: try again after resume
 * @retval -EBADF not open
 * @retval -ENODEV NULL, not ready, or removed
 * @retval -EPERM called from an ISR
 */
static inline int event_counter_configure(const struct device *dev,
					  const struct event_counter_settings *settings)
{
	if (dev == NULL) {
		return -ENODEV;
	}
	return Z_EVENT_COUNTER_API(dev)->configure(dev, settings);
}

/**
 * @brief Read the current settings.
 *
 * @retval 0 success
 * @retval -EINVAL NULL settings
 * @retval -EAGAIN suspended: try again after resume
 * @retval -EBADF not open
 * @retval -ENODEV NULL, not ready, or removed
 * @retval -EPERM called from an ISR
 */
static inline int event_counter_get_settings(const struct device *dev,
					     struct event_counter_settings *settings)
{
	if (dev == NULL) {
		return -ENODEV;
	}
	return Z_EVENT_COUNTER_API(dev)->get_settings(dev, settings);
}

/**
 * @brief Read the reconciliation counters.
 *
 * Works whether or not the device is open, after it was removed, and from an
 * ISR: the counters are driver memory, not hardware.
 *
 * @retval 0 success
 * @retval -EINVAL NULL stats
 * @retval -ENODEV NULL or not ready
 */
static inline int event_counter_get_stats(const struct device *dev,
					  struct event_counter_stats *stats)
{
	if (dev == NULL) {
		return -ENODEV;
	}
	return Z_EVENT_COUNTER_API(dev)->get_stats(dev, stats);
}

/**
 * @brief Install (or, with NULL, remove) the notification sink.
 *
 * @retval 0 success
 * @retval -EAGAIN suspended: try again after resume
 * @retval -EBADF not open
 * @retval -ENODEV NULL, not ready, or removed
 * @retval -EPERM called from an ISR
 */
static inline int event_counter_set_sink(const struct device *dev, event_counter_sink_t sink,
					 void *user_data)
{
	if (dev == NULL) {
		return -ENODEV;
	}
	return Z_EVENT_COUNTER_API(dev)->set_sink(dev, sink, user_data);
}

/**
 * @brief Call the sink with the pending count, with no driver lock held (seed 001).
 *
 * @return the sink's return value when it ran against unchanged driver state
 * @retval -EAGAIN suspended; or the settings or the sink changed, or the device was closed
 *         or removed, while the sink ran; the result was discarded and the
 *         caller may notify again
 * @retval -EINVAL no sink installed
 * @retval -EBADF not open
 * @retval -ENODEV NULL, not ready, or removed
 * @retval -EPERM called from an ISR
 */
static inline int event_counter_notify(const struct device *dev)
{
	if (dev == NULL) {
		return -ENODEV;
	}
	return Z_EVENT_COUNTER_API(dev)->notify(dev);
}

/**
 * @brief Remove the device at run time (hot-unplug).
 *
 * The interrupt source is disabled first, then the call waits up to
 * @p timeout for calls in flight; waiters are woken with -ENODEV. Every later
 * call returns -ENODEV.
 *
 * @retval 0 removed, no call in flight
 * @retval -ETIMEDOUT removed, but calls were still in flight at the timeout;
 *         the last of them releases the device
 * @retval -EINVAL absolute timeout
 * @retval -ENODEV NULL, not ready, or already removed
 * @retval -EPERM called from an ISR
 */
static inline int event_counter_remove(const struct device *dev, k_timeout_t timeout)
{
	if (dev == NULL) {
		return -ENODEV;
	}
	return Z_EVENT_COUNTER_API(dev)->remove(dev, z_event_counter_timeout_ticks(timeout));
}

/**
 * @brief Re-add a removed device (hot-plug).
 *
 * Checks the interrupt source (for a GPIO source: its controller is ready;
 * the pin keeps its configuration from init) and makes the device available.
 * It comes back closed: the client from before the removal is gone, and a
 * client must call event_counter_open() again (calls on the old session
 * return -EBADF). Settings, statistics and events not yet read are kept, so
 * the statistics reconcile across the removal.
 *
 * @retval 0 the device is back, closed
 * @retval -EALREADY the device is present (not removed); nothing changed
 * @retval -EBUSY the removal is still in progress, or calls from before it
 *         are still in flight (after a removal that timed out, or a read or
 *         wait still on its way out, or an open or close that began before
 *         the removal); try again later. Once this returns 0,
 *         event_counter_open() is not refused for them, and no open from
 *         before the removal can open the restored device.
 * @retval -ENODEV NULL, not ready, or the hardware is not back (GPIO
 *         controller not ready); the device stays removed
 * @retval -EPERM called from an ISR
 */
static inline int event_counter_restore(const struct device *dev)
{
	if (dev == NULL) {
		return -ENODEV;
	}
	return Z_EVENT_COUNTER_API(dev)->restore(dev);
}

/**
 * @brief Driver-level PreDeinit (seed 001): refuse new opens on every device.
 *
 * @retval 0 success
 * @retval -EALREADY already called
 * @retval -EBADF the driver is already deinitialised
 * @retval -EPERM called from an ISR
 */
int event_counter_driver_pre_deinit(void);

/**
 * @brief Driver-level Deinit (seed 001): refused while any device is open.
 *
 * Afterwards every event_counter_open() returns -ENODEV.
 *
 * @retval 0 deinitialised
 * @retval -EBUSY a device is still open; nothing changed
 * @retval -EBADF already deinitialised
 * @retval -EPERM called from an ISR
 */
int event_counter_driver_deinit(void);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* EVENT_COUNTER_DRIVERS_EVENT_COUNTER_H_ */
