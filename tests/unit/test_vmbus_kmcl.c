/*
 * The KMCL-equivalent API (vmbus/kmcl.c, vmbus/packet.c) against a bus and
 * a scripted guest (test_vmbus_fake.c): the set-up contract, pause and
 * start, packets both ways with completions matched by transaction id,
 * deferral, GPA_DIRECT external data, ring flow control and signalling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_vmbus_fake.h"
#include "kernel/hv_defs.h"

#define RING_GPADL 0x100
#define RING_FIRST 4
#define RING_PAGES 6 /* split 3: two data pages each way */
#define RING_SPLIT 3
#define MAX_SEEN   300

static struct vmbus_host host;
static struct vmb_bus *bus;
static struct vmb_channel *ch;
static struct guest_chan gc;

/* What the VSP saw. */
struct seen {
	struct vmb_packet *packet;
	u32 len, flags;
	u8 data[64];
};
static struct seen seen[MAX_SEEN];
static unsigned nr_seen, batches, completions;
static enum { ACT_COMPLETE, ACT_KEEP, ACT_DEFER, ACT_FAIL, ACT_PAUSE } action;
static vmb_status last_completion_status;
static u8 last_reply[64];
static u32 last_reply_len;

static const struct vmb_guid TYPE = VMB_GUID(0xaaaa0000, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
static const struct vmb_guid INST = VMB_GUID(0xbbbb0000, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);

static void process(struct vmb_channel *c, struct vmb_packet *p, const void *buf, u32 len,
		    u32 flags)
{
	struct seen *s = &seen[nr_seen < MAX_SEEN ? nr_seen : MAX_SEEN - 1];

	assert_ptr_equal(vmb_packet_get_channel(p), c);
	s->packet = p;
	s->len = len;
	s->flags = flags;
	memcpy(s->data, buf, MIN(len, sizeof(s->data)));
	nr_seen++;
	switch (action) {
	case ACT_COMPLETE:
		assert_int_equal(vmb_channel_packet_complete(p, "done", 4), 0);
		break;
	case ACT_DEFER:
		assert_int_equal(vmb_channel_packet_defer(p), 0);
		break;
	case ACT_FAIL:
		assert_int_equal(vmb_channel_packet_fail(p), 0);
		break;
	case ACT_PAUSE:
		assert_int_equal(vmb_channel_packet_complete(p, NULL, 0), 0);
		assert_int_equal(vmb_channel_pause(c), 0);
		break;
	case ACT_KEEP:
		break;
	}
}

static void processing_complete(struct vmb_channel *c, u32 n)
{
	batches++;
}

static void completion(struct vmb_packet *p, vmb_status st, const void *reply, u32 len)
{
	completions++;
	last_completion_status = st;
	last_reply_len = len;
	if (len)
		memcpy(last_reply, reply, MIN(len, sizeof(last_reply)));
}

static int setup(void **state)
{
	fh.quiet = true;
	fake_reset();
	host = fake_vmbus_host();
	bus = vmbus_create(&host, "k");
	nr_seen = batches = completions = 0;
	action = ACT_COMPLETE;
	assert_int_equal(vmb_channel_allocate(bus, &ch), 0);
	assert_int_equal(vmb_server_channel_init_set_target_interface_id(ch, &TYPE, &INST), 0);
	assert_int_equal(
	    vmb_channel_init_set_process_packet_callbacks(ch, process, processing_complete), 0);
	return 0;
}

static int teardown(void **state)
{
	vmbus_destroy(bus);
	/* Everything the bus took from its pool went back. */
	assert_int_equal(fake_pool.used, 0);
	return 0;
}

static void open_channel(void)
{
	assert_int_equal(vmb_channel_enable(ch), 0);
	assert_int_equal(
	    guest_open_channel(bus, &gc, 1, RING_GPADL, RING_FIRST, RING_PAGES, RING_SPLIT), 0);
}

static void guest_sends(const char *text, u16 flags, u64 trans)
{
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_DATA_INBAND, flags, trans, NULL, 0, text,
				     (u32)strlen(text)),
			 0);
}

/* ---- set-up ---- */

