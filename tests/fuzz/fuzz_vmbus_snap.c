/*
 * libFuzzer: the bus-level snapshot (vmbus/snap.c) of a bus that a hostile
 * guest has driven into any state. fuzz_vmbus_save restores edits of one
 * fixed snapshot; here the guest first drives a source bus with control
 * messages (well-formed and raw), GPADLs, opens, ring packets, a full SynIC
 * queue, channels the VSP remakes and pauses, and then:
 *
 *   - the source is saved (vmbus_snap_save): refused with a reason, or
 *   - its snapshot restores into a second bus with the same devices; a
 *     snapshot that was taken must restore (a guest must not be able to make
 *     its own snapshot unrestorable), and the restored bus must then run;
 *   - the snapshot, edited (bytes xor'ed, record checksums made right again so
 *     the edits reach the record checks), is restored over that bus: refused
 *     or taken, without a crash, and the bus is still usable after a reset.
 *
 *   u8 nr_ops | ops: { u8 op, args }... | edits: { u16 offset, u8 xor }...
 *
 *   op % 10: 0 a control message (u8 type, u8 len, bytes) | 1 connect and ask for offers
 *            2 a GPADL (u8 relid, u8 id, u8 first page, u8 pages) | 3 open (u8 relid,
 *            u8 gpadl, u8 split) | 4 a guest packet on channel 1's ring and a signal
 *            (u8 flags, u8 slot) | 5 the VSP's mode (u8) | 6 the SynIC queue full or
 *            free (op bit 4) | 7 the VSP remakes a channel (u8) | 8 the VSP pauses or
 *            starts a channel (u8) | 9 the VSP finishes what it holds
 *
 * Both buses draw on the harness's one capped pool (fz_pool, fuzz_vmbus_host.c),
 * so a restore that runs out of memory is one of the paths fuzzed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "tests/fuzz/fuzz_vmbus_host.h"
#include "vmbus/save.h"
#include "tests/fuzz/fuzz_input.h"

#define NR_CHANNELS 2
#define MAX_OPS	    48
#define RING_PAGES  4 /* channel 1's ring: GPADL 0x42 over pages 0-3, split at 2 */
#define RING_GPADL  0x42
#define RING_SPLIT  2
#define CRC_POLY    0xedb88320u

static struct vmb_bus *src, *dst;

/*
 * Both buses, in one place: the destination first (fz_channel names the source's
 * channels from then on). They share one capped pool, as two partitions' worth of
 * VMBus would share a too-small budget: running out is a path like any other.
 */
static void make_buses(void)
{
	fz_pool_bytes = FZ_POOL_MAX;
	dst = fz_bus(NR_CHANNELS, 1 << 16);
	src = fz_bus(NR_CHANNELS, 1 << 16);
	check(dst && src);
}

static void drop_buses(void)
{
	fz_vsp_finish();
	vmbus_destroy(src);
	vmbus_destroy(dst);
	check(fz_pool.used == 0 && !fz_pool.bad_frees); /* everything came back */
}

static void raw_message(void)
{
	u8 buf[VMBUS_MSG_MAX];
	u32 type = (u32)take(1) % (VMBUS_MSG_COUNT + 1), len = (u32)take(1) % (VMBUS_MSG_MAX + 1);
	struct vmbus_msg_header h = {type, 0};

	memset(buf, 0, sizeof(buf));
	for (u32 i = 0; i < len; i++)
		buf[i] = (u8)take(1);
	if (len >= sizeof(h))
		memcpy(buf, &h, sizeof(h));
	fz_post(src, buf, len);
}

/* A guest packet in channel 1's guest->host ring, at one of 8 slots of 32 bytes. */
static void guest_packet(void)
{
	struct vmbus_ring_control *ctl = (void *)fz_ram[0];
	u8 flags = (u8)take(1), slot = (u8)take(1) % 8;
	struct vmbus_packet_desc d = {VMBUS_PKT_DATA_INBAND, 2, 3,
				      flags & 1 ? VMBUS_PKT_FLAG_COMPLETION_REQUESTED : 0, slot};

	memcpy(fz_ram[1] + 32 * slot, &d, sizeof(d));
	ctl->write_index = 32 * (slot + 1);
	vmbus_guest_signal(src, VMBUS_CONN_CHANNEL_BASE + 1 + (flags >> 7), 0);
}

