/*
 * The echo VSP (vsp/echo.c) on the host, against the fake VMBus library of
 * test_vsp_fake.c: the offer, echoes with and without completions, external
 * data, a full host->guest ring (packets wait in order, delivery pauses and
 * resumes, none is lost or sent twice), save/restore of waiting packets, and
 * the `echo P` console command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_vsp_fake.h"
#include "vsp/echo.h"

static struct vsp *echo;
static struct vmb_bus *bus;
static struct vmb_channel *ch;
static struct echo_stats base; /* the counters when the test began */
static const struct vmb_guid echo_type = ECHO_TYPE_GUID;

static struct echo_stats stats(void)
{
	struct echo_stats s;

	echo_get_stats(echo, &s);
	return s;
}

#define DELTA(field) (stats().field - base.field)

static const char *console(const char *line)
{
	return fake_command(line);
}

static int group_setup(void **state)
{
	char err[128] = "";

	fake_reset();
	echo = fake_vsp_create("echo", "linux", err, sizeof(err));
	assert_non_null(echo);
	fake_partition("plain");
	bus = vsp_bus(echo);
	ch = fake_channel(bus, &echo_type);
	assert_non_null(ch);
	return 0;
}

static int setup(void **state)
{
	fake_close(ch);
	fake_clear();
	assert_int_equal(fake_open(ch), VMB_STATUS_SUCCESS);
	base = stats();
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(fake_violations, 0);
	return 0;
}

/* A payload that tells packets apart: byte i of packet n. */
static void pattern(u8 *buf, u32 len, unsigned n)
{
	for (u32 i = 0; i < len; i++)
		buf[i] = (u8)(n * 31 + i * 7 + 1);
}

static void assert_record(enum fake_kind kind, unsigned index, const void *data, u32 len)
{
	const struct fake_record *r = fake_record(ch, kind, index);

	assert_non_null(r);
	assert_int_equal(r->len, len);
	assert_memory_equal(r->data, data, len);
}

static void test_offer(void **state)
{
	const struct vmb_guid want_type =
	    VMB_GUID(0xb1c0e000, 0x0ec0, 0x4b48, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01);
	const struct vmb_guid want_instance =
	    VMB_GUID(0xb1c0e000, 0x0ec0, 0x4b48, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01);
	struct vmb_guid type, instance;

	assert_true(fake_enabled(ch));
	fake_channel_ids(ch, &type, &instance);
	assert_memory_equal(&type, &want_type, sizeof(type));
	assert_memory_equal(&instance, &want_instance, sizeof(instance));
	assert_string_equal(fake_friendly_name(ch), "echo");
	assert_int_equal(fake_max_packet(ch), ECHO_MAX_DATA);
}

static void test_echo_without_completion(void **state)
{
	fake_guest_send(ch, "hello", 5, 0, NULL);
	assert_int_equal(fake_count(ch, FAKE_SENT), 1);
	assert_record(FAKE_SENT, 0, "hello", 5);
	assert_int_equal(fake_record(ch, FAKE_SENT, 0)->flags, 0); /* no completion asked */
	assert_int_equal(fake_count(ch, FAKE_COMPLETION), 0);
	assert_int_equal(fake_in_use(ch), 0);
	assert_int_equal(DELTA(packets), 1);
	assert_int_equal(DELTA(bytes), 5);
	assert_int_equal(DELTA(completions), 0);
}

