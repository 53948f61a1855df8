/*
 * netvsp's RNDIS device (MS-RNDIS 2.2): the messages the guest's
 * hv_netvsc sends inside NVSP RNDIS_PKT messages (Linux rndis_filter.c
 * shows which): INITIALIZE, QUERY and SET of its OIDs, HALT, RESET,
 * KEEPALIVE and PACKET. Answers and indications go to the guest through
 * its receive buffer, as control messages (netvsp_queue). Every length and
 * offset is checked against the message, which netvsp copied out of guest
 * memory before.
 */
#include "vsp/netvsp/nic.h"

#include <string.h>

#define LINK_SPEED_100BPS 100000000u /* 10 Gbit/s in OID_GEN_LINK_SPEED's 100 bit/s units */
#define PKT_ALIGN_FACTOR  3	     /* 8-byte alignment: Linux uses 1 << factor */

static u32 rd32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Bytes [off, off + len) lie inside a message of msg_len bytes. */
static bool inside(u32 msg_len, u64 off, u64 len)
{
	return off <= msg_len && len <= msg_len - off;
}

/* ---- INITIALIZE, HALT, RESET, KEEPALIVE ---- */

static u32 do_init(struct netvsp_nic *n, const u8 *msg, u32 len)
{
	struct rndis_init req;
	struct rndis_init_complete c = {.h = {RNDIS_MSG_INIT | RNDIS_MSG_COMPLETION, sizeof(c)}};

	if (len < sizeof(req))
		return NVSP_STAT_INVALID_RNDIS;
	memcpy(&req, msg, sizeof(req));
	c.req_id = req.req_id;
	c.major = RNDIS_MAJOR_VERSION;
	c.minor = RNDIS_MINOR_VERSION;
	c.dev_flags = RNDIS_DF_CONNECTIONLESS;
	c.medium = RNDIS_MEDIUM_802_3;
	c.max_pkts_per_msg = 1; /* one PACKET_MSG per NVSP message: no batching to take apart */
	c.max_xfer_size = NETVSP_TX_MAX;
	c.pkt_align_factor = PKT_ALIGN_FACTOR;
	if (req.major != RNDIS_MAJOR_VERSION) {
		c.status = RNDIS_STATUS_NOT_SUPPORTED;
	} else {
		c.status = RNDIS_STATUS_SUCCESS;
		n->rndis_up = true;
		n->filter = 0;
		n->link_told = false;
	}
	netvsp_queue(n, &c, sizeof(c), NVSP_CHANNEL_CONTROL);
	return NVSP_STAT_SUCCESS;
}

static u32 do_keepalive(struct netvsp_nic *n, const u8 *msg, u32 len)
{
	struct rndis_keepalive req;
	struct rndis_status_complete c = {
	    .h = {RNDIS_MSG_KEEPALIVE | RNDIS_MSG_COMPLETION, sizeof(c)}};

	if (len < sizeof(req))
		return NVSP_STAT_INVALID_RNDIS;
	memcpy(&req, msg, sizeof(req));
	c.req_id = req.req_id;
	c.status = n->rndis_up ? RNDIS_STATUS_SUCCESS : RNDIS_STATUS_FAILURE;
	netvsp_queue(n, &c, sizeof(c), NVSP_CHANNEL_CONTROL);
	return NVSP_STAT_SUCCESS;
}

static u32 do_reset(struct netvsp_nic *n, u32 len)
{
	struct rndis_reset_complete c = {.h = {RNDIS_MSG_RESET | RNDIS_MSG_COMPLETION, sizeof(c)}};

	if (len < sizeof(struct rndis_header) + sizeof(u32)) /* MS-RNDIS 2.2.8: Reserved */
		return NVSP_STAT_INVALID_RNDIS;
	n->filter = 0;
	c.status = RNDIS_STATUS_SUCCESS;
	netvsp_queue(n, &c, sizeof(c), NVSP_CHANNEL_CONTROL);
	return NVSP_STAT_SUCCESS;
}

/* ---- QUERY ---- */