static void drive(u8 op)
{
	struct vmb_channel *ch;
	u8 a, b, c, d;

	switch (op % 10) {
	case 0:
		raw_message();
		break;
	case 1:
		fz_connect(src);
		break;
	case 2:
		a = (u8)take(1), b = (u8)take(1), c = (u8)take(1), d = (u8)take(1);
		fz_gpadl(src, 1 + a % 3, b & 0x80 ? RING_GPADL : b, c % FZ_RAM_PAGES,
			 1 + d % (FZ_RAM_PAGES - c % FZ_RAM_PAGES));
		break;
	case 3:
		a = (u8)take(1), b = (u8)take(1), c = (u8)take(1);
		fz_open(src, 1 + a % 3, b & 0x80 ? RING_GPADL : b, c & 0x80 ? RING_SPLIT : c % 8);
		break;
	case 4:
		guest_packet();
		break;
	case 5:
		fz_vsp_mode = (u8)take(1);
		break;
	case 6:
		fz_post_status = op & 0x10 ? HV_STATUS_INSUFFICIENT_BUFFERS : HV_STATUS_SUCCESS;
		if (!(op & 0x10))
			vmbus_poll(src);
		break;
	case 7:
		fz_recreate(src, (unsigned)take(1) % NR_CHANNELS);
		break;
	case 8:
		ch = fz_channel((unsigned)take(1) % NR_CHANNELS);
		if (op & 0x10)
			vmb_channel_pause(ch);
		else
			vmb_channel_start(ch);
		break;
	case 9:
		fz_vsp_finish();
		break;
	}
}

/* Every record's checksum again, and that of each channel stream inside. */
static void stream_crc(u8 *s, u32 size)
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

static void fix_crcs(struct vmbus_snap *s)
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
		stream_crc(s->buf + at, c.size);
		at += c.size;
	}
}

/* The restored bus runs: a signal on every relid, the VSP finishes, the queue drains. */
static void run_restored(void)
{
	for (unsigned relid = 1; relid <= NR_CHANNELS + 1; relid++)
		vmbus_guest_signal(dst, VMBUS_CONN_CHANNEL_BASE + relid, 0);
	fz_vsp_finish();
	fz_post_status = HV_STATUS_SUCCESS;
	vmbus_poll(dst);
}

/* A reset leaves nothing of the guest's, whatever a restore did or refused. */
static void check_reset(void)
{
	vmbus_reset(dst);
	for (unsigned i = 0; i < dst->nr_channels; i++) {
		const struct vmb_channel *ch = dst->channels[i];

		check(ch->offer == OFFER_NONE && !ch->gpadls && !ch->open);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmbus_snap *snap, *edited;
	char err[160];
	unsigned n;

	if (!size)
		return 0;
	memset(fz_ram, 0, sizeof(fz_ram));
	make_buses();
	cur = data + 1;
	end = data + size;
	n = data[0] % (MAX_OPS + 1);
	for (unsigned i = 0; i < n && cur < end; i++)
		drive((u8)take(1));
	fz_post_status = HV_STATUS_SUCCESS;
	err[0] = 0;
	snap = vmbus_snap_save(src, err, sizeof(err));
	if (!snap) {
		check(err[0] != 0); /* refused, with a reason */
		drop_buses();
		return 0;
	}
	if (vmbus_snap_restore(dst, snap, err, sizeof(err))) {
		fprintf(stderr, "fuzz_vmbus_snap: a snapshot taken does not restore: %s\n", err);
		__builtin_trap();
	}
	run_restored();
	if (end - cur < 3) {
		check_reset();
		vmbus_snap_drop(snap);
		drop_buses();
		return 0; /* no edits */
	}
	edited = malloc(sizeof(*edited) + snap->len);
	edited->len = snap->len;
	memcpy(edited->buf, snap->buf, snap->len);
	while (end - cur >= 3) {
		u16 off = (u16)take(2);

		edited->buf[off % snap->len] ^= (u8)take(1);
	}
	fix_crcs(edited);
	if (!vmbus_snap_restore(dst, edited, err, sizeof(err)))
		run_restored();
	check_reset();
	free(edited);
	vmbus_snap_drop(snap);
	drop_buses();
	return 0;
}
