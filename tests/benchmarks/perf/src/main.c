/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Figures 1-4 of BENCHMARKS.md: the Rust event-counter driver against the C
 * baseline (../common/c_event_counter.c), both in this image.
 *
 * Time is k_cycle_get_32(). On qemu_cortex_m3, QEMU runs with -icount, so
 * emulated time advances by a fixed amount per executed instruction and every
 * figure is a deterministic function of the instructions executed. The image
 * measures cycles per instruction itself (a loop of known length) and prints
 * raw cycle sums; scripts/bench_report.py converts and compares them.
 *
 * Output lines: "BENCH <key> <name>=<value> ...", then "BENCH done".
 */

#include <string.h>

#include <zephyr/irq.h>
#include <zephyr/irq_offload.h>
#include <zephyr/kernel.h>
#include <zephyr/sys/printk.h>
#include <zephyr/version.h>

#include <drivers/event_counter.h>

#include "c_event_counter.h"
#include "event_counter_shim.h"

/* Rust entry points: the driver's ISR path (drivers/event_counter/src/ffi.rs)
 * and the lock loops of src/lib.rs.
 */
void z_event_counter_rs_on_event(void *state, uint32_t cycles);
void bench_rs_spin_pairs(uint32_t n);
void bench_rs_mutex_pairs(uint32_t n);
void bench_rs_raw_spin_pairs(uint32_t n);
void bench_rs_raw_mutex_pairs(uint32_t n);
void bench_rs_sync_spin_pairs(uint32_t n);
void bench_rs_sync_mutex_pairs(uint32_t n);
size_t bench_rs_device_size(void);
bool bench_rs_spin_matches_kernel(void);

#define SAMPLES        256
/* A sample more than this above the smallest one had an interrupt in it. */
#define OUTLIER_CYCLES 48
#define RING_DEPTH     DT_PROP(DT_NODELABEL(evc_rust), capture_depth)
BUILD_ASSERT(RING_DEPTH == DT_PROP(DT_NODELABEL(evc_c), capture_depth));
BUILD_ASSERT(RING_DEPTH >= 32);

#define X8(s) do { s; s; s; s; s; s; s; s; } while (0)

/* ---- The two drivers ----------------------------------------------------- */

typedef void (*event_fn)(const struct device *dev, uint32_t cycles);

/* Each ISR path as its trampoline calls it: one load, then the driver. */
static void rs_event(const struct device *dev, uint32_t cycles)
{
	z_event_counter_rs_on_event(((struct event_counter_data *)dev->data)->rust_state, cycles);
}

static void c_event(const struct device *dev, uint32_t cycles)
{
	c_event_counter_on_event(dev, cycles);
}

static void noop_event(const struct device *dev, uint32_t cycles)
{
	ARG_UNUSED(dev);
	ARG_UNUSED(cycles);
	__asm__ volatile("" ::: "memory");
}

struct driver {
	const char *name;
	const struct device *dev;
	event_fn event;
	volatile uint32_t received;
	struct k_thread thread;
};

static struct driver drivers[] = {
	{.name = "rust", .dev = DEVICE_DT_GET(DT_NODELABEL(evc_rust)), .event = rs_event},
	{.name = "c", .dev = DEVICE_DT_GET(DT_NODELABEL(evc_c)), .event = c_event},
};

K_THREAD_STACK_ARRAY_DEFINE(reader_stacks, ARRAY_SIZE(drivers), 1024);

/* ---- Sampling -------------------------------------------------------------- */

static uint32_t samples[SAMPLES];

struct summary {
	uint32_t sum;
	uint32_t n;
	uint32_t outliers;
};

static struct summary summarize(uint32_t count)
{
	struct summary s = {0};
	uint32_t min = UINT32_MAX;

	for (uint32_t i = 0; i < count; i++) {
		min = MIN(min, samples[i]);
	}
	for (uint32_t i = 0; i < count; i++) {
		if (samples[i] <= min + OUTLIER_CYCLES) {
			s.sum += samples[i];
			s.n++;
		} else {
			s.outliers++;
		}
	}
	return s;
}

/* One line per measurement: cycles summed over n samples of `ops` operations,
 * and the same for its calibration (the identical harness around a no-op).
 */
static void report(const char *key, const char *driver, uint32_t ops, struct summary m,
		   struct summary cal)
{
	printk("BENCH %s driver=%s ops=%u sum=%u n=%u out=%u cal_sum=%u cal_n=%u cal_out=%u\n", key,
	       driver, ops, m.sum, m.n, m.outliers, cal.sum, cal.n, cal.outliers);
}

