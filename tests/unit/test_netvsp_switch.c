/*
 * Two netvsp instances (partitions "a" and "b", each `nic = lan`) on one
 * real switch, against the VSP fake: each guest brought up as Linux 6.1's
 * hv_netvsc does, frames from one guest's send sections into the other's
 * receive buffer through the switch, broadcast and spoofing, the receive
 * sections' flow control across partitions (frames waiting in the switch
 * in the sender's memory), RNDIS answers ahead of frames, a sender that
 * goes away with frames queued, and a receiver whose guest closes its
 * channel. A third instance "c" joins where a case needs one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_vsp_fake.h"
#include "vsp/netvsp/nic.h"
#include "vsp/netvsp/proto.h"

#define RX_SECTIONS 8
#define RX_SECTION  1728 /* what netvsp answers (Linux's NETVSC_RECV_SECTION_SIZE) */
#define TX_SECTIONS 4
#define TX_SECTION  6144
#define GPADL_RX    1
#define GPADL_TX    2
#define RX_ID	    0xcafe
#define SW_QUEUE    16 /* the switch's queue for a port */
#define FRAME	    200

/* One guest: its instance, channel, NIC, its buffers, and what the test has read of them. */
struct guest {
	struct vsp *vsp;
	struct vmb_channel *ch;
	struct netvsp_nic *nic;
	u8 mac[6];
	unsigned seen; /* transfer-page packets the test has read */
	u8 rx[RX_SECTIONS * RX_SECTION];
	u8 tx[TX_SECTIONS * TX_SECTION];
	u8 ring[2 * 4096];
};

static struct guest ga, gb, gc;
static const struct vmb_guid nic_type = NETVSP_TYPE_GUID;
static const u8 bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct netvsp_stats stats(const struct guest *g)
{
	struct netvsp_stats s;

	netvsp_get_stats(g->nic, &s);
	return s;
}

static const struct vsw_counters *port(const struct guest *g)
{
	return vsw_port_counters(g->nic->port);
}

/* ---- a guest's side ---- */

static void guest_send(struct guest *g, const void *msg, u32 len)
{
	fake_guest_send(g->ch, msg, len, VMB_PACKET_COMPLETION_REQUESTED, NULL);
}

/* The last completion netvsp sent the guest: its first u32s. */
static const u32 *last_completion(struct guest *g)
{
	unsigned n = fake_count(g->ch, FAKE_COMPLETION);
	const struct fake_record *r = n ? fake_record(g->ch, FAKE_COMPLETION, n - 1) : NULL;

	assert_non_null(r);
	assert_true(r->len >= NVSP_MESSAGE_SIZE);
	return (const u32 *)r->data;
}

static u32 give_buffer(struct guest *g, u32 type, u32 gpadl, u16 id)
{
	const struct nvsp_send_buf m = {type, gpadl, id};

	guest_send(g, &m, sizeof(m));
	return last_completion(g)[1];
}

/* Linux 6.1's netvsc_connect_vsp and netvsc_init_buf, with version 6.1. */
static void nvsp_up(struct guest *g)
{
	const struct nvsp_init init = {NVSP_MSG_INIT, NVSP_VERSION_61, NVSP_VERSION_61};
	const struct nvsp_ndis_config cfg = {NVSP_MSG2_SEND_NDIS_CONFIG, 1514, 0, 0x29};
	const struct nvsp_ndis_version ver = {NVSP_MSG1_SEND_NDIS_VERSION, 6, 30};

	guest_send(g, &init, sizeof(init));
	assert_int_equal(last_completion(g)[0], NVSP_MSG_INIT_COMPLETE);
	assert_int_equal(last_completion(g)[1], NVSP_VERSION_61);
	fake_guest_send(g->ch, &cfg, sizeof(cfg), 0, NULL);
	fake_guest_send(g->ch, &ver, sizeof(ver), 0, NULL);
	assert_int_equal(give_buffer(g, NVSP_MSG1_SEND_RECV_BUF, GPADL_RX, RX_ID),
			 NVSP_STAT_SUCCESS);
	assert_int_equal(give_buffer(g, NVSP_MSG1_SEND_SEND_BUF, GPADL_TX, 0), NVSP_STAT_SUCCESS);
}

/* An RNDIS message in send section `section`: the NVSP status of its completion. */
static u32 rndis_in_section(struct guest *g, const void *msg, u32 len, u32 section,
			    u32 channel_type)
{
	const struct nvsp_rndis_pkt m = {NVSP_MSG1_SEND_RNDIS_PKT, channel_type, section, len};

	memcpy(g->tx + section * TX_SECTION, msg, len);
	guest_send(g, &m, sizeof(m));
	assert_int_equal(last_completion(g)[0], NVSP_MSG1_SEND_RNDIS_PKT_COMPLETE);
	return last_completion(g)[1];
}

