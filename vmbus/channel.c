/*
 * The VMBus channel management protocol, host side: the guest's messages
 * (INITIATE_CONTACT, REQUESTOFFERS, GPADL_HEADER/BODY/TEARDOWN, OPENCHANNEL,
 * CLOSECHANNEL, RELID_RELEASED, UNLOAD, MODIFYCHANNEL) and the host's answers
 * and offers. Message layouts: vmbus/wire.h (Linux include/linux/hyperv.h);
 * what the guest waits for: Linux drivers/hv/connection.c, channel.c and
 * channel_mgmt.c. Every message gets the protocol's answer, or is dropped
 * with a log line when the protocol has no answer for it.
 */
#include "vmbus/bus.h"
#include "kernel/hv_defs.h"

#include <string.h>

#define RING_MIN_PAGES	 2 /* a control page and a data page */
#define VERSION_MAJOR(v) ((v) >> 16)
#define VERSION_MINOR(v) ((v)&0xffff)

/* What we serve, newest first: every version Linux 6.1 asks for (connection.c vmbus_versions). */
static const u32 versions[] = {
    VMBUS_VERSION_V5_3,	   VMBUS_VERSION_V5_2,	VMBUS_VERSION_V5_1,   VMBUS_VERSION_V5,
    VMBUS_VERSION_WIN10_1, VMBUS_VERSION_WIN10, VMBUS_VERSION_WIN8_1, VMBUS_VERSION_WIN8,
};

static bool version_known(u32 v)
{
	for (unsigned i = 0; i < ARRAY_SIZE(versions); i++)
		if (versions[i] == v)
			return true;
	return false;
}

static void header(void *msg, u32 type)
{
	((struct vmbus_msg_header *)msg)->type = type;
	((struct vmbus_msg_header *)msg)->padding = 0;
}

/* ---- offers ---- */

static void send_offer(struct vmb_channel *ch)
{
	struct vmbus_msg_offer o;

	memset(&o, 0, sizeof(o));
	header(&o, VMBUS_MSG_OFFERCHANNEL);
	o.type = ch->type;
	o.instance = ch->instance;
	o.flags = ch->offer_flags;
	o.mmio_megabytes = ch->mmio_megabytes;
	o.child_relid = ch->relid;
	/* No monitor pages: the guest signals with HvSignalEvent on its own connection id. */
	o.monitor_allocated = 0;
	o.is_dedicated_interrupt = 1;
	o.connection_id = VMBUS_CONN_CHANNEL_BASE + ch->relid;
	vmbus_send(ch->bus, &o, sizeof(o));
	ch->offer = OFFER_SENT;
}

u32 vmbus_free_relid(const struct vmb_bus *bus)
{
	for (u32 relid = 1; relid <= VMBUS_MAX_CHANNELS; relid++)
		if (!bus->relids[relid] && !(bus->zombies & (1ull << relid)))
			return relid;
	return 0;
}

void vmbus_offer(struct vmb_channel *ch)
{
	if (ch->bus->version && ch->bus->offers_requested && ch->enabled && ch->offer == OFFER_NONE)
		send_offer(ch);
}

void vmbus_rescind(struct vmb_channel *ch)
{
	struct vmbus_msg_relid r;

	if (ch->offer != OFFER_SENT)
		return;
	header(&r, VMBUS_MSG_RESCIND_CHANNELOFFER);
	r.child_relid = ch->relid;
	vmbus_send(ch->bus, &r, sizeof(r));
	ch->offer = OFFER_RESCINDING;
}

/* ---- GPADLs ---- */

struct gpadl *vmbus_find_gpadl(const struct vmb_channel *ch, u32 id)
{
	for (struct gpadl *g = ch->gpadls; g; g = g->next)
		if (g->id == id)
			return g;
	return NULL;
}

static void unlink_gpadl(struct vmb_channel *ch, struct gpadl *g)
{
	for (struct gpadl **pp = &ch->gpadls; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			ch->nr_gpadls--;
			return;
		}
	}
}

static void drop_gpadl(struct vmb_channel *ch, struct gpadl *g)
{
	unlink_gpadl(ch, g);
	gpadl_free(g);
}