static void test_echo_with_completion(void **state)
{
	u8 data[ECHO_MAX_DATA];

	pattern(data, sizeof(data), 1);
	fake_guest_send(ch, data, sizeof(data), VMB_PACKET_COMPLETION_REQUESTED, NULL);
	fake_guest_send(ch, "", 0, VMB_PACKET_COMPLETION_REQUESTED, NULL);
	assert_record(FAKE_SENT, 0, data, sizeof(data));
	assert_record(FAKE_COMPLETION, 0, data, sizeof(data));
	assert_record(FAKE_SENT, 1, "", 0);
	assert_record(FAKE_COMPLETION, 1, "", 0);
	/* The echo goes out before the completion. */
	assert_ptr_equal(fake_record(ch, FAKE_SENT, 0), &fake_sent[0]);
	assert_ptr_equal(fake_record(ch, FAKE_COMPLETION, 0), &fake_sent[1]);
	assert_int_equal(fake_in_use(ch), 0);
	assert_int_equal(DELTA(completions), 2);
	assert_int_equal(DELTA(bytes), sizeof(data));
}

static void test_external_data_is_echoed_in_band(void **state)
{
	static u8 a[100], b[50], want[150];
	struct fake_ext ext = {2, {a, b}, {sizeof(a), sizeof(b)}};
	const char inband[] = "descriptor";

	pattern(a, sizeof(a), 2);
	pattern(b, sizeof(b), 3);
	memcpy(want, a, sizeof(a));
	memcpy(want + sizeof(a), b, sizeof(b));
	fake_guest_send(ch, inband, sizeof(inband),
			VMB_PACKET_EXTERNAL_DATA | VMB_PACKET_COMPLETION_REQUESTED, &ext);
	assert_record(FAKE_SENT, 0, want, sizeof(want));
	assert_record(FAKE_COMPLETION, 0, want, sizeof(want));
	assert_int_equal(DELTA(external), 1);
	assert_int_equal(DELTA(truncated), 0);
	assert_int_equal(DELTA(bytes), sizeof(want));
}

static void test_external_data_is_truncated_at_the_limit(void **state)
{
	static u8 a[1500], b[1500], c[10];
	struct fake_ext ext = {3, {a, b, c}, {sizeof(a), sizeof(b), sizeof(c)}};
	static u8 want[ECHO_MAX_DATA];

	pattern(a, sizeof(a), 4);
	pattern(b, sizeof(b), 5);
	memcpy(want, a, sizeof(a));
	memcpy(want + sizeof(a), b, ECHO_MAX_DATA - sizeof(a));
	fake_guest_send(ch, "x", 1, VMB_PACKET_EXTERNAL_DATA, &ext);
	assert_record(FAKE_SENT, 0, want, ECHO_MAX_DATA);
	assert_int_equal(DELTA(truncated), 1);
	/* An empty range list echoes nothing, but still echoes. */
	ext.nr_ranges = 0;
	fake_guest_send(ch, "x", 1, VMB_PACKET_EXTERNAL_DATA, &ext);
	assert_record(FAKE_SENT, 1, "", 0);
}

static void test_unreadable_external_data_fails_the_packet(void **state)
{
	static u8 a[16];
	struct fake_ext ext = {2, {a, NULL}, {sizeof(a), 64}};

	fake_guest_send(ch, "x", 1, VMB_PACKET_EXTERNAL_DATA | VMB_PACKET_COMPLETION_REQUESTED,
			&ext);
	assert_int_equal(fake_count(ch, FAKE_SENT), 0);
	assert_int_equal(fake_count(ch, FAKE_FAILED), 1);
	assert_int_equal(fake_in_use(ch), 0);
	assert_int_equal(DELTA(errors), 1);
	assert_int_equal(DELTA(packets), 0);
	/* The channel goes on. */
	fake_guest_send(ch, "ok", 2, 0, NULL);
	assert_record(FAKE_SENT, 0, "ok", 2);
}

static void test_oversized_inband_payload_is_truncated(void **state)
{
	/* The library refuses these (maximum packet size), but the VSP copes anyway. */
	static u8 big[ECHO_MAX_DATA + 100];

	pattern(big, sizeof(big), 6);
	fake_guest_send(ch, big, sizeof(big), 0, NULL);
	assert_record(FAKE_SENT, 0, big, ECHO_MAX_DATA);
	assert_int_equal(DELTA(truncated), 1);
}

