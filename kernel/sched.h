/* Round-robin scheduling of partitions on the boot CPU. */
#ifndef BULKHEAD_SCHED_H
#define BULKHEAD_SCHED_H

#include "types.h"

struct partition;

#define SCHED_SLICE_US 10000

__noreturn void sched_loop(void);
/* p's x87/SSE state into the CPU for its slice (the previous owner's saved first). */
void sched_fpu_switch(struct partition *p);
/* One turn of the loop: the console, host work for each partition (charged to it), then a
 * slice of the next runnable partition, or idle. sched_loop repeats it; unit tests call it. */
void sched_round(void);
/* p's x87/SSE image (p->vp.fpu) brought up to date from the CPU, if the CPU has it. */
void sched_fpu_flush(struct partition *p);
/*
 * p->vp.fpu was rewritten (a restore, a reset): it is p's state from now on,
 * loaded into the CPU at once if p owns the CPU's registers.
 */
void sched_fpu_load(struct partition *p);

#endif