static void test_setters_refused_after_enable(void **state)
{
	struct vmb_channel *other;
	const struct vmb_state_callbacks cb = {0};
	const struct vmb_guid t2 = VMB_GUID(9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9);

	assert_int_equal(vmb_channel_init_set_client_context_size(ch, 32), 0);
	assert_non_null(vmb_channel_get_pointer(ch));
	assert_int_equal(((u8 *)vmb_channel_get_pointer(ch))[31], 0);
	assert_int_equal(vmb_channel_enable(ch), 0);
	assert_int_equal(vmb_channel_enable(ch), VMB_STATUS_INVALID_DEVICE_STATE);
#define REFUSED(call) assert_int_equal(call, VMB_STATUS_INVALID_DEVICE_STATE)
	REFUSED(vmb_server_channel_init_set_vmbus_handle(ch, bus));
	REFUSED(vmb_server_channel_init_set_target_interface_id(ch, &t2, &INST));
	REFUSED(vmb_server_channel_init_set_target_vtl(ch, 0));
	REFUSED(vmb_server_channel_init_set_flags(ch, 0));
	REFUSED(vmb_server_channel_init_set_mmio_megabytes(ch, 1));
	REFUSED(vmb_channel_init_set_friendly_name(ch, "x"));
	REFUSED(vmb_channel_init_set_flags(ch, VMB_CHANNEL_FLAG_NONE));
	REFUSED(vmb_channel_init_set_maximum_packet_size(ch, 100));
	REFUSED(vmb_channel_init_set_maximum_external_data(ch, 100));
	REFUSED(vmb_channel_init_set_client_context_size(ch, 8));
	REFUSED(vmb_channel_init_set_process_packet_callbacks(ch, NULL, NULL));
	REFUSED(vmb_channel_init_set_state_change_callbacks(ch, &cb));
	REFUSED(vmb_server_channel_init_set_save_restore_packet_callbacks(ch, NULL, NULL));
	/* Disabled again (never offered: at once), the setters work again. */
	assert_int_equal(vmb_channel_disable(ch), 0);
	assert_int_equal(vmb_channel_init_set_friendly_name(ch, "again"), 0);
	/* Bad arguments. */
	assert_int_equal(vmb_channel_allocate(bus, &other), 0);
	assert_int_equal(vmb_channel_enable(other), VMB_STATUS_INVALID_DEVICE_STATE); /* no ids */
	assert_int_equal(vmb_server_channel_init_set_target_vtl(other, 1),
			 VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_channel_init_set_maximum_packet_size(other, 0),
			 VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_channel_init_set_maximum_packet_size(other, 1u << 30),
			 VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_channel_init_set_friendly_name(other, NULL),
			 VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_server_channel_init_set_target_interface_id(other, NULL, &INST),
			 VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_channel_allocate(NULL, &other), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_channel_disable(other), VMB_STATUS_INVALID_DEVICE_STATE);
	assert_int_equal(vmb_channel_pause(other), VMB_STATUS_INVALID_DEVICE_STATE);
	assert_int_equal(vmb_channel_start(other), VMB_STATUS_INVALID_DEVICE_STATE);
}

