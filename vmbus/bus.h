/*
 * The VMBus server's channel layer, shared by its files and nobody else:
 * the bus of a partition (connection, relids, the queue of messages for the
 * guest) and its channels (offer identity, what the guest made of them,
 * rings, GPADLs). VSPs see none of it (kmcl.h).
 *
 * The files of vmbus/ depend one way, each layer on those before it only
 * (tests/layers.sh checks the objects' symbols):
 *   1. wire.h, save.h   formats: VMBus messages and packets, saved streams
 *      ring.c           ring buffers
 *   2. gpadl.c          GPADL assembly and mappings
 *      bus.c, channel.c the bus and the channel management protocol (this header)
 *   3. packet.c         packets: reading the guest's ring, sending, completing
 *                       (packet.h); it serves the channel layer through
 *                       bus->up (struct vmbus_upcalls)
 *   4. save.c           saving and restoring one channel
 *   5. kmcl.c, snap.c   the API for VSPs and the bus's life cycle; a bus in a
 *      part.c, vsp.c    snapshot; the partition extension and the VSP door
 */
#ifndef BULKHEAD_VMBUS_BUS_H
#define BULKHEAD_VMBUS_BUS_H

#include "vmbus/gpadl.h"
#include "vmbus/ring.h"
#include "vmbus/vmbus.h"

#define VMBUS_NAME_MAX	   16
#define VMBUS_FRIENDLY_MAX 31
#define VMBUS_MSG_QUEUE	   64 /* host -> guest messages waiting for a free SynIC queue */
#define VMBUS_MAX_GPADLS   64 /* per channel */
#define VMBUS_MAX_IN_USE                                                                           \
	256 /* guest packets held (the VSP's, completions waiting) before reading stops */
#define VMBUS_SERVICE_BUDGET                                                                       \
	128 /* guest packets read in one service pass; the next poll goes on                       \
	     */
#define VMBUS_MAX_RANGES	 64   /* per GPA_DIRECT packet */
#define VMBUS_DEFAULT_MAX_PACKET 4096 /* in-band bytes, as Linux's VMBUS_DEFAULT_MAX_PKT_SIZE */
#define VMBUS_LIMIT_MAX_PACKET	 (64u << 10)
#define VMBUS_LIMIT_MAX_EXTERNAL (64u << 20)
#define VMBUS_LOG_BURST		 32  /* lines a guest can cause before they are rate limited */
#define VMBUS_LOG_EVERY		 256 /* then one in this many */

struct pkt_list {
	struct vmb_packet *head, *tail;
	unsigned count;
};

enum offer_state {
	OFFER_NONE,	  /* the guest does not know the channel */
	OFFER_SENT,	  /* OFFERCHANNEL went out */
	OFFER_RESCINDING, /* RESCIND_CHANNELOFFER went out; waiting for RELID_RELEASED */
};

struct vmb_channel {
	struct vmb_bus *bus;
	/* Set-up (kmcl.h setters). */
	bool has_id;
	struct vmb_guid type, instance;
	u8 vtl;
	u16 offer_flags, mmio_megabytes;
	char name[VMBUS_FRIENDLY_MAX + 1];
	u32 flags, max_packet, max_external;
	void *context;
	u32 context_size;
	vmb_process_packet_fn process_packet;
	vmb_processing_complete_fn processing_complete;
	struct vmb_state_callbacks state_cb;
	vmb_save_packet_fn save_packet;
	vmb_restore_packet_fn restore_packet;
	vmb_check_packet_fn check_packet;

	/* Running. */
	bool enabled;
	bool paused;
	u32 relid; /* 0 until enabled */
	enum offer_state offer;
	struct gpadl *gpadls;
	unsigned nr_gpadls;

	/* Open (the guest's OPENCHANNEL was accepted). */
	bool open;
	bool broken; /* a ring was malformed: no more packets either way */
	u32 open_id, target_vp;
	u8 user_data[VMBUS_OPEN_USER_DATA];
	struct gpadl *ring_gpadl;
	u8 **ring_pages;
	struct ring in;	 /* guest -> host */
	struct ring out; /* host -> guest */
	u8 *pkt_buf;	 /* one incoming packet, copied out of the ring */
	u32 pkt_buf_size;
	bool processing; /* inside the read loop: a nested kick only marks `kick` */
	bool kick;	 /* read the ring again (a start or a freed packet slot) */

