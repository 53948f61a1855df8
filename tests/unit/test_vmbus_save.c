/*
 * Channel save and restore (vmbus/save.c, vmbus/packet.c vmb_packet_restore)
 * on the host: a channel with open rings, GPADLs (one half sent) and packets
 * in use of every kind is saved in pieces, restored into a fresh bus from
 * chunks, and carries on with the guest as if nothing happened; corrupt,
 * truncated, foreign and unknown-version streams are refused and leave the
 * channel as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_vmbus_fake.h"
#include "vmbus/save.h"
#include "vmbus/vmbus.h"

#define RING_GPADL 0x10
#define BUF_GPADL  0x11
#define HALF_GPADL 0x12 /* header sent, bodies not yet */
#define RING_FIRST 4
#define RING_PAGES 6
#define RING_SPLIT 3
#define MAX_HELD   16
#define STREAM_MAX (64 << 10)

static const struct vmb_guid TYPE = VMB_GUID(0x5a5a0000, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
static const struct vmb_guid INST = VMB_GUID(0x5a5a0001, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
static const struct vmb_guid OTHER = VMB_GUID(0x5a5a0002, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
static const struct vmb_guid INST2 = VMB_GUID(0x5a5a0003, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);

static struct vmbus_host host;
static struct vmb_bus *bus;
static struct vmb_channel *ch;
static struct guest_chan gc;

/* The test VSP: holds every guest packet, tags each with a number it saves. */
static struct vmb_packet *held[MAX_HELD];
static u32 tags[MAX_HELD];
static unsigned nr_held, opened, closed, completions, next_tag;
static vmb_status restore_answer;
static vmb_status check_answer; /* of check_packet */
static unsigned nr_checked;
static bool complete_at_once; /* complete each guest packet in process, keep none */
static u8 last_reply[16];
/* Mappings the VSP takes back in `opened` of a restore. */
static bool take_mappings;
static struct vmb_gpadl_mapping *taken[4];
static u32 taken_ids[4];
static unsigned nr_taken;

static void process(struct vmb_channel *c, struct vmb_packet *p, const void *buf, u32 len,
		    u32 flags)
{
	if (complete_at_once) {
		assert_int_equal(vmb_channel_packet_complete(p, "r", 1), 0);
		return;
	}
	assert_true(nr_held < MAX_HELD);
	assert_int_equal(vmb_channel_packet_defer(p), 0);
	held[nr_held] = p;
	tags[nr_held++] = ++next_tag;
}

static vmb_status cb_opened(struct vmb_channel *c)
{
	opened++;
	while (take_mappings && nr_taken < ARRAY_SIZE(taken) &&
	       vmb_channel_restored_mapping(c, &taken_ids[nr_taken], &taken[nr_taken]) ==
		   VMB_STATUS_SUCCESS)
		nr_taken++;
	return VMB_STATUS_SUCCESS;
}

static void cb_closed(struct vmb_channel *c)
{
	closed++;
	nr_held = 0;
}

static void completion(struct vmb_packet *p, vmb_status st, const void *reply, u32 len)
{
	completions++;
	if (len)
		memcpy(last_reply, reply, MIN(len, (u32)sizeof(last_reply)));
}

static vmb_status save_packet(struct vmb_channel *c, struct vmb_packet *p, void *buf, u32 size,
			      u32 *need)
{
	for (unsigned i = 0; i < nr_held; i++) {
		if (held[i] != p)
			continue;
		*need = sizeof(u32);
		if (size < *need)
			return VMB_STATUS_BUFFER_TOO_SMALL;
		memcpy(buf, &tags[i], sizeof(u32));
		return VMB_STATUS_SUCCESS;
	}
	*need = 0; /* a packet the library keeps for us: nothing of ours */
	return VMB_STATUS_SUCCESS;
}

static vmb_status restore_packet(struct vmb_channel *c, const void *lib, u32 lib_size,
				 const void *vsp, u32 vsp_size)
{
	struct vmb_packet *p;
	vmb_status st;

	if (restore_answer != VMB_STATUS_SUCCESS)
		return restore_answer;
	assert_int_equal(vmb_packet_allocate(c, &p), 0);
	assert_int_equal(vmb_packet_set_completion_routine(p, completion), 0);
	st = vmb_packet_restore(p, lib, lib_size);
	if (st != VMB_STATUS_SUCCESS) {
		vmb_packet_free(p);
		return st;
	}
	if (vsp_size) {
		assert_int_equal(vsp_size, sizeof(u32));
		held[nr_held] = p;
		memcpy(&tags[nr_held++], vsp, sizeof(u32));
	}
	return VMB_STATUS_SUCCESS;
}

static vmb_status check_packet(struct vmb_channel *c, u32 index, const void *vsp, u32 vsp_size)
{
	nr_checked++;
	if (vsp_size && vsp_size != sizeof(u32))
		return VMB_STATUS_DATA_ERROR;
	return check_answer;
}

static struct vmb_channel *make_channel_inst(struct vmb_bus *b, const struct vmb_guid *type,
					     const struct vmb_guid *inst)
{
	static const struct vmb_state_callbacks cb = {.opened = cb_opened, .closed = cb_closed};
	struct vmb_channel *c;

	assert_int_equal(vmb_channel_allocate(b, &c), 0);
	assert_int_equal(vmb_server_channel_init_set_target_interface_id(c, type, inst), 0);
	assert_int_equal(vmb_channel_init_set_process_packet_callbacks(c, process, NULL), 0);
	assert_int_equal(vmb_channel_init_set_state_change_callbacks(c, &cb), 0);
	assert_int_equal(vmb_channel_init_set_maximum_external_data(c, 1 << 16), 0);
	assert_int_equal(vmb_server_channel_init_set_save_restore_packet_callbacks(c, save_packet,
										   restore_packet),
			 0);
	assert_int_equal(vmb_server_channel_init_set_check_packet_callback(c, check_packet), 0);
	assert_int_equal(vmb_channel_enable(c), 0);
	return c;
}

static struct vmb_channel *make_channel(struct vmb_bus *b, const struct vmb_guid *type)
{
	return make_channel_inst(b, type, &INST);
}

static int setup(void **state)
{
	fh.quiet = true;
	fake_reset();
	host = fake_vmbus_host();
	bus = vmbus_create(&host, "s");
	nr_held = opened = closed = completions = next_tag = 0;
	restore_answer = check_answer = VMB_STATUS_SUCCESS;
	nr_checked = 0;
	complete_at_once = false;
	take_mappings = false;
	nr_taken = 0;
	ch = make_channel(bus, &TYPE);
	return 0;
}

static int teardown(void **state)
{
	vmbus_destroy(bus);
	/* Everything the bus took from its pool went back. */
	assert_int_equal(fake_pool.used, 0);
	return 0;
}

/* ---- a busy channel ---- */

static u64 waiting_trans;

/* Open, three GPADLs, guest packets held, a send waiting, a completion waiting for room. */
static void busy_channel(void)
{
	u8 buf[VMBUS_MSG_MAX];
	struct vmbus_msg_gpadl_header *h = (void *)buf;
	u64 w[3] = {40 * PAGE_SIZE, fake_pfn(60), fake_pfn(61)};
	u8 ext[8 + 8 + 8];
	u32 one = 1, count = 100, offset = 8;
	u64 pfn = fake_pfn(70);
	struct vmb_packet *p;
	struct vmbus_packet_desc d;
	u8 rd[2048];
	u32 len;

	assert_int_equal(
	    guest_open_channel(bus, &gc, 1, RING_GPADL, RING_FIRST, RING_PAGES, RING_SPLIT), 0);
	assert_int_equal(guest_gpadl(bus, 1, BUF_GPADL, 50, 2), 0);
	memset(buf, 0, sizeof(buf));
	h->header.type = VMBUS_MSG_GPADL_HEADER;
	h->child_relid = 1;
	h->gpadl = HALF_GPADL;
	h->range_count = 1;
	h->range_buflen = 8 + 40 * 8;
	memcpy(h + 1, w, sizeof(w));
	assert_int_equal(guest_post(bus, buf, sizeof(*h) + sizeof(w)), 0);

	/* Guest packets: two in-band, one with external data. */
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_DATA_INBAND,
				     VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 11, NULL, 0, "a", 1),
			 0);
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_DATA_INBAND,
				     VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 12, NULL, 0, "b", 1),
			 0);
	memset(ext, 0, 4);
	memcpy(ext + 4, &one, 4);
	memcpy(ext + 8, &count, 4);
	memcpy(ext + 12, &offset, 4);
	memcpy(ext + 16, &pfn, 8);
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_DATA_USING_GPA_DIRECT,
				     VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 13, ext, sizeof(ext), "c",
				     1),
			 0);
	guest_signal(bus, 1);
	assert_int_equal(nr_held, 3);

	/* A send waiting for the guest's completion; the guest reads it. */
	assert_int_equal(vmb_packet_allocate(ch, &p), 0);
	assert_int_equal(vmb_packet_set_completion_routine(p, completion), 0);
	assert_int_equal(vmb_packet_send(p, "req", 3, NULL, VMB_SEND_COMPLETION_REQUESTED), 0);
	assert_int_equal(guest_read(&gc.in, &d, rd, sizeof(rd), &len), 0);
	waiting_trans = d.trans_id;
	/* The host -> guest ring fills; the completion of packet 12 then waits inside. */
	for (;;) {
		assert_int_equal(vmb_packet_allocate(ch, &p), 0);
		if (vmb_packet_send(p, rd, 1000, NULL, 0) != VMB_STATUS_SUCCESS) {
			vmb_packet_free(p);
			break;
		}
	}
	for (;;) {
		assert_int_equal(vmb_packet_allocate(ch, &p), 0);
		if (vmb_packet_send(p, "f", 1, NULL, 0) != VMB_STATUS_SUCCESS) {
			vmb_packet_free(p);
			break;
		}
	}
	assert_int_equal(vmb_channel_packet_complete(held[1], "done12", 6), 0);
	held[1] = held[2];
	tags[1] = tags[2];
	nr_held = 2;
	assert_int_equal(ch->completing.count, 1);
	assert_int_equal(ch->waiting.count, 1);
	assert_int_equal(ch->incoming.count, 2);
}

