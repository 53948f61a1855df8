/*
 * The Integration Components VSP, common part: the three channels of a
 * partition, the version negotiation every IC channel starts with, the one
 * outstanding request per channel, the checks on what the guest sends back,
 * and the work pass that drives the periodic work of heartbeat.c,
 * shutdown.c and timesync.c.
 *
 * Negotiation follows the host side of Linux's vmbus_prep_negotiate_resp
 * (drivers/hv/channel_mgmt.c) and OpenVMM's hyperv_ic IcPipe::negotiate:
 * we offer framework versions 3.0 and 1.0 (Linux UTIL_FW_VERSION,
 * UTIL_WS2K8_FW_VERSION) and the service's message versions; the guest keeps
 * the buffer, sets both counts to 1 with its choice in the first two version
 * slots (or both counts to 0 when nothing fits), flags it TRANSACTION |
 * RESPONSE and sends it back as a new in-band packet.
 *
 * Timer: the door's (vmbus/vsp.h). Each work pass sends what is due and
 * arms the timer for the earliest thing due next (a periodic message, a
 * negotiation timeout); a callback that makes something due (an open, a
 * console request) defers work to the next pass.
 *
 * Library rules relied on (vmbus/kmcl.h): a successful vmb_packet_send
 * consumes the packet, a failed one leaves it to us to free; callbacks we do
 * not need are NULL.
 */
#include "vsp/ic/ic.h"

#include <stdio.h>
#include <string.h>

#define IC_MAX_VERSIONS 4 /* message versions any service offers */

/* Newest first: Linux picks the first of its own list that we offer. */
const struct ic_version ic_framework_versions[] = {{3, 0}, {1, 0}};
const unsigned ic_nr_framework_versions = ARRAY_SIZE(ic_framework_versions);

static const struct ic_service_desc *const ic_services[IC_NR_SERVICES] = {
    [IC_HEARTBEAT] = &ic_heartbeat_desc,
    [IC_SHUTDOWN] = &ic_shutdown_desc,
    [IC_TIMESYNC] = &ic_timesync_desc,
};

const char *ic_state_name(enum ic_state s)
{
	switch (s) {
	case IC_CLOSED:
		return "closed";
	case IC_NEGOTIATE:
	case IC_NEGOTIATING:
		return "negotiating";
	case IC_READY:
		return "ready";
	case IC_REFUSED:
		return "refused";
	}
	return "?";
}

const char *ic_parse_name(enum ic_parse r)
{
	switch (r) {
	case IC_PARSE_OK:
		return "ok";
	case IC_PARSE_REFUSED:
		return "no common version";
	case IC_PARSE_SHORT:
		return "truncated message";
	case IC_PARSE_NOT_RESPONSE:
		return "not flagged as a response";
	case IC_PARSE_UNEXPECTED:
		return "answers no outstanding request";
	case IC_PARSE_BAD_NEGOTIATE:
		return "malformed version choice";
	}
	return "?";
}

static struct ic_channel *ic_channel_of(struct vmb_channel *channel)
{
	return *(struct ic_channel **)vmb_channel_get_pointer(channel);
}

/* ---- checking what the guest sent (pure) ---- */

enum ic_parse ic_parse_response(const u8 *buf, u32 len, bool outstanding, u16 out_type,
				u8 out_transaction, struct ic_msg_hdr *hdr, const u8 **body,
				u32 *body_len)
{
	const u8 want = IC_FLAG_TRANSACTION | IC_FLAG_RESPONSE;

	if (len < IC_HDR_SIZE)
		return IC_PARSE_SHORT;
	/* The pipe header is ours, echoed; like Linux we do not rely on it. */
	memcpy(hdr, buf + sizeof(struct ic_pipe_hdr), sizeof(*hdr));
	if (hdr->size > len - IC_HDR_SIZE)
		return IC_PARSE_SHORT;
	if ((hdr->flags & want) != want)
		return IC_PARSE_NOT_RESPONSE;
	if (!outstanding || hdr->type != out_type || hdr->transaction != out_transaction)
		return IC_PARSE_UNEXPECTED;
	*body = buf + IC_HDR_SIZE;
	*body_len = hdr->size;
	return IC_PARSE_OK;
}

