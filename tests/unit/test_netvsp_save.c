/*
 * netvsp's saved state (vsp/netvsp/save.c) beyond what test_vsp_netvsp.c
 * covers: a completion owed across a snapshot (the NIC paused, an RNDIS
 * answer queued), a record whose NIC state disagrees with the channel that
 * came back (the channel wins, the mappings the record does not name are
 * given back), the two-call save, the version-1 record, section counts
 * clipped to the mapping the restore gave back. Through the VSP fake, as
 * test_vsp_netvsp.c does (the guest's side: netvsp_guest.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/netvsp_guest.h"

static struct vsw *lan; /* with the built-in extensions */

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
	/* lan has the built-in extensions, whose per-port state a snapshot carries. */
	lan = vsw_find("lan");
	assert_int_equal(
	    vsw_ext_register(lan, &vsw_portstats_ops, vsw_portstats_ctx(vsw_index(lan))), 0);
	assert_int_equal(vsw_ext_register(lan, &vsw_firewall_ops, vsw_firewall_ctx(vsw_index(lan))),
			 0);
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

/* Offsets in the instance's record (save.c): the head, then the NIC's part. */
#define REC_OPEN_MASK	12
#define REC_FLAGS	20
#define REC_RX_SECTIONS 44
#define SAVED_OPEN	1u

/* The instance's record as the door saves it (malloc'd, *len bytes), checked. */
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

static void put32(u8 *rec, u32 at, u32 v)
{
	memcpy(rec + at, &v, sizeof(v));
}

static u32 get32(const u8 *rec, u32 at)
{
	u32 v;

	memcpy(&v, rec + at, sizeof(v));
	return v;
}

/*
 * A KEEPALIVE whose NVSP completion the library cannot take (no room) and
 * whose answer waits for a section: saved with the NIC paused; after the
 * restore (the library keeps a channel its VSP paused paused) the owed
 * completion goes out first, then delivery starts again and the answer
 * arrives.
 */
static void test_owed_completion_across_a_snapshot(void **state)
{
	const struct rndis_keepalive k = {{RNDIS_MSG_KEEPALIVE, sizeof(k)}, 0x4242};
	const struct nvsp_rndis_pkt m = {NVSP_MSG1_SEND_RNDIS_PKT, NVSP_CHANNEL_CONTROL, 1,
					 sizeof(k)};
	struct rndis_status_complete kc;
	unsigned completions;
	u8 frame[80], msg[256], *rec;
	const u32 *c;
	u32 len, filter;

	device_up();
	completions = fake_count(ch, FAKE_COMPLETION);
	fake_ring_room = 0;
	memcpy(txbuf + TX_SECTION, &k, sizeof(k));
	guest(&m, sizeof(m));
	assert_int_equal(fake_count(ch, FAKE_COMPLETION), completions);
	assert_int_equal(fake_in_use(ch), 1); /* the owed completion */
	assert_true(fake_paused(ch));
	assert_int_equal(nic->nr_owed, 1);
	assert_int_equal(nic->q_count, 1); /* the answer: the ring has no room for it either */
	rec = save_record(&len);
	assert_int_equal(fake_save(ch), 1);
	assert_int_equal(fake_restore(ch), 1);
	assert_int_equal(vmb_channel_pause(ch),
			 VMB_STATUS_SUCCESS); /* as the library restores it */
	assert_int_equal(fake_vsp_restore(vsp, rec, len), VMB_STATUS_SUCCESS);
	fake_pass(); /* the firewall's restore completes: the port leaves restoring */
	free(rec);
	assert_int_equal(nic->nr_owed, 1);
	assert_true(nic->paused);
	assert_int_equal(nic->q_count, 1);
	assert_true(netvsp_ready(nic));
	fake_pass();
	assert_true(fake_paused(ch)); /* still no room: still owed, still paused */
	assert_int_equal(nic->nr_owed, 1);
	fake_ring_room = FAKE_RING_UNLIMITED;
	fake_pass();
	assert_int_equal(nic->nr_owed, 0);
	assert_false(fake_paused(ch));
	assert_int_equal(fake_count(ch, FAKE_COMPLETION), completions + 1);
	c = last_completion();
	assert_int_equal(c[0], NVSP_MSG1_SEND_RNDIS_PKT_COMPLETE);
	assert_int_equal(c[1], NVSP_STAT_SUCCESS);
	assert_int_equal(fake_in_use(ch), 0);
	fake_pass();
	memcpy(&kc, guest_receive(true, NULL), sizeof(kc));
	assert_int_equal(kc.h.type, RNDIS_MSG_KEEPALIVE | RNDIS_MSG_COMPLETION);
	assert_int_equal(kc.req_id, 0x4242);
	assert_int_equal(kc.status, RNDIS_STATUS_SUCCESS);
	assert_int_equal(nic->q_count, 0);
	/* RNDIS still up with its filter; a frame from the guest reaches the wire. */
	assert_int_equal(query(OID_GEN_CURRENT_PACKET_FILTER, &filter, NULL), RNDIS_STATUS_SUCCESS);
	assert_int_equal(filter, 0x9);
	make_frame(frame, 80, 3);
	len = frame_msg(msg, frame, 80);
	assert_int_equal(rndis_in_section(msg, len, 2, NVSP_CHANNEL_DATA), NVSP_STAT_SUCCESS);
	assert_int_equal(wire_frames(), 1);
	assert_memory_equal(tx_last, frame, 80);
	assert_int_equal(stats().tx_packets, 1);
}

