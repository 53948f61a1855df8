/*
 * The Integration Components VSP (vsp/ic/) on the host, against the fake
 * VMBus library of test_vsp_fake.c: the offers, the version negotiation
 * (with a guest that answers as Linux 6.1's hv_utils does, and with guests
 * that answer badly), heartbeat sequence numbers, the shutdown request, the
 * timesync messages and the console commands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_vsp_fake.h"
#include "vsp/ic/ic.h"

#define NS_START 1000000000ull /* host time when the partition started */

static struct vsp *vsp; /* ic on "linux"; "plain" has a VMBus without ic */
static struct vmb_bus *bus;
static struct ic_instance *ic;
static struct vmb_channel *ch[IC_NR_SERVICES];

static const struct vmb_guid type_guid[IC_NR_SERVICES] = {
    [IC_HEARTBEAT] =
	VMB_GUID(0x57164f39, 0x9115, 0x4e78, 0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d),
    [IC_SHUTDOWN] =
	VMB_GUID(0x0e0b6031, 0x5213, 0x4934, 0x81, 0x8b, 0x38, 0xd9, 0x0c, 0xed, 0x39, 0xdb),
    [IC_TIMESYNC] =
	VMB_GUID(0x9527e630, 0xd0ae, 0x497b, 0xad, 0xce, 0xe8, 0x0a, 0xb0, 0x17, 0x5c, 0xaf),
};

/* ---- a guest that answers as Linux 6.1 hv_utils (hv_util.c, vmbus_prep_negotiate_resp) ---- */

struct guest {
	const struct ic_version *fw, *svc;
	unsigned nr_fw, nr_svc;
};

static const struct ic_version linux_fw[] = {{3, 0}, {1, 0}};
static const struct ic_version linux_hb[] = {{3, 0}, {1, 0}};
static const struct ic_version linux_sd[] = {{3, 2}, {3, 1}, {3, 0}, {1, 0}};
static const struct ic_version linux_ts[] = {{4, 0}, {3, 0}, {1, 0}};
static const struct guest linux_guest[IC_NR_SERVICES] = {
    [IC_HEARTBEAT] = {linux_fw, linux_hb, 2, 2},
    [IC_SHUTDOWN] = {linux_fw, linux_sd, 2, 4},
    [IC_TIMESYNC] = {linux_fw, linux_ts, 2, 3},
};

static bool find_version(const u8 *list, unsigned from, unsigned to, struct ic_version want,
			 unsigned *at)
{
	for (unsigned j = from; j < to; j++) {
		struct ic_version v;

		memcpy(&v, list + j * sizeof(v), sizeof(v));
		if (v.major == want.major && v.minor == want.minor) {
			*at = j;
			return true;
		}
	}
	return false;
}

/* vmbus_prep_negotiate_resp: the guest edits our negotiate message in place. */
static void guest_negotiate(u8 *buf, struct ic_msg_hdr *h, const struct guest *g)
{
	struct ic_negotiate n;
	u8 *list = buf + IC_HDR_SIZE + sizeof(n);
	struct ic_version fw = {0, 0}, svc = {0, 0};
	bool found = false;
	unsigned at;

	memcpy(&n, buf + IC_HDR_SIZE, sizeof(n));
	fw.major = n.framework_count;
	svc.major = n.version_count;
	h->size = 0x10;
	for (unsigned i = 0; i < g->nr_fw && !found; i++)
		if (find_version(list, 0, n.framework_count, g->fw[i], &at)) {
			fw = g->fw[i];
			found = true;
		}
	if (found) {
		found = false;
		for (unsigned i = 0; i < g->nr_svc && !found; i++)
			if (find_version(list, n.framework_count,
					 n.framework_count + n.version_count, g->svc[i], &at)) {
				svc = g->svc[i];
				found = true;
			}
	}
	n.framework_count = n.version_count = found ? 1 : 0;
	memcpy(buf + IC_HDR_SIZE, &n, sizeof(n));
	memcpy(list, &fw, sizeof(fw));
	memcpy(list + sizeof(fw), &svc, sizeof(svc));
}

static const struct fake_record *last_sent(struct vmb_channel *c)
{
	unsigned n = fake_count(c, FAKE_SENT);

	assert_true(n > 0);
	return fake_record(c, FAKE_SENT, n - 1);
}

static struct ic_msg_hdr sent_hdr(const struct fake_record *r)
{
	struct ic_msg_hdr h;

	assert_true(r->len >= IC_HDR_SIZE);
	memcpy(&h, r->data + sizeof(struct ic_pipe_hdr), sizeof(h));
	return h;
}

/* Answer the last message sent on service s, as Linux does; status overrides unless ~0. */
static void guest_answer_as(enum ic_service s, const struct guest *g, u32 status)
{
	const struct fake_record *r = last_sent(ch[s]);
	u8 buf[FAKE_MAX_DATA];
	struct ic_msg_hdr h;

	memcpy(buf, r->data, r->len);
	memcpy(&h, buf + sizeof(struct ic_pipe_hdr), sizeof(h));
	if (h.type == IC_MSG_NEGOTIATE) {
		guest_negotiate(buf, &h, g);
	} else if (h.type == IC_MSG_HEARTBEAT) {
		u64 seq;

		memcpy(&seq, buf + IC_HDR_SIZE, sizeof(seq));
		seq++;
		memcpy(buf + IC_HDR_SIZE, &seq, sizeof(seq));
	} else if (h.type == IC_MSG_SHUTDOWN) {
		struct ic_shutdown_msg m;

		memcpy(&m, buf + IC_HDR_SIZE, sizeof(m));
		h.status = m.flags <= IC_SHUTDOWN_FORCE ? IC_S_OK : IC_E_FAIL;
	}
	if (status != ~0u)
		h.status = status;
	h.flags = IC_FLAG_TRANSACTION | IC_FLAG_RESPONSE;
	memcpy(buf + sizeof(struct ic_pipe_hdr), &h, sizeof(h));
	fake_guest_send(ch[s], buf, r->len, 0, NULL);
}

static void guest_answer(enum ic_service s)
{
	guest_answer_as(s, &linux_guest[s], ~0u);
}

/* ---- helpers ---- */

/* A pass of the door: ic's work runs if it deferred it or its timer is due. */
static void poll_ic(void)
{
	fake_pass();
}

/* Host time and the partition's reference time (which counts from NS_START) move on. */
static void advance_ms(u64 ms)
{
	fake_now_ns += ms * 1000000;
	fake_ref_time = (fake_now_ns - NS_START) / 100;
}

/* The guest opens the channel; the next poll sends our negotiate message. */
static void open_and_negotiate(enum ic_service s)
{
	assert_int_equal(fake_open(ch[s]), VMB_STATUS_SUCCESS);
	assert_int_equal(ic->ch[s].state, IC_NEGOTIATE);
	poll_ic();
	assert_int_equal(ic->ch[s].state, IC_NEGOTIATING);
}