/* The answer's bytes for an OID: their length, or -1 for one netvsp does not support. */
static int query_oid(const struct netvsp_nic *n, u32 oid, u8 *out)
{
	static const u32 supported[] = {
	    OID_GEN_SUPPORTED_LIST,
	    OID_GEN_HARDWARE_STATUS,
	    OID_GEN_MEDIA_SUPPORTED,
	    OID_GEN_MEDIA_IN_USE,
	    OID_GEN_MAXIMUM_FRAME_SIZE,
	    OID_GEN_LINK_SPEED,
	    OID_GEN_TRANSMIT_BLOCK_SIZE,
	    OID_GEN_RECEIVE_BLOCK_SIZE,
	    OID_GEN_VENDOR_ID,
	    OID_GEN_CURRENT_PACKET_FILTER,
	    OID_GEN_MAXIMUM_TOTAL_SIZE,
	    OID_GEN_MEDIA_CONNECT_STATUS,
	    OID_GEN_MAXIMUM_SEND_PACKETS,
	    OID_802_3_PERMANENT_ADDRESS,
	    OID_802_3_CURRENT_ADDRESS,
	    OID_802_3_MAXIMUM_LIST_SIZE,
	    OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES,
	};
	u32 v;

	switch (oid) {
	case OID_GEN_SUPPORTED_LIST:
		memcpy(out, supported, sizeof(supported));
		return sizeof(supported);
	case OID_802_3_PERMANENT_ADDRESS:
	case OID_802_3_CURRENT_ADDRESS:
		memcpy(out, n->mac, sizeof(n->mac));
		return sizeof(n->mac);
	case OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES: {
		/* No offloads, said in the shape Linux insists on (proto.h). */
		struct ndis_offload_6_0 caps = {.type = NDIS_OBJECT_TYPE_OFFLOAD,
						.revision = NDIS_OFFLOAD_REVISION_1,
						.size = sizeof(caps)};

		memcpy(out, &caps, sizeof(caps));
		return sizeof(caps);
	}
	case OID_GEN_HARDWARE_STATUS: /* NdisHardwareStatusReady */
	case OID_GEN_MEDIA_SUPPORTED:
	case OID_GEN_MEDIA_IN_USE:
		v = oid == OID_GEN_HARDWARE_STATUS ? 0 : RNDIS_MEDIUM_802_3;
		break;
	case OID_GEN_MAXIMUM_FRAME_SIZE:
		v = NETVSP_MTU; /* NDIS: without the Ethernet header */
		break;
	case OID_GEN_LINK_SPEED:
		v = LINK_SPEED_100BPS;
		break;
	case OID_GEN_TRANSMIT_BLOCK_SIZE:
	case OID_GEN_RECEIVE_BLOCK_SIZE:
	case OID_GEN_MAXIMUM_TOTAL_SIZE:
		v = NETVSP_FRAME_MAX;
		break;
	case OID_GEN_VENDOR_ID:
		v = 0x00155d; /* Microsoft's OUI, as the default MACs use it */
		break;
	case OID_GEN_CURRENT_PACKET_FILTER:
		v = n->filter;
		break;
	case OID_GEN_MEDIA_CONNECT_STATUS:
		v = n->link_up ? RNDIS_MEDIA_CONNECTED : RNDIS_MEDIA_DISCONNECTED;
		break;
	case OID_GEN_MAXIMUM_SEND_PACKETS:
		v = 1;
		break;
	case OID_802_3_MAXIMUM_LIST_SIZE:
		v = 32;
		break;
	default:
		/* RSS capabilities among them: Linux then keeps one channel (rndis_filter.c). */
		return -1;
	}
	memcpy(out, &v, sizeof(v));
	return sizeof(v);
}

struct query_answer {
	struct rndis_query_complete c;
	u8 info[NETVSP_MSG_MAX - sizeof(struct rndis_query_complete)];
};

/* The guest's info buffer (its bytes are only looked at by SET): inside the message or refused. */
static bool oid_request(const u8 *msg, u32 len, struct rndis_oid_request *req)
{
	if (len < sizeof(*req))
		return false;
	memcpy(req, msg, sizeof(*req));
	return inside(len, (u64)RNDIS_BODY_OFFSET + req->info_offset, req->info_len);
}

