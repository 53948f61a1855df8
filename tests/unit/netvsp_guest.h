/*
 * The guest's side of a netvsp NIC for the unit tests that drive netvsp
 * through the VSP fake (test_vsp_netvsp.c, test_netvsp_save.c): one NIC
 * with its receive, send, small and ring buffers, a "wire" port on its
 * switch that is the test's, and Linux 6.1's steps (NVSP, buffers, RNDIS
 * init, queries and sets, frames each way). Each test file includes it
 * once and sets these up in its group set-up.
 */
#ifndef BULKHEAD_TEST_NETVSP_GUEST_H
#define BULKHEAD_TEST_NETVSP_GUEST_H

#include <stdlib.h>
#include <string.h>

#include "tests/unit/test_vsp_fake.h"
#include "vsp/netvsp/nic.h"
#include "vsp/netvsp/proto.h"

#define RX_SECTIONS 8
#define RX_SECTION  1728 /* what netvsp answers (Linux's NETVSC_RECV_SECTION_SIZE) */
#define TX_SECTIONS 4
#define TX_SECTION  6144
#define GPADL_RX    1
#define GPADL_TX    2
#define GPADL_SMALL 3
#define GPADL_RING  4
#define SW_QUEUE    16 /* the switch's queue for a port */

static struct vsp *vsp;
static struct vmb_channel *ch;
static struct netvsp_nic *nic;
static const struct vmb_guid nic_type = NETVSP_TYPE_GUID;
static u8 rxbuf[RX_SECTIONS * RX_SECTION];
static u8 txbuf[TX_SECTIONS * TX_SECTION];
static u8 ring[4 * 4096];
static u8 small[1024];
static unsigned xfer_seen; /* transfer-page packets the test has read */

/* The wire: the test's port on switch lan. What it saw the guest send: */
static struct vsw_port *wire;
static const u8 wire_mac[6] = {0x02, 0, 0, 0, 0, 0x77};
static unsigned wire_seen;
static u8 tx_last[2048];
static u32 tx_last_len;

static inline void *wire_alloc(void *ctx, size_t size)
{
	return malloc(size);
}

static inline void wire_free(void *ctx, void *ptr)
{
	free(ptr);
}

/* Frames the wire received so far (taken out of its queue). */
static inline unsigned wire_frames(void)
{
	const void *f;
	u32 len;

	while ((f = vsw_port_peek(wire, &len))) {
		wire_seen++;
		tx_last_len = len;
		memcpy(tx_last, f, len < sizeof(tx_last) ? len : sizeof(tx_last));
		vsw_port_pop(wire);
	}
	return wire_seen;
}

static struct netvsp_stats base; /* the counters when the test began */

static inline struct netvsp_stats counters(void)
{
	struct netvsp_stats s;

	netvsp_get_stats(nic, &s);
	return s;
}

/* The counters since the test began. */
static inline struct netvsp_stats stats(void)
{
	struct netvsp_stats s = counters();

	s.tx_packets -= base.tx_packets;
	s.tx_bytes -= base.tx_bytes;
	s.rx_packets -= base.rx_packets;
	s.rx_bytes -= base.rx_bytes;
	s.tx_dropped -= base.tx_dropped;
	s.rx_dropped -= base.rx_dropped;
	s.bad_messages -= base.bad_messages;
	return s;
}

/* ---- the guest's side ---- */

static inline void guest(const void *msg, u32 len)
{
	fake_guest_send(ch, msg, len, VMB_PACKET_COMPLETION_REQUESTED, NULL);
}

/* The last completion netvsp sent: its first u32s. */
static inline const u32 *last_completion(void)
{
	unsigned n = fake_count(ch, FAKE_COMPLETION);
	const struct fake_record *r = n ? fake_record(ch, FAKE_COMPLETION, n - 1) : NULL;

	assert_non_null(r);
	assert_true(r->len >= NVSP_MESSAGE_SIZE); /* Linux reads a whole nvsp_message */
	return (const u32 *)r->data;
}

static inline u32 nvsp_init(u32 min, u32 max)
{
	const struct nvsp_init m = {NVSP_MSG_INIT, min, max};
	const u32 *c;

	guest(&m, sizeof(m));
	c = last_completion();
	assert_int_equal(c[0], NVSP_MSG_INIT_COMPLETE);
	return c[3] == NVSP_STAT_SUCCESS ? c[1] : 0;
}