static void bring_up(enum ic_service s)
{
	open_and_negotiate(s);
	guest_answer(s);
	assert_int_equal(ic->ch[s].state, IC_READY);
}

static const char *console(const char *line)
{
	return fake_command(line);
}

static int group_setup(void **state)
{
	char err[128] = "";

	fake_reset();
	fake_now_ns = NS_START;
	vsp = fake_vsp_create("ic", "linux", err, sizeof(err));
	assert_non_null(vsp);
	fake_partition("plain");
	bus = vsp_bus(vsp);
	ic = vsp_state(vsp);
	for (unsigned s = 0; s < IC_NR_SERVICES; s++) {
		ch[s] = fake_channel(bus, &type_guid[s]);
		assert_non_null(ch[s]);
	}
	return 0;
}

/* Every test starts with the three channels closed, as after a guest reset. */
static int setup(void **state)
{
	for (unsigned s = 0; s < IC_NR_SERVICES; s++)
		fake_close(ch[s]);
	fake_clear();
	ic->wall_offset_100ns = 0;
	advance_ms(100000);
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(fake_violations, 0);
	return 0;
}

/* ---- offers ---- */

static void test_offers_three_channels_with_hyperv_guids(void **state)
{
	static const struct vmb_guid instance[IC_NR_SERVICES] = {
	    [IC_HEARTBEAT] = VMB_GUID(0xfd149e91, 0x82e0, 0x4a7d, 0xaf, 0xa6, 0x2a, 0x41, 0x66,
				      0xcb, 0xd7, 0xc0),
	    [IC_SHUTDOWN] = VMB_GUID(0xb6650ff7, 0x33bc, 0x4840, 0x80, 0x48, 0xe0, 0x67, 0x67, 0x86,
				     0xf3, 0x93),
	    [IC_TIMESYNC] = VMB_GUID(0x2dd1ce17, 0x079e, 0x403c, 0xb3, 0x52, 0xa1, 0x92, 0x1e, 0xe2,
				     0x07, 0xee),
	};
	static const char *const names[IC_NR_SERVICES] = {"heartbeat", "shutdown", "timesync"};
	/* 57164f39-9115-4e78-ab55-382f3bd5422d as its 16 wire bytes (little-endian fields). */
	static const u8 heartbeat_wire[16] = {0x39, 0x4f, 0x16, 0x57, 0x15, 0x91, 0x78, 0x4e,
					      0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d};

	for (unsigned s = 0; s < IC_NR_SERVICES; s++) {
		struct vmb_guid t, i;

		assert_true(fake_enabled(ch[s]));
		fake_channel_ids(ch[s], &t, &i);
		assert_memory_equal(&t, &type_guid[s], sizeof(t));
		assert_memory_equal(&i, &instance[s], sizeof(i));
		assert_string_equal(fake_friendly_name(ch[s]), names[s]);
		assert_int_equal(fake_max_packet(ch[s]), IC_MAX_MESSAGE);
		assert_int_equal(ic->ch[s].state, IC_CLOSED);
	}
	assert_memory_equal(&type_guid[IC_HEARTBEAT], heartbeat_wire, 16);
}

/* ---- negotiation ---- */

static void test_negotiate_message_offers_every_version(void **state)
{
	/* What each service offers after the frameworks 3.0 and 1.0. */
	static const struct ic_version want[IC_NR_SERVICES][4] = {
	    [IC_HEARTBEAT] = {{3, 0}, {1, 0}},
	    [IC_SHUTDOWN] = {{3, 2}, {3, 1}, {3, 0}, {1, 0}},
	    [IC_TIMESYNC] = {{4, 0}, {3, 0}, {1, 0}},
	};
	static const unsigned nr[IC_NR_SERVICES] = {2, 4, 3};

	for (unsigned s = 0; s < IC_NR_SERVICES; s++) {
		const struct fake_record *r;
		struct ic_pipe_hdr pipe;
		struct ic_msg_hdr h;
		struct ic_negotiate n;
		struct ic_version v[6];
		u32 body = sizeof(n) + (2 + nr[s]) * sizeof(struct ic_version);

		/* Nothing is sent from inside the opened callback; the poll sends it. */
		assert_int_equal(fake_open(ch[s]), VMB_STATUS_SUCCESS);
		assert_int_equal(fake_count(ch[s], FAKE_SENT), 0);
		poll_ic();
		assert_int_equal(fake_count(ch[s], FAKE_SENT), 1);
		r = last_sent(ch[s]);
		assert_int_equal(r->flags, 0); /* no completion requested */
		assert_int_equal(r->len, IC_HDR_SIZE + body);
		memcpy(&pipe, r->data, sizeof(pipe));
		assert_int_equal(pipe.type, IC_PIPE_DATA);
		assert_int_equal(pipe.size, sizeof(h) + body);
		h = sent_hdr(r);
		assert_int_equal(h.type, IC_MSG_NEGOTIATE);
		assert_int_equal(h.flags, IC_FLAG_TRANSACTION | IC_FLAG_REQUEST);
		assert_int_equal(h.size, body);
		assert_int_equal(h.status, IC_S_OK);
		assert_int_equal(h.framework.major, 0);
		assert_int_equal(h.version.major, 0);
		memcpy(&n, r->data + IC_HDR_SIZE, sizeof(n));
		assert_int_equal(n.framework_count, 2);
		assert_int_equal(n.version_count, nr[s]);
		assert_int_equal(n.reserved, 0);
		memcpy(v, r->data + IC_HDR_SIZE + sizeof(n), (2 + nr[s]) * sizeof(v[0]));
		assert_int_equal(v[0].major, 3);
		assert_int_equal(v[0].minor, 0);
		assert_int_equal(v[1].major, 1);
		assert_int_equal(v[1].minor, 0);
		assert_memory_equal(&v[2], want[s], nr[s] * sizeof(v[0]));
		/* One request in flight: polling again sends nothing more. */
		poll_ic();
		assert_int_equal(fake_count(ch[s], FAKE_SENT), 1);
	}
}

static void test_linux_guest_chooses_the_newest_versions(void **state)
{
	static const struct ic_version want[IC_NR_SERVICES] = {
	    [IC_HEARTBEAT] = {3, 0}, [IC_SHUTDOWN] = {3, 2}, [IC_TIMESYNC] = {4, 0}};

	for (unsigned s = 0; s < IC_NR_SERVICES; s++) {
		bring_up(s);
		assert_int_equal(ic->ch[s].framework.major, 3);
		assert_int_equal(ic->ch[s].framework.minor, 0);
		assert_int_equal(ic->ch[s].version.major, want[s].major);
		assert_int_equal(ic->ch[s].version.minor, want[s].minor);
		assert_false(ic->ch[s].outstanding);
		assert_int_equal(fake_in_use(ch[s]), 0); /* the answer was completed at once */
	}
	assert_non_null(strstr(fake_log, "ic: partition linux: heartbeat 3.0 (framework 3.0) "
					 "negotiated"));
	assert_non_null(strstr(fake_log, "shutdown 3.2 (framework 3.0) negotiated"));
	assert_non_null(strstr(fake_log, "timesync 4.0 (framework 3.0) negotiated"));
}

