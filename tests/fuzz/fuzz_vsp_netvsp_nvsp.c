/*
 * libFuzzer: netvsp's NVSP messages (vsp/netvsp/netvsp.c) from a hostile
 * guest, through the VSP fake (fuzz_netvsp.h says what is checked).
 *
 *   u8 version index | ops: { u8 op, ... }
 *
 *   op % 10: 0-5 fuzz_netvsp.h's common ops (a frame from the switch, the
 *   guest completes what it received, a door pass, ring room, the link,
 *   close and reopen); 6 a raw NVSP in-band message (u8 flags, u16 len,
 *   bytes); 7 Linux's bring-up with the version picked; 8 an RNDIS_PKT with
 *   the input's channel type, section index and size (u32 each) over a
 *   section the input fills (u16 len, bytes); 9 an RNDIS_PKT in guest pages
 *   (u8 ranges, u16 bytes each, then the bytes).
 */
#include "tests/fuzz/fuzz_netvsp.h"

static const u32 versions[] = {NVSP_VERSION_1, NVSP_VERSION_2,	NVSP_VERSION_4, NVSP_VERSION_5,
			       NVSP_VERSION_6, NVSP_VERSION_61, 0x50001,	0};

static void raw_nvsp(void)
{
	static u8 msg[160];
	u8 flags = (u8)take(1);
	u32 len = take_bytes(msg, sizeof(msg));

	guest(msg, len, flags & 1 ? VMB_PACKET_COMPLETION_REQUESTED : 0);
}

static void rndis_pkt(void)
{
	static u8 msg[TX_SECTION];
	u32 type = (u32)take(4), index = (u32)take(4), size = (u32)take(4);
	u32 len = take_bytes(msg, sizeof(msg));

	rndis_via_section(msg, len, index % 4 == 3 ? NVSP_NO_SECTION : index % (TX_SECTIONS + 1),
			  index & 0x100 ? size : len, type % 3);
}

static void rndis_pages(void)
{
	static u8 bytes[FAKE_MAX_RANGES][2048];
	const struct nvsp_rndis_pkt m = {NVSP_MSG1_SEND_RNDIS_PKT, NVSP_CHANNEL_DATA,
					 NVSP_NO_SECTION, 0};
	struct fake_ext ext = {.nr_ranges = 1 + (unsigned)take(1) % FAKE_MAX_RANGES};

	for (unsigned r = 0; r < ext.nr_ranges; r++) {
		ext.len[r] = take_bytes(bytes[r], sizeof(bytes[r]));
		ext.data[r] = bytes[r];
	}
	if (fake_guest_queued(ch) < 16)
		fake_guest_send(ch, &m, sizeof(m),
				VMB_PACKET_COMPLETION_REQUESTED | VMB_PACKET_EXTERNAL_DATA, &ext);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u32 version;

	cur = data;
	end = data + size;
	fresh();
	version = versions[take(1) % ARRAY_SIZE(versions)];
	for (unsigned n = 0; n < MAX_OPS && cur < end; n++) {
		unsigned op = (unsigned)take(1) % 10;

		switch (op) {
		case 6:
			raw_nvsp();
			break;
		case 7:
			bring_up(version);
			break;
		case 8:
			rndis_pkt();
			break;
		case 9:
			rndis_pages();
			break;
		default:
			common_op(op);
			continue;
		}
		look(false);
	}
	look(true);
	return 0;
}