void vmbus_channel_free_gpadls(struct vmb_channel *ch)
{
	while (ch->gpadls)
		drop_gpadl(ch, ch->gpadls);
}

static void send_torndown(struct vmb_bus *bus, u32 id)
{
	struct vmbus_msg_gpadl_torndown t;

	header(&t, VMBUS_MSG_GPADL_TORNDOWN);
	t.gpadl = id;
	vmbus_send(bus, &t, sizeof(t));
}

void vmbus_gpadl_released(struct vmb_channel *ch, struct gpadl *g)
{
	u32 id = g->id;

	if (!g->teardown_pending || g->users)
		return;
	drop_gpadl(ch, g);
	send_torndown(ch->bus, id);
}

/* A GPADL still being assembled anywhere on the bus (bodies name no channel). */
static struct gpadl *assembling(const struct vmb_bus *bus, u32 id, struct vmb_channel **owner)
{
	for (unsigned i = 0; i < bus->nr_channels; i++) {
		for (struct gpadl *g = bus->channels[i]->gpadls; g; g = g->next) {
			if (g->id == id && !g->ready) {
				*owner = bus->channels[i];
				return g;
			}
		}
	}
	return NULL;
}

static void send_gpadl_created(struct vmb_bus *bus, u32 relid, u32 id, u32 status)
{
	struct vmbus_msg_gpadl_created c;

	header(&c, VMBUS_MSG_GPADL_CREATED);
	c.child_relid = relid;
	c.gpadl = id;
	c.status = status;
	vmbus_send(bus, &c, sizeof(c));
}

static void gpadl_failed(struct vmb_channel *ch, struct gpadl *g, const char *why)
{
	u32 id = g->id;

	vmbus_log(ch->bus, "GPADL 0x%x of relid %u refused: %s", id, ch->relid, why);
	drop_gpadl(ch, g);
	send_gpadl_created(ch->bus, ch->relid, id, VMBUS_STATUS_FAILED);
}

static void gpadl_done(struct vmb_channel *ch, struct gpadl *g)
{
	const char *why = "out of memory";
	enum gpadl_status st = gpadl_finish(g, &ch->bus->host, &why);

	if (st == GPADL_OK && ch->offer != OFFER_SENT) {
		st = GPADL_BAD;
		why = "channel rescinded";
	}
	if (st != GPADL_OK) {
		gpadl_failed(ch, g, why);
		return;
	}
	g->ready = true;
	send_gpadl_created(ch->bus, ch->relid, g->id, VMBUS_STATUS_OK);
}

static void on_gpadl_header(struct vmb_bus *bus, const void *msg, u32 size)
{
	const struct vmbus_msg_gpadl_header *h = msg;
	struct vmb_channel *ch = vmbus_relid_channel(bus, h->child_relid), *other;
	const char *why = "out of memory";
	struct gpadl *g;
	enum gpadl_status st;

	if (!ch || ch->offer != OFFER_SENT) {
		vmbus_log(bus, "GPADL 0x%x refused: relid %u is not offered", h->gpadl,
			  h->child_relid);
		send_gpadl_created(bus, h->child_relid, h->gpadl, VMBUS_STATUS_FAILED);
		return;
	}
	if (vmbus_find_gpadl(ch, h->gpadl) || assembling(bus, h->gpadl, &other) ||
	    ch->nr_gpadls >= VMBUS_MAX_GPADLS) {
		vmbus_log(bus, "GPADL 0x%x of relid %u refused: id in use or too many GPADLs",
			  h->gpadl, ch->relid);
		send_gpadl_created(bus, ch->relid, h->gpadl, VMBUS_STATUS_FAILED);
		return;
	}
	st = gpadl_begin(&g, &bus->gpadl_budget, h->gpadl, h->range_buflen, h->range_count, h + 1,
			 size - (u32)sizeof(*h), &why);
	if (st != GPADL_OK && st != GPADL_MORE) {
		vmbus_log(bus, "GPADL 0x%x of relid %u refused: %s", h->gpadl, ch->relid, why);
		send_gpadl_created(bus, ch->relid, h->gpadl, VMBUS_STATUS_FAILED);
		return;
	}
	g->next = ch->gpadls;
	ch->gpadls = g;
	ch->nr_gpadls++;
	if (st == GPADL_OK)
		gpadl_done(ch, g);
}