static u32 rndis(struct guest *g, const void *msg, u32 len)
{
	return rndis_in_section(g, msg, len, 1, NVSP_CHANNEL_CONTROL);
}

static unsigned xfer_sent(struct guest *g)
{
	unsigned n = 0;
	const struct fake_record *r;

	for (unsigned i = 0; (r = fake_record(g->ch, FAKE_SENT, i)); i++)
		n += r->xfer;
	return n;
}

/* The next transfer-page packet netvsp sent the guest, its message in g->rx; completed if asked. */
static const u8 *guest_receive(struct guest *g, bool complete, const struct fake_record **out)
{
	const struct fake_record *r = NULL;
	unsigned seen = 0;

	for (unsigned i = 0; (r = fake_record(g->ch, FAKE_SENT, i)); i++)
		if (r->xfer && seen++ == g->seen)
			break;
	assert_non_null(r);
	g->seen++;
	assert_int_equal(r->xfer_id, RX_ID);
	assert_int_equal(r->nr_xfer, 1);
	assert_true(r->flags & VMB_SEND_COMPLETION_REQUESTED);
	assert_int_equal(((const u32 *)r->data)[0], NVSP_MSG1_SEND_RNDIS_PKT);
	assert_true(r->xfer_ranges[0].byte_offset % RX_SECTION == 0);
	assert_true(r->xfer_ranges[0].byte_count <= RX_SECTION);
	assert_true(r->xfer_ranges[0].byte_offset + r->xfer_ranges[0].byte_count <= sizeof(g->rx));
	if (out)
		*out = r;
	if (complete) {
		const struct nvsp_rndis_pkt_complete c = {NVSP_MSG1_SEND_RNDIS_PKT_COMPLETE,
							  NVSP_STAT_SUCCESS};

		assert_int_equal(fake_complete_sent(r, VMB_STATUS_SUCCESS, &c, sizeof(c)),
				 VMB_STATUS_SUCCESS);
	}
	return g->rx + r->xfer_ranges[0].byte_offset;
}

/* The guest gives a receive section back (completes the transfer-page packet r). */
static void give_back(const struct fake_record *r)
{
	const struct nvsp_rndis_pkt_complete c = {NVSP_MSG1_SEND_RNDIS_PKT_COMPLETE,
						  NVSP_STAT_SUCCESS};

	assert_int_equal(fake_complete_sent(r, VMB_STATUS_SUCCESS, &c, sizeof(c)),
			 VMB_STATUS_SUCCESS);
}

/* NVSP, RNDIS init, a packet filter and the link indication: the device is open. */
static void guest_up(struct guest *g)
{
	const struct rndis_init init = {{RNDIS_MSG_INIT, sizeof(init)}, 1, 1, 0, 0x4000};
	struct {
		struct rndis_oid_request q;
		u32 filter;
	} set = {{{RNDIS_MSG_SET, sizeof(set)},
		  9,
		  OID_GEN_CURRENT_PACKET_FILTER,
		  4,
		  sizeof(struct rndis_oid_request) - 8,
		  0},
		 0x9}; /* directed | broadcast */
	struct rndis_init_complete ic;
	struct rndis_status_complete sc;
	struct rndis_indicate ind;

	nvsp_up(g);
	assert_int_equal(rndis(g, &init, sizeof(init)), NVSP_STAT_SUCCESS);
	memcpy(&ic, guest_receive(g, true, NULL), sizeof(ic));
	assert_int_equal(ic.h.type, RNDIS_MSG_INIT | RNDIS_MSG_COMPLETION);
	assert_int_equal(ic.status, RNDIS_STATUS_SUCCESS);
	assert_int_equal(vsw_port_state(g->nic->port), VSW_PORT_DOWN); /* no filter yet */
	assert_int_equal(rndis(g, &set, sizeof(set)), NVSP_STAT_SUCCESS);
	memcpy(&sc, guest_receive(g, true, NULL), sizeof(sc));
	assert_int_equal(sc.h.type, RNDIS_MSG_SET | RNDIS_MSG_COMPLETION);
	assert_int_equal(sc.req_id, 9);
	assert_int_equal(sc.status, RNDIS_STATUS_SUCCESS);
	memcpy(&ind, guest_receive(g, true, NULL), sizeof(ind));
	assert_int_equal(ind.h.type, RNDIS_MSG_INDICATE);
	assert_int_equal(ind.status, RNDIS_STATUS_MEDIA_CONNECT);
	assert_true(netvsp_ready(g->nic));
	assert_int_equal(vsw_port_state(g->nic->port), VSW_PORT_UP);
	assert_int_equal(fake_waiting(g->ch), 0);
}

