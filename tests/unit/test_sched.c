/*
 * The scheduler (kernel/sched.c) on the host, one round at a time, against a
 * fake clock: VPs that run until their slice ends, an extension whose poll
 * hook makes the host work for one partition, and a console whose queued
 * output costs host time to write out. What is measured is each partition's
 * guest time as the fake VP saw it, never the test's own wall time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/arch.h"
#include "kernel/con.h"
#include "kernel/exit.h"
#include "kernel/ext.h"
#include "kernel/irq.h"
#include "kernel/part.h"
#include "kernel/sched.h"

#define TSC_PER_US 1000ull /* a 1 GHz TSC */
#define ROUNDS	   400

struct partition partitions[PART_MAX];
unsigned nr_partitions;

static u64 now_us;
static u64 guest_us[PART_MAX];	    /* time the fake VP ran each partition */
static u64 longest_slice[PART_MAX]; /* the longest slice_us a VP was given */
static u64 poll_cost_us[PART_MAX];  /* host time each poll hook call costs */
static unsigned queued[PART_MAX];   /* console bytes waiting */
static u64 byte_cost_us;	    /* host time to write one console byte */
static u64 work_us[PART_MAX];	    /* host work done for each, as the fakes did it */
static unsigned drain_max_seen, idles;

/* ---- arch.h ---- */

u64 arch_time_us(void)
{
	return now_us;
}

u64 arch_tsc_hz(void)
{
	return TSC_PER_US * 1000000;
}

u64 arch_rdtsc(void)
{
	return now_us * TSC_PER_US;
}

void arch_idle(u64 us)
{
	idles++;
	now_us += us;
}

void arch_fpu_save(void *area)
{
}

void arch_fpu_restore(const void *area)
{
}

/* ---- the VP: runs guest code for the whole slice it is given ---- */

static void fake_vp_run(struct vp *vp, struct vm_exit *exit, u64 slice_us)
{
	unsigned i = (unsigned)(vp->part - partitions);

	memset(exit, 0, sizeof(*exit));
	exit->reason = EXIT_PREEMPT;
	longest_slice[i] = MAX(longest_slice[i], slice_us);
	guest_us[i] += slice_us;
	now_us += slice_us;
}

static const struct vp_ops fake_ops = {.name = "fake", .vp_run = fake_vp_run};
const struct vp_ops *vp_ops = &fake_ops;

bool exit_handle(struct vp *vp, const struct vm_exit *e)
{
	return false;
}

void irq_tick(struct partition *p, u64 now)
{
}

void irq_deliver(struct partition *p)
{
}

u64 irq_next_deadline(const struct partition *p)
{
	return ~0ull;
}

/* ---- the console: queued bytes cost host time when written out ---- */

void con_poll(void)
{
}

bool con_drain_guest(struct partition *p, unsigned max)
{
	unsigned i = (unsigned)(p - partitions), n = MIN(max, queued[i]);

	drain_max_seen = MAX(drain_max_seen, max);
	queued[i] -= n;
	now_us += n * byte_cost_us;
	work_us[i] += n * byte_cost_us;
	return queued[i] != 0;
}

/* ---- an extension whose deferred work costs host time (like the VMBus's) ---- */

static void fake_poll(struct partition *p)
{
	now_us += poll_cost_us[p - partitions];
	work_us[p - partitions] += poll_cost_us[p - partitions];
}

PART_EXT(fake_ext) = {.name = "fake", .poll = fake_poll};

static int setup(void **state)
{
	memset(partitions, 0, sizeof(partitions));
	nr_partitions = 2;
	for (unsigned i = 0; i < nr_partitions; i++) {
		partitions[i].id = i;
		partitions[i].state = PART_RUNNING;
		partitions[i].vp.part = &partitions[i];
	}
	now_us = 1000000;
	memset(guest_us, 0, sizeof(guest_us));
	memset(longest_slice, 0, sizeof(longest_slice));
	memset(poll_cost_us, 0, sizeof(poll_cost_us));
	memset(queued, 0, sizeof(queued));
	memset(work_us, 0, sizeof(work_us));
	byte_cost_us = 0;
	drain_max_seen = idles = 0;
	return 0;
}

static void rounds(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		sched_round();
}

/*
 * Partition i's share: its guest time and the host work done for it (as the fakes did it),
 * less the work its next slices still owe. `info` shows the work as host_ms.
 */
static u64 paid_us(unsigned i)
{
	assert_int_equal(partitions[i].host_us, work_us[i]);
	return guest_us[i] + work_us[i] - partitions[i].owed_us;
}

