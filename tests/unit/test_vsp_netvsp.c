/*
 * netvsp (vsp/netvsp/) on the host, against the VSP fake: the offers of
 * `nic =`, NVSP version negotiation, the sequence Linux's hv_netvsc runs
 * (NDIS config and version, receive and send buffers, the send table,
 * RNDIS init, its queries and sets, a frame each way), the receive
 * sections' flow control, and a hostile guest's messages. The NIC's port
 * is on a real switch (vsp/vswitch/vswitch.c) whose other port, the
 * "wire", is the test's: what the guest sends arrives there, and frames
 * for the guest are sent from there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/netvsp_guest.h"

static int group_setup(void **state)
{
	char err[160] = "";

	const struct vsw_endpoint ep = {NULL, wire_alloc, wire_free, NULL};
	struct vsw_port_info info = {.partition = "wire", .link_up = true};
	const char *names[] = {"lan", "dmz", "a", "b", "c"};

	fake_reset();
	vsw_reset_all();
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		assert_non_null(vsw_make(names[i], 8, SW_QUEUE, 300000000000ull));
	memcpy(info.mac, wire_mac, 6);
	assert_int_equal(vsw_port_attach("lan", &info, &ep, &wire, err, sizeof(err)), 0);
	fake_preset_config("nic", "lan");
	vsp = fake_vsp_create("netvsp", "linux", err, sizeof(err));
	assert_non_null(vsp);
	ch = fake_channel(vsp_bus(vsp), &nic_type);
	assert_non_null(ch);
	nic = netvsp_nic(vsp, 0);
	assert_non_null(nic);
	assert_non_null(nic->port);
	fake_add_gpadl(ch, GPADL_RX, rxbuf, sizeof(rxbuf));
	fake_add_gpadl(ch, GPADL_TX, txbuf, sizeof(txbuf));
	fake_add_gpadl(ch, GPADL_SMALL, small, sizeof(small));
	fake_add_gpadl(ch, GPADL_RING, ring + 4096, 4096);
	fake_set_ring(ch, ring, sizeof(ring));
	return 0;
}

static int setup(void **state)
{
	fake_close(ch);
	fake_clear();
	assert_int_equal(fake_open(ch), VMB_STATUS_SUCCESS);
	xfer_seen = 0;
	wire_frames();
	wire_seen = 0;
	base = counters();
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(fake_violations, 0);
	return 0;
}

/* ---- tests ---- */

static void test_offers_one_channel_per_nic(void **state)
{
	char err[160] = "";
	struct vmb_guid t0, i0, t1, i1;
	struct vsp *two;
	u8 mac[6];

	fake_preset_config("nic", "lan, dmz");
	fake_preset_config("mac", "00:15:5d:12:34:56, 02:00:00:00:00:01");
	two = fake_vsp_create("netvsp", "two", err, sizeof(err));
	assert_non_null(two);
	assert_non_null(fake_channel_nth(vsp_bus(two), &nic_type, 1));
	assert_null(fake_channel_nth(vsp_bus(two), &nic_type, 2));
	fake_channel_ids(fake_channel_nth(vsp_bus(two), &nic_type, 0), &t0, &i0);
	fake_channel_ids(fake_channel_nth(vsp_bus(two), &nic_type, 1), &t1, &i1);
	assert_memory_equal(&t0, &nic_type, sizeof(t0));
	assert_memory_equal(&t1, &nic_type, sizeof(t1));
	assert_memory_not_equal(&i0, &i1, sizeof(i0));
	assert_true(fake_enabled(fake_channel_nth(vsp_bus(two), &nic_type, 0)));
	assert_string_equal(netvsp_switch_name(netvsp_nic(two, 0)), "lan");
	assert_string_equal(netvsp_switch_name(netvsp_nic(two, 1)), "dmz");
	netvsp_get_mac(netvsp_nic(two, 1), mac);
	assert_memory_equal(mac, ((const u8[]){2, 0, 0, 0, 0, 1}), 6);
	assert_null(netvsp_nic(two, 2));
	/* The default: 00:15:5d:00:PP:NN, the partition "linux" first (index 0). */
	netvsp_get_mac(nic, mac);
	assert_memory_equal(mac, ((const u8[]){0, 0x15, 0x5d, 0, 0, 0}), 6);
	fake_preset_config("nic", "a, b, c");
	two = fake_vsp_create("netvsp", "third", err, sizeof(err));
	assert_non_null(two);
	netvsp_get_mac(netvsp_nic(two, 2), mac);
	assert_memory_equal(mac, ((const u8[]){0, 0x15, 0x5d, 0, 2, 2}), 6);
}