typedef void (*op_fn)(const void *arg);

/* SAMPLES timings of op(arg) in the calling context. */
static struct summary time_op(op_fn op, const void *arg)
{
	for (uint32_t i = 0; i < SAMPLES; i++) {
		uint32_t t0 = k_cycle_get_32();

		op(arg);
		samples[i] = k_cycle_get_32() - t0;
	}
	return summarize(SAMPLES);
}

static void noop_op(const void *arg)
{
	ARG_UNUSED(arg);
	__asm__ volatile("" ::: "memory");
}

/* ---- Calibration: cycles per instruction ------------------------------------ */

static __attribute__((noinline)) void run_instructions(uint32_t loops)
{
	/* Two instructions per turn. */
	__asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(loops) : : "cc");
}

static void calibrate(void)
{
	const uint32_t loops = 20000;
	unsigned int key = irq_lock();
	uint32_t t0 = k_cycle_get_32();

	run_instructions(loops);
	uint32_t t1 = k_cycle_get_32();

	run_instructions(2 * loops);
	uint32_t t2 = k_cycle_get_32();

	irq_unlock(key);
	/* The difference of the two runs is exactly 2 * loops instructions. */
	printk("BENCH cpi instructions=%u cycles=%u\n", 2 * loops, (t2 - t1) - (t1 - t0));
}

/* ---- Figure 2: lock+unlock pairs, uncontended -------------------------------- */

#define PAIR_TURNS 32 /* x 8 pairs per call */

static __attribute__((noinline)) void bench_c_spin_pairs(uint32_t n)
{
	struct k_spinlock lock = {};

	for (uint32_t i = 0; i < n; i++) {
		X8({
			k_spinlock_key_t key = k_spin_lock(&lock);

			k_spin_unlock(&lock, key);
		});
	}
}

static __attribute__((noinline)) void bench_c_mutex_pairs(uint32_t n)
{
	struct k_mutex mutex;

	k_mutex_init(&mutex);
	for (uint32_t i = 0; i < n; i++) {
		X8({
			k_mutex_lock(&mutex, K_FOREVER);
			k_mutex_unlock(&mutex);
		});
	}
}

static void op_c_spin(const void *a) { ARG_UNUSED(a); bench_c_spin_pairs(PAIR_TURNS); }
static void op_c_mutex(const void *a) { ARG_UNUSED(a); bench_c_mutex_pairs(PAIR_TURNS); }
static void op_rs_spin(const void *a) { ARG_UNUSED(a); bench_rs_spin_pairs(PAIR_TURNS); }
static void op_rs_mutex(const void *a) { ARG_UNUSED(a); bench_rs_mutex_pairs(PAIR_TURNS); }
static void op_rs_raw_spin(const void *a) { ARG_UNUSED(a); bench_rs_raw_spin_pairs(PAIR_TURNS); }
static void op_rs_raw_mutex(const void *a) { ARG_UNUSED(a); bench_rs_raw_mutex_pairs(PAIR_TURNS); }
static void op_rs_sync_spin(const void *a) { ARG_UNUSED(a); bench_rs_sync_spin_pairs(PAIR_TURNS); }
static void op_rs_sync_mutex(const void *a) { ARG_UNUSED(a); bench_rs_sync_mutex_pairs(PAIR_TURNS); }

static void figure_locks(void)
{
	const uint32_t pairs = 8 * PAIR_TURNS;
	const struct summary cal = time_op(noop_op, NULL);

	report("locks.spin", "c", pairs, time_op(op_c_spin, NULL), cal);
	report("locks.spin", "rust", pairs, time_op(op_rs_spin, NULL), cal);
	report("locks.spin", "rust_raw", pairs, time_op(op_rs_raw_spin, NULL), cal);
	report("locks.spin", "rust_sync", pairs, time_op(op_rs_sync_spin, NULL), cal);
	/* The driver's inlined k_spinlock must mask exactly as k_spin_lock() does. */
	if (!bench_rs_spin_matches_kernel()) {
		printk("BENCH error spin_lock_mismatch driver=rust value=0\n");
	}
	report("locks.mutex", "c", pairs, time_op(op_c_mutex, NULL), cal);
	report("locks.mutex", "rust", pairs, time_op(op_rs_mutex, NULL), cal);
	report("locks.mutex", "rust_raw", pairs, time_op(op_rs_raw_mutex, NULL), cal);
	bench_rs_sync_mutex_pairs(0); /* makes zephyr::sync::Mutex's k_mutex, untimed */
	report("locks.mutex", "rust_sync", pairs, time_op(op_rs_sync_mutex, NULL), cal);
}

