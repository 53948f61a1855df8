/*
 * The saved state of the Hyper-V interface (snap_state.h): the partition's
 * synthetic MSRs and reference clock. The SynIC has its own record
 * (synic.c); the connections (ports) are the devices' and stay as they are.
 * Pure: unit tests.
 */
#include "hv.h"
#include "snap_state.h"

#include <stdio.h>
#include <string.h>

#define PAGE_MSR_BITS (HV_MSR_GPA_MASK | HV_MSR_ENABLE)

void hv_save(const struct hv *hv, struct hv_saved *r)
{
	_Static_assert(ARRAY_SIZE(hv->crash) == ARRAY_SIZE(r->crash), "Hyper-V record: crash MSRs");
	memset(r, 0, sizeof(*r));
	r->guest_os_id = hv->guest_os_id;
	r->hypercall = hv->hypercall;
	r->ref_tsc = hv->ref_tsc;
	r->vp_assist = hv->vp_assist;
	memcpy(r->crash, hv->crash, sizeof(r->crash));
	r->crash_ctl = hv->crash_ctl;
	r->clock_scale = hv->clock.scale;
	r->clock_offset = hv->clock.offset;
	r->clock_start = hv->clock.start;
	r->hypercalls = hv->hypercalls;
}

int hv_load(struct hv *hv, const struct hv_saved *r, char *err, size_t errlen)
{
	const char *bad = NULL;

	/* The MSR bits hv.c keeps (TLFS 3.13, 12.7.1, 7.8.7, 2.4.4). */
	if ((r->hypercall & ~(PAGE_MSR_BITS | HV_HYPERCALL_LOCKED)) ||
	    (r->ref_tsc & ~PAGE_MSR_BITS) || (r->vp_assist & ~PAGE_MSR_BITS) ||
	    (r->crash_ctl & ~(HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_MESSAGE)) ||
	    (!r->guest_os_id && (r->hypercall & HV_MSR_ENABLE)))
		bad = "synthetic MSR out of range";
	else if (r->clock_scale != hv->clock.scale)
		bad = "reference clock of a host with another TSC rate";
	if (bad) {
		snprintf(err, errlen, "Hyper-V record: %s", bad);
		return -1;
	}
	hv->guest_os_id = r->guest_os_id;
	hv->hypercall = r->hypercall;
	hv->ref_tsc = r->ref_tsc;
	hv->vp_assist = r->vp_assist;
	memcpy(hv->crash, r->crash, sizeof(hv->crash));
	hv->crash_ctl = r->crash_ctl;
	hv->clock.offset = r->clock_offset;
	hv->clock.start = r->clock_start;
	hv->hypercalls = r->hypercalls;
	return 0;
}
