/*
 * netvsp: synthetic NICs for Linux's hv_netvsc (docs/netvsp.md). A
 * partition with `nic = lan, dmz` gets one NIC channel per listed switch,
 * in order. This header is the NIC's side of the data path, which the
 * virtual switch (or a test, or a loopback) drives: a frame the guest sends
 * goes out through the port's tx callback; netvsp_rx delivers one in.
 */
#ifndef BULKHEAD_VSP_NETVSP_H
#define BULKHEAD_VSP_NETVSP_H

#include "vmbus/vsp.h"

#define NETVSP_NICS_MAX	 4    /* NICs per partition */
#define NETVSP_MTU	 1500 /* payload bytes of a frame */
#define NETVSP_ETH_HLEN	 14
#define NETVSP_FRAME_MAX (NETVSP_MTU + NETVSP_ETH_HLEN)
#define NETVSP_FRAME_MIN NETVSP_ETH_HLEN
/* Frames (and RNDIS answers) waiting for a free receive section, per NIC; more are dropped. */
#define NETVSP_RX_QUEUE 16

struct netvsp_nic;

/* The other end of a NIC's port: the switch. */
struct netvsp_port_ops {
	/* A frame the guest sent (valid during the call only). */
	void (*tx)(void *ctx, struct netvsp_nic *nic, const u8 *frame, u32 len);
};

struct netvsp_stats {
	u64 tx_packets, tx_bytes; /* from the guest, handed to the port */
	u64 rx_packets, rx_bytes; /* to the guest, announced in its receive buffer */
	u64 tx_dropped;		  /* from the guest, refused (bad, too big, no port) */
	u64 rx_dropped;		  /* to the guest, lost (no buffer, queue full, too big) */
	u64 bad_messages;	  /* NVSP or RNDIS messages refused */
};

/* The partition's i-th NIC, or NULL. */
struct netvsp_nic *netvsp_nic(struct vsp *v, unsigned i);
void netvsp_attach(struct netvsp_nic *nic, const struct netvsp_port_ops *ops, void *ctx);
/* A frame for the guest: 0 when it was announced or queued, -1 when it was dropped. */
int netvsp_rx(struct netvsp_nic *nic, const u8 *frame, u32 len);
/* The link as the guest sees it (an RNDIS media indication when it changes). */
void netvsp_set_link(struct netvsp_nic *nic, bool up);
void netvsp_get_stats(const struct netvsp_nic *nic, struct netvsp_stats *out);
void netvsp_get_mac(const struct netvsp_nic *nic, u8 mac[6]);
const char *netvsp_switch_name(const struct netvsp_nic *nic);
/* Whether the guest's RNDIS is up with a packet filter set (frames are wanted). */
bool netvsp_ready(const struct netvsp_nic *nic);

/* `mac = ...`: a list of unicast MACs "00:15:5d:12:34:56, ..."; 0, or -1 with why in err. */
int netvsp_parse_macs(const char *text, u8 (*macs)[6], unsigned max, unsigned *n, char *err,
		      size_t errlen);

#endif
