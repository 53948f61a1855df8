/*
 * IC timesync (type 9527e630-d0ae-497b-adce-e80ab0175caf) and the wall
 * clock it hands out. Right after negotiation we send the host's UTC time
 * flagged SYNC, which makes Linux step its clock (hv_util.c adj_guesttime,
 * hv_set_host_time); then a SAMPLE every IC_TIMESYNC_PERIOD_S, which Linux
 * keeps for its PTP clock. With version 4.0 each message also carries the
 * partition's reference time when the wall time was read (ictimesync_ref_data),
 * so the guest adds the delivery delay itself. Versions 4.0, 3.0 and 1.0, as
 * Linux 6.1 offers (ts_versions).
 *
 * Wall time: the hypervisor has no RTC yet. Its notion of UTC is
 * IC_WALL_EPOCH_UNIX when it started plus the host time since, in 100 ns
 * units; `date P SECONDS` sets partition P's clock (an offset from that) and
 * sends it at once with SYNC.
 */
#include "vsp/ic/ic.h"

#include <stdlib.h>
#include <string.h>

#define IC_WALL_MAX_UNIX 253402300799ull /* 9999-12-31T23:59:59Z: keeps FILETIME math in range */

static const struct ic_version ts_versions[] = {{4, 0}, {3, 0}, {1, 0}};

static u64 hypervisor_filetime(u64 now_ns)
{
	return IC_FILETIME_UNIX_EPOCH + IC_WALL_EPOCH_UNIX * IC_FILETIME_HZ + now_ns / 100;
}

u64 ic_wall_filetime(const struct ic_instance *ic, u64 now_ns)
{
	return hypervisor_filetime(now_ns) + (u64)ic->wall_offset_100ns;
}

void ic_wall_set_unix(struct ic_instance *ic, u64 unix_seconds, u64 now_ns)
{
	u64 want = IC_FILETIME_UNIX_EPOCH + unix_seconds * IC_FILETIME_HZ;

	ic->wall_offset_100ns = (s64)(want - hypervisor_filetime(now_ns));
}

void ic_timesync_sync_now(struct ic_instance *ic)
{
	ic->ch[IC_TIMESYNC].u.ts.sync_due = true;
	vsp_defer(ic->vsp);
}

static void ts_ready(struct ic_channel *c, u64 now)
{
	c->u.ts.sync_due = true;
	c->u.ts.next_at = now;
}

static void ts_tick(struct ic_channel *c, u64 now)
{
	struct ic_timesync_state *ts = &c->u.ts;
	u8 flags = ts->sync_due ? IC_TIMESYNC_SYNC : IC_TIMESYNC_SAMPLE;
	u64 parent;
	vmb_status st;

	if (!ts->sync_due && now < ts->next_at)
		return;
	parent = ic_wall_filetime(c->ic, now);
	if (c->version.major >= 4) {
		struct ic_timesync_ref_msg msg = {0};

		msg.parent_time = parent;
		msg.vm_reference_time = vsp_ref_time(c->ic->vsp);
		msg.flags = flags;
		st = ic_send(c, IC_MSG_TIMESYNC, &msg, sizeof(msg), now);
	} else {
		struct ic_timesync_msg msg = {0};

		msg.parent_time = parent;
		msg.flags = flags;
		st = ic_send(c, IC_MSG_TIMESYNC, &msg, sizeof(msg), now);
	}
	if (st != VMB_STATUS_SUCCESS)
		return; /* ring full: the next poll tries again */
	ts->sync_due = false;
	ts->sent++;
	ts->last_parent_time = parent;
	ts->next_at = now + IC_NS(IC_TIMESYNC_PERIOD_S);
}

static u64 ts_next_due(const struct ic_channel *c)
{
	return c->u.ts.sync_due ? 0 : c->u.ts.next_at;
}

static bool ts_response(struct ic_channel *c, const struct ic_msg_hdr *hdr, const u8 *body,
			u32 body_len, u64 now)
{
	c->u.ts.answered++;
	return true;
}

const struct ic_service_desc ic_timesync_desc = {
    .name = "timesync",
    .type = VMB_GUID(0x9527e630, 0xd0ae, 0x497b, 0xad, 0xce, 0xe8, 0x0a, 0xb0, 0x17, 0x5c, 0xaf),
    /* Hyper-V's instance, 2dd1ce17-079e-403c-b352-a1921ee207ee. */
    .instance =
	VMB_GUID(0x2dd1ce17, 0x079e, 0x403c, 0xb3, 0x52, 0xa1, 0x92, 0x1e, 0xe2, 0x07, 0xee),
    .msg_type = IC_MSG_TIMESYNC,
    .versions = ts_versions,
    .nr_versions = ARRAY_SIZE(ts_versions),
    .ready = ts_ready,
    .tick = ts_tick,
    .next_due = ts_next_due,
    .response = ts_response,
};

/* `date P [SECONDS]`: show or set P's wall clock, in seconds since 1970 (UTC). */
static void cmd_date(struct vsp *v, int argc, char **argv)
{
	struct ic_instance *ic = vsp_state(v);
	const struct ic_channel *c = &ic->ch[IC_TIMESYNC];
	u64 now = vsp_now_ns(), unix_100ns;

	if (argc == 3) {
		char *end;
		unsigned long long secs = strtoull(argv[2], &end, 10);

		if (!*argv[2] || *end || secs > IC_WALL_MAX_UNIX) {
			vsp_printf("error: SECONDS must be 0..%llu (seconds since 1970, UTC)\n",
				   IC_WALL_MAX_UNIX);
			return;
		}
		ic_wall_set_unix(ic, secs, now);
		ic_timesync_sync_now(ic);
	}
	unix_100ns = ic_wall_filetime(ic, now) - IC_FILETIME_UNIX_EPOCH;
	vsp_printf("date partition=%s unix=%llu.%07llu timesync=%s version=%u.%u sent=%llu "
		   "answered=%llu\n",
		   argv[1], (unsigned long long)(unix_100ns / IC_FILETIME_HZ),
		   (unsigned long long)(unix_100ns % IC_FILETIME_HZ), ic_state_name(c->state),
		   c->version.major, c->version.minor, (unsigned long long)c->u.ts.sent,
		   (unsigned long long)c->u.ts.answered);
}

VSP_COMMAND(ic_date_cmd) = {
    .name = "date",
    .vsp = "ic",
    .device = "IC channels",
    .usage = "date PARTITION [SECONDS]",
    .max_args = 1,
    .fn = cmd_date,
    .help = "date P [SECONDS]     P's wall clock (IC timesync); set it, in Unix time",
};