/* Save the channel whole into out; its size. */
static u32 save_all(struct vmb_channel *c, u8 *out)
{
	u32 filled, required, total = 0;
	vmb_status st;

	assert_int_equal(vmb_channel_save_begin(c), 0);
	do {
		st = vmb_channel_save_continue(c, out + total, STREAM_MAX - total, &filled,
					       &required);
		total += filled;
	} while (st == VMB_STATUS_BUFFER_OVERFLOW);
	assert_int_equal(st, VMB_STATUS_SUCCESS);
	assert_int_equal(vmb_channel_save_end(c), 0);
	return total;
}

/* A new hypervisor with the same guest memory: a fresh bus and the VSP's fresh channel. */
static void new_bus(void)
{
	vmbus_destroy(bus);
	bus = vmbus_create(&host, "s");
	nr_held = completions = 0; /* the old bus cancelled its sends */
	ch = make_channel(bus, &TYPE);
}

/* Offset of the body of the n-th record of a kind in a stream. */
static u32 record_at(const u8 *stream, u32 size, u16 kind, unsigned n)
{
	struct vmbus_save_record r;

	for (u32 at = sizeof(struct vmbus_save_header); at + sizeof(r) <= size;
	     at += sizeof(r) + r.size) {
		memcpy(&r, stream + at, sizeof(r));
		if (r.kind == kind && !n--)
			return at + sizeof(r);
	}
	fail();
	return 0;
}

/* Offset of the body of the GPADL record for id in a stream. */
static u32 gpadl_record(const u8 *stream, u32 size, u32 id)
{
	struct vmbus_save_record r;
	struct vmbus_save_gpadl g;

	for (u32 at = sizeof(struct vmbus_save_header); at + sizeof(r) <= size;
	     at += sizeof(r) + r.size) {
		memcpy(&r, stream + at, sizeof(r));
		memcpy(&g, stream + at + sizeof(r), sizeof(g));
		if (r.kind == VMBUS_SAVE_GPADL && g.id == id)
			return at + sizeof(r);
	}
	fail();
	return 0;
}