static void test_older_guest_gets_older_versions(void **state)
{
	/* A Windows Server 2008-era guest: framework 1.0, message versions 1.0 only. */
	static const struct ic_version v1[] = {{1, 0}};
	static const struct ic_version ts3[] = {{3, 0}};
	const struct guest old = {v1, v1, 1, 1};
	const struct guest ts_only3 = {linux_fw, ts3, 2, 1};

	open_and_negotiate(IC_HEARTBEAT);
	guest_answer_as(IC_HEARTBEAT, &old, ~0u);
	assert_int_equal(ic->ch[IC_HEARTBEAT].state, IC_READY);
	assert_int_equal(ic->ch[IC_HEARTBEAT].framework.major, 1);
	assert_int_equal(ic->ch[IC_HEARTBEAT].version.major, 1);
	open_and_negotiate(IC_TIMESYNC);
	guest_answer_as(IC_TIMESYNC, &ts_only3, ~0u);
	assert_int_equal(ic->ch[IC_TIMESYNC].version.major, 3);
	/* Later messages carry the negotiated versions in their header. */
	poll_ic();
	assert_int_equal(sent_hdr(last_sent(ch[IC_HEARTBEAT])).version.major, 1);
	assert_int_equal(sent_hdr(last_sent(ch[IC_HEARTBEAT])).framework.major, 1);
	assert_int_equal(sent_hdr(last_sent(ch[IC_TIMESYNC])).version.major, 3);
}

static void test_guest_without_common_version_refuses(void **state)
{
	static const struct ic_version v2[] = {{2, 0}};
	const struct guest alien = {linux_fw, v2, 2, 1};

	open_and_negotiate(IC_SHUTDOWN);
	guest_answer_as(IC_SHUTDOWN, &alien, ~0u);
	assert_int_equal(ic->ch[IC_SHUTDOWN].state, IC_REFUSED);
	assert_non_null(strstr(fake_log, "shutdown: the guest supports none of our versions"));
	/* Refused stays refused: no more negotiation, shutdown reports why. */
	advance_ms(60000);
	poll_ic();
	assert_int_equal(fake_count(ch[IC_SHUTDOWN], FAKE_SENT), 1);
	assert_string_equal(console("shutdown linux"),
			    "error: partition linux: the guest supports none of our shutdown "
			    "versions\n");
	/* The guest reloads its driver: a fresh negotiation succeeds. */
	fake_close(ch[IC_SHUTDOWN]);
	bring_up(IC_SHUTDOWN);
}

/* A bad answer to our negotiate message: ignored, counted, logged once; no crash. */
struct bad_answer {
	const char *what;
	u32 len;	 /* 0: the length of our request */
	int hdr_size;	 /* -1: keep */
	int flags;	 /* -1: TRANSACTION | RESPONSE */
	int type;	 /* -1: keep */
	int transaction; /* -1: keep; otherwise added to ours */
	int fw_count;	 /* -1: 1 */
	int ver_count;	 /* -1: 1 */
	struct ic_version fw, ver;
};

static const struct bad_answer bad_answers[] = {
    {"empty", 1, -1, -1, -1, -1, -1, -1, {3, 0}, {3, 0}},
    {"pipe header only", 8, -1, -1, -1, -1, -1, -1, {3, 0}, {3, 0}},
    {"header cut short", IC_HDR_SIZE - 1, -1, -1, -1, -1, -1, -1, {3, 0}, {3, 0}},
    {"body larger than the packet", 0, 4000, -1, -1, -1, -1, -1, {3, 0}, {3, 0}},
    {"no body", IC_HDR_SIZE, 0, -1, -1, -1, -1, -1, {3, 0}, {3, 0}},
    {"body without versions", IC_HDR_SIZE + 8, 8, -1, -1, -1, -1, -1, {3, 0}, {3, 0}},
    {"flagged as a request",
     0,
     -1,
     IC_FLAG_TRANSACTION | IC_FLAG_REQUEST,
     -1,
     -1,
     -1,
     -1,
     {3, 0},
     {3, 0}},
    {"not a transaction", 0, -1, IC_FLAG_RESPONSE, -1, -1, -1, -1, {3, 0}, {3, 0}},
    {"another message type", 0, -1, -1, IC_MSG_SHUTDOWN, -1, -1, -1, {3, 0}, {3, 0}},
    {"another transaction", 0, -1, -1, -1, 1, -1, -1, {3, 0}, {3, 0}},
    {"two frameworks chosen", 0, -1, -1, -1, -1, 2, -1, {3, 0}, {3, 0}},
    {"counts 1 and 0", 0, -1, -1, -1, -1, 1, 0, {3, 0}, {3, 0}},
    {"huge counts", 0, -1, -1, -1, -1, 0xffff, 0xffff, {3, 0}, {3, 0}},
    {"framework we never offered", 0, -1, -1, -1, -1, -1, -1, {2, 0}, {3, 0}},
    {"version we never offered", 0, -1, -1, -1, -1, -1, -1, {3, 0}, {9, 9}},
    {"another service's version", 0, -1, -1, -1, -1, -1, -1, {3, 0}, {4, 0}},
};

static void send_bad_answer(const struct bad_answer *b)
{
	const struct fake_record *r = last_sent(ch[IC_HEARTBEAT]);
	u8 buf[FAKE_MAX_DATA];
	struct ic_msg_hdr h;
	struct ic_negotiate n;
	u32 len = b->len ? b->len : r->len;

	memcpy(buf, r->data, r->len);
	memcpy(&h, buf + sizeof(struct ic_pipe_hdr), sizeof(h));
	memcpy(&n, buf + IC_HDR_SIZE, sizeof(n));
	h.size = b->hdr_size >= 0 ? b->hdr_size : 0x10;
	h.flags = b->flags >= 0 ? b->flags : IC_FLAG_TRANSACTION | IC_FLAG_RESPONSE;
	if (b->type >= 0)
		h.type = b->type;
	if (b->transaction >= 0)
		h.transaction += b->transaction;
	n.framework_count = b->fw_count >= 0 ? b->fw_count : 1;
	n.version_count = b->ver_count >= 0 ? b->ver_count : 1;
	memcpy(buf + sizeof(struct ic_pipe_hdr), &h, sizeof(h));
	memcpy(buf + IC_HDR_SIZE, &n, sizeof(n));
	memcpy(buf + IC_HDR_SIZE + sizeof(n), &b->fw, sizeof(b->fw));
	memcpy(buf + IC_HDR_SIZE + sizeof(n) + sizeof(b->fw), &b->ver, sizeof(b->ver));
	fake_guest_send(ch[IC_HEARTBEAT], buf, len, 0, NULL);
}