static void on_gpadl_body(struct vmb_bus *bus, const void *msg, u32 size)
{
	const struct vmbus_msg_gpadl_body *b = msg;
	struct vmb_channel *ch;
	struct gpadl *g = assembling(bus, b->gpadl, &ch);
	const char *why = "";

	if (!g) {
		vmbus_log(bus, "GPADL_BODY for GPADL 0x%x dropped: no such GPADL being created",
			  b->gpadl);
		return;
	}
	switch (gpadl_add(g, b + 1, size - (u32)sizeof(*b), &why)) {
	case GPADL_OK:
		gpadl_done(ch, g);
		break;
	case GPADL_MORE:
		break;
	default:
		gpadl_failed(ch, g, why);
		break;
	}
}

static void on_gpadl_teardown(struct vmb_bus *bus, const void *msg, u32 size)
{
	const struct vmbus_msg_gpadl_teardown *t = msg;
	struct vmb_channel *ch = vmbus_relid_channel(bus, t->child_relid);
	struct gpadl *g = ch ? vmbus_find_gpadl(ch, t->gpadl) : NULL;

	if (!g || g->teardown_pending) {
		vmbus_log(bus, "GPADL_TEARDOWN of GPADL 0x%x, relid %u, dropped: no such GPADL",
			  t->gpadl, t->child_relid);
		return;
	}
	if (g->users) {
		/* Answered when the ring closes or the VSP unmaps it. */
		vmbus_log(bus, "GPADL 0x%x of relid %u torn down while in use: deferred", g->id,
			  ch->relid);
		g->teardown_pending = true;
		return;
	}
	drop_gpadl(ch, g);
	send_torndown(bus, t->gpadl);
}

/* ---- open and close ---- */

static void send_open_result(struct vmb_bus *bus, const struct vmbus_msg_open *o, u32 status)
{
	struct vmbus_msg_open_result r;

	header(&r, VMBUS_MSG_OPENCHANNEL_RESULT);
	r.child_relid = o->child_relid;
	r.open_id = o->open_id;
	r.status = status;
	vmbus_send(bus, &r, sizeof(r));
}

/* In-band bytes plus, when external data is allowed, the largest GPA_DIRECT header. */
static u32 packet_buffer_size(const struct vmb_channel *ch)
{
	u64 hdr = sizeof(struct vmbus_packet_desc);

	if (ch->max_external)
		hdr = sizeof(struct vmbus_packet_gpa_direct) +
		      VMBUS_MAX_RANGES * sizeof(struct vmbus_gpa_range) +
		      (ch->max_external / PAGE_SIZE + 2 * VMBUS_MAX_RANGES) * sizeof(u64);
	return (u32)ALIGN_UP(hdr + ch->max_packet, VMBUS_PKT_ALIGN);
}

/* Map the two rings of the ring GPADL: [0, split) guest -> host, [split, n) host -> guest. */
const char *vmbus_ring_layout_check(const struct gpadl *g, u32 split)
{
	u32 n = g->nr_pfns;

	if (g->nr_ranges != 1 || g->ranges[0].byte_offset ||
	    g->ranges[0].byte_count != (u64)n * PAGE_SIZE)
		return "ring GPADL is not whole pages";
	/* Each ring: a control page and at least one data page. */
	if (n < 2 * RING_MIN_PAGES || split < RING_MIN_PAGES || split > n - RING_MIN_PAGES)
		return "ring split outside the GPADL";
	return NULL;
}

const char *vmbus_channel_map_rings(struct vmb_channel *ch, struct gpadl *g, u32 split)
{
	u32 n = g->nr_pfns;
	const char *why = vmbus_ring_layout_check(g, split);
	enum ring_status in, out;

	if (why)
		return why;
	ch->ring_pages = pool_calloc(ch->bus->host.pool, n, sizeof(*ch->ring_pages));
	ch->pkt_buf_size = packet_buffer_size(ch);
	ch->pkt_buf = pool_alloc(ch->bus->host.pool, ch->pkt_buf_size);
	if (!ch->ring_pages || !ch->pkt_buf)
		return "out of memory";
	if (!gpadl_pages(g, &ch->bus->host, 0, n, ch->ring_pages))
		return "ring page outside guest RAM";
	/* Both set up even when an index is bad: a restore keeps such a channel, broken. */
	in = ring_init(&ch->in, ch->ring_pages[0], ch->ring_pages + 1, split - 1, true);
	out = ring_init(&ch->out, ch->ring_pages[split], ch->ring_pages + split + 1, n - split - 1,
			false);
	if (in != RING_OK)
		return ch->in.why;
	if (out != RING_OK)
		return ch->out.why;
	return NULL;
}

