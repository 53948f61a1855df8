/*
 * Inside netvsp: one NIC's state, shared by netvsp.c (the VSP, NVSP, the
 * receive path) and rndis.c (the RNDIS messages inside NVSP).
 */
#ifndef BULKHEAD_VSP_NETVSP_NIC_H
#define BULKHEAD_VSP_NETVSP_NIC_H

#include "vsp/netvsp/netvsp.h"
#include "vsp/netvsp/proto.h"
#include "vsp/vswitch/vswitch.h"

/* Receive buffer sections netvsp hands out: Linux's 1728 bytes (hyperv_net.h, "same as host"). */
#define NETVSP_RX_SECTION      1728
#define NETVSP_RX_SECTIONS_MAX 4096 /* tracked; a larger buffer is answered with this many */
#define NETVSP_TX_SECTION      6144 /* hyperv_net.h NETVSC_SEND_SECTION_SIZE */
/* The largest RNDIS message netvsp takes from the guest: one send section. */
#define NETVSP_TX_MAX NETVSP_TX_SECTION
/* The largest message netvsp puts in a receive section: a frame with its RNDIS header. */
#define NETVSP_MSG_MAX (sizeof(struct rndis_packet) + NETVSP_FRAME_MAX)
_Static_assert(NETVSP_MSG_MAX <= NETVSP_RX_SECTION, "a frame fits a receive section");

/* A message for the guest, waiting for a free receive section. */
struct netvsp_msg {
	u32 len;
	u32 channel_type; /* NVSP_CHANNEL_DATA or _CONTROL */
	u8 data[NETVSP_MSG_MAX];
};

/* A guest packet whose completion the library could not take yet (out of host memory). */
#define NETVSP_OWED 4
struct netvsp_owed {
	struct vmb_packet *packet;
	bool failed;
	u32 len;
	u8 reply[NVSP_MESSAGE_SIZE];
};

struct netvsp_nic {
	struct vsp *vsp;
	struct vmb_channel *channel;
	unsigned index;
	char sw[CFG_ITEM_MAX + 1]; /* the switch `nic =` names */
	u8 mac[6];
	bool open;
	/* NVSP */
	u32 version; /* negotiated; 0 before INIT */
	u32 ndis_major, ndis_minor, mtu;
	bool table_due; /* the send indirection table still has to go out */
	struct vmb_gpadl_mapping *rx_map;
	u32 rx_gpadl; /* the GPADL id behind rx_map (a snapshot names it) */
	u16 rx_id;
	u32 rx_sections, rx_busy, rx_gen, rx_hint;
	u64 rx_bitmap[NETVSP_RX_SECTIONS_MAX / 64];
	struct vmb_gpadl_mapping *tx_map;
	u32 tx_gpadl;
	u16 tx_id;
	u32 tx_sections;
	/* RNDIS */
	bool rndis_up;
	u32 filter;
	bool link_up; /* the cable: always plugged in today */
	bool link_told;
	/* the port */
	struct vsw_port *port; /* on the switch `sw` names, from create to destroy */
	unsigned q_head, q_count;
	struct netvsp_msg q[NETVSP_RX_QUEUE];
	u8 scratch[NETVSP_TX_MAX]; /* what netvsp parses of a guest message, copied out */
	unsigned nr_owed;
	struct netvsp_owed owed[NETVSP_OWED];
	bool paused; /* by netvsp, while completions are owed */
	struct netvsp_stats stats;
	bool bad_logged;
	/* saved state: the mappings a restore gave back in `opened`, until the record names them */
	unsigned nr_restored;
	u32 restored_id[2];
	struct vmb_gpadl_mapping *restored[2];
};

/* The instance (vsp_state): its NICs; each channel's context points to its NIC. */
struct netvsp_dev {
	struct vsp *vsp;
	unsigned nr_nics;
	struct netvsp_nic nic[NETVSP_NICS_MAX];
};

/* What a receive packet carries in its context (VMB_PACKET_CONTEXT_SIZE), for its completion. */
#define NETVSP_RX_MAGIC 0x5852564eu /* "NVRX" */
struct netvsp_rx_ctx {
	u32 magic, gen, section;
};

/* netvsp.c: a receive packet's completion: its section is free again. */
void netvsp_rx_completed(struct vmb_packet *packet, vmb_status status, const void *reply,
			 u32 reply_len);
/* netvsp.c: a section in use by the guest, or free again (rx_busy counted). */
void netvsp_rx_mark(struct netvsp_nic *n, u32 section, bool busy);
bool netvsp_rx_is_busy(const struct netvsp_nic *n, u32 section);
/* netvsp.c: the NIC behind a channel. */
struct netvsp_nic *netvsp_nic_of(struct vmb_channel *channel);
/* netvsp.c: a message for the guest's receive buffer; 0, or -1 if dropped (counted). */
int netvsp_queue(struct netvsp_nic *n, const void *msg, u32 len, u32 channel_type);
/* netvsp.c: a refused guest message, counted and logged once. */
void netvsp_bad(struct netvsp_nic *n, const char *why);
/* save.c: the packet callbacks (registered by make_channel) and the instance's hooks. */
vmb_status netvsp_save_packet(struct vmb_channel *channel, struct vmb_packet *packet, void *buf,
			      u32 size, u32 *needed);
vmb_status netvsp_check_packet(struct vmb_channel *channel, u32 index, const void *buf, u32 size);
vmb_status netvsp_restore_packet(struct vmb_channel *channel, const void *lib, u32 lib_size,
				 const void *buf, u32 size);
/* save.c: in `opened`: the mappings a restore gives back, kept for netvsp_restore. */
void netvsp_take_restored(struct netvsp_nic *n);
/* save.c: in `closed` (a restore rolled back) and after the record: those not named, unmapped. */
void netvsp_drop_restored(struct netvsp_nic *n);
/* save.c: the instance's record (the door's save / check / restore hooks). */
vmb_status netvsp_save(struct vsp *v, void *buf, u32 size, u32 *needed);
vmb_status netvsp_check(struct vsp *v, const void *buf, u32 size);
vmb_status netvsp_restore(struct vsp *v, const void *buf, u32 size);
/* netvsp.c: an NVSP version netvsp offers. */
bool netvsp_version_known(u32 v);
/*
 * One RNDIS message the guest sent, `len` bytes as carried. Its first
 * `have` bytes are copied out into `msg`: every byte netvsp parses. The
 * rest (a data packet's frame) may still be in guest memory: `read` copies
 * bytes [off, off + count) of the message, off >= have, and is called only
 * to fill the switch's entry, so a frame is copied once on its way in.
 */
struct netvsp_tx {
	const u8 *msg;
	u32 have, len;
	vmb_status (*read)(void *ctx, u32 off, void *dst, u32 count);
	void *ctx;
};
/* rndis.c: the NVSP status to answer for one message. */
u32 netvsp_rndis(struct netvsp_nic *n, const struct netvsp_tx *m);
/* netvsp.c: the port's link follows netvsp_ready (after anything that may change it). */
void netvsp_port_sync(struct netvsp_nic *n);
/* rndis.c: the media indication for the link as it is now. */
void netvsp_indicate_link(struct netvsp_nic *n);

#endif
