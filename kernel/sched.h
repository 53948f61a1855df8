/* Round-robin scheduling of partitions on the boot CPU. */
#ifndef BULKHEAD_SCHED_H
#define BULKHEAD_SCHED_H

#include "types.h"

#define SCHED_SLICE_US 10000

__noreturn void sched_loop(void);

#endif
