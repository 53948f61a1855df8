/*
 * The VMBus server's packet layer (packet.c), above the channel layer
 * (bus.h): packet objects, reading the guest's ring, sending, completing,
 * and the library's part of a saved packet. Nothing outside vmbus/
 * includes it.
 */
#ifndef BULKHEAD_VMBUS_PACKET_H
#define BULKHEAD_VMBUS_PACKET_H

#include "vmbus/bus.h"

enum pkt_state {
	PKT_IDLE,	/* the VSP's, not sent */
	PKT_INCOMING,	/* from the guest, not yet completed */
	PKT_WAITING,	/* sent with a completion request; waits for the guest's VM_PKT_COMP */
	PKT_COMPLETING, /* completed by the VSP; the completion waits for ring space */
};

struct vmb_packet {
	struct vmb_channel *channel;
	struct vmb_packet *prev, *next;
	struct pkt_list *list;
	enum pkt_state state;
	u64 trans_id;
	bool completion_requested; /* incoming: the guest wants a VM_PKT_COMP */
	bool deferred;
	bool in_completion, free_requested; /* vmb_packet_free inside its completion routine */
	vmb_completion_fn completion;
	u32 nr_ranges;
	struct vmb_gpa_range *ranges; /* incoming external data; PFNs follow in the same block */
	void *reply;		      /* PKT_COMPLETING: the completion's payload */
	u32 reply_len;
	u8 context[VMB_PACKET_CONTEXT_SIZE] __aligned(8);
};

/* Hand the guest's packets to the VSP (unless paused) and flush waiting completions. */
void vmbus_channel_service(struct vmb_channel *ch);
/* Stop a channel whose ring the guest broke. */
void vmbus_channel_break(struct vmb_channel *ch, const char *why);
/* At close: sent packets waiting for the guest complete with INVALID_DEVICE_STATE and go, so
 * do completions waiting for ring space. */
void vmbus_packets_cancel(struct vmb_channel *ch);
/* After the VSP heard `closed`: the guest's packets it still held go. */
void vmbus_packets_drop_incoming(struct vmb_channel *ch);
/* At cleanup: the VSP's unsent packets go too. */
void vmbus_packets_free_idle(struct vmb_channel *ch);
/* The library's part of a packet in use, as vmbus/save.h lays it out (out: its size bytes). */
u32 vmbus_packet_saved_size(const struct vmb_packet *p);
void vmbus_packet_save(const struct vmb_packet *p, u8 *out);
/* Check a saved library part: SUCCESS, or DATA_ERROR. Its state and trans id for the caller. */
vmb_status vmbus_packet_check_saved(const struct vmbus_host *host, const void *buf, u32 size,
				    u8 *state, u64 *trans_id);

/* The channel layer's view of this one (set by vmbus_create). */
extern const struct vmbus_upcalls vmbus_packet_upcalls;

#endif