static void fix_crc(u8 *stream, u32 size)
{
	struct vmbus_save_header h;
	u32 c = ~0u;

	for (u32 i = sizeof(h); i < size; i++) {
		c ^= stream[i];
		for (unsigned k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	memcpy(&h, stream, sizeof(h));
	h.crc = ~c;
	memcpy(stream, &h, sizeof(h));
}

/* ---- tests ---- */

static void test_save_in_pieces(void **state)
{
	static u8 stream[STREAM_MAX];
	u8 small[64];
	u32 filled, required, at;

	busy_channel();
	assert_int_equal(vmb_channel_save_begin(ch), VMB_STATUS_INVALID_DEVICE_STATE); /* running */
	assert_int_equal(vmb_channel_pause(ch), 0);
	assert_int_equal(vmb_channel_save_begin(ch), 0);
	assert_int_equal(vmb_channel_save_begin(ch), VMB_STATUS_INVALID_DEVICE_STATE);
	/* The header fits in 64 bytes, the channel record does not: what fits, and more remains. */
	assert_int_equal(vmb_channel_save_continue(ch, small, sizeof(small), &filled, &required),
			 VMB_STATUS_BUFFER_OVERFLOW);
	assert_int_equal(filled, sizeof(struct vmbus_save_header));
	memcpy(stream, small, filled);
	at = filled;
	/* Too small for the next piece: nothing written, its size said. */
	assert_int_equal(vmb_channel_save_continue(ch, small, 10, &filled, &required),
			 VMB_STATUS_BUFFER_TOO_SMALL);
	assert_int_equal(filled, 0);
	assert_int_equal(required,
			 sizeof(struct vmbus_save_record) + sizeof(struct vmbus_save_channel));
	assert_int_equal(
	    vmb_channel_save_continue(ch, stream + at, STREAM_MAX - at, &filled, &required),
	    VMB_STATUS_SUCCESS);
	at += filled;
	assert_int_equal(vmb_channel_save_continue(ch, small, sizeof(small), &filled, &required),
			 VMB_STATUS_SUCCESS);
	assert_int_equal(filled, 0);
	assert_int_equal(vmb_channel_save_end(ch), 0);
	assert_int_equal(vmb_channel_save_end(ch), VMB_STATUS_INVALID_DEVICE_STATE);
	assert_int_equal(vmb_channel_save_continue(ch, small, sizeof(small), &filled, &required),
			 VMB_STATUS_INVALID_DEVICE_STATE);
	/* The same state saved again gives the same bytes; the channel carries on. */
	{
		static u8 again[STREAM_MAX];

		assert_int_equal(save_all(ch, again), at);
		assert_memory_equal(stream, again, at);
	}
	assert_int_equal(vmb_channel_start(ch), 0);
	assert_true(ch->open);
}

static void test_restore_carries_on(void **state)
{
	static u8 stream[STREAM_MAX];
	u32 size, in_priv, out_priv, signals;
	struct vmbus_packet_desc d;
	u8 rd[2048];
	u32 len;
	vmb_status st = VMB_STATUS_MORE_PROCESSING_REQUIRED;

	busy_channel();
	in_priv = ch->in.priv;
	out_priv = ch->out.priv;
	assert_int_equal(vmb_channel_pause(ch), 0);
	size = save_all(ch, stream);
	new_bus();
	assert_int_equal(vmbus_version(bus), 0);
	signals = fh.nr_signals;
	/* In chunks, in order. */
	for (u32 at = 0; at < size; at += 100) {
		assert_int_equal(st, VMB_STATUS_MORE_PROCESSING_REQUIRED);
		st = vmb_channel_restore_from_buffer(ch, stream + at, MIN(100u, size - at));
	}
	assert_int_equal(st, VMB_STATUS_SUCCESS);
	/* The connection, offer, rings at their places, GPADLs, the VSP's packets. */
	assert_int_equal(vmbus_version(bus), VMBUS_VERSION_V5_3);
	assert_ptr_equal(vmbus_relid_channel(bus, 1), ch);
	assert_true(ch->open);
	assert_true(ch->paused);
	assert_int_equal(opened, 2);
	assert_int_equal(ch->in.priv, in_priv);
	assert_int_equal(ch->out.priv, out_priv);
	assert_true(vmbus_find_gpadl(ch, BUF_GPADL)->ready);
	assert_false(vmbus_find_gpadl(ch, HALF_GPADL)->ready);
	assert_int_equal(nr_held, 2);
	assert_int_equal(tags[0], 1);
	assert_int_equal(tags[1], 3);
	assert_int_equal(ch->incoming.count, 2);
	assert_int_equal(ch->waiting.count, 1);
	assert_int_equal(ch->completing.count, 1);
	assert_true(fh.nr_signals > signals); /* the guest is kicked once */
	{
		struct vmb_external_data ext;
		u8 b;

		assert_int_equal(vmb_packet_get_external_data(held[1], &ext), 0);
		assert_int_equal(ext.nr_ranges, 1);
		assert_int_equal(ext.ranges[0].byte_count, 100);
		assert_int_equal(ext.ranges[0].pfns[0], fake_pfn(70));
		((u8 *)fake_page_ptr(70))[8] = 0x77;
		assert_int_equal(vmb_packet_read_external(held[1], 0, 0, &b, 1), 0);
		assert_int_equal(b, 0x77);
	}

	/* The guest finishes its half-sent GPADL. */
	{
		u8 buf[VMBUS_MSG_MAX];
		struct vmbus_msg_gpadl_body *body = (void *)buf;
		u64 pfns[38];

		for (unsigned i = 0; i < 38; i++)
			pfns[i] = fake_pfn(62 + i);
		memset(buf, 0, sizeof(buf));
		body->header.type = VMBUS_MSG_GPADL_BODY;
		body->gpadl = HALF_GPADL;
		memcpy(body + 1, pfns, 28 * 8);
		guest_post(bus, buf, sizeof(*body) + 28 * 8);
		memcpy(body + 1, pfns + 28, 10 * 8);
		guest_post(bus, buf, sizeof(*body) + 10 * 8);
		assert_true(vmbus_find_gpadl(ch, HALF_GPADL)->ready);
	}
	/* Running again: the guest drains its ring, the waiting completion goes out. */
	assert_int_equal(vmb_channel_start(ch), 0);
	while (guest_read(&gc.in, &d, rd, sizeof(rd), &len) == 0)
		if (d.type == VMBUS_PKT_COMP)
			break;
	guest_signal(bus, 1);
	while (d.type != VMBUS_PKT_COMP && guest_read(&gc.in, &d, rd, sizeof(rd), &len) == 0)
		;
	assert_int_equal(d.type, VMBUS_PKT_COMP);
	assert_int_equal(d.trans_id, 12);
	assert_memory_equal(rd + 16, "done12", 6);
	/* The VSP completes a restored packet; the guest answers the restored send. */
	assert_int_equal(vmb_channel_packet_complete(held[0], "ok11", 4), 0);
	while (guest_read(&gc.in, &d, rd, sizeof(rd), &len) == 0 && d.trans_id != 11)
		;
	assert_int_equal(d.trans_id, 11);
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_COMP, 0, waiting_trans, NULL, 0, "ans", 3),
			 0);
	guest_signal(bus, 1);
	assert_int_equal(completions, 1);
	assert_memory_equal(last_reply, "ans", 3);
	/* New guest packets flow as before. */
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_DATA_INBAND, 0, 20, NULL, 0, "new", 3), 0);
	guest_signal(bus, 1);
	assert_int_equal(nr_held, 3);
}