	struct pkt_list idle, incoming, waiting, completing;
	u64 next_trans_id;
	u64 packets_in, packets_out;

	/* Save and restore (save.c). */
	struct vmbus_save_state *save;	     /* between save_begin and save_end */
	struct vmbus_restore_state *restore; /* the chunks of a stream seen so far */
	bool restoring;			     /* inside restore: vmb_packet_restore is allowed */
};

/* What the channel layer needs of the packet layer above it (packet.c: vmbus_packet_upcalls). */
struct vmbus_upcalls {
	/* Hand the guest's packets to the VSP (unless paused), flush waiting completions. */
	void (*service)(struct vmb_channel *ch);
	/* At close: sent packets waiting for the guest and completions waiting for room go. */
	void (*cancel)(struct vmb_channel *ch);
	/* After the VSP heard `closed`: the guest's packets it still held go. */
	void (*drop_incoming)(struct vmb_channel *ch);
};

struct vmbus_queued_msg {
	u32 size;
	u64 data[VMBUS_MSG_MAX / sizeof(u64)];
};

struct vmb_bus {
	struct vmbus_host host;
	const struct vmbus_upcalls *up;
	char name[VMBUS_NAME_MAX + 1];
	u32 version; /* 0: the guest is not connected */
	u8 msg_sint;
	bool offers_requested;
	struct vmb_channel *channels[VMBUS_MAX_CHANNELS]; /* in allocation order */
	unsigned nr_channels;
	struct vmb_channel *relids[VMBUS_MAX_CHANNELS + 1];
	u64 zombies; /* relids rescinded for channels already freed: wait for RELID_RELEASED */
	struct vmbus_queued_msg *queue;	  /* VMBUS_MSG_QUEUE entries */
	struct gpadl_budget gpadl_budget; /* the pool, and GPADLs being assembled (gpadl.h) */
	unsigned q_head, q_count;
	u64 logged, suppressed;
};

/* The partition's pool, which everything of a bus and its channels comes from. */
static inline struct pool *vmbus_pool(const struct vmb_bus *bus)
{
	return bus->host.pool;
}

/* ---- bus.c ---- */
/* Send a message to the guest now, or queue it behind those already waiting. */
void vmbus_send(struct vmb_bus *bus, const void *msg, u32 size);
void vmbus_flush_queue(struct vmb_bus *bus);
/* One line about guest behaviour, rate limited: a guest could flood the console. */
void vmbus_log(struct vmb_bus *bus, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The channel that holds relid, or NULL. */
struct vmb_channel *vmbus_relid_channel(const struct vmb_bus *bus, u32 relid);

/* ---- channel.c ---- */
/* The lowest relid neither a channel nor a rescinded one holds; 0 if none. */
u32 vmbus_free_relid(const struct vmb_bus *bus);
/* A guest message (header included), already copied into host memory. */
void vmbus_handle_message(struct vmb_bus *bus, const void *msg, u32 size);
/* Offer an enabled channel if the guest has asked for offers. */
void vmbus_offer(struct vmb_channel *ch);
void vmbus_rescind(struct vmb_channel *ch);
/* The guest forgot everything (UNLOAD, reset): channels close, GPADLs and offers go. */
void vmbus_disconnect(struct vmb_bus *bus);
/* Close an open channel: packets go, the VSP hears `closed` if notify. */
void vmbus_channel_close(struct vmb_channel *ch, bool notify);
/* Free every GPADL of a channel (the guest let go of the channel). */
void vmbus_channel_free_gpadls(struct vmb_channel *ch);
/* A GPADL lost a user: finish a teardown the guest asked for meanwhile. */
void vmbus_gpadl_released(struct vmb_channel *ch, struct gpadl *g);
struct gpadl *vmbus_find_gpadl(const struct vmb_channel *ch, u32 id);
/* Can GPADL g hold two rings split at page split? NULL, or why not. */
const char *vmbus_ring_layout_check(const struct gpadl *g, u32 split);
/* Map the rings of ring GPADL g split at page split (an OPENCHANNEL's); NULL, or why not. */
const char *vmbus_channel_map_rings(struct vmb_channel *ch, struct gpadl *g, u32 split);
void vmbus_channel_unmap_rings(struct vmb_channel *ch);

#endif