/* Ring full: the first packet waits, delivery pauses, the rest stay with the guest. */
static void test_full_ring_defers_then_drains_in_order(void **state)
{
	enum { N = 12 };
	u8 data[N][40];

	fake_ring_room = 0;
	for (unsigned i = 0; i < N; i++) {
		pattern(data[i], sizeof(data[i]), 10 + i);
		fake_guest_send(ch, data[i], sizeof(data[i]),
				i % 3 ? 0 : VMB_PACKET_COMPLETION_REQUESTED, NULL);
	}
	assert_int_equal(fake_count(ch, FAKE_SENT), 0);
	assert_true(fake_paused(ch));
	assert_int_equal(echo_queued(echo), 1);
	assert_int_equal(fake_in_use(ch), 1);
	assert_int_equal(fake_guest_queued(ch), N - 1);
	assert_non_null(strstr(console("echo linux"), " queued=1 paused=1 "));
	/* Polls while the ring stays full change nothing. */
	fake_pass();
	fake_pass();
	assert_int_equal(fake_count(ch, FAKE_SENT), 0);
	/* Room for three: the waiting one and the next two go out, then it waits again. */
	fake_ring_room = 3;
	fake_pass();
	assert_int_equal(fake_count(ch, FAKE_SENT) + fake_count(ch, FAKE_COMPLETION), 3);
	assert_true(fake_paused(ch));
	/* Room for all. */
	fake_ring_room = FAKE_RING_UNLIMITED;
	fake_pass();
	fake_pass();
	assert_false(fake_paused(ch));
	assert_int_equal(echo_queued(echo), 0);
	assert_int_equal(fake_guest_queued(ch), 0);
	assert_int_equal(fake_in_use(ch), 0);
	/* Every packet echoed exactly once, in order; completions where asked, in order. */
	assert_int_equal(fake_count(ch, FAKE_SENT), N);
	assert_int_equal(fake_count(ch, FAKE_COMPLETION), (N + 2) / 3);
	for (unsigned i = 0, c = 0; i < N; i++) {
		assert_record(FAKE_SENT, i, data[i], sizeof(data[i]));
		if (i % 3 == 0)
			assert_record(FAKE_COMPLETION, c++, data[i], sizeof(data[i]));
	}
	assert_int_equal(DELTA(packets), N);
	assert_int_equal(DELTA(dropped), 0);
	assert_true(DELTA(deferred) >= 2);
}

static void test_completion_without_room_is_retried_alone(void **state)
{
	/* Room for the echo but not for its completion: only the completion is owed. */
	fake_ring_room = 1;
	fake_guest_send(ch, "abc", 3, VMB_PACKET_COMPLETION_REQUESTED, NULL);
	assert_int_equal(fake_count(ch, FAKE_SENT), 1);
	assert_int_equal(fake_count(ch, FAKE_COMPLETION), 0);
	assert_int_equal(echo_queued(echo), 1);
	fake_ring_room = FAKE_RING_UNLIMITED;
	fake_pass();
	assert_int_equal(fake_count(ch, FAKE_SENT), 1); /* not echoed twice */
	assert_record(FAKE_COMPLETION, 0, "abc", 3);
	assert_int_equal(fake_in_use(ch), 0);
	assert_false(fake_paused(ch));
}

static void test_no_packet_to_send_with_is_like_a_full_ring(void **state)
{
	fake_alloc_fails = true;
	fake_guest_send(ch, "p0", 2, 0, NULL);
	fake_guest_send(ch, "p1", 2, 0, NULL);
	assert_int_equal(fake_count(ch, FAKE_SENT), 0);
	assert_int_equal(echo_queued(echo), 1);
	fake_alloc_fails = false;
	fake_pass();
	assert_record(FAKE_SENT, 0, "p0", 2);
	assert_record(FAKE_SENT, 1, "p1", 2);
	assert_int_equal(fake_count(ch, FAKE_SENT), 2);
}

