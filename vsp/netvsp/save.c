/*
 * netvsp's saved state (docs/netvsp.md, "Snapshots"), so that a restored
 * guest's hv_netvsc carries on without negotiating again: per NIC a record
 * of the NVSP and RNDIS session, the guest's buffers by GPADL id, the
 * messages waiting for a receive section, the counters and the switch
 * port's runtime state; per packet in flight (the library's stream) the
 * receive section a transfer-page packet announced, or the reply owed to a
 * guest packet. Records are packed and little-endian, checked field by
 * field before anything changes (a snapshot may come from an image).
 *
 * The order of a restore (docs/vsp.md): the channel comes back first —
 * `opened`, where netvsp takes the restored mappings (netvsp_take_restored),
 * then every packet through netvsp_restore_packet — and the instance's
 * record last (netvsp_restore), which names the buffers among the mappings
 * taken. Where the record and the channels disagree, the channels win: a
 * NIC saved open whose channel came back closed stays closed.
 */
#include "vsp/netvsp/nic.h"

#include <string.h>

/*
 * The instance's record: this head (all of version 1), then nr_nics NIC
 * parts, each a struct netvsp_saved_nic of its `size` bytes, nr_queued
 * messages (a struct netvsp_saved_msg and its bytes each) and port_len
 * bytes of the port's runtime state (vswitch.h's format). Growth: fields
 * are appended to a NIC part only (a longer one is read for what this
 * build knows); another version is REVISION_MISMATCH. Version 1 (no NIC
 * state) is accepted when it says no NIC was open.
 */
#define NETVSP_SAVED_VERSION 2
struct netvsp_saved {
	u32 version, size; /* size: the whole record */
	u32 nr_nics;	   /* must be the configuration's */
	u32 open_mask;	   /* NICs the guest had open */
} __packed;
_Static_assert(sizeof(struct netvsp_saved) == 16, "netvsp_saved");

#define SAVED_OPEN	(1u << 0)
#define SAVED_RNDIS_UP	(1u << 1)
#define SAVED_LINK_TOLD (1u << 2)
#define SAVED_TABLE_DUE (1u << 3)
#define SAVED_PAUSED	(1u << 4) /* netvsp had paused delivery while completions were owed */
#define SAVED_RX_BUF	(1u << 5)
#define SAVED_TX_BUF	(1u << 6)
#define SAVED_FLAGS	0x7fu

struct netvsp_saved_nic {
	u32 size; /* of this part */
	u32 flags;
	u32 version, ndis_major, ndis_minor, mtu;
	u32 rx_gpadl, rx_sections, rx_hint;
	u32 tx_gpadl, tx_sections;
	u16 rx_id, tx_id;
	u32 filter;
	u32 nr_queued; /* at most NETVSP_RX_QUEUE */
	u32 port_len;
	u32 reserved; /* 0 */
	u64 tx_packets, tx_bytes, rx_packets, rx_bytes, tx_dropped, rx_dropped, bad_messages;
} __packed;
_Static_assert(sizeof(struct netvsp_saved_nic) == 120, "netvsp_saved_nic");

struct netvsp_saved_msg {
	u32 len;	  /* 1..NETVSP_MSG_MAX bytes follow */
	u32 channel_type; /* NVSP_CHANNEL_DATA or _CONTROL */
} __packed;

/* The port's state: a head and VSW_MAX_SEGMENTS blobs at most (vswitch.h). */
#define PORT_STATE_MAX                                                                             \
	(sizeof(struct vsw_saved_head) +                                                           \
	 VSW_MAX_SEGMENTS * (sizeof(struct vsw_saved_segment) + VSW_BLOB_MAX))

/* A packet's VSP part. */
#define NETVSP_PKT_VERSION 1
#define PKT_RX		   1 /* a transfer-page packet announcing receive section `section` */
#define PKT_OWED	   2 /* a guest packet whose completion the library could not take */
struct netvsp_saved_packet {
	u16 version, kind;
	u32 section; /* PKT_RX */
	u32 failed;  /* PKT_OWED: 0 or 1 */
	u32 len;     /* PKT_OWED: 0 or NVSP_MESSAGE_SIZE bytes of reply */
	u8 reply[NVSP_MESSAGE_SIZE];
} __packed;
_Static_assert(sizeof(struct netvsp_saved_packet) == 56, "netvsp_saved_packet");

/* ---- packets in flight ---- */