static void test_bad_streams_change_nothing(void **state)
{
	static u8 stream[STREAM_MAX], bad[STREAM_MAX];
	struct vmbus_save_header h;
	struct vmbus_save_channel c;
	u32 size, c_at = sizeof(h) + sizeof(struct vmbus_save_record);

	busy_channel();
	assert_int_equal(vmb_channel_pause(ch), 0);
	size = save_all(ch, stream);
	new_bus();
#define REFUSED(edit, status)                                                                      \
	do {                                                                                       \
		memcpy(bad, stream, size);                                                         \
		edit;                                                                              \
		assert_int_equal(vmb_channel_restore_from_buffer(ch, bad, size), status);          \
		assert_false(ch->open);                                                            \
		assert_null(ch->gpadls);                                                           \
		assert_int_equal(ch->offer, OFFER_NONE);                                           \
		assert_int_equal(vmbus_version(bus), 0);                                           \
		assert_null(ch->restore);                                                          \
	} while (0)
	/* A flipped bit anywhere past the header: the checksum. */
	REFUSED(bad[size / 2] ^= 4, VMB_STATUS_DATA_ERROR);
	REFUSED(bad[size - 1] ^= 1, VMB_STATUS_DATA_ERROR);
	/* Another format version, another magic, another device. */
	REFUSED((memcpy(&h, bad, sizeof(h)), h.version = VMBUS_SAVE_VERSION + 1,
		 memcpy(bad, &h, sizeof(h))),
		VMB_STATUS_REVISION_MISMATCH);
	REFUSED((memcpy(&h, bad, sizeof(h)), h.version = 0, memcpy(bad, &h, sizeof(h))),
		VMB_STATUS_REVISION_MISMATCH);
	REFUSED((memcpy(&h, bad, sizeof(h)), h.magic = 0, memcpy(bad, &h, sizeof(h))),
		VMB_STATUS_DATA_ERROR);
	REFUSED((memcpy(&h, bad, sizeof(h)), h.type = OTHER, memcpy(bad, &h, sizeof(h))),
		VMB_STATUS_DATA_ERROR);
	REFUSED((memcpy(&h, bad, sizeof(h)), h.total_size = 10, memcpy(bad, &h, sizeof(h))),
		VMB_STATUS_DATA_ERROR);
	/* Consistent checksum, inconsistent content. */
	REFUSED((memcpy(&c, bad + c_at, sizeof(c)), c.relid = 99, memcpy(bad + c_at, &c, sizeof(c)),
		 fix_crc(bad, size)),
		VMB_STATUS_DATA_ERROR);
	REFUSED((memcpy(&c, bad + c_at, sizeof(c)), c.in_read = 12,
		 memcpy(bad + c_at, &c, sizeof(c)), fix_crc(bad, size)),
		VMB_STATUS_DATA_ERROR);
	REFUSED((memcpy(&c, bad + c_at, sizeof(c)), c.ring_gpadl = 0x999,
		 memcpy(bad + c_at, &c, sizeof(c)), fix_crc(bad, size)),
		VMB_STATUS_DATA_ERROR);
	REFUSED((memcpy(&c, bad + c_at, sizeof(c)), c.bus_version = 0x60000,
		 memcpy(bad + c_at, &c, sizeof(c)), fix_crc(bad, size)),
		VMB_STATUS_DATA_ERROR);
	REFUSED((memcpy(&c, bad + c_at, sizeof(c)), c.flags |= 0x100,
		 memcpy(bad + c_at, &c, sizeof(c)), fix_crc(bad, size)),
		VMB_STATUS_DATA_ERROR);
	/* Saved constants with no enum value behind them. */
	REFUSED((memcpy(&c, bad + c_at, sizeof(c)), c.offer_state = 3,
		 memcpy(bad + c_at, &c, sizeof(c)), fix_crc(bad, size)),
		VMB_STATUS_DATA_ERROR);
	{
		u32 p_at = record_at(stream, size, VMBUS_SAVE_PACKET, 0) +
			   sizeof(struct vmbus_save_packet) +
			   offsetof(struct vmbus_save_packet_lib, state);

		assert_int_equal(stream[p_at], VMBUS_SAVED_PKT_INCOMING);
		REFUSED((bad[p_at] = 0, fix_crc(bad, size)), VMB_STATUS_DATA_ERROR);
		REFUSED((bad[p_at] = 4, fix_crc(bad, size)), VMB_STATUS_DATA_ERROR);
	}
	/* A ring page that is not guest RAM: its first PFN, after the range header. */
	{
		u32 g_at =
		    gpadl_record(stream, size, RING_GPADL) + sizeof(struct vmbus_save_gpadl) + 8;
		u64 hole = FAKE_NO_RAM >> PAGE_SHIFT;

		REFUSED((memcpy(bad + g_at, &hole, 8), fix_crc(bad, size)), VMB_STATUS_DATA_ERROR);
	}
	/* A GPADL still being sent may hold anything yet (checked when complete), not too much. */
	{
		u32 g_at = gpadl_record(stream, size, HALF_GPADL);
		struct vmbus_save_gpadl g;

		REFUSED((memcpy(&g, bad + g_at, sizeof(g)), g.filled = g.words + 1,
			 memcpy(bad + g_at, &g, sizeof(g)), fix_crc(bad, size)),
			VMB_STATUS_DATA_ERROR);
		REFUSED((memcpy(&g, bad + g_at, sizeof(g)), g.flags = VMBUS_SAVED_GPADL_TEARDOWN,
			 memcpy(bad + g_at, &g, sizeof(g)), fix_crc(bad, size)),
			VMB_STATUS_DATA_ERROR);
	}
	/* Fewer records than the header says; more bytes than it says. */
	REFUSED((memcpy(&h, bad, sizeof(h)), h.nr_records += 1, memcpy(bad, &h, sizeof(h))),
		VMB_STATUS_DATA_ERROR);
	/* Truncated, then more than the stream holds: refused, and the next full one works. */
	assert_int_equal(vmb_channel_restore_from_buffer(ch, stream, size - 8),
			 VMB_STATUS_MORE_PROCESSING_REQUIRED);
	assert_int_equal(vmb_channel_restore_from_buffer(ch, stream, 16), VMB_STATUS_DATA_ERROR);
	assert_null(ch->restore);
	assert_int_equal(vmb_channel_restore_from_buffer(ch, stream, 16), VMB_STATUS_DATA_ERROR);
	assert_int_equal(vmb_channel_restore_from_buffer(ch, stream, size), VMB_STATUS_SUCCESS);
	assert_true(ch->open);
	/* Into a channel the guest holds: not allowed. */
	assert_int_equal(vmb_channel_restore_from_buffer(ch, stream, size),
			 VMB_STATUS_INVALID_DEVICE_STATE);
}