static void test_close_forgets_waiting_packets(void **state)
{
	fake_ring_room = 0;
	fake_guest_send(ch, "lost", 4, VMB_PACKET_COMPLETION_REQUESTED, NULL);
	assert_int_equal(echo_queued(echo), 1);
	fake_close(ch); /* the library dropped them: the VSP must not touch them again */
	assert_int_equal(echo_queued(echo), 0);
	assert_false(fake_paused(ch));
	assert_non_null(strstr(console("echo linux"), " state=closed "));
	fake_ring_room = FAKE_RING_UNLIMITED;
	fake_pass();
	assert_int_equal(fake_open(ch), VMB_STATUS_SUCCESS);
	fake_guest_send(ch, "new", 3, 0, NULL);
	assert_int_equal(fake_count(ch, FAKE_SENT), 1);
	assert_record(FAKE_SENT, 0, "new", 3);
}

static void test_save_restore_keeps_waiting_packets(void **state)
{
	u8 data[300];

	pattern(data, sizeof(data), 42);
	fake_ring_room = 1;
	/* p0: echoed, completion owed. */
	fake_guest_send(ch, "first", 5, VMB_PACKET_COMPLETION_REQUESTED, NULL);
	assert_int_equal(echo_queued(echo), 1);
	/* Let it take one more that owes everything: resume delivery by hand, ring still full. */
	assert_int_equal(vmb_channel_start(ch), VMB_STATUS_SUCCESS);
	fake_guest_send(ch, data, sizeof(data), VMB_PACKET_COMPLETION_REQUESTED, NULL);
	assert_int_equal(echo_queued(echo), 2);
	assert_int_equal(fake_save(ch), 2);
	fake_nr_sent = 0;
	assert_int_equal(fake_restore(ch), 2);
	assert_int_equal(echo_queued(echo), 2);
	fake_ring_room = FAKE_RING_UNLIMITED;
	fake_pass();
	/* After the restore: p0 only completes, p1 is echoed and completes. */
	assert_int_equal(fake_count(ch, FAKE_SENT), 1);
	assert_record(FAKE_SENT, 0, data, sizeof(data));
	assert_record(FAKE_COMPLETION, 0, "first", 5);
	assert_record(FAKE_COMPLETION, 1, data, sizeof(data));
	assert_int_equal(fake_in_use(ch), 0);
	assert_int_equal(echo_queued(echo), 0);
}

static void test_restore_refuses_bad_saved_state(void **state)
{
	u8 blob[sizeof(struct echo_saved_packet) + 8];
	struct echo_saved_packet s = {ECHO_SAVE_VERSION, 0, 8, VMB_PACKET_COMPLETION_REQUESTED};
	struct echo_saved_packet bad;

	memcpy(blob, &s, sizeof(s));
	memcpy(blob + sizeof(s), "12345678", 8);
	bad = s;
	bad.version = 2;
	memcpy(blob, &bad, sizeof(bad));
	assert_int_equal(fake_restore_one(ch, blob, sizeof(blob)), VMB_STATUS_REVISION_MISMATCH);
	bad = s;
	bad.state = 0x80;
	memcpy(blob, &bad, sizeof(bad));
	assert_int_equal(fake_restore_one(ch, blob, sizeof(blob)), VMB_STATUS_DATA_ERROR);
	bad = s;
	bad.len = ECHO_MAX_DATA + 1;
	memcpy(blob, &bad, sizeof(bad));
	assert_int_equal(fake_restore_one(ch, blob, sizeof(blob)), VMB_STATUS_DATA_ERROR);
	memcpy(blob, &s, sizeof(s));
	assert_int_equal(fake_restore_one(ch, blob, sizeof(blob) - 1), VMB_STATUS_DATA_ERROR);
	assert_int_equal(fake_restore_one(ch, blob, 3), VMB_STATUS_DATA_ERROR);
	assert_int_equal(echo_queued(echo), 0);
	/* The good one restores and is echoed. */
	assert_int_equal(fake_restore_one(ch, blob, sizeof(blob)), VMB_STATUS_SUCCESS);
	fake_pass();
	assert_record(FAKE_SENT, 0, "12345678", 8);
	assert_record(FAKE_COMPLETION, 0, "12345678", 8);
}