static bool ic_offered(const struct ic_version *list, unsigned n, struct ic_version v)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i].major == v.major && list[i].minor == v.minor)
			return true;
	return false;
}

enum ic_parse ic_parse_negotiate(const u8 *body, u32 body_len, const struct ic_version *svc,
				 unsigned nr_svc, struct ic_version *framework,
				 struct ic_version *version)
{
	struct ic_negotiate n;
	struct ic_version chosen[2];

	if (body_len < sizeof(n))
		return IC_PARSE_SHORT;
	memcpy(&n, body, sizeof(n));
	if (!n.framework_count && !n.version_count)
		return IC_PARSE_REFUSED;
	if (n.framework_count != 1 || n.version_count != 1)
		return IC_PARSE_BAD_NEGOTIATE;
	if (body_len < sizeof(n) + sizeof(chosen))
		return IC_PARSE_SHORT;
	memcpy(chosen, body + sizeof(n), sizeof(chosen));
	if (!ic_offered(ic_framework_versions, ic_nr_framework_versions, chosen[0]) ||
	    !ic_offered(svc, nr_svc, chosen[1]))
		return IC_PARSE_BAD_NEGOTIATE;
	*framework = chosen[0];
	*version = chosen[1];
	return IC_PARSE_OK;
}

/* ---- sending ---- */

vmb_status ic_send(struct ic_channel *c, u16 type, const void *body, u16 body_len, u64 now)
{
	struct ic_pipe_hdr pipe = {IC_PIPE_DATA, sizeof(struct ic_msg_hdr) + body_len};
	struct ic_msg_hdr hdr = {0};
	u32 len = IC_HDR_SIZE + body_len;
	struct vmb_packet *packet;
	vmb_status st;

	u8 *tx = c->ic->tx;

	if (len > sizeof(c->ic->tx))
		return VMB_STATUS_INVALID_PARAMETER;
	if (type != IC_MSG_NEGOTIATE) {
		hdr.framework = c->framework;
		hdr.version = c->version;
	}
	hdr.type = type;
	hdr.size = body_len;
	hdr.status = IC_S_OK;
	hdr.transaction = c->next_transaction;
	hdr.flags = IC_FLAG_TRANSACTION | IC_FLAG_REQUEST;
	memcpy(tx, &pipe, sizeof(pipe));
	memcpy(tx + sizeof(pipe), &hdr, sizeof(hdr));
	memcpy(tx + IC_HDR_SIZE, body, body_len);

	st = vmb_packet_allocate(c->channel, &packet);
	if (st != VMB_STATUS_SUCCESS)
		return st;
	st = vmb_packet_send(packet, tx, len, NULL, 0);
	if (st != VMB_STATUS_SUCCESS) {
		vmb_packet_free(packet);
		return st;
	}
	/* A newer request replaces an unanswered one: its late answer is stale. */
	c->outstanding = true;
	c->out_type = type;
	c->out_transaction = c->next_transaction++;
	c->out_sent_at = now;
	return VMB_STATUS_SUCCESS;
}

static vmb_status ic_send_negotiate(struct ic_channel *c, u64 now)
{
	const struct ic_service_desc *d = c->desc;
	u8 body[sizeof(struct ic_negotiate) +
		(ARRAY_SIZE(ic_framework_versions) + IC_MAX_VERSIONS) * sizeof(struct ic_version)];
	struct ic_negotiate n = {ic_nr_framework_versions, d->nr_versions, 0};
	u32 off = sizeof(n);

	if (d->nr_versions > IC_MAX_VERSIONS)
		return VMB_STATUS_INVALID_PARAMETER;
	memcpy(body, &n, sizeof(n));
	memcpy(body + off, ic_framework_versions, sizeof(ic_framework_versions));
	off += sizeof(ic_framework_versions);
	memcpy(body + off, d->versions, d->nr_versions * sizeof(struct ic_version));
	off += d->nr_versions * sizeof(struct ic_version);
	c->negotiations++;
	return ic_send(c, IC_MSG_NEGOTIATE, body, off, now);
}

/* ---- receiving ---- */

void ic_reject(struct ic_channel *c, const char *why)
{
	c->bad++;
	if (c->bad_logged)
		return;
	c->bad_logged = true;
	vsp_log(c->ic->vsp, "%s: guest message ignored: %s", c->desc->name, why);
}

