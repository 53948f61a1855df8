/*
 * The scheduler: each runnable partition in turn gets a slice of at most
 * SCHED_SLICE_US; the VP's preemption timer ends a slice that a guest would
 * not give up, and a slice ends early at the partition's next timer event.
 * A VP that halted with interrupts on is idle until one arrives; when every
 * partition is idle the CPU halts until the nearest timer event. The console
 * is polled between exits.
 */
#include "sched.h"
#include "arch.h"
#include "con.h"
#include "exit.h"
#include "ext.h"
#include "irq.h"
#include "part.h"

#define IDLE_MAX_US 10000 /* the console is polled at least this often */
#define CON_POLL_US 1000  /* between exits: a port read of the real UART each time is too dear */
#define US_PER_S    1000000ull

static struct partition *fpu_owner; /* whose x87/SSE state is in the CPU */
static u64 last_poll;		    /* arch_time_us() of the last console poll */

void sched_fpu_switch(struct partition *p)
{
	if (fpu_owner == p)
		return;
	if (fpu_owner)
		arch_fpu_save(fpu_owner->vp.fpu);
	arch_fpu_restore(p->vp.fpu);
	fpu_owner = p;
}

void sched_fpu_flush(struct partition *p)
{
	if (fpu_owner == p)
		arch_fpu_save(p->vp.fpu);
}

void sched_fpu_load(struct partition *p)
{
	/* Inside p's own slice (the console runs between exits) the CPU holds p's old registers. */
	if (fpu_owner == p)
		arch_fpu_restore(p->vp.fpu);
}

/* Microseconds from now until TSC deadline (at least 1), capped at max. */
static u64 us_until(u64 deadline, u64 now, u64 max)
{
	u64 hz = arch_tsc_hz();

	if (deadline <= now)
		return 1;
	if (deadline == ~0ull || deadline - now >= max * (hz / US_PER_S + 1))
		return max;
	return MAX((deadline - now) * US_PER_S / hz, 1);
}

static bool runnable(const struct partition *p)
{
	return p->state == PART_RUNNING && !p->idle;
}

static void run_slice(struct partition *p)
{
	u64 start = arch_time_us(), now = start;
	struct vm_exit exit;

	p->slices++;
	sched_fpu_switch(p);
	while (runnable(p) && now - start < SCHED_SLICE_US) {
		u64 tsc = arch_rdtsc();

		irq_tick(p, tsc);
		irq_deliver(p);
		vp_ops->vp_run(&p->vp, &exit,
			       us_until(irq_next_deadline(p), tsc, SCHED_SLICE_US - (now - start)));
		p->vp.exits++;
		p->vp.exits_by_reason[MIN((unsigned)exit.reason, (unsigned)EXIT_UNHANDLED)]++;
		if (exit_handle(&p->vp, &exit))
			break;
		now = arch_time_us();
		if (now - last_poll >= CON_POLL_US) {
			con_poll();
			last_poll = now;
		}
	}
	p->run_us += arch_time_us() - start;
}

/* Nothing to run: halt until the nearest timer of a running partition. */
static void idle(void)
{
	u64 now = arch_rdtsc(), next = ~0ull;

	for (unsigned i = 0; i < nr_partitions; i++)
		if (partitions[i].state == PART_RUNNING)
			next = MIN(next, irq_next_deadline(&partitions[i]));
	arch_idle(us_until(next, now, IDLE_MAX_US));
}

void sched_loop(void)
{
	unsigned next = 0;

	for (;;) {
		struct partition *chosen = NULL;
		u64 now;

		con_poll();
		now = arch_rdtsc();
		for (unsigned i = 0; i < nr_partitions; i++) {
			if (partitions[i].state != PART_RUNNING)
				continue;
			for_each_part_ext(x) if (x->poll) x->poll(&partitions[i]);
			irq_tick(&partitions[i], now);
		}
		for (unsigned n = 0; n < nr_partitions && !chosen; n++) {
			struct partition *p = &partitions[(next + n) % nr_partitions];

			if (runnable(p))
				chosen = p;
		}
		if (!chosen) {
			idle();
			continue;
		}
		run_slice(chosen);
		next = (unsigned)(chosen - partitions) + 1;
	}
}
