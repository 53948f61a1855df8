/*
 * libFuzzer: GPADL messages (vmbus/gpadl.c and the GPADL part of
 * vmbus/channel.c). After connecting, the input is a sequence of GPADL
 * messages with fuzzed fields and PFNs:
 *
 *   0: GPADL_HEADER   u8 relid | u8 id | u16 range_buflen | u16 range_count |
 *                     u8 n | n u64 words (ranges and PFNs; PFNs are mostly
 *                     taken modulo the fake RAM so that some are valid)
 *   1: GPADL_BODY     u8 id | u8 n | n u64 words
 *   2: GPADL_TEARDOWN u8 relid | u8 id
 *   3: VSP maps a GPADL, reads and writes its start, middle and end, keeps it
 *   4: OPENCHANNEL on a GPADL (relid, id, split); 5: CLOSECHANNEL
 *
 * Invariants: no crash or sanitizer report; a mapping's reads and writes
 * inside its size succeed while its GPADL lives.
 */
#include <stdint.h>
#include <string.h>

#include "tests/fuzz/fuzz_vmbus_host.h"

#define MAX_OPS	 32
#define MAX_MAPS 4

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

/* Half of the words become PFNs of fake RAM, or whole-page range headers. */
static u64 shape(u8 kind, u64 v)
{
	switch (kind & 3) {
	case 0:
		return fz_pfn((unsigned)(v % FZ_RAM_PAGES));
	case 1:
		return (v & 0x3) * PAGE_SIZE + PAGE_SIZE;
	default:
		return v;
	}
}

/* A count byte, then per word a kind byte and 8 value bytes (read in bulk: fast). */
static u32 words(struct input *in, u8 *out, u32 room)
{
	u32 want = byte(in), n = MIN(want, room / 8);

	n = MIN(n, (u32)(in->n / 9));
	for (u32 i = 0; i < n; i++) {
		u64 v;

		memcpy(&v, in->p + 9 * i + 1, sizeof(v));
		v = shape(in->p[9 * i], v);
		memcpy(out + 8 * i, &v, sizeof(v));
	}
	in->p += 9 * n;
	in->n -= 9 * n;
	return 8 * n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmb_bus *bus;
	struct input in = {data, size};
	struct vmb_gpadl_mapping *maps[MAX_MAPS] = {0};
	u8 msg[VMBUS_MSG_MAX], tmp[256];
	unsigned ops = 0;

	/* One bus for all runs; each ends with a reset: no GPADLs or offers left, nothing leaks. */
	if (!bus)
		bus = fz_bus(2, 0);
	fz_begin_run(size);
	bus->logged = VMBUS_LOG_BURST;
	fz_post_status = 0;
	memset(fz_ram, 0, 8 * PAGE_SIZE);
	fz_connect(bus);
	while (in.n && ops++ < MAX_OPS) {
		u8 op = byte(&in) % 6;

		memset(msg, 0, sizeof(msg));
		if (op == 0) {
			struct vmbus_msg_gpadl_header *h = (void *)msg;
			u32 len;

			h->header.type = VMBUS_MSG_GPADL_HEADER;
			h->child_relid = byte(&in) % 4;
			h->gpadl = byte(&in) % 8;
			h->range_buflen = (u16)(byte(&in) | byte(&in) << 8);
			h->range_count = (u16)(byte(&in) | byte(&in) << 8);
			if (h->range_count & 0x8000)
				h->range_count = 1;
			len = words(&in, msg + sizeof(*h), VMBUS_MSG_MAX - sizeof(*h));
			fz_post(bus, msg, (u32)sizeof(*h) + len);
		} else if (op == 1) {
			struct vmbus_msg_gpadl_body *b = (void *)msg;
			u32 len;

			b->header.type = VMBUS_MSG_GPADL_BODY;
			b->gpadl = byte(&in) % 8;
			len = words(&in, msg + sizeof(*b), VMBUS_MSG_MAX - sizeof(*b));
			fz_post(bus, msg, (u32)sizeof(*b) + len);
		} else if (op == 2) {
			struct vmbus_msg_gpadl_teardown *t = (void *)msg;

			t->header.type = VMBUS_MSG_GPADL_TEARDOWN;
			t->child_relid = byte(&in) % 4;
			t->gpadl = byte(&in) % 8;
			fz_post(bus, msg, sizeof(*t));
		} else if (op == 3) {
			struct vmb_channel *ch = fz_channel(byte(&in) % 2);
			unsigned slot = byte(&in) % MAX_MAPS;
			struct vmb_gpadl_mapping *m;

			if (maps[slot]) {
				vmb_channel_unmap_gpadl(NULL, maps[slot]);
				maps[slot] = NULL;
			}
			if (vmb_channel_map_gpadl(ch, byte(&in) % 8, &m) != VMB_STATUS_SUCCESS)
				continue;
			/* Its first, middle and last bytes (a GPADL can describe 32 MiB). */
			for (unsigned k = 0; k < 3; k++) {
				u64 size = vmb_gpadl_mapping_size(m);
				u64 len = MIN((u64)sizeof(tmp), size);
				u64 off = k == 0 ? 0 : k == 1 ? (size - len) / 2 : size - len;

				if (vmb_gpadl_read(m, off, tmp, len) ||
				    vmb_gpadl_write(m, off, tmp, len))
					__builtin_trap();
			}
			if (vmb_gpadl_read(m, vmb_gpadl_mapping_size(m), tmp, 1) !=
			    VMB_STATUS_INVALID_PARAMETER)
				__builtin_trap();
			maps[slot] = m;
		} else if (op == 4) {
			u32 relid = byte(&in) % 4, id = byte(&in) % 8;

			fz_open(bus, relid, id, byte(&in) % 8);
		} else {
			struct vmbus_msg_relid c = {{VMBUS_MSG_CLOSECHANNEL, 0}, byte(&in) % 4};

			fz_post(bus, &c, sizeof(c));
		}
	}
	for (unsigned i = 0; i < MAX_MAPS; i++)
		if (maps[i])
			vmb_channel_unmap_gpadl(NULL, maps[i]);
	vmbus_reset(bus);
	fz_end_run();
	return 0;
}
