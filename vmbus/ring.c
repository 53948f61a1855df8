/*
 * Ring buffers (ring.h). Index arithmetic and signalling rules follow Linux's
 * drivers/hv/ring_buffer.c: a ring is never filled completely (a writer needs
 * strictly more free bytes than it writes), the trailer after each packet
 * holds the packet's start index in its upper half, a writer signals when
 * the ring was empty and the reader's interrupt mask is clear, and a reader
 * signals when it frees space past the writer's pending_send_sz.
 */
#include "vmbus/ring.h"

#include <string.h>

#define INDEX_ALIGN 8

static bool index_ok(const struct ring *r, u32 index)
{
	return index < r->size && IS_ALIGNED(index, INDEX_ALIGN);
}

static u32 advance(const struct ring *r, u32 index, u32 n)
{
	u64 next = (u64)index + n;

	return (u32)(next >= r->size ? next - r->size : next);
}

/* Bytes from `from` up to `to`, going forward around the ring. */
static u32 distance(const struct ring *r, u32 from, u32 to)
{
	return to >= from ? to - from : r->size - from + to;
}

static void copy_from_ring(const struct ring *r, u32 pos, void *buf, u32 n)
{
	u8 *dst = buf;

	while (n) {
		u32 off = pos & (PAGE_SIZE - 1);
		u32 chunk = MIN(n, (u32)PAGE_SIZE - off);

		memcpy(dst, r->data[pos >> PAGE_SHIFT] + off, chunk);
		dst += chunk;
		n -= chunk;
		pos = advance(r, pos, chunk);
	}
}

static void copy_to_ring(const struct ring *r, u32 pos, const void *buf, u32 n)
{
	const u8 *src = buf;

	while (n) {
		u32 off = pos & (PAGE_SIZE - 1);
		u32 chunk = MIN(n, (u32)PAGE_SIZE - off);

		memcpy(r->data[pos >> PAGE_SHIFT] + off, src, chunk);
		src += chunk;
		n -= chunk;
		pos = advance(r, pos, chunk);
	}
}

static enum ring_status bad(struct ring *r, const char *why)
{
	r->why = why;
	return RING_BAD;
}

enum ring_status ring_init(struct ring *r, void *ctl, u8 *const *data, u32 nr_data, bool host_reads)
{
	u32 start;

	memset(r, 0, sizeof(*r));
	r->ctl = ctl;
	r->data = data;
	r->host_reads = host_reads;
	if (!nr_data || nr_data > UINT32_MAX / PAGE_SIZE)
		return bad(r, "no data pages");
	r->size = nr_data * (u32)PAGE_SIZE;
	/* The guest set both indices up before it opened the channel (Linux: both 0). */
	start = host_reads ? r->ctl->read_index : r->ctl->write_index;
	if (!index_ok(r, start))
		return bad(r, host_reads ? "read index out of range" : "write index out of range");
	r->priv = start;
	return RING_OK;
}

enum ring_status ring_peek(struct ring *r, struct vmbus_packet_desc *desc, u32 *len)
{
	u32 write = r->ctl->write_index; /* once: the guest may change it */
	u32 avail, total, off;

	if (!index_ok(r, write))
		return bad(r, "write index out of range");
	avail = distance(r, r->priv, write);
	if (!avail)
		return RING_EMPTY;
	if (avail < sizeof(*desc) + VMBUS_PKT_TRAILER)
		return bad(r, "partial packet");
	copy_from_ring(r, r->priv, desc, sizeof(*desc));
	total = (u32)desc->len8 * VMBUS_PKT_ALIGN;
	off = (u32)desc->offset8 * VMBUS_PKT_ALIGN;
	if (total < sizeof(*desc) || total + VMBUS_PKT_TRAILER > avail)
		return bad(r, "packet length beyond the written bytes");
	if (off < sizeof(*desc) || off > total)
		return bad(r, "packet data offset outside the packet");
	*len = total;
	return RING_OK;
}

void ring_copy_packet(const struct ring *r, u32 off, void *buf, u32 n)
{
	copy_from_ring(r, advance(r, r->priv, off), buf, n);
}

/* Free bytes a writer sees, given the reader's index `read` and the writer's `write`. */
static u32 free_space(const struct ring *r, u32 read, u32 write)
{
	return r->size - distance(r, read, write);
}

bool ring_consume(struct ring *r, u32 len)
{
	u32 write = r->ctl->write_index;
	u32 pending, before, after;

	r->priv = advance(r, r->priv, len + VMBUS_PKT_TRAILER);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the data was read before the index moves */
	r->ctl->read_index = r->priv;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	pending = r->ctl->pending_send_sz;
	if (!pending || !index_ok(r, write))
		return false;
	after = free_space(r, r->priv, write);
	before = after - (len + VMBUS_PKT_TRAILER);
	/* Linux hv_pkt_iter_close: signal once, when the free space crosses pending_send_sz. */
	return before <= pending && after > pending;
}

enum ring_status ring_write(struct ring *r, const struct ring_part *parts, unsigned nr,
			    bool *signal)
{
	u32 read = r->ctl->read_index;
	u64 total = VMBUS_PKT_TRAILER, trailer;
	u32 pos = r->priv, start = r->priv;

	*signal = false;
	if (!index_ok(r, read))
		return bad(r, "read index out of range");
	for (unsigned i = 0; i < nr; i++)
		total += parts[i].len;
	if (!IS_ALIGNED(total, VMBUS_PKT_ALIGN))
		return bad(r, "unaligned packet"); /* a host bug, but never a broken ring */
	if (free_space(r, read, r->priv) <= total) {
		/* Room for it, strictly: hv_pkt_iter_close signals when free space > pending. */
		r->ctl->pending_send_sz = total >= r->size ? r->size - 1 : (u32)total;
		return RING_FULL;
	}
	for (unsigned i = 0; i < nr; i++) {
		copy_to_ring(r, pos, parts[i].buf, parts[i].len);
		pos = advance(r, pos, parts[i].len);
	}
	trailer = (u64)start << VMBUS_PKT_TRAILER_SHIFT;
	copy_to_ring(r, pos, &trailer, sizeof(trailer));
	pos = advance(r, pos, sizeof(trailer));
	r->priv = pos;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the packet is complete before the index moves */
	r->ctl->write_index = pos;
	r->ctl->pending_send_sz = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* Linux hv_signal_on_write: only if the reader had seen the ring empty and wants to know.
	 */
	*signal = !r->ctl->interrupt_mask && r->ctl->read_index == start;
	return RING_OK;
}

u32 ring_used(const struct ring *r)
{
	u32 other;

	if (!r->size)
		return 0;
	if (r->host_reads) {
		other = r->ctl->write_index;
		return index_ok(r, other) ? distance(r, r->priv, other) : 0;
	}
	other = r->ctl->read_index;
	return index_ok(r, other) ? distance(r, other, r->priv) : 0;
}
