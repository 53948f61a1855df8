/*
 * VMBus wire structures, declared once: the channel-management messages that
 * travel in SynIC messages, the ring buffer control page and the packets in
 * the rings. Layouts follow Linux's include/linux/hyperv.h (struct
 * vmbus_channel_*, struct hv_ring_buffer, struct vmpacket_descriptor, struct
 * gpa_range) and drivers/hv/hyperv_vmbus.h, which match Hyper-V's; names of
 * the numbers follow them too. Everything is little-endian and packed.
 */
#ifndef BULKHEAD_VMBUS_WIRE_H
#define BULKHEAD_VMBUS_WIRE_H

#include "kernel/types.h"
#include "vmbus/kmcl.h"

#include <stddef.h>

/* Protocol versions, major << 16 | minor (hyperv.h VERSION_*). */
#define VMBUS_VERSION_WIN8    0x00020004u /* 2.4: the oldest we serve (events in the SIEF page) */
#define VMBUS_VERSION_WIN8_1  0x00030000u
#define VMBUS_VERSION_WIN10   0x00040000u
#define VMBUS_VERSION_WIN10_1 0x00040001u
#define VMBUS_VERSION_V5      0x00050000u /* from here: message connection 4, msg_sint */
#define VMBUS_VERSION_V5_1    0x00050001u
#define VMBUS_VERSION_V5_2    0x00050002u
#define VMBUS_VERSION_V5_3    0x00050003u /* MODIFYCHANNEL is answered */

/* Channel message types (hyperv.h enum vmbus_channel_message_type). */
#define VMBUS_MSG_INVALID		 0
#define VMBUS_MSG_OFFERCHANNEL		 1
#define VMBUS_MSG_RESCIND_CHANNELOFFER	 2
#define VMBUS_MSG_REQUESTOFFERS		 3
#define VMBUS_MSG_ALLOFFERS_DELIVERED	 4
#define VMBUS_MSG_OPENCHANNEL		 5
#define VMBUS_MSG_OPENCHANNEL_RESULT	 6
#define VMBUS_MSG_CLOSECHANNEL		 7
#define VMBUS_MSG_GPADL_HEADER		 8
#define VMBUS_MSG_GPADL_BODY		 9
#define VMBUS_MSG_GPADL_CREATED		 10
#define VMBUS_MSG_GPADL_TEARDOWN	 11
#define VMBUS_MSG_GPADL_TORNDOWN	 12
#define VMBUS_MSG_RELID_RELEASED	 13
#define VMBUS_MSG_INITIATE_CONTACT	 14
#define VMBUS_MSG_VERSION_RESPONSE	 15
#define VMBUS_MSG_UNLOAD		 16
#define VMBUS_MSG_UNLOAD_RESPONSE	 17
#define VMBUS_MSG_TL_CONNECT_REQUEST	 21
#define VMBUS_MSG_MODIFYCHANNEL		 22
#define VMBUS_MSG_TL_CONNECT_RESULT	 23
#define VMBUS_MSG_MODIFYCHANNEL_RESPONSE 24
#define VMBUS_MSG_COUNT			 25

/* A message is at most one SynIC payload (hyperv_vmbus.h MAX_SIZE_CHANNEL_MESSAGE). */
#define VMBUS_MSG_MAX 240

/* Status in OPENCHANNEL_RESULT / GPADL_CREATED / MODIFYCHANNEL_RESPONSE: 0 or an NTSTATUS. */
#define VMBUS_STATUS_OK	    0u
#define VMBUS_STATUS_FAILED 0xC0000001u /* STATUS_UNSUCCESSFUL; Linux only tests for non-zero */

/* hyperv.h struct vmbus_channel_message_header */
struct vmbus_msg_header {
	u32 type;
	u32 padding;
} __packed;
_Static_assert(sizeof(struct vmbus_msg_header) == 8, "vmbus_channel_message_header");

/* Offer flags (hyperv.h VMBUS_CHANNEL_*), for vmb_server_channel_init_set_flags. */
#define VMBUS_OFFER_ENUMERATE_DEVICE_INTERFACE 0x0001
#define VMBUS_OFFER_NAMED_PIPE_MODE	       0x0010
#define VMBUS_OFFER_USER_DEFINED_BYTES	       120

/* hyperv.h struct vmbus_channel_offer_channel (with struct vmbus_channel_offer inside). */
struct vmbus_msg_offer {
	struct vmbus_msg_header header;
	struct vmb_guid type;
	struct vmb_guid instance;
	u64 reserved1, reserved2;
	u16 flags;
	u16 mmio_megabytes;
	u8 user_defined[VMBUS_OFFER_USER_DEFINED_BYTES];
	u16 sub_channel_index;
	u16 reserved3;
	u32 child_relid;
	u8 monitor_id;
	u8 monitor_allocated;	    /* bit 0 */
	u16 is_dedicated_interrupt; /* bit 0 */
	u32 connection_id;
} __packed;
_Static_assert(sizeof(struct vmbus_msg_offer) == 196, "vmbus_channel_offer_channel");
_Static_assert(offsetof(struct vmbus_msg_offer, flags) == 56, "offer chn_flags");
_Static_assert(offsetof(struct vmbus_msg_offer, child_relid) == 184, "offer child_relid");
_Static_assert(offsetof(struct vmbus_msg_offer, connection_id) == 192, "offer connection_id");