static void test_config_refused(void **state)
{
	char err[160] = "";
	u8 macs[4][6];
	unsigned n;

	fake_preset_config("nic", "lan, dmz");
	fake_preset_config("mac", "00:15:5d:12:34:56");
	assert_null(fake_vsp_create("netvsp", "bad", err, sizeof(err)));
	assert_non_null(strstr(err, "1 MACs for 2 NICs"));
	/* A switch the configuration does not make: refused before anything is made. */
	fake_preset_config("nic", "lan, nowhere");
	assert_null(fake_vsp_create("netvsp", "bad", err, sizeof(err)));
	assert_string_equal(err, "nic: no [switch nowhere] in the configuration");
	/* A switch with no free port: the ports already attached for the partition go again. */
	{
		struct vsw *lan = vsw_find("lan"), *full = vsw_make("full", 1, 1, 1);
		const struct vsw_endpoint ep = {NULL, wire_alloc, wire_free, NULL};
		const struct vsw_port_info info = {.partition = "other", .mac = {2, 0, 0, 0, 0, 9}};
		struct vsw_port *p;
		unsigned ports = 0;

		assert_non_null(full);
		assert_int_equal(vsw_port_attach("full", &info, &ep, &p, err, sizeof(err)), 0);
		for (u32 i = 0; i < vsw_max_ports(lan); i++)
			ports += vsw_port_by_id(lan, i) != NULL;
		fake_preset_config("nic", "lan, full");
		assert_null(fake_vsp_create("netvsp", "bad", err, sizeof(err)));
		assert_non_null(strstr(err, "nic 1: "));
		for (u32 i = 0; i < vsw_max_ports(lan); i++)
			ports -= vsw_port_by_id(lan, i) != NULL;
		assert_int_equal(ports, 0);
		vsw_port_detach(p);
	}
	assert_int_equal(netvsp_parse_macs("01:15:5d:12:34:56", macs, 4, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "multicast"));
	assert_int_equal(netvsp_parse_macs("00:15:5d:12:34", macs, 4, &n, err, sizeof(err)), -1);
	assert_int_equal(netvsp_parse_macs("00:15:5d:12:34:5g", macs, 4, &n, err, sizeof(err)), -1);
	assert_int_equal(netvsp_parse_macs("00-15-5d-12-34-56", macs, 4, &n, err, sizeof(err)), -1);
	assert_int_equal(netvsp_parse_macs("", macs, 4, &n, err, sizeof(err)), -1);
	assert_int_equal(netvsp_parse_macs(" 00:15:5D:12:34:56 ,00:15:5d:00:00:01", macs, 4, &n,
					   err, sizeof(err)),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(macs[0][2], 0x5d);
}

static void test_every_linux_version_and_no_other(void **state)
{
	static const u32 known[] = {NVSP_VERSION_1, NVSP_VERSION_2, NVSP_VERSION_4,
				    NVSP_VERSION_5, NVSP_VERSION_6, NVSP_VERSION_61};

	for (unsigned i = 0; i < ARRAY_SIZE(known); i++)
		assert_int_equal(nvsp_init(known[i], known[i]), known[i]);
	assert_int_equal(nvsp_init(0x50001, 0x50001), 0);
	assert_int_equal(nvsp_init(0x70000, 0x70000), 0);
	assert_int_equal(nvsp_init(0, 1), 0);
	assert_int_equal(nvsp_init(NVSP_VERSION_61, NVSP_VERSION_1), 0); /* min above max */
	assert_int_equal(nvsp_init(NVSP_VERSION_1, 0x7ffff), NVSP_VERSION_61);
	assert_int_equal(nvsp_init(NVSP_VERSION_2, NVSP_VERSION_5), NVSP_VERSION_5);
}

static void test_buffers_and_send_table(void **state)
{
	const struct fake_record *r;
	const u32 *c;
	u32 table[NVSP_SEND_TABLE_SIZE];

	assert_int_equal(nvsp_init(NVSP_VERSION_61, NVSP_VERSION_61), NVSP_VERSION_61);
	assert_int_equal(give_buffer(NVSP_MSG1_SEND_RECV_BUF, GPADL_RX, 0xcafe), NVSP_STAT_SUCCESS);
	c = last_completion();
	assert_int_equal(c[0], NVSP_MSG1_SEND_RECV_BUF_COMPLETE);
	assert_int_equal(c[2], 1);	     /* one section (Linux insists) */
	assert_int_equal(c[3], 0);	     /* offset */
	assert_int_equal(c[4], RX_SECTION);  /* sub_alloc_size */
	assert_int_equal(c[5], RX_SECTIONS); /* num_sub_allocs */
	assert_int_equal(c[6], RX_SECTIONS * RX_SECTION);
	assert_int_equal(fake_count(ch, FAKE_SENT), 0);
	assert_int_equal(give_buffer(NVSP_MSG1_SEND_SEND_BUF, GPADL_TX, 0), NVSP_STAT_SUCCESS);
	assert_int_equal(last_completion()[2], TX_SECTION);
	assert_int_equal(fake_mappings(ch), 2);
	/* Version 5 and later: the send table follows, where Linux looks for it. */
	r = fake_record(ch, FAKE_SENT, 0);
	assert_non_null(r);
	assert_false(r->xfer);
	assert_int_equal(((const u32 *)r->data)[0], NVSP_MSG5_SEND_INDIRECTION_TABLE);
	assert_int_equal(((const u32 *)r->data)[1], NVSP_SEND_TABLE_SIZE);
	assert_int_equal(((const u32 *)r->data)[2], NVSP_MESSAGE_SIZE);
	assert_int_equal(r->len, NVSP_MESSAGE_SIZE + sizeof(table));
	memset(table, 0xff, sizeof(table));
	memcpy(table, r->data + NVSP_MESSAGE_SIZE, sizeof(table));
	for (unsigned i = 0; i < NVSP_SEND_TABLE_SIZE; i++)
		assert_int_equal(table[i], 0);
	/* A second buffer of either kind is refused; a revoke gives each back. */
	assert_int_equal(give_buffer(NVSP_MSG1_SEND_RECV_BUF, GPADL_TX, 1), NVSP_STAT_FAIL);
	{
		const struct nvsp_revoke rv = {NVSP_MSG1_REVOKE_RECV_BUF, 0xcafe};
		const struct nvsp_revoke ts = {NVSP_MSG1_REVOKE_SEND_BUF, 0};

		fake_guest_send(ch, &rv, sizeof(rv), 0, NULL);
		fake_guest_send(ch, &ts, sizeof(ts), 0, NULL);
	}
	assert_int_equal(fake_mappings(ch), 0);
	assert_int_equal(stats().bad_messages, 1);
}

static void test_version_4_has_no_send_table(void **state)
{
	assert_int_equal(nvsp_init(NVSP_VERSION_4, NVSP_VERSION_4), NVSP_VERSION_4);
	assert_int_equal(give_buffer(NVSP_MSG1_SEND_RECV_BUF, GPADL_RX, 0xcafe), NVSP_STAT_SUCCESS);
	assert_int_equal(give_buffer(NVSP_MSG1_SEND_SEND_BUF, GPADL_TX, 0), NVSP_STAT_SUCCESS);
	assert_int_equal(fake_count(ch, FAKE_SENT), 0);
}

static void test_bad_buffers(void **state)
{
	assert_int_equal(nvsp_init(NVSP_VERSION_61, NVSP_VERSION_61), NVSP_VERSION_61);
	assert_int_equal(give_buffer(NVSP_MSG1_SEND_RECV_BUF, GPADL_SMALL, 0xcafe), NVSP_STAT_FAIL);
	assert_int_equal(give_buffer(NVSP_MSG1_SEND_RECV_BUF, GPADL_RING, 0xcafe), NVSP_STAT_FAIL);
	assert_int_equal(give_buffer(NVSP_MSG1_SEND_RECV_BUF, 99, 0xcafe), NVSP_STAT_FAIL);
	assert_int_equal(give_buffer(NVSP_MSG1_SEND_SEND_BUF, GPADL_SMALL, 0), NVSP_STAT_FAIL);
	assert_int_equal(give_buffer(NVSP_MSG1_SEND_SEND_BUF, GPADL_RING, 0), NVSP_STAT_FAIL);
	assert_int_equal(fake_mappings(ch), 0);
	/* And a re-INIT while buffers are held is refused. */
	assert_int_equal(give_buffer(NVSP_MSG1_SEND_RECV_BUF, GPADL_RX, 0xcafe), NVSP_STAT_SUCCESS);
	assert_int_equal(nvsp_init(NVSP_VERSION_61, NVSP_VERSION_61), 0);
}

static void test_bad_nvsp_messages(void **state)
{
	const u32 unknown[4] = {999, 0, 0, 0};
	const u32 early[3] = {NVSP_MSG1_SEND_RECV_BUF, GPADL_RX, 0xcafe};
	const u8 tiny[2] = {1, 0};
	const struct nvsp_init short_init = {NVSP_MSG_INIT, NVSP_VERSION_61, NVSP_VERSION_61};

	guest(early, sizeof(early)); /* before INIT */
	guest(tiny, sizeof(tiny));
	guest(&short_init, sizeof(short_init) - 1);
	assert_int_equal(nvsp_init(NVSP_VERSION_1, NVSP_VERSION_1), NVSP_VERSION_1);
	guest(unknown, sizeof(unknown));
	{
		/* NDIS config is version 2's. */
		const struct nvsp_ndis_config cfg = {NVSP_MSG2_SEND_NDIS_CONFIG, 1514, 0, 0};

		guest(&cfg, sizeof(cfg));
	}
	assert_int_equal(fake_count(ch, FAKE_FAILED), 5);
	assert_int_equal(fake_mappings(ch), 0);
	assert_int_equal(fake_in_use(ch), 0);
	assert_int_equal(stats().bad_messages, 5);
	assert_non_null(strstr(fake_log, "netvsp"));
}

static void test_linux_sequence(void **state)
{
	u8 out[256], mac[6], frame[NETVSP_FRAME_MAX], msg[2048];
	struct ndis_offload_6_0 caps;
	u32 len, v;
	struct rndis_status_complete k;
	const struct rndis_keepalive ka = {{RNDIS_MSG_KEEPALIVE, sizeof(ka)}, 42};
	const u8 offload_params[28] = {0x80, 3, 28};

	device_up();
	assert_int_equal(query(OID_802_3_PERMANENT_ADDRESS, out, &len), RNDIS_STATUS_SUCCESS);
	assert_int_equal(len, 6);
	netvsp_get_mac(nic, mac);
	assert_memory_equal(out, mac, 6);
	assert_int_equal(query(OID_GEN_MAXIMUM_FRAME_SIZE, &v, &len), RNDIS_STATUS_SUCCESS);
	assert_int_equal(len, 4);
	assert_true(v >= 1500);
	assert_int_equal(query(OID_GEN_LINK_SPEED, &v, &len), RNDIS_STATUS_SUCCESS);
	assert_int_equal(v, 100000000);
	assert_int_equal(query(OID_GEN_MEDIA_CONNECT_STATUS, &v, &len), RNDIS_STATUS_SUCCESS);
	assert_int_equal(v, RNDIS_MEDIA_CONNECTED);
	/* The capabilities: the shape rndis_query_hwcaps insists on, with nothing offered. */
	assert_int_equal(query(OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, &caps, &len),
			 RNDIS_STATUS_SUCCESS);
	assert_int_equal(len, NDIS_OFFLOAD_SIZE_6_0);
	assert_int_equal(caps.type, NDIS_OBJECT_TYPE_OFFLOAD);
	assert_true(caps.revision >= 1);
	assert_int_equal(caps.size, len);
	assert_int_equal(query(OID_GEN_RECEIVE_SCALE_CAPABILITIES, NULL, &len),
			 RNDIS_STATUS_NOT_SUPPORTED);
	assert_int_equal(len, 0);
	assert_int_equal(set(OID_TCP_OFFLOAD_PARAMETERS, offload_params, sizeof(offload_params)),
			 RNDIS_STATUS_SUCCESS);
	assert_int_equal(set(OID_802_3_CURRENT_ADDRESS, mac, 6), RNDIS_STATUS_NOT_SUPPORTED);
	assert_int_equal(set(OID_GEN_RECEIVE_SCALE_PARAMETERS, mac, 6), RNDIS_STATUS_NOT_SUPPORTED);
	/* Keep-alive. */
	assert_int_equal(rndis(&ka, sizeof(ka)), NVSP_STAT_SUCCESS);
	memcpy(&k, guest_receive(true, NULL), sizeof(k));
	assert_int_equal(k.h.type, RNDIS_MSG_KEEPALIVE | RNDIS_MSG_COMPLETION);
	assert_int_equal(k.req_id, 42);
	assert_int_equal(k.status, RNDIS_STATUS_SUCCESS);
	/* A frame from the guest, in a send section, on the data channel. */
	make_frame(frame, NETVSP_FRAME_MAX, 1);
	len = frame_msg(msg, frame, NETVSP_FRAME_MAX);
	assert_int_equal(rndis_in_section(msg, len, 3, NVSP_CHANNEL_DATA), NVSP_STAT_SUCCESS);
	assert_int_equal(wire_frames(), 1);
	assert_int_equal(tx_last_len, NETVSP_FRAME_MAX);
	assert_memory_equal(tx_last, frame, NETVSP_FRAME_MAX);
	/* One in guest pages (GPA_DIRECT), the RNDIS header and the frame in two ranges. */
	{
		const struct nvsp_rndis_pkt m = {NVSP_MSG1_SEND_RNDIS_PKT, NVSP_CHANNEL_DATA,
						 NVSP_NO_SECTION, 0};
		struct fake_ext ext = {.nr_ranges = 2,
				       .data = {msg, msg + sizeof(struct rndis_packet)}};

		make_frame(frame, 60, 2);
		len = frame_msg(msg, frame, 60);
		ext.len[0] = sizeof(struct rndis_packet);
		ext.len[1] = 60;
		fake_guest_send(ch, &m, sizeof(m),
				VMB_PACKET_COMPLETION_REQUESTED | VMB_PACKET_EXTERNAL_DATA, &ext);
		assert_int_equal(last_completion()[1], NVSP_STAT_SUCCESS);
		assert_int_equal(wire_frames(), 2);
		assert_int_equal(tx_last_len, 60);
		assert_memory_equal(tx_last, frame, 60);
	}
	/* A frame for the guest. */
	assert_int_equal(wire_send(frame, 1000, 3), VMB_STATUS_SUCCESS);
	{
		const u8 *m = guest_receive(true, NULL);
		struct rndis_packet p;

		memcpy(&p, m, sizeof(p));
		assert_int_equal(p.h.type, RNDIS_MSG_PACKET);
		assert_int_equal(p.data_len, 1000);
		assert_true(8 + p.data_offset + p.data_len <= p.h.len);
		assert_memory_equal(m + 8 + p.data_offset, frame, 1000);
	}
	assert_int_equal(stats().rx_packets, 1);
	assert_int_equal(stats().rx_bytes, 1000);
	assert_int_equal(stats().tx_packets, 2);
	assert_int_equal(fake_waiting(ch), 0);
	assert_int_equal(stats().bad_messages, 0);
}

static void test_hostile_rndis(void **state)
{
	u8 msg[TX_SECTION], frame[NETVSP_FRAME_MAX + 1];
	struct rndis_packet p;
	struct rndis_query_complete qc;
	struct rndis_status_complete sc;
	u32 len;

	device_up();
	make_frame(frame, sizeof(frame), 5);
	/* Send sections: an index out of range, a size over the section, no buffer at all. */
	len = frame_msg(msg, frame, 60);
	assert_int_equal(rndis_in_section(msg, len, TX_SECTIONS, 0), NVSP_STAT_INVALID_RNDIS);
	assert_int_equal(rndis_in_section(msg, len, 0xfffffffe, 0), NVSP_STAT_INVALID_RNDIS);
	{
		const struct nvsp_rndis_pkt m = {NVSP_MSG1_SEND_RNDIS_PKT, 0, 0, TX_SECTION + 1};

		guest(&m, sizeof(m));
		assert_int_equal(last_completion()[1], NVSP_STAT_INVALID_RNDIS);
	}
	assert_int_equal(rndis_in_section(msg, len, NVSP_NO_SECTION, 0), NVSP_STAT_INVALID_RNDIS);
	assert_int_equal(rndis_in_section(msg, len, 0, 7), NVSP_STAT_INVALID_RNDIS);
	/* RNDIS lengths: longer than what carried it, shorter than a header, an unknown type. */
	memcpy(&p, msg, sizeof(p));
	p.h.len = len + 1;
	memcpy(msg, &p, sizeof(p));
	assert_int_equal(rndis_in_section(msg, len, 0, 0), NVSP_STAT_INVALID_RNDIS);
	p.h.len = 4;
	memcpy(msg, &p, sizeof(p));
	assert_int_equal(rndis_in_section(msg, len, 0, 0), NVSP_STAT_INVALID_RNDIS);
	p.h.len = len;
	p.h.type = 0x77;
	memcpy(msg, &p, sizeof(p));
	assert_int_equal(rndis_in_section(msg, len, 0, 0), NVSP_STAT_INVALID_RNDIS);
	/* A packet whose data or per-packet info lies outside it. */
	p.h.type = RNDIS_MSG_PACKET;
	p.data_offset = 0xfffffff0;
	memcpy(msg, &p, sizeof(p));
	assert_int_equal(rndis_in_section(msg, len, 0, 0), NVSP_STAT_INVALID_RNDIS);
	p.data_offset = sizeof(p) - 8;
	p.data_len = len;
	memcpy(msg, &p, sizeof(p));
	assert_int_equal(rndis_in_section(msg, len, 0, 0), NVSP_STAT_INVALID_RNDIS);
	p.data_len = 60;
	p.ppi_offset = len;
	p.ppi_len = 12;
	memcpy(msg, &p, sizeof(p));
	assert_int_equal(rndis_in_section(msg, len, 0, 0), NVSP_STAT_INVALID_RNDIS);
	{
		/* An entry whose size runs past the list. */
		struct rndis_ppi e = {100, 0, 12};

		p.ppi_offset = sizeof(p) - 8;
		p.ppi_len = sizeof(e);
		p.data_offset = sizeof(p) - 8 + sizeof(e);
		memcpy(msg, &p, sizeof(p));
		memcpy(msg + sizeof(p), &e, sizeof(e));
		assert_int_equal(rndis_in_section(msg, len, 0, 0), NVSP_STAT_INVALID_RNDIS);
		e.size = 16;
		e.offset = 12;
		p.ppi_len = 16;
		p.data_offset = sizeof(p) - 8 + 16;
		p.h.len = sizeof(p) + 16 + 60;
		memcpy(msg, &p, sizeof(p));
		memcpy(msg + sizeof(p), &e, sizeof(e));
		memcpy(msg + sizeof(p) + 16, frame, 60);
		assert_int_equal(rndis_in_section(msg, p.h.len, 0, 0), NVSP_STAT_SUCCESS);
		assert_int_equal(wire_frames(), 1);
	}
	/* A frame over the MTU, and one shorter than a header. */
	len = frame_msg(msg, frame, NETVSP_FRAME_MAX + 1);
	assert_int_equal(rndis_in_section(msg, len, 0, 0), NVSP_STAT_INVALID_RNDIS);
	len = frame_msg(msg, frame, 13);
	assert_int_equal(rndis_in_section(msg, len, 0, 0), NVSP_STAT_INVALID_RNDIS);
	assert_int_equal(wire_frames(), 1);
	/* OID buffers outside the message: the answers say so. */
	{
		struct rndis_oid_request q = {
		    {RNDIS_MSG_QUERY, sizeof(q)}, 5, OID_GEN_LINK_SPEED, 8, sizeof(q) - 8, 0};

		assert_int_equal(rndis(&q, sizeof(q)), NVSP_STAT_SUCCESS);
		memcpy(&qc, guest_receive(true, NULL), sizeof(qc));
		assert_int_equal(qc.status, RNDIS_STATUS_INVALID_LENGTH);
		assert_int_equal(qc.info_len, 0);
		q.h.type = RNDIS_MSG_SET;
		q.oid = OID_GEN_CURRENT_PACKET_FILTER;
		q.info_len = 4;
		q.info_offset = 0xfffffffc;
		assert_int_equal(rndis(&q, sizeof(q)), NVSP_STAT_SUCCESS);
		memcpy(&sc, guest_receive(true, NULL), sizeof(sc));
		assert_int_equal(sc.status, RNDIS_STATUS_INVALID_LENGTH);
		q.h.len = 20; /* shorter than a query */
		assert_int_equal(rndis(&q, sizeof(q)), NVSP_STAT_INVALID_RNDIS);
	}
	/*
	 * Frames for the guest over its MTU are dropped by netvsp (the switch
	 * takes a tagged 1518), under a header by the switch.
	 */
	assert_int_equal(wire_send(frame, NETVSP_FRAME_MAX + 1, 4), VMB_STATUS_SUCCESS);
	assert_int_equal(stats().rx_dropped, 1);
	assert_int_equal(wire_send(frame, 10, 4), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(stats().rx_dropped, 1);
	assert_int_equal(stats().rx_packets, 0);
	assert_int_equal(fake_in_use(ch), 0);
	assert_int_equal(fake_waiting(ch), 0);
	/* The device still works. */
	make_frame(frame, 100, 9);
	len = frame_msg(msg, frame, 100);
	assert_int_equal(rndis_in_section(msg, len, 2, 0), NVSP_STAT_SUCCESS);
	assert_int_equal(wire_frames(), 2);
}

static bool untouched(const u8 *p, u32 len)
{
	for (u32 i = 0; i < len; i++)
		if (p[i] != 0xaa)
			return false;
	return true;
}

/*
 * A frame from the guest is read once, straight into the switch: every byte
 * of the message is read from guest memory exactly once, the header and
 * info list into netvsp, the frame into the switch's entry, however the
 * guest laid it out (a send section; pages with the frame split across
 * ranges at odd places; an info list after the frame, copied out whole).
 */
static void test_a_frame_is_read_once(void **state)
{
	const struct nvsp_rndis_pkt pages = {NVSP_MSG1_SEND_RNDIS_PKT, NVSP_CHANNEL_DATA,
					     NVSP_NO_SECTION, 0};
	struct rndis_ppi e = {16, 0, 12}; /* a checksum entry: 4 bytes of payload */
	u8 msg[TX_SECTION], frame[NETVSP_FRAME_MAX];
	struct rndis_packet p = {.h = {RNDIS_MSG_PACKET}};
	u32 len, head = sizeof(p) + sizeof(e) + 4;

	(void)state;
	device_up();
	/* Linux's layout: header, info list, frame; in a send section. */
	make_frame(frame, NETVSP_FRAME_MAX, 6);
	p.ppi_offset = sizeof(p) - 8;
	p.ppi_len = sizeof(e) + 4;
	p.data_offset = head - 8;
	p.data_len = NETVSP_FRAME_MAX;
	p.h.len = len = head + NETVSP_FRAME_MAX;
	memcpy(msg, &p, sizeof(p));
	memcpy(msg + sizeof(p), &e, sizeof(e));
	memset(msg + sizeof(p) + sizeof(e), 0, 4);
	memcpy(msg + head, frame, NETVSP_FRAME_MAX);
	fake_bytes_read = 0;
	memset(nic->scratch, 0xaa, sizeof(nic->scratch));
	assert_int_equal(rndis_in_section(msg, len, 2, NVSP_CHANNEL_DATA), NVSP_STAT_SUCCESS);
	assert_int_equal(fake_bytes_read, len);
	assert_true(untouched(nic->scratch + head, len - head)); /* the frame went past netvsp */
	assert_int_equal(wire_frames(), 1);
	assert_int_equal(tx_last_len, NETVSP_FRAME_MAX);
	assert_memory_equal(tx_last, frame, NETVSP_FRAME_MAX);
	/* In pages: the header and part of the info list, then the frame in three pieces. */
	{
		struct fake_ext ext = {.nr_ranges = 4,
				       .data = {msg, msg + 50, msg + head + 101, msg + head + 108},
				       .len = {50, head - 50 + 101, 7, NETVSP_FRAME_MAX - 108}};

		make_frame(frame, NETVSP_FRAME_MAX, 7);
		memcpy(msg + head, frame, NETVSP_FRAME_MAX);
		fake_bytes_read = 0;
		memset(nic->scratch, 0xaa, sizeof(nic->scratch));
		fake_guest_send(ch, &pages, sizeof(pages),
				VMB_PACKET_COMPLETION_REQUESTED | VMB_PACKET_EXTERNAL_DATA, &ext);
		assert_int_equal(last_completion()[1], NVSP_STAT_SUCCESS);
		assert_int_equal(fake_bytes_read, len);
		assert_true(untouched(nic->scratch + head, len - head));
		assert_int_equal(wire_frames(), 2);
		assert_memory_equal(tx_last, frame, NETVSP_FRAME_MAX);
		/* Ranges that end before the frame does: refused, nothing sent. */
		ext.nr_ranges = 3;
		fake_guest_send(ch, &pages, sizeof(pages),
				VMB_PACKET_COMPLETION_REQUESTED | VMB_PACKET_EXTERNAL_DATA, &ext);
		assert_int_equal(last_completion()[1], NVSP_STAT_INVALID_RNDIS);
		assert_int_equal(wire_frames(), 2);
	}
	/* The info list after the frame: the message is copied out whole, the frame from it. */
	make_frame(frame, 200, 8);
	p.data_offset = sizeof(p) - 8;
	p.data_len = 200;
	p.ppi_offset = sizeof(p) + 200 - 8;
	p.h.len = len = sizeof(p) + 200 + sizeof(e) + 4;
	memcpy(msg, &p, sizeof(p));
	memcpy(msg + sizeof(p), frame, 200);
	memcpy(msg + sizeof(p) + 200, &e, sizeof(e));
	fake_bytes_read = 0;
	assert_int_equal(rndis_in_section(msg, len, 0, NVSP_CHANNEL_DATA), NVSP_STAT_SUCCESS);
	assert_int_equal(fake_bytes_read, len);
	assert_int_equal(wire_frames(), 3);
	assert_int_equal(tx_last_len, 200);
	assert_memory_equal(tx_last, frame, 200);
	assert_int_equal(stats().tx_packets, 3);
	assert_int_equal(stats().bad_messages, 1);
}

static void test_receive_sections_flow(void **state)
{
	u8 frame[200];
	const struct fake_record *held[RX_SECTIONS];
	unsigned before;

	u64 drops;

	device_up();
	before = xfer_sent();
	drops = vsw_port_counters(nic->port)->drops;
	/*
	 * Every section in use: further frames wait in the switch, up to its
	 * queue for the port, then the switch drops them (its counters).
	 */
	for (unsigned i = 0; i < RX_SECTIONS + SW_QUEUE + 3; i++)
		assert_int_equal(wire_send(frame, sizeof(frame), i), VMB_STATUS_SUCCESS);
	assert_int_equal(xfer_sent() - before, RX_SECTIONS);
	assert_int_equal(vsw_port_counters(nic->port)->drops - drops, 3);
	assert_int_equal(stats().rx_dropped, 0);
	assert_int_equal(fake_waiting(ch), RX_SECTIONS);
	for (unsigned i = 0; i < RX_SECTIONS; i++)
		guest_receive(false, &held[i]);
	/* The guest returns two sections: two waiting frames go out at the next pass, in order. */
	assert_int_equal(fake_complete_sent(held[3], VMB_STATUS_SUCCESS, NULL, 0), 0);
	assert_int_equal(fake_complete_sent(held[5], VMB_STATUS_SUCCESS, NULL, 0), 0);
	assert_int_equal(fake_complete_sent(held[5], VMB_STATUS_SUCCESS, NULL, 0),
			 VMB_STATUS_INVALID_PARAMETER);
	fake_pass();
	assert_int_equal(xfer_sent() - before, RX_SECTIONS + 2);
	{
		const struct fake_record *r;
		const u8 *m = guest_receive(true, &r);
		struct rndis_packet p;

		u8 want[sizeof(frame)];

		memcpy(&p, m, sizeof(p));
		for (u32 i = 0; i < sizeof(want); i++)
			want[i] = (u8)(RX_SECTIONS * 7 + i);
		netvsp_get_mac(nic, want);
		memcpy(want + 6, wire_mac, 6);
		assert_memory_equal(m + 8 + p.data_offset, want, sizeof(want));
		/* In a section the guest gave back. */
		assert_true(r->xfer_ranges[0].byte_offset == held[3]->xfer_ranges[0].byte_offset ||
			    r->xfer_ranges[0].byte_offset == held[5]->xfer_ranges[0].byte_offset);
	}
	/* A full host->guest ring: the frame waits too, and goes once there is room. */
	for (unsigned i = 0; i < RX_SECTIONS; i++)
		if (i != 3 && i != 5)
			fake_complete_sent(held[i], VMB_STATUS_SUCCESS, NULL, 0);
	/* The guest takes what comes as it comes: the queue empties, nothing else is lost. */
	for (unsigned round = 0; round < 4 * SW_QUEUE; round++) {
		fake_pass();
		while (xfer_seen < xfer_sent())
			guest_receive(true, NULL);
	}
	assert_int_equal(stats().rx_packets, RX_SECTIONS + SW_QUEUE);
	assert_int_equal(stats().rx_dropped, 0);
	assert_int_equal(vsw_port_counters(nic->port)->drops - drops, 3);
	assert_int_equal(fake_waiting(ch), 0);
	/* A full host->guest ring: the frame waits in the switch, and goes once there is room. */
	fake_ring_room = 0;
	assert_int_equal(wire_send(frame, sizeof(frame), 77), VMB_STATUS_SUCCESS);
	assert_int_equal(stats().rx_packets, RX_SECTIONS + SW_QUEUE);
	fake_ring_room = FAKE_RING_UNLIMITED;
	fake_pass();
	assert_int_equal(stats().rx_packets, RX_SECTIONS + SW_QUEUE + 1);
	/* A revoke with sections out: their late completions free nothing of the next buffer. */
	{
		const struct nvsp_revoke rv = {NVSP_MSG1_REVOKE_RECV_BUF, 0xcafe};
		const struct fake_record *late = NULL;

		for (unsigned i = 0; i < 2 * RX_SECTIONS; i++)
			if (xfer_seen < xfer_sent())
				guest_receive(false, &late);
		assert_non_null(late);
		fake_guest_send(ch, &rv, sizeof(rv), 0, NULL);
		assert_false(netvsp_ready(nic));
		/* Its port is down: the switch drops what comes for it. */
		assert_int_equal(vsw_port_state(nic->port), VSW_PORT_DOWN);
		drops = vsw_port_counters(nic->port)->drops;
		assert_int_equal(wire_send(frame, sizeof(frame), 78), VMB_STATUS_SUCCESS);
		assert_int_equal(vsw_port_counters(nic->port)->drops - drops, 1);
		assert_int_equal(fake_complete_sent(late, VMB_STATUS_SUCCESS, NULL, 0), 0);
	}
}

/* The port is up only while the guest wants frames: RNDIS up with a packet filter. */
static void test_receive_needs_an_open_device(void **state)
{
	u8 frame[64] = {0};
	const u32 filter = 0x9, none = 0;
	u64 drops = vsw_port_counters(nic->port)->drops;

	assert_int_equal(vsw_port_state(nic->port), VSW_PORT_DOWN);
	wire_send(frame, sizeof(frame), 1); /* nothing negotiated */
	nvsp_up();
	rndis_init();
	assert_int_equal(vsw_port_state(nic->port), VSW_PORT_DOWN);
	wire_send(frame, sizeof(frame), 2); /* no packet filter yet */
	assert_int_equal(vsw_port_counters(nic->port)->drops - drops, 2);
	assert_int_equal(set(OID_GEN_CURRENT_PACKET_FILTER, &filter, sizeof(filter)),
			 RNDIS_STATUS_SUCCESS);
	guest_receive(true, NULL); /* the link indication */
	assert_int_equal(vsw_port_state(nic->port), VSW_PORT_UP);
	assert_int_equal(set(OID_GEN_CURRENT_PACKET_FILTER, &none, sizeof(none)),
			 RNDIS_STATUS_SUCCESS);
	assert_int_equal(vsw_port_state(nic->port), VSW_PORT_DOWN);
	assert_int_equal(set(OID_GEN_CURRENT_PACKET_FILTER, &filter, sizeof(filter)),
			 RNDIS_STATUS_SUCCESS);
	assert_int_equal(vsw_port_state(nic->port), VSW_PORT_UP);
	{
		const struct rndis_header halt[2] = {{RNDIS_MSG_HALT, 12}};

		assert_int_equal(rndis(halt, sizeof(halt)), NVSP_STAT_SUCCESS);
	}
	assert_int_equal(vsw_port_state(nic->port), VSW_PORT_DOWN);
	wire_send(frame, sizeof(frame), 3);
	assert_int_equal(stats().rx_packets, 0);
	/* The guest's frames while the port is down are refused by the switch: tx_dropped. */
	{
		u8 msg[256];
		u32 len;

		make_frame(frame, sizeof(frame), 4);
		len = frame_msg(msg, frame, sizeof(frame));
		assert_int_equal(rndis_in_section(msg, len, 0, NVSP_CHANNEL_DATA),
				 NVSP_STAT_SUCCESS);
		assert_int_equal(stats().tx_dropped, 1);
		assert_int_equal(wire_frames(), 0);
	}
}

static void test_close_forgets_the_guest(void **state)
{
	u8 frame[64] = {0};

	device_up();
	assert_int_equal(wire_send(frame, sizeof(frame), 1), VMB_STATUS_SUCCESS);
	assert_int_equal(stats().rx_packets, 1);
	assert_int_equal(fake_mappings(ch), 2);
	fake_close(ch);
	assert_int_equal(fake_mappings(ch), 0);
	assert_false(netvsp_ready(nic));
	assert_int_equal(vsw_port_state(nic->port), VSW_PORT_DOWN);
	assert_int_equal(fake_open(ch), VMB_STATUS_SUCCESS);
	assert_int_equal(vsw_port_state(nic->port), VSW_PORT_DOWN);
	wire_send(frame, sizeof(frame), 2);
	assert_int_equal(stats().rx_packets, 1);
	nvsp_up(); /* a new session from the start */
}

/* The instance's record as the door saves it (malloc'd, *len bytes). */
static u8 *save_record(u32 *len)
{
	u8 *buf;

	*len = 0;
	assert_int_equal(fake_vsp_save(vsp, NULL, 0, len), VMB_STATUS_BUFFER_TOO_SMALL);
	buf = malloc(*len);
	assert_non_null(buf);
	assert_int_equal(fake_vsp_save(vsp, buf, *len, len), VMB_STATUS_SUCCESS);
	assert_int_equal(fake_vsp_check(vsp, buf, *len), VMB_STATUS_SUCCESS);
	return buf;
}

/*
 * A snapshot with every receive section out and an RNDIS answer waiting for
 * one: after the restore the guest completes its old sections (each freed
 * once), the answer goes out first, frames flow both ways, nothing is
 * negotiated again and the counters are the snapshot's.
 */
static void test_snapshot_carries_the_session(void **state)
{
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
	struct netvsp_stats saved;
	u8 frame[300], msg[512], *rec;
	u32 len, v;

	device_up();
	for (unsigned i = 0; i < RX_SECTIONS; i++) {
		assert_int_equal(wire_send(frame, sizeof(frame), i), VMB_STATUS_SUCCESS);
		guest_receive(false, &held[i]);
	}
	assert_int_equal(rndis(&m, sizeof(m)), NVSP_STAT_SUCCESS); /* its answer has to wait */
	assert_int_equal(nic->q_count, 1);
	saved = counters();
	rec = save_record(&len);
	assert_int_equal(fake_save(ch), RX_SECTIONS);
	/* The guest's side goes on from the snapshot: the channel and netvsp are rebuilt. */
	assert_int_equal(fake_restore(ch), RX_SECTIONS);
	assert_int_equal(fake_vsp_restore(vsp, rec, len), VMB_STATUS_SUCCESS);
	free(rec);
	assert_true(netvsp_ready(nic));
	assert_int_equal(vsw_port_state(nic->port), VSW_PORT_UP);
	assert_int_equal(fake_mappings(ch), 2);
	assert_int_equal(nic->rx_busy, RX_SECTIONS);
	assert_int_equal(nic->q_count, 1);
	assert_int_equal(fake_waiting(ch), RX_SECTIONS);
	assert_int_equal(counters().rx_packets, saved.rx_packets);
	assert_int_equal(counters().tx_packets, saved.tx_packets);
	/* The guest returns a section: the answer takes it before any frame. */
	assert_int_equal(fake_complete_sent(held[0], VMB_STATUS_SUCCESS, NULL, 0), 0);
	assert_int_equal(fake_complete_sent(held[0], VMB_STATUS_SUCCESS, NULL, 0),
			 VMB_STATUS_INVALID_PARAMETER);
	fake_pass();
	memcpy(&qc, guest_receive(true, NULL), sizeof(qc));
	assert_int_equal(qc.h.type, RNDIS_MSG_QUERY | RNDIS_MSG_COMPLETION);
	assert_int_equal(qc.req_id, 77);
	for (unsigned i = 1; i < RX_SECTIONS; i++)
		assert_int_equal(fake_complete_sent(held[i], VMB_STATUS_SUCCESS, NULL, 0), 0);
	assert_int_equal(nic->rx_busy, 0);
	/* Frames both ways, on the buffers of before the snapshot. */
	assert_int_equal(wire_send(frame, sizeof(frame), 40), VMB_STATUS_SUCCESS);
	{
		struct rndis_packet p;
		const u8 *got = guest_receive(true, NULL);

		memcpy(&p, got, sizeof(p));
		assert_int_equal(p.data_len, sizeof(frame));
		assert_memory_equal(got + 8 + p.data_offset, frame, sizeof(frame));
	}
	make_frame(frame, 100, 41);
	len = frame_msg(msg, frame, 100);
	assert_int_equal(rndis_in_section(msg, len, 2, NVSP_CHANNEL_DATA), NVSP_STAT_SUCCESS);
	assert_int_equal(wire_frames(), 1);
	assert_memory_equal(tx_last, frame, 100);
	assert_int_equal(counters().rx_packets, saved.rx_packets + 1);
	assert_int_equal(query(OID_GEN_CURRENT_PACKET_FILTER, &v, NULL), RNDIS_STATUS_SUCCESS);
	assert_int_equal(v, 0x9);
}

/* A record corrupted field by field is refused by check and by restore, and changes nothing. */
static void test_snapshot_records_refused(void **state)
{
	static const struct {
		u32 at, value;
		vmb_status want;
	} bad[] = {
	    {0, 3, VMB_STATUS_REVISION_MISMATCH}, /* version */
	    {4, 15, VMB_STATUS_DATA_ERROR},	  /* size */
	    {8, 2, VMB_STATUS_DATA_ERROR},	  /* NIC count other than the configuration's */
	    {12, 0, VMB_STATUS_DATA_ERROR},	  /* open mask disagreeing with the NIC's flags */
	    {16, 8, VMB_STATUS_DATA_ERROR},	  /* a NIC part shorter than its fields */
	    {20, 0x80, VMB_STATUS_DATA_ERROR},	  /* an unknown flag */
	    {24, 0x70000, VMB_STATUS_DATA_ERROR}, /* an NVSP version netvsp does not know */
	    {44, 4097, VMB_STATUS_DATA_ERROR},	  /* more sections than netvsp tracks */
	    {48, RX_SECTIONS, VMB_STATUS_DATA_ERROR}, /* the search hint past the sections */
	    {68, 17, VMB_STATUS_DATA_ERROR},	      /* more queued messages than the queue */
	    {72, 100000, VMB_STATUS_DATA_ERROR},      /* port state longer than there can be */
	    {76, 1, VMB_STATUS_DATA_ERROR},	      /* reserved */
	    {136, 0, VMB_STATUS_DATA_ERROR},	      /* a queued message of no bytes */
	    {140, 9, VMB_STATUS_DATA_ERROR},	      /* of no channel type */
	};
	const struct {
		struct rndis_oid_request q;
		u8 info[16];
	} m = {.q = {{RNDIS_MSG_QUERY, sizeof(m)},
		     5,
		     OID_GEN_LINK_SPEED,
		     0,
		     sizeof(struct rndis_oid_request) - 8,
		     0}};
	u8 frame[64], *rec, *copy;
	u32 len, open_len;

	device_up();
	for (unsigned i = 0; i < RX_SECTIONS; i++)
		assert_int_equal(wire_send(frame, sizeof(frame), i), VMB_STATUS_SUCCESS);
	assert_int_equal(rndis(&m, sizeof(m)), NVSP_STAT_SUCCESS);
	assert_int_equal(nic->q_count, 1); /* one queued message at offset 136 */
	rec = save_record(&open_len);
	copy = malloc(open_len + 1);
	assert_non_null(copy);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		memcpy(copy, rec, open_len);
		memcpy(copy + bad[i].at, &bad[i].value, 4);
		assert_int_equal(fake_vsp_check(vsp, copy, open_len), bad[i].want);
		assert_int_equal(fake_vsp_restore(vsp, copy, open_len), bad[i].want);
		assert_true(netvsp_ready(nic)); /* nothing changed */
		assert_int_equal(nic->q_count, 1);
	}
	memcpy(copy, rec, open_len);
	copy[open_len] = 0;
	assert_int_equal(fake_vsp_check(vsp, copy, open_len + 1), VMB_STATUS_DATA_ERROR);
	assert_int_equal(fake_vsp_restore(vsp, copy, open_len + 1), VMB_STATUS_DATA_ERROR);
	assert_true(netvsp_ready(nic));
	assert_int_equal(fake_vsp_check(vsp, copy, open_len - 1), VMB_STATUS_DATA_ERROR);
	assert_int_equal(fake_vsp_check(vsp, copy, 3), VMB_STATUS_DATA_ERROR);
	/* A packet's part: the wrong size, version, kind or section. */
	{
		u8 part[56] = {1, 0, 1, 0};

		assert_int_equal(fake_check_one(ch, 0, part, sizeof(part)), VMB_STATUS_SUCCESS);
		assert_int_equal(fake_check_one(ch, 0, part, 55), VMB_STATUS_DATA_ERROR);
		part[0] = 2;
		assert_int_equal(fake_check_one(ch, 0, part, sizeof(part)),
				 VMB_STATUS_REVISION_MISMATCH);
		part[0] = 1;
		part[2] = 3;
		assert_int_equal(fake_check_one(ch, 0, part, sizeof(part)), VMB_STATUS_DATA_ERROR);
		part[2] = 1;
		part[5] = 0x10; /* section 4096 */
		assert_int_equal(fake_check_one(ch, 0, part, sizeof(part)), VMB_STATUS_DATA_ERROR);
	}
	/* Closed NICs: saved, checked and restored; the record before NIC state too. */
	fake_close(ch);
	free(rec);
	rec = save_record(&len);
	assert_int_equal(fake_vsp_restore(vsp, rec, len), VMB_STATUS_SUCCESS);
	assert_false(netvsp_ready(nic));
	{
		u32 v1[4] = {1, 16, 1, 0};

		assert_int_equal(fake_vsp_check(vsp, v1, sizeof(v1)), VMB_STATUS_SUCCESS);
		v1[3] = 1; /* it could not say what an open NIC held */
		assert_int_equal(fake_vsp_check(vsp, v1, sizeof(v1)), VMB_STATUS_DATA_ERROR);
	}
	free(rec);
	free(copy);
}

/* A completion the library cannot take (out of host memory) waits; delivery pauses meanwhile. */
static void test_completion_waits_for_memory(void **state)
{
	const struct nvsp_init m = {NVSP_MSG_INIT, NVSP_VERSION_61, NVSP_VERSION_61};
	const struct nvsp_ndis_version ver = {NVSP_MSG1_SEND_NDIS_VERSION, 6, 30};

	fake_ring_room =
	    0; /* the fake then refuses completions as the library does out of memory */
	guest(&m, sizeof(m));
	assert_int_equal(fake_count(ch, FAKE_COMPLETION), 0);
	assert_int_equal(fake_in_use(ch), 1);
	assert_true(fake_paused(ch));
	guest(&ver, sizeof(ver));
	assert_int_equal(fake_guest_queued(ch), 1); /* waits in the ring */
	fake_pass();
	assert_int_equal(fake_in_use(ch), 1);
	fake_ring_room = FAKE_RING_UNLIMITED;
	fake_pass();
	assert_int_equal(fake_count(ch, FAKE_COMPLETION), 2);
	/* In order: the INIT's answer, then the NDIS version's (empty). */
	assert_int_equal(((const u32 *)fake_record(ch, FAKE_COMPLETION, 0)->data)[0],
			 NVSP_MSG_INIT_COMPLETE);
	assert_int_equal(fake_record(ch, FAKE_COMPLETION, 1)->len, 0);
	assert_false(fake_paused(ch));
	assert_int_equal(fake_guest_queued(ch), 0);
	assert_int_equal(fake_in_use(ch), 0);
}

static void test_nic_command(void **state)
{
	const char *out;

	device_up();
	out = fake_command("nic linux");
	assert_non_null(strstr(out, "nic partition=linux index=0 switch=lan "
				    "mac=00:15:5d:00:00:00 state=open nvsp=0x60001 rndis=up"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_offers_one_channel_per_nic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_linux_version_and_no_other, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_buffers_and_send_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_version_4_has_no_send_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_buffers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_nvsp_messages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_linux_sequence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_rndis, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_frame_is_read_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_receive_sections_flow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_receive_needs_an_open_device, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_forgets_the_guest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_carries_the_session, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_records_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_completion_waits_for_memory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nic_command, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
