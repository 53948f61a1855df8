/*
 * netvsp (docs/netvsp.md): the synthetic NICs of a partition with `nic =`,
 * one VMBus channel each, speaking NVSP (Linux drivers/net/hyperv/
 * hyperv_net.h and netvsc.c are the reference of the guest's side) with
 * RNDIS inside (rndis.c). This file owns the instance, its configuration
 * keys, the NVSP messages, the guest's receive and send buffers (GPADLs
 * mapped through the library), the receive path and each NIC's port on
 * the virtual switch its `nic =` names. A message for the guest is copied
 * into a free receive section and announced with a transfer-page packet;
 * the section is free again when the guest completes that packet. RNDIS
 * answers wait for a free section in a bounded queue of netvsp's own
 * (NETVSP_RX_QUEUE); frames wait in the switch's queue for the port, and
 * are taken from it only once the answers are out and a section is free.
 */
#include "vsp/netvsp/nic.h"
#include "vmbus/vsp.h"

#include <stdio.h>
#include <string.h>

#define NETVSP_MAX_INBAND 128 /* the largest in-band NVSP message netvsp reads */

_Static_assert(sizeof(struct netvsp_rx_ctx) <= VMB_PACKET_CONTEXT_SIZE, "packet context");

static const u32 nvsp_versions[] = {NVSP_VERSION_1, NVSP_VERSION_2, NVSP_VERSION_4,
				    NVSP_VERSION_5, NVSP_VERSION_6, NVSP_VERSION_61};

/* ---- configuration: `nic = lan, dmz` and `mac = ...` ---- */

static bool hexval(char c, unsigned *v)
{
	if (c >= '0' && c <= '9')
		*v = (unsigned)(c - '0');
	else if (c >= 'a' && c <= 'f')
		*v = (unsigned)(c - 'a' + 10);
	else if (c >= 'A' && c <= 'F')
		*v = (unsigned)(c - 'A' + 10);
	else
		return false;
	return true;
}

/* One MAC of exactly 17 characters. */
static bool parse_mac(const char *s, size_t len, u8 mac[6])
{
	if (len != 17)
		return false;
	for (unsigned i = 0; i < 6; i++) {
		unsigned hi, lo;

		if (!hexval(s[3 * i], &hi) || !hexval(s[3 * i + 1], &lo))
			return false;
		if (i < 5 && s[3 * i + 2] != ':')
			return false;
		mac[i] = (u8)(hi << 4 | lo);
	}
	return true;
}