/* |a - b| <= tolerance */
static void assert_close(u64 a, u64 b, u64 tolerance)
{
	if (a > b + tolerance || b > a + tolerance)
		fail_msg("%llu and %llu differ by more than %llu", (unsigned long long)a,
			 (unsigned long long)b, (unsigned long long)tolerance);
}

/* Two busy partitions share the CPU evenly, a slice each. */
static void test_round_robin(void **state)
{
	rounds(ROUNDS);
	assert_int_equal(guest_us[0], ROUNDS / 2 * SCHED_SLICE_US);
	assert_int_equal(guest_us[1], ROUNDS / 2 * SCHED_SLICE_US);
	assert_int_equal(longest_slice[0], SCHED_SLICE_US);
	assert_int_equal(partitions[0].host_us, 0);
	assert_int_equal(partitions[0].slices, ROUNDS / 2);
}

/*
 * The poll hook's work for partition 0 (VMBus deferred work) costs 4 ms a round: it is
 * partition 0's, so its guest time plus that work matches what its sibling gets, and the
 * sibling's slices stay whole.
 */
static void test_poll_work_is_charged_to_its_partition(void **state)
{
	poll_cost_us[0] = 4000;
	rounds(ROUNDS);
	assert_int_equal(partitions[0].host_us, ROUNDS * 4000);
	assert_int_equal(partitions[1].host_us, 0);
	assert_int_equal(longest_slice[1], SCHED_SLICE_US);
	assert_close(paid_us(0), paid_us(1), 2 * SCHED_SLICE_US);
}

/* Work worth more than a slice, made by each slice the guest runs: its turns pay for it. */
static void test_work_beyond_a_slice_takes_whole_turns(void **state)
{
	u64 seen = 0;

	for (unsigned r = 0; r < ROUNDS; r++) {
		/* The guest ran since the last round: it left 25 ms of work for the host. */
		poll_cost_us[0] = guest_us[0] != seen ? 25000 : 0;
		seen = guest_us[0];
		sched_round();
	}
	assert_true(partitions[0].host_us > 0);
	assert_close(paid_us(0), paid_us(1), 2 * SCHED_SLICE_US);
}

/*
 * A partition that prints without pause: writing its output to the host serial port
 * happens between slices, at most CON_DRAIN_MAX bytes a round, and costs its own time,
 * never its sibling's slice.
 */
static void test_console_output_is_charged_to_its_partition(void **state)
{
	byte_cost_us = 20;
	for (unsigned r = 0; r < ROUNDS; r++) {
		u64 before = guest_us[0];

		sched_round();
		if (guest_us[0] != before)
			queued[0] = UART_OUT_SIZE; /* its slice filled its queue again */
	}
	assert_true(drain_max_seen > 0 && drain_max_seen < UART_OUT_SIZE);
	assert_int_equal(longest_slice[1], SCHED_SLICE_US);
	assert_true(partitions[0].host_us >= (u64)UART_OUT_SIZE * byte_cost_us);
	assert_int_equal(partitions[1].host_us, 0);
	assert_close(paid_us(0), paid_us(1), 2 * SCHED_SLICE_US);
}

/* Output left to write keeps the scheduler from halting the CPU while everyone idles. */
static void test_no_idle_while_output_waits(void **state)
{
	partitions[0].idle = partitions[1].idle = true;
	queued[1] = 3000;
	sched_round();
	sched_round();
	assert_int_equal(idles, 0);
	assert_true(queued[1] > 0);
	sched_round(); /* the last bytes, then nothing is left: the CPU may halt */
	assert_int_equal(queued[1], 0);
	assert_int_equal(idles, 1);
	/* A stopped partition's output is still written; its poll hook is not run. */
	partitions[0].state = PART_STOPPED;
	poll_cost_us[0] = 100;
	queued[0] = 5;
	byte_cost_us = 1;
	partitions[0].host_us = 0;
	sched_round();
	assert_int_equal(queued[0], 0);
	assert_int_equal(partitions[0].host_us, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_round_robin, setup),
	    cmocka_unit_test_setup(test_poll_work_is_charged_to_its_partition, setup),
	    cmocka_unit_test_setup(test_work_beyond_a_slice_takes_whole_turns, setup),
	    cmocka_unit_test_setup(test_console_output_is_charged_to_its_partition, setup),
	    cmocka_unit_test_setup(test_no_idle_while_output_waits, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