static u32 do_query(struct netvsp_nic *n, const u8 *msg, u32 len)
{
	struct rndis_oid_request req;
	struct query_answer a;
	int got;

	if (len < sizeof(req))
		return NVSP_STAT_INVALID_RNDIS;
	memset(&a, 0, sizeof(a));
	memcpy(&req, msg, sizeof(req));
	a.c.h.type = RNDIS_MSG_QUERY | RNDIS_MSG_COMPLETION;
	a.c.req_id = req.req_id;
	/* Offsets count from req_id; an empty answer still points just past the header. */
	a.c.info_offset = sizeof(a.c) - RNDIS_BODY_OFFSET;
	if (!oid_request(msg, len, &req)) {
		a.c.status = RNDIS_STATUS_INVALID_LENGTH;
		got = 0;
	} else {
		got = query_oid(n, req.oid, a.info);
		a.c.status = got < 0 ? RNDIS_STATUS_NOT_SUPPORTED : RNDIS_STATUS_SUCCESS;
	}
	a.c.info_len = got < 0 ? 0 : (u32)got;
	a.c.h.len = sizeof(a.c) + a.c.info_len;
	netvsp_queue(n, &a, a.c.h.len, NVSP_CHANNEL_CONTROL);
	return NVSP_STAT_SUCCESS;
}

/* ---- SET ---- */

static u32 set_oid(struct netvsp_nic *n, u32 oid, const u8 *info, u32 len)
{
	switch (oid) {
	case OID_GEN_CURRENT_PACKET_FILTER:
		if (len != sizeof(u32))
			return RNDIS_STATUS_INVALID_LENGTH;
		n->filter = rd32(info);
		return RNDIS_STATUS_SUCCESS;
	case OID_TCP_OFFLOAD_PARAMETERS:
		/*
		 * Linux sets this once after reading the (empty) capabilities and
		 * gives up on the device unless it succeeds: every offload stays
		 * off whatever it asks, since none is offered.
		 */
		return RNDIS_STATUS_SUCCESS;
	case OID_802_3_MULTICAST_LIST:
		/* Every multicast frame is delivered: the list only narrows what a NIC sees. */
		return len % 6 ? RNDIS_STATUS_INVALID_LENGTH : RNDIS_STATUS_SUCCESS;
	case OID_GEN_NETWORK_LAYER_ADDRESSES:
		return RNDIS_STATUS_SUCCESS; /* informational */
	default:
		/* A new MAC (802_3_CURRENT_ADDRESS), RSS parameters, encapsulation: not offered. */
		return RNDIS_STATUS_NOT_SUPPORTED;
	}
}

static u32 do_set(struct netvsp_nic *n, const u8 *msg, u32 len)
{
	struct rndis_oid_request req;
	struct rndis_status_complete c = {.h = {RNDIS_MSG_SET | RNDIS_MSG_COMPLETION, sizeof(c)}};

	if (len < sizeof(req))
		return NVSP_STAT_INVALID_RNDIS;
	memcpy(&req, msg, sizeof(req));
	c.req_id = req.req_id;
	if (!oid_request(msg, len, &req))
		c.status = RNDIS_STATUS_INVALID_LENGTH;
	else
		c.status =
		    set_oid(n, req.oid, msg + RNDIS_BODY_OFFSET + req.info_offset, req.info_len);
	netvsp_queue(n, &c, sizeof(c), NVSP_CHANNEL_CONTROL);
	/* The device just opened: after the answer, the link (Windows indicates it too). */
	if (n->filter && !n->link_told)
		netvsp_indicate_link(n);
	return NVSP_STAT_SUCCESS;
}

/* ---- PACKET ---- */

/* The per-packet info list: every entry inside the list and its payload inside the entry. */
static bool ppi_ok(const u8 *list, u32 len)
{
	u32 at = 0;

	while (at < len) {
		struct rndis_ppi p;

		if (len - at < sizeof(p))
			return false;
		memcpy(&p, list + at, sizeof(p));
		if (p.size < sizeof(p) || p.size > len - at || p.offset < sizeof(p) ||
		    p.offset > p.size)
			return false;
		/* Checksum, LSO, VLAN and hash info ask for nothing netvsp offered: ignored. */
		at += p.size;
	}
	return true;
}

/* The frame's bytes into the switch's entry: those netvsp copied out, then the guest's. */
struct frame_src {
	const struct netvsp_tx *m;
	u32 off;
};