vmb_status netvsp_save_packet(struct vmb_channel *channel, struct vmb_packet *packet, void *buf,
			      u32 size, u32 *needed)
{
	struct netvsp_nic *n = netvsp_nic_of(channel);
	struct netvsp_saved_packet s = {.version = NETVSP_PKT_VERSION};
	const struct netvsp_rx_ctx *c = vmb_packet_get_context(packet);

	for (unsigned i = 0; i < n->nr_owed && !s.kind; i++) {
		if (n->owed[i].packet != packet)
			continue;
		s.kind = PKT_OWED;
		s.failed = n->owed[i].failed;
		s.len = n->owed[i].len;
		memcpy(s.reply, n->owed[i].reply, sizeof(s.reply));
	}
	if (!s.kind && c->magic == NETVSP_RX_MAGIC && c->gen == n->rx_gen &&
	    c->section < n->rx_sections && netvsp_rx_is_busy(n, c->section)) {
		s.kind = PKT_RX;
		s.section = c->section;
	}
	*needed = s.kind ? sizeof(s) : 0; /* else the library's alone (a queued completion) */
	if (size < *needed)
		return VMB_STATUS_BUFFER_TOO_SMALL;
	if (s.kind)
		memcpy(buf, &s, sizeof(s));
	return VMB_STATUS_SUCCESS;
}

static vmb_status parse_packet(const void *buf, u32 size, struct netvsp_saved_packet *s)
{
	if (size != sizeof(*s))
		return VMB_STATUS_DATA_ERROR;
	memcpy(s, buf, sizeof(*s));
	if (s->version != NETVSP_PKT_VERSION)
		return VMB_STATUS_REVISION_MISMATCH;
	if (s->kind == PKT_RX)
		return s->section < NETVSP_RX_SECTIONS_MAX && !s->failed && !s->len
			   ? VMB_STATUS_SUCCESS
			   : VMB_STATUS_DATA_ERROR;
	if (s->kind == PKT_OWED)
		return !s->section && s->failed <= 1 && (!s->len || s->len == NVSP_MESSAGE_SIZE)
			   ? VMB_STATUS_SUCCESS
			   : VMB_STATUS_DATA_ERROR;
	return VMB_STATUS_DATA_ERROR;
}

vmb_status netvsp_check_packet(struct vmb_channel *channel, u32 index, const void *buf, u32 size)
{
	struct netvsp_saved_packet s;

	(void)channel;
	(void)index;
	return size ? parse_packet(buf, size, &s) : VMB_STATUS_SUCCESS;
}

vmb_status netvsp_restore_packet(struct vmb_channel *channel, const void *lib, u32 lib_size,
				 const void *buf, u32 size)
{
	struct netvsp_nic *n = netvsp_nic_of(channel);
	struct netvsp_saved_packet s = {0};
	struct vmb_packet *packet;
	vmb_status st = size ? parse_packet(buf, size, &s) : VMB_STATUS_SUCCESS;

	if (st != VMB_STATUS_SUCCESS)
		return st;
	st = vmb_packet_allocate(channel, &packet);
	if (st != VMB_STATUS_SUCCESS)
		return st;
	st = vmb_packet_restore(packet, lib, lib_size);
	if (st != VMB_STATUS_SUCCESS) {
		vmb_packet_free(packet);
		return st;
	}
	/*
	 * A hostile image may pair a part with the wrong packet: the library
	 * knows which it restored (a send waiting for the guest takes a
	 * completion routine, a guest's packet can be deferred); a part that
	 * does not fit its packet is dropped, the packet is the library's alone
	 * (a guest's packet is failed, so that the guest hears back).
	 */
	if (s.kind == PKT_RX &&
	    vmb_packet_set_completion_routine(packet, netvsp_rx_completed) == VMB_STATUS_SUCCESS) {
		/* The generation is today's: opened's forget moved it on. */
		*(struct netvsp_rx_ctx *)vmb_packet_get_context(packet) =
		    (struct netvsp_rx_ctx){NETVSP_RX_MAGIC, n->rx_gen, s.section};
		if (!netvsp_rx_is_busy(n, s.section))
			netvsp_rx_mark(n, s.section, true);
	} else if (s.kind == PKT_OWED && vmb_channel_packet_defer(packet) == VMB_STATUS_SUCCESS) {
		struct netvsp_owed *o;

		if (n->nr_owed == NETVSP_OWED) {
			vmb_channel_packet_fail(
			    packet); /* more than one NIC can owe: told at once */
			return VMB_STATUS_SUCCESS;
		}
		o = &n->owed[n->nr_owed++];
		o->packet = packet;
		o->failed = s.failed;
		o->len = s.len;
		memcpy(o->reply, s.reply, sizeof(o->reply));
		vsp_defer(n->vsp); /* the work pass completes it */
	} else if (s.kind == PKT_RX && vmb_channel_packet_defer(packet) == VMB_STATUS_SUCCESS) {
		vmb_channel_packet_fail(packet);
	}
	return VMB_STATUS_SUCCESS;
}

