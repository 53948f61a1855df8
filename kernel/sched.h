/* Round-robin scheduling of partitions on the boot CPU. */
#ifndef BULKHEAD_SCHED_H
#define BULKHEAD_SCHED_H

#include "types.h"

struct partition;

#define SCHED_SLICE_US 10000

__noreturn void sched_loop(void);
/* One turn of the loop: the console, host work for each partition (charged to it), then a
 * slice of the next runnable partition, or idle. sched_loop repeats it; unit tests call it. */
void sched_round(void);
/* p's x87/SSE image (p->vp.fpu) brought up to date from the CPU, if the CPU has it. */
void sched_fpu_flush(struct partition *p);
/* p->vp.fpu was rewritten: the CPU's copy of p's state is stale. */
void sched_fpu_drop(struct partition *p);

#endif
