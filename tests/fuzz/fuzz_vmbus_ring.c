/*
 * libFuzzer: reading a guest-written ring (vmbus/ring.c, vmbus/packet.c).
 * A channel is opened the way Linux opens one (4 ring pages, split 2: guest
 * -> host control page 0 and data page 1, host -> guest pages 2 and 3),
 * then the input becomes the guest's side of the rings, in rounds:
 *
 *   round: u8 vsp_mode | u32 in.write_index | u32 in.pending_send_sz |
 *          u32 out.read_index | u32 out.interrupt_mask | u16 n | n data bytes
 *
 * The data bytes go to the start of the guest -> host data page; then the
 * guest signals. The VSP completes, defers, fails or echoes each packet (so
 * the host -> guest ring is written too), and reads and writes the external
 * data of GPA_DIRECT packets. Invariants: no crash or sanitizer report, the
 * host's own indices stay inside the ring and 8-byte aligned.
 */
#include <stdint.h>
#include <string.h>

#include "tests/fuzz/fuzz_vmbus_host.h"

#define RING_GPADL 0x42
#define MAX_ROUNDS 8

static u32 take32(const u8 **p, size_t *n)
{
	u32 v = 0;

	if (*n >= 4) {
		memcpy(&v, *p, 4);
		*p += 4;
		*n -= 4;
	}
	return v;
}

/*
 * One bus for all runs (setting it up costs more than a run): each run
 * starts with the guest opening the channel on fresh ring pages and ends
 * with it closing the channel, so what a run allocates it frees.
 */
static struct vmb_bus *bus_for_run(void)
{
	static struct vmb_bus *bus;

	if (!bus) {
		bus = fz_bus(1, 1 << 16);
		fz_connect(bus);
		fz_gpadl(bus, 1, RING_GPADL, 0, 4);
	}
	fz_post_status = 0;
	fz_vsp_mode = 0;
	bus->logged = VMBUS_LOG_BURST;
	bus->suppressed = 0;
	memset(fz_ram, 0, 4 * PAGE_SIZE);
	fz_open(bus, 1, RING_GPADL, 2);
	return bus;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmb_bus *bus = bus_for_run();
	struct vmbus_ring_control *in_ctl = (void *)fz_ram[0], *out_ctl = (void *)fz_ram[2];
	struct vmb_channel *ch = fz_channel(0);
	struct vmbus_msg_relid close = {{VMBUS_MSG_CLOSECHANNEL, 0}, 1};
	const u8 *p = data;
	size_t n = size;

	if (!ch->open)
		__builtin_trap();
	fz_begin_run(size);
	for (unsigned round = 0; round < MAX_ROUNDS && n; round++) {
		u16 len = 0;

		fz_vsp_mode = *p++;
		n--;
		in_ctl->write_index = take32(&p, &n);
		in_ctl->pending_send_sz = take32(&p, &n);
		out_ctl->read_index = take32(&p, &n);
		out_ctl->interrupt_mask = take32(&p, &n);
		if (n >= 2) {
			memcpy(&len, p, 2);
			p += 2;
			n -= 2;
		}
		len = (u16)MIN((size_t)len % (PAGE_SIZE + 1), n);
		memcpy(fz_ram[1], p, len);
		p += len;
		n -= len;
		vmbus_guest_signal(bus, VMBUS_CONN_CHANNEL_BASE + 1, 0);
		if (round & 1)
			fz_vsp_finish();
		vmb_channel_start(ch);
		vmbus_poll(bus);
		if (ch->open && (ch->in.priv >= ch->in.size || ch->in.priv % 8 ||
				 ch->out.priv >= ch->out.size || ch->out.priv % 8))
			__builtin_trap();
	}
	fz_vsp_finish();
	vmbus_poll(bus);
	fz_post(bus, &close, sizeof(close));
	fz_end_run();
	return 0;
}