/* Saved open, but the channel came back closed: the channel wins, nothing is taken back. */
static void test_record_open_channel_closed(void **state)
{
	u8 frame[64], *rec;
	u32 len;

	device_up();
	assert_int_equal(wire_send(frame, sizeof(frame), 1), VMB_STATUS_SUCCESS);
	rec = save_record(&len);
	fake_close(ch);
	assert_int_equal(fake_vsp_check(vsp, rec, len), VMB_STATUS_SUCCESS);
	assert_int_equal(fake_vsp_restore(vsp, rec, len), VMB_STATUS_SUCCESS);
	fake_pass(); /* the firewall's restore completes: the port leaves restoring */
	free(rec);
	assert_false(nic->open);
	assert_false(netvsp_ready(nic));
	assert_null(nic->rx_map);
	assert_int_equal(nic->q_count, 0);
	assert_int_equal(fake_mappings(ch), 0);
	assert_int_equal(vsw_port_state(nic->port), VSW_PORT_DOWN);
	assert_int_equal(fake_open(ch), VMB_STATUS_SUCCESS);
	nvsp_up(); /* a new session from the start */
}

/*
 * The channel came back open with its two mappings, but the record says
 * the NIC was closed: the restore gives the mappings back, the old sections'
 * completions free nothing, and the guest can start a new session.
 */
static void test_record_closed_channel_open(void **state)
{
	const struct fake_record *held;
	u8 frame[64], *rec;
	u32 len;

	device_up();
	assert_int_equal(wire_send(frame, sizeof(frame), 1), VMB_STATUS_SUCCESS);
	guest_receive(false, &held);
	rec = save_record(&len);
	put32(rec, REC_OPEN_MASK, 0);
	put32(rec, REC_FLAGS, get32(rec, REC_FLAGS) & ~SAVED_OPEN);
	assert_int_equal(fake_vsp_check(vsp, rec, len), VMB_STATUS_SUCCESS);
	assert_int_equal(fake_save(ch), 1);
	assert_int_equal(fake_restore(ch), 1);
	assert_int_equal(fake_mappings(ch), 2); /* taken in `opened` */
	assert_int_equal(fake_vsp_restore(vsp, rec, len), VMB_STATUS_SUCCESS);
	fake_pass(); /* the firewall's restore completes: the port leaves restoring */
	free(rec);
	assert_int_equal(fake_mappings(ch), 0);
	assert_null(nic->rx_map);
	assert_null(nic->tx_map);
	assert_int_equal(nic->version, 0);
	assert_int_equal(nic->rx_busy, 0);
	assert_false(netvsp_ready(nic));
	assert_int_equal(fake_complete_sent(held, VMB_STATUS_SUCCESS, NULL, 0), VMB_STATUS_SUCCESS);
	assert_int_equal(nic->rx_busy, 0);
	nvsp_up();
	assert_int_equal(fake_mappings(ch), 2);
}