void vmbus_channel_unmap_rings(struct vmb_channel *ch)
{
	pool_free(ch->bus->host.pool, ch->ring_pages);
	pool_free(ch->bus->host.pool, ch->pkt_buf);
	ch->ring_pages = NULL;
	ch->pkt_buf = NULL;
	ch->pkt_buf_size = 0;
	memset(&ch->in, 0, sizeof(ch->in));
	memset(&ch->out, 0, sizeof(ch->out));
}

static void on_open(struct vmb_bus *bus, const void *msg, u32 size)
{
	const struct vmbus_msg_open *o = msg;
	struct vmb_channel *ch = vmbus_relid_channel(bus, o->child_relid);
	struct gpadl *g = ch ? vmbus_find_gpadl(ch, o->ring_gpadl) : NULL;
	const char *why = NULL;
	vmb_status st;

	if (!ch || ch->offer != OFFER_SENT)
		why = "not offered";
	else if (ch->open)
		why = "already open";
	else if (!g || !g->ready || g->teardown_pending)
		why = "no such ring GPADL";
	else
		why = vmbus_channel_map_rings(ch, g, o->downstream_page_offset);
	if (why) {
		vmbus_log(bus, "OPENCHANNEL of relid %u refused: %s", o->child_relid, why);
		if (ch && !ch->open)
			vmbus_channel_unmap_rings(ch);
		send_open_result(bus, o, VMBUS_STATUS_FAILED);
		return;
	}
	ch->ring_gpadl = g;
	g->users++;
	ch->open_id = o->open_id;
	ch->target_vp = o->target_vp;
	memcpy(ch->user_data, o->user_data, sizeof(ch->user_data));
	ch->open = true;
	ch->broken = false;
	st = ch->state_cb.opened ? ch->state_cb.opened(ch) : VMB_STATUS_SUCCESS;
	if (st != VMB_STATUS_SUCCESS) {
		vmbus_log(bus, "OPENCHANNEL of relid %u refused by the VSP: status 0x%x", ch->relid,
			  st);
		vmbus_channel_close(ch, false);
		send_open_result(bus, o, VMBUS_STATUS_FAILED);
		return;
	}
	send_open_result(bus, o, VMBUS_STATUS_OK);
	if (!ch->paused) {
		if (ch->state_cb.started)
			ch->state_cb.started(ch);
		if (ch->state_cb.post_started)
			ch->state_cb.post_started(ch);
	}
	if (ch->open)
		bus->up->service(ch);
}

void vmbus_channel_close(struct vmb_channel *ch, bool notify)
{
	struct gpadl *g = ch->ring_gpadl;

	if (!ch->open)
		return;
	ch->open = false;
	ch->bus->up->cancel(ch);
	if (notify && ch->state_cb.closed)
		ch->state_cb.closed(ch);
	ch->bus->up->drop_incoming(ch);
	vmbus_channel_unmap_rings(ch);
	ch->ring_gpadl = NULL;
	ch->broken = false;
	ch->kick = false;
	if (g) {
		g->users--;
		vmbus_gpadl_released(ch, g);
	}
}

static void on_close(struct vmb_bus *bus, const void *msg, u32 size)
{
	const struct vmbus_msg_relid *c = msg;
	struct vmb_channel *ch = vmbus_relid_channel(bus, c->child_relid);

	if (!ch || !ch->open) {
		vmbus_log(bus, "CLOSECHANNEL of relid %u dropped: not open", c->child_relid);
		return;
	}
	vmbus_channel_close(ch, true);
}

/* ---- connection ---- */