static void test_bad_negotiate_answers_are_ignored(void **state)
{
	struct ic_channel *c = &ic->ch[IC_HEARTBEAT];
	u8 garbage[300];

	open_and_negotiate(IC_HEARTBEAT);
	for (unsigned i = 0; i < ARRAY_SIZE(bad_answers); i++) {
		u64 bad = c->bad;

		send_bad_answer(&bad_answers[i]);
		if (c->state != IC_NEGOTIATING || c->bad != bad + 1)
			fail_msg("answer '%s' was not rejected", bad_answers[i].what);
		assert_int_equal(fake_in_use(ch[IC_HEARTBEAT]), 0);
	}
	/* Noise of every length, and external data, are rejected the same way. */
	for (unsigned i = 0; i < sizeof(garbage); i++)
		garbage[i] = (u8)(i * 37 + 11);
	for (u32 len = 0; len <= sizeof(garbage); len += 7)
		fake_guest_send(ch[IC_HEARTBEAT], garbage, len, 0, NULL);
	fake_guest_send(ch[IC_HEARTBEAT], last_sent(ch[IC_HEARTBEAT])->data,
			last_sent(ch[IC_HEARTBEAT])->len, VMB_PACKET_EXTERNAL_DATA, NULL);
	assert_int_equal(c->state, IC_NEGOTIATING);
	/* Logged once, not once per packet. */
	assert_non_null(strstr(fake_log, "heartbeat: guest message ignored: truncated message"));
	assert_null(strstr(strstr(fake_log, "ignored") + 1, "ignored"));
	/* The real answer still works. */
	guest_answer(IC_HEARTBEAT);
	assert_int_equal(c->state, IC_READY);
	assert_int_equal(c->version.major, 3);
}

static void test_negotiation_retries_after_timeout(void **state)
{
	struct ic_channel *c = &ic->ch[IC_TIMESYNC];
	u8 first[FAKE_MAX_DATA];
	u32 first_len;
	struct ic_msg_hdr h;
	u64 negotiations = c->negotiations;

	open_and_negotiate(IC_TIMESYNC);
	first_len = last_sent(ch[IC_TIMESYNC])->len;
	memcpy(first, last_sent(ch[IC_TIMESYNC])->data, first_len);
	advance_ms(IC_NEGOTIATE_TIMEOUT_S * 1000 - 1);
	poll_ic();
	assert_int_equal(fake_count(ch[IC_TIMESYNC], FAKE_SENT), 1);
	advance_ms(1);
	poll_ic();
	assert_int_equal(fake_count(ch[IC_TIMESYNC], FAKE_SENT), 2);
	assert_int_equal(c->negotiations, negotiations + 2);
	/* A late answer to the first request is stale: its transaction id is old. */
	memcpy(&h, first + sizeof(struct ic_pipe_hdr), sizeof(h));
	assert_int_not_equal(h.transaction, sent_hdr(last_sent(ch[IC_TIMESYNC])).transaction);
	h.flags = IC_FLAG_TRANSACTION | IC_FLAG_RESPONSE;
	memcpy(first + sizeof(struct ic_pipe_hdr), &h, sizeof(h));
	fake_guest_send(ch[IC_TIMESYNC], first, first_len, 0, NULL);
	assert_int_equal(c->state, IC_NEGOTIATING);
	guest_answer(IC_TIMESYNC);
	assert_int_equal(c->state, IC_READY);
}

static void test_full_ring_delays_negotiation(void **state)
{
	fake_ring_room = 0;
	assert_int_equal(fake_open(ch[IC_HEARTBEAT]), VMB_STATUS_SUCCESS);
	poll_ic();
	poll_ic();
	assert_int_equal(ic->ch[IC_HEARTBEAT].state, IC_NEGOTIATE);
	assert_int_equal(fake_count(ch[IC_HEARTBEAT], FAKE_SENT), 0);
	fake_alloc_fails = true; /* out of packets is the same: try later */
	fake_ring_room = FAKE_RING_UNLIMITED;
	poll_ic();
	assert_int_equal(ic->ch[IC_HEARTBEAT].state, IC_NEGOTIATE);
	fake_alloc_fails = false;
	poll_ic();
	assert_int_equal(ic->ch[IC_HEARTBEAT].state, IC_NEGOTIATING);
	assert_int_equal(fake_count(ch[IC_HEARTBEAT], FAKE_SENT), 1);
}

static void test_close_forgets_the_conversation(void **state)
{
	bring_up(IC_SHUTDOWN);
	fake_close(ch[IC_SHUTDOWN]);
	assert_int_equal(ic->ch[IC_SHUTDOWN].state, IC_CLOSED);
	assert_int_equal(ic->ch[IC_SHUTDOWN].version.major, 0);
	poll_ic();
	assert_int_equal(fake_count(ch[IC_SHUTDOWN], FAKE_SENT),
			 1); /* nothing to a closed channel */
	open_and_negotiate(IC_SHUTDOWN);
	assert_int_equal(fake_count(ch[IC_SHUTDOWN], FAKE_SENT), 2);
}

static void test_parse_response_direct(void **state)
{
	u8 buf[IC_HDR_SIZE + 16] = {0};
	struct ic_msg_hdr h = {.type = IC_MSG_HEARTBEAT,
			       .size = 16,
			       .transaction = 7,
			       .flags = IC_FLAG_TRANSACTION | IC_FLAG_RESPONSE};
	struct ic_msg_hdr out;
	const u8 *body;
	u32 body_len;

	memcpy(buf + sizeof(struct ic_pipe_hdr), &h, sizeof(h));
	assert_int_equal(
	    ic_parse_response(buf, sizeof(buf), true, IC_MSG_HEARTBEAT, 7, &out, &body, &body_len),
	    IC_PARSE_OK);
	assert_ptr_equal(body, buf + IC_HDR_SIZE);
	assert_int_equal(body_len, 16);
	assert_int_equal(ic_parse_response(buf, sizeof(buf) - 1, true, IC_MSG_HEARTBEAT, 7, &out,
					   &body, &body_len),
			 IC_PARSE_SHORT);
	assert_int_equal(
	    ic_parse_response(buf, sizeof(buf), false, IC_MSG_HEARTBEAT, 7, &out, &body, &body_len),
	    IC_PARSE_UNEXPECTED);
	assert_int_equal(
	    ic_parse_response(buf, sizeof(buf), true, IC_MSG_HEARTBEAT, 8, &out, &body, &body_len),
	    IC_PARSE_UNEXPECTED);
	assert_int_equal(
	    ic_parse_response(NULL, 0, true, IC_MSG_HEARTBEAT, 7, &out, &body, &body_len),
	    IC_PARSE_SHORT);
}

/* ---- heartbeat ---- */

static u64 sent_seq(void)
{
	const struct fake_record *r = last_sent(ch[IC_HEARTBEAT]);
	struct ic_heartbeat_msg m;

	assert_int_equal(r->len, IC_HDR_SIZE + sizeof(m));
	memcpy(&m, r->data + IC_HDR_SIZE, sizeof(m));
	return m.seq;
}

