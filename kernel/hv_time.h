/*
 * Partition reference time (TLFS 12.1, 12.7): 100 ns units since the
 * partition started, derived from the host TSC the guest also reads, so
 * TIME_REF_COUNT, the reference TSC page and synthetic timer deadlines all
 * agree: ReferenceTime = ((TSC * scale) >> 64) + offset. Pure arithmetic.
 */
#ifndef BULKHEAD_HV_TIME_H
#define BULKHEAD_HV_TIME_H

#include "types.h"

struct hv_clock {
	u64 scale;  /* 2^64 * 10^7 / tsc_hz */
	s64 offset; /* makes the reference time 0 at the start TSC */
	u64 start;  /* the clock is defined from this TSC on */
};

/* A clock that reads 0 at TSC start. tsc_hz must exceed 10 MHz (HV_REF_HZ). */
void hv_clock_init(struct hv_clock *c, u64 tsc_hz, u64 start);
u64 hv_clock_ref(const struct hv_clock *c, u64 tsc);
/* The first TSC value (not before start) at which the reference time reaches ref; ~0: never. */
u64 hv_clock_tsc(const struct hv_clock *c, u64 ref);

#endif
