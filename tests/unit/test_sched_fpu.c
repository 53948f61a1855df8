/*
 * Who owns the CPU's x87/SSE registers (kernel/sched.c): a partition's image
 * goes into the CPU for its slice and back out when another partition runs
 * or a snapshot is taken. A restore or reset rewrites a partition's image
 * from the console, between exits, possibly inside that partition's own
 * slice: the new image must be what the guest runs with from then on. The
 * FPU save/load (arch code) is faked as one 512-byte "CPU" buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/arch.h"
#include "kernel/con.h"
#include "kernel/exit.h"
#include "kernel/irq.h"
#include "kernel/part.h"
#include "kernel/sched.h"

/* ---- the fake CPU ---- */

static u8 cpu_fpu[VP_FPU_SIZE];

void arch_fpu_save(void *area)
{
	memcpy(area, cpu_fpu, sizeof(cpu_fpu));
}

void arch_fpu_restore(const void *area)
{
	memcpy(cpu_fpu, area, sizeof(cpu_fpu));
}

/* ---- what sched_loop needs to link; never called here ---- */

struct partition partitions[PART_MAX];
unsigned nr_partitions;
const struct vp_ops *vp_ops;

u64 arch_time_us(void)
{
	return 0;
}

u64 arch_rdtsc(void)
{
	return 0;
}

u64 arch_tsc_hz(void)
{
	return 1000000000ull;
}

void arch_idle(u64 us)
{
}

void con_poll(void)
{
}

bool con_drain_guest(struct partition *p, unsigned max)
{
	return false;
}

bool exit_handle(struct vp *vp, const struct vm_exit *e)
{
	return true;
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

/* ---- tests ---- */

static void fill(u8 *buf, u8 v)
{
	memset(buf, v, VP_FPU_SIZE);
}

static int setup(void **state)
{
	memset(partitions, 0, sizeof(partitions));
	nr_partitions = 2;
	fill(cpu_fpu, 0);
	/* A clean start: nobody owns the CPU's registers after a switch to and from a. */
	sched_fpu_switch(&partitions[0]);
	sched_fpu_switch(&partitions[1]);
	return 0;
}

static void test_switch_saves_the_owner_and_loads_the_next(void **state)
{
	struct partition *a = &partitions[0], *b = &partitions[1];

	fill(a->vp.fpu, 0xa1);
	sched_fpu_switch(a);
	assert_memory_equal(cpu_fpu, a->vp.fpu, VP_FPU_SIZE);
	fill(cpu_fpu, 0xa2); /* a's guest computes */
	fill(b->vp.fpu, 0xb1);
	sched_fpu_switch(b);
	assert_int_equal(a->vp.fpu[0], 0xa2);
	assert_int_equal(cpu_fpu[0], 0xb1);
	fill(cpu_fpu, 0xb2);
	sched_fpu_flush(b); /* a snapshot of b during its slice sees what b computed */
	assert_int_equal(b->vp.fpu[VP_FPU_SIZE - 1], 0xb2);
	sched_fpu_flush(a); /* a is not in the CPU: its image is current already */
	assert_int_equal(a->vp.fpu[0], 0xa2);
}

/*
 * `restore a` (or `reset a`) run from the console inside a's slice: the
 * image it writes is what a's guest runs with for the rest of the slice, and
 * what it computes from there is what the next switch keeps.
 */
static void test_rewrite_inside_the_owners_slice_takes_effect(void **state)
{
	struct partition *a = &partitions[0], *b = &partitions[1];

	fill(a->vp.fpu, 0x11);
	sched_fpu_switch(a);
	fill(cpu_fpu, 0x22);   /* a's guest computes, then the console restores a */
	fill(a->vp.fpu, 0x33); /* snap.c: the snapshot's image */
	sched_fpu_load(a);
	assert_int_equal(cpu_fpu[0], 0x33); /* the restored registers, at once */
	fill(cpu_fpu, 0x44);		    /* a's guest runs on from the restored state */
	sched_fpu_switch(b);
	assert_int_equal(a->vp.fpu[0], 0x44); /* kept, not thrown away */
	sched_fpu_switch(a);
	assert_int_equal(cpu_fpu[0], 0x44);
}

/* A rewrite of a partition that is not in the CPU changes nothing in the CPU. */
static void test_rewrite_of_another_partition_leaves_the_cpu(void **state)
{
	struct partition *a = &partitions[0], *b = &partitions[1];

	fill(a->vp.fpu, 0x55);
	sched_fpu_switch(a);
	fill(cpu_fpu, 0x66);
	fill(b->vp.fpu, 0x77); /* `restore b` while a runs */
	sched_fpu_load(b);
	assert_int_equal(cpu_fpu[0], 0x66);
	sched_fpu_switch(b);
	assert_int_equal(cpu_fpu[0], 0x77);
	assert_int_equal(a->vp.fpu[0], 0x66);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_switch_saves_the_owner_and_loads_the_next, setup),
	    cmocka_unit_test_setup(test_rewrite_inside_the_owners_slice_takes_effect, setup),
	    cmocka_unit_test_setup(test_rewrite_of_another_partition_leaves_the_cpu, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