static void test_heartbeat_sequence_advances_every_second(void **state)
{
	struct ic_heartbeat_state *hb = &ic->ch[IC_HEARTBEAT].u.hb;
	struct ic_msg_hdr h;
	u64 first, base_answered = hb->answered;
	char want[160];

	bring_up(IC_HEARTBEAT);
	poll_ic(); /* due at once */
	assert_int_equal(fake_count(ch[IC_HEARTBEAT], FAKE_SENT), 2);
	h = sent_hdr(last_sent(ch[IC_HEARTBEAT]));
	assert_int_equal(h.type, IC_MSG_HEARTBEAT);
	assert_int_equal(h.flags, IC_FLAG_TRANSACTION | IC_FLAG_REQUEST);
	assert_int_equal(h.size, sizeof(struct ic_heartbeat_msg));
	assert_int_equal(h.framework.major, 3);
	assert_int_equal(h.version.major, 3);
	first = sent_seq();
	guest_answer(IC_HEARTBEAT);
	assert_int_equal(hb->seq_answered, first + 1);
	assert_int_equal(hb->answered, base_answered + 1);
	/* Not again before a second has passed. */
	advance_ms(999);
	poll_ic();
	assert_int_equal(fake_count(ch[IC_HEARTBEAT], FAKE_SENT), 2);
	advance_ms(1);
	poll_ic();
	assert_int_equal(fake_count(ch[IC_HEARTBEAT], FAKE_SENT), 3);
	assert_int_equal(sent_seq(), first + 1);
	advance_ms(250);
	guest_answer(IC_HEARTBEAT);
	assert_int_equal(hb->seq_answered, first + 2);
	advance_ms(500);
	snprintf(want, sizeof(want),
		 "heartbeat partition=linux seq=%llu age_ms=500 state=ok version=3.0 ",
		 (unsigned long long)(first + 2));
	assert_true(!strncmp(console("heartbeat linux"), want, strlen(want)));
}

static void test_heartbeat_wrong_sequence_is_rejected(void **state)
{
	struct ic_channel *c = &ic->ch[IC_HEARTBEAT];
	const struct fake_record *r;
	u8 buf[FAKE_MAX_DATA];
	struct ic_msg_hdr h;
	u64 seq, answered, bad;

	bring_up(IC_HEARTBEAT);
	poll_ic();
	r = last_sent(ch[IC_HEARTBEAT]);
	memcpy(buf, r->data, r->len);
	memcpy(&h, buf + sizeof(struct ic_pipe_hdr), sizeof(h));
	h.flags = IC_FLAG_TRANSACTION | IC_FLAG_RESPONSE;
	memcpy(buf + sizeof(struct ic_pipe_hdr), &h, sizeof(h));
	answered = c->u.hb.answered;
	bad = c->bad;
	/* Echoed unchanged (seq, not seq + 1): not an answer. */
	fake_guest_send(ch[IC_HEARTBEAT], buf, r->len, 0, NULL);
	assert_int_equal(c->u.hb.answered, answered);
	assert_int_equal(c->bad, bad + 1);
	/* Too short to carry a sequence number. */
	poll_ic();
	advance_ms(1000);
	poll_ic();
	r = last_sent(ch[IC_HEARTBEAT]);
	memcpy(buf, r->data, r->len);
	memcpy(&h, buf + sizeof(struct ic_pipe_hdr), sizeof(h));
	h.flags = IC_FLAG_TRANSACTION | IC_FLAG_RESPONSE;
	h.size = 4;
	memcpy(buf + sizeof(struct ic_pipe_hdr), &h, sizeof(h));
	fake_guest_send(ch[IC_HEARTBEAT], buf, IC_HDR_SIZE + 4, 0, NULL);
	assert_int_equal(c->u.hb.answered, answered);
	assert_int_equal(c->bad, bad + 2);
	/* A failure status is no heartbeat either. */
	guest_answer_as(IC_HEARTBEAT, &linux_guest[IC_HEARTBEAT], IC_E_FAIL);
	assert_int_equal(c->u.hb.answered, answered);
	assert_int_equal(c->bad, bad + 3);
	/* None of them counted as the answer: the right one still is. */
	assert_true(c->outstanding);
	guest_answer(IC_HEARTBEAT);
	assert_int_equal(c->u.hb.answered, answered + 1);
	memcpy(&seq, last_sent(ch[IC_HEARTBEAT])->data + IC_HDR_SIZE, sizeof(seq));
	assert_int_equal(c->u.hb.seq_answered, seq + 1);
	/* Once answered, the same answer again is stale. */
	guest_answer(IC_HEARTBEAT);
	assert_int_equal(c->u.hb.answered, answered + 1);
	assert_int_equal(c->bad, bad + 4);
}

static void test_heartbeat_goes_late_when_the_guest_stops(void **state)
{
	struct ic_heartbeat_state *hb = &ic->ch[IC_HEARTBEAT].u.hb;
	u64 missed = hb->missed;

	bring_up(IC_HEARTBEAT);
	poll_ic();
	guest_answer(IC_HEARTBEAT);
	/* The guest hangs: requests go on unanswered, each one counted as missed. */
	for (unsigned i = 0; i < IC_HEARTBEAT_LATE_S; i++) {
		advance_ms(1000);
		poll_ic();
	}
	assert_int_equal(hb->missed, missed + IC_HEARTBEAT_LATE_S - 1);
	assert_non_null(strstr(console("heartbeat linux"), " state=ok "));
	advance_ms(1);
	assert_non_null(strstr(console("heartbeat linux"), " state=late "));
	/* It comes back. */
	guest_answer(IC_HEARTBEAT);
	assert_non_null(strstr(console("heartbeat linux"), " state=ok "));
}

static void test_heartbeat_command_states_and_errors(void **state)
{
	assert_non_null(strstr(console("heartbeat linux"), " state=closed "));
	open_and_negotiate(IC_HEARTBEAT);
	assert_non_null(strstr(console("heartbeat linux"), " state=negotiating "));
	guest_answer(IC_HEARTBEAT);
	assert_non_null(strstr(console("heartbeat linux"), " state=waiting "));
	assert_string_equal(console("heartbeat nobody"),
			    "error: no partition named 'nobody' (see 'list')\n");
	assert_string_equal(console("heartbeat plain"),
			    "error: partition plain has no IC channels (add `ic` to its vmbus "
			    "list)\n");
	assert_string_equal(console("heartbeat"), "error: usage: heartbeat PARTITION\n");
}

/* ---- shutdown ---- */