static vmb_status fill_frame(void *ctx, void *dst, u32 len)
{
	const struct frame_src *f = ctx;
	u32 here = f->off < f->m->have ? MIN(len, f->m->have - f->off) : 0;

	if (here)
		memcpy(dst, f->m->msg + f->off, here);
	if (here == len)
		return VMB_STATUS_SUCCESS;
	if (!f->m->read)
		return VMB_STATUS_INVALID_PARAMETER;
	return f->m->read(f->m->ctx, f->off + here, (u8 *)dst + here, len - here);
}

static u32 do_packet(struct netvsp_nic *n, const struct netvsp_tx *m, u32 len)
{
	const u8 *msg = m->msg;
	struct rndis_packet p;
	struct frame_src src = {m, 0};

	if (len < sizeof(p) || m->have < sizeof(p))
		return NVSP_STAT_INVALID_RNDIS;
	memcpy(&p, msg, sizeof(p));
	/* The frame inside the message; the info list inside what netvsp copied out. */
	if (!inside(len, (u64)RNDIS_BODY_OFFSET + p.data_offset, p.data_len) ||
	    !inside(MIN(len, m->have), (u64)RNDIS_BODY_OFFSET + p.ppi_offset, p.ppi_len) ||
	    (p.ppi_len && !ppi_ok(msg + RNDIS_BODY_OFFSET + p.ppi_offset, p.ppi_len)) || p.nr_oob) {
		n->stats.tx_dropped++;
		return NVSP_STAT_INVALID_RNDIS;
	}
	if (p.data_len < NETVSP_FRAME_MIN || p.data_len > NETVSP_FRAME_MAX) {
		n->stats.tx_dropped++; /* shorter than a header or over the MTU */
		return NVSP_STAT_INVALID_RNDIS;
	}
	/*
	 * Into the switch, which copies it straight from the guest. A frame
	 * it refuses (link down, a spoofed source, the partition's memory used
	 * up) is lost as on a wire: the guest's packet still succeeds.
	 */
	src.off = RNDIS_BODY_OFFSET + p.data_offset;
	if (!n->rndis_up || !n->port ||
	    vsw_send_from(n->port, p.data_len, fill_frame, &src) != VMB_STATUS_SUCCESS) {
		n->stats.tx_dropped++;
		return NVSP_STAT_SUCCESS;
	}
	n->stats.tx_packets++;
	n->stats.tx_bytes += p.data_len;
	return NVSP_STAT_SUCCESS;
}

/* ---- the link ---- */

void netvsp_indicate_link(struct netvsp_nic *n)
{
	struct rndis_indicate m = {.h = {RNDIS_MSG_INDICATE, sizeof(m)}};

	if (!n->rndis_up)
		return;
	m.status = n->link_up ? RNDIS_STATUS_MEDIA_CONNECT : RNDIS_STATUS_MEDIA_DISCONNECT;
	if (!netvsp_queue(n, &m, sizeof(m), NVSP_CHANNEL_CONTROL))
		n->link_told = true;
}

/* ---- one message ---- */

u32 netvsp_rndis(struct netvsp_nic *n, const struct netvsp_tx *m)
{
	const u8 *msg = m->msg;
	struct rndis_header h;

	if (m->have < sizeof(h) || m->have > m->len)
		goto bad;
	memcpy(&h, msg, sizeof(h));
	/* The message may be shorter than what carried it (a section is padded), never longer. */
	if (h.len < sizeof(h) || h.len > m->len)
		goto bad;
	if (h.type == RNDIS_MSG_PACKET)
		return do_packet(n, m, h.len);
	if (h.len > m->have)
		goto bad; /* netvsp copies out every other message whole */
	switch (h.type) {
	case RNDIS_MSG_INIT:
		return do_init(n, msg, h.len);
	case RNDIS_MSG_HALT:
		n->rndis_up = false;
		n->filter = 0;
		return NVSP_STAT_SUCCESS;
	case RNDIS_MSG_QUERY:
		return do_query(n, msg, h.len);
	case RNDIS_MSG_SET:
		return do_set(n, msg, h.len);
	case RNDIS_MSG_RESET:
		return do_reset(n, h.len);
	case RNDIS_MSG_KEEPALIVE:
		return do_keepalive(n, msg, h.len);
	}
bad:
	return NVSP_STAT_INVALID_RNDIS;
}
