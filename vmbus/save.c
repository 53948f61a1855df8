/*
 * Channel save and restore (kmcl.h, docs/kmcl.md "Saving a channel" and
 * "Restoring a channel"; the stream is vmbus/save.h). A save is built whole
 * at save_begin, with the VSP's part of every packet in use, and handed out
 * in pieces; a restore collects chunks until the stream is complete, checks
 * all of it (the VSP's part of each packet through check_packet) before it
 * changes anything, then rebuilds the channel: the
 * bus's connection, the offer, GPADLs, the open rings at the saved
 * positions and, through the VSP's restore_packet, every packet in use.
 * Afterwards both ring directions are kicked once, so no wake-up is lost.
 */
#include "vmbus/save.h"
#include "vmbus/packet.h"
#include "kernel/hv_defs.h"

#include <stddef.h>
#include <string.h>

#define CRC32_POLY   0xedb88320u /* IEEE 802.3, reflected */
#define PKT_STATE_AT offsetof(struct vmbus_save_packet_lib, state)

/* The library's enums and the stream's constants (save.h), a table each way; 0xff: none. */
static const u8 offer_to_saved[] = {
    [OFFER_NONE] = VMBUS_SAVED_OFFER_NONE,
    [OFFER_SENT] = VMBUS_SAVED_OFFER_SENT,
    [OFFER_RESCINDING] = VMBUS_SAVED_OFFER_RESCINDING,
};
static const enum offer_state offer_from_saved[] = {
    [VMBUS_SAVED_OFFER_NONE] = OFFER_NONE,
    [VMBUS_SAVED_OFFER_SENT] = OFFER_SENT,
    [VMBUS_SAVED_OFFER_RESCINDING] = OFFER_RESCINDING,
};
static const u8 pkt_to_saved[] = {
    [PKT_IDLE] = 0xff, /* never saved: not in use */
    [PKT_INCOMING] = VMBUS_SAVED_PKT_INCOMING,
    [PKT_WAITING] = VMBUS_SAVED_PKT_WAITING,
    [PKT_COMPLETING] = VMBUS_SAVED_PKT_COMPLETING,
};
static const u8 pkt_from_saved[] = {
    [0] = 0xff,
    [VMBUS_SAVED_PKT_INCOMING] = PKT_INCOMING,
    [VMBUS_SAVED_PKT_WAITING] = PKT_WAITING,
    [VMBUS_SAVED_PKT_COMPLETING] = PKT_COMPLETING,
};

struct vmbus_save_state {
	u8 *buf;
	u32 size, at;
	u32 *pieces; /* offsets where the header and each record start */
	u32 nr_pieces, next;
};

struct vmbus_restore_state {
	u8 *buf;
	u32 size, have;
	/* The VSP's mappings, made again while the stream is applied; `taken` handed out. */
	struct vmb_gpadl_mapping *maps[VMBUS_SAVE_MAX_MAPPINGS];
	u32 map_ids[VMBUS_SAVE_MAX_MAPPINGS];
	unsigned nr_maps, taken;
};

static u32 crc32(const u8 *p, u32 n)
{
	u32 c = ~0u;

	for (u32 i = 0; i < n; i++) {
		c ^= p[i];
		for (unsigned k = 0; k < 8; k++)
			c = (c >> 1) ^ (CRC32_POLY & (0u - (c & 1)));
	}
	return ~c;
}

/* ---- building a stream ---- */

struct builder {
	struct pool *pool;
	u8 *buf;
	u32 len, cap;
	u32 *pieces;
	u32 nr_pieces, cap_pieces;
	bool failed;
};

static void *grow(struct pool *pool, void *p, u32 *cap, u32 need, u32 unit)
{
	u32 n = *cap ? *cap : 256;
	void *q;

	while (n < need)
		n *= 2;
	q = pool_realloc(pool, p, (size_t)n * unit);
	if (q)
		*cap = n;
	return q;
}

/* Room for n more bytes at the end; NULL (and failed) if there is none. */
static u8 *reserve(struct builder *b, u32 n)
{
	u8 *q;

	if (b->failed || n > VMBUS_SAVE_MAX - b->len) {
		b->failed = true;
		return NULL;
	}
	if (b->len + n > b->cap) {
		q = grow(b->pool, b->buf, &b->cap, b->len + n, 1);
		if (!q) {
			b->failed = true;
			return NULL;
		}
		b->buf = q;
	}
	q = b->buf + b->len;
	b->len += n;
	return q;
}

static void put(struct builder *b, const void *data, u32 n)
{
	u8 *q = reserve(b, n);

	if (q && n)
		memcpy(q, data, n);
}

/* A new piece (the header or a record) starts here. */
static void piece(struct builder *b)
{
	u32 *q;

	if (b->failed)
		return;
	if (b->nr_pieces == b->cap_pieces) {
		q = grow(b->pool, b->pieces, &b->cap_pieces, b->nr_pieces + 1, sizeof(u32));
		if (!q) {
			b->failed = true;
			return;
		}
		b->pieces = q;
	}
	b->pieces[b->nr_pieces++] = b->len;
}

