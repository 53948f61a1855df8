/*
 * One direction of a channel's ring buffer (Linux drivers/hv/ring_buffer.c
 * layout, vmbus/wire.h): a control page and data pages of guest memory that
 * need not be contiguous on the host, reached through a page list built once
 * at open. The host keeps its own copy of the index it owns (the read index
 * of the guest -> host ring, the write index of the host -> guest ring) and
 * never trusts the guest's copy of it; the index the guest owns is read once
 * per use and checked. Pure logic: no bus, no allocation.
 */
#ifndef BULKHEAD_VMBUS_RING_H
#define BULKHEAD_VMBUS_RING_H

#include "vmbus/wire.h"

enum ring_status {
	RING_OK,
	RING_EMPTY, /* nothing to read */
	RING_FULL,  /* no room to write: pending_send_sz is set, the guest signals when there is */
	RING_BAD,   /* the guest broke the ring: stop using it */
};

struct ring {
	volatile struct vmbus_ring_control *ctl;
	u8 *const *data; /* data pages */
	u32 size;	 /* data bytes */
	u32 priv;	 /* the host's index: read (guest -> host) or write (host -> guest) */
	bool host_reads; /* a guest -> host ring */
	const char *why; /* what was wrong, after RING_BAD */
};

/* One piece of a packet being written. */
struct ring_part {
	const void *buf;
	u32 len;
};

/*
 * Attach to a ring whose control page is ctl and data nr_data pages; host_reads
 * says which index is the host's. RING_BAD if the guest's initial indices are
 * not usable (then r->why says why).
 */
enum ring_status ring_init(struct ring *r, void *ctl, u8 *const *data, u32 nr_data,
			   bool host_reads);

/* ---- the host reads (guest -> host ring) ---- */

/*
 * The next packet: its descriptor (checked: offsets and lengths inside the
 * bytes the guest wrote) and its length without the trailer.
 */
enum ring_status ring_peek(struct ring *r, struct vmbus_packet_desc *desc, u32 *len);
/* Copy bytes [off, off + n) of the packet ring_peek found. */
void ring_copy_packet(const struct ring *r, u32 off, void *buf, u32 n);
/*
 * Consume that packet (len from ring_peek). True if the guest must be
 * signalled: it waits for space (pending_send_sz) and now has it.
 */
bool ring_consume(struct ring *r, u32 len);

/* ---- the host writes (host -> guest ring) ---- */

/*
 * Write one packet made of parts (their total a multiple of 8) and its
 * trailer. *signal: the guest must be signalled (the ring was empty and its
 * interrupt mask is clear). RING_FULL leaves the ring untouched and asks the
 * guest for a signal once the packet fits.
 */
enum ring_status ring_write(struct ring *r, const struct ring_part *parts, unsigned nr,
			    bool *signal);

/* Bytes waiting to be read, by the host's index and the guest's (0 if the guest's is bad). */
u32 ring_used(const struct ring *r);

#endif
