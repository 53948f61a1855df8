/*
 * The saved state of one channel (kmcl.h vmb_channel_save_* and
 * vmb_channel_restore_from_buffer, docs/kmcl.md "Saving a channel"),
 * declared once. It ends up in snapshot images, so it is versioned and
 * checksummed, and restore trusts none of it. Little-endian, packed:
 *
 *   header | channel record | GPADL record... | mapping record... | packet record...
 *
 * Every record starts with struct vmbus_save_record; a reader skips nothing
 * and accepts no unknown kind. The pieces save_continue never splits are the
 * header and each record. Enum values of the library are never written as
 * they are: the VMBUS_SAVED_* constants below stand for them (save.c has a
 * table each way).
 *
 * Growth: a version adds record kinds or fields only, and a reader takes
 * every version from VMBUS_SAVE_VERSION_MIN to its own (1: no mapping
 * records). A newer version is refused with REVISION_MISMATCH: an older
 * reader cannot know what it would lose.
 */
#ifndef BULKHEAD_VMBUS_SAVE_H
#define BULKHEAD_VMBUS_SAVE_H

#include "kernel/snap_state.h"
#include "vmbus/wire.h"

#define VMBUS_SAVE_MAGIC	0x43424d56u /* "VMBC" */
#define VMBUS_SAVE_VERSION	2	    /* 2 added VMBUS_SAVE_MAPPING */
#define VMBUS_SAVE_VERSION_MIN	1
#define VMBUS_SAVE_MAX_MAPPINGS 64	   /* VSP mappings of one channel's GPADLs */
#define VMBUS_SAVE_MAX		(4u << 20) /* a stream larger than this is refused as corrupt */
/* Records a reader takes in one stream; a save with more is refused (a guest can queue more). */
#define VMBUS_SAVE_MAX_RECORDS                                                                     \
	(1 + VMBUS_MAX_GPADLS + VMBUS_SAVE_MAX_MAPPINGS + 4 * VMBUS_MAX_IN_USE)

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
	VMBUS_SAVE_MAPPING = 4, /* version 2 */
};

struct vmbus_save_record {
	u16 kind;
	u16 reserved;
	u32 size; /* of the body that follows */
} __packed;
_Static_assert(sizeof(struct vmbus_save_record) == 8, "save record");

