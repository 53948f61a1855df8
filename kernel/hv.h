/*
 * The Hyper-V synthetic interface of a partition (TLFS; what Linux needs is
 * in docs/hyperv-guest.md): CPUID leaves, the synthetic MSRs (guest OS id,
 * hypercall page, VP index, reference time and TSC page, frequencies, VP
 * assist page, crash MSRs, SynIC and timers), and the hypercall dispatcher.
 * Connections (VMBus) register here to receive HvPostMessage/HvSignalEvent.
 */
#ifndef BULKHEAD_HV_H
#define BULKHEAD_HV_H

#include "hv_defs.h"
#include "hv_time.h"
#include "synic.h"

struct partition;
struct vp;

#define HV_MAX_PORTS 8

/*
 * Connection ids the guest can post messages to or signal (TLFS 11.2 ports
 * and connections): [conn_id, conn_id + count), one id when count is 0. The
 * handlers learn which id of the range the guest named.
 */
struct hv_port {
	u32 conn_id;
	/* Returns an HV_STATUS (e.g. INSUFFICIENT_BUFFERS: the guest retries). */
	int (*post)(void *ctx, u32 conn_id, u32 type, const void *payload, u32 size);
	int (*signal)(void *ctx, u32 conn_id, unsigned flag);
	void *ctx;
	u32 count;
};

struct hv {
	u64 guest_os_id, hypercall, ref_tsc, vp_assist;
	u64 crash[5], crash_ctl;
	u64 crash_reports; /* notifications since the reset; only the first is printed */
	struct hv_clock clock;
	struct synic synic;
	struct hv_port ports[HV_MAX_PORTS];
	unsigned nr_ports;
	u64 hypercalls;
};

/* At partition reset (TSC now): everything off, reference time 0. */
void hv_init(struct partition *p, u64 now);
/* CPUID leaves 0x40000000-0x400000ff. */
void hv_cpuid(u32 leaf, u32 out[4]);
/* Synthetic MSRs: true if index is one (then ok says whether the access is allowed). */
bool hv_msr_read(struct vp *vp, u32 index, u64 *val, bool *ok);
bool hv_msr_write(struct vp *vp, u32 index, u64 val, bool *ok);
void hypercall_dispatch(struct vp *vp);
/* Timers: expire what is due by TSC now; TSC of the next expiry, or ~0. */
void hv_tick(struct partition *p, u64 now);
u64 hv_next_deadline(const struct partition *p);
/* Offer connections to the guest. 0, or -1 when full or any id of the range is taken. */
int hv_port_add(struct partition *p, const struct hv_port *port);
/*
 * Saved state (snap_state.h, hv_save.c): the synthetic MSRs and the clock, out and back in
 * after checking every field (-1 with a reason: nothing changed). The SynIC is saved on its
 * own (synic_save); ports stay.
 */
struct hv_saved;
void hv_save(const struct hv *hv, struct hv_saved *r);
int hv_load(struct hv *hv, const struct hv_saved *r, char *err, size_t errlen);

/* ---- hypercall input parsing (hv_hypercall.c, pure: unit tests and fuzzing) ---- */

struct hv_call {
	u16 code;
	bool fast;
	u16 varhead; /* variable header size in 8-byte units */
	u16 rep_count, rep_start;
};

/* Split the control word (TLFS 3.7); a status for reserved bits set. */
int hv_call_decode(u64 control, struct hv_call *c);
/* Check an HvPostMessage input page already copied out of the guest (TLFS 11.10.1). */
int hv_post_message_check(const struct hv_post_message_input *in);
/* HvSignalEvent input: connection id and flag number (TLFS 11.10.2). */
int hv_signal_event_decode(u64 input, u32 *conn_id, u16 *flag);

#endif
