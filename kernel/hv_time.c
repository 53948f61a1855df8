/* Reference time from the TSC (hv_time.h; TLFS 12.7.2 "Reference TSC Page"). */
#include "hv_time.h"
#include "hv_defs.h"

typedef unsigned __int128 u128;

void hv_clock_init(struct hv_clock *c, u64 tsc_hz, u64 start)
{
	c->scale = (u64)(((u128)HV_REF_HZ << 64) / MAX(tsc_hz, HV_REF_HZ + 1));
	c->offset = -(s64)(u64)(((u128)start * c->scale) >> 64);
}

u64 hv_clock_ref(const struct hv_clock *c, u64 tsc)
{
	return (u64)(((u128)tsc * c->scale) >> 64) + (u64)c->offset;
}

u64 hv_clock_tsc(const struct hv_clock *c, u64 ref)
{
	u128 scaled = (u128)(ref - (u64)c->offset) << 64;
	u128 tsc = (scaled + c->scale - 1) / c->scale;

	/* The guess may be one high or low after rounding the product down: settle it. */
	while (tsc > 0 && hv_clock_ref(c, (u64)(tsc - 1)) >= ref)
		tsc--;
	while (hv_clock_ref(c, (u64)tsc) < ref)
		tsc++;
	return tsc >> 64 ? ~0ull : (u64)tsc;
}
