/*
 * netvsp's wire formats: NVSP, the messages on the synthetic NIC's VMBus
 * channel (the layouts and numbers of Linux drivers/net/hyperv/hyperv_net.h,
 * which the guest's hv_netvsc uses), and RNDIS inside them (MS-RNDIS 2.2,
 * with the NDIS OIDs of MS-RNDIS 2.2.10 and ntddndis.h). Little-endian, packed.
 */
#ifndef BULKHEAD_VSP_NETVSP_PROTO_H
#define BULKHEAD_VSP_NETVSP_PROTO_H

#include "vmbus/kmcl.h"

/* Linux include/linux/hyperv.h HV_NIC_GUID: the synthetic network device class. */
#define NETVSP_TYPE_GUID                                                                           \
	VMB_GUID(0xf8615163, 0xdf3e, 0x46c5, 0x91, 0x3f, 0xf2, 0xd2, 0xf9, 0x65, 0xed, 0x0e)

/* ---- NVSP (hyperv_net.h) ---- */

/* Protocol versions, hyperv_net.h NVSP_PROTOCOL_VERSION_*: what Linux 6.1 offers. */
#define NVSP_VERSION_1	2
#define NVSP_VERSION_2	0x30002
#define NVSP_VERSION_4	0x40000
#define NVSP_VERSION_5	0x50000
#define NVSP_VERSION_6	0x60000
#define NVSP_VERSION_61 0x60001

/* Message types (hyperv_net.h, the enum of NVSP_MSG*_TYPE_*). */
#define NVSP_MSG_INIT			  1
#define NVSP_MSG_INIT_COMPLETE		  2
#define NVSP_MSG1_SEND_NDIS_VERSION	  100
#define NVSP_MSG1_SEND_RECV_BUF		  101
#define NVSP_MSG1_SEND_RECV_BUF_COMPLETE  102
#define NVSP_MSG1_REVOKE_RECV_BUF	  103
#define NVSP_MSG1_SEND_SEND_BUF		  104
#define NVSP_MSG1_SEND_SEND_BUF_COMPLETE  105
#define NVSP_MSG1_REVOKE_SEND_BUF	  106
#define NVSP_MSG1_SEND_RNDIS_PKT	  107
#define NVSP_MSG1_SEND_RNDIS_PKT_COMPLETE 108
#define NVSP_MSG2_SEND_NDIS_CONFIG	  125
#define NVSP_MSG4_SEND_VF_ASSOCIATION	  128
#define NVSP_MSG4_SWITCH_DATA_PATH	  129
#define NVSP_MSG5_SUBCHANNEL		  133
#define NVSP_MSG5_SEND_INDIRECTION_TABLE  134

/* Statuses (hyperv_net.h NVSP_STAT_*). */
#define NVSP_STAT_SUCCESS	1
#define NVSP_STAT_FAIL		2
#define NVSP_STAT_INVALID_RNDIS 5

/* nvsp_1_message_send_rndis_packet.channel_type: hyperv_net.h (netvsc.c sends 0 for data). */
#define NVSP_CHANNEL_DATA    0
#define NVSP_CHANNEL_CONTROL 1
#define NVSP_NO_SECTION	     0xffffffffu /* send_buf_section_index: the message is not there */

#define NVSP_SEND_TABLE_SIZE 16 /* hyperv_net.h VRSS_SEND_TAB_SIZE */
/*
 * sizeof(struct nvsp_message) in hyperv_net.h: the header and the largest
 * message of the union (nvsp_6_pd_api_comp, 36 bytes). Linux reads that many
 * bytes of a completion, and puts a send table at this offset for versions
 * up to 6 (netvsc.c netvsc_send_table, "host bug" fix): netvsp puts it there.
 */
#define NVSP_MESSAGE_SIZE 40

struct nvsp_init {
	u32 type;
	u32 min_version, max_version;
} __packed;

struct nvsp_init_complete {
	u32 type;
	u32 version, max_mdl_chain_len, status;
} __packed;

struct nvsp_ndis_version {
	u32 type;
	u32 major, minor;
} __packed;

struct nvsp_ndis_config {
	u32 type;
	u32 mtu, reserved;
	u64 capability;
} __packed;
_Static_assert(sizeof(struct nvsp_ndis_config) == 20, "nvsp_2_send_ndis_config");