/* The answer to our negotiate message; false if it is not a valid one. */
static bool ic_negotiated(struct ic_channel *c, const u8 *body, u32 body_len, u64 now)
{
	const struct ic_service_desc *d = c->desc;
	struct ic_version fw, ver;
	enum ic_parse r =
	    ic_parse_negotiate(body, body_len, d->versions, d->nr_versions, &fw, &ver);

	if (r == IC_PARSE_REFUSED) {
		c->state = IC_REFUSED;
		vsp_log(c->ic->vsp, "%s: the guest supports none of our versions", d->name);
		return true;
	}
	if (r != IC_PARSE_OK) {
		/* Stay NEGOTIATING: ic_poll asks again after IC_NEGOTIATE_TIMEOUT_S. */
		ic_reject(c, ic_parse_name(r));
		return false;
	}
	c->framework = fw;
	c->version = ver;
	c->state = IC_READY;
	vsp_log(c->ic->vsp, "%s %u.%u (framework %u.%u) negotiated", d->name, ver.major, ver.minor,
		fw.major, fw.minor);
	d->ready(c, now);
	return true;
}

static void ic_receive(struct ic_channel *c, const u8 *buf, u32 len, u64 now)
{
	struct ic_msg_hdr hdr;
	const u8 *body;
	u32 body_len;
	enum ic_parse r;

	if (c->state != IC_NEGOTIATING && c->state != IC_READY) {
		ic_reject(c, "nothing was asked");
		return;
	}
	r = ic_parse_response(buf, len, c->outstanding, c->out_type, c->out_transaction, &hdr,
			      &body, &body_len);
	if (r != IC_PARSE_OK) {
		ic_reject(c, ic_parse_name(r));
		return;
	}
	/* Outstanding until answered validly: a bad answer is no answer. */
	if (hdr.type == IC_MSG_NEGOTIATE ? ic_negotiated(c, body, body_len, now)
					 : c->desc->response(c, &hdr, body, body_len, now))
		c->outstanding = false;
}

static void ic_process_packet(struct vmb_channel *channel, struct vmb_packet *packet,
			      const void *buffer, u32 len, u32 flags)
{
	struct ic_channel *c = ic_channel_of(channel);
	u8 *rx = c->ic->rx;
	bool fits = len <= sizeof(c->ic->rx) && !(flags & VMB_PACKET_EXTERNAL_DATA);

	/* Copy once, then let the packet go: the guest's answers want no completion. */
	if (fits)
		memcpy(rx, buffer, len);
	vmb_channel_packet_complete(packet, NULL, 0);
	if (!fits) {
		ic_reject(c, "too large or with external data");
		return;
	}
	ic_receive(c, rx, len, vsp_now_ns());
	vsp_defer(c->ic->vsp); /* an answer may make the next message due */
}

static vmb_status ic_opened(struct vmb_channel *channel)
{
	struct ic_channel *c = ic_channel_of(channel);

	c->state = IC_NEGOTIATE; /* sent from ic_work, outside this callback */
	c->outstanding = false;
	c->bad_logged = false;
	vsp_defer(c->ic->vsp);
	return VMB_STATUS_SUCCESS;
}

static void ic_closed(struct vmb_channel *channel)
{
	struct ic_channel *c = ic_channel_of(channel);

	c->state = IC_CLOSED;
	c->outstanding = false;
	c->framework = c->version = (struct ic_version){0, 0};
	if (c->desc == &ic_shutdown_desc)
		c->u.sd.pending = false; /* asked of a guest that is gone */
}

static const struct vmb_state_callbacks ic_state_callbacks = {
    .opened = ic_opened,
    .closed = ic_closed,
};

/* ---- periodic work ---- */

static void ic_channel_tick(struct ic_channel *c, u64 now)
{
	if (c->state == IC_NEGOTIATING && now - c->out_sent_at >= IC_NS(IC_NEGOTIATE_TIMEOUT_S))
		c->state = IC_NEGOTIATE; /* no valid answer: ask again */
	if (c->state == IC_NEGOTIATE) {
		if (ic_send_negotiate(c, now) == VMB_STATUS_SUCCESS)
			c->state = IC_NEGOTIATING;
		return;
	}
	if (c->state == IC_READY)
		c->desc->tick(c, now);
}

