/*
 * libFuzzer: restoring a channel from a saved stream (vmbus/save.c,
 * vmb_packet_restore), or a whole bus from its snapshot records
 * (vmbus/snap.c). The first run builds a real stream: a channel opened the
 * way Linux opens one, with a second GPADL the VSP has mapped, guest
 * packets held by the VSP and a send waiting for its completion, saved
 * while paused; and the bus's snapshot around the same channel. Every run
 * then edits a copy of one and restores that into a fresh channel or bus:
 *
 *   u8 flags (bit 0: recompute the checksums, so edits reach the records;
 *             bit 7: the bus snapshot instead of the channel stream) |
 *   u8 chunk (bytes per restore call, 0: all at once) | u8 truncate (bytes cut off the end) |
 *   edits: u16 offset, u8 xor ...
 *
 * A restore that succeeds is run on: started, signalled, packets finished.
 * Invariants: no crash or sanitizer report; a refused stream leaves the
 * channel untouched (nothing open, no GPADL, not offered).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_vmbus_host.h"
#include "vmbus/save.h"

#define RAM_USED   8 /* pages the saved channel uses: restored before each run */
#define STREAM_MAX 4096
#define CRC_POLY   0xedb88320u

static u8 stream[STREAM_MAX], edited[STREAM_MAX];
static u32 stream_size;
static struct vmbus_snap *bus_snap, *bus_edited;
static u8 ram_copy[RAM_USED][PAGE_SIZE];
static struct vmb_bus *dst;

static void guest_packet(u32 at, u16 type, u64 trans)
{
	struct vmbus_ring_control *ctl = (void *)fz_ram[0];
	struct vmbus_packet_desc d = {type, 2, 3, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, trans};

	memcpy(fz_ram[1] + at, &d, sizeof(d));
	ctl->write_index = at + 32;
}

/* The stream every run starts from. */
static void make_stream(void)
{
	struct vmb_bus *src = fz_bus(1, 1 << 16);
	struct vmb_channel *ch = fz_channel(0);
	struct vmb_packet *p;
	struct vmb_gpadl_mapping *m;
	char err[128];
	u32 filled, required;

	memset(fz_ram, 0, sizeof(fz_ram));
	fz_connect(src);
	fz_gpadl(src, 1, 0x42, 0, 4);
	fz_gpadl(src, 1, 0x43, 4, 2);
	fz_open(src, 1, 0x42, 2);
	fz_vsp_mode = 1; /* hold them */
	guest_packet(0, VMBUS_PKT_DATA_INBAND, 7);
	vmbus_guest_signal(src, VMBUS_CONN_CHANNEL_BASE + 1, 0);
	guest_packet(32, VMBUS_PKT_DATA_INBAND, 8);
	vmbus_guest_signal(src, VMBUS_CONN_CHANNEL_BASE + 1, 0);
	if (vmb_channel_map_gpadl(ch, 0x43, &m) || vmb_packet_allocate(ch, &p) ||
	    vmb_packet_send(p, "req", 3, NULL, VMB_SEND_COMPLETION_REQUESTED) ||
	    vmb_channel_pause(ch) || vmb_channel_save_begin(ch) ||
	    vmb_channel_save_continue(ch, stream, sizeof(stream), &filled, &required))
		__builtin_trap();
	stream_size = filled;
	vmb_channel_save_end(ch);
	bus_snap = vmbus_snap_save(src, err, sizeof(err));
	if (!bus_snap)
		__builtin_trap();
	bus_edited = malloc(sizeof(*bus_edited) + bus_snap->len);
	vmb_channel_unmap_gpadl(ch, m);
	memcpy(ram_copy, fz_ram, sizeof(ram_copy));
	vmbus_destroy(src);
	dst = fz_bus(1, 1 << 16);
}

static void fix_crc(u8 *s, u32 size)
{
	struct vmbus_save_header h;
	u32 c = ~0u;

	if (size < sizeof(h))
		return;
	for (u32 i = sizeof(h); i < size; i++) {
		c ^= s[i];
		for (unsigned k = 0; k < 8; k++)
			c = (c >> 1) ^ (CRC_POLY & (0u - (c & 1)));
	}
	memcpy(&h, s, sizeof(h));
	h.crc = ~c;
	memcpy(s, &h, sizeof(h));
}