/* SEND_RECV_BUF and SEND_SEND_BUF (nvsp_1_message_send_receive_buffer). */
struct nvsp_send_buf {
	u32 type;
	u32 gpadl;
	u16 id;
} __packed;
_Static_assert(sizeof(struct nvsp_send_buf) == 10, "nvsp_1_message_send_receive_buffer");

struct nvsp_recv_section {
	u32 offset, sub_alloc_size, num_sub_allocs, end_offset;
} __packed;

struct nvsp_recv_buf_complete {
	u32 type;
	u32 status, num_sections;
	struct nvsp_recv_section section;
} __packed;
_Static_assert(sizeof(struct nvsp_recv_buf_complete) == 28, "receive buffer complete");

struct nvsp_send_buf_complete {
	u32 type;
	u32 status, section_size;
} __packed;

struct nvsp_revoke {
	u32 type;
	u16 id;
} __packed;

struct nvsp_rndis_pkt {
	u32 type;
	u32 channel_type, section_index, section_size;
} __packed;
_Static_assert(sizeof(struct nvsp_rndis_pkt) == 16, "nvsp_1_message_send_rndis_packet");

struct nvsp_rndis_pkt_complete {
	u32 type;
	u32 status;
} __packed;

struct nvsp_send_table {
	u32 type;
	u32 count, offset; /* offset from the start of the message */
} __packed;

/* ---- RNDIS (MS-RNDIS 2.2) ---- */

#define RNDIS_MSG_PACKET     0x00000001
#define RNDIS_MSG_INIT	     0x00000002
#define RNDIS_MSG_HALT	     0x00000003
#define RNDIS_MSG_QUERY	     0x00000004
#define RNDIS_MSG_SET	     0x00000005
#define RNDIS_MSG_RESET	     0x00000006
#define RNDIS_MSG_INDICATE   0x00000007
#define RNDIS_MSG_KEEPALIVE  0x00000008
#define RNDIS_MSG_COMPLETION 0x80000000u /* ORed into a request's type for its answer */

/* MS-RNDIS 2.2.x statuses (NDIS_STATUS_* values). */
#define RNDIS_STATUS_SUCCESS	      0x00000000u
#define RNDIS_STATUS_FAILURE	      0xc0000001u
#define RNDIS_STATUS_NOT_SUPPORTED    0xc00000bbu
#define RNDIS_STATUS_INVALID_LENGTH   0xc0010014u
#define RNDIS_STATUS_INVALID_DATA     0xc0010015u
#define RNDIS_STATUS_MEDIA_CONNECT    0x4001000bu
#define RNDIS_STATUS_MEDIA_DISCONNECT 0x4001000cu

#define RNDIS_MAJOR_VERSION	 1
#define RNDIS_MINOR_VERSION	 0
#define RNDIS_DF_CONNECTIONLESS	 0x00000001 /* MS-RNDIS 2.2.2 DeviceFlags */
#define RNDIS_MEDIUM_802_3	 0x00000000
#define RNDIS_MEDIA_CONNECTED	 0 /* NdisMediaStateConnected */
#define RNDIS_MEDIA_DISCONNECTED 1

struct rndis_header {
	u32 type, len;
} __packed;

/* MS-RNDIS 2.2.1 REMOTE_NDIS_INITIALIZE_MSG and 2.2.2 its completion. */
struct rndis_init {
	struct rndis_header h;
	u32 req_id, major, minor, max_xfer_size;
} __packed;

struct rndis_init_complete {
	struct rndis_header h;
	u32 req_id, status, major, minor, dev_flags, medium, max_pkts_per_msg, max_xfer_size,
	    pkt_align_factor, af_list_offset, af_list_size;
} __packed;
_Static_assert(sizeof(struct rndis_init_complete) == 52, "REMOTE_NDIS_INITIALIZE_CMPLT");

/* 2.2.4 QUERY and 2.2.6 SET: the info buffer's offset counts from req_id. */
struct rndis_oid_request {
	struct rndis_header h;
	u32 req_id, oid, info_len, info_offset, vc_handle;
} __packed;
_Static_assert(sizeof(struct rndis_oid_request) == 28, "REMOTE_NDIS_QUERY_MSG");
#define RNDIS_BODY_OFFSET 8 /* offsets in RNDIS messages count from the end of the header */

struct rndis_query_complete {
	struct rndis_header h;
	u32 req_id, status, info_len, info_offset;
} __packed;