void netvsp_drop_restored(struct netvsp_nic *n)
{
	while (n->nr_restored)
		vmb_channel_unmap_gpadl(n->channel, n->restored[--n->nr_restored]);
}

void netvsp_take_restored(struct netvsp_nic *n)
{
	struct vmb_gpadl_mapping *m;
	u32 id;

	netvsp_drop_restored(n); /* none: `closed` dropped any a failed restore left */
	while (vmb_channel_restored_mapping(n->channel, &id, &m) == VMB_STATUS_SUCCESS) {
		if (n->nr_restored == ARRAY_SIZE(n->restored)) {
			vmb_channel_unmap_gpadl(n->channel, m); /* netvsp maps two at most */
			continue;
		}
		n->restored_id[n->nr_restored] = id;
		n->restored[n->nr_restored++] = m;
	}
}

/* ---- the instance's record ---- */

static u32 nic_flags(const struct netvsp_nic *n)
{
	return (n->open ? SAVED_OPEN : 0) | (n->rndis_up ? SAVED_RNDIS_UP : 0) |
	       (n->link_told ? SAVED_LINK_TOLD : 0) | (n->table_due ? SAVED_TABLE_DUE : 0) |
	       (n->paused ? SAVED_PAUSED : 0) | (n->rx_map ? SAVED_RX_BUF : 0) |
	       (n->tx_map ? SAVED_TX_BUF : 0);
}

/*
 * One NIC's part at out, room bytes (out NULL: only measured); its size, or
 * 0 with *st when it does not fit or the port's save failed.
 */
static u32 save_nic(struct netvsp_nic *n, u8 *out, u32 room, vmb_status *st)
{
	const struct netvsp_stats *c = &n->stats;
	struct netvsp_saved_nic s = {sizeof(s),
				     nic_flags(n),
				     n->version,
				     n->ndis_major,
				     n->ndis_minor,
				     n->mtu,
				     n->rx_gpadl,
				     n->rx_sections,
				     n->rx_hint,
				     n->tx_gpadl,
				     n->tx_sections,
				     n->rx_id,
				     n->tx_id,
				     n->filter,
				     n->q_count,
				     0,
				     0,
				     c->tx_packets,
				     c->tx_bytes,
				     c->rx_packets,
				     c->rx_bytes,
				     c->tx_dropped,
				     c->rx_dropped,
				     c->bad_messages};
	u32 at = sizeof(s);

	*st = VMB_STATUS_BUFFER_TOO_SMALL;
	if (out && room < at)
		return 0;
	for (unsigned i = 0; i < n->q_count; i++) {
		const struct netvsp_msg *m = &n->q[(n->q_head + i) % NETVSP_RX_QUEUE];
		const struct netvsp_saved_msg h = {m->len, m->channel_type};

		if (out) {
			if (room - at < sizeof(h) + m->len)
				return 0;
			memcpy(out + at, &h, sizeof(h));
			memcpy(out + at + sizeof(h), m->data, m->len);
		}
		at += sizeof(h) + m->len;
	}
	if (n->port) {
		u32 port_len = 0;

		*st = vsw_port_save(n->port, out ? out + at : NULL, out ? room - at : 0, &port_len);
		if (*st != VMB_STATUS_SUCCESS && (out || *st != VMB_STATUS_BUFFER_TOO_SMALL))
			return 0;
		s.port_len = port_len;
	}
	*st = VMB_STATUS_SUCCESS;
	if (out)
		memcpy(out, &s, sizeof(s));
	return at + s.port_len;
}