/* The record's size is asked for first; anything smaller is BUFFER_TOO_SMALL, nothing written. */
static void test_two_call_save(void **state)
{
	const struct {
		struct rndis_oid_request q;
		u8 info[16];
	} m = {.q = {{RNDIS_MSG_QUERY, sizeof(m)},
		     3,
		     OID_GEN_LINK_SPEED,
		     0,
		     sizeof(struct rndis_oid_request) - 8,
		     0}};
	u8 frame[64], *rec, *buf;
	u32 len, need;

	device_up();
	for (unsigned i = 0; i < RX_SECTIONS; i++)
		assert_int_equal(wire_send(frame, sizeof(frame), i), VMB_STATUS_SUCCESS);
	assert_int_equal(rndis(&m, sizeof(m)), NVSP_STAT_SUCCESS);
	rec = save_record(&len);
	buf = malloc(len);
	assert_non_null(buf);
	memset(buf, 0xa5, len);
	need = 0;
	assert_int_equal(fake_vsp_save(vsp, buf, len - 1, &need), VMB_STATUS_BUFFER_TOO_SMALL);
	assert_int_equal(need, len);
	for (u32 i = 0; i < len; i++)
		assert_int_equal(buf[i], 0xa5);
	assert_int_equal(fake_vsp_save(vsp, buf, len, &need), VMB_STATUS_SUCCESS);
	assert_memory_equal(buf, rec, len); /* the same twice: nothing changed in between */
	free(buf);
	free(rec);
}

/*
 * Version 1 (the head alone, before NIC state was saved): taken when it says
 * no NIC was open, of exactly its size and of the configuration's NIC count;
 * a channel that came back open anyway gives its mappings back.
 */
static void test_version_1(void **state)
{
	u32 v1[5] = {1, 16, 1, 0, 0};

	assert_int_equal(fake_vsp_check(vsp, v1, 16), VMB_STATUS_SUCCESS);
	assert_int_equal(fake_vsp_check(vsp, v1, 20), VMB_STATUS_DATA_ERROR); /* a byte too many */
	assert_int_equal(fake_vsp_check(vsp, v1, 12), VMB_STATUS_DATA_ERROR);
	v1[2] = 2;
	assert_int_equal(fake_vsp_check(vsp, v1, 16),
			 VMB_STATUS_DATA_ERROR); /* another NIC count */
	v1[2] = 1;
	v1[1] = 20;
	assert_int_equal(fake_vsp_check(vsp, v1, 20), VMB_STATUS_DATA_ERROR);
	v1[1] = 16;
	device_up();
	assert_int_equal(fake_save(ch), 0);
	assert_int_equal(fake_restore(ch), 0);
	assert_int_equal(fake_mappings(ch), 2);
	assert_int_equal(fake_vsp_restore(vsp, v1, 16), VMB_STATUS_SUCCESS);
	fake_pass(); /* the firewall's restore completes: the port leaves restoring */
	assert_int_equal(fake_mappings(ch), 0);
	assert_false(netvsp_ready(nic));
}

/*
 * Sections are trusted only within the buffer the restore gave back: a
 * record with more sections than the mapping holds is clipped to it, and a
 * packet naming a section past it is restored (the guest completes it) but
 * marks nothing busy.
 */
static void test_sections_against_the_restored_buffer(void **state)
{
	const struct fake_record *held[2];
	u8 frame[64], *rec;
	u32 len, part_len;
	u8 *part;

	device_up();
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(wire_send(frame, sizeof(frame), i), VMB_STATUS_SUCCESS);
		guest_receive(false, &held[i]);
	}
	rec = save_record(&len);
	put32(rec, REC_RX_SECTIONS, 100);
	assert_int_equal(fake_vsp_check(vsp, rec, len), VMB_STATUS_SUCCESS);
	assert_int_equal(fake_save(ch), 2);
	/* The second packet's part names section 90 (save.c: version, kind, section). */
	part = (u8 *)fake_saved_vsp(1, &part_len);
	assert_non_null(part);
	assert_int_equal(part_len, 56);
	put32(part, 4, 90);
	assert_int_equal(fake_restore(ch), 2);
	assert_int_equal(fake_vsp_restore(vsp, rec, len), VMB_STATUS_SUCCESS);
	fake_pass(); /* the firewall's restore completes: the port leaves restoring */
	free(rec);
	assert_int_equal(nic->rx_sections, RX_SECTIONS);
	assert_int_equal(nic->rx_busy, 1);
	assert_true(netvsp_rx_is_busy(nic, held[0]->xfer_ranges[0].byte_offset / RX_SECTION));
	assert_false(netvsp_rx_is_busy(nic, held[1]->xfer_ranges[0].byte_offset / RX_SECTION));
	assert_false(netvsp_rx_is_busy(nic, 90));
	assert_int_equal(fake_complete_sent(held[1], VMB_STATUS_SUCCESS, NULL, 0),
			 VMB_STATUS_SUCCESS);
	assert_int_equal(nic->rx_busy, 1);
	assert_int_equal(fake_complete_sent(held[0], VMB_STATUS_SUCCESS, NULL, 0),
			 VMB_STATUS_SUCCESS);
	assert_int_equal(nic->rx_busy, 0);
	assert_int_equal(wire_send(frame, sizeof(frame), 5), VMB_STATUS_SUCCESS);
	guest_receive(true, NULL);
	assert_int_equal(nic->rx_busy, 0);
}