static void record(struct builder *b, u16 kind, u32 size)
{
	const struct vmbus_save_record r = {kind, 0, size};

	piece(b);
	put(b, &r, sizeof(r));
}

static void save_channel_record(struct builder *b, const struct vmb_channel *ch)
{
	const struct vmb_bus *bus = ch->bus;
	struct vmbus_save_channel c;

	memset(&c, 0, sizeof(c));
	c.bus_version = bus->version;
	c.msg_sint = bus->msg_sint;
	c.offer_state = offer_to_saved[ch->offer];
	c.flags =
	    (u16)((ch->enabled ? VMBUS_SAVED_ENABLED : 0) | (ch->open ? VMBUS_SAVED_OPEN : 0) |
		  (ch->paused ? VMBUS_SAVED_PAUSED : 0) | (ch->broken ? VMBUS_SAVED_BROKEN : 0) |
		  (bus->offers_requested ? VMBUS_SAVED_OFFERS_REQUESTED : 0));
	c.relid = ch->relid;
	c.open_id = ch->open_id;
	c.target_vp = ch->target_vp;
	if (ch->open) {
		c.ring_gpadl = ch->ring_gpadl->id;
		c.ring_split = ch->in.size / PAGE_SIZE + 1;
		c.in_read = ch->in.priv;
		c.out_write = ch->out.priv;
	}
	c.next_trans_id = ch->next_trans_id;
	memcpy(c.user_data, ch->user_data, sizeof(c.user_data));
	record(b, VMBUS_SAVE_CHANNEL, sizeof(c));
	put(b, &c, sizeof(c));
}

/* A GPADL in the guest's own format (ranges with their PFNs), as far as the guest sent it. */
static void save_gpadl_record(struct builder *b, const struct gpadl *g)
{
	struct vmbus_save_gpadl s = {g->id, 0, g->nr_ranges, g->words, g->filled};

	s.flags = (u16)((g->ready ? VMBUS_SAVED_GPADL_READY : 0) |
			(g->teardown_pending ? VMBUS_SAVED_GPADL_TEARDOWN : 0));
	record(b, VMBUS_SAVE_GPADL, (u32)sizeof(s) + g->filled * (u32)sizeof(u64));
	put(b, &s, sizeof(s));
	if (!g->ready) {
		put(b, g->raw, g->filled * (u32)sizeof(u64));
		return;
	}
	/* gpadl_finish took the range headers out of raw: put them back. */
	for (u32 i = 0; i < g->nr_ranges; i++) {
		const struct gpadl_range *r = &g->ranges[i];
		u64 w = (u64)r->byte_count | (u64)r->byte_offset << 32;

		put(b, &w, sizeof(w));
		put(b, g->raw + r->first, r->nr_pfns * (u32)sizeof(u64));
	}
}

/* One record per VSP mapping of g. */
static void save_mapping_records(struct builder *b, const struct gpadl *g, u32 *records)
{
	const struct vmbus_save_mapping m = {g->id, 0};

	for (unsigned i = gpadl_nr_mappings(g); i; i--, (*records)++) {
		record(b, VMBUS_SAVE_MAPPING, sizeof(m));
		put(b, &m, sizeof(m));
	}
}

/* The VSP's part of a packet: asked with no room first, then with what it needs. */
static vmb_status save_packet_record(struct builder *b, struct vmb_channel *ch,
				     struct vmb_packet *p)
{
	u32 lib = vmbus_packet_saved_size(p), need = 0, got = 0;
	struct vmbus_save_packet s;
	void *vsp = NULL;
	vmb_status st = VMB_STATUS_SUCCESS;
	u8 *q;

	if (ch->save_packet)
		st = ch->save_packet(ch, p, NULL, 0, &need);
	if (st == VMB_STATUS_BUFFER_TOO_SMALL && need) {
		vsp = pool_alloc(b->pool, need);
		if (!vsp)
			return VMB_STATUS_INSUFFICIENT_RESOURCES;
		got = need;
		st = ch->save_packet(ch, p, vsp, need, &got);
		if (st == VMB_STATUS_SUCCESS && got > need)
			st = VMB_STATUS_INVALID_PARAMETER; /* wrote past what it asked for */
	} else if (st == VMB_STATUS_SUCCESS) {
		got = 0; /* nothing of its own */
	}
	if (st != VMB_STATUS_SUCCESS) {
		pool_free(b->pool, vsp);
		return st;
	}
	s = (struct vmbus_save_packet){lib, got};
	record(b, VMBUS_SAVE_PACKET, (u32)sizeof(s) + lib + got);
	put(b, &s, sizeof(s));
	q = reserve(b, lib);
	if (q) {
		vmbus_packet_save(p, q);
		q[PKT_STATE_AT] = pkt_to_saved[p->state];
	}
	put(b, vsp, got);
	pool_free(b->pool, vsp);
	return VMB_STATUS_SUCCESS;
}