/*
 * A completion the library holds while the ring has no room is saved with an
 * empty VSP part (echo kept nothing for it): restore_packet gets zero bytes
 * (docs/kmcl.md) and must take the packet back with the library's part
 * alone, not refuse the restore.
 */
static void test_restore_takes_a_packet_it_kept_nothing_for(void **state)
{
	assert_int_equal(fake_restore_one(ch, NULL, 0), VMB_STATUS_SUCCESS);
	assert_int_equal(echo_queued(echo), 0); /* nothing of ours to send */
	assert_int_equal(fake_in_use(ch), 1);	/* the library's, restored */
	fake_pass();
	assert_int_equal(fake_count(ch, FAKE_SENT), 0);
}

/*
 * Echo paused the channel itself because the ring was full; a snapshot then
 * saves the channel paused and the restore keeps it paused (vmbus/snap.c,
 * was_paused). Echo must know it paused it, so that it starts the channel
 * again once the waiting packets are out, exactly as without the snapshot.
 */
static void test_own_pause_survives_a_restore(void **state)
{
	u8 saved[256];
	u32 need = 0;
	vmb_status st;

	fake_ring_room = 0;
	fake_guest_send(ch, "wait", 4, VMB_PACKET_COMPLETION_REQUESTED, NULL);
	assert_true(fake_paused(ch));
	assert_int_equal(echo_queued(echo), 1);
	/* The snapshot: the channel's packets, then the instance's own state. */
	assert_int_equal(fake_save(ch), 1);
	st = fake_vsp_save(echo, NULL, 0, &need);
	if (st == VMB_STATUS_BUFFER_TOO_SMALL) {
		assert_true(need <= sizeof(saved));
		st = fake_vsp_save(echo, saved, need, &need);
	}
	assert_int_equal(st, VMB_STATUS_SUCCESS);
	/* The restore: the channel comes back (closed and opened again, its packets back) and
	 * stays paused, as it was saved; then the instance's state. */
	assert_int_equal(fake_restore(ch), 1);
	assert_int_equal(vmb_channel_pause(ch), VMB_STATUS_SUCCESS);
	assert_int_equal(fake_vsp_restore(echo, saved, need), VMB_STATUS_SUCCESS);
	assert_int_equal(echo_queued(echo), 1);
	assert_non_null(strstr(console("echo linux"), " paused=1 "));
	/* The ring has room again: the packet goes out and delivery resumes by itself. */
	fake_ring_room = FAKE_RING_UNLIMITED;
	fake_nr_sent = 0;
	fake_pass();
	assert_int_equal(echo_queued(echo), 0);
	assert_record(FAKE_SENT, 0, "wait", 4);
	assert_false(fake_paused(ch));
	fake_guest_send(ch, "after", 5, 0, NULL);
	assert_record(FAKE_SENT, 1, "after", 5);
	assert_int_equal(fake_in_use(ch), 0);
}

/*
 * An instance that did not pause saves that too: its restore leaves the
 * channel alone, and does not forget a pause made since the channel came
 * back (the restore starts a channel saved running, and the guest's waiting
 * packets may fill the ring before the instance's state is restored).
 */