vmb_status netvsp_save(struct vsp *v, void *buf, u32 size, u32 *needed)
{
	struct netvsp_dev *d = vsp_state(v);
	struct netvsp_saved h = {NETVSP_SAVED_VERSION, sizeof(h), d->nr_nics, 0};
	vmb_status st = VMB_STATUS_SUCCESS;

	for (unsigned i = 0; i < d->nr_nics; i++) {
		u32 len = save_nic(&d->nic[i], NULL, 0, &st);

		if (!len)
			return st;
		h.size += len;
		h.open_mask |= d->nic[i].open ? 1u << i : 0;
	}
	*needed = h.size;
	if (size < h.size)
		return VMB_STATUS_BUFFER_TOO_SMALL;
	memcpy(buf, &h, sizeof(h));
	for (unsigned i = 0, at = sizeof(h); i < d->nr_nics; i++) {
		u32 len = save_nic(&d->nic[i], (u8 *)buf + at, size - at, &st);

		if (!len)
			return st;
		at += len;
	}
	return VMB_STATUS_SUCCESS;
}

/*
 * Walk a record, checking every field; for each NIC, apply (if not NULL)
 * gets its part and where its messages and port state lie. Changes nothing
 * itself.
 */
static vmb_status walk(struct netvsp_dev *d, const u8 *buf, u32 size,
		       void (*apply)(struct netvsp_nic *n, const struct netvsp_saved_nic *s,
				     const u8 *msgs, const u8 *port))
{
	struct netvsp_saved h;
	u32 at = sizeof(h);

	if (size < sizeof(h))
		return VMB_STATUS_DATA_ERROR;
	memcpy(&h, buf, sizeof(h));
	if (h.version == 1) /* the record before NIC state was saved */
		return size == sizeof(h) && h.size == sizeof(h) && h.nr_nics == d->nr_nics &&
			       !h.open_mask
			   ? VMB_STATUS_SUCCESS
			   : VMB_STATUS_DATA_ERROR;
	if (h.version != NETVSP_SAVED_VERSION)
		return VMB_STATUS_REVISION_MISMATCH;
	if (h.size != size || h.nr_nics != d->nr_nics || h.open_mask >> h.nr_nics)
		return VMB_STATUS_DATA_ERROR;
	for (unsigned i = 0; i < h.nr_nics; i++) {
		struct netvsp_saved_nic s;
		const u8 *msgs;

		if (size - at < sizeof(s))
			return VMB_STATUS_DATA_ERROR;
		memcpy(&s, buf + at, sizeof(s));
		if (s.size < sizeof(s) || s.size > size - at || s.flags & ~SAVED_FLAGS ||
		    !(s.flags & SAVED_OPEN) != !(h.open_mask & 1u << i) ||
		    (s.version && !netvsp_version_known(s.version)) ||
		    s.rx_sections > NETVSP_RX_SECTIONS_MAX ||
		    (!(s.flags & SAVED_RX_BUF) && s.rx_sections) ||
		    s.rx_hint >= MAX(s.rx_sections, 1u) ||
		    (!(s.flags & SAVED_TX_BUF) && s.tx_sections) || s.nr_queued > NETVSP_RX_QUEUE ||
		    s.port_len > PORT_STATE_MAX || s.reserved || (s.port_len && !d->nic[i].port))
			return VMB_STATUS_DATA_ERROR;
		at += s.size;
		msgs = buf + at;
		for (u32 k = 0; k < s.nr_queued; k++) {
			struct netvsp_saved_msg m;

			if (size - at < sizeof(m))
				return VMB_STATUS_DATA_ERROR;
			memcpy(&m, buf + at, sizeof(m));
			at += sizeof(m);
			if (!m.len || m.len > NETVSP_MSG_MAX || m.len > size - at ||
			    (m.channel_type != NVSP_CHANNEL_DATA &&
			     m.channel_type != NVSP_CHANNEL_CONTROL))
				return VMB_STATUS_DATA_ERROR;
			at += m.len;
		}
		if (s.port_len > size - at ||
		    (s.port_len && vsw_state_check(buf + at, s.port_len) != VMB_STATUS_SUCCESS))
			return VMB_STATUS_DATA_ERROR;
		if (apply)
			apply(&d->nic[i], &s, msgs, s.port_len ? buf + at : NULL);
		at += s.port_len;
	}
	return at == size ? VMB_STATUS_SUCCESS : VMB_STATUS_DATA_ERROR;
}

vmb_status netvsp_check(struct vsp *v, const void *buf, u32 size)
{
	return walk(vsp_state(v), buf, size, NULL);
}

