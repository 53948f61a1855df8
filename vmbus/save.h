/*
 * The saved state of one channel (kmcl.h vmb_channel_save_* and
 * vmb_channel_restore_from_buffer, spec/kmcl.md "Saving a channel"),
 * declared once. It ends up in snapshot images, so it is versioned and
 * checksummed, and restore trusts none of it. Little-endian, packed:
 *
 *   header | channel record | GPADL record... | packet record...
 *
 * Every record starts with struct vmbus_save_record; a reader skips nothing
 * and accepts no unknown kind. The pieces save_continue never splits are the
 * header and each record.
 */
#ifndef BULKHEAD_VMBUS_SAVE_H
#define BULKHEAD_VMBUS_SAVE_H

#include "vmbus/wire.h"

#define VMBUS_SAVE_MAGIC   0x43424d56u /* "VMBC" */
#define VMBUS_SAVE_VERSION 1
#define VMBUS_SAVE_MAX	   (4u << 20) /* a stream larger than this is refused as corrupt */

struct vmbus_save_header {
	u32 magic;
	u16 version;
	u16 header_size;
	u32 total_size; /* header included */
	u32 crc;	/* CRC-32 (IEEE) of the bytes after the header */
	struct vmb_guid type, instance;
	u32 nr_records;
	u32 reserved;
} __packed;
_Static_assert(sizeof(struct vmbus_save_header) == 56, "save header");

enum vmbus_save_kind {
	VMBUS_SAVE_CHANNEL = 1,
	VMBUS_SAVE_GPADL = 2,
	VMBUS_SAVE_PACKET = 3,
};

struct vmbus_save_record {
	u16 kind;
	u16 reserved;
	u32 size; /* of the body that follows */
} __packed;
_Static_assert(sizeof(struct vmbus_save_record) == 8, "save record");

/* The channel and what the guest made of it; the bus's connection comes along. */
#define VMBUS_SAVED_ENABLED	     (1u << 0)
#define VMBUS_SAVED_OPEN	     (1u << 1)
#define VMBUS_SAVED_PAUSED	     (1u << 2)
#define VMBUS_SAVED_BROKEN	     (1u << 3)
#define VMBUS_SAVED_OFFERS_REQUESTED (1u << 4)
#define VMBUS_SAVED_CHANNEL_FLAGS    0x1fu
struct vmbus_save_channel {
	u32 bus_version; /* negotiated protocol, 0: not connected */
	u8 msg_sint;
	u8 offer_state; /* enum offer_state of vmbus/bus.h */
	u16 flags;	/* VMBUS_SAVED_* */
	u32 relid;
	u32 open_id, target_vp;
	u32 ring_gpadl, ring_split; /* split: first page of the host -> guest ring */
	u32 in_read, out_write;	    /* the host's own ring indices */
	u64 next_trans_id;
	u8 user_data[VMBUS_OPEN_USER_DATA];
} __packed;
_Static_assert(sizeof(struct vmbus_save_channel) == 164, "saved channel");

/* A GPADL as the guest described it: range_count ranges in `words` u64s, `filled` of them sent. */
#define VMBUS_SAVED_GPADL_READY	   (1u << 0)
#define VMBUS_SAVED_GPADL_TEARDOWN (1u << 1)
struct vmbus_save_gpadl {
	u32 id;
	u16 flags;
	u16 range_count;
	u32 words, filled; /* then `filled` u64 words */
} __packed;
_Static_assert(sizeof(struct vmbus_save_gpadl) == 16, "saved GPADL");

/* A packet in use: the library's part (lib_size bytes), then the VSP's (vsp_size). */
struct vmbus_save_packet {
	u32 lib_size, vsp_size;
} __packed;
_Static_assert(sizeof(struct vmbus_save_packet) == 8, "saved packet");

/*
 * The library's part of a packet (what vmb_packet_restore takes): then
 * nr_ranges struct vmbus_gpa_range each followed by its PFNs, then
 * reply_len bytes of a completion waiting for ring space.
 */
#define VMBUS_SAVED_PKT_COMPLETION_REQUESTED (1u << 0)
#define VMBUS_SAVED_PKT_DEFERRED	     (1u << 1)
#define VMBUS_SAVED_PKT_FLAGS		     0x3u
struct vmbus_save_packet_lib {
	u8 state; /* enum pkt_state of vmbus/bus.h: INCOMING, WAITING or COMPLETING */
	u8 flags; /* VMBUS_SAVED_PKT_* */
	u16 reserved;
	u32 nr_ranges;
	u64 trans_id;
	u32 reply_len;
	u32 nr_pfns; /* of all ranges */
} __packed;
_Static_assert(sizeof(struct vmbus_save_packet_lib) == 24, "saved packet, library part");

/* save.c: drop a save or restore in progress (at cleanup). */
struct vmb_channel;
void vmbus_save_discard(struct vmb_channel *ch);

#endif