static void test_shutdown_request_encoding(void **state)
{
	const struct fake_record *r;
	struct ic_shutdown_msg m;
	struct ic_msg_hdr h;
	static const u8 zeros[sizeof(m.message)];

	bring_up(IC_SHUTDOWN);
	poll_ic();
	assert_int_equal(fake_count(ch[IC_SHUTDOWN], FAKE_SENT), 1); /* nothing unasked */
	assert_string_equal(console("shutdown linux"), "partition linux: shutdown requested\n");
	assert_int_equal(fake_count(ch[IC_SHUTDOWN], FAKE_SENT), 2); /* sent at once */
	r = last_sent(ch[IC_SHUTDOWN]);
	assert_int_equal(r->len, IC_HDR_SIZE + sizeof(m));
	assert_int_equal(r->len, 2088);
	h = sent_hdr(r);
	assert_int_equal(h.type, IC_MSG_SHUTDOWN);
	assert_int_equal(h.size, sizeof(m));
	assert_int_equal(h.flags, IC_FLAG_TRANSACTION | IC_FLAG_REQUEST);
	assert_int_equal(h.version.major, 3);
	assert_int_equal(h.version.minor, 2);
	memcpy(&m, r->data + IC_HDR_SIZE, sizeof(m));
	assert_int_equal(m.reason, 0x80000000u);
	assert_int_equal(m.timeout_s, 0);
	assert_int_equal(m.flags, 0);
	assert_memory_equal(m.message, zeros, sizeof(zeros));
	guest_answer(IC_SHUTDOWN);
	assert_int_equal(ic->ch[IC_SHUTDOWN].u.sd.last_status, IC_S_OK);
	assert_non_null(strstr(fake_log, "ic: partition linux: the guest accepted the shutdown "
					 "request\n"));
	/* Asking again sends again; a refusal is reported with its status. */
	console("shutdown linux");
	guest_answer_as(IC_SHUTDOWN, &linux_guest[IC_SHUTDOWN], IC_E_FAIL);
	assert_non_null(strstr(fake_log, "refused the shutdown request (status 0x80004005)"));
	assert_int_equal(fake_count(ch[IC_SHUTDOWN], FAKE_SENT), 3);
}

static void test_shutdown_errors(void **state)
{
	assert_string_equal(console("shutdown linux"),
			    "error: partition linux: shutdown channel is not open (is hv_utils "
			    "loaded?)\n");
	open_and_negotiate(IC_SHUTDOWN);
	assert_string_equal(console("shutdown linux"),
			    "error: partition linux: shutdown channel is not negotiated yet\n");
	assert_string_equal(console("shutdown plain"),
			    "error: partition plain has no IC channels (add `ic` to its vmbus "
			    "list)\n");
	assert_string_equal(console("shutdown nobody"),
			    "error: no partition named 'nobody' (see 'list')\n");
	assert_string_equal(console("shutdown linux now"), "error: usage: shutdown PARTITION\n");
	/* A stopped partition is not asked (its guest cannot read the ring). */
	fake_set_run_state(vsp, VSP_STOPPED);
	assert_string_equal(console("shutdown linux"), "error: partition linux is stopped\n");
	assert_non_null(strstr(console("heartbeat linux"), " state=stopped "));
	fake_set_run_state(vsp, VSP_RUNNING);
	assert_int_equal(fake_count(ch[IC_SHUTDOWN], FAKE_SENT), 1); /* only the negotiation */
}

static void test_shutdown_waits_for_ring_space_and_is_sent_once(void **state)
{
	bring_up(IC_SHUTDOWN);
	fake_ring_room = 0;
	assert_string_equal(console("shutdown linux"), "partition linux: shutdown requested\n");
	assert_true(ic->ch[IC_SHUTDOWN].u.sd.pending);
	poll_ic();
	assert_int_equal(fake_count(ch[IC_SHUTDOWN], FAKE_SENT), 1);
	fake_ring_room = FAKE_RING_UNLIMITED;
	poll_ic();
	poll_ic();
	assert_int_equal(fake_count(ch[IC_SHUTDOWN], FAKE_SENT), 2);
	assert_int_equal(sent_hdr(last_sent(ch[IC_SHUTDOWN])).type, IC_MSG_SHUTDOWN);
	assert_false(ic->ch[IC_SHUTDOWN].u.sd.pending);
	/* A request pending when the guest goes away is dropped with it. */
	fake_ring_room = 0;
	console("shutdown linux");
	fake_close(ch[IC_SHUTDOWN]);
	assert_false(ic->ch[IC_SHUTDOWN].u.sd.pending);
}

/* ---- timesync ---- */

static u64 expected_filetime(u64 now_ns)
{
	return IC_FILETIME_UNIX_EPOCH + IC_WALL_EPOCH_UNIX * IC_FILETIME_HZ + now_ns / 100;
}

static struct ic_timesync_ref_msg sent_ref(void)
{
	const struct fake_record *r = last_sent(ch[IC_TIMESYNC]);
	struct ic_timesync_ref_msg m;

	assert_int_equal(r->len, IC_HDR_SIZE + sizeof(m));
	assert_int_equal(sent_hdr(r).type, IC_MSG_TIMESYNC);
	assert_int_equal(sent_hdr(r).size, sizeof(m));
	memcpy(&m, r->data + IC_HDR_SIZE, sizeof(m));
	return m;
}

static void test_timesync_v4_first_sync_then_samples(void **state)
{
	struct ic_timesync_state *ts = &ic->ch[IC_TIMESYNC].u.ts;
	struct ic_timesync_ref_msg m;
	u64 sync_ns, sync_ref, sent = ts->sent, answered = ts->answered;

	bring_up(IC_TIMESYNC);
	advance_ms(3);
	sync_ns = fake_now_ns;
	sync_ref = fake_ref_time;
	poll_ic();
	m = sent_ref();
	assert_int_equal(m.flags, IC_TIMESYNC_SYNC);
	assert_int_equal(m.parent_time, expected_filetime(sync_ns));
	/* The partition's reference time when the wall time was read. */
	assert_int_equal(m.vm_reference_time, sync_ref);
	assert_int_equal(m.leap_flags, 0);
	assert_int_equal(m.stratum, 0);
	guest_answer(IC_TIMESYNC);
	assert_int_equal(ts->sent, sent + 1);
	assert_int_equal(ts->answered, answered + 1);
	advance_ms(IC_TIMESYNC_PERIOD_S * 1000 - 1);
	poll_ic();
	assert_int_equal(fake_count(ch[IC_TIMESYNC], FAKE_SENT), 2);
	advance_ms(1);
	poll_ic();
	assert_int_equal(fake_count(ch[IC_TIMESYNC], FAKE_SENT), 3);
	m = sent_ref();
	assert_int_equal(m.flags, IC_TIMESYNC_SAMPLE);
	assert_int_equal(m.parent_time - expected_filetime(sync_ns),
			 IC_TIMESYNC_PERIOD_S * IC_FILETIME_HZ);
	assert_int_equal(m.vm_reference_time - sync_ref, IC_TIMESYNC_PERIOD_S * IC_FILETIME_HZ);
}