/* hyperv.h struct vmbus_channel_rescind_offer, _close_channel, _relid_released */
struct vmbus_msg_relid {
	struct vmbus_msg_header header;
	u32 child_relid;
} __packed;
_Static_assert(sizeof(struct vmbus_msg_relid) == 12, "rescind / close / relid released");

/* hyperv.h struct vmbus_channel_open_channel */
#define VMBUS_OPEN_USER_DATA 120
struct vmbus_msg_open {
	struct vmbus_msg_header header;
	u32 child_relid;
	u32 open_id;
	u32 ring_gpadl;
	u32 target_vp;
	u32 downstream_page_offset; /* first page of the host -> guest ring */
	u8 user_data[VMBUS_OPEN_USER_DATA];
} __packed;
_Static_assert(sizeof(struct vmbus_msg_open) == 148, "vmbus_channel_open_channel");
#define VMBUS_OPEN_MIN_SIZE offsetof(struct vmbus_msg_open, user_data)

/* hyperv.h struct vmbus_channel_open_result */
struct vmbus_msg_open_result {
	struct vmbus_msg_header header;
	u32 child_relid;
	u32 open_id;
	u32 status;
} __packed;
_Static_assert(sizeof(struct vmbus_msg_open_result) == 20, "vmbus_channel_open_result");

/* hyperv.h struct gpa_range: one range of a GPADL or of a GPA_DIRECT packet, then its PFNs. */
struct vmbus_gpa_range {
	u32 byte_count;
	u32 byte_offset; /* into the first page */
} __packed;
_Static_assert(sizeof(struct vmbus_gpa_range) == 8, "gpa_range");

/* hyperv.h struct vmbus_channel_gpadl_header: then range_buflen bytes of ranges and PFNs. */
struct vmbus_msg_gpadl_header {
	struct vmbus_msg_header header;
	u32 child_relid;
	u32 gpadl;
	u16 range_buflen;
	u16 range_count;
} __packed;
_Static_assert(sizeof(struct vmbus_msg_gpadl_header) == 20, "vmbus_channel_gpadl_header");

/* hyperv.h struct vmbus_channel_gpadl_body: then PFNs. Linux leaves msg_number 0. */
struct vmbus_msg_gpadl_body {
	struct vmbus_msg_header header;
	u32 msg_number;
	u32 gpadl;
} __packed;
_Static_assert(sizeof(struct vmbus_msg_gpadl_body) == 16, "vmbus_channel_gpadl_body");

/* hyperv.h struct vmbus_channel_gpadl_created */
struct vmbus_msg_gpadl_created {
	struct vmbus_msg_header header;
	u32 child_relid;
	u32 gpadl;
	u32 status;
} __packed;
_Static_assert(sizeof(struct vmbus_msg_gpadl_created) == 20, "vmbus_channel_gpadl_created");

/* hyperv.h struct vmbus_channel_gpadl_teardown */
struct vmbus_msg_gpadl_teardown {
	struct vmbus_msg_header header;
	u32 child_relid;
	u32 gpadl;
} __packed;
_Static_assert(sizeof(struct vmbus_msg_gpadl_teardown) == 16, "vmbus_channel_gpadl_teardown");

/* hyperv.h struct vmbus_channel_gpadl_torndown */
struct vmbus_msg_gpadl_torndown {
	struct vmbus_msg_header header;
	u32 gpadl;
} __packed;
_Static_assert(sizeof(struct vmbus_msg_gpadl_torndown) == 12, "vmbus_channel_gpadl_torndown");

/*
 * hyperv.h struct vmbus_channel_initiate_contact. Before 5.0 the word after
 * target_vcpu is the guest's interrupt page; from 5.0 its first two bytes
 * name the SINT the guest takes messages on and its VTL.
 */
struct vmbus_msg_initiate_contact {
	struct vmbus_msg_header header;
	u32 version;
	u32 target_vcpu;
	union {
		u64 interrupt_page;
		struct {
			u8 msg_sint;
			u8 msg_vtl;
			u8 reserved[6];
		} __packed;
	};
	u64 monitor_page1;
	u64 monitor_page2;
} __packed;
_Static_assert(sizeof(struct vmbus_msg_initiate_contact) == 40, "vmbus_channel_initiate_contact");
_Static_assert(offsetof(struct vmbus_msg_initiate_contact, msg_sint) == 16, "msg_sint");