static void test_duplicate_type_and_instance_refused(void **state)
{
	struct vmb_channel *a, *b;
	struct vmb_bus *bus2 = vmbus_create(&host, "k2");
	const struct vmb_guid inst2 = VMB_GUID(0xbbbb0001, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	struct vmb_guid t, i;

	assert_int_equal(vmb_channel_allocate(bus, &a), 0);
	assert_int_equal(vmb_server_channel_init_set_target_interface_id(a, &TYPE, &INST),
			 VMB_STATUS_INVALID_PARAMETER);
	/* Same type, another instance (two NICs): fine. */
	assert_int_equal(vmb_server_channel_init_set_target_interface_id(a, &TYPE, &inst2), 0);
	vmb_channel_get_interface_instance(a, &t, &i);
	assert_memory_equal(&i, &inst2, sizeof(i));
	/* The same pair on another partition's bus: fine; moving it here: refused. */
	assert_int_equal(vmb_channel_allocate(bus2, &b), 0);
	assert_int_equal(vmb_server_channel_init_set_target_interface_id(b, &TYPE, &INST), 0);
	assert_int_equal(vmb_server_channel_init_set_vmbus_handle(b, bus),
			 VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_server_channel_init_set_target_interface_id(b, &TYPE, &t), 0);
	assert_int_equal(vmb_server_channel_init_set_vmbus_handle(b, bus), 0);
	assert_int_equal(vmbus_nr_channels(bus), 3);
	assert_int_equal(vmbus_nr_channels(bus2), 0);
	vmbus_destroy(bus2);
}

static void test_channel_limit(void **state)
{
	struct vmb_channel *c;

	for (unsigned i = 1; i < VMBUS_MAX_CHANNELS; i++)
		assert_int_equal(vmb_channel_allocate(bus, &c), 0);
	assert_int_equal(vmb_channel_allocate(bus, &c), VMB_STATUS_INSUFFICIENT_RESOURCES);
	vmb_channel_cleanup(c);
	assert_int_equal(vmb_channel_allocate(bus, &c), 0);
}

/* ---- packets from the guest ---- */

static void test_inband_packets_and_completions(void **state)
{
	struct vmbus_packet_desc d;
	u8 buf[256];
	u32 len;

	open_channel();
	guest_sends("hello", VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 0x42);
	guest_sends("no-reply", 0, 0x43);
	assert_int_equal(guest_signal(bus, 1), 0);
	assert_int_equal(nr_seen, 2);
	assert_int_equal(batches, 1);
	assert_int_equal(seen[0].len, 8); /* in-band lengths come in 8-byte units */
	assert_memory_equal(seen[0].data, "hello", 5);
	assert_int_equal(seen[0].flags, VMB_PACKET_COMPLETION_REQUESTED);
	assert_int_equal(seen[1].flags, 0);
	/* One completion, for the one that asked, with the reply and its transaction id. */
	assert_int_equal(guest_read(&gc.in, &d, buf, sizeof(buf), &len), 0);
	assert_int_equal(d.type, VMBUS_PKT_COMP);
	assert_int_equal(d.trans_id, 0x42);
	assert_int_equal(d.offset8 * 8, 16);
	assert_memory_equal(buf + 16, "done", 4);
	assert_int_equal(guest_read(&gc.in, &d, buf, sizeof(buf), &len), -1);
	/* The host signalled: its ring went from empty to not empty. */
	assert_int_equal(fh.nr_signals, 1);
	assert_int_equal(fh.signals[0], 1);
	assert_int_equal(ch->packets_in, 2);
	assert_int_equal(ch->packets_out, 1);
	assert_int_equal(ch->incoming.count, 0);
}

static void test_defer_and_fail(void **state)
{
	struct vmbus_packet_desc d;
	u8 buf[256];
	u32 len;

	open_channel();
	action = ACT_DEFER;
	guest_sends("later", VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 7);
	guest_signal(bus, 1);
	assert_int_equal(nr_seen, 1);
	assert_int_equal(guest_read(&gc.in, &d, buf, sizeof(buf), &len), -1);
	assert_int_equal(ch->incoming.count, 1);
	/* Completed outside the callback. */
	assert_int_equal(vmb_channel_packet_complete(seen[0].packet, "ok", 2), 0);
	assert_int_equal(guest_read(&gc.in, &d, buf, sizeof(buf), &len), 0);
	assert_int_equal(d.trans_id, 7);
	assert_memory_equal(buf + 16, "ok", 2);
	/* Fail: the guest still hears back, with nothing in it. */
	action = ACT_FAIL;
	guest_sends("bad", VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 8);
	guest_signal(bus, 1);
	assert_int_equal(guest_read(&gc.in, &d, buf, sizeof(buf), &len), 0);
	assert_int_equal(d.trans_id, 8);
	assert_int_equal(len, 16);
	/* Kept without defer: still in use, completes later like a deferred one. */
	action = ACT_KEEP;
	guest_sends("kept", 0, 9);
	guest_signal(bus, 1);
	assert_int_equal(ch->incoming.count, 1);
	assert_int_equal(vmb_channel_packet_defer(seen[2].packet), 0);
	assert_int_equal(vmb_channel_packet_complete(seen[2].packet, NULL, 0), 0);
	assert_int_equal(ch->incoming.count, 0);
}

static void test_pause_and_start_catch_up(void **state)
{
	open_channel();
	assert_int_equal(vmb_channel_pause(ch), 0);
	guest_sends("one", 0, 1);
	guest_sends("two", 0, 2);
	guest_signal(bus, 1);
	assert_int_equal(nr_seen, 0); /* the guest may fill the ring; nothing is delivered */
	assert_int_equal(vmb_channel_start(ch), 0);
	assert_int_equal(nr_seen, 2);
	assert_memory_equal(seen[0].data, "one", 3);
	assert_memory_equal(seen[1].data, "two", 3);
	/* Pausing from inside the callback stops the batch right there. */
	action = ACT_PAUSE;
	guest_sends("three", 0, 3);
	guest_sends("four", 0, 4);
	guest_signal(bus, 1);
	assert_int_equal(nr_seen, 3);
	action = ACT_COMPLETE;
	assert_int_equal(vmb_channel_start(ch), 0);
	assert_int_equal(nr_seen, 4);
	assert_memory_equal(seen[3].data, "four", 4);
}

static void test_paused_before_open_starts_paused(void **state)
{
	assert_int_equal(vmb_channel_enable(ch), 0);
	assert_int_equal(vmb_channel_pause(ch), 0);
	assert_int_equal(
	    guest_open_channel(bus, &gc, 1, RING_GPADL, RING_FIRST, RING_PAGES, RING_SPLIT), 0);
	guest_sends("x", 0, 1);
	guest_signal(bus, 1);
	assert_int_equal(nr_seen, 0);
	assert_int_equal(vmb_channel_start(ch), 0);
	assert_int_equal(nr_seen, 1);
}

static void test_dropped_packets(void **state)
{
	u8 big[600];
	unsigned logs;

	assert_int_equal(vmb_channel_init_set_maximum_packet_size(ch, 512), 0);
	open_channel();
	memset(big, 'b', sizeof(big));
	logs = fh.nr_logs;
	/* Over the VSP's maximum: dropped and logged; the next one is fine. */
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_DATA_INBAND, 0, 1, NULL, 0, big, 513), 0);
	guest_sends("small", 0, 2);
	/* Types the host does not take, and a completion nobody waits for. */
	assert_int_equal(
	    guest_write(&gc.out, VMBUS_PKT_DATA_USING_XFER_PAGES, 0, 3, NULL, 0, "x", 1), 0);
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_COMP, 0, 99, NULL, 0, "x", 1), 0);
	/* GPA_DIRECT on a channel that takes no external data. */
	assert_int_equal(
	    guest_write(&gc.out, VMBUS_PKT_DATA_USING_GPA_DIRECT, 0, 4, (u32[]){0, 0}, 8, "y", 1),
	    0);
	guest_signal(bus, 1);
	assert_int_equal(nr_seen, 1);
	assert_memory_equal(seen[0].data, "small", 5);
	assert_int_equal(fh.nr_logs, logs + 4);
	assert_false(ch->broken);
}

