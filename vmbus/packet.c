/*
 * Packets (kmcl.h "packets"): reading the guest -> host ring and handing each
 * packet to the VSP, sending in-band and GPA_DIRECT packets to the guest,
 * completions both ways (a guest's VM_PKT_COMP is matched to the sent packet
 * by transaction id; a VSP's completion becomes a VM_PKT_COMP if the guest
 * asked for one), and the external data of GPA_DIRECT packets. Packet
 * layouts: vmbus/wire.h (Linux include/linux/hyperv.h, channel.c).
 */
#include "vmbus/packet.h"
#include "vmbus/save.h"
#include "kernel/hv_defs.h"

#include <string.h>

/* ---- lists: every packet is on exactly one of its channel's ---- */

static void list_add(struct pkt_list *l, struct vmb_packet *p)
{
	p->list = l;
	p->next = NULL;
	p->prev = l->tail;
	if (l->tail)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	l->count++;
}

static void list_del(struct vmb_packet *p)
{
	struct pkt_list *l = p->list;

	if (!l)
		return;
	if (p->prev)
		p->prev->next = p->next;
	else
		l->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		l->tail = p->prev;
	l->count--;
	p->list = NULL;
	p->prev = p->next = NULL;
}

static void packet_destroy(struct vmb_packet *p)
{
	struct pool *pool = vmbus_pool(p->channel->bus);

	list_del(p);
	pool_free(pool, p->ranges);
	pool_free(pool, p->reply);
	pool_free(pool, p);
}

static void free_list(struct pkt_list *l)
{
	while (l->head)
		packet_destroy(l->head);
}

vmb_status vmb_packet_allocate(struct vmb_channel *channel, struct vmb_packet **packet)
{
	struct vmb_packet *p;

	if (!channel || !packet)
		return VMB_STATUS_INVALID_PARAMETER;
	p = pool_zalloc(vmbus_pool(channel->bus), sizeof(*p));
	if (!p)
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	p->channel = channel;
	p->state = PKT_IDLE;
	list_add(&channel->idle, p);
	*packet = p;
	return VMB_STATUS_SUCCESS;
}

void vmb_packet_free(struct vmb_packet *packet)
{
	if (!packet)
		return;
	if (packet->in_completion) {
		packet->free_requested = true; /* freed when its completion routine returns */
		return;
	}
	packet_destroy(packet);
}

/*
 * A sent packet's completion: its routine runs, then the packet is freed,
 * unless the routine sent it again.
 */
static void finish_sent(struct vmb_packet *p, vmb_status status, const void *reply, u32 len)
{
	struct vmb_channel *ch = p->channel;

	list_del(p);
	p->state = PKT_IDLE;
	list_add(&ch->idle, p);
	p->in_completion = true;
	if (p->completion)
		p->completion(p, status, reply, len);
	p->in_completion = false;
	if (p->free_requested || p->state == PKT_IDLE)
		packet_destroy(p);
}

struct vmb_channel *vmb_packet_get_channel(struct vmb_packet *packet)
{
	return packet->channel;
}

void *vmb_packet_get_context(struct vmb_packet *packet)
{
	return packet->context;
}

vmb_status vmb_packet_set_completion_routine(struct vmb_packet *packet,
					     vmb_completion_fn completion)
{
	/* Before sending, or on a packet restored waiting for its completion. */
	if (!packet || (packet->state != PKT_IDLE && packet->state != PKT_WAITING))
		return VMB_STATUS_INVALID_DEVICE_STATE;
	packet->completion = completion;
	return VMB_STATUS_SUCCESS;
}

void vmbus_channel_break(struct vmb_channel *ch, const char *why)
{
	if (ch->broken)
		return;
	ch->broken = true;
	vmbus_log(ch->bus, "relid %u stopped: malformed ring (%s)", ch->relid, why);
}

/* ---- writing the host -> guest ring ---- */

