/*
 * libFuzzer: the VMBus channel management protocol (vmbus/channel.c,
 * bus.c, kmcl.c) against a bus with three channels, driven by a sequence of
 * operations from the input:
 *
 *   op < 0xe0        a raw guest message: length byte, then that many bytes
 *                    (posted to connection 1 or 4, by op's low bit)
 *   0xe0 INITIATE    contact with a version byte (index into the known ones
 *                    or raw) and a SINT byte
 *   0xe1 REQUESTOFFERS, 0xe2 UNLOAD
 *   0xe3 GPADL       relid, id, first page, page count (whole pages)
 *   0xe4 OPEN        relid, gpadl, split
 *   0xe5 CLOSE / 0xe6 TEARDOWN / 0xe7 RELEASE   relid (and gpadl)
 *   0xe8 VSP disable / enable / pause / start / cleanup-and-recreate a channel
 *   0xe9 SynIC queue full or free; 0xea vmbus_poll; 0xeb partition reset
 *   0xec guest writes a packet into a channel's ring and signals
 *   0xed VSP mode byte; 0xee VSP finishes what it holds; 0xef HvSignalEvent
 *   0xf0 snapshot round trip: every channel paused and saved, the bus reset,
 *        every channel restored from its stream (which must work); once a run
 *
 * Invariants: no crash, no sanitizer report, posted messages well formed
 * (checked by the fake host), the message queue within bounds.
 */
#include <stdint.h>
#include <string.h>

#include "tests/fuzz/fuzz_vmbus_host.h"
#include "kernel/hv_defs.h"

#define MAX_OPS	     32
#define RAW_OP_LIMIT 0xe0

struct input {
	const u8 *p;
	size_t n;
};