static void test_vsp_refusing_a_packet_rolls_back(void **state)
{
	static u8 stream[STREAM_MAX];
	u32 size;

	busy_channel();
	assert_int_equal(vmb_channel_pause(ch), 0);
	size = save_all(ch, stream);
	new_bus();
	restore_answer = VMB_STATUS_INSUFFICIENT_RESOURCES;
	closed = 0;
	assert_int_equal(vmb_channel_restore_from_buffer(ch, stream, size),
			 VMB_STATUS_INSUFFICIENT_RESOURCES);
	assert_int_equal(closed, 1); /* it heard opened, so it hears closed */
	assert_false(ch->open);
	assert_null(ch->gpadls);
	assert_int_equal(vmbus_version(bus), 0);
	assert_ptr_equal(vmbus_relid_channel(bus, 1), ch);
	restore_answer = VMB_STATUS_SUCCESS;
	assert_int_equal(vmb_channel_restore_from_buffer(ch, stream, size), VMB_STATUS_SUCCESS);
}

static void test_relids_move_for_the_saved_one(void **state)
{
	static u8 stream[STREAM_MAX];
	struct vmb_channel *other;
	u32 size;

	/* Saved: ch on relid 1. Restored into a bus where another channel took relid 1. */
	assert_int_equal(guest_connect(bus, VMBUS_VERSION_V5_2), 1);
	guest_request_offers(bus);
	assert_int_equal(vmb_channel_pause(ch), 0);
	size = save_all(ch, stream);
	vmbus_destroy(bus);
	bus = vmbus_create(&host, "s");
	other = make_channel(bus, &OTHER);
	ch = make_channel(bus, &TYPE);
	assert_int_equal(ch->relid, 2);
	assert_int_equal(vmb_channel_restore_from_buffer(ch, stream, size), VMB_STATUS_SUCCESS);
	assert_int_equal(ch->relid, 1);
	assert_int_equal(other->relid, 2);
	assert_int_equal(ch->offer, OFFER_SENT);
	assert_int_equal(vmbus_version(bus), VMBUS_VERSION_V5_2);
	assert_false(ch->open);
	/* The restored bus asked for offers already: the other channel is offered on its own. */
	guest_request_offers(bus);
	assert_int_equal(other->offer, OFFER_SENT);
	/* A stream for another protocol version than the bus speaks now: refused. */
	vmbus_destroy(bus);
	bus = vmbus_create(&host, "s");
	ch = make_channel(bus, &TYPE);
	assert_int_equal(guest_connect(bus, VMBUS_VERSION_V5_3), 1);
	assert_int_equal(vmb_channel_restore_from_buffer(ch, stream, size), VMB_STATUS_DATA_ERROR);
}

/*
 * A whole bus in a snapshot (vmbus/snap.c): saved while it runs, the guest
 * then closes the channel; the guest's memory and the bus go back, and the
 * channel is open again where it was, with the VSP's packets, and runs.
 */
static void test_bus_snapshot_and_back(void **state)
{
	static u8 ram[FAKE_RAM_PAGES][PAGE_SIZE];
	u32 in_priv, out_priv, signals;
	char err[128];
	void *snap;

	busy_channel();
	in_priv = ch->in.priv;
	out_priv = ch->out.priv;
	memcpy(ram, fake_ram, sizeof(ram));
	snap = vmbus_snap_save(bus, err, sizeof(err));
	assert_non_null(snap);
	assert_false(ch->paused); /* running again after its save */
	assert_true(ch->open);

	guest_close(bus, 1);
	assert_false(ch->open);
	assert_int_equal(nr_held, 0);

	memcpy(fake_ram, ram, sizeof(ram));
	signals = fh.nr_signals;
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), 0);
	assert_int_equal(vmbus_version(bus), VMBUS_VERSION_V5_3);
	assert_ptr_equal(vmbus_relid_channel(bus, 1), ch);
	assert_true(ch->open);
	assert_false(ch->paused);
	assert_int_equal(ch->in.priv, in_priv);
	assert_int_equal(ch->out.priv, out_priv);
	assert_int_equal(nr_held, 2);
	assert_int_equal(ch->waiting.count, 1);
	assert_true(fh.nr_signals > signals);
	assert_true(vmbus_find_gpadl(ch, BUF_GPADL)->ready);
	/* It runs: a new guest packet reaches the VSP. */
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_DATA_INBAND, 0, 30, NULL, 0, "x", 1), 0);
	guest_signal(bus, 1);
	assert_int_equal(nr_held, 3);
	/* The same snapshot again, after another change. */
	guest_close(bus, 1);
	memcpy(fake_ram, ram, sizeof(ram));
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), 0);
	assert_true(ch->open);
	assert_int_equal(nr_held, 2);
	vmbus_snap_drop(snap);
}

/*
 * Channels are paired with the saved ones by (type, instance), whatever
 * their order on the bus; a saved channel the bus lacks is refused before
 * anything changes; a channel the snapshot lacks is offered anew.
 */