/* When the channel next has something to do (~0: when the guest does something). */
static u64 ic_channel_next_due(const struct ic_channel *c, u64 now)
{
	switch (c->state) {
	case IC_NEGOTIATE:
		return now; /* the ring was full: try again at the next pass */
	case IC_NEGOTIATING:
		return c->out_sent_at + IC_NS(IC_NEGOTIATE_TIMEOUT_S);
	case IC_READY:
		return c->desc->next_due(c);
	case IC_CLOSED:
	case IC_REFUSED:
		break;
	}
	return ~0ull;
}

void ic_work(struct vsp *v)
{
	struct ic_instance *ic = vsp_state(v);
	u64 now = vsp_now_ns(), next = ~0ull;

	for (unsigned s = 0; s < IC_NR_SERVICES; s++)
		ic_channel_tick(&ic->ch[s], now);
	for (unsigned s = 0; s < IC_NR_SERVICES; s++)
		next = MIN(next, ic_channel_next_due(&ic->ch[s], now));
	if (next != ~0ull)
		vsp_timer_at(v, next);
}

/* ---- snapshots: the instance's own state (ic.h, "saved state") ---- */

static const u8 ic_saved_state[] = {
    [IC_CLOSED] = IC_SAVED_CLOSED,	     [IC_NEGOTIATE] = IC_SAVED_NEGOTIATE,
    [IC_NEGOTIATING] = IC_SAVED_NEGOTIATING, [IC_READY] = IC_SAVED_READY,
    [IC_REFUSED] = IC_SAVED_REFUSED,
};

static bool ic_state_of_saved(u8 saved, enum ic_state *out)
{
	for (unsigned i = 0; i < ARRAY_SIZE(ic_saved_state); i++) {
		if (ic_saved_state[i] == saved) {
			*out = (enum ic_state)i;
			return true;
		}
	}
	return false;
}

static void ic_save_channel(const struct ic_channel *c, struct ic_saved_channel *o)
{
	memset(o, 0, sizeof(*o));
	o->state = ic_saved_state[c->state];
	o->flags = c->outstanding ? IC_SAVED_OUTSTANDING : 0;
	o->out_transaction = c->out_transaction;
	o->next_transaction = c->next_transaction;
	o->out_type = c->out_type;
	o->framework = c->framework;
	o->version = c->version;
	o->negotiations = c->negotiations;
	o->bad = c->bad;
	if (c->desc == &ic_heartbeat_desc) {
		const struct ic_heartbeat_state *hb = &c->u.hb;

		o->flags |= hb->live ? IC_SAVED_HB_LIVE : 0;
		o->svc[0] = hb->seq_sent;
		o->svc[1] = hb->seq_answered;
		o->svc[2] = hb->sent;
		o->svc[3] = hb->answered;
		o->svc[4] = hb->missed;
	} else if (c->desc == &ic_shutdown_desc) {
		const struct ic_shutdown_state *sd = &c->u.sd;

		o->flags |= sd->pending ? IC_SAVED_SD_PENDING : 0;
		o->svc[0] = sd->flags;
		o->svc[1] = sd->requested;
		o->svc[2] = sd->accepted;
		o->svc[3] = sd->refused;
		o->svc[4] = sd->last_status;
	} else {
		const struct ic_timesync_state *ts = &c->u.ts;

		o->flags |= ts->sync_due ? IC_SAVED_TS_SYNC_DUE : 0;
		o->svc[0] = ts->sent;
		o->svc[1] = ts->answered;
		o->svc[2] = ts->last_parent_time;
	}
}

vmb_status ic_save(struct vsp *v, void *buf, u32 size, u32 *needed)
{
	const struct ic_instance *ic = vsp_state(v);
	struct ic_saved s;

	*needed = sizeof(s);
	if (size < sizeof(s))
		return VMB_STATUS_BUFFER_TOO_SMALL;
	memset(&s, 0, sizeof(s));
	s.version = IC_SAVE_VERSION;
	s.size = sizeof(s);
	s.wall_offset_100ns = ic->wall_offset_100ns;
	for (unsigned i = 0; i < IC_NR_SERVICES; i++)
		ic_save_channel(&ic->ch[i], &s.ch[i]);
	memcpy(buf, &s, sizeof(s));
	return VMB_STATUS_SUCCESS;
}

