/*
 * Parsing of hypercall input: the control word (TLFS 3.7, "Hypercall
 * Inputs"), HvPostMessage's input page (TLFS 11.10.1) and HvSignalEvent's
 * input (TLFS 11.10.2). Pure: every field the guest controls is checked
 * here before the dispatcher (hv.c) acts on it.
 */
#include "hv.h"

/* Control word bits that must be zero: 31:27, 47:44 and 63:60 (TLFS 3.7). */
#define HC_RESERVED_MASK     0xf000f000f8000000ull
#define SIGNAL_RESERVED_MASK (~0ull << HV_SIGNAL_RESERVED_SHIFT)

int hv_call_decode(u64 control, struct hv_call *c)
{
	c->code = control & HV_HC_CODE_MASK;
	c->fast = control & HV_HC_FAST;
	c->varhead = (control >> HV_HC_VARHEAD_SHIFT) & HV_HC_VARHEAD_MASK;
	c->rep_count = (control >> HV_HC_REP_COUNT_SHIFT) & HV_HC_REP_COUNT_MASK;
	c->rep_start = (control >> HV_HC_REP_START_SHIFT) & HV_HC_REP_START_MASK;
	if (control & HC_RESERVED_MASK)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	return HV_STATUS_SUCCESS;
}

int hv_post_message_check(const struct hv_post_message_input *in)
{
	if (in->payload_size > HV_MESSAGE_PAYLOAD_MAX)
		return HV_STATUS_INVALID_PARAMETER;
	/* Type 0 is "no message"; types with the top bit set are the hypervisor's own. */
	if (in->message_type == HV_MESSAGE_NONE || (in->message_type & HV_MESSAGE_TYPE_HYPERVISOR))
		return HV_STATUS_INVALID_PARAMETER;
	return HV_STATUS_SUCCESS;
}

int hv_signal_event_decode(u64 input, u32 *conn_id, u16 *flag)
{
	*conn_id = (u32)input;
	*flag = (input >> HV_SIGNAL_FLAG_SHIFT) & HV_SIGNAL_FLAG_MASK;
	if (input & SIGNAL_RESERVED_MASK)
		return HV_STATUS_INVALID_PARAMETER;
	if (*flag >= HV_EVENT_FLAGS_COUNT)
		return HV_STATUS_INVALID_PARAMETER;
	return HV_STATUS_SUCCESS;
}