/*
 * A restore the library rolls back after `opened` (restore_packet out of
 * host memory: the VSP hears `closed`): the mappings netvsp took in
 * `opened` are given back there, and the next open starts from nothing.
 */
static void test_rolled_back_restore_gives_the_mappings_back(void **state)
{
	u8 frame[64];

	device_up();
	assert_int_equal(wire_send(frame, sizeof(frame), 1), VMB_STATUS_SUCCESS);
	assert_int_equal(fake_save(ch), 1);
	fake_alloc_fails = true;
	assert_int_equal(fake_restore(ch), -1);
	fake_alloc_fails = false;
	assert_int_equal(nic->nr_restored, 2);
	fake_close(ch); /* the library's roll-back */
	assert_int_equal(nic->nr_restored, 0);
	assert_int_equal(fake_mappings(ch), 0);
	assert_int_equal(fake_open(ch), VMB_STATUS_SUCCESS);
	nvsp_up();
	assert_int_equal(fake_mappings(ch), 2);
}

/*
 * The switch port's runtime state rides in the record: the firewall's rule
 * (the NIC takes frames from the wire's MAC) and the port's counters of the snapshot come back (the
 * firewall's restore completes on the switch's next pass), though both changed after it.
 */
static void test_port_state_across_a_snapshot(void **state)
{
	struct vsw_counters saved;
	u8 frame[90], msg[256], mac[6], rules[VSW_FIREWALL_RULES_MAX][6], *rec;
	u32 len, port = vsw_port_id(nic->port);

	device_up();
	memcpy(mac, wire_mac, 6); /* the NIC takes frames from the wire only */
	assert_int_equal(vsw_firewall_allow(lan, port, mac), 0);
	assert_int_equal(wire_send(frame, sizeof(frame), 1), VMB_STATUS_SUCCESS);
	guest_receive(true, NULL);
	make_frame(frame, sizeof(frame), 2);
	len = frame_msg(msg, frame, sizeof(frame));
	assert_int_equal(rndis_in_section(msg, len, 2, NVSP_CHANNEL_DATA), NVSP_STAT_SUCCESS);
	assert_int_equal(wire_frames(), 1);
	saved = *vsw_port_counters(nic->port);
	assert_true(saved.rx_packets + saved.tx_packets >= 2);
	rec = save_record(&len);
	assert_true(get32(rec, 72) > 0); /* port_len */
	assert_int_equal(fake_save(ch), 0);
	/* After the snapshot: another frame, and the rule cleared. */
	assert_int_equal(wire_send(frame, sizeof(frame), 3), VMB_STATUS_SUCCESS);
	guest_receive(true, NULL);
	vsw_firewall_clear(lan, port);
	assert_int_equal(vsw_firewall_rules(lan, port, rules, VSW_FIREWALL_RULES_MAX), 0);
	assert_int_equal(fake_restore(ch), 0);
	assert_int_equal(fake_vsp_restore(vsp, rec, len), VMB_STATUS_SUCCESS);
	fake_pass(); /* the firewall's restore completes: the port leaves restoring */
	free(rec);
	assert_int_equal(vsw_port_restore_status(nic->port), VMB_STATUS_SUCCESS);
	assert_int_equal(vsw_port_state(nic->port), VSW_PORT_UP);
	assert_int_equal(vsw_firewall_rules(lan, port, rules, VSW_FIREWALL_RULES_MAX), 1);
	assert_memory_equal(rules[0], mac, 6);
	assert_memory_equal(vsw_port_counters(nic->port), &saved, sizeof(saved));
	/* And traffic goes on, counted from there. */
	assert_int_equal(wire_send(frame, sizeof(frame), 4), VMB_STATUS_SUCCESS);
	guest_receive(true, NULL);
	assert_true(vsw_port_counters(nic->port)->tx_packets +
			vsw_port_counters(nic->port)->rx_packets ==
		    saved.tx_packets + saved.rx_packets + 1);
	vsw_firewall_clear(lan, port);
}