static vmb_status write_packet(struct vmb_channel *ch, struct vmbus_packet_desc desc,
			       const void *extra, u32 extra_len, const void *payload, u32 len)
{
	static const u64 zero;
	u32 hdr = (u32)sizeof(desc) + extra_len;
	u64 total = (u64)hdr + len, aligned = ALIGN_UP(total, VMBUS_PKT_ALIGN);
	struct ring_part parts[4];
	bool signal;

	if (!ch->open || ch->broken)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	/* Never fits: the ring must keep one free byte beyond packet and trailer. */
	if (aligned > VMBUS_PKT_MAX_LEN || aligned + VMBUS_PKT_TRAILER >= ch->out.size)
		return VMB_STATUS_INVALID_PARAMETER;
	desc.offset8 = (u16)(hdr / VMBUS_PKT_ALIGN);
	desc.len8 = (u16)(aligned / VMBUS_PKT_ALIGN);
	parts[0] = (struct ring_part){&desc, sizeof(desc)};
	parts[1] = (struct ring_part){extra, extra_len};
	parts[2] = (struct ring_part){payload, len};
	parts[3] = (struct ring_part){&zero, (u32)(aligned - total)};
	switch (ring_write(&ch->out, parts, ARRAY_SIZE(parts), &signal)) {
	case RING_OK:
		ch->packets_out++;
		if (signal)
			ch->bus->host.signal(ch->bus->host.ctx, ch->relid);
		return VMB_STATUS_SUCCESS;
	case RING_FULL:
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	default:
		vmbus_channel_break(ch, ch->out.why);
		return VMB_STATUS_INVALID_DEVICE_STATE;
	}
}

static vmb_status write_completion(struct vmb_channel *ch, u64 trans_id, const void *reply, u32 len)
{
	struct vmbus_packet_desc desc = {.type = VMBUS_PKT_COMP, .trans_id = trans_id};

	return write_packet(ch, desc, NULL, 0, reply, len);
}

/*
 * Guest packets the host holds: those the VSP has and completions waiting
 * for ring space. A guest that never drains its ring so stops the channel
 * taking packets, instead of making the host queue completions for ever.
 */
static unsigned in_use(const struct vmb_channel *ch)
{
	return ch->incoming.count + ch->completing.count;
}

/* A guest packet the host held is gone: if the read loop stopped for lack of slots, it resumes. */
static void slot_freed(struct vmb_packet *p)
{
	struct vmb_channel *ch = p->channel;

	if (in_use(ch) >= VMBUS_MAX_IN_USE)
		ch->kick = true;
	packet_destroy(p);
}

/* Completions the ring had no room for, in order. */
static void flush_completing(struct vmb_channel *ch)
{
	while (ch->completing.head) {
		struct vmb_packet *p = ch->completing.head;
		vmb_status st = write_completion(ch, p->trans_id, p->reply, p->reply_len);

		if (st == VMB_STATUS_INSUFFICIENT_RESOURCES)
			return; /* the guest signals when it has read enough */
		slot_freed(p);
	}
}

/* The GPA_DIRECT header after the descriptor: reserved, range count, ranges with PFNs. */
static vmb_status build_ranges(struct vmb_channel *ch, const struct vmb_external_data *ext,
			       u32 **out, u32 *out_len)
{
	u64 words = 1; /* reserved + range_count */
	u32 *buf;
	u64 *w;

	if (!ext->nr_ranges || ext->nr_ranges > VMBUS_MAX_RANGES || !ext->ranges)
		return VMB_STATUS_INVALID_PARAMETER;
	for (u32 i = 0; i < ext->nr_ranges; i++) {
		const struct vmb_gpa_range *r = &ext->ranges[i];
		u64 pages = ALIGN_UP((u64)r->byte_offset + r->byte_count, PAGE_SIZE) >> PAGE_SHIFT;

		if (!r->byte_count || r->byte_offset >= PAGE_SIZE || r->nr_pfns != pages ||
		    !r->pfns)
			return VMB_STATUS_INVALID_PARAMETER;
		for (u32 j = 0; j < r->nr_pfns; j++)
			if (r->pfns[j] >= VMBUS_PFN_LIMIT ||
			    !ch->bus->host.page(ch->bus->host.ctx, r->pfns[j] << PAGE_SHIFT))
				return VMB_STATUS_INVALID_PARAMETER;
		words += 1 + pages;
	}
	if (words * sizeof(u64) > VMBUS_PKT_MAX_LEN)
		return VMB_STATUS_INVALID_PARAMETER;
	buf = pool_calloc(vmbus_pool(ch->bus), words, sizeof(u64));
	if (!buf)
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	buf[1] = ext->nr_ranges;
	w = (u64 *)buf + 1;
	for (u32 i = 0; i < ext->nr_ranges; i++) {
		const struct vmb_gpa_range *r = &ext->ranges[i];

		*w++ = (u64)r->byte_count | (u64)r->byte_offset << 32;
		memcpy(w, r->pfns, r->nr_pfns * sizeof(u64));
		w += r->nr_pfns;
	}
	*out = buf;
	*out_len = (u32)(words * sizeof(u64));
	return VMB_STATUS_SUCCESS;
}