static void test_malformed_ring_stops_the_channel(void **state)
{
	struct vmb_packet *p;

	open_channel();
	gc.out.ctl->write_index = 12; /* unaligned */
	guest_signal(bus, 1);
	assert_true(ch->broken);
	assert_non_null(strstr(fh.last_log, "stopped"));
	assert_int_equal(vmb_packet_allocate(ch, &p), 0);
	assert_int_equal(vmb_packet_send(p, "x", 1, NULL, 0), VMB_STATUS_INVALID_DEVICE_STATE);
	vmb_packet_free(p);
	/* Signals are harmless now; the guest can still close and reopen. */
	assert_int_equal(guest_signal(bus, 1), 0);
	guest_close(bus, 1);
	assert_false(ch->open);
	assert_int_equal(guest_teardown(bus, 1, RING_GPADL), 1);
	assert_int_equal(
	    guest_open_channel(bus, &gc, 1, RING_GPADL, RING_FIRST, RING_PAGES, RING_SPLIT), 0);
	assert_false(ch->broken);
}

/* ---- packets to the guest ---- */

static void test_send_with_completion_matched_by_transaction(void **state)
{
	struct vmb_packet *p1, *p2;
	struct vmbus_packet_desc d1, d2;
	u8 buf[256];
	u32 len;

	open_channel();
	assert_int_equal(vmb_packet_allocate(ch, &p1), 0);
	assert_int_equal(vmb_packet_allocate(ch, &p2), 0);
	assert_int_equal(vmb_packet_set_completion_routine(p1, completion), 0);
	assert_int_equal(vmb_packet_set_completion_routine(p2, completion), 0);
	memcpy(vmb_packet_get_context(p1), "ctx", 3);
	assert_int_equal(vmb_packet_send(p1, "req1", 4, NULL, VMB_SEND_COMPLETION_REQUESTED), 0);
	assert_int_equal(vmb_packet_send(p2, "req2", 4, NULL, VMB_SEND_COMPLETION_REQUESTED), 0);
	assert_int_equal(vmb_packet_send(p1, "again", 5, NULL, 0), VMB_STATUS_INVALID_DEVICE_STATE);
	assert_int_equal(guest_read(&gc.in, &d1, buf, sizeof(buf), &len), 0);
	assert_int_equal(d1.type, VMBUS_PKT_DATA_INBAND);
	assert_int_equal(d1.flags, VMBUS_PKT_FLAG_COMPLETION_REQUESTED);
	assert_memory_equal(buf + 16, "req1", 4);
	assert_int_equal(guest_read(&gc.in, &d2, buf, sizeof(buf), &len), 0);
	assert_int_not_equal(d1.trans_id, d2.trans_id);
	/* The guest answers the second first. */
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_COMP, 0, d2.trans_id, NULL, 0, "r2", 2), 0);
	guest_signal(bus, 1);
	assert_int_equal(completions, 1);
	assert_int_equal(last_completion_status, VMB_STATUS_SUCCESS);
	assert_memory_equal(last_reply, "r2", 2);
	assert_int_equal(ch->waiting.count, 1);
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_COMP, 0, d1.trans_id, NULL, 0, "r1!", 3),
			 0);
	guest_signal(bus, 1);
	assert_int_equal(completions, 2);
	assert_int_equal(last_reply_len, 8); /* in-band lengths come in 8-byte units */
	assert_int_equal(ch->waiting.count, 0);
	assert_int_equal(nr_seen, 0); /* completions are not packets for the VSP */
}