static void test_timesync_v3_uses_the_old_layout(void **state)
{
	static const struct ic_version ts3[] = {{3, 0}};
	const struct guest g = {linux_fw, ts3, 2, 1};
	const struct fake_record *r;
	struct ic_timesync_msg m;

	open_and_negotiate(IC_TIMESYNC);
	guest_answer_as(IC_TIMESYNC, &g, ~0u);
	poll_ic();
	r = last_sent(ch[IC_TIMESYNC]);
	assert_int_equal(r->len, IC_HDR_SIZE + sizeof(m));
	assert_int_equal(sizeof(m), 25);
	memcpy(&m, r->data + IC_HDR_SIZE, sizeof(m));
	assert_int_equal(m.flags, IC_TIMESYNC_SYNC);
	assert_int_equal(m.parent_time, expected_filetime(fake_now_ns));
	assert_int_equal(m.child_time, 0);
	assert_int_equal(m.round_trip_time, 0);
}

static void test_date_sets_the_clock_and_syncs(void **state)
{
	struct ic_timesync_state *ts = &ic->ch[IC_TIMESYNC].u.ts;
	struct ic_timesync_ref_msg m;
	const u64 when = 1700000000; /* 2023-11-14T22:13:20Z */
	char want[160];

	bring_up(IC_TIMESYNC);
	poll_ic(); /* the first SYNC */
	guest_answer(IC_TIMESYNC);
	snprintf(want, sizeof(want),
		 "date partition=linux unix=1700000000.0000000 timesync=ready version=4.0 "
		 "sent=%llu answered=%llu\n",
		 (unsigned long long)ts->sent, (unsigned long long)ts->answered);
	assert_string_equal(console("date linux 1700000000"), want);
	poll_ic();
	m = sent_ref();
	assert_int_equal(m.flags, IC_TIMESYNC_SYNC);
	assert_int_equal(m.parent_time, IC_FILETIME_UNIX_EPOCH + when * IC_FILETIME_HZ);
	advance_ms(1500);
	assert_non_null(strstr(console("date linux"), "date partition=linux "
						      "unix=1700000001.5000000 timesync=ready "));
	/* Setting the clock of a partition whose guest has not opened timesync just waits. */
	fake_close(ch[IC_TIMESYNC]);
	assert_non_null(strstr(console("date linux 1800000000"), "unix=1800000000.0000000 "
								 "timesync=closed"));
	poll_ic();
	assert_int_equal(fake_count(ch[IC_TIMESYNC], FAKE_SENT), 3);
}

static void test_date_errors(void **state)
{
	static const char *const bad[] = {"date linux abc", "date linux -5", "date linux 12x",
					  "date linux 253402300800",
					  "date linux 99999999999999999999999"};

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
		assert_string_equal(console(bad[i]), "error: SECONDS must be 0..253402300799 "
						     "(seconds since 1970, UTC)\n");
	assert_string_equal(console("date"), "error: usage: date PARTITION [SECONDS]\n");
	assert_string_equal(console("date nobody"),
			    "error: no partition named 'nobody' (see 'list')\n");
	assert_string_equal(console("date plain 5"),
			    "error: partition plain has no IC channels (add `ic` to its vmbus "
			    "list)\n");
	assert_int_equal(ic->wall_offset_100ns, 0);
	assert_non_null(strstr(console("date linux 253402300799"), "unix=253402300799.0000000"));
}

static void test_wall_clock_is_the_epoch_plus_host_time(void **state)
{
	/* Host time 0 is IC_WALL_EPOCH_UNIX exactly; the sub-second part is in 100 ns units. */
	assert_int_equal(ic_wall_filetime(ic, 0),
			 IC_FILETIME_UNIX_EPOCH + IC_WALL_EPOCH_UNIX * IC_FILETIME_HZ);
	assert_int_equal(ic_wall_filetime(ic, IC_NS(3) + IC_NS(1) / 4) - ic_wall_filetime(ic, 0),
			 3 * IC_FILETIME_HZ + IC_FILETIME_HZ / 4);
	/* A year of uptime does not overflow. */
	assert_int_equal(ic_wall_filetime(ic, IC_NS(31536000ull)) - ic_wall_filetime(ic, 0),
			 31536000ull * IC_FILETIME_HZ);
	ic_wall_set_unix(ic, 0, 12345);
	assert_int_equal(ic_wall_filetime(ic, 12345), IC_FILETIME_UNIX_EPOCH);
}

/* ---- the door: timer, snapshots ---- */

static void test_work_arms_the_timer_for_the_next_heartbeat(void **state)
{
	u64 at;

	bring_up(IC_HEARTBEAT);
	poll_ic(); /* the first heartbeat goes at once */
	assert_int_equal(sent_hdr(last_sent(ch[IC_HEARTBEAT])).type, IC_MSG_HEARTBEAT);
	assert_true(fake_timer(vsp, &at));
	assert_int_equal(at, fake_now_ns + IC_NS(IC_HEARTBEAT_PERIOD_S));
	/* Nothing runs before it is due, whatever the number of passes. */
	advance_ms(IC_HEARTBEAT_PERIOD_S * 1000 - 1);
	poll_ic();
	poll_ic();
	assert_int_equal(fake_count(ch[IC_HEARTBEAT], FAKE_SENT), 2);
	advance_ms(1);
	poll_ic();
	assert_int_equal(fake_count(ch[IC_HEARTBEAT], FAKE_SENT), 3);
}

/* What a snapshot restore does to the channels: closed, then opened again (NEGOTIATE). */
static void channels_restored(void)
{
	for (unsigned s = 0; s < IC_NR_SERVICES; s++) {
		bool open = fake_is_open(ch[s]);

		fake_close(ch[s]);
		if (open)
			assert_int_equal(fake_open(ch[s]), VMB_STATUS_SUCCESS);
	}
}

static void test_save_restore_keeps_the_conversation(void **state)
{
	struct ic_channel *hb = &ic->ch[IC_HEARTBEAT];
	struct ic_saved saved;
	u32 needed = 0;
	u8 tx;
	unsigned sent;

	bring_up(IC_HEARTBEAT);
	bring_up(IC_SHUTDOWN);
	poll_ic(); /* a heartbeat is outstanding */
	assert_true(hb->outstanding);
	tx = hb->out_transaction;
	ic->wall_offset_100ns = 12345;
	assert_int_equal(fake_vsp_save(vsp, NULL, 0, &needed), VMB_STATUS_BUFFER_TOO_SMALL);
	assert_int_equal(needed, sizeof(saved));
	assert_int_equal(fake_vsp_save(vsp, &saved, sizeof(saved), &needed), VMB_STATUS_SUCCESS);
	assert_int_equal(saved.ch[IC_HEARTBEAT].state, IC_SAVED_READY);
	assert_int_equal(saved.ch[IC_TIMESYNC].state, IC_SAVED_CLOSED);
	/* The guest moves on, then the snapshot comes back. */
	guest_answer(IC_HEARTBEAT);
	ic->wall_offset_100ns = 0;
	channels_restored();
	assert_int_equal(hb->state, IC_NEGOTIATE);
	assert_int_equal(fake_vsp_restore(vsp, &saved, sizeof(saved)), VMB_STATUS_SUCCESS);
	assert_int_equal(hb->state, IC_READY);
	assert_int_equal(ic->ch[IC_SHUTDOWN].state, IC_READY);
	assert_int_equal(ic->ch[IC_TIMESYNC].state, IC_CLOSED);
	assert_true(hb->outstanding);
	assert_int_equal(hb->out_transaction, tx);
	assert_int_equal(hb->version.major, 3);
	assert_int_equal(ic->wall_offset_100ns, 12345);
	/* No new negotiation: the guest's answer to the saved request is taken. */
	sent = fake_count(ch[IC_HEARTBEAT], FAKE_SENT);
	guest_answer(IC_HEARTBEAT);
	assert_false(hb->outstanding);
	poll_ic();
	assert_int_equal(fake_count(ch[IC_HEARTBEAT], FAKE_SENT), sent + 1);
	assert_int_equal(sent_hdr(last_sent(ch[IC_HEARTBEAT])).type, IC_MSG_HEARTBEAT);
}