/* The restored mapping of GPADL id, taken out of the list; NULL if the restore gave none. */
static struct vmb_gpadl_mapping *claim(struct netvsp_nic *n, u32 id)
{
	for (unsigned i = 0; i < n->nr_restored; i++) {
		struct vmb_gpadl_mapping *m = n->restored[i];

		if (n->restored_id[i] != id)
			continue;
		n->restored[i] = n->restored[--n->nr_restored];
		n->restored_id[i] = n->restored_id[n->nr_restored];
		return m;
	}
	return NULL;
}

static void restore_nic(struct netvsp_nic *n, const struct netvsp_saved_nic *s, const u8 *msgs,
			const u8 *port)
{
	u32 busy = 0;

	n->stats = (struct netvsp_stats){s->tx_packets, s->tx_bytes,   s->rx_packets,  s->rx_bytes,
					 s->tx_dropped, s->rx_dropped, s->bad_messages};
	/* The channel came back open (`opened` ran) or not: it wins over the record. */
	if (n->open && s->flags & SAVED_OPEN) {
		n->version = s->version;
		n->ndis_major = s->ndis_major;
		n->ndis_minor = s->ndis_minor;
		n->mtu = s->mtu;
		n->table_due = s->flags & SAVED_TABLE_DUE;
		n->rndis_up = s->flags & SAVED_RNDIS_UP;
		n->link_told = s->flags & SAVED_LINK_TOLD;
		n->filter = s->filter;
		/* Only onto a NIC the restore left without buffers (`opened` forgot them). */
		if (s->flags & SAVED_RX_BUF && !n->rx_map && (n->rx_map = claim(n, s->rx_gpadl))) {
			u64 fits = vmb_gpadl_mapping_size(n->rx_map) / NETVSP_RX_SECTION;

			n->rx_gpadl = s->rx_gpadl;
			n->rx_id = s->rx_id;
			n->rx_sections = (u32)MIN((u64)s->rx_sections, fits);
			n->rx_hint = s->rx_hint < n->rx_sections ? s->rx_hint : 0;
		}
		if (s->flags & SAVED_TX_BUF && !n->tx_map && (n->tx_map = claim(n, s->tx_gpadl))) {
			n->tx_gpadl = s->tx_gpadl;
			n->tx_id = s->tx_id;
			n->tx_sections =
			    (u32)MIN((u64)s->tx_sections,
				     vmb_gpadl_mapping_size(n->tx_map) / NETVSP_TX_SECTION);
		}
		for (u32 k = 0, at = 0; k < s->nr_queued && n->q_count < NETVSP_RX_QUEUE; k++) {
			struct netvsp_saved_msg h;
			struct netvsp_msg *m = &n->q[(n->q_head + n->q_count) % NETVSP_RX_QUEUE];

			memcpy(&h, msgs + at, sizeof(h));
			m->len = h.len;
			m->channel_type = h.channel_type;
			memcpy(m->data, msgs + at + sizeof(h), h.len);
			at += sizeof(h) + h.len;
			n->q_count++;
		}
		if (s->flags & SAVED_PAUSED)
			n->paused =
			    true; /* the library kept it paused as saved: the work pass starts it */
	}
	/* Sections restored busy beyond the buffer the record names are nobody's. */
	for (u32 i = 0; i < NETVSP_RX_SECTIONS_MAX; i++) {
		if (!netvsp_rx_is_busy(n, i))
			continue;
		if (i < n->rx_sections)
			busy++;
		else
			n->rx_bitmap[i / 64] &= ~(1ull << (i % 64));
	}
	n->rx_busy = busy;
	netvsp_drop_restored(n); /* mappings the record does not name */
	netvsp_port_sync(n);
	if (port && vsw_port_restore_begin(n->port, port, s->port_len) != VMB_STATUS_SUCCESS)
		vsp_log(n->vsp, "nic %u: its port's saved state was refused", n->index);
	vsp_defer(n->vsp); /* what waits goes out, what is owed is completed */
}

vmb_status netvsp_restore(struct vsp *v, const void *buf, u32 size)
{
	/* The whole record first: a NIC is changed only once every NIC's part is known good. */
	struct netvsp_dev *d = vsp_state(v);
	vmb_status st = walk(d, buf, size, NULL);

	if (st == VMB_STATUS_SUCCESS)
		st = walk(d, buf, size, restore_nic);
	/* A version-1 record names no buffer: what a restored open channel gave back goes. */
	for (unsigned i = 0; i < d->nr_nics; i++)
		netvsp_drop_restored(&d->nic[i]);
	return st;
}