static vmb_status build(struct vmb_channel *ch, struct builder *b, u32 *records)
{
	struct pkt_list *lists[] = {&ch->incoming, &ch->waiting, &ch->completing};
	struct vmbus_save_header h;
	vmb_status st;

	piece(b);
	reserve(b, sizeof(h));
	save_channel_record(b, ch);
	*records = 1;
	for (const struct gpadl *g = ch->gpadls; g; g = g->next, (*records)++)
		save_gpadl_record(b, g);
	for (const struct gpadl *g = ch->gpadls; g; g = g->next)
		save_mapping_records(b, g, records);
	for (unsigned i = 0; i < ARRAY_SIZE(lists); i++) {
		for (struct vmb_packet *p = lists[i]->head; p; p = p->next, (*records)++) {
			st = save_packet_record(b, ch, p);
			if (st != VMB_STATUS_SUCCESS)
				return st;
		}
	}
	/* A stream its own reader would refuse is not made (a guest can fill the lists). */
	if (b->failed || *records > VMBUS_SAVE_MAX_RECORDS)
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	memset(&h, 0, sizeof(h));
	h.magic = VMBUS_SAVE_MAGIC;
	h.version = VMBUS_SAVE_VERSION;
	h.header_size = sizeof(h);
	h.total_size = b->len;
	h.crc = crc32(b->buf + sizeof(h), b->len - (u32)sizeof(h));
	h.type = ch->type;
	h.instance = ch->instance;
	h.nr_records = *records;
	memcpy(b->buf, &h, sizeof(h));
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_save_begin(struct vmb_channel *channel)
{
	struct builder b = {.pool = channel ? vmbus_pool(channel->bus) : NULL};
	struct vmbus_save_state *s;
	u32 records;
	vmb_status st;

	if (!channel)
		return VMB_STATUS_INVALID_PARAMETER;
	/* Only a quiet channel: paused by the VSP, or one the guest never had. */
	if (channel->save || channel->restore || channel->restoring ||
	    (!channel->paused && (channel->enabled || channel->offer != OFFER_NONE)))
		return VMB_STATUS_INVALID_DEVICE_STATE;
	st = build(channel, &b, &records);
	s = st == VMB_STATUS_SUCCESS ? pool_zalloc(b.pool, sizeof(*s)) : NULL;
	if (!s) {
		pool_free(b.pool, b.buf);
		pool_free(b.pool, b.pieces);
		return st == VMB_STATUS_SUCCESS ? VMB_STATUS_INSUFFICIENT_RESOURCES : st;
	}
	s->buf = b.buf;
	s->size = b.len;
	s->pieces = b.pieces;
	s->nr_pieces = b.nr_pieces;
	channel->save = s;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_save_continue(struct vmb_channel *channel, void *buf, u32 size,
				     u32 *bytes_filled, u32 *bytes_required)
{
	struct vmbus_save_state *s;
	u32 filled = 0, next_len = 0;

	if (bytes_filled)
		*bytes_filled = 0;
	if (bytes_required)
		*bytes_required = 0;
	if (!channel || !bytes_filled || !bytes_required || (size && !buf))
		return VMB_STATUS_INVALID_PARAMETER;
	s = channel->save;
	if (!s)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	while (s->next < s->nr_pieces) {
		u32 end = s->next + 1 < s->nr_pieces ? s->pieces[s->next + 1] : s->size;

		next_len = end - s->at;
		if (next_len > size - filled)
			break;
		memcpy((u8 *)buf + filled, s->buf + s->at, next_len);
		filled += next_len;
		s->at = end;
		s->next++;
	}
	*bytes_filled = filled;
	if (s->next == s->nr_pieces)
		return VMB_STATUS_SUCCESS;
	*bytes_required = next_len;
	return filled ? VMB_STATUS_BUFFER_OVERFLOW : VMB_STATUS_BUFFER_TOO_SMALL;
}

static void free_save(struct vmb_channel *ch)
{
	if (!ch->save)
		return;
	pool_free(vmbus_pool(ch->bus), ch->save->buf);
	pool_free(vmbus_pool(ch->bus), ch->save->pieces);
	pool_free(vmbus_pool(ch->bus), ch->save);
	ch->save = NULL;
}

vmb_status vmb_channel_save_end(struct vmb_channel *channel)
{
	if (!channel)
		return VMB_STATUS_INVALID_PARAMETER;
	if (!channel->save)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	free_save(channel);
	return VMB_STATUS_SUCCESS;
}

static void free_restore(struct vmb_channel *ch)
{
	if (!ch->restore)
		return;
	pool_free(vmbus_pool(ch->bus), ch->restore->buf);
	pool_free(vmbus_pool(ch->bus), ch->restore);
	ch->restore = NULL;
}

void vmbus_save_discard(struct vmb_channel *ch)
{
	free_save(ch);
	free_restore(ch);
}

/* ---- checking a stream ---- */

struct plan {
	struct pool *pool;
	u16 version; /* of the stream */
	struct vmbus_save_channel c;
	enum offer_state offer;		   /* c.offer_state translated */
	u32 maps[VMBUS_SAVE_MAX_MAPPINGS]; /* the GPADL of each VSP mapping */
	unsigned nr_maps;
	struct gpadl *gpadls; /* built from the stream, not yet the channel's */
	unsigned nr_gpadls;
	const u8 **packets; /* each a struct vmbus_save_packet and its two parts */
	unsigned nr_packets;
};

static void plan_free(struct plan *pl)
{
	while (pl->gpadls) {
		struct gpadl *g = pl->gpadls;

		pl->gpadls = g->next;
		gpadl_free(g);
	}
	pool_free(pl->pool, pl->packets);
}

bool vmbus_saved_version_ok(u32 v)
{
	return !v || v == VMBUS_VERSION_WIN8 || v == VMBUS_VERSION_WIN8_1 ||
	       v == VMBUS_VERSION_WIN10 || v == VMBUS_VERSION_WIN10_1 ||
	       (v >= VMBUS_VERSION_V5 && v <= VMBUS_VERSION_V5_3);
}

static struct gpadl *plan_gpadl(const struct plan *pl, u32 id)
{
	for (struct gpadl *g = pl->gpadls; g; g = g->next)
		if (g->id == id)
			return g;
	return NULL;
}

static vmb_status check_channel(const struct vmb_channel *ch, const u8 *body, u32 size,
				struct plan *pl)
{
	const struct vmbus_save_channel *c = &pl->c;
	bool known;

	if (size != sizeof(*c))
		return VMB_STATUS_DATA_ERROR;
	memcpy(&pl->c, body, sizeof(*c));
	if (c->offer_state >= ARRAY_SIZE(offer_from_saved))
		return VMB_STATUS_DATA_ERROR;
	pl->offer = offer_from_saved[c->offer_state];
	known = (c->flags & VMBUS_SAVED_ENABLED) || pl->offer != OFFER_NONE;
	if ((c->flags & ~VMBUS_SAVED_CHANNEL_FLAGS) || !vmbus_saved_version_ok(c->bus_version) ||
	    c->msg_sint >= HV_SINT_COUNT ||
	    (known ? !c->relid || c->relid > VMBUS_MAX_CHANNELS : c->relid != 0) ||
	    (pl->offer != OFFER_NONE && !c->bus_version) ||
	    (pl->offer == OFFER_RESCINDING && (c->flags & VMBUS_SAVED_ENABLED)) ||
	    ((c->flags & VMBUS_SAVED_OPEN) && pl->offer == OFFER_NONE))
		return VMB_STATUS_DATA_ERROR;
	return VMB_STATUS_SUCCESS;
}

static vmb_status check_gpadl(const struct vmb_channel *ch, const u8 *body, u32 size,
			      struct plan *pl)
{
	struct vmbus_save_gpadl s;
	const char *why;
	struct gpadl *g;
	enum gpadl_status st;

	if (size < sizeof(s))
		return VMB_STATUS_DATA_ERROR;
	memcpy(&s, body, sizeof(s));
	if (pl->nr_gpadls == VMBUS_MAX_GPADLS || plan_gpadl(pl, s.id) ||
	    (s.flags & ~(VMBUS_SAVED_GPADL_READY | VMBUS_SAVED_GPADL_TEARDOWN)) ||
	    s.words > UINT16_MAX / sizeof(u64) || s.filled > s.words ||
	    size != sizeof(s) + s.filled * sizeof(u64) ||
	    ((s.flags & VMBUS_SAVED_GPADL_READY) ? s.filled != s.words
						 : !!(s.flags & VMBUS_SAVED_GPADL_TEARDOWN)))
		return VMB_STATUS_DATA_ERROR;
	/* Rebuilt the way the guest's messages build it: the same checks. */
	st = gpadl_begin(&g, &ch->bus->gpadl_budget, s.id, (u16)(s.words * sizeof(u64)),
			 s.range_count, body + sizeof(s), s.filled * (u32)sizeof(u64), &why);
	if (st == GPADL_NOMEM || st == GPADL_LIMIT)
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	if (st == GPADL_BAD)
		return VMB_STATUS_DATA_ERROR;
	g->next = pl->gpadls;
	pl->gpadls = g;
	pl->nr_gpadls++;
	if (!(s.flags & VMBUS_SAVED_GPADL_READY))
		return st == GPADL_MORE ? VMB_STATUS_SUCCESS : VMB_STATUS_DATA_ERROR;
	st = gpadl_finish(g, &ch->bus->host, &why);
	if (st != GPADL_OK)
		return st == GPADL_NOMEM ? VMB_STATUS_INSUFFICIENT_RESOURCES
					 : VMB_STATUS_DATA_ERROR;
	g->ready = true;
	g->teardown_pending = s.flags & VMBUS_SAVED_GPADL_TEARDOWN;
	return VMB_STATUS_SUCCESS;
}

/* A VSP mapping: of a ready GPADL saved before it, that the VSP could have mapped. */
static vmb_status check_mapping(const u8 *body, u32 size, struct plan *pl)
{
	struct vmbus_save_mapping m;
	const struct gpadl *g;

	if (size != sizeof(m) || pl->version < 2 || pl->nr_maps == VMBUS_SAVE_MAX_MAPPINGS)
		return VMB_STATUS_DATA_ERROR;
	memcpy(&m, body, sizeof(m));
	g = plan_gpadl(pl, m.gpadl);
	if (m.reserved || !g || !g->ready || g->teardown_pending || pl->offer != OFFER_SENT)
		return VMB_STATUS_DATA_ERROR;
	pl->maps[pl->nr_maps++] = m.gpadl;
	return VMB_STATUS_SUCCESS;
}

/* The packet's state becomes the library's enum in place: what vmb_packet_restore reads. */
static vmb_status check_packet(const struct vmb_channel *ch, u8 *body, u32 size, struct plan *pl,
			       u64 *waiting, unsigned *nr_waiting)
{
	struct vmbus_save_packet s;
	vmb_status st;
	u64 trans_id;
	u8 state, *saved_state;

	if (size < sizeof(s))
		return VMB_STATUS_DATA_ERROR;
	memcpy(&s, body, sizeof(s));
	if (s.lib_size > size - sizeof(s) || s.vsp_size != size - sizeof(s) - s.lib_size ||
	    s.lib_size < sizeof(struct vmbus_save_packet_lib))
		return VMB_STATUS_DATA_ERROR;
	saved_state = body + sizeof(s) + PKT_STATE_AT;
	if (*saved_state >= ARRAY_SIZE(pkt_from_saved) || pkt_from_saved[*saved_state] == 0xff)
		return VMB_STATUS_DATA_ERROR;
	*saved_state = pkt_from_saved[*saved_state];
	st = vmbus_packet_check_saved(&ch->bus->host, body + sizeof(s), s.lib_size, &state,
				      &trans_id);
	if (st != VMB_STATUS_SUCCESS || !(pl->c.flags & VMBUS_SAVED_OPEN))
		return VMB_STATUS_DATA_ERROR; /* packets are in use on open channels only */
	if (state == PKT_WAITING) {
		for (unsigned i = 0; i < *nr_waiting; i++)
			if (waiting[i] == trans_id)
				return VMB_STATUS_DATA_ERROR;
		waiting[(*nr_waiting)++] = trans_id;
	}
	/* The VSP's part, as restore_packet will get it (zero bytes if it kept none). */
	if (ch->check_packet) {
		st = ch->check_packet((struct vmb_channel *)ch, pl->nr_packets,
				      body + sizeof(s) + s.lib_size, s.vsp_size);
		if (st != VMB_STATUS_SUCCESS)
			return st;
	}
	pl->packets[pl->nr_packets++] = body;
	return VMB_STATUS_SUCCESS;
}

/* The open rings the channel record names: a ready ring GPADL, indices inside the rings. */
static vmb_status check_rings(const struct plan *pl)
{
	const struct vmbus_save_channel *c = &pl->c;
	const struct gpadl *g;
	u64 in_size, out_size;

	if (!(c->flags & VMBUS_SAVED_OPEN))
		return VMB_STATUS_SUCCESS;
	g = plan_gpadl(pl, c->ring_gpadl);
	if (!g || !g->ready || vmbus_ring_layout_check(g, c->ring_split))
		return VMB_STATUS_DATA_ERROR;
	in_size = (u64)(c->ring_split - 1) * PAGE_SIZE;
	out_size = (u64)(g->nr_pfns - c->ring_split - 1) * PAGE_SIZE;
	if (c->in_read >= in_size || c->out_write >= out_size || c->in_read % VMBUS_PKT_ALIGN ||
	    c->out_write % VMBUS_PKT_ALIGN)
		return VMB_STATUS_DATA_ERROR;
	return VMB_STATUS_SUCCESS;
}

/* Everything, before anything changes. */
static vmb_status check(const struct vmb_channel *ch, u8 *buf, u32 size, struct plan *pl)
{
	struct vmbus_save_header h;
	u64 *waiting = NULL;
	unsigned nr_waiting = 0;
	u32 at = sizeof(h);
	vmb_status st = VMB_STATUS_SUCCESS;

	memcpy(&h, buf, sizeof(h));
	pl->version = h.version;
	if (h.crc != crc32(buf + sizeof(h), size - (u32)sizeof(h)) || h.reserved || !h.nr_records ||
	    h.nr_records > VMBUS_SAVE_MAX_RECORDS)
		return VMB_STATUS_DATA_ERROR;
	/* Saved for another device: restore finds a channel by (type, instance). */
	if (memcmp(&h.type, &ch->type, sizeof(h.type)) ||
	    memcmp(&h.instance, &ch->instance, sizeof(h.instance)))
		return VMB_STATUS_DATA_ERROR;
	pl->packets = pool_calloc(pl->pool, h.nr_records, sizeof(*pl->packets));
	waiting = pool_calloc(pl->pool, h.nr_records, sizeof(*waiting));
	if (!pl->packets || !waiting) {
		pool_free(pl->pool, waiting);
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	}
	for (u32 i = 0; i < h.nr_records && st == VMB_STATUS_SUCCESS; i++) {
		struct vmbus_save_record r;

		if (size - at < sizeof(r)) {
			st = VMB_STATUS_DATA_ERROR;
			break;
		}
		memcpy(&r, buf + at, sizeof(r));
		at += sizeof(r);
		if (r.size > size - at || r.reserved ||
		    (i == 0) != (r.kind == VMBUS_SAVE_CHANNEL)) {
			st = VMB_STATUS_DATA_ERROR;
			break;
		}
		switch (r.kind) {
		case VMBUS_SAVE_CHANNEL:
			st = check_channel(ch, buf + at, r.size, pl);
			break;
		case VMBUS_SAVE_GPADL:
			st = pl->nr_packets || pl->nr_maps
				 ? VMB_STATUS_DATA_ERROR /* GPADLs first */
				 : check_gpadl(ch, buf + at, r.size, pl);
			break;
		case VMBUS_SAVE_MAPPING:
			st = pl->nr_packets ? VMB_STATUS_DATA_ERROR /* before the packets */
					    : check_mapping(buf + at, r.size, pl);
			break;
		case VMBUS_SAVE_PACKET:
			st = check_packet(ch, buf + at, r.size, pl, waiting, &nr_waiting);
			break;
		default:
			st = VMB_STATUS_DATA_ERROR;
			break;
		}
		at += r.size;
	}
	pool_free(pl->pool, waiting);
	if (st == VMB_STATUS_SUCCESS && at != size)
		st = VMB_STATUS_DATA_ERROR;
	if (st == VMB_STATUS_SUCCESS)
		st = check_rings(pl);
	return st;
}

/* The bus and relid the stream needs, given what else the bus holds now. */
static vmb_status check_bus(const struct vmb_channel *ch, const struct plan *pl)
{
	const struct vmb_bus *bus = ch->bus;
	u32 relid = pl->c.relid;
	const struct vmb_channel *holder = relid ? bus->relids[relid] : NULL;

	if (bus->version && pl->c.bus_version && bus->version != pl->c.bus_version)
		return VMB_STATUS_DATA_ERROR;
	if (relid && (bus->zombies & (1ull << relid)))
		return VMB_STATUS_DATA_ERROR;
	/* Another channel may hold the relid only if the guest does not know it (it moves). */
	if (holder && holder != ch &&
	    (holder->offer != OFFER_NONE || holder->open || (!ch->relid && !vmbus_free_relid(bus))))
		return VMB_STATUS_DATA_ERROR;
	return VMB_STATUS_SUCCESS;
}

/* Give ch the relid; a channel the guest does not know that holds it takes another. */
static void take_relid(struct vmb_channel *ch, u32 relid)
{
	struct vmb_bus *bus = ch->bus;
	struct vmb_channel *holder = relid ? bus->relids[relid] : NULL;
	u32 old = ch->relid;

	if (old)
		bus->relids[old] = NULL;
	if (holder && holder != ch) {
		holder->relid = old ? old : vmbus_free_relid(bus);
		bus->relids[holder->relid] = holder;
	}
	ch->relid = relid;
	if (relid)
		bus->relids[relid] = ch;
}

/* ---- applying a checked stream ---- */

struct before {
	bool enabled, paused, offers_requested;
	u32 relid, version;
	u8 msg_sint;
};

/* The VSP mappings of the stream the VSP has not taken (all of them, before `opened`). */
static void drop_untaken(struct vmb_channel *ch)
{
	struct vmbus_restore_state *r = ch->restore;

	if (!r)
		return;
	while (r->nr_maps > r->taken)
		gpadl_unmap(r->maps[--r->nr_maps]);
}

/* The VSP's mappings again, waiting for it to take them (vmb_channel_restored_mapping). */
static vmb_status remap(struct vmb_channel *ch, const struct plan *pl)
{
	struct vmbus_restore_state *r = ch->restore;

	for (unsigned i = 0; i < pl->nr_maps; i++) {
		struct gpadl *g = vmbus_find_gpadl(ch, pl->maps[i]);
		struct vmb_gpadl_mapping *m = gpadl_map(g, &ch->bus->host, ch);

		if (!m)
			return VMB_STATUS_INSUFFICIENT_RESOURCES; /* pages were checked as RAM */
		r->maps[r->nr_maps] = m;
		r->map_ids[r->nr_maps++] = pl->maps[i];
	}
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_restored_mapping(struct vmb_channel *channel, u32 *gpadl_id,
					struct vmb_gpadl_mapping **mapping)
{
	struct vmbus_restore_state *r;

	if (!channel || !gpadl_id || !mapping)
		return VMB_STATUS_INVALID_PARAMETER;
	r = channel->restore;
	if (!r || r->taken == r->nr_maps)
		return VMB_STATUS_NO_MORE_ENTRIES;
	*gpadl_id = r->map_ids[r->taken];
	*mapping = r->maps[r->taken++];
	return VMB_STATUS_SUCCESS;
}

/* Back to `before`: what was rebuilt goes (the VSP hears `closed` if it heard `opened`). */
static void roll_back(struct vmb_channel *ch, const struct before *b, bool notify)
{
	struct vmb_bus *bus = ch->bus;

	ch->restoring = false;
	drop_untaken(ch);
	vmbus_channel_close(ch, notify);
	vmbus_channel_free_gpadls(ch);
	if (ch->relid)
		bus->relids[ch->relid] = NULL;
	ch->relid = 0;
	if (b->relid && !bus->relids[b->relid])
		ch->relid = b->relid; /* else a moved channel has it now: take any */
	else if (b->relid)
		ch->relid = vmbus_free_relid(bus);
	if (ch->relid)
		bus->relids[ch->relid] = ch;
	ch->offer = OFFER_NONE;
	ch->enabled = b->enabled;
	ch->paused = b->paused;
	bus->version = b->version;
	bus->msg_sint = b->msg_sint;
	bus->offers_requested = b->offers_requested;
}

static vmb_status restore_packets(struct vmb_channel *ch, const struct plan *pl)
{
	for (unsigned i = 0; i < pl->nr_packets; i++) {
		struct vmbus_save_packet s;
		const u8 *lib, *vsp;
		struct vmb_packet *p;
		vmb_status st;

		memcpy(&s, pl->packets[i], sizeof(s));
		lib = pl->packets[i] + sizeof(s);
		vsp = lib + s.lib_size;
		if (ch->restore_packet) {
			st = ch->restore_packet(ch, lib, s.lib_size, vsp, s.vsp_size);
		} else {
			/* No VSP state to rebuild: the library's part alone. */
			st = vmb_packet_allocate(ch, &p);
			if (st == VMB_STATUS_SUCCESS) {
				st = vmb_packet_restore(p, lib, s.lib_size);
				if (st != VMB_STATUS_SUCCESS)
					vmb_packet_free(p);
			}
		}
		if (st != VMB_STATUS_SUCCESS)
			return st;
	}
	return VMB_STATUS_SUCCESS;
}

static vmb_status apply(struct vmb_channel *ch, struct plan *pl)
{
	const struct vmbus_save_channel *c = &pl->c;
	struct vmb_bus *bus = ch->bus;
	const struct before b = {ch->enabled, ch->paused,   bus->offers_requested,
				 ch->relid,   bus->version, bus->msg_sint};
	struct gpadl *ring = NULL;
	const char *why;
	bool bad_index;
	vmb_status st;

	if (!bus->version && c->bus_version) {
		bus->version = c->bus_version;
		bus->msg_sint = c->msg_sint;
		bus->offers_requested = c->flags & VMBUS_SAVED_OFFERS_REQUESTED;
	}
	take_relid(ch, c->relid);
	ch->enabled = c->flags & VMBUS_SAVED_ENABLED;
	ch->paused = c->flags & VMBUS_SAVED_PAUSED;
	ch->offer = pl->offer;
	ch->open_id = c->open_id;
	ch->target_vp = c->target_vp;
	ch->next_trans_id = c->next_trans_id;
	memcpy(ch->user_data, c->user_data, sizeof(ch->user_data));
	/* The GPADLs become the channel's, in the order they were saved. */
	while (pl->gpadls) {
		struct gpadl *g = pl->gpadls;

		pl->gpadls = g->next;
		g->next = ch->gpadls;
		ch->gpadls = g;
		ch->nr_gpadls++;
	}
	pl->nr_gpadls = 0;
	st = remap(ch, pl);
	if (st != VMB_STATUS_SUCCESS) {
		roll_back(ch, &b, false);
		return st;
	}
	if (!(c->flags & VMBUS_SAVED_OPEN))
		return VMB_STATUS_SUCCESS;
	ring = vmbus_find_gpadl(ch, c->ring_gpadl);
	why = vmbus_channel_map_rings(ch, ring, c->ring_split);
	/* An index the guest wrote since the host last looked: broken, as that look would find. */
	bad_index = why && (why == ch->in.why || why == ch->out.why);
	if (why && !bad_index) {
		vmbus_channel_unmap_rings(ch);
		roll_back(ch, &b, false);
		return VMB_STATUS_DATA_ERROR; /* its pages are not guest RAM now */
	}
	ch->in.priv = c->in_read;
	ch->out.priv = c->out_write;
	ch->ring_gpadl = ring;
	ring->users++;
	ch->open = true;
	ch->broken = c->flags & VMBUS_SAVED_BROKEN;
	if (bad_index)
		vmbus_channel_break(ch, why);
	st = ch->state_cb.opened ? ch->state_cb.opened(ch) : VMB_STATUS_SUCCESS;
	if (st != VMB_STATUS_SUCCESS) {
		roll_back(ch, &b, false);
		return st;
	}
	ch->restoring = true;
	st = restore_packets(ch, pl);
	ch->restoring = false;
	if (st != VMB_STATUS_SUCCESS) {
		roll_back(ch, &b, true);
		return st;
	}
	/* A wake-up lost at the moment of the snapshot is not lost for ever. */
	if (!ch->broken)
		bus->host.signal(bus->host.ctx, ch->relid);
	ch->kick = true;
	return VMB_STATUS_SUCCESS;
}

/* A channel the guest does not hold: freshly made, or after vmbus_reset. */
static bool restorable(const struct vmb_channel *ch)
{
	return !ch->open && !ch->gpadls && ch->offer == OFFER_NONE && !ch->save && !ch->restoring;
}

static vmb_status restore_stream(struct vmb_channel *ch, u8 *buf, u32 size)
{
	struct plan pl;
	vmb_status st;

	memset(&pl, 0, sizeof(pl));
	pl.pool = vmbus_pool(ch->bus);
	st = check(ch, buf, size, &pl);
	if (st == VMB_STATUS_SUCCESS)
		st = check_bus(ch, &pl);
	if (st == VMB_STATUS_SUCCESS)
		st = apply(ch, &pl);
	drop_untaken(ch); /* the VSP had its `opened` and restore_packet calls to take them */
	plan_free(&pl);
	return st;
}

/* The header of a stream's first chunk: the rest is known from it. */
static vmb_status check_header(const void *buf, u32 size, struct vmbus_save_header *h)
{
	if (size < sizeof(*h))
		return VMB_STATUS_DATA_ERROR;
	memcpy(h, buf, sizeof(*h));
	if (h->magic != VMBUS_SAVE_MAGIC)
		return VMB_STATUS_DATA_ERROR;
	if (h->version < VMBUS_SAVE_VERSION_MIN || h->version > VMBUS_SAVE_VERSION)
		return VMB_STATUS_REVISION_MISMATCH;
	if (h->header_size != sizeof(*h) || h->total_size < sizeof(*h) ||
	    h->total_size > VMBUS_SAVE_MAX)
		return VMB_STATUS_DATA_ERROR;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmbus_save_check_stream(const struct vmb_channel *ch, const void *buf, u32 size,
				   struct vmbus_stream_needs *needs)
{
	struct vmbus_save_header h;
	struct plan pl;
	vmb_status st = check_header(buf, size, &h);
	u8 *copy;

	if (st != VMB_STATUS_SUCCESS)
		return st;
	if (h.total_size != size)
		return VMB_STATUS_DATA_ERROR;
	copy =
	    pool_alloc(vmbus_pool(ch->bus), size); /* check() rewrites each state byte in place */
	if (!copy)
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	memcpy(copy, buf, size);
	memset(&pl, 0, sizeof(pl));
	pl.pool = vmbus_pool(ch->bus);
	st = check(ch, copy, size, &pl);
	if (st == VMB_STATUS_SUCCESS) {
		needs->relid = pl.c.relid;
		needs->bus_version = pl.c.bus_version;
	}
	plan_free(&pl);
	pool_free(vmbus_pool(ch->bus), copy);
	return st;
}

vmb_status vmb_channel_restore_from_buffer(struct vmb_channel *channel, const void *buf, u32 size)
{
	struct vmbus_restore_state *r;
	struct vmbus_save_header h;
	vmb_status st;

	if (!channel || (size && !buf))
		return VMB_STATUS_INVALID_PARAMETER;
	r = channel->restore;
	if (!r) {
		if (!restorable(channel))
			return VMB_STATUS_INVALID_DEVICE_STATE;
		st = check_header(buf, size, &h);
		if (st != VMB_STATUS_SUCCESS)
			return st;
		r = pool_zalloc(vmbus_pool(channel->bus), sizeof(*r));
		if (r)
			r->buf = pool_alloc(vmbus_pool(channel->bus), h.total_size);
		if (!r || !r->buf) {
			pool_free(vmbus_pool(channel->bus), r);
			return VMB_STATUS_INSUFFICIENT_RESOURCES;
		}
		r->size = h.total_size;
		channel->restore = r;
	}
	if (size > r->size - r->have) {
		free_restore(channel); /* more than the stream said: start again */
		return VMB_STATUS_DATA_ERROR;
	}
	memcpy(r->buf + r->have, buf, size);
	r->have += size;
	if (r->have < r->size)
		return VMB_STATUS_MORE_PROCESSING_REQUIRED;
	st = restore_stream(channel, r->buf, r->size);
	free_restore(channel);
	return st;
}