static u8 byte(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static u32 word(struct input *in)
{
	u32 v = byte(in);

	v |= (u32)byte(in) << 8;
	return v;
}

static const u32 versions[] = {VMBUS_VERSION_V5_3,   VMBUS_VERSION_V5_2,    VMBUS_VERSION_V5_1,
			       VMBUS_VERSION_V5,     VMBUS_VERSION_WIN10_1, VMBUS_VERSION_WIN10,
			       VMBUS_VERSION_WIN8_1, VMBUS_VERSION_WIN8};

static void raw(struct vmb_bus *bus, struct input *in, u8 op)
{
	u8 msg[VMBUS_MSG_MAX];
	u32 len = byte(in) % (VMBUS_MSG_MAX + 1);
	u32 take = MIN((size_t)len, in->n);

	memset(msg, 0, sizeof(msg));
	memcpy(msg, in->p, take);
	in->p += take;
	in->n -= take;
	vmbus_guest_post(bus, op & 1 ? VMBUS_CONN_MESSAGE : VMBUS_CONN_MESSAGE_4,
			 VMBUS_HV_MESSAGE_TYPE, msg, len);
}

static void guest_packet(struct vmb_bus *bus, struct input *in)
{
	struct vmb_channel *ch = fz_channel(byte(in));
	struct vmbus_ring_control *ctl;
	u8 *data;
	u32 len = byte(in) % 64 + 16, w;
	struct vmbus_packet_desc d = {VMBUS_PKT_DATA_INBAND, 2, 0, 0, 0};

	if (!ch->open || ch->in.size != PAGE_SIZE)
		return;
	/* Ring pages of the open channel are fake RAM: write as the guest would (no wrap). */
	ctl = (void *)ch->ring_pages[0];
	data = ch->ring_pages[1];
	w = ctl->write_index;
	if (w + len + 24 >= PAGE_SIZE)
		return;
	d.type = byte(in) & 1 ? VMBUS_PKT_COMP : VMBUS_PKT_DATA_INBAND;
	d.flags = byte(in) & 1;
	d.trans_id = byte(in);
	d.len8 = (u16)((16 + len + 7) / 8);
	memcpy(data + w, &d, sizeof(d));
	w += d.len8 * 8 + 8;
	ctl->write_index = w;
	vmbus_guest_signal(bus, VMBUS_CONN_CHANNEL_BASE + ch->relid, 0);
}

#define SAVE_MAX (64 << 10)

/*
 * Save every channel, forget everything, restore them: a saved state must
 * come back, unless the partition's pool has no room for it (then the
 * save, or the restore, is refused with INSUFFICIENT_RESOURCES).
 */
static void round_trip(struct vmb_bus *bus)
{
	static u8 streams[3][SAVE_MAX];
	u32 sizes[3], filled, required;
	vmb_status st;

	fz_vsp_finish(); /* the VSP saves nothing of its own: let it hold nothing */
	for (unsigned i = 0; i < 3; i++) {
		struct vmb_channel *ch = fz_channel(i);

		vmb_channel_pause(ch);
		st = vmb_channel_save_begin(ch);
		if (st == VMB_STATUS_INSUFFICIENT_RESOURCES) {
			for (unsigned k = 0; k <= i; k++)
				vmb_channel_start(fz_channel(k));
			return;
		}
		if (st || vmb_channel_save_continue(ch, streams[i], SAVE_MAX, &filled, &required) ||
		    vmb_channel_save_end(ch))
			__builtin_trap();
		sizes[i] = filled;
	}
	vmbus_reset(bus);
	for (unsigned i = 0; i < 3; i++) {
		st = vmb_channel_restore_from_buffer(fz_channel(i), streams[i], sizes[i]);
		if (st && st != VMB_STATUS_INSUFFICIENT_RESOURCES)
			__builtin_trap();
	}
	for (unsigned i = 0; i < 3; i++)
		vmb_channel_start(fz_channel(i));
}

static void vsp_action(struct vmb_bus *bus, struct input *in)
{
	u8 which = byte(in);
	struct vmb_channel *ch = fz_channel(which);

	switch (byte(in) % 5) {
	case 0:
		vmb_channel_disable(ch);
		break;
	case 1:
		vmb_channel_enable(ch);
		break;
	case 2:
		vmb_channel_pause(ch);
		break;
	case 3:
		vmb_channel_start(ch);
		break;
	default:
		fz_recreate(bus, which);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmb_bus *bus;
	struct input in = {data, size};
	unsigned ops = 0, round_trips = 0;
	u8 op;

	/*
	 * One bus for all runs (cheaper); each starts as a reset partition with
	 * three channels and leaves it so (what a run allocates, it frees: no
	 * false leak reports).
	 */
	if (!bus)
		bus = fz_bus(3, 1 << 16);
	fz_begin_run(size);
	memset(fz_ram, 0, 8 * PAGE_SIZE); /* the pages rings and GPADLs usually name */
	while (in.n && ops++ < MAX_OPS) {
		op = byte(&in);
		if (op < RAW_OP_LIMIT) {
			raw(bus, &in, op);
			continue;
		}
		switch (op) {
		case 0xe0: {
			struct vmbus_msg_initiate_contact m = {{VMBUS_MSG_INITIATE_CONTACT, 0}};
			u8 v = byte(&in);

			m.version = v < 64 ? versions[v % ARRAY_SIZE(versions)] : v * 0x10001u;
			m.msg_sint = byte(&in) % 20;
			fz_post(bus, &m, sizeof(m));
			break;
		}
		case 0xe1:
		case 0xe2: {
			struct vmbus_msg_header h = {
			    op == 0xe1 ? VMBUS_MSG_REQUESTOFFERS : VMBUS_MSG_UNLOAD, 0};

			fz_post(bus, &h, sizeof(h));
			break;
		}
		case 0xe3: {
			u32 relid = byte(&in) % 5, id = byte(&in);
			unsigned first = byte(&in) % FZ_RAM_PAGES, n = byte(&in) % 30 + 1;

			fz_gpadl(bus, relid, id, first, n);
			break;
		}
		case 0xe4: {
			u32 relid = byte(&in) % 5, id = byte(&in);

			fz_open(bus, relid, id, byte(&in) % 8);
			break;
		}
		case 0xe5:
		case 0xe6:
		case 0xe7: {
			struct vmbus_msg_gpadl_teardown t = {{0, 0}, byte(&in) % 5, 0};

			t.header.type = op == 0xe5   ? VMBUS_MSG_CLOSECHANNEL
					: op == 0xe6 ? VMBUS_MSG_GPADL_TEARDOWN
						     : VMBUS_MSG_RELID_RELEASED;
			t.gpadl = byte(&in);
			fz_post(bus, &t, op == 0xe6 ? sizeof(t) : sizeof(struct vmbus_msg_relid));
			break;
		}
		case 0xe8:
			vsp_action(bus, &in);
			break;
		case 0xe9:
			fz_post_status =
			    byte(&in) & 1 ? HV_STATUS_INSUFFICIENT_BUFFERS : HV_STATUS_SUCCESS;
			break;
		case 0xea:
			vmbus_poll(bus);
			break;
		case 0xeb:
			vmbus_reset(bus);
			break;
		case 0xec:
			guest_packet(bus, &in);
			break;
		case 0xed:
			fz_vsp_mode = byte(&in);
			break;
		case 0xee:
			fz_vsp_finish();
			break;
		case 0xf0:
			if (!round_trips++) /* once per run: it costs as much as the rest */
				round_trip(bus);
			break;
		default:
			vmbus_guest_signal(bus, VMBUS_CONN_CHANNEL_BASE + word(&in) % 40, 0);
			break;
		}
		if (bus->q_count > VMBUS_MSG_QUEUE)
			__builtin_trap();
	}
	fz_post_status = HV_STATUS_SUCCESS;
	vmbus_poll(bus);
	fz_rewind(bus, 3);
	fz_end_run();
	return 0;
}