static void test_restore_of_an_unpaused_instance(void **state)
{
	u8 saved[256];
	u32 need = 0;
	vmb_status st = fake_vsp_save(echo, NULL, 0, &need);

	if (st == VMB_STATUS_BUFFER_TOO_SMALL) {
		assert_true(need <= sizeof(saved));
		st = fake_vsp_save(echo, saved, need, &need);
	}
	assert_int_equal(st, VMB_STATUS_SUCCESS);
	assert_int_equal(fake_vsp_check(echo, saved, need), VMB_STATUS_SUCCESS);
	assert_int_equal(fake_vsp_restore(echo, saved, need), VMB_STATUS_SUCCESS);
	fake_pass();
	assert_false(fake_paused(ch));
	assert_non_null(strstr(console("echo linux"), " paused=0 "));
	/* Paused by a packet after the channel came back, then the state saved unpaused. */
	fake_ring_room = 0;
	fake_guest_send(ch, "late", 4, 0, NULL);
	assert_true(fake_paused(ch));
	assert_int_equal(fake_vsp_restore(echo, saved, need), VMB_STATUS_SUCCESS);
	fake_ring_room = FAKE_RING_UNLIMITED;
	fake_nr_sent = 0;
	fake_pass();
	assert_record(FAKE_SENT, 0, "late", 4);
	assert_false(fake_paused(ch));
}

/* Echo's own record is checked field by field; check and restore refuse alike. */
static void test_instance_state_checked(void **state)
{
	struct echo_saved s = {ECHO_STATE_VERSION, sizeof(s), ECHO_SAVED_PAUSED, 0}, bad;
	u8 longer[sizeof(s) + 4];

	assert_int_equal(fake_vsp_check(echo, &s, sizeof(s)), VMB_STATUS_SUCCESS);
	assert_int_equal(fake_vsp_check(echo, NULL, 0), VMB_STATUS_SUCCESS);
	bad = s;
	bad.version = 2;
	assert_int_equal(fake_vsp_check(echo, &bad, sizeof(bad)), VMB_STATUS_REVISION_MISMATCH);
	assert_int_equal(fake_vsp_restore(echo, &bad, sizeof(bad)), VMB_STATUS_REVISION_MISMATCH);
	bad = s;
	bad.flags = 0x80;
	assert_int_equal(fake_vsp_check(echo, &bad, sizeof(bad)), VMB_STATUS_DATA_ERROR);
	bad = s;
	bad.reserved = 1;
	assert_int_equal(fake_vsp_check(echo, &bad, sizeof(bad)), VMB_STATUS_DATA_ERROR);
	assert_int_equal(fake_vsp_check(echo, &s, 4), VMB_STATUS_DATA_ERROR);
	assert_int_equal(fake_vsp_check(echo, &s, sizeof(s) - 1), VMB_STATUS_DATA_ERROR);
	assert_int_equal(fake_vsp_restore(echo, &s, sizeof(s) - 1), VMB_STATUS_DATA_ERROR);
	/* A later build's longer record of this version: read for what is known. */
	bad = s;
	bad.size = sizeof(longer);
	memset(longer, 0xee, sizeof(longer));
	memcpy(longer, &bad, sizeof(bad));
	assert_int_equal(fake_vsp_check(echo, longer, sizeof(longer)), VMB_STATUS_SUCCESS);
	assert_non_null(strstr(console("echo linux"), " paused=0 ")); /* check changed nothing */
}

/* The packet check: an empty part passes; at most ECHO_QUEUE_DEPTH parts of ours. */
static void test_packet_check(void **state)
{
	u8 blob[sizeof(struct echo_saved_packet) + 4];
	struct echo_saved_packet s = {ECHO_SAVE_VERSION, 0, 4, VMB_PACKET_COMPLETION_REQUESTED};

	memcpy(blob, &s, sizeof(s));
	memcpy(blob + sizeof(s), "abcd", 4);
	assert_int_equal(fake_check_one(ch, 0, NULL, 0), VMB_STATUS_SUCCESS);
	assert_int_equal(fake_check_one(ch, 0, blob, sizeof(blob)), VMB_STATUS_SUCCESS);
	assert_int_equal(fake_check_one(ch, ECHO_QUEUE_DEPTH - 1, blob, sizeof(blob)),
			 VMB_STATUS_SUCCESS);
	assert_int_equal(fake_check_one(ch, ECHO_QUEUE_DEPTH, blob, sizeof(blob)),
			 VMB_STATUS_DATA_ERROR);
	assert_int_equal(fake_check_one(ch, 0, blob, sizeof(blob) - 1), VMB_STATUS_DATA_ERROR);
	s.flags = 0x100;
	memcpy(blob, &s, sizeof(s));
	assert_int_equal(fake_check_one(ch, 0, blob, sizeof(blob)), VMB_STATUS_DATA_ERROR);
	assert_int_equal(fake_restore_one(ch, blob, sizeof(blob)), VMB_STATUS_DATA_ERROR);
	assert_int_equal(echo_queued(echo), 0);
}