static inline u32 give_buffer(u32 type, u32 gpadl, u16 id)
{
	const struct nvsp_send_buf m = {type, gpadl, id};

	guest(&m, sizeof(m));
	return last_completion()[1];
}

/* What Linux 6.1's netvsc_connect_vsp and netvsc_init_buf do, with version 6.1. */
static inline void nvsp_up(void)
{
	const struct nvsp_ndis_config cfg = {NVSP_MSG2_SEND_NDIS_CONFIG, 1514, 0, 0x29};
	const struct nvsp_ndis_version ver = {NVSP_MSG1_SEND_NDIS_VERSION, 6, 30};

	assert_int_equal(nvsp_init(NVSP_VERSION_61, NVSP_VERSION_61), NVSP_VERSION_61);
	fake_guest_send(ch, &cfg, sizeof(cfg), 0, NULL);
	fake_guest_send(ch, &ver, sizeof(ver), 0, NULL);
	assert_int_equal(give_buffer(NVSP_MSG1_SEND_RECV_BUF, GPADL_RX, 0xcafe), NVSP_STAT_SUCCESS);
	assert_int_equal(give_buffer(NVSP_MSG1_SEND_SEND_BUF, GPADL_TX, 0), NVSP_STAT_SUCCESS);
}

/* An RNDIS message in send section `section`: the NVSP status of its completion. */
static inline u32 rndis_in_section(const void *msg, u32 len, u32 section, u32 channel_type)
{
	const struct nvsp_rndis_pkt m = {NVSP_MSG1_SEND_RNDIS_PKT, channel_type, section, len};

	if (section < TX_SECTIONS)
		memcpy(txbuf + section * TX_SECTION, msg, len);
	guest(&m, sizeof(m));
	assert_int_equal(last_completion()[0], NVSP_MSG1_SEND_RNDIS_PKT_COMPLETE);
	return last_completion()[1];
}

static inline u32 rndis(const void *msg, u32 len)
{
	return rndis_in_section(msg, len, 1, NVSP_CHANNEL_CONTROL);
}

/* The next transfer-page packet netvsp sent, its RNDIS message in rxbuf; completed if asked. */
static inline const u8 *guest_receive(bool complete, const struct fake_record **out)
{
	const struct fake_record *r = NULL;
	unsigned seen = 0;

	for (unsigned i = 0; (r = fake_record(ch, FAKE_SENT, i)); i++)
		if (r->xfer && seen++ == xfer_seen)
			break;
	assert_non_null(r);
	xfer_seen++;
	assert_int_equal(r->xfer_id, 0xcafe);
	assert_int_equal(r->nr_xfer, 1);
	assert_true(r->flags & VMB_SEND_COMPLETION_REQUESTED);
	assert_int_equal(((const u32 *)r->data)[0], NVSP_MSG1_SEND_RNDIS_PKT);
	assert_true(r->xfer_ranges[0].byte_offset % RX_SECTION == 0);
	assert_true(r->xfer_ranges[0].byte_offset + r->xfer_ranges[0].byte_count <= sizeof(rxbuf));
	assert_true(r->xfer_ranges[0].byte_count <= RX_SECTION);
	if (out)
		*out = r;
	if (complete) {
		const struct nvsp_rndis_pkt_complete c = {NVSP_MSG1_SEND_RNDIS_PKT_COMPLETE,
							  NVSP_STAT_SUCCESS};

		assert_int_equal(fake_complete_sent(r, VMB_STATUS_SUCCESS, &c, sizeof(c)),
				 VMB_STATUS_SUCCESS);
	}
	return rxbuf + r->xfer_ranges[0].byte_offset;
}

static inline unsigned xfer_sent(void)
{
	unsigned n = 0;
	const struct fake_record *r;

	for (unsigned i = 0; (r = fake_record(ch, FAKE_SENT, i)); i++)
		n += r->xfer;
	return n;
}

static inline void rndis_init(void)
{
	const struct rndis_init m = {{RNDIS_MSG_INIT, sizeof(m)}, 1, 1, 0, 0x4000};
	struct rndis_init_complete c;

	assert_int_equal(rndis(&m, sizeof(m)), NVSP_STAT_SUCCESS);
	memcpy(&c, guest_receive(true, NULL), sizeof(c));
	assert_int_equal(c.h.type, RNDIS_MSG_INIT | RNDIS_MSG_COMPLETION);
	assert_int_equal(c.h.len, sizeof(c));
	assert_int_equal(c.req_id, 1);
	assert_int_equal(c.status, RNDIS_STATUS_SUCCESS);
	assert_int_equal(c.major, 1);
	assert_int_equal(c.medium, RNDIS_MEDIUM_802_3);
	assert_true(c.max_pkts_per_msg >= 1);
}