/* Partition `name`'s instance with `nic = lan`, its channel opened by the guest. */
static void guest_make(struct guest *g, const char *name)
{
	char err[160] = "";

	memset(g, 0, sizeof(*g));
	fake_preset_config("nic", "lan");
	g->vsp = fake_vsp_create("netvsp", name, err, sizeof(err));
	assert_non_null(g->vsp);
	g->ch = fake_channel(vsp_bus(g->vsp), &nic_type);
	assert_non_null(g->ch);
	g->nic = netvsp_nic(g->vsp, 0);
	assert_non_null(g->nic);
	assert_non_null(g->nic->port);
	netvsp_get_mac(g->nic, g->mac);
	fake_add_gpadl(g->ch, GPADL_RX, g->rx, sizeof(g->rx));
	fake_add_gpadl(g->ch, GPADL_TX, g->tx, sizeof(g->tx));
	fake_set_ring(g->ch, g->ring, sizeof(g->ring));
	assert_int_equal(fake_open(g->ch), VMB_STATUS_SUCCESS);
}

/* A frame: destination, source, a local experimental EtherType, then bytes from seed. */
static void make_frame(u8 *f, u32 len, const u8 *dst, const u8 *src, unsigned seed)
{
	for (u32 i = 0; i < len; i++)
		f[i] = (u8)(seed * 13 + i);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
}

/* The guest sends a frame in send section 0 on the data channel; netvsp takes its packet. */
static void guest_tx(struct guest *g, const u8 *frame, u32 len)
{
	u8 msg[sizeof(struct rndis_packet) + NETVSP_FRAME_MAX];
	struct rndis_packet p = {.h = {RNDIS_MSG_PACKET, (u32)sizeof(p) + len}};

	p.data_offset = sizeof(p) - 8;
	p.data_len = len;
	memcpy(msg, &p, sizeof(p));
	memcpy(msg + sizeof(p), frame, len);
	assert_int_equal(rndis_in_section(g, msg, p.h.len, 0, NVSP_CHANNEL_DATA),
			 NVSP_STAT_SUCCESS);
}

/* The next transfer-page packet is `want` as an RNDIS PACKET, byte for byte. */
static void expect_frame(struct guest *g, const u8 *want, u32 len, bool complete,
			 const struct fake_record **out)
{
	const struct fake_record *r;
	const u8 *m = guest_receive(g, complete, &r);
	struct rndis_packet p;

	memcpy(&p, m, sizeof(p));
	assert_int_equal(p.h.type, RNDIS_MSG_PACKET);
	assert_int_equal(p.h.len, sizeof(p) + len);
	assert_int_equal(r->xfer_ranges[0].byte_count, sizeof(p) + len);
	assert_int_equal(p.data_len, len);
	assert_int_equal(p.ppi_len, 0);
	assert_int_equal(p.nr_oob, 0);
	assert_true(8 + p.data_offset + p.data_len <= p.h.len);
	assert_int_equal(((const u32 *)r->data)[1], NVSP_CHANNEL_DATA);
	assert_memory_equal(m + 8 + p.data_offset, want, len);
	if (out)
		*out = r;
}

/* ---- set-up ---- */

static int setup(void **state)
{
	fake_reset();
	vsw_reset_all();
	assert_non_null(vsw_make("lan", 8, SW_QUEUE, 300000000000ull));
	guest_make(&ga, "a");
	guest_make(&gb, "b");
	guest_up(&ga);
	guest_up(&gb);
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(fake_violations, 0);
	return 0;
}

/* ---- tests ---- */