static void test_send_without_completion_consumes_the_packet(void **state)
{
	struct vmb_packet *p;

	assert_int_equal(vmb_channel_enable(ch), 0);
	assert_int_equal(vmb_packet_allocate(ch, &p), 0);
	/* Not open yet: refused, and the packet is still the VSP's. */
	assert_int_equal(vmb_packet_send(p, "x", 1, NULL, 0), VMB_STATUS_INVALID_DEVICE_STATE);
	assert_int_equal(vmb_packet_send(p, NULL, 1, NULL, 0), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_packet_send(p, "x", 1, NULL, 0x80), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(
	    guest_open_channel(bus, &gc, 1, RING_GPADL, RING_FIRST, RING_PAGES, RING_SPLIT), 0);
	assert_int_equal(vmb_packet_send(p, "x", 1, NULL, 0), 0);
	assert_int_equal(ch->idle.count, 0); /* freed (ASan would catch a leak or a reuse) */
}

static void test_close_cancels_sent_packets(void **state)
{
	struct vmb_packet *p;

	open_channel();
	assert_int_equal(vmb_packet_allocate(ch, &p), 0);
	assert_int_equal(vmb_packet_set_completion_routine(p, completion), 0);
	assert_int_equal(vmb_packet_send(p, "req", 3, NULL, VMB_SEND_COMPLETION_REQUESTED), 0);
	action = ACT_KEEP;
	guest_sends("held", VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 5);
	guest_signal(bus, 1);
	guest_close(bus, 1);
	assert_int_equal(completions, 1);
	assert_int_equal(last_completion_status, VMB_STATUS_INVALID_DEVICE_STATE);
	assert_int_equal(ch->incoming.count, 0);
	assert_int_equal(ch->waiting.count, 0);
}

static void completion_that_frees(struct vmb_packet *p, vmb_status st, const void *r, u32 len)
{
	completions++;
	vmb_packet_free(p); /* not allowed to double free: the library copes */
}

static void completion_that_resends(struct vmb_packet *p, vmb_status st, const void *r, u32 len)
{
	if (++completions == 1)
		assert_int_equal(vmb_packet_send(p, "next", 4, NULL, VMB_SEND_COMPLETION_REQUESTED),
				 0);
}

static void test_completion_routine_may_free_or_resend(void **state)
{
	struct vmb_packet *p;
	struct vmbus_packet_desc d;
	u8 buf[64];
	u32 len;

	open_channel();
	assert_int_equal(vmb_packet_allocate(ch, &p), 0);
	assert_int_equal(vmb_packet_set_completion_routine(p, completion_that_frees), 0);
	assert_int_equal(vmb_packet_send(p, "a", 1, NULL, VMB_SEND_COMPLETION_REQUESTED), 0);
	assert_int_equal(guest_read(&gc.in, &d, buf, sizeof(buf), &len), 0);
	guest_write(&gc.out, VMBUS_PKT_COMP, 0, d.trans_id, NULL, 0, NULL, 0);
	guest_signal(bus, 1);
	assert_int_equal(completions, 1);

	completions = 0;
	assert_int_equal(vmb_packet_allocate(ch, &p), 0);
	assert_int_equal(vmb_packet_set_completion_routine(p, completion_that_resends), 0);
	assert_int_equal(vmb_packet_send(p, "a", 1, NULL, VMB_SEND_COMPLETION_REQUESTED), 0);
	assert_int_equal(guest_read(&gc.in, &d, buf, sizeof(buf), &len), 0);
	guest_write(&gc.out, VMBUS_PKT_COMP, 0, d.trans_id, NULL, 0, NULL, 0);
	guest_signal(bus, 1);
	assert_int_equal(ch->waiting.count, 1);
	assert_int_equal(guest_read(&gc.in, &d, buf, sizeof(buf), &len), 0);
	assert_memory_equal(buf + 16, "next", 4);
	guest_write(&gc.out, VMBUS_PKT_COMP, 0, d.trans_id, NULL, 0, NULL, 0);
	guest_signal(bus, 1);
	assert_int_equal(completions, 2);
	assert_int_equal(ch->waiting.count, 0);
}

static void test_full_ring_queues_completions_in_order(void **state)
{
	struct vmbus_packet_desc d;
	struct vmb_packet *p;
	u8 buf[2048], payload[1000];
	u32 len;
	unsigned sent = 0;

	open_channel();
	memset(payload, 'p', sizeof(payload));
	/* Fill the host -> guest ring (8 KiB of data) with sends until it refuses. */
	for (;;) {
		assert_int_equal(vmb_packet_allocate(ch, &p), 0);
		if (vmb_packet_send(p, payload, sizeof(payload), NULL, 0) != VMB_STATUS_SUCCESS) {
			vmb_packet_free(p);
			break;
		}
		sent++;
	}
	assert_true(sent >= 6);
	/* Then small ones, to the last byte the ring gives. */
	for (;;) {
		assert_int_equal(vmb_packet_allocate(ch, &p), 0);
		if (vmb_packet_send(p, "fill", 4, NULL, 0) != VMB_STATUS_SUCCESS) {
			vmb_packet_free(p);
			break;
		}
	}
	assert_true(gc.in.ctl->pending_send_sz > 0); /* asks the guest to say when there is room */
	/* Completions now wait inside the library, in order. */
	action = ACT_COMPLETE;
	guest_sends("c1", VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 101);
	guest_sends("c2", VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 102);
	guest_signal(bus, 1);
	assert_int_equal(ch->completing.count, 2);
	/* The guest reads two packets and signals (Linux: pending_send_sz crossed). */
	assert_int_equal(guest_read(&gc.in, &d, buf, sizeof(buf), &len), 0);
	assert_int_equal(guest_read(&gc.in, &d, buf, sizeof(buf), &len), 0);
	guest_signal(bus, 1);
	assert_int_equal(ch->completing.count, 0);
	while (guest_read(&gc.in, &d, buf, sizeof(buf), &len) == 0 && d.type != VMBUS_PKT_COMP)
		;
	assert_int_equal(d.trans_id, 101);
	assert_int_equal(guest_read(&gc.in, &d, buf, sizeof(buf), &len), 0);
	assert_int_equal(d.trans_id, 102);
	/* A packet larger than the ring can ever hold. */
	assert_int_equal(vmb_packet_allocate(ch, &p), 0);
	assert_int_equal(vmb_packet_send(p, buf, sizeof(buf), NULL, 0), 0);
	{
		static u8 huge[3 * PAGE_SIZE];

		assert_int_equal(vmb_packet_allocate(ch, &p), 0);
		assert_int_equal(vmb_packet_send(p, huge, sizeof(huge), NULL, 0),
				 VMB_STATUS_INVALID_PARAMETER);
		vmb_packet_free(p);
	}
}

static void test_signals_follow_the_guests_wishes(void **state)
{
	struct vmb_packet *p;
	u8 payload[900];
	unsigned n;

	open_channel();
	/* Masked: the guest polls, no signal. */
	gc.in.ctl->interrupt_mask = 1;
	assert_int_equal(vmb_packet_allocate(ch, &p), 0);
	assert_int_equal(vmb_packet_send(p, "m", 1, NULL, 0), 0);
	assert_int_equal(fh.nr_signals, 0);
	gc.in.ctl->interrupt_mask = 0;
	gc.in.ctl->read_index = gc.in.ctl->write_index;
	/* The guest's ring to us is full and it waits for room (pending_send_sz). */
	memset(payload, 1, sizeof(payload));
	action = ACT_COMPLETE;
	for (n = 0; guest_write(&gc.out, VMBUS_PKT_DATA_INBAND, 0, n, NULL, 0, payload,
				sizeof(payload)) == 0;
	     n++)
		;
	gc.out.ctl->pending_send_sz = 920 + 8;
	fh.nr_signals = 0;
	guest_signal(bus, 1);
	assert_int_equal(nr_seen, n);
	assert_int_equal(fh.nr_signals, 1); /* room now: one signal */
}

static void test_in_use_limit_throttles_reading(void **state)
{
	open_channel();
	action = ACT_DEFER;
	for (unsigned i = 0; i < VMBUS_MAX_IN_USE + 5; i++) {
		if (guest_write(&gc.out, VMBUS_PKT_DATA_INBAND, 0, i, NULL, 0, "z", 1)) {
			guest_signal(bus, 1);
			assert_int_equal(
			    guest_write(&gc.out, VMBUS_PKT_DATA_INBAND, 0, i, NULL, 0, "z", 1), 0);
		}
	}
	guest_signal(bus, 1);
	assert_int_equal(nr_seen, VMBUS_MAX_IN_USE);
	/* One completes: reading resumes at the next poll. */
	assert_int_equal(vmb_channel_packet_complete(seen[0].packet, NULL, 0), 0);
	vmbus_poll(bus);
	assert_int_equal(nr_seen, VMBUS_MAX_IN_USE + 1);
	for (unsigned i = 1; i <= VMBUS_MAX_IN_USE; i++)
		assert_int_equal(vmb_channel_packet_complete(seen[i].packet, NULL, 0), 0);
	vmbus_poll(bus);
	assert_int_equal(nr_seen, VMBUS_MAX_IN_USE + 5);
}

/*
 * One service pass reads a bounded number of packets (a guest that maps a
 * page into both rings turns every echo into a new packet); the next poll
 * goes on where it stopped.
 */
static void test_one_pass_reads_a_bounded_number(void **state)
{
	const unsigned n = VMBUS_SERVICE_BUDGET + 72;

	open_channel();
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(guest_write(&gc.out, VMBUS_PKT_DATA_INBAND, 0, i, NULL, 0, "z", 1),
				 0);
	guest_signal(bus, 1);
	assert_int_equal(nr_seen, VMBUS_SERVICE_BUDGET);
	vmbus_poll(bus);
	assert_int_equal(nr_seen, n);
	vmbus_poll(bus);
	assert_int_equal(nr_seen, n);
}

/* ---- external data ---- */

static u32 gpa_direct_header(u8 *out, const u32 *counts, const u32 *offsets, const u64 *pfns,
			     unsigned nr, unsigned pfns_each)
{
	u32 at = 8;

	memset(out, 0, 8);
	memcpy(out + 4, &nr, 4);
	for (unsigned i = 0; i < nr; i++) {
		memcpy(out + at, &counts[i], 4);
		memcpy(out + at + 4, &offsets[i], 4);
		memcpy(out + at + 8, pfns + i * pfns_each, pfns_each * 8);
		at += 8 + pfns_each * 8;
	}
	return at;
}

static void test_gpa_direct_external_data(void **state)
{
	struct vmb_external_data ext;
	u8 hdr[128], buf[PAGE_SIZE];
	const u32 counts[2] = {PAGE_SIZE + 100, 10};
	const u32 offsets[2] = {PAGE_SIZE - 50, 5};
	u64 pfns[4] = {fake_pfn(50), fake_pfn(52), fake_pfn(60), 0};
	u32 n;

	assert_int_equal(vmb_channel_init_set_maximum_external_data(ch, 64 << 10), 0);
	open_channel();
	action = ACT_KEEP;
	memset(fake_page_ptr(50), 0xa0, PAGE_SIZE);
	memset(fake_page_ptr(52), 0xa2, PAGE_SIZE);
	((u8 *)fake_page_ptr(60))[5] = 0x60;
	/* Range 0 spans the end of page 50, all of 52 and is 2 PFNs... of 3 pages: too few. */
	n = gpa_direct_header(hdr, counts, offsets, pfns, 1, 2);
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_DATA_USING_GPA_DIRECT,
				     VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 1, hdr, n, "io", 2),
			 0);
	guest_signal(bus, 1);
	assert_int_equal(nr_seen, 0); /* dropped: its ranges run into the data */
	/* 4050 + 4196 bytes need 3 pages: describe them right, and a second one-page range. */
	pfns[0] = fake_pfn(50);
	pfns[1] = fake_pfn(52);
	pfns[2] = fake_pfn(54);
	{
		u8 *p = hdr;
		u32 two = 2;
		const u32 c0 = PAGE_SIZE + 100, o0 = PAGE_SIZE - 50, c1 = 10, o1 = 5;
		u64 p1 = fake_pfn(60);

		memset(p, 0, 8);
		memcpy(p + 4, &two, 4);
		memcpy(p + 8, &c0, 4);
		memcpy(p + 12, &o0, 4);
		memcpy(p + 16, pfns, 24);
		memcpy(p + 40, &c1, 4);
		memcpy(p + 44, &o1, 4);
		memcpy(p + 48, &p1, 8);
		n = 56;
	}
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_DATA_USING_GPA_DIRECT,
				     VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 2, hdr, n, "io", 2),
			 0);
	guest_signal(bus, 1);
	assert_int_equal(nr_seen, 1);
	assert_int_equal(seen[0].flags, VMB_PACKET_COMPLETION_REQUESTED | VMB_PACKET_EXTERNAL_DATA);
	assert_int_equal(seen[0].len, 8); /* padded to 8 bytes, as on the wire */
	assert_memory_equal(seen[0].data, "io", 2);
	assert_int_equal(vmb_packet_get_external_data(seen[0].packet, &ext), 0);
	assert_int_equal(ext.nr_ranges, 2);
	assert_int_equal(ext.ranges[0].byte_count, PAGE_SIZE + 100);
	assert_int_equal(ext.ranges[0].nr_pfns, 3);
	assert_int_equal(ext.ranges[1].pfns[0], fake_pfn(60));
	/* Reads cross pages as the range does. */
	assert_int_equal(vmb_packet_read_external(seen[0].packet, 0, 48, buf, 4), 0);
	assert_memory_equal(buf, ((u8[]){0xa0, 0xa0, 0xa2, 0xa2}), 4);
	assert_int_equal(vmb_packet_read_external(seen[0].packet, 1, 0, buf, 1), 0);
	assert_int_equal(buf[0], 0x60);
	assert_int_equal(vmb_packet_write_external(seen[0].packet, 0, PAGE_SIZE + 99, "w", 1), 0);
	assert_int_equal(((u8 *)fake_page_ptr(54))[49], 'w'); /* 4046 + 4195 - 8192 */
	/* Outside the ranges. */
	assert_int_equal(vmb_packet_read_external(seen[0].packet, 1, 5, buf, 6),
			 VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_packet_read_external(seen[0].packet, 2, 0, buf, 1),
			 VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_packet_read_external(seen[0].packet, 0, ~0u, buf, 2),
			 VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_channel_packet_complete(seen[0].packet, NULL, 0), 0);

	/* A PFN outside guest RAM: dropped. */
	{
		u64 bad = FAKE_NO_RAM >> PAGE_SHIFT;

		memcpy(hdr + 48, &bad, 8);
	}
	assert_int_equal(
	    guest_write(&gc.out, VMBUS_PKT_DATA_USING_GPA_DIRECT, 0, 3, hdr, n, "io", 2), 0);
	guest_signal(bus, 1);
	assert_int_equal(nr_seen, 1);
}