/* hyperv.h struct vmbus_channel_version_response */
#define VMBUS_CONNECTION_SUCCESSFUL 0 /* connection_state */
struct vmbus_msg_version_response {
	struct vmbus_msg_header header;
	u8 version_supported;
	u8 connection_state;
	u16 padding;
	u32 msg_conn_id; /* from 5.0: where the guest posts its messages from now on */
} __packed;
_Static_assert(sizeof(struct vmbus_msg_version_response) == 16, "vmbus_channel_version_response");

/* hyperv.h struct vmbus_channel_modifychannel */
struct vmbus_msg_modify {
	struct vmbus_msg_header header;
	u32 child_relid;
	u32 target_vp;
} __packed;
_Static_assert(sizeof(struct vmbus_msg_modify) == 16, "vmbus_channel_modifychannel");

/* hyperv.h struct vmbus_channel_modifychannel_response */
struct vmbus_msg_modify_response {
	struct vmbus_msg_header header;
	u32 child_relid;
	u32 status;
} __packed;
_Static_assert(sizeof(struct vmbus_msg_modify_response) == 16, "modifychannel_response");

/* hyperv.h struct vmbus_channel_tl_connect_request */
struct vmbus_msg_tl_connect {
	struct vmbus_msg_header header;
	struct vmb_guid guest_endpoint;
	struct vmb_guid host_service;
} __packed;
_Static_assert(sizeof(struct vmbus_msg_tl_connect) == 40, "vmbus_channel_tl_connect_request");

/*
 * hyperv.h struct hv_ring_buffer: the first page of each ring; data follows
 * in the next pages. Indices are byte offsets into the data, 8-byte aligned.
 */
#define VMBUS_RING_FEATURE_PENDING_SEND_SZ 1u
struct vmbus_ring_control {
	u32 write_index;
	u32 read_index;
	u32 interrupt_mask;  /* set by the reader: "do not signal me" */
	u32 pending_send_sz; /* set by a blocked writer: "signal me when this much is free" */
	u32 reserved1[12];
	u32 feature_bits;
	u8 reserved2[PAGE_SIZE - 68];
} __packed;
_Static_assert(sizeof(struct vmbus_ring_control) == PAGE_SIZE, "hv_ring_buffer control page");
_Static_assert(offsetof(struct vmbus_ring_control, feature_bits) == 64, "feature_bits");

/* Packet types (hyperv.h enum vmbus_packet_type). */
#define VMBUS_PKT_INVALID		    0x0
#define VMBUS_PKT_SYNCH			    0x1
#define VMBUS_PKT_ADD_XFER_PAGESET	    0x2
#define VMBUS_PKT_RM_XFER_PAGESET	    0x3
#define VMBUS_PKT_ESTABLISH_GPADL	    0x4
#define VMBUS_PKT_TEARDOWN_GPADL	    0x5
#define VMBUS_PKT_DATA_INBAND		    0x6
#define VMBUS_PKT_DATA_USING_XFER_PAGES	    0x7
#define VMBUS_PKT_DATA_USING_GPADL	    0x8
#define VMBUS_PKT_DATA_USING_GPA_DIRECT	    0x9
#define VMBUS_PKT_CANCEL_REQUEST	    0xa
#define VMBUS_PKT_COMP			    0xb
#define VMBUS_PKT_FLAG_COMPLETION_REQUESTED 1

/*
 * hyperv.h struct vmpacket_descriptor: offset8 and len8 count 8-byte units
 * from the start of the packet (to the data, to the end). Each packet in a
 * ring is followed by a u64 whose upper half is the write index at which the
 * packet starts (ring_buffer.c hv_get_ring_bufferindices).
 */
struct vmbus_packet_desc {
	u16 type;
	u16 offset8;
	u16 len8;
	u16 flags;
	u64 trans_id;
} __packed;
_Static_assert(sizeof(struct vmbus_packet_desc) == 16, "vmpacket_descriptor");
#define VMBUS_PKT_TRAILER	8
#define VMBUS_PKT_ALIGN		8
#define VMBUS_PKT_MAX_LEN	(0xffffu * 8u) /* len8 is 16 bits */
#define VMBUS_PKT_TRAILER_SHIFT 32

/* hyperv.h struct vmtransfer_page_packet_header: the descriptor, then range_count ranges. */
struct vmbus_packet_xfer_pages {
	struct vmbus_packet_desc desc;
	u16 xfer_pageset_id;
	u8 sender_owns_set;
	u8 reserved;
	u32 range_count;
} __packed;
_Static_assert(sizeof(struct vmbus_packet_xfer_pages) == 24, "vmtransfer_page_packet_header");

/* hyperv.h struct vmdata_gpa_direct: the descriptor, then range_count struct vmbus_gpa_range. */
struct vmbus_packet_gpa_direct {
	struct vmbus_packet_desc desc;
	u32 reserved;
	u32 range_count;
} __packed;
_Static_assert(sizeof(struct vmbus_packet_gpa_direct) == 24, "vmdata_gpa_direct");

#endif