static void test_unicast_both_ways(void **state)
{
	u8 ab[1000], ba[60], ab2[NETVSP_FRAME_MAX];
	unsigned a_seen = xfer_sent(&ga), b_seen = xfer_sent(&gb);

	assert_memory_not_equal(ga.mac, gb.mac, 6);
	assert_int_equal(stats(&ga).rx_packets, 0); /* answers and indications are not frames */
	/* a -> b: b's address is not known yet, so the switch floods it: to b only. */
	make_frame(ab, sizeof(ab), gb.mac, ga.mac, 1);
	guest_tx(&ga, ab, sizeof(ab));
	assert_int_equal(xfer_sent(&gb), b_seen); /* b's work pass takes it */
	fake_pass();
	assert_int_equal(xfer_sent(&gb), b_seen + 1);
	expect_frame(&gb, ab, sizeof(ab), true, NULL);
	assert_int_equal(xfer_sent(&ga), a_seen); /* not back to its sender */
	/* b -> a: a's address was learned. */
	make_frame(ba, sizeof(ba), ga.mac, gb.mac, 2);
	guest_tx(&gb, ba, sizeof(ba));
	fake_pass();
	assert_int_equal(xfer_sent(&ga), a_seen + 1);
	expect_frame(&ga, ba, sizeof(ba), true, NULL);
	assert_int_equal(xfer_sent(&gb), b_seen + 1);
	/* a -> b again, now to a learned address, a full-sized frame. */
	make_frame(ab2, sizeof(ab2), gb.mac, ga.mac, 3);
	guest_tx(&ga, ab2, sizeof(ab2));
	fake_pass();
	expect_frame(&gb, ab2, sizeof(ab2), true, NULL);
	/* The NICs' counters. */
	assert_int_equal(stats(&ga).tx_packets, 2);
	assert_int_equal(stats(&ga).tx_bytes, sizeof(ab) + sizeof(ab2));
	assert_int_equal(stats(&ga).rx_packets, 1);
	assert_int_equal(stats(&ga).rx_bytes, sizeof(ba));
	assert_int_equal(stats(&gb).tx_packets, 1);
	assert_int_equal(stats(&gb).tx_bytes, sizeof(ba));
	assert_int_equal(stats(&gb).rx_packets, 2);
	assert_int_equal(stats(&gb).rx_bytes, sizeof(ab) + sizeof(ab2));
	assert_int_equal(stats(&ga).tx_dropped + stats(&ga).rx_dropped + stats(&ga).bad_messages,
			 0);
	assert_int_equal(stats(&gb).tx_dropped + stats(&gb).rx_dropped + stats(&gb).bad_messages,
			 0);
	/* The ports' counters say the same. */
	assert_int_equal(port(&ga)->tx_packets, 2);
	assert_int_equal(port(&ga)->tx_bytes, sizeof(ab) + sizeof(ab2));
	assert_int_equal(port(&ga)->rx_packets, 1);
	assert_int_equal(port(&ga)->rx_bytes, sizeof(ba));
	assert_int_equal(port(&gb)->tx_packets, 1);
	assert_int_equal(port(&gb)->tx_bytes, sizeof(ba));
	assert_int_equal(port(&gb)->rx_packets, 2);
	assert_int_equal(port(&gb)->rx_bytes, sizeof(ab) + sizeof(ab2));
	assert_int_equal(port(&ga)->drops + port(&gb)->drops, 0);
	assert_int_equal(fake_waiting(ga.ch) + fake_waiting(gb.ch), 0);
	assert_int_equal(fake_vsp_bytes(ga.vsp) + fake_vsp_bytes(gb.vsp), 0);
}