/* The channel and what the guest made of it; the bus's connection comes along. */
#define VMBUS_SAVED_OFFER_NONE	     0 /* the guest does not know the channel */
#define VMBUS_SAVED_OFFER_SENT	     1
#define VMBUS_SAVED_OFFER_RESCINDING 2 /* waiting for the guest's RELID_RELEASED */
#define VMBUS_SAVED_ENABLED	     (1u << 0)
#define VMBUS_SAVED_OPEN	     (1u << 1)
#define VMBUS_SAVED_PAUSED	     (1u << 2)
#define VMBUS_SAVED_BROKEN	     (1u << 3)
#define VMBUS_SAVED_OFFERS_REQUESTED (1u << 4)
#define VMBUS_SAVED_CHANNEL_FLAGS    0x1fu
struct vmbus_save_channel {
	u32 bus_version; /* negotiated protocol, 0: not connected */
	u8 msg_sint;
	u8 offer_state; /* VMBUS_SAVED_OFFER_* */
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

/*
 * A VSP's mapping of a ready GPADL of the channel (vmb_channel_map_gpadl),
 * one record each. Restore maps it again and hands it to the VSP through
 * vmb_channel_restored_mapping; one the VSP does not take is unmapped.
 */
struct vmbus_save_mapping {
	u32 gpadl;
	u32 reserved;
} __packed;
_Static_assert(sizeof(struct vmbus_save_mapping) == 8, "saved mapping");

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
#define VMBUS_SAVED_PKT_INCOMING	     1 /* from the guest, not yet completed */
#define VMBUS_SAVED_PKT_WAITING		     2 /* sent; waits for the guest's completion */
#define VMBUS_SAVED_PKT_COMPLETING	     3 /* completed; waits for ring space */
struct vmbus_save_packet_lib {
	u8 state; /* VMBUS_SAVED_PKT_INCOMING, _WAITING or _COMPLETING */
	u8 flags; /* VMBUS_SAVED_PKT_* */
	u16 reserved;
	u32 nr_ranges;
	u64 trans_id;
	u32 reply_len;
	u32 nr_pfns; /* of all ranges */
} __packed;
_Static_assert(sizeof(struct vmbus_save_packet_lib) == 24, "saved packet, library part");

/*
 * A whole bus in a partition snapshot (vmbus/snap.c), in the kernel's record
 * framing and growth rule (kernel/snap_state.h): a VMBUS_TAG_BUS record,
 * nr_msgs VMBUS_TAG_MSG records (the control messages waiting for a free
 * SynIC slot, oldest first), then nr_channels VMBUS_TAG_CHANNEL records,
 * each followed by `size` bytes of that channel's stream (above). Restore
 * pairs a saved channel with the bus's by (type, instance); one the bus
 * does not have is refused (the guest's driver for it would lose its
 * device), and one the snapshot does not have is offered anew.
 */
#define VMBUS_TAG_BUS			 SNAP_TAG('V', 'B', 'U', 'S')
#define VMBUS_TAG_MSG			 SNAP_TAG('V', 'M', 'S', 'G')
#define VMBUS_TAG_CHANNEL		 SNAP_TAG('V', 'C', 'H', 'N')
#define VMBUS_SAVED_BUS_OFFERS_REQUESTED (1u << 0)
struct vmbus_saved_bus {
	u32 version; /* negotiated protocol, 0: not connected */
	u8 msg_sint;
	u8 flags; /* VMBUS_SAVED_BUS_* */
	u16 reserved;
	u64 zombies; /* relids rescinded for channels already gone: bit n, relid n */
	u32 nr_msgs, nr_channels;
} __packed;
_Static_assert(sizeof(struct vmbus_saved_bus) == 24, "saved bus");

struct vmbus_saved_msg {
	u32 size; /* of data, the header included */
	u32 reserved;
	u8 data[VMBUS_MSG_MAX];
} __packed;
_Static_assert(sizeof(struct vmbus_saved_msg) == 248, "saved bus message");

#define VMBUS_SAVED_CHANNEL_WAS_PAUSED (1u << 0) /* by its VSP: stays paused */
struct vmbus_saved_bus_channel {
	struct vmb_guid type, instance;
	u32 flags; /* VMBUS_SAVED_CHANNEL_* */
	u32 size;  /* of the stream that follows the record */
} __packed;
_Static_assert(sizeof(struct vmbus_saved_bus_channel) == 40, "saved bus channel");

/* What vmbus_snap_save returns: len bytes of the records above. */
struct vmbus_snap {
	struct pool *pool; /* the partition's, which it came from */
	u32 len;
	u8 buf[];
};

/* A bus protocol version this server speaks (0: not connected). */
bool vmbus_saved_version_ok(u32 version);

/* save.c: drop a save or restore in progress (at cleanup). */
struct vmb_channel;
void vmbus_save_discard(struct vmb_channel *ch);

/*
 * save.c, for the check phase of a bus restore (vmbus/snap.c): a whole
 * stream checked as vmb_channel_restore_from_buffer checks it on ch (the
 * VSP's check_packet included), changing nothing. What it needs of the bus
 * is left for the caller to weigh against the other channels: the bus is
 * disconnected before the channels are rebuilt, so only the saved channels
 * among themselves can conflict.
 */
struct vmbus_stream_needs {
	u32 relid;	 /* 0: none */
	u32 bus_version; /* 0: saved while not connected */
};
vmb_status vmbus_save_check_stream(const struct vmb_channel *ch, const void *buf, u32 size,
				   struct vmbus_stream_needs *needs);

#endif