static void on_initiate_contact(struct vmb_bus *bus, const void *msg, u32 size)
{
	const struct vmbus_msg_initiate_contact *m = msg;
	struct vmbus_msg_version_response r;
	u32 v = m->version;
	const char *why = NULL;

	if (bus->version) {
		vmbus_log(bus, "INITIATE_CONTACT while connected: the guest starts over");
		vmbus_disconnect(bus);
	}
	if (!version_known(v))
		why = "unknown version";
	else if (m->target_vcpu)
		why = "target VP does not exist";
	else if (v >= VMBUS_VERSION_V5 && (m->msg_sint >= HV_SINT_COUNT || m->msg_vtl))
		why = "message SINT or VTL out of range";
	/* From 5.0 the guest names the SINT it reads messages on (connection.c). */
	bus->msg_sint =
	    v >= VMBUS_VERSION_V5 && m->msg_sint < HV_SINT_COUNT ? m->msg_sint : VMBUS_SINT;
	memset(&r, 0, sizeof(r));
	header(&r, VMBUS_MSG_VERSION_RESPONSE);
	if (why) {
		/* version_supported = 0: the guest tries its next version. */
		vmbus_log(bus, "VMBus version %u.%u refused: %s", VERSION_MAJOR(v),
			  VERSION_MINOR(v), why);
		bus->msg_sint = VMBUS_SINT;
		vmbus_send(bus, &r, sizeof(r));
		return;
	}
	bus->version = v;
	bus->offers_requested = false;
	r.version_supported = 1;
	r.connection_state = VMBUS_CONNECTION_SUCCESSFUL;
	r.msg_conn_id = v >= VMBUS_VERSION_V5 ? VMBUS_CONN_MESSAGE_4 : VMBUS_CONN_MESSAGE;
	vmbus_send(bus, &r, sizeof(r));
}

static void on_request_offers(struct vmb_bus *bus, const void *msg, u32 size)
{
	struct vmbus_msg_header done;

	if (bus->offers_requested)
		vmbus_log(bus, "REQUESTOFFERS again: offering what is new");
	bus->offers_requested = true;
	for (u32 relid = 1; relid <= VMBUS_MAX_CHANNELS; relid++)
		if (bus->relids[relid])
			vmbus_offer(bus->relids[relid]);
	header(&done, VMBUS_MSG_ALLOFFERS_DELIVERED);
	vmbus_send(bus, &done, sizeof(done));
}

static void on_relid_released(struct vmb_bus *bus, const void *msg, u32 size)
{
	const struct vmbus_msg_relid *r = msg;
	u32 relid = r->child_relid;
	struct vmb_channel *ch = vmbus_relid_channel(bus, relid);

	/* Linux's vmbus_exit releases its channels after UNLOAD: nothing is left to release. */
	if (!bus->version)
		return;
	if (relid && relid <= VMBUS_MAX_CHANNELS && (bus->zombies & (1ull << relid))) {
		bus->zombies &= ~(1ull << relid);
		return;
	}
	if (!ch || ch->offer != OFFER_RESCINDING) {
		vmbus_log(bus, "RELID_RELEASED of relid %u dropped: not rescinded", relid);
		return;
	}
	vmbus_channel_close(ch, true);
	vmbus_channel_free_gpadls(ch);
	bus->relids[relid] = NULL;
	ch->relid = 0;
	ch->offer = OFFER_NONE;
}

void vmbus_disconnect(struct vmb_bus *bus)
{
	for (unsigned i = 0; i < bus->nr_channels; i++) {
		struct vmb_channel *ch = bus->channels[i];

		vmbus_channel_close(ch, true);
		vmbus_channel_free_gpadls(ch);
		if (ch->offer == OFFER_RESCINDING) {
			/* Disabled, and the guest will never release it now. */
			bus->relids[ch->relid] = NULL;
			ch->relid = 0;
		}
		ch->offer = OFFER_NONE;
	}
	bus->zombies = 0;
	bus->version = 0;
	bus->offers_requested = false;
	bus->msg_sint = VMBUS_SINT;
	bus->q_count = 0; /* answers to a guest that no longer waits for them */
}