/* ---- Helpers on a driver ------------------------------------------------------ */

static struct event_counter_event buf[RING_DEPTH];

static void drain(const struct driver *d)
{
	while (event_counter_read(d->dev, buf, ARRAY_SIZE(buf)) > 0) {
	}
}

/* `n` events through the ISR path, from this thread with interrupts masked. */
static void fill(const struct driver *d, uint32_t n)
{
	unsigned int key = irq_lock();

	for (uint32_t i = 0; i < n; i++) {
		d->event(d->dev, i);
	}
	irq_unlock(key);
}

/* ---- Figure 3: thread read path ------------------------------------------------ */

struct read_arg {
	const struct driver *d;
	uint32_t n;
};

static void fail(const char *what, const char *driver, int value)
{
	printk("BENCH error %s driver=%s value=%d\n", what, driver, value);
}

static void figure_read(void)
{
	static const uint32_t sizes[] = {1, 8, 32};

	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		for (size_t k = 0; k < ARRAY_SIZE(drivers); k++) {
			const struct driver *d = &drivers[k];
			const uint32_t n = sizes[s];
			uint32_t cal[SAMPLES];

			for (uint32_t i = 0; i < SAMPLES; i++) {
				uint32_t t0 = k_cycle_get_32();

				noop_op(NULL);
				cal[i] = k_cycle_get_32() - t0;
			}
			for (uint32_t i = 0; i < SAMPLES; i++) {
				fill(d, n);
				uint32_t t0 = k_cycle_get_32();
				int r = event_counter_read(d->dev, buf, n);

				samples[i] = k_cycle_get_32() - t0;
				if (r != (int)n) {
					fail("read", d->name, r);
				}
			}
			struct summary m = summarize(SAMPLES);

			memcpy(samples, cal, sizeof(cal));
			char key[16];

			snprintk(key, sizeof(key), "read.%u", n);
			report(key, d->name, n, m, summarize(SAMPLES));
		}
	}
}

/* ---- Figure 1: ISR path, in interrupt context (irq_offload) -------------------- */

struct isr_arg {
	event_fn event;
	const struct device *dev;
	uint32_t events; /* 1 or 8 */
	uint32_t sample;
};

static void isr_sample(const void *p)
{
	const struct isr_arg *a = p;
	const event_fn event = a->event;
	const struct device *dev = a->dev;
	uint32_t t0 = k_cycle_get_32();

	if (a->events == 1) {
		event(dev, 1);
	} else {
		X8(event(dev, 2));
	}
	samples[a->sample] = k_cycle_get_32() - t0;
}

static void isr_prime(const void *p)
{
	const struct isr_arg *a = p;

	a->event(a->dev, 0);
}

/* 1b: eight events into a ring that already holds one: no wake-up. */
static void figure_isr_nowake(void)
{
	for (size_t k = 0; k < ARRAY_SIZE(drivers); k++) {
		const struct driver *d = &drivers[k];
		struct summary m, cal;
		struct isr_arg a = {.dev = d->dev, .events = 8};

		for (int pass = 0; pass < 2; pass++) {
			a.event = pass == 0 ? noop_event : d->event;
			for (uint32_t i = 0; i < SAMPLES; i++) {
				drain(d);
				irq_offload(isr_prime, &a);
				a.sample = i;
				irq_offload(isr_sample, &a);
			}
			if (pass == 0) {
				cal = summarize(SAMPLES);
			} else {
				m = summarize(SAMPLES);
			}
		}
		drain(d);
		report("isr.nowake", d->name, 8, m, cal);
	}
}

/* 1a: one event into an empty ring with a reader blocked in event_counter_wait(). */
static void figure_isr_wake(void)
{
	for (size_t k = 0; k < ARRAY_SIZE(drivers); k++) {
		struct driver *d = &drivers[k];
		struct summary m, cal;
		struct isr_arg a = {.dev = d->dev, .events = 1};

		for (int pass = 0; pass < 2; pass++) {
			a.event = pass == 0 ? noop_event : d->event;
			for (uint32_t i = 0; i < SAMPLES; i++) {
				const uint32_t before = d->received;

				a.sample = i;
				/* The reader has the higher priority: it is blocked in
				 * wait() whenever this thread runs, and it takes the
				 * event before irq_offload() returns here.
				 */
				irq_offload(isr_sample, &a);
				if (pass == 1 && d->received != before + 1) {
					fail("wake", d->name, (int)(d->received - before));
				}
			}
			if (pass == 0) {
				cal = summarize(SAMPLES);
			} else {
				m = summarize(SAMPLES);
			}
		}
		report("isr.wake", d->name, 1, m, cal);
	}
}

