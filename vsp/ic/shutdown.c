/*
 * IC shutdown (type 0e0b6031-5213-4934-818b-38d90ced39db): `shutdown P`
 * sends one shutdown request; the guest answers with a status and, if it
 * accepted, shuts itself down (Linux: orderly_poweroff, which runs
 * /sbin/poweroff and forces a power-off if that cannot be started). We send
 * flags 0, a graceful shut-down (bit 0 would ask for force; Linux treats
 * both alike), reason SHTDN_REASON_FLAG_PLANNED, no timeout and no text.
 * Versions 3.2, 3.1, 3.0 and 1.0, as Linux 6.1 offers (sd_versions).
 */
#include "vsp/ic/ic.h"

#include <stdio.h>
#include <string.h>

static const struct ic_version sd_versions[] = {{3, 2}, {3, 1}, {3, 0}, {1, 0}};

static void sd_ready(struct ic_channel *c, u64 now)
{
}

static void sd_tick(struct ic_channel *c, u64 now)
{
	struct ic_shutdown_state *sd = &c->u.sd;
	struct ic_shutdown_msg *msg = &c->ic->sd_msg; /* 2 KiB: not on the stack */

	if (!sd->pending)
		return;
	memset(msg, 0, sizeof(*msg));
	msg->reason = IC_SHTDN_REASON_FLAG_PLANNED;
	msg->timeout_s = 0;
	msg->flags = sd->flags;
	if (ic_send(c, IC_MSG_SHUTDOWN, msg, sizeof(*msg), now) != VMB_STATUS_SUCCESS)
		return; /* ring full: ic_work tries again */
	sd->pending = false;
	sd->requested++;
}

static u64 sd_next_due(const struct ic_channel *c)
{
	return c->u.sd.pending ? 0 : ~0ull;
}

static bool sd_response(struct ic_channel *c, const struct ic_msg_hdr *hdr, const u8 *body,
			u32 body_len, u64 now)
{
	struct ic_shutdown_state *sd = &c->u.sd;

	sd->last_status = hdr->status;
	if (hdr->status == IC_S_OK) {
		sd->accepted++;
		vsp_log(c->ic->vsp, "the guest accepted the shutdown request");
		return true;
	}
	sd->refused++;
	vsp_log(c->ic->vsp, "the guest refused the shutdown request (status 0x%08x)", hdr->status);
	return true;
}

const struct ic_service_desc ic_shutdown_desc = {
    .name = "shutdown",
    .type = VMB_GUID(0x0e0b6031, 0x5213, 0x4934, 0x81, 0x8b, 0x38, 0xd9, 0x0c, 0xed, 0x39, 0xdb),
    /* Hyper-V's instance, b6650ff7-33bc-4840-8048-e0676786f393 (also OpenVMM's). */
    .instance =
	VMB_GUID(0xb6650ff7, 0x33bc, 0x4840, 0x80, 0x48, 0xe0, 0x67, 0x67, 0x86, 0xf3, 0x93),
    .msg_type = IC_MSG_SHUTDOWN,
    .versions = sd_versions,
    .nr_versions = ARRAY_SIZE(sd_versions),
    .ready = sd_ready,
    .tick = sd_tick,
    .next_due = sd_next_due,
    .response = sd_response,
};

int ic_shutdown_request(struct ic_instance *ic, u32 flags, char *err, size_t errlen)
{
	struct ic_channel *c = &ic->ch[IC_SHUTDOWN];

	switch (c->state) {
	case IC_CLOSED:
		snprintf(err, errlen, "shutdown channel is not open (is hv_utils loaded?)");
		return -1;
	case IC_NEGOTIATE:
	case IC_NEGOTIATING:
		snprintf(err, errlen, "shutdown channel is not negotiated yet");
		return -1;
	case IC_REFUSED:
		snprintf(err, errlen, "the guest supports none of our shutdown versions");
		return -1;
	case IC_READY:
		break;
	}
	c->u.sd.pending = true;
	c->u.sd.flags = flags;
	sd_tick(c, vsp_now_ns()); /* now if the ring has room */
	if (c->u.sd.pending)
		vsp_defer(ic->vsp);
	return 0;
}

static void cmd_shutdown(struct vsp *v, int argc, char **argv)
{
	char err[96];

	if (vsp_run_state(v) == VSP_STOPPED) {
		vsp_printf("error: partition %s is stopped\n", argv[1]);
		return;
	}
	if (ic_shutdown_request(vsp_state(v), IC_SHUTDOWN_SHUTDOWN, err, sizeof(err))) {
		vsp_printf("error: partition %s: %s\n", argv[1], err);
		return;
	}
	vsp_printf("partition %s: shutdown requested\n", argv[1]);
}

VSP_COMMAND(ic_shutdown_cmd) = {
    .name = "shutdown",
    .vsp = "ic",
    .device = "IC channels",
    .usage = "shutdown PARTITION",
    .fn = cmd_shutdown,
    .help = "shutdown P           ask P's guest to shut down (IC)",
};
