/*
 * IC heartbeat (type 57164f39-9115-4e78-ab55-382f3bd5422d): once a second
 * of host time we send a sequence number; a live guest answers it plus one
 * (Linux hv_util.c heartbeat_onchannelcallback). `heartbeat P` shows the
 * last answer and how old it is. Versions 3.0 and 1.0, as Linux 6.1 offers
 * (hb_versions).
 */
#include "vsp/ic/ic.h"

#include <string.h>

static const struct ic_version hb_versions[] = {{3, 0}, {1, 0}};

static void hb_ready(struct ic_channel *c, u64 now)
{
	c->u.hb.next_at = now;
	c->u.hb.live = false;
}

static void hb_tick(struct ic_channel *c, u64 now)
{
	struct ic_heartbeat_state *hb = &c->u.hb;
	struct ic_heartbeat_msg msg = {0};
	bool unanswered = c->outstanding && c->out_type == IC_MSG_HEARTBEAT;

	if (now < hb->next_at)
		return;
	msg.seq = hb->seq_sent + 1;
	if (ic_send(c, IC_MSG_HEARTBEAT, &msg, sizeof(msg), now) != VMB_STATUS_SUCCESS)
		return; /* ring full: the next poll tries again */
	hb->seq_sent = msg.seq;
	hb->sent++;
	if (unanswered)
		hb->missed++;
	hb->next_at = now + IC_NS(IC_HEARTBEAT_PERIOD_S);
}

static u64 hb_next_due(const struct ic_channel *c)
{
	return c->u.hb.next_at;
}

static bool hb_response(struct ic_channel *c, const struct ic_msg_hdr *hdr, const u8 *body,
			u32 body_len, u64 now)
{
	struct ic_heartbeat_state *hb = &c->u.hb;
	u64 seq;

	/* Linux checks only the sequence number is there; so do we. */
	if (body_len < sizeof(seq)) {
		ic_reject(c, "heartbeat answer without a sequence number");
		return false;
	}
	memcpy(&seq, body, sizeof(seq));
	if (hdr->status != IC_S_OK || seq != hb->seq_sent + 1) {
		ic_reject(c, "heartbeat answer with a wrong sequence number or a failure status");
		return false;
	}
	hb->seq_answered = seq;
	hb->answered_at = now;
	hb->answered++;
	hb->live = true;
	return true;
}

const struct ic_service_desc ic_heartbeat_desc = {
    .name = "heartbeat",
    .type = VMB_GUID(0x57164f39, 0x9115, 0x4e78, 0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d),
    /* The instance Hyper-V offers (fd149e91-82e0-4a7d-afa6-2a4166cbd7c0), so guest scripts
       written for Hyper-V find the same device. */
    .instance =
	VMB_GUID(0xfd149e91, 0x82e0, 0x4a7d, 0xaf, 0xa6, 0x2a, 0x41, 0x66, 0xcb, 0xd7, 0xc0),
    .msg_type = IC_MSG_HEARTBEAT,
    .versions = hb_versions,
    .nr_versions = ARRAY_SIZE(hb_versions),
    .ready = hb_ready,
    .tick = hb_tick,
    .next_due = hb_next_due,
    .response = hb_response,
};

static const char *hb_state(const struct vsp *v, const struct ic_channel *c, u64 now)
{
	if (vsp_run_state(v) == VSP_STOPPED)
		return "stopped"; /* its channels stay as they were until a reset */
	if (c->state != IC_READY)
		return ic_state_name(c->state);
	if (!c->u.hb.live)
		return "waiting";
	if (now - c->u.hb.answered_at > IC_NS(IC_HEARTBEAT_LATE_S))
		return "late";
	return "ok";
}

static void cmd_heartbeat(struct vsp *v, int argc, char **argv)
{
	struct ic_instance *ic = vsp_state(v);
	const struct ic_channel *c = &ic->ch[IC_HEARTBEAT];
	const struct ic_heartbeat_state *hb = &c->u.hb;
	u64 now = vsp_now_ns();
	long long age_ms = -1;

	if (hb->answered)
		age_ms = (long long)((now - hb->answered_at) / 1000000);
	vsp_printf("heartbeat partition=%s seq=%llu age_ms=%lld state=%s version=%u.%u sent=%llu "
		   "answered=%llu missed=%llu bad=%llu\n",
		   argv[1], (unsigned long long)hb->seq_answered, age_ms, hb_state(v, c, now),
		   c->version.major, c->version.minor, (unsigned long long)hb->sent,
		   (unsigned long long)hb->answered, (unsigned long long)hb->missed,
		   (unsigned long long)c->bad);
}

VSP_COMMAND(ic_heartbeat_cmd) = {
    .name = "heartbeat",
    .vsp = "ic",
    .device = "IC channels",
    .usage = "heartbeat PARTITION",
    .fn = cmd_heartbeat,
    .help = "heartbeat P          last heartbeat P's guest answered (IC)",
};