/* SET_CMPLT (2.2.7) and KEEPALIVE_CMPLT (2.2.12): the same shape. */
struct rndis_status_complete {
	struct rndis_header h;
	u32 req_id, status;
} __packed;

struct rndis_keepalive {
	struct rndis_header h;
	u32 req_id;
} __packed;

/* 2.2.9 RESET_CMPLT: no request id. */
struct rndis_reset_complete {
	struct rndis_header h;
	u32 status, addressing_reset;
} __packed;

/* 2.2.5 INDICATE_STATUS */
struct rndis_indicate {
	struct rndis_header h;
	u32 status, buf_len, buf_offset;
} __packed;

/* 2.2.14 REMOTE_NDIS_PACKET_MSG: offsets count from data_offset's own position. */
struct rndis_packet {
	struct rndis_header h;
	u32 data_offset, data_len, oob_offset, oob_len, nr_oob, ppi_offset, ppi_len, vc_handle,
	    reserved;
} __packed;
_Static_assert(sizeof(struct rndis_packet) == 44, "REMOTE_NDIS_PACKET_MSG");

/* One per-packet info entry (hyperv_net.h struct rndis_per_packet_info): offset from its start. */
struct rndis_ppi {
	u32 size, type, offset;
} __packed;
#define RNDIS_PPI_TYPE_MASK 0x7fffffffu /* the top bit is hyperv_net.h's "internal" flag */

/* ---- OIDs (ntddndis.h, MS-RNDIS 2.2.10; the offload ones hyperv_net.h) ---- */

#define OID_GEN_SUPPORTED_LIST		      0x00010101
#define OID_GEN_HARDWARE_STATUS		      0x00010102
#define OID_GEN_MEDIA_SUPPORTED		      0x00010103
#define OID_GEN_MEDIA_IN_USE		      0x00010104
#define OID_GEN_MAXIMUM_FRAME_SIZE	      0x00010106
#define OID_GEN_LINK_SPEED		      0x00010107
#define OID_GEN_TRANSMIT_BLOCK_SIZE	      0x0001010a
#define OID_GEN_RECEIVE_BLOCK_SIZE	      0x0001010b
#define OID_GEN_VENDOR_ID		      0x0001010c
#define OID_GEN_CURRENT_PACKET_FILTER	      0x0001010e
#define OID_GEN_MAXIMUM_TOTAL_SIZE	      0x00010111
#define OID_GEN_MEDIA_CONNECT_STATUS	      0x00010114
#define OID_GEN_MAXIMUM_SEND_PACKETS	      0x00010115
#define OID_GEN_NETWORK_LAYER_ADDRESSES	      0x00010118
#define OID_GEN_RECEIVE_SCALE_CAPABILITIES    0x00010203
#define OID_GEN_RECEIVE_SCALE_PARAMETERS      0x00010204
#define OID_802_3_PERMANENT_ADDRESS	      0x01010101
#define OID_802_3_CURRENT_ADDRESS	      0x01010102
#define OID_802_3_MULTICAST_LIST	      0x01010103
#define OID_802_3_MAXIMUM_LIST_SIZE	      0x01010104
#define OID_OFFLOAD_ENCAPSULATION	      0x0101010a
#define OID_TCP_OFFLOAD_PARAMETERS	      0xfc01020c
#define OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES 0xfc01020d

/*
 * The answer to OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES: hyperv_net.h struct
 * ndis_offload up to ipsecv2 (NDIS_OFFLOAD_SIZE_6_0, 112 bytes), all
 * capabilities zero. Linux's rndis_query_hwcaps refuses the device unless
 * the header says type NDIS_OBJECT_TYPE_OFFLOAD (0xa7), revision >= 1 and a
 * size of at least NDIS_OFFLOAD_SIZE_6_0 that the answer holds.
 */
#define NDIS_OBJECT_TYPE_OFFLOAD 0xa7
#define NDIS_OFFLOAD_REVISION_1	 1
#define NDIS_OFFLOAD_SIZE_6_0	 112
struct ndis_offload_6_0 {
	u8 type, revision;
	u16 size;
	u8 zero[NDIS_OFFLOAD_SIZE_6_0 - 4];
} __packed;
_Static_assert(sizeof(struct ndis_offload_6_0) == NDIS_OFFLOAD_SIZE_6_0, "ndis_offload 6.0");

#endif