static void test_channels_paired_by_type_and_instance(void **state)
{
	char err[160];
	struct vmb_channel *c2, *extra;
	void *snap;

	c2 = make_channel_inst(bus, &TYPE, &INST2); /* same type, another instance */
	busy_channel();
	assert_int_equal(c2->offer, OFFER_SENT);
	assert_int_equal(c2->relid, 2);
	snap = vmbus_snap_save(bus, err, sizeof(err));
	assert_non_null(snap);

	/* The other order: the second instance comes first now, and holds relid 1. */
	vmbus_destroy(bus);
	bus = vmbus_create(&host, "s");
	nr_held = completions = 0;
	c2 = make_channel_inst(bus, &TYPE, &INST2);
	ch = make_channel(bus, &TYPE);
	assert_int_equal(c2->relid, 1);
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), 0);
	assert_true(ch->open);
	assert_int_equal(ch->relid, 1);
	assert_int_equal(nr_held, 2);
	assert_false(c2->open);
	assert_int_equal(c2->offer, OFFER_SENT);
	assert_int_equal(c2->relid, 2);

	/* A bus without the second instance: refused, nothing changed. */
	vmbus_destroy(bus);
	bus = vmbus_create(&host, "s");
	nr_held = 0;
	ch = make_channel(bus, &TYPE);
	assert_int_equal(guest_connect(bus, VMBUS_VERSION_V5_2), 1);
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "instance 5a5a0003-0001-0002-0304-05060708090a, the bus none"));
	assert_int_equal(vmbus_version(bus), VMBUS_VERSION_V5_2);
	assert_false(ch->open);
	assert_int_equal(nr_held, 0);

	/* A bus with a channel more: it is offered to the restored guest. */
	vmbus_destroy(bus);
	bus = vmbus_create(&host, "s");
	ch = make_channel(bus, &TYPE);
	c2 = make_channel_inst(bus, &TYPE, &INST2);
	extra = make_channel(bus, &OTHER);
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), 0);
	assert_true(ch->open);
	assert_int_equal(extra->offer, OFFER_SENT);
	assert_int_equal(extra->relid, 3);
	vmbus_snap_drop(snap);
}

/* The bus's own records: refused when corrupt, leaving the bus as it was. */
static void test_bus_records_checked(void **state)
{
	char err[160];
	struct vmbus_snap_bytes {
		struct pool *pool;
		u32 len;
		u8 buf[];
	} * snap;
	struct snap_rec_header h;
	struct vmbus_saved_bus b;
	u8 keep[64];

	busy_channel();
	snap = vmbus_snap_save(bus, err, sizeof(err));
	assert_non_null(snap);
	memcpy(keep, snap->buf, sizeof(keep));
	memcpy(&h, snap->buf, sizeof(h));
	assert_int_equal(h.tag, VMBUS_TAG_BUS);
	assert_int_equal(h.length, sizeof(b));
	memcpy(&b, snap->buf + sizeof(h), sizeof(b));
	assert_int_equal(b.nr_channels, 1);
	assert_int_equal(b.version, VMBUS_VERSION_V5_3);

	/* A flipped bit: the record's checksum. */
	snap->buf[sizeof(h) + 4] ^= 1;
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "checksum"));
	assert_true(ch->open); /* not disconnected */
	/* A field out of range, the checksum right. */
	memcpy(snap->buf, keep, sizeof(keep));
	b.msg_sint = HV_SINT_COUNT;
	memcpy(snap->buf + sizeof(h), &b, sizeof(b));
	h.crc = snap_crc32(&b, sizeof(b));
	memcpy(snap->buf, &h, sizeof(h));
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), -1);
	assert_true(ch->open);
	/* A newer major version of the record. */
	memcpy(snap->buf, keep, sizeof(keep));
	h.major = 2;
	memcpy(snap->buf, &h, sizeof(h));
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "version 2.0"));
	/* Cut short. */
	memcpy(snap->buf, keep, sizeof(keep));
	snap->len -= 1;
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), -1);
	assert_true(ch->open);
	snap->len += 1;
	vmbus_snap_drop(snap);
}

/*
 * A bus the guest has just unloaded, its UNLOAD_RESPONSE still waiting for a
 * free SynIC slot: not connected, one message queued. Its snapshot restores
 * (found by fuzz_vmbus_snap: the restore refused it as out of range), and the
 * response reaches the guest once the slot is free.
 */
static void test_unloaded_bus_with_a_waiting_answer(void **state)
{
	char err[160];
	void *snap;

	assert_int_equal(guest_connect(bus, VMBUS_VERSION_V5_3), 1);
	fh.post_status = HV_STATUS_INSUFFICIENT_BUFFERS;
	guest_post_hdr(bus, VMBUS_MSG_UNLOAD);
	assert_int_equal(vmbus_version(bus), 0);
	snap = vmbus_snap_save(bus, err, sizeof(err));
	assert_non_null(snap);
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), 0);
	fh.post_status = HV_STATUS_SUCCESS;
	vmbus_poll(bus);
	assert_int_equal(fake_last_type(), VMBUS_MSG_UNLOAD_RESPONSE);
	vmbus_snap_drop(snap);
}

/*
 * The guest writes a ring index out of range after the host last looked (found by
 * fuzz_vmbus_snap): its snapshot still restores, the channel broken, as the host's next
 * look would have found it; the restore used to refuse the whole bus.
 */
static void test_bad_ring_index_restores_broken(void **state)
{
	char err[160];
	void *snap;

	assert_int_equal(
	    guest_open_channel(bus, &gc, 1, RING_GPADL, RING_FIRST, RING_PAGES, RING_SPLIT), 0);
	gc.out.ctl->read_index = gc.out.size + 8; /* the host's read index, the guest's page */
	snap = vmbus_snap_save(bus, err, sizeof(err));
	assert_non_null(snap);
	guest_close(bus, 1);
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), 0);
	assert_true(ch->open);
	assert_true(ch->broken);
	vmbus_snap_drop(snap);
}

/*
 * A VSP's mapping of a guest buffer comes back with the channel: the VSP
 * takes it in `opened`, reads what the guest had written, and the guest's
 * teardown of that GPADL waits for the VSP as before. One it does not take
 * is unmapped when the restore ends.
 */