static void on_unload(struct vmb_bus *bus, const void *msg, u32 size)
{
	struct vmbus_msg_header r;

	vmbus_disconnect(bus);
	header(&r, VMBUS_MSG_UNLOAD_RESPONSE);
	vmbus_send(bus, &r, sizeof(r));
}

static void on_modify(struct vmb_bus *bus, const void *msg, u32 size)
{
	const struct vmbus_msg_modify *m = msg;
	struct vmb_channel *ch = vmbus_relid_channel(bus, m->child_relid);
	struct vmbus_msg_modify_response r;
	bool ok = ch && ch->offer == OFFER_SENT && m->target_vp == 0; /* one VP */

	if (!ok)
		vmbus_log(bus, "MODIFYCHANNEL of relid %u to VP %u refused", m->child_relid,
			  m->target_vp);
	/* Before 5.3 the guest expects no answer (channel.c vmbus_send_modifychannel). */
	if (bus->version < VMBUS_VERSION_V5_3)
		return;
	header(&r, VMBUS_MSG_MODIFYCHANNEL_RESPONSE);
	r.child_relid = m->child_relid;
	r.status = ok ? VMBUS_STATUS_OK : VMBUS_STATUS_FAILED;
	vmbus_send(bus, &r, sizeof(r));
}

static void on_tl_connect(struct vmb_bus *bus, const void *msg, u32 size)
{
	/* The guest times out waiting for an offer (Linux hv_sock). */
	vmbus_log(bus, "TL_CONNECT_REQUEST dropped: no hv_sock service");
}

/* ---- dispatch ---- */

struct handler {
	void (*fn)(struct vmb_bus *bus, const void *msg, u32 size);
	u32 min_size;
	bool connected; /* only after INITIATE_CONTACT succeeded */
};

static const struct handler handlers[VMBUS_MSG_COUNT] = {
    [VMBUS_MSG_REQUESTOFFERS] = {on_request_offers, sizeof(struct vmbus_msg_header), true},
    [VMBUS_MSG_OPENCHANNEL] = {on_open, VMBUS_OPEN_MIN_SIZE, true},
    [VMBUS_MSG_CLOSECHANNEL] = {on_close, sizeof(struct vmbus_msg_relid), true},
    [VMBUS_MSG_GPADL_HEADER] = {on_gpadl_header, sizeof(struct vmbus_msg_gpadl_header), true},
    [VMBUS_MSG_GPADL_BODY] = {on_gpadl_body, sizeof(struct vmbus_msg_gpadl_body), true},
    [VMBUS_MSG_GPADL_TEARDOWN] = {on_gpadl_teardown, sizeof(struct vmbus_msg_gpadl_teardown), true},
    [VMBUS_MSG_RELID_RELEASED] = {on_relid_released, sizeof(struct vmbus_msg_relid), false},
    [VMBUS_MSG_INITIATE_CONTACT] = {on_initiate_contact, sizeof(struct vmbus_msg_initiate_contact),
				    false},
    [VMBUS_MSG_UNLOAD] = {on_unload, sizeof(struct vmbus_msg_header), false},
    [VMBUS_MSG_TL_CONNECT_REQUEST] = {on_tl_connect, sizeof(struct vmbus_msg_tl_connect), true},
    [VMBUS_MSG_MODIFYCHANNEL] = {on_modify, sizeof(struct vmbus_msg_modify), true},
};

void vmbus_handle_message(struct vmb_bus *bus, const void *msg, u32 size)
{
	const struct vmbus_msg_header *hdr = msg;
	const struct handler *h;

	if (size < sizeof(*hdr)) {
		vmbus_log(bus, "message of %u bytes dropped: shorter than a header", size);
		return;
	}
	h = hdr->type < VMBUS_MSG_COUNT ? &handlers[hdr->type] : NULL;
	if (!h || !h->fn) {
		vmbus_log(bus, "message type %u dropped: not one a guest sends", hdr->type);
		return;
	}
	if (size < h->min_size) {
		vmbus_log(bus, "message type %u dropped: %u bytes, at least %u expected", hdr->type,
			  size, h->min_size);
		return;
	}
	if (h->connected && !bus->version) {
		vmbus_log(bus, "message type %u dropped: before INITIATE_CONTACT", hdr->type);
		return;
	}
	h->fn(bus, msg, size);
}