/* ---- Readers: wait, then read up to 8 events, forever ----------------------------- */

static void reader(void *p1, void *p2, void *p3)
{
	struct driver *d = p1;
	struct event_counter_event events[8];

	ARG_UNUSED(p2);
	ARG_UNUSED(p3);
	for (;;) {
		int r = event_counter_wait(d->dev, K_FOREVER);

		if (r < 0) {
			fail("reader wait", d->name, r);
			return;
		}
		r = event_counter_read(d->dev, events, ARRAY_SIZE(events));
		if (r < 0) {
			fail("reader read", d->name, r);
			return;
		}
		d->received += (uint32_t)r;
	}
}

static void start_readers(void)
{
	for (size_t k = 0; k < ARRAY_SIZE(drivers); k++) {
		k_thread_create(&drivers[k].thread, reader_stacks[k],
				K_THREAD_STACK_SIZEOF(reader_stacks[k]), reader, &drivers[k], NULL,
				NULL, K_PRIO_PREEMPT(1), 0, K_NO_WAIT);
	}
	/* Let them take any tokens left by the fills above, then block. */
	k_msleep(20);
}

/* ---- Figure 4: sustained rate from a hardware timer --------------------------------- */

/* lm3s6965 general-purpose timers (emulated by QEMU on the virtual clock, so
 * in lock-step with the instruction count). Timer 0 raises the events,
 * periodically; timer 1, at a higher priority, closes the window half a
 * period after the last of TRIAL_EVENTS expiries, so that exactly
 * TRIAL_EVENTS events are generated whatever the CPU load. The main thread
 * busy-waits meanwhile: if the CPU idled (WFI), QEMU's icount would warp the
 * virtual clock past timer deadlines and the schedule would slip.
 */
#define GPTM0_BASE  0x40030000UL
#define GPTM1_BASE  0x40031000UL
#define GPTM_REG(b, o) (*(volatile uint32_t *)((b) + (o)))
#define GPTM_CFG    0x000
#define GPTM_TAMR   0x004
#define GPTM_CTL    0x00c
#define GPTM_IMR    0x018
#define GPTM_RIS    0x01c
#define GPTM_ICR    0x024
#define GPTM_TAILR  0x028
#define GPTM0A_IRQ  19
#define GPTM1A_IRQ  21
#define EVENT_PRIO  1
#define WINDOW_PRIO 0

#define TRIAL_EVENTS 2000

static struct {
	event_fn event;
	const struct device *dev;
	uint32_t isr_calls;
	uint32_t t_first;
	uint32_t t_last;
	volatile bool done;
} rate;

static void event_timer_isr(const void *arg)
{
	ARG_UNUSED(arg);
	if ((GPTM_REG(GPTM0_BASE, GPTM_RIS) & 1U) == 0U) {
		return;
	}
	GPTM_REG(GPTM0_BASE, GPTM_ICR) = 1U;
	const uint32_t now = k_cycle_get_32();

	rate.event(rate.dev, now);
	if (rate.isr_calls++ == 0U) {
		rate.t_first = now;
	}
	rate.t_last = now;
}

static void window_timer_isr(const void *arg)
{
	ARG_UNUSED(arg);
	GPTM_REG(GPTM0_BASE, GPTM_CTL) = 0U;
	GPTM_REG(GPTM1_BASE, GPTM_CTL) = 0U;
	GPTM_REG(GPTM1_BASE, GPTM_ICR) = 1U;
	rate.done = true;
}

static void gptm_setup(uintptr_t base, uint32_t mode, uint32_t load)
{
	GPTM_REG(base, GPTM_CTL) = 0U;
	GPTM_REG(base, GPTM_CFG) = 0U; /* 32-bit */
	GPTM_REG(base, GPTM_TAMR) = mode;
	GPTM_REG(base, GPTM_TAILR) = load;
	GPTM_REG(base, GPTM_ICR) = 1U;
	GPTM_REG(base, GPTM_IMR) = 1U; /* time-out interrupt */
}

struct trial {
	uint32_t generated;
	uint32_t isr;
	uint32_t seen;
	uint32_t read;
	uint32_t dropped;
	uint32_t pending;
};