int netvsp_parse_macs(const char *text, u8 (*macs)[6], unsigned max, unsigned *n, char *err,
		      size_t errlen)
{
	const char *p = text;

	*n = 0;
	for (;;) {
		const char *end;
		size_t len;
		u8 mac[6];

		while (*p == ' ' || *p == '\t')
			p++;
		end = p;
		while (*end && *end != ',')
			end++;
		len = (size_t)(end - p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (!parse_mac(p, len, mac)) {
			snprintf(err, errlen,
				 "'%.*s' is not a MAC (six hex pairs: 00:15:5d:12:34:56)",
				 (int)(len > 17 ? 17 : len), p);
			return -1;
		}
		if (mac[0] & 1) {
			snprintf(err, errlen,
				 "'%.17s' is a multicast MAC (a NIC needs a unicast one)", p);
			return -1;
		}
		if (*n == max) {
			snprintf(err, errlen, "more than %u MACs", max);
			return -1;
		}
		memcpy(macs[(*n)++], mac, 6);
		if (!*end)
			return 0;
		p = end + 1;
	}
}

static int check_mac_key(const struct cfg_value *v, char *err, size_t errlen)
{
	u8 macs[NETVSP_NICS_MAX][6];
	unsigned n;

	return netvsp_parse_macs(v->text, macs, NETVSP_NICS_MAX, &n, err, errlen);
}

/* `nic =` is a list of names, as a switch's name is (1-15 of [a-z0-9_-], the list's rule). */
CFG_KEY(nic_key) = {
    .k = CFG_KEY_HEAD(CFG_KEY_LIST, "partition", "nic"),
    .noun = "switch",
    .example = "lan, dmz",
};

CFG_KEY(mac_key) = {
    .k = CFG_KEY_HEAD(0, "partition", "mac"),
    .check = check_mac_key,
};

/* The names of `nic =`, which the configuration parser has checked already; their count. */
static unsigned nic_names(const char *text, char names[][CFG_ITEM_MAX + 1], unsigned max)
{
	unsigned n = 0;

	while (text && *text && n < max) {
		size_t len = 0;

		while (*text == ' ' || *text == '\t' || *text == ',')
			text++;
		while (text[len] && text[len] != ',' && text[len] != ' ' && text[len] != '\t')
			len++;
		if (!len)
			break;
		if (len > CFG_ITEM_MAX)
			len = CFG_ITEM_MAX;
		memcpy(names[n], text, len);
		names[n++][len] = 0;
		text += len;
	}
	return n;
}

static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

/* ---- small helpers ---- */

struct netvsp_nic *netvsp_nic_of(struct vmb_channel *channel)
{
	return *(struct netvsp_nic **)vmb_channel_get_pointer(channel);
}

void netvsp_bad(struct netvsp_nic *n, const char *why)
{
	n->stats.bad_messages++;
	if (n->bad_logged)
		return;
	n->bad_logged = true; /* a guest could make this happen all the time */
	vsp_log(n->vsp, "nic %u: %s", n->index, why);
}

/*
 * Finish a guest packet: with a reply of NVSP_MESSAGE_SIZE bytes (Linux reads
 * a whole nvsp_message of a completion), with none (len 0), or failed. Out
 * of host memory the library keeps the packet in use (kmcl.h): it is
 * deferred, delivery pauses, and the work pass tries again.
 */
static void finish(struct netvsp_nic *n, struct vmb_packet *packet, const void *msg, u32 len,
		   bool failed)
{
	struct netvsp_owed *o;
	u8 out[NVSP_MESSAGE_SIZE] = {0};
	vmb_status st;

	if (len > sizeof(out))
		len = sizeof(out); /* no reply of netvsp's is longer */
	if (len) {
		memcpy(out, msg, len);
		len = sizeof(out);
	}
	st = failed ? vmb_channel_packet_fail(packet)
		    : vmb_channel_packet_complete(packet, out, len);
	if (st != VMB_STATUS_INSUFFICIENT_RESOURCES)
		return;
	if (n->nr_owed == NETVSP_OWED || vmb_channel_packet_defer(packet) != VMB_STATUS_SUCCESS) {
		vmb_channel_packet_fail(packet); /* the last resort: the guest hears something */
		return;
	}
	o = &n->owed[n->nr_owed++];
	o->packet = packet;
	o->failed = failed;
	o->len = len;
	memcpy(o->reply, out, sizeof(out));
	if (!n->paused && vmb_channel_pause(n->channel) == VMB_STATUS_SUCCESS)
		n->paused = true;
	vsp_defer(n->vsp);
}

static void complete(struct netvsp_nic *n, struct vmb_packet *packet, const void *msg, u32 len)
{
	finish(n, packet, msg, len, false);
}

/* The completions the library could not take, oldest first; then delivery again. */
static void retry_owed(struct netvsp_nic *n)
{
	unsigned done = 0;

	for (; done < n->nr_owed; done++) {
		struct netvsp_owed *o = &n->owed[done];
		vmb_status st = o->failed
				    ? vmb_channel_packet_fail(o->packet)
				    : vmb_channel_packet_complete(o->packet, o->reply, o->len);

		if (st == VMB_STATUS_INSUFFICIENT_RESOURCES)
			break;
	}
	memmove(n->owed, n->owed + done, (n->nr_owed - done) * sizeof(n->owed[0]));
	n->nr_owed -= done;
	if (n->nr_owed) {
		vsp_defer(n->vsp);
		return;
	}
	if (n->paused) {
		n->paused = false; /* first: start delivers at once, which may pause us again */
		if (vmb_channel_start(n->channel) != VMB_STATUS_SUCCESS) {
			n->paused = true;
			vsp_defer(n->vsp);
		}
	}
}

bool netvsp_version_known(u32 v)
{
	for (unsigned i = 0; i < ARRAY_SIZE(nvsp_versions); i++)
		if (nvsp_versions[i] == v)
			return true;
	return false;
}

/* ---- the receive path ---- */

void netvsp_rx_mark(struct netvsp_nic *n, u32 s, bool busy)
{
	u64 bit = 1ull << (s % 64);

	if (busy)
		n->rx_bitmap[s / 64] |= bit;
	else
		n->rx_bitmap[s / 64] &= ~bit;
	n->rx_busy += busy ? 1 : -1;
}

bool netvsp_rx_is_busy(const struct netvsp_nic *n, u32 s)
{
	return n->rx_bitmap[s / 64] >> (s % 64) & 1;
}

/* A free section, searched from where the last one was found; false if all are in use. */
static bool rx_find(struct netvsp_nic *n, u32 *out)
{
	if (n->rx_busy >= n->rx_sections)
		return false;
	for (u32 i = 0; i < n->rx_sections; i++) {
		u32 s = (n->rx_hint + i) % n->rx_sections;

		if (!netvsp_rx_is_busy(n, s)) {
			*out = s;
			n->rx_hint = (s + 1) % n->rx_sections;
			return true;
		}
	}
	return false;
}

void netvsp_rx_completed(struct vmb_packet *packet, vmb_status status, const void *reply,
			 u32 reply_len)
{
	struct netvsp_nic *n = netvsp_nic_of(vmb_packet_get_channel(packet));
	const struct netvsp_rx_ctx *c = vmb_packet_get_context(packet);

	/* The guest's status does not matter: the section is its to reuse either way. */
	if (c->magic != NETVSP_RX_MAGIC || c->gen != n->rx_gen || c->section >= n->rx_sections ||
	    !netvsp_rx_is_busy(n, c->section))
		return; /* a buffer revoked since */
	netvsp_rx_mark(n, c->section, false);
	if (n->q_count || (n->port && vsw_port_peek(n->port, &(u32){0})))
		vsp_defer(n->vsp); /* waiting messages go out from the work pass */
}

/* SENT; WAIT: no free section (a completion frees one); RETRY: the ring is full; DROPPED. */
enum announce { SENT, WAIT, RETRY, DROPPED };

/*
 * One message, head then body (a frame's RNDIS header and the frame as the
 * switch holds it), into a free section, announced to the guest.
 */
static enum announce announce(struct netvsp_nic *n, u32 channel_type, const void *head,
			      u32 head_len, const void *body, u32 body_len)
{
	const struct nvsp_rndis_pkt hdr = {NVSP_MSG1_SEND_RNDIS_PKT, channel_type, NVSP_NO_SECTION,
					   0};
	u8 payload[NVSP_MESSAGE_SIZE] = {0};
	struct vmb_transfer_range range;
	struct vmb_packet *packet;
	struct netvsp_rx_ctx *c;
	vmb_status st;
	u32 s;

	if (!n->open || !n->rx_map)
		return DROPPED;
	if (!rx_find(n, &s))
		return WAIT;
	if (vmb_gpadl_write(n->rx_map, (u64)s * NETVSP_RX_SECTION, head, head_len) !=
		VMB_STATUS_SUCCESS ||
	    (body_len && vmb_gpadl_write(n->rx_map, (u64)s * NETVSP_RX_SECTION + head_len, body,
					 body_len) != VMB_STATUS_SUCCESS))
		return DROPPED;
	st = vmb_packet_allocate(n->channel, &packet);
	if (st != VMB_STATUS_SUCCESS)
		return RETRY;
	c = vmb_packet_get_context(packet);
	*c = (struct netvsp_rx_ctx){NETVSP_RX_MAGIC, n->rx_gen, s};
	vmb_packet_set_completion_routine(packet, netvsp_rx_completed);
	memcpy(payload, &hdr, sizeof(hdr));
	range = (struct vmb_transfer_range){head_len + body_len, s * NETVSP_RX_SECTION};
	st = vmb_packet_send_transfer_pages(packet, n->rx_id, &range, 1, payload, sizeof(payload),
					    VMB_SEND_COMPLETION_REQUESTED);
	if (st != VMB_STATUS_SUCCESS) {
		vmb_packet_free(packet);
		return st == VMB_STATUS_INSUFFICIENT_RESOURCES ? RETRY : DROPPED;
	}
	netvsp_rx_mark(n, s, true);
	return SENT;
}

/* Whether the message may leave the queue it waits in (counted); false: it waits. */
static bool rx_done(struct netvsp_nic *n, enum announce a, u32 channel_type, u32 frame_len)
{
	if (a == WAIT || a == RETRY) {
		if (a == RETRY)
			vsp_defer(n->vsp);
		return false;
	}
	if (a == SENT && channel_type == NVSP_CHANNEL_DATA) {
		n->stats.rx_packets++;
		n->stats.rx_bytes += frame_len;
	} else if (a == DROPPED) {
		n->stats.rx_dropped++;
	}
	return true;
}

/* A frame the switch queued for the port, taken from the switch once it is announced. */
static bool rx_frame(struct netvsp_nic *n)
{
	struct rndis_packet p = {.h = {RNDIS_MSG_PACKET}};
	u32 len;
	const void *frame = vsw_port_peek(n->port, &len);
	enum announce a;

	if (!frame)
		return false;
	if (len < NETVSP_FRAME_MIN || len > NETVSP_FRAME_MAX) {
		a = DROPPED; /* the switch takes a tagged frame that this NIC's MTU does not */
	} else {
		p.h.len = (u32)sizeof(p) + len;
		p.data_offset = sizeof(p) - RNDIS_BODY_OFFSET;
		p.data_len = len;
		a = announce(n, NVSP_CHANNEL_DATA, &p, sizeof(p), frame, len);
	}
	if (!rx_done(n, a, NVSP_CHANNEL_DATA, len))
		return false;
	vsw_port_pop(n->port);
	return true;
}

/*
 * Send what waits, oldest first, until sections or ring space run out:
 * netvsp's own messages (RNDIS answers, indications) first, then frames.
 */
static void rx_flush(struct netvsp_nic *n)
{
	while (n->q_count) {
		struct netvsp_msg *m = &n->q[n->q_head];

		if (!rx_done(n, announce(n, m->channel_type, m->data, m->len, NULL, 0),
			     m->channel_type, 0))
			return;
		n->q_head = (n->q_head + 1) % NETVSP_RX_QUEUE;
		n->q_count--;
	}
	while (n->port && netvsp_ready(n) && rx_frame(n))
		;
}

/* A slot at the queue's tail, or NULL (counted) when it is full. */
static struct netvsp_msg *rx_slot(struct netvsp_nic *n)
{
	if (n->q_count == NETVSP_RX_QUEUE) {
		n->stats.rx_dropped++;
		return NULL;
	}
	return &n->q[(n->q_head + n->q_count) % NETVSP_RX_QUEUE];
}

int netvsp_queue(struct netvsp_nic *n, const void *msg, u32 len, u32 channel_type)
{
	struct netvsp_msg *m = len <= NETVSP_MSG_MAX ? rx_slot(n) : NULL;

	if (!m)
		return -1;
	m->len = len;
	m->channel_type = channel_type;
	memcpy(m->data, msg, len);
	n->q_count++;
	rx_flush(n);
	return 0;
}

/* ---- buffers ---- */

static void unmap_rx(struct netvsp_nic *n)
{
	if (n->rx_map)
		vmb_channel_unmap_gpadl(n->channel, n->rx_map);
	n->rx_map = NULL;
	n->rx_sections = n->rx_busy = n->rx_hint = 0;
	n->rx_gen++; /* completions still on their way free nothing of a later buffer */
	memset(n->rx_bitmap, 0, sizeof(n->rx_bitmap));
	n->q_head = n->q_count = 0;
}

static void unmap_tx(struct netvsp_nic *n)
{
	if (n->tx_map)
		vmb_channel_unmap_gpadl(n->channel, n->tx_map);
	n->tx_map = NULL;
	n->tx_sections = 0;
}

/* The guest's buffer of GPADL id, mapped, apart from the ring and at least min bytes. */
static u32 map_buffer(struct netvsp_nic *n, u32 gpadl, u64 min, struct vmb_gpadl_mapping **out)
{
	struct vmb_gpadl_mapping *m;

	if (vmb_channel_map_gpadl(n->channel, gpadl, &m) != VMB_STATUS_SUCCESS) {
		netvsp_bad(n, "a buffer GPADL that cannot be mapped");
		return NVSP_STAT_FAIL;
	}
	if (vmb_gpadl_mapping_size(m) < min || vmb_gpadl_mapping_overlaps_ring(n->channel, m)) {
		vmb_channel_unmap_gpadl(n->channel, m);
		netvsp_bad(n, "a buffer GPADL too small or overlapping the ring");
		return NVSP_STAT_FAIL;
	}
	*out = m;
	return NVSP_STAT_SUCCESS;
}

static void do_recv_buf(struct netvsp_nic *n, struct vmb_packet *packet, const u8 *msg)
{
	struct nvsp_send_buf req;
	struct nvsp_recv_buf_complete c = {.type = NVSP_MSG1_SEND_RECV_BUF_COMPLETE,
					   .status = NVSP_STAT_FAIL};
	u64 sections;

	memcpy(&req, msg, sizeof(req));
	if (!n->rx_map) {
		c.status = map_buffer(n, req.gpadl, NETVSP_RX_SECTION, &n->rx_map);
	} else {
		netvsp_bad(n, "a second receive buffer");
	}
	if (c.status == NVSP_STAT_SUCCESS) {
		sections = vmb_gpadl_mapping_size(n->rx_map) / NETVSP_RX_SECTION;
		n->rx_sections = (u32)MIN(sections, (u64)NETVSP_RX_SECTIONS_MAX);
		n->rx_gpadl = req.gpadl;
		n->rx_id = req.id;
		c.num_sections = 1;
		c.section = (struct nvsp_recv_section){0, NETVSP_RX_SECTION, n->rx_sections,
						       n->rx_sections * NETVSP_RX_SECTION};
	}
	complete(n, packet, &c, sizeof(c));
}

static void send_table(struct netvsp_nic *n)
{
	struct {
		struct nvsp_send_table t;
		u8 pad[NVSP_MESSAGE_SIZE - sizeof(struct nvsp_send_table)];
		u32 entries[NVSP_SEND_TABLE_SIZE]; /* all 0: the one channel */
	} __packed m = {
	    .t = {NVSP_MSG5_SEND_INDIRECTION_TABLE, NVSP_SEND_TABLE_SIZE, NVSP_MESSAGE_SIZE}};
	struct vmb_packet *packet;

	if (!n->table_due || !n->open)
		return;
	if (vmb_packet_allocate(n->channel, &packet) != VMB_STATUS_SUCCESS) {
		vsp_defer(n->vsp);
		return;
	}
	if (vmb_packet_send(packet, &m, sizeof(m), NULL, 0) != VMB_STATUS_SUCCESS) {
		vmb_packet_free(packet);
		vsp_defer(n->vsp); /* the ring is full: the work pass tries again */
		return;
	}
	n->table_due = false;
}

static void do_send_buf(struct netvsp_nic *n, struct vmb_packet *packet, const u8 *msg)
{
	struct nvsp_send_buf req;
	struct nvsp_send_buf_complete c = {.type = NVSP_MSG1_SEND_SEND_BUF_COMPLETE,
					   .status = NVSP_STAT_FAIL};

	memcpy(&req, msg, sizeof(req));
	if (!n->tx_map)
		c.status = map_buffer(n, req.gpadl, NETVSP_TX_SECTION, &n->tx_map);
	else
		netvsp_bad(n, "a second send buffer");
	if (c.status == NVSP_STAT_SUCCESS) {
		n->tx_gpadl = req.gpadl;
		n->tx_sections = (u32)MIN(vmb_gpadl_mapping_size(n->tx_map) / NETVSP_TX_SECTION,
					  (u64)0xfffffffeu);
		n->tx_id = req.id;
		c.section_size = NETVSP_TX_SECTION;
	}
	complete(n, packet, &c, sizeof(c));
	/* Linux expects the send table after the buffers, from version 5 on (netvsc.c). */
	if (c.status == NVSP_STAT_SUCCESS && n->version >= NVSP_VERSION_5) {
		n->table_due = true;
		send_table(n);
	}
}

/* ---- RNDIS_PKT: the RNDIS message in a send section or in guest pages ---- */

/* Where the guest put one RNDIS message. */
struct tx_place {
	struct netvsp_nic *n;
	struct vmb_packet *packet;
	u64 section; /* its offset in the send buffer; NO_PLACE: in the packet's page ranges */
	struct vmb_external_data ext;
	u32 len;
};
#define NO_PLACE (~0ull)

/* Bytes [off, off + count) of the message, wherever the guest put them. */
static vmb_status tx_read(void *ctx, u32 off, void *dst, u32 count)
{
	const struct tx_place *t = ctx;
	u8 *to = dst;

	if (off > t->len || count > t->len - off)
		return VMB_STATUS_INVALID_PARAMETER;
	if (t->section != NO_PLACE)
		return vmb_gpadl_read(t->n->tx_map, t->section + off, dst, count);
	/* Linux's page buffers: one range each, the RNDIS header first, then the frame. */
	for (u32 r = 0, at = 0; r < t->ext.nr_ranges && count; r++) {
		u32 size = t->ext.ranges[r].byte_count, skip, take;

		if (off >= at + size) {
			at += size;
			continue;
		}
		skip = off - at;
		take = MIN(count, size - skip);
		if (vmb_packet_read_external(t->packet, r, skip, to, take) != VMB_STATUS_SUCCESS)
			return VMB_STATUS_INVALID_PARAMETER;
		to += take;
		off += take;
		count -= take;
		at += size;
	}
	return count ? VMB_STATUS_INVALID_PARAMETER : VMB_STATUS_SUCCESS;
}

static u32 tx_place(struct netvsp_nic *n, struct vmb_packet *packet, u32 flags,
		    const struct nvsp_rndis_pkt *req, struct tx_place *t)
{
	u64 len = 0;

	t->n = n;
	t->packet = packet;
	t->section = NO_PLACE;
	if (req->section_index != NVSP_NO_SECTION) {
		if (!n->tx_map || req->section_index >= n->tx_sections ||
		    req->section_size > NETVSP_TX_SECTION || req->section_size > NETVSP_TX_MAX)
			return NVSP_STAT_INVALID_RNDIS;
		t->section = (u64)req->section_index * NETVSP_TX_SECTION;
		t->len = req->section_size;
		return NVSP_STAT_SUCCESS;
	}
	if (!(flags & VMB_PACKET_EXTERNAL_DATA) ||
	    vmb_packet_get_external_data(packet, &t->ext) != VMB_STATUS_SUCCESS)
		return NVSP_STAT_INVALID_RNDIS;
	for (u32 r = 0; r < t->ext.nr_ranges; r++)
		len += t->ext.ranges[r].byte_count;
	if (len > NETVSP_TX_MAX)
		return NVSP_STAT_INVALID_RNDIS;
	t->len = (u32)len;
	return NVSP_STAT_SUCCESS;
}

/*
 * Copy out what netvsp parses, each byte once and in order (the guest may
 * change its copy meanwhile): the header; for a data packet its fixed
 * part and what lies before the frame, when the info list is there too
 * (Linux's layout); any other message whole. A frame stays where it is.
 */
static u32 tx_copy_out(struct netvsp_nic *n, const struct tx_place *t, struct netvsp_tx *m)
{
	void *place = (void *)t;
	struct rndis_packet p;
	u32 have = MIN(t->len, (u32)sizeof(p.h)), want = t->len;
	u64 data, info_end;

	*m = (struct netvsp_tx){.msg = n->scratch, .len = t->len, .read = tx_read, .ctx = place};
	if (tx_read(place, 0, n->scratch, have) != VMB_STATUS_SUCCESS)
		return NVSP_STAT_INVALID_RNDIS;
	memcpy(&p.h, n->scratch, have);
	if (have == sizeof(p.h) && p.h.type == RNDIS_MSG_PACKET && t->len >= sizeof(p)) {
		if (tx_read(place, have, n->scratch + have, sizeof(p) - have) != VMB_STATUS_SUCCESS)
			return NVSP_STAT_INVALID_RNDIS;
		have = sizeof(p);
		memcpy(&p, n->scratch, sizeof(p));
		data = (u64)RNDIS_BODY_OFFSET + p.data_offset;
		info_end = (u64)RNDIS_BODY_OFFSET + p.ppi_offset + p.ppi_len;
		if (data >= sizeof(p) && data <= t->len && info_end <= data)
			want = (u32)data;
	}
	if (tx_read(place, have, n->scratch + have, want - have) != VMB_STATUS_SUCCESS)
		return NVSP_STAT_INVALID_RNDIS;
	m->have = want;
	return NVSP_STAT_SUCCESS;
}

static void do_rndis_pkt(struct netvsp_nic *n, struct vmb_packet *packet, const u8 *msg, u32 flags)
{
	struct nvsp_rndis_pkt req;
	struct nvsp_rndis_pkt_complete c = {.type = NVSP_MSG1_SEND_RNDIS_PKT_COMPLETE};
	struct tx_place t;
	struct netvsp_tx m;

	memcpy(&req, msg, sizeof(req));
	if (req.channel_type != NVSP_CHANNEL_DATA && req.channel_type != NVSP_CHANNEL_CONTROL)
		c.status = NVSP_STAT_INVALID_RNDIS;
	else
		c.status = tx_place(n, packet, flags, &req, &t);
	if (c.status == NVSP_STAT_SUCCESS)
		c.status = tx_copy_out(n, &t, &m);
	if (c.status == NVSP_STAT_SUCCESS)
		c.status = netvsp_rndis(n, &m);
	if (c.status != NVSP_STAT_SUCCESS)
		netvsp_bad(n, "an RNDIS message refused (bad section, length or type)");
	complete(n, packet, &c, sizeof(c));
}

/* ---- NVSP ---- */

static void do_init(struct netvsp_nic *n, struct vmb_packet *packet, const u8 *msg)
{
	struct nvsp_init req;
	struct nvsp_init_complete c = {NVSP_MSG_INIT_COMPLETE, 0, 0, NVSP_STAT_FAIL};

	memcpy(&req, msg, sizeof(req));
	/* The newest version both sides know; none while buffers from a session are still held. */
	for (unsigned i = ARRAY_SIZE(nvsp_versions); i-- && !n->rx_map && !n->tx_map;) {
		u32 v = nvsp_versions[i];

		if (v >= req.min_version && v <= req.max_version) {
			c.version = v;
			c.status = NVSP_STAT_SUCCESS;
			break;
		}
	}
	if (c.status == NVSP_STAT_SUCCESS)
		n->version = c.version;
	else if (!netvsp_version_known(req.min_version))
		netvsp_bad(n, "NVSP versions netvsp does not know");
	complete(n, packet, &c, sizeof(c));
}

/* The in-band size each NVSP message needs at least, and the version it came with. */
static const struct {
	u32 type, min_len, since;
} nvsp_messages[] = {
    {NVSP_MSG_INIT, sizeof(struct nvsp_init), 0},
    {NVSP_MSG1_SEND_NDIS_VERSION, sizeof(struct nvsp_ndis_version), NVSP_VERSION_1},
    {NVSP_MSG1_SEND_RECV_BUF, sizeof(struct nvsp_send_buf), NVSP_VERSION_1},
    {NVSP_MSG1_REVOKE_RECV_BUF, sizeof(struct nvsp_revoke), NVSP_VERSION_1},
    {NVSP_MSG1_SEND_SEND_BUF, sizeof(struct nvsp_send_buf), NVSP_VERSION_1},
    {NVSP_MSG1_REVOKE_SEND_BUF, sizeof(struct nvsp_revoke), NVSP_VERSION_1},
    {NVSP_MSG1_SEND_RNDIS_PKT, sizeof(struct nvsp_rndis_pkt), NVSP_VERSION_1},
    {NVSP_MSG2_SEND_NDIS_CONFIG, sizeof(struct nvsp_ndis_config), NVSP_VERSION_2},
    {NVSP_MSG4_SWITCH_DATA_PATH, 2 * sizeof(u32), NVSP_VERSION_4},
    {NVSP_MSG5_SUBCHANNEL, 3 * sizeof(u32), NVSP_VERSION_5},
};

static void nvsp(struct netvsp_nic *n, struct vmb_packet *packet, const u8 *msg, u32 len, u32 flags)
{
	u32 type = 0;
	unsigned i;

	if (len >= sizeof(type))
		memcpy(&type, msg, sizeof(type));
	for (i = 0; i < ARRAY_SIZE(nvsp_messages); i++)
		if (nvsp_messages[i].type == type)
			break;
	if (i == ARRAY_SIZE(nvsp_messages) || len < nvsp_messages[i].min_len ||
	    (nvsp_messages[i].since && (!n->version || n->version < nvsp_messages[i].since))) {
		netvsp_bad(n, "an NVSP message of an unknown type, too short, or out of turn");
		finish(n, packet, NULL, 0, true);
		return;
	}
	switch (type) {
	case NVSP_MSG_INIT:
		do_init(n, packet, msg);
		return;
	case NVSP_MSG1_SEND_NDIS_VERSION: {
		struct nvsp_ndis_version m;

		memcpy(&m, msg, sizeof(m));
		n->ndis_major = m.major;
		n->ndis_minor = m.minor;
		break;
	}
	case NVSP_MSG2_SEND_NDIS_CONFIG: {
		struct nvsp_ndis_config m;

		memcpy(&m, msg, sizeof(m));
		n->mtu = m.mtu; /* the guest's; netvsp's own MTU bounds what it takes */
		break;
	}
	case NVSP_MSG1_SEND_RECV_BUF:
		do_recv_buf(n, packet, msg);
		return;
	case NVSP_MSG1_SEND_SEND_BUF:
		do_send_buf(n, packet, msg);
		return;
	case NVSP_MSG1_REVOKE_RECV_BUF:
	case NVSP_MSG1_REVOKE_SEND_BUF: {
		struct nvsp_revoke m;
		bool rx = type == NVSP_MSG1_REVOKE_RECV_BUF;

		memcpy(&m, msg, sizeof(m));
		if (rx && n->rx_map && m.id == n->rx_id)
			unmap_rx(n);
		else if (!rx && n->tx_map && m.id == n->tx_id)
			unmap_tx(n);
		else
			netvsp_bad(n, "a revoke of a buffer the guest did not give");
		break;
	}
	case NVSP_MSG1_SEND_RNDIS_PKT:
		do_rndis_pkt(n, packet, msg, flags);
		return;
	case NVSP_MSG5_SUBCHANNEL: {
		/* No RSS is offered, so Linux never asks; a guest that does gets none. */
		const u32 c[3] = {NVSP_MSG5_SUBCHANNEL, NVSP_STAT_FAIL, 0};

		complete(n, packet, c, sizeof(c));
		return;
	}
	case NVSP_MSG4_SWITCH_DATA_PATH:
		break; /* there is no VF: the synthetic path is the only one */
	}
	complete(n, packet, NULL, 0);
}

static void netvsp_process_packet(struct vmb_channel *channel, struct vmb_packet *packet,
				  const void *buffer, u32 len, u32 flags)
{
	struct netvsp_nic *n = netvsp_nic_of(channel);
	u8 msg[NETVSP_MAX_INBAND] = {0};

	/* Copied once: the checks and the handlers look at this copy only. */
	memcpy(msg, buffer, MIN(len, (u32)sizeof(msg)));
	nvsp(n, packet, msg, len, flags);
	netvsp_port_sync(n);
}

static void netvsp_processing_complete(struct vmb_channel *channel, u32 packets)
{
	struct netvsp_nic *n = netvsp_nic_of(channel);

	send_table(n);
	rx_flush(n);
}

/* ---- channel state ---- */

static void nic_forget(struct netvsp_nic *n)
{
	unmap_rx(n);
	unmap_tx(n);
	n->version = n->ndis_major = n->ndis_minor = n->mtu = 0;
	n->table_due = false;
	n->rndis_up = false;
	n->filter = 0;
	n->link_told = false;
}

static vmb_status netvsp_opened(struct vmb_channel *channel)
{
	struct netvsp_nic *n = netvsp_nic_of(channel);

	nic_forget(n);
	n->open = true;
	n->bad_logged = false;
	netvsp_take_restored(n); /* a restore: its buffers, until netvsp_restore names them */
	netvsp_port_sync(n);
	return VMB_STATUS_SUCCESS;
}

static void netvsp_closed(struct vmb_channel *channel)
{
	struct netvsp_nic *n = netvsp_nic_of(channel);

	/* The library has dropped the packets in flight: their sections go with the buffer. */
	nic_forget(n);
	n->open = false;
	n->nr_owed = 0;
	netvsp_drop_restored(n); /* saved state: a restore rolled back before naming them */
	if (n->paused) {
		n->paused = false;
		vmb_channel_start(channel); /* a reopened channel starts unpaused */
	}
	netvsp_port_sync(n);
}

static const struct vmb_state_callbacks netvsp_state_callbacks = {
    .opened = netvsp_opened,
    .closed = netvsp_closed,
};

/* ---- the data path's interface (netvsp.h) ---- */

struct netvsp_nic *netvsp_nic(struct vsp *v, unsigned i)
{
	struct netvsp_dev *d = vsp_state(v);

	return i < d->nr_nics ? &d->nic[i] : NULL;
}

void netvsp_get_stats(const struct netvsp_nic *n, struct netvsp_stats *out)
{
	*out = n->stats;
}

void netvsp_get_mac(const struct netvsp_nic *n, u8 mac[6])
{
	memcpy(mac, n->mac, 6);
}

const char *netvsp_switch_name(const struct netvsp_nic *n)
{
	return n->sw;
}

bool netvsp_ready(const struct netvsp_nic *n)
{
	return n->open && n->rx_map && n->rndis_up && n->filter;
}

/* ---- the port on the switch ---- */

void netvsp_port_sync(struct netvsp_nic *n)
{
	/* Frames flow while the guest wants them; a link that goes down drops what waits. */
	if (n->port)
		vsw_port_set_link(n->port, netvsp_ready(n));
}

/* Frames the guest sends are held in the switch in its partition's memory. */
static void *port_alloc(void *ctx, size_t size)
{
	return vsp_alloc(((struct netvsp_nic *)ctx)->vsp, size);
}

static void port_free(void *ctx, void *ptr)
{
	vsp_free(((struct netvsp_nic *)ctx)->vsp, ptr);
}

static void port_kick(void *ctx)
{
	vsp_defer(((struct netvsp_nic *)ctx)->vsp);
}

static int port_attach(struct netvsp_nic *n, char *err, size_t errlen)
{
	const struct vsw_endpoint ep = {n, port_alloc, port_free, port_kick};
	struct vsw_port_info info = {
	    .partition = vsp_partition_name(n->vsp),
	    .partition_index = vsp_partition_index(n->vsp),
	    .nic = n->index,
	};
	char why[96];

	memcpy(info.mac, n->mac, 6);
	if (vsw_port_attach(n->sw, &info, &ep, &n->port, why, sizeof(why))) {
		snprintf(err, errlen, "nic %u: %s", n->index, why);
		return -1;
	}
	return 0;
}

static void port_detach(struct netvsp_nic *n)
{
	if (n->port)
		vsw_port_detach(n->port);
	n->port = NULL;
}

/* ---- the instance ---- */

static void netvsp_work(struct vsp *v)
{
	struct netvsp_dev *d = vsp_state(v);

	for (unsigned i = 0; i < d->nr_nics; i++) {
		retry_owed(&d->nic[i]);
		send_table(&d->nic[i]);
		rx_flush(&d->nic[i]);
		/* The switch's deferred work (its extensions') runs from its ports' passes. */
		if (d->nic[i].port)
			vsw_poll(vsw_port_switch(d->nic[i].port));
	}
}

static void netvsp_destroy(struct vsp *v)
{
	struct netvsp_dev *d = vsp_state(v);

	for (unsigned i = 0; i < d->nr_nics; i++) {
		port_detach(&d->nic[i]); /* first: its frames in the switch are in our memory */
		nic_forget(&d->nic[i]);
	}
}

static int make_channel(struct netvsp_dev *d, struct netvsp_nic *n, char *err, size_t errlen)
{
	static const struct vmb_guid type = NETVSP_TYPE_GUID;
	/* Made up for Bulkhead: one per NIC of a partition (data3: NIC, data4[7]: partition). */
	const struct vmb_guid instance =
	    VMB_GUID(0x6e657476, 0x7370, (u16)n->index, 0x8b, 0x1e, 0x42, 0x75, 0x6c, 0x6b, 0x68,
		     (u8)vsp_partition_index(d->vsp));
	struct vmb_bus *bus = vsp_bus(d->vsp);
	struct vmb_channel *ch;
	vmb_status st = vmb_channel_allocate(bus, &ch);

	if (st != VMB_STATUS_SUCCESS) {
		snprintf(err, errlen, "no channel for nic %u (status 0x%08x)", n->index, st);
		return -1;
	}
	if ((st = vmb_server_channel_init_set_vmbus_handle(ch, bus)) ||
	    (st = vmb_server_channel_init_set_target_interface_id(ch, &type, &instance)) ||
	    (st = vmb_channel_init_set_friendly_name(ch, "netvsp")) ||
	    (st = vmb_channel_init_set_maximum_packet_size(ch, NETVSP_MAX_INBAND)) ||
	    (st = vmb_channel_init_set_maximum_external_data(ch, NETVSP_TX_MAX + PAGE_SIZE)) ||
	    (st = vmb_channel_init_set_client_context_size(ch, sizeof(n))) ||
	    (st = vmb_channel_init_set_process_packet_callbacks(ch, netvsp_process_packet,
								netvsp_processing_complete)) ||
	    (st = vmb_channel_init_set_state_change_callbacks(ch, &netvsp_state_callbacks)) ||
	    (st = vmb_server_channel_init_set_save_restore_packet_callbacks(
		 ch, netvsp_save_packet, netvsp_restore_packet)) ||
	    (st = vmb_server_channel_init_set_check_packet_callback(ch, netvsp_check_packet))) {
		vmb_channel_cleanup(ch);
		snprintf(err, errlen, "channel set-up failed (status 0x%08x)", st);
		return -1;
	}
	*(struct netvsp_nic **)vmb_channel_get_pointer(ch) = n;
	n->channel = ch;
	st = vmb_channel_enable(ch);
	if (st != VMB_STATUS_SUCCESS) {
		vmb_channel_cleanup(ch);
		n->channel = NULL;
		snprintf(err, errlen, "offer of nic %u failed (status 0x%08x)", n->index, st);
		return -1;
	}
	return 0;
}

static int netvsp_create(struct vsp *v, char *err, size_t errlen)
{
	struct netvsp_dev *d = vsp_state(v);
	char names[CFG_LIST_MAX][CFG_ITEM_MAX + 1];
	u8 macs[NETVSP_NICS_MAX][6];
	const char *mac_text = vsp_config(v, "mac");
	unsigned n = nic_names(vsp_config(v, "nic"), names, CFG_LIST_MAX), nr_macs = 0;
	char why[96];

	d->vsp = v;
	if (!n || n > NETVSP_NICS_MAX) {
		snprintf(err, errlen, "nic: %u switches listed (1 to %u)", n, NETVSP_NICS_MAX);
		return -1;
	}
	if (mac_text &&
	    netvsp_parse_macs(mac_text, macs, NETVSP_NICS_MAX, &nr_macs, why, sizeof(why))) {
		snprintf(err, errlen, "mac: %s", why);
		return -1;
	}
	if (mac_text && nr_macs != n) {
		snprintf(err, errlen, "mac: %u MACs for %u NICs (one per NIC, in order)", nr_macs,
			 n);
		return -1;
	}
	/* Every NIC is checked before any channel is made: a failure leaves nothing behind. */
	for (unsigned i = 0; i < n; i++) {
		if (!name_ok(names[i])) {
			snprintf(err, errlen, "nic: '%s' is not a switch name", names[i]);
			return -1;
		}
		if (!vsw_find(names[i])) {
			snprintf(err, errlen, "nic: no [switch %s] in the configuration", names[i]);
			return -1;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		struct netvsp_nic *nic = &d->nic[i];
		const u8 dflt[6] = {0x00, 0x15, 0x5d, 0x00, (u8)vsp_partition_index(v), (u8)i};

		nic->vsp = v;
		nic->index = i;
		nic->link_up = true;
		memcpy(nic->sw, names[i], sizeof(nic->sw));
		memcpy(nic->mac, mac_text ? macs[i] : dflt, 6);
		if (port_attach(nic, err, errlen) || make_channel(d, nic, err, errlen)) {
			/* Undo the ones made: the door calls no destroy after a failed create. */
			port_detach(nic);
			for (unsigned j = 0; j < i; j++) {
				port_detach(&d->nic[j]);
				vmb_channel_disable(d->nic[j].channel);
				vmb_channel_cleanup(d->nic[j].channel);
			}
			return -1;
		}
		d->nr_nics = i + 1;
	}
	return 0;
}

VSP_TYPE(netvsp_vsp) = {
    .name = "netvsp",
    .state_size = sizeof(struct netvsp_dev),
    .when_key = "nic",
    .create = netvsp_create,
    .destroy = netvsp_destroy,
    .work = netvsp_work,
    .save = netvsp_save,
    .check = netvsp_check,
    .restore = netvsp_restore,
};

/* ---- console ---- */

static void cmd_nic(struct vsp *v, int argc, char **argv)
{
	struct netvsp_dev *d = vsp_state(v);

	for (unsigned i = 0; i < d->nr_nics; i++) {
		const struct netvsp_nic *n = &d->nic[i];
		const struct netvsp_stats *s = &n->stats;

		vsp_printf("nic partition=%s index=%u switch=%s mac=%02x:%02x:%02x:%02x:%02x:%02x "
			   "state=%s nvsp=0x%x rndis=%s filter=0x%x rx_sections=%u busy=%u "
			   "queued=%u rx_packets=%llu tx_packets=%llu rx_bytes=%llu tx_bytes=%llu "
			   "rx_dropped=%llu tx_dropped=%llu bad=%llu\n",
			   argv[1], i, n->sw, n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4],
			   n->mac[5], n->open ? "open" : "closed", n->version,
			   n->rndis_up ? "up" : "down", n->filter, n->rx_sections, n->rx_busy,
			   n->q_count, (unsigned long long)s->rx_packets,
			   (unsigned long long)s->tx_packets, (unsigned long long)s->rx_bytes,
			   (unsigned long long)s->tx_bytes, (unsigned long long)s->rx_dropped,
			   (unsigned long long)s->tx_dropped, (unsigned long long)s->bad_messages);
	}
}

VSP_COMMAND(nic_cmd) = {
    .name = "nic",
    .vsp = "netvsp",
    .device = "NIC",
    .usage = "nic PARTITION",
    .fn = cmd_nic,
    .help = "nic P                P's synthetic NICs: state and counters",
};
