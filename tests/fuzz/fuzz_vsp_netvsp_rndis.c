/*
 * libFuzzer: netvsp's RNDIS device (vsp/netvsp/rndis.c) from a hostile
 * guest, on a NIC brought up as Linux 6.1 does (NVSP 6.1, both buffers,
 * RNDIS initialized, a packet filter set), through the VSP fake
 * (fuzz_netvsp.h says what is checked).
 *
 *   ops: { u8 op, ... }
 *
 *   op % 8: 0-5 fuzz_netvsp.h's common ops; 6 an RNDIS message (u16 len,
 *   bytes) in send section 0 on the control channel; 7 the same on the data
 *   channel, with the input's u32 rewritten as the message length and type
 *   of a PACKET_MSG (u8 which: its header fields stay plausible more often).
 */
#include "tests/fuzz/fuzz_netvsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static u8 msg[TX_SECTION];

	cur = data;
	end = data + size;
	fresh();
	device_up();
	for (unsigned n = 0; n < MAX_OPS && cur < end; n++) {
		unsigned op = (unsigned)take(1) % 8;
		u32 len;

		if (op < 6) {
			common_op(op);
			continue;
		}
		len = take_bytes(msg, sizeof(msg));
		if (op == 7 && len >= 8 && take(1) & 1) {
			const u32 hdr[2] = {RNDIS_MSG_PACKET, len};

			memcpy(msg, hdr, sizeof(hdr));
		}
		rndis_via_section(msg, len, 0, len,
				  op == 6 ? NVSP_CHANNEL_CONTROL : NVSP_CHANNEL_DATA);
		look(false);
	}
	look(true);
	return 0;
}