static void test_echo_command(void **state)
{
	char want[256];

	fake_guest_send(ch, "abcd", 4, VMB_PACKET_COMPLETION_REQUESTED, NULL);
	snprintf(want, sizeof(want),
		 "echo partition=linux state=open packets=%llu bytes=%llu completions=%llu ",
		 (unsigned long long)stats().packets, (unsigned long long)stats().bytes,
		 (unsigned long long)stats().completions);
	assert_true(!strncmp(console("echo linux"), want, strlen(want)));
	assert_non_null(strstr(fake_console, " queued=0 paused=0 errors="));
	assert_string_equal(console("echo plain"),
			    "error: partition plain has no echo channel (add `echo` to its vmbus "
			    "list)\n");
	assert_string_equal(console("echo nobody"),
			    "error: no partition named 'nobody' (see 'list')\n");
	assert_string_equal(console("echo"), "error: usage: echo PARTITION\n");
	assert_string_equal(console("echo linux more"), "error: usage: echo PARTITION\n");
}

/* Two partitions' echo devices: each instance has its own channel, queue and counters. */
static void test_instances_are_apart(void **state)
{
	static const struct vmb_guid type = ECHO_TYPE_GUID;
	char err[128] = "";
	struct vsp *other = fake_vsp_create("echo", "other", err, sizeof(err));
	struct vmb_channel *och;
	struct echo_stats os;

	assert_non_null(other);
	och = fake_channel(vsp_bus(other), &type);
	assert_non_null(och);
	assert_ptr_not_equal(och, ch);
	assert_int_equal(fake_open(och), VMB_STATUS_SUCCESS);
	fake_ring_room = 0;
	fake_guest_send(och, "wait", 4, 0, NULL);
	assert_int_equal(echo_queued(other), 1);
	assert_int_equal(echo_queued(echo), 0);
	assert_true(fake_deferred(other));
	assert_false(fake_deferred(echo));
	fake_ring_room = FAKE_RING_UNLIMITED;
	fake_guest_send(ch, "mine", 4, 0, NULL);
	assert_int_equal(DELTA(packets), 1);
	echo_get_stats(other, &os);
	assert_int_equal(os.packets, 1);
	fake_pass();
	assert_int_equal(echo_queued(other), 0);
	assert_false(fake_deferred(other));
	assert_false(fake_paused(och));
	assert_non_null(
	    strstr(console("echo other"), "echo partition=other state=open packets=1 "));
	fake_close(och);
	fake_vsp_destroy(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_offer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_instances_are_apart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_echo_without_completion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_echo_with_completion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_external_data_is_echoed_in_band, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_external_data_is_truncated_at_the_limit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_unreadable_external_data_fails_the_packet, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_inband_payload_is_truncated, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_full_ring_defers_then_drains_in_order, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_completion_without_room_is_retried_alone, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_no_packet_to_send_with_is_like_a_full_ring, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_close_forgets_waiting_packets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_restore_keeps_waiting_packets, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_restore_refuses_bad_saved_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore_takes_a_packet_it_kept_nothing_for, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_own_pause_survives_a_restore, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore_of_an_unpaused_instance, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_instance_state_checked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_packet_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_echo_command, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