static void test_broadcast_and_spoofing(void **state)
{
	u8 f[100], spoof[100], cb[80];
	unsigned a_seen, b_seen, c_seen;

	/* Broadcast from a with only b up: b has it. */
	make_frame(f, sizeof(f), bcast, ga.mac, 1);
	guest_tx(&ga, f, sizeof(f));
	fake_pass();
	expect_frame(&gb, f, sizeof(f), true, NULL);
	/* With c up too, both have the next one. */
	guest_make(&gc, "c");
	guest_up(&gc);
	assert_memory_not_equal(gc.mac, ga.mac, 6);
	assert_memory_not_equal(gc.mac, gb.mac, 6);
	make_frame(f, sizeof(f), bcast, ga.mac, 2);
	guest_tx(&ga, f, sizeof(f));
	fake_pass();
	expect_frame(&gb, f, sizeof(f), true, NULL);
	expect_frame(&gc, f, sizeof(f), true, NULL);
	assert_int_equal(port(&ga)->tx_packets, 2);
	assert_int_equal(port(&gb)->rx_packets, 2);
	assert_int_equal(port(&gc)->rx_packets, 1);
	assert_int_equal(stats(&gc).rx_packets, 1);
	assert_int_equal(stats(&gc).rx_bytes, sizeof(f));
	assert_int_equal(fake_vsp_bytes(ga.vsp), 0); /* one copy for both, freed by the last */
	/* a pretends to be b: the switch refuses it, nothing arrives anywhere. */
	a_seen = xfer_sent(&ga);
	b_seen = xfer_sent(&gb);
	c_seen = xfer_sent(&gc);
	make_frame(spoof, sizeof(spoof), gc.mac, gb.mac, 3);
	guest_tx(&ga, spoof, sizeof(spoof));
	make_frame(spoof, sizeof(spoof), bcast, gb.mac, 4);
	guest_tx(&ga, spoof, sizeof(spoof));
	fake_pass();
	assert_int_equal(stats(&ga).tx_dropped, 2);
	assert_int_equal(stats(&ga).tx_packets, 2);
	assert_int_equal(stats(&ga).bad_messages, 0); /* the guest's packets were good */
	assert_int_equal(port(&ga)->drops, 2);
	assert_int_equal(port(&ga)->tx_packets, 2);
	assert_int_equal(xfer_sent(&ga), a_seen);
	assert_int_equal(xfer_sent(&gb), b_seen);
	assert_int_equal(xfer_sent(&gc), c_seen);
	assert_int_equal(port(&gb)->rx_packets, 2);
	assert_int_equal(port(&gc)->rx_packets, 1);
	assert_int_equal(fake_vsp_bytes(ga.vsp), 0);
	/*
	 * The switch did not learn b's address on a's port: c's frame for b
	 * reaches b (flooded, to a too: b has not spoken yet).
	 */
	make_frame(cb, sizeof(cb), gb.mac, gc.mac, 5);
	guest_tx(&gc, cb, sizeof(cb));
	fake_pass();
	expect_frame(&gb, cb, sizeof(cb), true, NULL);
	expect_frame(&ga, cb, sizeof(cb), true, NULL);
	/* Once b has spoken, a's unicast for b goes to b, not flooded to c. */
	make_frame(f, sizeof(f), gc.mac, gb.mac, 6);
	guest_tx(&gb, f, sizeof(f));
	fake_pass();
	expect_frame(&gc, f, sizeof(f), true, NULL);
	make_frame(f, sizeof(f), gb.mac, ga.mac, 7);
	guest_tx(&ga, f, sizeof(f));
	fake_pass();
	expect_frame(&gb, f, sizeof(f), true, NULL);
	assert_int_equal(xfer_sent(&gc), c_seen + 1);
	assert_int_equal(xfer_sent(&ga), a_seen + 1);
	assert_int_equal(stats(&ga).rx_packets, 1);
	assert_int_equal(stats(&gb).rx_packets, 4);
	assert_int_equal(stats(&gc).rx_packets, 2);
	assert_int_equal(port(&gb)->drops + port(&gc)->drops, 0);
}

/* a fills b's receive sections: with b holding them all, a's next frames wait in the switch. */
#define WAITING 6
static void test_flow_across_partitions(void **state)
{
	static u8 f[RX_SECTIONS + WAITING][FRAME];
	const struct fake_record *held[RX_SECTIONS], *r;
	size_t base = fake_vsp_bytes(ga.vsp), per = 0;
	unsigned first = xfer_sent(&gb), next;

	for (unsigned i = 0; i < RX_SECTIONS; i++) {
		make_frame(f[i], FRAME, gb.mac, ga.mac, i);
		guest_tx(&ga, f[i], FRAME);
		fake_pass();
	}
	assert_int_equal(xfer_sent(&gb) - first, RX_SECTIONS);
	for (unsigned i = 0; i < RX_SECTIONS; i++)
		expect_frame(&gb, f[i], FRAME, false, &held[i]);
	assert_int_equal(fake_vsp_bytes(ga.vsp), base); /* announced: out of the switch */
	/* The frames that find no section wait in b's queue, in a's memory. */
	for (unsigned i = 0; i < WAITING; i++) {
		make_frame(f[RX_SECTIONS + i], FRAME, gb.mac, ga.mac, RX_SECTIONS + i);
		guest_tx(&ga, f[RX_SECTIONS + i], FRAME);
		fake_pass();
		if (!i)
			per = fake_vsp_bytes(ga.vsp) - base;
		assert_true(per >= FRAME);
		assert_int_equal(fake_vsp_bytes(ga.vsp), base + (i + 1) * per);
	}
	assert_int_equal(fake_vsp_bytes(gb.vsp), 0); /* none of it is b's */
	assert_int_equal(xfer_sent(&gb) - first, RX_SECTIONS);
	assert_int_equal(fake_waiting(gb.ch), RX_SECTIONS);
	assert_int_equal(stats(&ga).tx_packets, RX_SECTIONS + WAITING);
	assert_int_equal(stats(&ga).tx_dropped, 0);
	assert_int_equal(stats(&gb).rx_packets, RX_SECTIONS);
	assert_int_equal(port(&gb)->rx_packets, RX_SECTIONS + WAITING); /* queued for b */
	assert_int_equal(port(&gb)->drops, 0);
	/* b gives one section back: the oldest waiting frame goes into it at the next pass. */
	give_back(held[2]);
	assert_int_equal(xfer_sent(&gb) - first, RX_SECTIONS); /* from b's work pass */
	fake_pass();
	assert_int_equal(xfer_sent(&gb) - first, RX_SECTIONS + 1);
	expect_frame(&gb, f[RX_SECTIONS], FRAME, false, &r);
	assert_int_equal(r->xfer_ranges[0].byte_offset, held[2]->xfer_ranges[0].byte_offset);
	assert_int_equal(fake_vsp_bytes(ga.vsp), base + (WAITING - 1) * per);
	fake_pass(); /* nothing more without a free section */
	assert_int_equal(xfer_sent(&gb) - first, RX_SECTIONS + 1);
	/* b gives everything back: the rest arrive, in order, and a's memory is free again. */
	give_back(r);
	for (unsigned i = 0; i < RX_SECTIONS; i++)
		if (i != 2)
			give_back(held[i]);
	next = RX_SECTIONS + 1;
	for (unsigned round = 0; round < 2 * WAITING && next < RX_SECTIONS + WAITING; round++) {
		fake_pass();
		while (gb.seen < xfer_sent(&gb))
			expect_frame(&gb, f[next++], FRAME, true, NULL);
	}
	assert_int_equal(next, RX_SECTIONS + WAITING);
	assert_int_equal(fake_vsp_bytes(ga.vsp), base);
	assert_int_equal(fake_waiting(gb.ch), 0);
	assert_int_equal(stats(&gb).rx_packets, RX_SECTIONS + WAITING);
	assert_int_equal(stats(&gb).rx_bytes, (RX_SECTIONS + WAITING) * FRAME);
	assert_int_equal(stats(&gb).rx_dropped, 0);
	assert_int_equal(port(&gb)->drops, 0);
}