/*
 * A hostile image pairs a VSP part with the wrong packet: a receive
 * section's transfer-page packet (waiting for the guest) saved as an owed
 * completion. netvsp keeps a packet as owed only if the library takes it
 * as one of the guest's (vmb_channel_packet_defer); else the part is the
 * library's alone, and the guest's completion of it frees nothing.
 */
static void test_part_on_the_wrong_packet(void **state)
{
	const struct fake_record *held;
	u8 frame[64], *rec, *part;
	u32 len, part_len;

	device_up();
	assert_int_equal(wire_send(frame, sizeof(frame), 1), VMB_STATUS_SUCCESS);
	guest_receive(false, &held);
	rec = save_record(&len);
	assert_int_equal(fake_save(ch), 1);
	part = (u8 *)fake_saved_vsp(0, &part_len);
	assert_non_null(part);
	assert_int_equal(part_len, 56);
	part[2] = 2;	   /* kind OWED */
	put32(part, 4, 0); /* section 0: as an owed part has it */
	assert_int_equal(fake_restore(ch), 1);
	assert_int_equal(nic->nr_owed, 0);
	assert_int_equal(fake_vsp_restore(vsp, rec, len), VMB_STATUS_SUCCESS);
	fake_pass();
	free(rec);
	assert_int_equal(nic->rx_busy, 0);
	assert_int_equal(fake_complete_sent(held, VMB_STATUS_SUCCESS, NULL, 0), VMB_STATUS_SUCCESS);
	fake_pass();
	assert_int_equal(nic->rx_busy, 0);
	assert_int_equal(fake_in_use(ch), 0);
	assert_true(netvsp_ready(nic));
}

/* The other way round: an owed completion's guest packet saved as a receive section. */
static void test_owed_part_as_a_section(void **state)
{
	const struct rndis_keepalive k = {{RNDIS_MSG_KEEPALIVE, sizeof(k)}, 9};
	const struct nvsp_rndis_pkt m = {NVSP_MSG1_SEND_RNDIS_PKT, NVSP_CHANNEL_CONTROL, 1,
					 sizeof(k)};
	unsigned completions;
	u8 *rec, *part;
	u32 len, part_len;

	device_up();
	fake_ring_room = 0;
	memcpy(txbuf + TX_SECTION, &k, sizeof(k));
	guest(&m, sizeof(m));
	assert_int_equal(nic->nr_owed, 1);
	rec = save_record(&len);
	assert_int_equal(fake_save(ch), 1);
	part = (u8 *)fake_saved_vsp(0, &part_len);
	assert_non_null(part);
	memset(part + 2, 0, part_len - 2);
	part[2] = 1;	   /* kind RX */
	put32(part, 4, 3); /* section 3 */
	fake_ring_room = FAKE_RING_UNLIMITED;
	completions = fake_count(ch, FAKE_FAILED);
	assert_int_equal(fake_restore(ch), 1);
	/* The guest's packet is failed at once: it hears back (an empty completion). */
	assert_int_equal(fake_count(ch, FAKE_FAILED), completions + 1);
	assert_int_equal(fake_in_use(ch), 0);
	assert_int_equal(nic->nr_owed, 0);
	assert_int_equal(vmb_channel_pause(ch), VMB_STATUS_SUCCESS);
	assert_int_equal(fake_vsp_restore(vsp, rec, len), VMB_STATUS_SUCCESS);
	free(rec);
	assert_false(netvsp_rx_is_busy(nic, 3));
	assert_int_equal(nic->rx_busy, 0);
	fake_pass(); /* paused as saved: nothing owed now, so delivery starts again */
	assert_false(fake_paused(ch));
	assert_true(netvsp_ready(nic));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_owed_completion_across_a_snapshot, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_record_open_channel_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_closed_channel_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_call_save, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_version_1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sections_against_the_restored_buffer, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_rolled_back_restore_gives_the_mappings_back, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_port_state_across_a_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_part_on_the_wrong_packet, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owed_part_as_a_section, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