/* A saved channel this build can take: a known state and flags, versions that were offered. */
static bool ic_saved_channel_ok(const struct ic_channel *c, const struct ic_saved_channel *o)
{
	const u8 known =
	    IC_SAVED_OUTSTANDING | IC_SAVED_HB_LIVE | IC_SAVED_SD_PENDING | IC_SAVED_TS_SYNC_DUE;
	const struct ic_service_desc *d = c->desc;
	enum ic_state st;

	if (!ic_state_of_saved(o->state, &st) || (o->flags & ~known))
		return false;
	if (st == IC_READY &&
	    (!ic_offered(ic_framework_versions, ic_nr_framework_versions, o->framework) ||
	     !ic_offered(d->versions, d->nr_versions, o->version)))
		return false;
	return true;
}

/*
 * The channel restore has put the guest's channel back open (`opened`:
 * NEGOTIATE) or not before this runs. Where the saved conversation and the
 * channel disagree (an image whose parts do not match), the channel wins: a
 * closed channel has no conversation, an open one without a saved
 * conversation negotiates again. So restore cannot fail once check passed.
 */
static void ic_restore_channel(struct ic_channel *c, const struct ic_saved_channel *o, u64 now)
{
	const bool open = c->state != IC_CLOSED;

	ic_state_of_saved(o->state, &c->state);
	c->outstanding = o->flags & IC_SAVED_OUTSTANDING;
	c->out_transaction = o->out_transaction;
	c->next_transaction = o->next_transaction;
	c->out_type = o->out_type;
	c->out_sent_at = now;
	c->framework = o->framework;
	c->version = o->version;
	c->negotiations = o->negotiations;
	c->bad = o->bad;
	if (c->desc == &ic_heartbeat_desc) {
		struct ic_heartbeat_state *hb = &c->u.hb;

		*hb = (struct ic_heartbeat_state){.seq_sent = o->svc[0],
						  .seq_answered = o->svc[1],
						  .answered_at = now,
						  .next_at = now,
						  .live = o->flags & IC_SAVED_HB_LIVE,
						  .sent = o->svc[2],
						  .answered = o->svc[3],
						  .missed = o->svc[4]};
	} else if (c->desc == &ic_shutdown_desc) {
		struct ic_shutdown_state *sd = &c->u.sd;

		*sd = (struct ic_shutdown_state){.pending = o->flags & IC_SAVED_SD_PENDING,
						 .flags = (u32)o->svc[0],
						 .requested = o->svc[1],
						 .accepted = o->svc[2],
						 .refused = o->svc[3],
						 .last_status = (u32)o->svc[4]};
	} else {
		struct ic_timesync_state *ts = &c->u.ts;

		*ts = (struct ic_timesync_state){.sync_due = o->flags & IC_SAVED_TS_SYNC_DUE,
						 .next_at = now,
						 .sent = o->svc[0],
						 .answered = o->svc[1],
						 .last_parent_time = o->svc[2]};
	}
	if (open == (c->state != IC_CLOSED))
		return;
	c->outstanding = false;
	c->framework = c->version = (struct ic_version){0, 0};
	c->state = open ? IC_NEGOTIATE : IC_CLOSED;
	if (!open && c->desc == &ic_shutdown_desc)
		c->u.sd.pending = false;
}

/* The record read and checked field by field into s; *none: nothing was saved. */
static vmb_status ic_parse_saved(const struct ic_instance *ic, const void *buf, u32 size,
				 struct ic_saved *s, bool *none)
{
	*none = !size;
	if (!size)
		return VMB_STATUS_SUCCESS; /* nothing saved: the channels negotiate again */
	if (size < 2 * sizeof(u32))
		return VMB_STATUS_DATA_ERROR;
	memcpy(s, buf, 2 * sizeof(u32));
	if (s->version != IC_SAVE_VERSION)
		return VMB_STATUS_REVISION_MISMATCH;
	if (size < sizeof(*s) || s->size < sizeof(*s) || s->size != size)
		return VMB_STATUS_DATA_ERROR;
	memcpy(s, buf, sizeof(*s));
	for (unsigned i = 0; i < IC_NR_SERVICES; i++)
		if (!ic_saved_channel_ok(&ic->ch[i], &s->ch[i]))
			return VMB_STATUS_DATA_ERROR;
	return VMB_STATUS_SUCCESS;
}