static void test_mappings_come_back_with_the_channel(void **state)
{
	static u8 ram[FAKE_RAM_PAGES][PAGE_SIZE];
	struct vmb_gpadl_mapping *m;
	char err[160];
	u8 data[8];
	void *snap;
	unsigned torndown;

	busy_channel();
	assert_int_equal(vmb_channel_map_gpadl(ch, BUF_GPADL, &m), 0);
	assert_int_equal(vmb_gpadl_write(m, 100, "mapped!", 8), 0);
	memcpy(ram, fake_ram, sizeof(ram));
	snap = vmbus_snap_save(bus, err, sizeof(err));
	assert_non_null(snap);
	/* The guest closes; the VSP lets go of its buffer, as in `closed`. */
	vmb_channel_unmap_gpadl(ch, m);
	guest_close(bus, 1);

	memcpy(fake_ram, ram, sizeof(ram));
	take_mappings = true;
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), 0);
	assert_int_equal(nr_taken, 1);
	assert_int_equal(taken_ids[0], BUF_GPADL);
	assert_int_equal(vmb_gpadl_mapping_size(taken[0]), 2 * PAGE_SIZE);
	memset(data, 0, sizeof(data));
	assert_int_equal(vmb_gpadl_read(taken[0], 100, data, sizeof(data)), 0);
	assert_memory_equal(data, "mapped!", 8);
	/* Outside a restore there is nothing to take. */
	assert_int_equal(vmb_channel_restored_mapping(ch, &taken_ids[1], &taken[1]),
			 VMB_STATUS_NO_MORE_ENTRIES);
	/* In use: the guest's teardown waits until the VSP unmaps it. */
	torndown = fake_count(VMBUS_MSG_GPADL_TORNDOWN);
	assert_int_equal(guest_teardown(bus, 1, BUF_GPADL), 0);
	vmb_channel_unmap_gpadl(ch, taken[0]);
	assert_int_equal(fake_count(VMBUS_MSG_GPADL_TORNDOWN), torndown + 1);

	/* Not taken this time: gone at the end of the restore, the GPADL free to tear down. */
	guest_close(bus, 1);
	memcpy(fake_ram, ram, sizeof(ram));
	take_mappings = false;
	nr_taken = 0;
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), 0);
	assert_int_equal(vmbus_find_gpadl(ch, BUF_GPADL)->users, 0);
	assert_int_equal(guest_teardown(bus, 1, BUF_GPADL), 1);
	vmbus_snap_drop(snap);
}

/* Mapping records in a channel stream: of a ready GPADL, and from version 2 on only. */
static void test_mapping_records_checked(void **state)
{
	static u8 stream[STREAM_MAX], bad[STREAM_MAX];
	struct vmb_gpadl_mapping *m;
	struct vmbus_save_header h;
	struct vmbus_save_mapping r;
	u32 size, m_at;

	busy_channel();
	assert_int_equal(vmb_channel_map_gpadl(ch, BUF_GPADL, &m), 0);
	assert_int_equal(vmb_channel_pause(ch), 0);
	size = save_all(ch, stream);
	vmb_channel_unmap_gpadl(ch, m);
	m_at = record_at(stream, size, VMBUS_SAVE_MAPPING, 0);
	memcpy(&r, stream + m_at, sizeof(r));
	assert_int_equal(r.gpadl, BUF_GPADL);
	new_bus();
#define MAP_REFUSED(edit)                                                                          \
	do {                                                                                       \
		memcpy(bad, stream, size);                                                         \
		edit;                                                                              \
		fix_crc(bad, size);                                                                \
		assert_int_equal(vmb_channel_restore_from_buffer(ch, bad, size),                   \
				 VMB_STATUS_DATA_ERROR);                                           \
		assert_false(ch->open);                                                            \
		assert_null(ch->gpadls);                                                           \
	} while (0)
	MAP_REFUSED((r.gpadl = HALF_GPADL, memcpy(bad + m_at, &r, sizeof(r)))); /* not ready */
	MAP_REFUSED((r.gpadl = 0x999, memcpy(bad + m_at, &r, sizeof(r))));
	MAP_REFUSED((r.gpadl = BUF_GPADL, r.reserved = 1, memcpy(bad + m_at, &r, sizeof(r))));
	/* Version 1 had no mapping records. */
	MAP_REFUSED((memcpy(&h, bad, sizeof(h)), h.version = 1, memcpy(bad, &h, sizeof(h))));
	take_mappings = true;
	assert_int_equal(vmb_channel_restore_from_buffer(ch, stream, size), VMB_STATUS_SUCCESS);
	assert_int_equal(nr_taken, 1);
	assert_int_equal(vmbus_find_gpadl(ch, BUF_GPADL)->users, 1);
	vmb_channel_unmap_gpadl(ch, taken[0]);
}

/* A version 1 stream (no mapping records) is still read. */
/* What a test compares before and after a refused restore: the channel as the guest has it. */
struct channel_view {
	bool open, paused;
	u32 relid, version, in_priv, out_priv, in_use, gpadls;
	unsigned held, opened, closed;
};

static void view(struct vmb_channel *c, struct channel_view *v)
{
	memset(v, 0, sizeof(*v));
	v->open = c->open;
	v->paused = c->paused;
	v->relid = c->relid;
	v->version = vmbus_version(c->bus);
	v->in_priv = c->in.priv;
	v->out_priv = c->out.priv;
	v->in_use = c->incoming.count + c->waiting.count + c->completing.count;
	v->gpadls = c->nr_gpadls;
	v->held = nr_held;
	v->opened = opened;
	v->closed = closed;
}

static void assert_view(struct vmb_channel *c, const struct channel_view *before)
{
	struct channel_view now;

	view(c, &now);
	assert_memory_equal(&now, before, sizeof(now));
}

/*
 * A bus snapshot is checked whole, every channel's stream with it, before
 * the bus is disconnected: a stream that cannot be restored (here its CRC)
 * refuses the restore with every channel as the guest has it now, not
 * disconnected half-way.
 */
static void test_bus_restore_checks_every_stream_first(void **state)
{
	struct vmbus_snap_bytes {
		struct pool *pool; /* struct vmbus_snap's layout (vmbus/snap.c) */
		u32 len;
		u8 buf[];
	} * snap;
	struct channel_view before;
	char err[160];

	busy_channel();
	snap = vmbus_snap_save(bus, err, sizeof(err));
	assert_non_null(snap);
	view(ch, &before);
	snap->buf[snap->len - 1] ^= 1; /* the last byte of the channel's stream */
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), -1);
	assert_view(ch, &before);
	assert_true(ch->open);
	snap->buf[snap->len - 1] ^= 1;
	vmbus_snap_drop(snap);
}

/*
 * The VSP's check of its packets runs in the check phase, for every packet
 * of every channel: a refusal by the second channel's VSP leaves the first
 * channel untouched too (no channel restored and the rest refused).
 */