/* With frames for b waiting in the switch, b's QUERY is answered first as sections free up. */
static void test_answers_before_frames(void **state)
{
	static u8 f[RX_SECTIONS + 3][FRAME];
	const struct fake_record *held[RX_SECTIONS];
	struct {
		struct rndis_oid_request q;
		u8 info[16];
	} m = {.q = {{RNDIS_MSG_QUERY, sizeof(m)},
		     77,
		     OID_GEN_LINK_SPEED,
		     0,
		     sizeof(struct rndis_oid_request) - 8,
		     0}};
	struct rndis_query_complete qc;
	const u8 *a;
	u32 speed;
	unsigned first = xfer_sent(&gb);

	for (unsigned i = 0; i < RX_SECTIONS + 3; i++) {
		make_frame(f[i], FRAME, gb.mac, ga.mac, 40 + i);
		guest_tx(&ga, f[i], FRAME);
		fake_pass();
	}
	for (unsigned i = 0; i < RX_SECTIONS; i++)
		expect_frame(&gb, f[i], FRAME, false, &held[i]);
	assert_int_equal(xfer_sent(&gb) - first, RX_SECTIONS);
	assert_true(fake_vsp_bytes(ga.vsp) >= 3 * FRAME); /* three wait in the switch */
	/* The QUERY: taken, its answer waits for a section. */
	assert_int_equal(rndis(&gb, &m, sizeof(m)), NVSP_STAT_SUCCESS);
	fake_pass();
	assert_int_equal(xfer_sent(&gb) - first, RX_SECTIONS);
	/* One section back: the answer has it, not the older frames. */
	give_back(held[0]);
	fake_pass();
	assert_int_equal(xfer_sent(&gb) - first, RX_SECTIONS + 1);
	a = guest_receive(&gb, false, &held[0]);
	memcpy(&qc, a, sizeof(qc));
	assert_int_equal(qc.h.type, RNDIS_MSG_QUERY | RNDIS_MSG_COMPLETION);
	assert_int_equal(qc.req_id, 77);
	assert_int_equal(qc.status, RNDIS_STATUS_SUCCESS);
	assert_int_equal(qc.info_len, 4);
	assert_int_equal(((const u32 *)held[0]->data)[1], NVSP_CHANNEL_CONTROL);
	memcpy(&speed, a + 8 + qc.info_offset, sizeof(speed));
	assert_int_equal(speed, 100000000);
	/* Then the frames, oldest first, one per section given back. */
	give_back(held[1]);
	fake_pass();
	assert_int_equal(xfer_sent(&gb) - first, RX_SECTIONS + 2);
	expect_frame(&gb, f[RX_SECTIONS], FRAME, true, NULL);
	give_back(held[0]);
	for (unsigned i = 2; i < RX_SECTIONS; i++)
		give_back(held[i]);
	fake_pass();
	expect_frame(&gb, f[RX_SECTIONS + 1], FRAME, true, NULL);
	expect_frame(&gb, f[RX_SECTIONS + 2], FRAME, true, NULL);
	assert_int_equal(xfer_sent(&gb) - first, RX_SECTIONS + 4);
	assert_int_equal(stats(&gb).rx_packets, RX_SECTIONS + 3);
	assert_int_equal(stats(&gb).rx_dropped, 0);
	assert_int_equal(fake_vsp_bytes(ga.vsp), 0);
	assert_int_equal(fake_waiting(gb.ch), 0);
}