vmb_status ic_check(struct vsp *v, const void *buf, u32 size)
{
	struct ic_saved s;
	bool none;

	return ic_parse_saved(vsp_state(v), buf, size, &s, &none);
}

vmb_status ic_restore(struct vsp *v, const void *buf, u32 size)
{
	struct ic_instance *ic = vsp_state(v);
	struct ic_saved s;
	bool none;
	vmb_status st = ic_parse_saved(ic, buf, size, &s, &none);

	/* Everything checked before anything changes. */
	if (st != VMB_STATUS_SUCCESS || none)
		return st;
	ic->wall_offset_100ns = s.wall_offset_100ns;
	for (unsigned i = 0; i < IC_NR_SERVICES; i++)
		ic_restore_channel(&ic->ch[i], &s.ch[i], vsp_now_ns());
	vsp_defer(v);
	return VMB_STATUS_SUCCESS;
}

/* ---- creation: `vmbus = ic` ---- */

static vmb_status ic_channel_setup(struct ic_instance *ic, enum ic_service s)
{
	struct ic_channel *c = &ic->ch[s];
	const struct ic_service_desc *d = ic_services[s];
	struct vmb_bus *bus = vsp_bus(ic->vsp);
	struct vmb_channel *ch;
	vmb_status st;

	c->desc = d;
	c->ic = ic;
	c->state = IC_CLOSED;
	st = vmb_channel_allocate(bus, &ch);
	if (st != VMB_STATUS_SUCCESS)
		return st;
	if ((st = vmb_server_channel_init_set_vmbus_handle(ch, bus)) ||
	    (st = vmb_server_channel_init_set_target_interface_id(ch, &d->type, &d->instance)) ||
	    (st = vmb_channel_init_set_friendly_name(ch, d->name)) ||
	    (st = vmb_channel_init_set_maximum_packet_size(ch, IC_MAX_MESSAGE)) ||
	    (st = vmb_channel_init_set_client_context_size(ch, sizeof(c))) ||
	    (st = vmb_channel_init_set_process_packet_callbacks(ch, ic_process_packet, NULL)) ||
	    (st = vmb_channel_init_set_state_change_callbacks(ch, &ic_state_callbacks))) {
		vmb_channel_cleanup(ch);
		return st;
	}
	*(struct ic_channel **)vmb_channel_get_pointer(ch) = c;
	c->channel = ch;
	return VMB_STATUS_SUCCESS;
}

/* Undo a failed creation: channels [0, enabled) were offered, the rest only set up. */
static void ic_teardown(struct ic_instance *ic, unsigned enabled, unsigned set_up)
{
	for (unsigned s = 0; s < set_up; s++) {
		struct vmb_channel *ch = ic->ch[s].channel;

		if (s >= enabled || vmb_channel_disable(ch) == VMB_STATUS_SUCCESS)
			vmb_channel_cleanup(ch);
		ic->ch[s].channel = NULL;
	}
}

static int ic_create(struct vsp *v, char *err, size_t errlen)
{
	struct ic_instance *ic = vsp_state(v);
	unsigned s;
	vmb_status st = VMB_STATUS_SUCCESS;

	ic->vsp = v;
	for (s = 0; s < IC_NR_SERVICES && st == VMB_STATUS_SUCCESS; s++)
		st = ic_channel_setup(ic, s);
	if (st != VMB_STATUS_SUCCESS) {
		ic_teardown(ic, 0, s - 1);
		snprintf(err, errlen, "ic: %s channel: set-up failed (status 0x%08x)",
			 ic_services[s - 1]->name, st);
		return -1;
	}
	for (s = 0; s < IC_NR_SERVICES; s++) {
		st = vmb_channel_enable(ic->ch[s].channel);
		if (st != VMB_STATUS_SUCCESS) {
			ic_teardown(ic, s, IC_NR_SERVICES);
			snprintf(err, errlen, "ic: %s channel: offer failed (status 0x%08x)",
				 ic_services[s]->name, st);
			return -1;
		}
	}
	return 0;
}

VSP_TYPE(ic_vsp) = {
    .name = "ic",
    .state_size = sizeof(struct ic_instance),
    .create = ic_create,
    .work = ic_work,
    .save = ic_save,
    .check = ic_check,
    .restore = ic_restore,
};