static void test_vsp_packet_check_refuses_before_anything_changes(void **state)
{
	struct channel_view before, before2;
	struct vmb_channel *c2;
	struct guest_chan gc2;
	char err[160];
	void *snap;

	c2 = make_channel_inst(bus, &TYPE, &INST2);
	busy_channel();
	assert_int_equal(guest_open_channel(bus, &gc2, 2, 0x20, 20, RING_PAGES, RING_SPLIT), 0);
	assert_int_equal(guest_write(&gc2.out, VMBUS_PKT_DATA_INBAND,
				     VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 21, NULL, 0, "z", 1),
			 0);
	guest_signal(bus, 2);
	assert_int_equal(nr_held, 3);
	snap = vmbus_snap_save(bus, err, sizeof(err));
	assert_non_null(snap);
	view(ch, &before);
	view(c2, &before2);
	nr_checked = 0;
	check_answer = VMB_STATUS_DATA_ERROR;
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), -1);
	assert_true(nr_checked > 0);
	assert_non_null(strstr(err, "0xc000003e"));
	assert_view(ch, &before);
	assert_view(c2, &before2);
	/* With the VSP's consent it restores, every packet of both channels checked. */
	check_answer = VMB_STATUS_SUCCESS;
	nr_checked = 0;
	guest_close(bus, 1);
	assert_int_equal(vmbus_snap_restore(bus, snap, err, sizeof(err)), 0);
	assert_true(ch->open && c2->open);
	assert_true(nr_checked >= before.in_use + before2.in_use);
	vmbus_snap_drop(snap);
}

/*
 * Completions waiting for ring space are in use and each is a record; a
 * guest that keeps asking for completions and never drains its ring can
 * queue more than a reader takes. Such a snapshot is refused when it is
 * taken (not kept, to be refused at the restore); one within the limit is
 * restorable.
 */
static void test_snapshot_a_restore_would_refuse_is_not_taken(void **state)
{
	struct vmb_packet *p;
	char err[160];
	void *snap;
	u32 records;

	assert_int_equal(
	    guest_open_channel(bus, &gc, 1, RING_GPADL, RING_FIRST, RING_PAGES, RING_SPLIT), 0);
	for (;;) { /* the host -> guest ring full: completions wait */
		assert_int_equal(vmb_packet_allocate(ch, &p), 0);
		if (vmb_packet_send(p, "f", 1, NULL, 0) != VMB_STATUS_SUCCESS) {
			vmb_packet_free(p);
			break;
		}
	}
	complete_at_once = true;
	for (unsigned round = 0; round < 64; round++) {
		unsigned before = ch->completing.count;
		u64 id = 1000 + round * 1000;

		while (!guest_write(&gc.out, VMBUS_PKT_DATA_INBAND,
				    VMBUS_PKT_FLAG_COMPLETION_REQUESTED, id++, NULL, 0, "q", 1))
			;
		guest_signal(bus, 1);
		if (ch->completing.count == before || ch->completing.count > VMBUS_SAVE_MAX_RECORDS)
			break;
	}
	records = 1 + ch->nr_gpadls + ch->incoming.count + ch->waiting.count + ch->completing.count;
	snap = vmbus_snap_save(bus, err, sizeof(err));
	if (records > VMBUS_SAVE_MAX_RECORDS) {
		assert_null(snap);
		assert_non_null(strstr(err, "not saved"));
	} else { /* the library caps what waits: then it must restore */
		assert_non_null(snap);
		assert_int_equal(vmbus_snap_check(bus, snap, err, sizeof(err)), 0);
		vmbus_snap_drop(snap);
	}
	assert_false(ch->paused); /* the channel runs on either way */
	assert_true(ch->open);
}

static void test_version_1_stream_read(void **state)
{
	static u8 stream[STREAM_MAX];
	struct vmbus_save_header h;
	u32 size;

	busy_channel();
	assert_int_equal(vmb_channel_pause(ch), 0);
	size = save_all(ch, stream);
	memcpy(&h, stream, sizeof(h));
	assert_int_equal(h.version, VMBUS_SAVE_VERSION);
	h.version = 1;
	memcpy(stream, &h, sizeof(h));
	new_bus();
	assert_int_equal(vmb_channel_restore_from_buffer(ch, stream, size), VMB_STATUS_SUCCESS);
	assert_true(ch->open);
	assert_int_equal(nr_held, 2);
}

static void test_preconditions(void **state)
{
	struct vmb_packet *p;
	u32 filled, required;
	static u8 stream[STREAM_MAX];

	assert_int_equal(vmb_channel_save_continue(ch, stream, 8, &filled, &required),
			 VMB_STATUS_INVALID_DEVICE_STATE);
	assert_int_equal(vmb_channel_save_end(ch), VMB_STATUS_INVALID_DEVICE_STATE);
	assert_int_equal(vmb_channel_save_begin(NULL), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_channel_restore_from_buffer(ch, stream, 8), VMB_STATUS_DATA_ERROR);
	/* Only inside restore_packet. */
	assert_int_equal(vmb_packet_allocate(ch, &p), 0);
	assert_int_equal(vmb_packet_restore(p, stream, 24), VMB_STATUS_INVALID_DEVICE_STATE);
	vmb_packet_free(p);
	/* A channel never offered saves without a pause; a save in progress blocks restore. */
	assert_int_equal(vmb_channel_disable(ch), 0);
	assert_int_equal(vmb_channel_save_begin(ch), 0);
	assert_int_equal(vmb_channel_restore_from_buffer(ch, stream, 100),
			 VMB_STATUS_INVALID_DEVICE_STATE);
	vmb_channel_cleanup(ch); /* with the save still held: freed with it */
	ch = make_channel(bus, &TYPE);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_save_in_pieces),
	    T(test_restore_carries_on),
	    T(test_bad_streams_change_nothing),
	    T(test_vsp_refusing_a_packet_rolls_back),
	    T(test_relids_move_for_the_saved_one),
	    T(test_preconditions),
	    T(test_bus_snapshot_and_back),
	    T(test_channels_paired_by_type_and_instance),
	    T(test_bus_records_checked),
	    T(test_unloaded_bus_with_a_waiting_answer),
	    T(test_bad_ring_index_restores_broken),
	    T(test_mappings_come_back_with_the_channel),
	    T(test_mapping_records_checked),
	    T(test_version_1_stream_read),
	    T(test_bus_restore_checks_every_stream_first),
	    T(test_vsp_packet_check_refuses_before_anything_changes),
	    T(test_snapshot_a_restore_would_refuse_is_not_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