/* a goes away with frames of its own waiting for b: they go with it; b's port goes on. */
static void test_sender_destroyed(void **state)
{
	static u8 f[RX_SECTIONS + 4][FRAME];
	u8 cb[90], bc[70];
	const struct fake_record *held[RX_SECTIONS];
	struct vsp *a = ga.vsp;
	u32 a_port = vsw_port_id(ga.nic->port);
	unsigned b_seen;

	for (unsigned i = 0; i < RX_SECTIONS + 4; i++) {
		make_frame(f[i], FRAME, gb.mac, ga.mac, 60 + i);
		guest_tx(&ga, f[i], FRAME);
		fake_pass();
	}
	for (unsigned i = 0; i < RX_SECTIONS; i++)
		expect_frame(&gb, f[i], FRAME, false, &held[i]);
	assert_true(fake_vsp_bytes(a) >= 4 * FRAME);
	assert_int_equal(port(&gb)->rx_packets, RX_SECTIONS + 4);
	fake_vsp_destroy(a);
	ga.nic = NULL; /* gone with its instance */
	assert_int_equal(fake_vsp_bytes(a), 0);
	/* b takes its sections back: none of a's frames arrive after all. */
	b_seen = xfer_sent(&gb);
	for (unsigned i = 0; i < RX_SECTIONS; i++)
		give_back(held[i]);
	fake_pass();
	fake_pass();
	assert_int_equal(xfer_sent(&gb), b_seen);
	assert_int_equal(stats(&gb).rx_packets, RX_SECTIONS);
	assert_int_equal(fake_waiting(gb.ch), 0);
	assert_int_equal(vsw_port_state(gb.nic->port), VSW_PORT_UP);
	/* A third partition, on the port a had: frames both ways with b. */
	guest_make(&gc, "c");
	assert_int_equal(vsw_port_id(gc.nic->port), a_port);
	guest_up(&gc);
	make_frame(cb, sizeof(cb), gb.mac, gc.mac, 1);
	guest_tx(&gc, cb, sizeof(cb));
	fake_pass();
	expect_frame(&gb, cb, sizeof(cb), true, NULL);
	make_frame(bc, sizeof(bc), gc.mac, gb.mac, 2);
	guest_tx(&gb, bc, sizeof(bc));
	fake_pass();
	expect_frame(&gc, bc, sizeof(bc), true, NULL);
	assert_int_equal(xfer_sent(&gb), b_seen + 1);
	assert_int_equal(stats(&gb).rx_packets, RX_SECTIONS + 1);
	assert_int_equal(stats(&gb).tx_packets, 1);
	assert_int_equal(stats(&gc).tx_packets, 1);
	assert_int_equal(stats(&gc).rx_packets, 1);
	assert_int_equal(port(&gc)->tx_packets, 1);
	assert_int_equal(port(&gc)->rx_packets, 1);
	assert_int_equal(port(&gb)->drops + port(&gc)->drops, 0);
	assert_int_equal(fake_vsp_bytes(gc.vsp) + fake_vsp_bytes(gb.vsp), 0);
	/* The receiver goes away too, with c's frames waiting for it: c's memory comes back. */
	for (unsigned i = 0; i < RX_SECTIONS + 3; i++) {
		make_frame(f[i], FRAME, gb.mac, gc.mac, 90 + i);
		guest_tx(&gc, f[i], FRAME);
		fake_pass();
	}
	assert_int_equal(xfer_sent(&gb), b_seen + 1 + RX_SECTIONS);
	assert_true(fake_vsp_bytes(gc.vsp) >= 3 * FRAME);
	fake_vsp_destroy(gb.vsp);
	gb.nic = NULL;
	assert_int_equal(fake_vsp_bytes(gc.vsp), 0);
	/* c alone on the switch: its frames go nowhere, and nothing breaks. */
	make_frame(cb, sizeof(cb), bcast, gc.mac, 3);
	guest_tx(&gc, cb, sizeof(cb));
	fake_pass();
	assert_int_equal(stats(&gc).tx_packets, 2 + RX_SECTIONS + 3);
	assert_int_equal(stats(&gc).tx_dropped, 0);
	assert_int_equal(fake_vsp_bytes(gc.vsp), 0);
	assert_int_equal(vsw_port_state(gc.nic->port), VSW_PORT_UP);
}

