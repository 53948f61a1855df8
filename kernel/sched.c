/*
 * The scheduler: each runnable partition in turn gets a slice of at most
 * SCHED_SLICE_US; the VP's preemption timer ends a slice that a guest would
 * not give up, and a slice ends early at the partition's next timer event.
 * A VP that halted with interrupts on is idle until one arrives; when every
 * partition is idle the CPU halts until the nearest timer event. The console
 * is polled between exits.
 *
 * Host work done for a partition between slices (its extensions' poll hooks,
 * such as VMBus deferred work, and writing its queued console output to the
 * host serial port) is charged to it: counted in host_us and taken from its
 * next slice (owed_us), so a guest that makes the host work for it pays in
 * its own time, and no other partition's slice shrinks.
 */
#include "sched.h"
#include "arch.h"
#include "con.h"
#include "exit.h"
#include "ext.h"
#include "irq.h"
#include "part.h"

#define IDLE_MAX_US   10000 /* the console is polled at least this often */
#define CON_POLL_US   1000  /* between exits: a port read of the real UART each time is too dear */
#define US_PER_S      1000000ull
#define CON_DRAIN_MAX 1024 /* console bytes written for one partition per round */

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
	u64 start = arch_time_us(), now = start, len = SCHED_SLICE_US;
	struct vm_exit exit;

	p->slices++;
	/* Host work done for it since its last slice comes off this one. */
	if (p->owed_us >= len) {
		p->owed_us -= len;
		return;
	}
	len -= p->owed_us;
	p->owed_us = 0;
	sched_fpu_switch(p);
	while (runnable(p) && now - start < len) {
		u64 tsc = arch_rdtsc();

		irq_tick(p, tsc);
		irq_deliver(p);
		vp_ops->vp_run(&p->vp, &exit,
			       us_until(irq_next_deadline(p), tsc, len - (now - start)));
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

/* Work for p between slices, charged to p; true if console output is left for later. */
static bool host_work(struct partition *p)
{
	u64 start = arch_time_us(), spent;
	bool more;

	if (p->state == PART_RUNNING)
		for_each_part_ext(x) if (x->poll) x->poll(p);
	more = con_drain_guest(p, CON_DRAIN_MAX);
	spent = arch_time_us() - start;
	p->host_us += spent;
	p->owed_us += spent;
	return more;
}

void sched_round(void)
{
	static unsigned next;
	struct partition *chosen = NULL;
	bool output_left = false;
	u64 now;

	con_poll();
	for (unsigned i = 0; i < nr_partitions; i++)
		output_left |= host_work(&partitions[i]);
	now = arch_rdtsc();
	for (unsigned i = 0; i < nr_partitions; i++)
		if (partitions[i].state == PART_RUNNING)
			irq_tick(&partitions[i], now);
	for (unsigned n = 0; n < nr_partitions && !chosen; n++) {
		struct partition *p = &partitions[(next + n) % nr_partitions];

		if (runnable(p))
			chosen = p;
	}
	if (!chosen) {
		if (!output_left)
			idle();
		return;
	}
	run_slice(chosen);
	next = (unsigned)(chosen - partitions) + 1;
}

void sched_loop(void)
{
	for (;;)
		sched_round();
}