/* Every record's checksum in a bus snapshot, and that of each channel stream in it. */
static void fix_bus_crcs(struct vmbus_snap *s)
{
	struct snap_rec_header h;
	struct vmbus_saved_bus_channel c;

	for (u32 at = 0; s->len - at >= sizeof(h);) {
		memcpy(&h, s->buf + at, sizeof(h));
		if (h.length > s->len - at - sizeof(h))
			return;
		h.crc = snap_crc32(s->buf + at + sizeof(h), h.length);
		memcpy(s->buf + at, &h, sizeof(h));
		at += sizeof(h) + h.length;
		if (h.tag != VMBUS_TAG_CHANNEL || h.length != sizeof(c))
			continue;
		memcpy(&c, s->buf + at - sizeof(c), sizeof(c));
		if (c.size > s->len - at)
			return;
		fix_crc(s->buf + at, c.size);
		at += c.size;
	}
}

/* The bus snapshot, edited, into the fresh bus. */
static void bus_run(const uint8_t *data, size_t size)
{
	char err[128];

	bus_edited->len = bus_snap->len - MIN((u32)data[2], bus_snap->len);
	memcpy(bus_edited->buf, bus_snap->buf, bus_snap->len);
	for (size_t i = 3; i + 3 <= size; i += 3) {
		u16 off;

		memcpy(&off, data + i, sizeof(off));
		bus_edited->buf[off % bus_snap->len] ^= data[i + 2];
	}
	if (data[0] & 1)
		fix_bus_crcs(bus_edited);
	memcpy(fz_ram, ram_copy, sizeof(ram_copy));
	if (!vmbus_snap_restore(dst, bus_edited, err, sizeof(err))) {
		fz_vsp_mode = (data[0] >> 1) & 0x3f;
		vmbus_guest_signal(dst, VMBUS_CONN_CHANNEL_BASE + fz_channel(0)->relid, 0);
		fz_vsp_finish();
		vmbus_poll(dst);
	}
	fz_rewind(dst, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmb_channel *ch;
	u32 len, chunk;
	vmb_status st = VMB_STATUS_MORE_PROCESSING_REQUIRED;
	u8 flags;

	if (!dst) {
		fz_pool_bytes = 128u << 10; /* the source bus and its snapshot stay in it */
		make_stream();
	}
	if (size < 3)
		return 0;
	fz_begin_run(size);
	if (data[0] & 0x80) {
		bus_run(data, size);
		fz_end_run();
		return 0;
	}
	ch = fz_channel(0);
	flags = data[0];
	chunk = data[1];
	len = stream_size - MIN((u32)data[2], stream_size);
	memcpy(edited, stream, stream_size);
	for (size_t i = 3; i + 3 <= size; i += 3) {
		u16 off;

		memcpy(&off, data + i, sizeof(off));
		edited[off % stream_size] ^= data[i + 2];
	}
	if (flags & 1)
		fix_crc(edited, stream_size);
	memcpy(fz_ram, ram_copy, sizeof(ram_copy));
	for (u32 at = 0; at < len && st == VMB_STATUS_MORE_PROCESSING_REQUIRED;) {
		u32 n = chunk ? MIN(chunk, len - at) : len - at;

		st = vmb_channel_restore_from_buffer(ch, edited + at, n);
		at += n;
	}
	if (st == VMB_STATUS_SUCCESS) {
		fz_vsp_mode = flags >> 1;
		vmb_channel_start(ch);
		vmbus_guest_signal(dst, VMBUS_CONN_CHANNEL_BASE + ch->relid, 0);
		fz_vsp_finish();
		vmbus_poll(dst);
	} else if (st != VMB_STATUS_MORE_PROCESSING_REQUIRED &&
		   (ch->open || ch->gpadls || ch->offer != OFFER_NONE)) {
		__builtin_trap(); /* refused, yet something changed */
	}
	if (ch->restore) /* a stream left unfinished: a reset drops it */
		vmbus_save_discard(ch);
	fz_rewind(dst, 1);
	fz_end_run();
	return 0;
}