/* b's guest closes its channel: b's port goes down, the switch drops what is for it. */
static void test_receiver_closes(void **state)
{
	static u8 f[RX_SECTIONS + 2][FRAME];
	u8 ba[64], g[120];
	const struct fake_record *held[RX_SECTIONS];
	unsigned b_seen, c_seen;

	guest_make(&gc, "c");
	guest_up(&gc);
	/* b speaks first, so the switch knows where b is (a is not known: c has it too). */
	make_frame(ba, sizeof(ba), ga.mac, gb.mac, 1);
	guest_tx(&gb, ba, sizeof(ba));
	fake_pass();
	expect_frame(&ga, ba, sizeof(ba), true, NULL);
	expect_frame(&gc, ba, sizeof(ba), true, NULL);
	/* a fills b's sections and two more frames wait in the switch. */
	for (unsigned i = 0; i < RX_SECTIONS + 2; i++) {
		make_frame(f[i], FRAME, gb.mac, ga.mac, 80 + i);
		guest_tx(&ga, f[i], FRAME);
		fake_pass();
	}
	for (unsigned i = 0; i < RX_SECTIONS; i++)
		expect_frame(&gb, f[i], FRAME, false, &held[i]);
	assert_true(fake_vsp_bytes(ga.vsp) >= 2 * FRAME);
	assert_int_equal(port(&gb)->drops, 0);
	fake_close(gb.ch);
	assert_false(netvsp_ready(gb.nic));
	assert_int_equal(vsw_port_state(gb.nic->port), VSW_PORT_DOWN);
	assert_int_equal(port(&gb)->drops, 2); /* the two that waited */
	assert_int_equal(fake_vsp_bytes(ga.vsp), 0);
	/* a's frames for b: taken by the switch, dropped at b's port. */
	b_seen = xfer_sent(&gb);
	c_seen = xfer_sent(&gc);
	make_frame(g, sizeof(g), gb.mac, ga.mac, 2);
	guest_tx(&ga, g, sizeof(g));
	fake_pass();
	assert_int_equal(port(&gb)->drops, 3);
	assert_int_equal(xfer_sent(&gb), b_seen);
	assert_int_equal(xfer_sent(&gc), c_seen); /* known to be b's: not flooded */
	/* a's other sending goes on: a broadcast reaches c (not b), a unicast for c too. */
	make_frame(g, sizeof(g), bcast, ga.mac, 3);
	guest_tx(&ga, g, sizeof(g));
	fake_pass();
	expect_frame(&gc, g, sizeof(g), true, NULL);
	make_frame(g, sizeof(g), gc.mac, ga.mac, 4);
	guest_tx(&ga, g, sizeof(g));
	fake_pass();
	expect_frame(&gc, g, sizeof(g), true, NULL);
	assert_int_equal(xfer_sent(&gb), b_seen);
	assert_int_equal(port(&gb)->drops, 3);
	assert_int_equal(stats(&ga).tx_packets, RX_SECTIONS + 2 + 3);
	assert_int_equal(stats(&ga).tx_dropped, 0);
	assert_int_equal(port(&ga)->tx_packets, RX_SECTIONS + 2 + 3);
	assert_int_equal(port(&ga)->drops, 0);
	assert_int_equal(stats(&gc).rx_packets, 3);
	assert_int_equal(stats(&gb).rx_packets, RX_SECTIONS);
	assert_int_equal(fake_vsp_bytes(ga.vsp), 0);
	assert_int_equal(fake_waiting(ga.ch) + fake_waiting(gc.ch), 0);
	/* b's guest opens its channel again and comes up: a's next frame reaches it. */
	assert_int_equal(fake_open(gb.ch), VMB_STATUS_SUCCESS);
	assert_int_equal(vsw_port_state(gb.nic->port), VSW_PORT_DOWN);
	gb.seen = xfer_sent(&gb);
	guest_up(&gb);
	make_frame(g, sizeof(g), gb.mac, ga.mac, 5);
	guest_tx(&ga, g, sizeof(g));
	fake_pass();
	expect_frame(&gb, g, sizeof(g), true, NULL);
	assert_int_equal(stats(&gb).rx_packets, RX_SECTIONS + 1);
	assert_int_equal(port(&gb)->drops, 3);
	assert_int_equal(xfer_sent(&gc), c_seen + 2);
	assert_int_equal(fake_waiting(gb.ch), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_unicast_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_broadcast_and_spoofing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flow_across_partitions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_answers_before_frames, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sender_destroyed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_receiver_closes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
