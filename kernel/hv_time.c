/* Reference time from the TSC (hv_time.h; TLFS 12.7.2 "Reference TSC Page"). */
#include "hv_time.h"
#include "hv_defs.h"

typedef unsigned __int128 u128;

void hv_clock_init(struct hv_clock *c, u64 tsc_hz, u64 start)
{
	c->scale = (u64)(((u128)HV_REF_HZ << 64) / MAX(tsc_hz, HV_REF_HZ + 1));
	c->offset = -(s64)(u64)(((u128)start * c->scale) >> 64);
	c->start = start;
}

u64 hv_clock_ref(const struct hv_clock *c, u64 tsc)
{
	return (u64)(((u128)tsc * c->scale) >> 64) + (u64)c->offset;
}

/*
 * ref = floor(tsc * scale / 2^64) + offset, so the first TSC that reaches ref
 * is ceil((ref - offset) * 2^64 / scale); offset <= 0, so ref - offset >= ref.
 */
u64 hv_clock_tsc(const struct hv_clock *c, u64 ref)
{
	u128 r = (u128)ref + (u64)-c->offset;
	u128 tsc;

	if (r >> 64)
		return ~0ull; /* beyond any TSC value: never */
	tsc = ((r << 64) + c->scale - 1) / c->scale;
	if (tsc >> 64)
		return ~0ull;
	return MAX((u64)tsc, c->start);
}