static void test_send_with_external_data(void **state)
{
	const u64 pfns[2] = {fake_pfn(70), fake_pfn(71)};
	const struct vmb_gpa_range r = {PAGE_SIZE, 16, 2, pfns};
	const struct vmb_external_data ext = {1, &r};
	const struct vmb_gpa_range bad = {PAGE_SIZE, 16, 1, pfns};
	const struct vmb_external_data bad_ext = {1, &bad};
	struct vmbus_packet_desc d;
	struct vmb_packet *p;
	u8 buf[128];
	u32 len, count;

	open_channel();
	assert_int_equal(vmb_packet_allocate(ch, &p), 0);
	assert_int_equal(vmb_packet_send(p, "x", 1, &bad_ext, 0), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_packet_send(p, "x", 1, &ext, 0), 0);
	assert_int_equal(guest_read(&gc.in, &d, buf, sizeof(buf), &len), 0);
	assert_int_equal(d.type, VMBUS_PKT_DATA_USING_GPA_DIRECT);
	assert_int_equal(d.offset8 * 8, 24 + 8 + 16);
	memcpy(&count, buf + 20, 4);
	assert_int_equal(count, 1);
	assert_int_equal(buf[48], 'x');
}

/* hyperv.h vmtransfer_page_packet_header: pageset id, sender_owns_set, reserved, ranges. */
static void test_send_transfer_pages(void **state)
{
	const struct vmb_transfer_range r[2] = {{100, 0}, {60, 1728}};
	struct vmbus_packet_desc d;
	struct vmb_packet *p;
	u8 buf[128];
	u32 len, v;
	u16 id;

	open_channel();
	assert_int_equal(vmb_packet_allocate(ch, &p), 0);
	assert_int_equal(vmb_packet_send_transfer_pages(p, 0xcafe, r, 0, "x", 1, 0),
			 VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(
	    vmb_packet_send_transfer_pages(p, 0xcafe, r, VMB_MAX_TRANSFER_RANGES + 1, "x", 1, 0),
	    VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_packet_send_transfer_pages(p, 0xcafe, r, 2, "nvsp", 4,
							VMB_SEND_COMPLETION_REQUESTED),
			 0);
	assert_int_equal(guest_read(&gc.in, &d, buf, sizeof(buf), &len), 0);
	assert_int_equal(d.type, VMBUS_PKT_DATA_USING_XFER_PAGES);
	assert_int_equal(d.flags, VMBUS_PKT_FLAG_COMPLETION_REQUESTED);
	assert_int_equal(d.offset8 * 8, 24 + 2 * 8);
	memcpy(&id, buf + 16, 2);
	assert_int_equal(id, 0xcafe);
	memcpy(&v, buf + 20, 4);
	assert_int_equal(v, 2);
	memcpy(&v, buf + 24 + 8, 4); /* the second range: byte_count, byte_offset */
	assert_int_equal(v, 60);
	memcpy(&v, buf + 24 + 12, 4);
	assert_int_equal(v, 1728);
	assert_memory_equal(buf + 40, "nvsp", 4);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_setters_refused_after_enable),
	    T(test_duplicate_type_and_instance_refused),
	    T(test_channel_limit),
	    T(test_inband_packets_and_completions),
	    T(test_defer_and_fail),
	    T(test_pause_and_start_catch_up),
	    T(test_paused_before_open_starts_paused),
	    T(test_dropped_packets),
	    T(test_malformed_ring_stops_the_channel),
	    T(test_send_with_completion_matched_by_transaction),
	    T(test_send_without_completion_consumes_the_packet),
	    T(test_close_cancels_sent_packets),
	    T(test_completion_routine_may_free_or_resend),
	    T(test_full_ring_queues_completions_in_order),
	    T(test_signals_follow_the_guests_wishes),
	    T(test_in_use_limit_throttles_reading),
	    T(test_one_pass_reads_a_bounded_number),
	    T(test_gpa_direct_external_data),
	    T(test_send_with_external_data),
	    T(test_send_transfer_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