static void test_restore_refuses_bad_saved_state(void **state)
{
	struct ic_saved saved, bad;
	u8 longer[sizeof(saved) + 8];
	u32 needed;

	bring_up(IC_HEARTBEAT);
	assert_int_equal(fake_vsp_save(vsp, &saved, sizeof(saved), &needed), VMB_STATUS_SUCCESS);
	bad = saved;
	bad.version = 2;
	assert_int_equal(fake_vsp_restore(vsp, &bad, sizeof(bad)), VMB_STATUS_REVISION_MISMATCH);
	assert_int_equal(fake_vsp_restore(vsp, &saved, sizeof(saved) - 1), VMB_STATUS_DATA_ERROR);
	assert_int_equal(fake_vsp_restore(vsp, &saved, 4), VMB_STATUS_DATA_ERROR);
	bad = saved;
	bad.ch[IC_HEARTBEAT].state = 9;
	bad.wall_offset_100ns = 99;
	assert_int_equal(fake_vsp_check(vsp, &bad, sizeof(bad)), VMB_STATUS_DATA_ERROR);
	assert_int_equal(fake_vsp_restore(vsp, &bad, sizeof(bad)), VMB_STATUS_DATA_ERROR);
	bad = saved;
	bad.ch[IC_HEARTBEAT].flags = 0x80;
	assert_int_equal(fake_vsp_check(vsp, &bad, sizeof(bad)), VMB_STATUS_DATA_ERROR);
	assert_int_equal(fake_vsp_restore(vsp, &bad, sizeof(bad)), VMB_STATUS_DATA_ERROR);
	bad = saved;
	bad.ch[IC_HEARTBEAT].version = (struct ic_version){9, 9};
	assert_int_equal(fake_vsp_check(vsp, &bad, sizeof(bad)), VMB_STATUS_DATA_ERROR);
	assert_int_equal(fake_vsp_restore(vsp, &bad, sizeof(bad)), VMB_STATUS_DATA_ERROR);
	assert_int_equal(fake_vsp_check(vsp, &saved, 4), VMB_STATUS_DATA_ERROR);
	/* Nothing changed on the way. */
	assert_int_equal(ic->wall_offset_100ns, 0);
	assert_int_equal(ic->ch[IC_HEARTBEAT].state, IC_READY);
	assert_int_equal(fake_vsp_check(vsp, &saved, sizeof(saved)), VMB_STATUS_SUCCESS);
	/*
	 * The check runs before the channels come back, so it cannot see which
	 * are open; where the record and the channels disagree the channels win,
	 * and the restore does not fail after the check passed: a channel the
	 * guest holds open that was saved closed negotiates again, a closed one
	 * saved ready stays closed.
	 */
	bad = saved;
	bad.ch[IC_HEARTBEAT].state = IC_SAVED_CLOSED;
	bad.ch[IC_SHUTDOWN].state = IC_SAVED_READY;
	bad.ch[IC_SHUTDOWN].flags = IC_SAVED_OUTSTANDING | IC_SAVED_SD_PENDING;
	bad.ch[IC_SHUTDOWN].framework = (struct ic_version){3, 0};
	bad.ch[IC_SHUTDOWN].version = (struct ic_version){3, 2};
	bad.wall_offset_100ns = 99;
	assert_int_equal(fake_vsp_check(vsp, &bad, sizeof(bad)), VMB_STATUS_SUCCESS);
	assert_int_equal(fake_vsp_restore(vsp, &bad, sizeof(bad)), VMB_STATUS_SUCCESS);
	assert_int_equal(ic->ch[IC_HEARTBEAT].state, IC_NEGOTIATE);
	assert_false(ic->ch[IC_HEARTBEAT].outstanding);
	assert_int_equal(ic->ch[IC_SHUTDOWN].state, IC_CLOSED);
	assert_false(ic->ch[IC_SHUTDOWN].outstanding);
	assert_false(ic->ch[IC_SHUTDOWN].u.sd.pending);
	assert_int_equal(ic->wall_offset_100ns, 99);
	ic->wall_offset_100ns = 0;
	/* A longer record of this version (a later build's) is read for what is known. */
	bad = saved;
	bad.size = sizeof(longer);
	bad.wall_offset_100ns = 7;
	memset(longer, 0xee, sizeof(longer));
	memcpy(longer, &bad, sizeof(bad));
	assert_int_equal(fake_vsp_restore(vsp, longer, sizeof(longer)), VMB_STATUS_SUCCESS);
	assert_int_equal(ic->wall_offset_100ns, 7);
	/* An empty one (no saved state): the channels negotiate again. */
	channels_restored();
	assert_int_equal(fake_vsp_restore(vsp, NULL, 0), VMB_STATUS_SUCCESS);
	assert_int_equal(ic->ch[IC_HEARTBEAT].state, IC_NEGOTIATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_work_arms_the_timer_for_the_next_heartbeat, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_save_restore_keeps_the_conversation, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_restore_refuses_bad_saved_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_offers_three_channels_with_hyperv_guids, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_negotiate_message_offers_every_version, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_linux_guest_chooses_the_newest_versions, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_older_guest_gets_older_versions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_guest_without_common_version_refuses, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_bad_negotiate_answers_are_ignored, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_negotiation_retries_after_timeout, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_full_ring_delays_negotiation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_forgets_the_conversation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_response_direct, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_heartbeat_sequence_advances_every_second, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_heartbeat_wrong_sequence_is_rejected, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_heartbeat_goes_late_when_the_guest_stops, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_heartbeat_command_states_and_errors, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown_request_encoding, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown_waits_for_ring_space_and_is_sent_once,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timesync_v4_first_sync_then_samples, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_timesync_v3_uses_the_old_layout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_date_sets_the_clock_and_syncs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_date_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wall_clock_is_the_epoch_plus_host_time, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