/* Write a packet the caller built the header of; on success the packet is consumed. */
static vmb_status send_built(struct vmb_packet *packet, struct vmbus_packet_desc desc,
			     const void *extra, u32 extra_len, const void *buffer, u32 len,
			     u32 flags)
{
	struct vmb_channel *ch = packet->channel;
	vmb_status st;

	if (flags & VMB_SEND_COMPLETION_REQUESTED) {
		desc.flags = VMBUS_PKT_FLAG_COMPLETION_REQUESTED;
		desc.trans_id = ++ch->next_trans_id; /* never 0 */
	}
	st = write_packet(ch, desc, extra, extra_len, buffer, len);
	if (st != VMB_STATUS_SUCCESS)
		return st; /* still the VSP's */
	if (!(flags & VMB_SEND_COMPLETION_REQUESTED)) {
		/* Consumed; inside a completion routine the routine's caller frees it. */
		if (!packet->in_completion)
			packet_destroy(packet);
		return st;
	}
	list_del(packet);
	packet->state = PKT_WAITING;
	packet->trans_id = desc.trans_id;
	list_add(&ch->waiting, packet);
	return VMB_STATUS_SUCCESS;
}

static vmb_status send_check(struct vmb_packet *packet, const void *buffer, u32 len, u32 flags)
{
	if (!packet || (len && !buffer) || (flags & ~VMB_SEND_COMPLETION_REQUESTED))
		return VMB_STATUS_INVALID_PARAMETER;
	if (packet->state != PKT_IDLE || !packet->channel->open || packet->channel->broken)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_packet_send(struct vmb_packet *packet, const void *buffer, u32 len,
			   const struct vmb_external_data *ext, u32 flags)
{
	struct vmbus_packet_desc desc = {.type = VMBUS_PKT_DATA_INBAND};
	u32 *extra = NULL, extra_len = 0;
	vmb_status st = send_check(packet, buffer, len, flags);
	struct pool *pool;

	if (st != VMB_STATUS_SUCCESS)
		return st;
	if (ext) {
		st = build_ranges(packet->channel, ext, &extra, &extra_len);
		if (st != VMB_STATUS_SUCCESS)
			return st;
		desc.type = VMBUS_PKT_DATA_USING_GPA_DIRECT;
	}
	pool = vmbus_pool(packet->channel->bus); /* the packet may be gone after the send */
	st = send_built(packet, desc, extra, extra_len, buffer, len, flags);
	pool_free(pool, extra);
	return st;
}

/* The header after the descriptor (struct vmbus_packet_xfer_pages without it), then the ranges. */
struct xfer_extra {
	u16 xfer_pageset_id;
	u8 sender_owns_set;
	u8 reserved;
	u32 range_count;
	struct vmb_transfer_range ranges[VMB_MAX_TRANSFER_RANGES];
} __packed;
_Static_assert(offsetof(struct xfer_extra, ranges) + sizeof(struct vmbus_packet_desc) ==
		   sizeof(struct vmbus_packet_xfer_pages),
	       "xfer pages header");

vmb_status vmb_packet_send_transfer_pages(struct vmb_packet *packet, u16 pageset_id,
					  const struct vmb_transfer_range *ranges, u32 nr_ranges,
					  const void *buffer, u32 len, u32 flags)
{
	struct vmbus_packet_desc desc = {.type = VMBUS_PKT_DATA_USING_XFER_PAGES};
	struct xfer_extra x = {.xfer_pageset_id = pageset_id, .range_count = nr_ranges};
	vmb_status st = send_check(packet, buffer, len, flags);

	if (st != VMB_STATUS_SUCCESS)
		return st;
	if (!nr_ranges || nr_ranges > VMB_MAX_TRANSFER_RANGES || !ranges)
		return VMB_STATUS_INVALID_PARAMETER;
	memcpy(x.ranges, ranges, nr_ranges * sizeof(*ranges));
	return send_built(packet, desc, &x,
			  (u32)(offsetof(struct xfer_extra, ranges) + nr_ranges * sizeof(*ranges)),
			  buffer, len, flags);
}

/* ---- completing the guest's packets ---- */

static void incoming_done(struct vmb_packet *p)
{
	slot_freed(p);
}

vmb_status vmb_channel_packet_complete(struct vmb_packet *packet, const void *reply, u32 len)
{
	struct vmb_channel *ch;
	vmb_status st = VMB_STATUS_INSUFFICIENT_RESOURCES;

	if (!packet || packet->state != PKT_INCOMING)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	if (len && !reply)
		return VMB_STATUS_INVALID_PARAMETER;
	ch = packet->channel;
	if (!packet->completion_requested || !ch->open || ch->broken) {
		incoming_done(packet);
		return VMB_STATUS_SUCCESS;
	}
	if (!ch->completing.count)
		st = write_completion(ch, packet->trans_id, reply, len);
	if (st == VMB_STATUS_INSUFFICIENT_RESOURCES) {
		/* Sent when the guest has made room (it signals: pending_send_sz). */
		packet->reply = len ? pool_alloc(vmbus_pool(ch->bus), len) : NULL;
		if (len && !packet->reply)
			return VMB_STATUS_INSUFFICIENT_RESOURCES; /* still in use: try again */
		if (len)
			memcpy(packet->reply, reply, len);
		packet->reply_len = len;
		/* Still one of the channel's in_use slots: nothing frees up. */
		list_del(packet);
		packet->state = PKT_COMPLETING;
		list_add(&ch->completing, packet);
		return VMB_STATUS_SUCCESS;
	}
	incoming_done(packet);
	return st;
}

vmb_status vmb_channel_packet_fail(struct vmb_packet *packet)
{
	/* The guest still hears back (an empty completion), so it never waits for ever. */
	return vmb_channel_packet_complete(packet, NULL, 0);
}

vmb_status vmb_channel_packet_defer(struct vmb_packet *packet)
{
	if (!packet || packet->state != PKT_INCOMING)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	packet->deferred = true;
	return VMB_STATUS_SUCCESS;
}

/* ---- external data of the guest's GPA_DIRECT packets ---- */

vmb_status vmb_packet_get_external_data(struct vmb_packet *packet, struct vmb_external_data *ext)
{
	if (!packet || !ext)
		return VMB_STATUS_INVALID_PARAMETER;
	ext->nr_ranges = packet->state == PKT_INCOMING ? packet->nr_ranges : 0;
	ext->ranges = ext->nr_ranges ? packet->ranges : NULL;
	return VMB_STATUS_SUCCESS;
}

static vmb_status external_copy(struct vmb_packet *p, u32 range, u32 offset, void *buf, u32 len,
				bool out)
{
	const struct vmbus_host *host;
	const struct vmb_gpa_range *r;
	u8 *b = buf;
	u64 pos;

	if (!p || p->state != PKT_INCOMING || range >= p->nr_ranges || (len && !buf))
		return VMB_STATUS_INVALID_PARAMETER;
	r = &p->ranges[range];
	if (offset > r->byte_count || len > r->byte_count - offset)
		return VMB_STATUS_INVALID_PARAMETER;
	host = &p->channel->bus->host;
	pos = (u64)r->byte_offset + offset;
	while (len) {
		u32 in_page = (u32)(pos & (PAGE_SIZE - 1));
		u32 chunk = MIN(len, (u32)PAGE_SIZE - in_page);
		u8 *page = host->page(host->ctx, r->pfns[pos >> PAGE_SHIFT] << PAGE_SHIFT);

		if (!page)
			return VMB_STATUS_INVALID_PARAMETER;
		if (out)
			memcpy(b, page + in_page, chunk);
		else
			memcpy(page + in_page, b, chunk);
		b += chunk;
		pos += chunk;
		len -= chunk;
	}
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_packet_read_external(struct vmb_packet *packet, u32 range, u32 offset, void *buf,
				    u32 len)
{
	return external_copy(packet, range, offset, buf, len, true);
}

vmb_status vmb_packet_write_external(struct vmb_packet *packet, u32 range, u32 offset,
				     const void *buf, u32 len)
{
	return external_copy(packet, range, offset, (void *)buf, len, false);
}

/*
 * Parse and check the ranges of a GPA_DIRECT packet (its bytes [24, data
 * offset)) into one block: the range array, then every PFN.
 */
static const char *parse_ranges(struct vmb_channel *ch, const u8 *pkt, u32 data_off,
				struct vmb_packet *p)
{
	const struct vmbus_packet_gpa_direct *h = (const void *)pkt;
	u32 pos = sizeof(*h), count = h->range_count;
	u64 pfns = 0, bytes = 0;
	struct vmb_gpa_range *ranges;
	u64 *pfn_out;

	if (!ch->max_external)
		return "external data not accepted by this channel";
	if (data_off < sizeof(*h) || !count || count > VMBUS_MAX_RANGES)
		return "bad range count";
	for (u32 i = 0; i < count; i++) {
		struct vmbus_gpa_range r;
		u64 pages;

		if (data_off - pos < sizeof(r))
			return "ranges past the data offset";
		memcpy(&r, pkt + pos, sizeof(r));
		pages = ALIGN_UP((u64)r.byte_offset + r.byte_count, PAGE_SIZE) >> PAGE_SHIFT;
		if (!r.byte_count || r.byte_offset >= PAGE_SIZE)
			return "range with no bytes or an offset past its page";
		pos += sizeof(r);
		if ((data_off - pos) / sizeof(u64) < pages)
			return "ranges past the data offset";
		pos += (u32)(pages * sizeof(u64));
		pfns += pages;
		bytes += r.byte_count;
	}
	if (bytes > ch->max_external)
		return "more external data than the channel accepts";
	ranges = pool_zalloc(vmbus_pool(ch->bus), count * sizeof(*ranges) + pfns * sizeof(u64));
	if (!ranges)
		return "out of memory";
	pfn_out = (u64 *)(ranges + count);
	pos = sizeof(*h);
	for (u32 i = 0; i < count; i++) {
		struct vmbus_gpa_range r;

		memcpy(&r, pkt + pos, sizeof(r));
		pos += sizeof(r);
		ranges[i].byte_count = r.byte_count;
		ranges[i].byte_offset = r.byte_offset;
		ranges[i].nr_pfns =
		    (u32)(ALIGN_UP((u64)r.byte_offset + r.byte_count, PAGE_SIZE) >> PAGE_SHIFT);
		ranges[i].pfns = pfn_out;
		memcpy(pfn_out, pkt + pos, ranges[i].nr_pfns * sizeof(u64));
		for (u32 j = 0; j < ranges[i].nr_pfns; j++) {
			if (pfn_out[j] >= VMBUS_PFN_LIMIT ||
			    !ch->bus->host.page(ch->bus->host.ctx, pfn_out[j] << PAGE_SHIFT)) {
				pool_free(vmbus_pool(ch->bus), ranges);
				return "PFN outside guest RAM";
			}
		}
		pos += ranges[i].nr_pfns * (u32)sizeof(u64);
		pfn_out += ranges[i].nr_pfns;
	}
	p->ranges = ranges;
	p->nr_ranges = count;
	return NULL;
}

/* ---- reading the guest -> host ring ---- */

/* A data packet for the VSP. */
static void deliver(struct vmb_channel *ch, const struct vmbus_packet_desc *d, const u8 *pkt,
		    u32 len)
{
	u32 off = d->offset8 * VMBUS_PKT_ALIGN, plen = len - off, flags = 0;
	struct vmb_packet *p;
	const char *why;

	if (plen > ch->max_packet) {
		vmbus_log(ch->bus, "relid %u: packet of %u bytes dropped (at most %u)", ch->relid,
			  plen, ch->max_packet);
		return;
	}
	if (!ch->process_packet) {
		vmbus_log(ch->bus, "relid %u: packet dropped: the VSP takes none", ch->relid);
		return;
	}
	p = pool_zalloc(vmbus_pool(ch->bus), sizeof(*p));
	if (!p) {
		vmbus_log(ch->bus, "relid %u: packet dropped: out of device memory", ch->relid);
		return;
	}
	p->channel = ch;
	if (d->type == VMBUS_PKT_DATA_USING_GPA_DIRECT) {
		why = parse_ranges(ch, pkt, off, p);
		if (why) {
			vmbus_log(ch->bus, "relid %u: GPA_DIRECT packet dropped: %s", ch->relid,
				  why);
			pool_free(vmbus_pool(ch->bus), p);
			return;
		}
		flags |= VMB_PACKET_EXTERNAL_DATA;
	}
	p->state = PKT_INCOMING;
	p->trans_id = d->trans_id;
	p->completion_requested = d->flags & VMBUS_PKT_FLAG_COMPLETION_REQUESTED;
	if (p->completion_requested)
		flags |= VMB_PACKET_COMPLETION_REQUESTED;
	list_add(&ch->incoming, p);
	ch->packets_in++;
	ch->process_packet(ch, p, pkt + off, plen, flags);
}

/* The guest answered a packet sent with a completion request. */
static void completion_arrived(struct vmb_channel *ch, const struct vmbus_packet_desc *d,
			       const u8 *pkt, u32 len)
{
	u32 off = d->offset8 * VMBUS_PKT_ALIGN;
	struct vmb_packet *p = ch->waiting.head;

	while (p && p->trans_id != d->trans_id)
		p = p->next;
	if (!p) {
		vmbus_log(ch->bus, "relid %u: completion for unknown transaction 0x%llx dropped",
			  ch->relid, (unsigned long long)d->trans_id);
		return;
	}
	ch->packets_in++;
	finish_sent(p, VMB_STATUS_SUCCESS, pkt + off, len - off);
}

static void dispatch(struct vmb_channel *ch, const struct vmbus_packet_desc *d, const u8 *pkt,
		     u32 len)
{
	switch (d->type) {
	case VMBUS_PKT_DATA_INBAND:
	case VMBUS_PKT_DATA_USING_GPA_DIRECT:
		deliver(ch, d, pkt, len);
		break;
	case VMBUS_PKT_COMP:
		completion_arrived(ch, d, pkt, len);
		break;
	default:
		vmbus_log(ch->bus, "relid %u: packet of type %u dropped", ch->relid, d->type);
		break;
	}
}

static bool can_read(const struct vmb_channel *ch)
{
	return ch->open && !ch->broken && !ch->paused && in_use(ch) < VMBUS_MAX_IN_USE;
}

static void read_ring(struct vmb_channel *ch)
{
	struct vmbus_packet_desc d;
	bool signal = false;
	u32 len, n = 0;

	if (ch->processing) {
		ch->kick = true; /* the loop below picks it up */
		return;
	}
	ch->processing = true;
	do {
		ch->kick = false;
		while (can_read(ch)) {
			if (n == VMBUS_SERVICE_BUDGET) {
				/*
				 * A guest that maps one page into both rings makes every
				 * echo a new packet: stop, and let vmbus_poll go on later.
				 */
				ch->kick = true;
				goto out;
			}
			enum ring_status st = ring_peek(&ch->in, &d, &len);

			if (st == RING_EMPTY)
				break;
			if (st != RING_OK) {
				vmbus_channel_break(ch, ch->in.why);
				break;
			}
			if (len > ch->pkt_buf_size) {
				vmbus_log(ch->bus,
					  "relid %u: packet of %u bytes dropped: too large",
					  ch->relid, len);
				signal |= ring_consume(&ch->in, len);
				continue;
			}
			/* One copy of the guest's bytes: the ring can change under us. */
			ring_copy_packet(&ch->in, 0, ch->pkt_buf, len);
			signal |= ring_consume(&ch->in, len);
			dispatch(ch, &d, ch->pkt_buf, len);
			n++;
		}
	} while (ch->kick && can_read(ch));
out:
	ch->processing = false;
	if (signal && ch->open)
		ch->bus->host.signal(ch->bus->host.ctx, ch->relid);
	if (n && ch->open && ch->processing_complete)
		ch->processing_complete(ch, n);
}

void vmbus_channel_service(struct vmb_channel *ch)
{
	if (!ch->open)
		return;
	flush_completing(ch);
	read_ring(ch);
}

/* ---- close and cleanup ---- */

void vmbus_packets_cancel(struct vmb_channel *ch)
{
	while (ch->waiting.head) {
		finish_sent(ch->waiting.head, VMB_STATUS_INVALID_DEVICE_STATE, NULL, 0);
	}
	free_list(&ch->completing);
}

void vmbus_packets_drop_incoming(struct vmb_channel *ch)
{
	free_list(&ch->incoming);
}

void vmbus_packets_free_idle(struct vmb_channel *ch)
{
	free_list(&ch->idle);
}

const struct vmbus_upcalls vmbus_packet_upcalls = {
    .service = vmbus_channel_service,
    .cancel = vmbus_packets_cancel,
    .drop_incoming = vmbus_packets_drop_incoming,
};

/* ---- the guest's signals and the poll ---- */

int vmbus_guest_signal(struct vmb_bus *bus, u32 conn_id, unsigned flag)
{
	struct vmb_channel *ch;

	if (conn_id <= VMBUS_CONN_CHANNEL_BASE)
		return HV_STATUS_INVALID_CONNECTION_ID;
	ch = vmbus_relid_channel(bus, conn_id - VMBUS_CONN_CHANNEL_BASE);
	if (!ch || ch->offer == OFFER_NONE)
		return HV_STATUS_INVALID_CONNECTION_ID;
	if (ch->open)
		vmbus_channel_service(ch);
	return HV_STATUS_SUCCESS;
}

void vmbus_poll(struct vmb_bus *bus)
{
	vmbus_flush_queue(bus);
	for (unsigned i = 0; i < bus->nr_channels; i++) {
		struct vmb_channel *ch = bus->channels[i];

		if (ch->open && (ch->kick || ch->completing.count))
			vmbus_channel_service(ch);
	}
}

/* ---- saved state (vmbus/save.h): the library's part of a packet in use ---- */

static u32 total_pfns(const struct vmb_packet *p)
{
	u32 n = 0;

	for (u32 i = 0; i < p->nr_ranges; i++)
		n += p->ranges[i].nr_pfns;
	return n;
}

static u32 saved_reply_len(const struct vmb_packet *p)
{
	return p->state == PKT_COMPLETING ? p->reply_len : 0;
}

u32 vmbus_packet_saved_size(const struct vmb_packet *p)
{
	return (u32)sizeof(struct vmbus_save_packet_lib) +
	       p->nr_ranges * (u32)sizeof(struct vmbus_gpa_range) + total_pfns(p) * 8 +
	       saved_reply_len(p);
}

void vmbus_packet_save(const struct vmb_packet *p, u8 *out)
{
	struct vmbus_save_packet_lib l = {
	    .state = (u8)p->state,
	    .flags = (u8)((p->completion_requested ? VMBUS_SAVED_PKT_COMPLETION_REQUESTED : 0) |
			  (p->deferred ? VMBUS_SAVED_PKT_DEFERRED : 0)),
	    .nr_ranges = p->nr_ranges,
	    .trans_id = p->trans_id,
	    .reply_len = saved_reply_len(p),
	    .nr_pfns = total_pfns(p),
	};

	memcpy(out, &l, sizeof(l));
	out += sizeof(l);
	for (u32 i = 0; i < p->nr_ranges; i++) {
		const struct vmb_gpa_range *r = &p->ranges[i];
		struct vmbus_gpa_range w = {r->byte_count, r->byte_offset};

		memcpy(out, &w, sizeof(w));
		memcpy(out + sizeof(w), r->pfns, r->nr_pfns * sizeof(u64));
		out += sizeof(w) + r->nr_pfns * sizeof(u64);
	}
	if (l.reply_len)
		memcpy(out, p->reply, l.reply_len);
}

/* A saved library part, checked; ranges at buf + sizeof(l), the reply at its end. */
static vmb_status parse_saved(const struct vmbus_host *host, const u8 *buf, u32 size,
			      struct vmbus_save_packet_lib *l)
{
	u32 pos = sizeof(*l), pfns = 0, end;

	if (size < sizeof(*l))
		return VMB_STATUS_DATA_ERROR;
	memcpy(l, buf, sizeof(*l));
	if ((l->state != PKT_INCOMING && l->state != PKT_WAITING && l->state != PKT_COMPLETING) ||
	    (l->flags & ~VMBUS_SAVED_PKT_FLAGS) || l->reserved || l->nr_ranges > VMBUS_MAX_RANGES)
		return VMB_STATUS_DATA_ERROR;
	/* Only the guest's packets carry external data; only completions wait with a reply. */
	if ((l->state != PKT_INCOMING && l->nr_ranges) ||
	    (l->state != PKT_COMPLETING && l->reply_len) ||
	    (l->state == PKT_COMPLETING && !(l->flags & VMBUS_SAVED_PKT_COMPLETION_REQUESTED)) ||
	    l->reply_len > VMBUS_LIMIT_MAX_PACKET || l->reply_len > size - pos)
		return VMB_STATUS_DATA_ERROR;
	end = size - l->reply_len;
	for (u32 i = 0; i < l->nr_ranges; i++) {
		struct vmbus_gpa_range r;
		u64 pages;

		if (end - pos < sizeof(r))
			return VMB_STATUS_DATA_ERROR;
		memcpy(&r, buf + pos, sizeof(r));
		pos += sizeof(r);
		pages = ALIGN_UP((u64)r.byte_offset + r.byte_count, PAGE_SIZE) >> PAGE_SHIFT;
		if (!r.byte_count || r.byte_offset >= PAGE_SIZE ||
		    (end - pos) / sizeof(u64) < pages)
			return VMB_STATUS_DATA_ERROR;
		for (u64 j = 0; j < pages; j++) {
			u64 pfn;

			memcpy(&pfn, buf + pos + j * sizeof(u64), sizeof(pfn));
			if (pfn >= VMBUS_PFN_LIMIT || !host->page(host->ctx, pfn << PAGE_SHIFT))
				return VMB_STATUS_DATA_ERROR;
		}
		pos += (u32)(pages * sizeof(u64));
		pfns += (u32)pages;
	}
	if (pos != end || pfns != l->nr_pfns)
		return VMB_STATUS_DATA_ERROR;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmbus_packet_check_saved(const struct vmbus_host *host, const void *buf, u32 size,
				    u8 *state, u64 *trans_id)
{
	struct vmbus_save_packet_lib l;
	vmb_status st = parse_saved(host, buf, size, &l);

	*state = l.state;
	*trans_id = l.trans_id;
	return st;
}

vmb_status vmb_packet_restore(struct vmb_packet *packet, const void *lib_buf, u32 lib_buf_size)
{
	struct vmbus_save_packet_lib l;
	struct vmb_channel *ch;
	const u8 *in = lib_buf;
	u64 *pfn_out;
	vmb_status st;

	if (!packet || (lib_buf_size && !lib_buf))
		return VMB_STATUS_INVALID_PARAMETER;
	ch = packet->channel;
	if (!ch->restoring || packet->state != PKT_IDLE)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	st = parse_saved(&ch->bus->host, lib_buf, lib_buf_size, &l);
	if (st != VMB_STATUS_SUCCESS)
		return st;
	if (l.state == PKT_WAITING)
		for (struct vmb_packet *w = ch->waiting.head; w; w = w->next)
			if (w->trans_id == l.trans_id)
				return VMB_STATUS_DATA_ERROR;
	if (l.nr_ranges) {
		packet->ranges =
		    pool_zalloc(vmbus_pool(ch->bus),
				l.nr_ranges * sizeof(*packet->ranges) + l.nr_pfns * sizeof(u64));
		if (!packet->ranges)
			return VMB_STATUS_INSUFFICIENT_RESOURCES;
	}
	if (l.reply_len) {
		packet->reply = pool_alloc(vmbus_pool(ch->bus), l.reply_len);
		if (!packet->reply) {
			pool_free(vmbus_pool(ch->bus), packet->ranges);
			packet->ranges = NULL;
			return VMB_STATUS_INSUFFICIENT_RESOURCES;
		}
		memcpy(packet->reply, in + lib_buf_size - l.reply_len, l.reply_len);
	}
	/* No ranges, no array: NULL + 0 is undefined in C (clang's UBSan reports it). */
	pfn_out = packet->ranges ? (u64 *)(packet->ranges + l.nr_ranges) : NULL;
	in += sizeof(l);
	for (u32 i = 0; i < l.nr_ranges; i++) {
		struct vmb_gpa_range *r = &packet->ranges[i];
		struct vmbus_gpa_range w;

		memcpy(&w, in, sizeof(w));
		in += sizeof(w);
		r->byte_count = w.byte_count;
		r->byte_offset = w.byte_offset;
		r->nr_pfns =
		    (u32)(ALIGN_UP((u64)w.byte_offset + w.byte_count, PAGE_SIZE) >> PAGE_SHIFT);
		r->pfns = pfn_out;
		memcpy(pfn_out, in, r->nr_pfns * sizeof(u64));
		in += r->nr_pfns * sizeof(u64);
		pfn_out += r->nr_pfns;
	}
	packet->nr_ranges = l.nr_ranges;
	packet->reply_len = l.reply_len;
	packet->trans_id = l.trans_id;
	packet->completion_requested = l.flags & VMBUS_SAVED_PKT_COMPLETION_REQUESTED;
	packet->deferred = l.flags & VMBUS_SAVED_PKT_DEFERRED;
	packet->state = (enum pkt_state)l.state;
	list_del(packet);
	list_add(l.state == PKT_INCOMING  ? &ch->incoming
		 : l.state == PKT_WAITING ? &ch->waiting
					  : &ch->completing,
		 packet);
	return VMB_STATUS_SUCCESS;
}