/* TRIAL_EVENTS events, one per `period` timer ticks; true if none was lost. */
static bool rate_trial(const struct driver *d, uint32_t period, struct trial *t)
{
	struct event_counter_stats before, after;

	(void)event_counter_get_stats(d->dev, &before);
	rate.event = d->event;
	rate.dev = d->dev;
	rate.isr_calls = 0U;
	rate.done = false;
	gptm_setup(GPTM0_BASE, 2U /* periodic */, period);
	gptm_setup(GPTM1_BASE, 2U /* periodic, stopped at its first expiry */, TRIAL_EVENTS * period + period / 2U);

	unsigned int key = irq_lock();

	GPTM_REG(GPTM0_BASE, GPTM_CTL) = 1U;
	GPTM_REG(GPTM1_BASE, GPTM_CTL) = 1U;
	irq_unlock(key);

	/* Busy: the CPU never idles during a trial (no WFI, no clock warp). */
	while (!rate.done) {
	}
	/* Let the reader drain the ring. */
	k_msleep(5);
	(void)event_counter_get_stats(d->dev, &after);

	t->generated = TRIAL_EVENTS;
	t->isr = rate.isr_calls;
	t->seen = after.seen - before.seen;
	t->read = after.read - before.read;
	t->dropped = after.dropped - before.dropped;
	t->pending = after.pending;
	return t->isr == TRIAL_EVENTS && t->seen == TRIAL_EVENTS && t->read == TRIAL_EVENTS &&
	       t->dropped == 0U && t->pending == 0U;
}

static void print_trial(const char *key, const struct driver *d, uint32_t period,
			const struct trial *t)
{
	printk("BENCH %s driver=%s period=%u generated=%u isr=%u seen=%u read=%u dropped=%u "
	       "pending=%u\n",
	       key, d->name, period, t->generated, t->isr, t->seen, t->read, t->dropped,
	       t->pending);
}

static void figure_rate(void)
{
	IRQ_CONNECT(GPTM0A_IRQ, EVENT_PRIO, event_timer_isr, NULL, 0);
	IRQ_CONNECT(GPTM1A_IRQ, WINDOW_PRIO, window_timer_isr, NULL, 0);
	irq_enable(GPTM0A_IRQ);
	irq_enable(GPTM1A_IRQ);

	for (size_t k = 0; k < ARRAY_SIZE(drivers); k++) {
		const struct driver *d = &drivers[k];
		struct trial t;
		uint32_t lo = 8, hi = 4000;

		/* A slow rate must reconcile exactly, or the method is broken. */
		if (!rate_trial(d, hi, &t)) {
			print_trial("rate.check_failed", d, hi, &t);
			continue;
		}
		print_trial("rate.check", d, hi, &t);
		/* Timer ticks in cycles, from the slow run's evenly spaced ISRs. */
		printk("BENCH rate.tick driver=%s ticks=%u cycles=%u\n", d->name,
		       hi * (t.isr - 1U), rate.t_last - rate.t_first);
		while (hi - lo > 1) {
			const uint32_t mid = lo + (hi - lo) / 2;

			if (rate_trial(d, mid, &t)) {
				hi = mid;
			} else {
				lo = mid;
			}
		}
		(void)rate_trial(d, hi, &t);
		print_trial("rate.best", d, hi, &t);
		(void)rate_trial(d, lo, &t);
		print_trial("rate.fail", d, lo, &t);
	}
	irq_disable(GPTM0A_IRQ);
	irq_disable(GPTM1A_IRQ);
}

/* ---- main ------------------------------------------------------------------------ */

int main(void)
{
	printk("BENCH env zephyr=%s gcc=\"%s\" hz=%u icount_shift=%d\n", KERNEL_VERSION_STRING,
	       __VERSION__, sys_clock_hw_cycles_per_sec(), CONFIG_QEMU_ICOUNT_SHIFT);
	printk("BENCH sizes rust_device=%u rust_reserved=%u rust_data=%u c_data=%u\n",
	       (unsigned int)bench_rs_device_size(), (unsigned int)CONFIG_EVENT_COUNTER_STATE_SIZE,
	       (unsigned int)sizeof(struct event_counter_data),
	       (unsigned int)sizeof(struct c_event_counter_data));

	for (size_t k = 0; k < ARRAY_SIZE(drivers); k++) {
		int r = event_counter_open(drivers[k].dev);

		if (r < 0) {
			fail("open", drivers[k].name, r);
			return 0;
		}
	}

	calibrate();
	figure_locks();
	figure_read();
	figure_isr_nowake();
	start_readers();
	figure_isr_wake();
	/* Scenario perf.lockdep reports the validator's cost on figures 1-3;
	 * the rate search (minutes of emulated trials) is the plain image's.
	 */
	if (!IS_ENABLED(CONFIG_EVENT_COUNTER_LOCKDEP)) {
		figure_rate();
	}

	printk("BENCH done\n");
	return 0;
}
