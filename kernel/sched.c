/*
 * The scheduler: each runnable partition in turn gets a slice of at most
 * SCHED_SLICE_US; the VP's preemption timer ends a slice that a guest would
 * not give up. The console is polled between exits.
 */
#include "sched.h"
#include "arch.h"
#include "con.h"
#include "exit.h"
#include "part.h"

static struct partition *fpu_owner; /* whose x87/SSE state is in the CPU */

static void fpu_switch(struct partition *p)
{
	if (fpu_owner == p)
		return;
	if (fpu_owner)
		arch_fpu_save(fpu_owner->vp.fpu);
	arch_fpu_restore(p->vp.fpu);
	fpu_owner = p;
}

static void run_slice(struct partition *p)
{
	u64 start = arch_time_us(), now = start;
	struct vm_exit exit;

	p->slices++;
	fpu_switch(p);
	while (p->state == PART_RUNNING && now - start < SCHED_SLICE_US) {
		vp_ops->vp_run(&p->vp, &exit, SCHED_SLICE_US - (now - start));
		p->vp.exits++;
		if (exit_handle(&p->vp, &exit))
			break;
		con_poll();
		now = arch_time_us();
	}
	p->run_us += arch_time_us() - start;
}

void sched_loop(void)
{
	unsigned next = 0;

	for (;;) {
		con_poll();
		for (unsigned n = 0; n < nr_partitions; n++) {
			struct partition *p = &partitions[(next + n) % nr_partitions];

			if (p->state != PART_RUNNING)
				continue;
			run_slice(p);
			next = (unsigned)(p - partitions) + 1;
			break;
		}
		if (!nr_partitions || next > nr_partitions)
			next = 0;
	}
}