/* QUERY oid (with info_len bytes of the guest's after the request): the answer's status. */
static inline u32 query(u32 oid, void *out, u32 *len)
{
	struct {
		struct rndis_oid_request q;
		u8 info[16];
	} m = {
	    .q = {
		{RNDIS_MSG_QUERY, sizeof(m)}, 7, oid, 0, sizeof(struct rndis_oid_request) - 8, 0}};
	struct rndis_query_complete c;
	const u8 *a;

	assert_int_equal(rndis(&m, sizeof(m)), NVSP_STAT_SUCCESS);
	a = guest_receive(true, NULL);
	memcpy(&c, a, sizeof(c));
	assert_int_equal(c.h.type, RNDIS_MSG_QUERY | RNDIS_MSG_COMPLETION);
	assert_int_equal(c.req_id, 7);
	assert_true(c.info_offset >= sizeof(c) - 8); /* Linux refuses less */
	assert_int_equal(c.h.len, 8 + c.info_offset + c.info_len);
	if (out)
		memcpy(out, a + 8 + c.info_offset, c.info_len);
	if (len)
		*len = c.info_len;
	return c.status;
}

static inline u32 set(u32 oid, const void *info, u32 len)
{
	struct {
		struct rndis_oid_request q;
		u8 info[64];
	} m = {.q = {{RNDIS_MSG_SET, (u32)sizeof(m.q) + len}, 9, oid, len, sizeof(m.q) - 8, 0}};
	struct rndis_status_complete c;

	memcpy(m.info, info, len);
	assert_int_equal(rndis(&m, m.q.h.len), NVSP_STAT_SUCCESS);
	memcpy(&c, guest_receive(true, NULL), sizeof(c));
	assert_int_equal(c.h.type, RNDIS_MSG_SET | RNDIS_MSG_COMPLETION);
	assert_int_equal(c.req_id, 9);
	return c.status;
}

/* Up to an open device: NVSP, RNDIS init, a packet filter (and its link indication). */
static inline void device_up(void)
{
	const u32 filter = 0x9; /* directed | broadcast */
	struct rndis_indicate ind;

	nvsp_up();
	rndis_init();
	assert_int_equal(set(OID_GEN_CURRENT_PACKET_FILTER, &filter, sizeof(filter)),
			 RNDIS_STATUS_SUCCESS);
	memcpy(&ind, guest_receive(true, NULL), sizeof(ind));
	assert_int_equal(ind.h.type, RNDIS_MSG_INDICATE);
	assert_int_equal(ind.status, RNDIS_STATUS_MEDIA_CONNECT);
	assert_true(netvsp_ready(nic));
}

static inline u32 frame_msg(u8 *msg, const u8 *frame, u32 len)
{
	struct rndis_packet p = {.h = {RNDIS_MSG_PACKET, (u32)sizeof(p) + len}};

	p.data_offset = sizeof(p) - 8;
	p.data_len = len;
	memcpy(msg, &p, sizeof(p));
	memcpy(msg + sizeof(p), frame, len);
	return p.h.len;
}

/* A frame from the guest's NIC to the wire (the source must be the NIC's own: no spoofing). */
static inline void make_frame(u8 *f, u32 len, unsigned seed)
{
	for (u32 i = 0; i < len; i++)
		f[i] = (u8)(seed * 13 + i);
	if (len >= 12) {
		memcpy(f, wire_mac, 6);
		netvsp_get_mac(nic, f + 6);
	}
}

/* A frame from the wire to the guest, sent into the switch; then the door's pass. */
static inline vmb_status wire_send(u8 *f, u32 len, unsigned seed)
{
	vmb_status st;

	for (u32 i = 0; i < len; i++)
		f[i] = (u8)(seed * 7 + i);
	if (len >= 12) {
		netvsp_get_mac(nic, f);
		memcpy(f + 6, wire_mac, 6);
	}
	st = vsw_send(wire, f, len);
	fake_pass();
	return st;
}

#endif
