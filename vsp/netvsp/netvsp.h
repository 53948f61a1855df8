/*
 * netvsp: synthetic NICs for Linux's hv_netvsc (docs/netvsp.md). A
 * partition with `nic = lan, dmz` gets one NIC channel per listed switch,
 * in order, each a port on that switch (vsp/vswitch/vswitch.h): a frame
 * the guest sends goes into the switch, a frame the switch queued for the
 * port goes to the guest. This header is what the console and the tests
 * see of a NIC.
 */
#ifndef BULKHEAD_VSP_NETVSP_H
#define BULKHEAD_VSP_NETVSP_H

#include "vmbus/vsp.h"

#define NETVSP_NICS_MAX	 4    /* NICs per partition */
#define NETVSP_MTU	 1500 /* payload bytes of a frame */
#define NETVSP_ETH_HLEN	 14
#define NETVSP_FRAME_MAX (NETVSP_MTU + NETVSP_ETH_HLEN)
#define NETVSP_FRAME_MIN NETVSP_ETH_HLEN
/* RNDIS answers and indications waiting for a free receive section, per NIC; more are dropped. */
#define NETVSP_RX_QUEUE 16

struct netvsp_nic;

struct netvsp_stats {
	u64 tx_packets, tx_bytes; /* from the guest, taken by the switch */
	u64 rx_packets, rx_bytes; /* to the guest, announced in its receive buffer */
	u64 tx_dropped;		  /* from the guest, refused (bad, too big, by the switch) */
	u64 rx_dropped;		  /* to the guest, lost (no buffer, queue full, too big) */
	u64 bad_messages;	  /* NVSP or RNDIS messages refused */
};

/* The partition's i-th NIC, or NULL. */
struct netvsp_nic *netvsp_nic(struct vsp *v, unsigned i);
void netvsp_get_stats(const struct netvsp_nic *nic, struct netvsp_stats *out);
void netvsp_get_mac(const struct netvsp_nic *nic, u8 mac[6]);
const char *netvsp_switch_name(const struct netvsp_nic *nic);
/* Whether the guest's RNDIS is up with a packet filter set (frames are wanted). */
bool netvsp_ready(const struct netvsp_nic *nic);

/* `mac = ...`: a list of unicast MACs "00:15:5d:12:34:56, ..."; 0, or -1 with why in err. */
int netvsp_parse_macs(const char *text, u8 (*macs)[6], unsigned max, unsigned *n, char *err,
		      size_t errlen);

#endif
