/*
 * libFuzzer: what a guest sends on the Integration Components channels
 * (vsp/ic/), through the fake VMBus library of tests/unit/test_vsp_fake.c,
 * and the pure parsers under it. Input layout:
 *
 *   u8 mode | packets: { u8 op, u8 len_lo, u8 len_hi, len bytes }...
 *
 * mode bits 0-1 pick the channel (heartbeat, shutdown, timesync); bit 2
 * first completes the negotiation as Linux would; bit 3 then has a request
 * outstanding (heartbeat, shutdown or timesync message); bit 4 first hands
 * the rest of the input to the instance's restore hook, as the saved state
 * of a hostile snapshot image, then reads it as packets too. Each op delivers
 * the bytes as one guest packet (op bit 0: with external data, bit 1:
 * completion requested), then lets op >> 2 tens of milliseconds pass and
 * runs a pass of the door (deferred work, due timers). The fake aborts on any breach of the library
 * contract; the checks below must hold after every step.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test_vsp_fake.h"
#include "vsp/ic/ic.h"

#define MAX_PACKETS   48
#define OP_EXTERNAL   0x01
#define OP_COMPLETION 0x02

static const struct vmb_guid types[IC_NR_SERVICES] = {
    [IC_HEARTBEAT] =
	VMB_GUID(0x57164f39, 0x9115, 0x4e78, 0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d),
    [IC_SHUTDOWN] =
	VMB_GUID(0x0e0b6031, 0x5213, 0x4934, 0x81, 0x8b, 0x38, 0xd9, 0x0c, 0xed, 0x39, 0xdb),
    [IC_TIMESYNC] =
	VMB_GUID(0x9527e630, 0xd0ae, 0x497b, 0xad, 0xce, 0xe8, 0x0a, 0xb0, 0x17, 0x5c, 0xaf),
};

static struct vsp *inst;
static struct ic_instance *ic;
static struct vmb_channel *ch[IC_NR_SERVICES];

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void setup_once(void)
{
	struct vmb_bus *bus;
	char err[128];

	fake_reset();
	fake_abort_on_violation = true;
	inst = fake_vsp_create("ic", "fuzz", err, sizeof(err));
	check(inst != NULL);
	bus = vsp_bus(inst);
	ic = vsp_state(inst);
	for (unsigned s = 0; s < IC_NR_SERVICES; s++)
		ch[s] = fake_channel(bus, &types[s]);
}

static bool offered(const struct ic_version *list, unsigned n, struct ic_version v)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i].major == v.major && list[i].minor == v.minor)
			return true;
	return false;
}

static void check_channel(const struct ic_channel *c, struct vmb_channel *vch)
{
	check(c->state <= IC_REFUSED);
	check(fake_in_use(vch) == 0); /* every guest packet is completed at once */
	if (c->state == IC_READY) {
		check(offered(ic_framework_versions, ic_nr_framework_versions, c->framework));
		check(offered(c->desc->versions, c->desc->nr_versions, c->version));
	}
}

/* The last message we sent on vch, answered as Linux answers a negotiation. */
static void answer_negotiation(struct vmb_channel *vch)
{
	const struct fake_record *r = fake_record(vch, FAKE_SENT, fake_count(vch, FAKE_SENT) - 1);
	u8 buf[FAKE_MAX_DATA];
	struct ic_msg_hdr h;
	struct ic_negotiate n = {1, 1, 0};

	check(r && r->len >= IC_HDR_SIZE + sizeof(n) + 3 * sizeof(struct ic_version));
	memcpy(buf, r->data, r->len);
	memcpy(&h, buf + sizeof(struct ic_pipe_hdr), sizeof(h));
	h.size = sizeof(n) + 2 * sizeof(struct ic_version);
	h.flags = IC_FLAG_TRANSACTION | IC_FLAG_RESPONSE;
	memcpy(buf + sizeof(struct ic_pipe_hdr), &h, sizeof(h));
	memcpy(buf + IC_HDR_SIZE, &n, sizeof(n));
	/* Slot 0 holds our first framework already; slot 1 gets our first service version. */
	memmove(buf + IC_HDR_SIZE + sizeof(n) + sizeof(struct ic_version),
		buf + IC_HDR_SIZE + sizeof(n) + 2 * sizeof(struct ic_version),
		sizeof(struct ic_version));
	fake_guest_send(vch, buf, r->len, 0, NULL);
}

static void parse_directly(const u8 *data, u32 len, u8 op)
{
	struct ic_msg_hdr hdr;
	struct ic_version fw, ver;
	const u8 *body;
	u32 body_len;
	enum ic_parse r;

	r = ic_parse_response(data, len, op & 1, op >> 4, op, &hdr, &body, &body_len);
	if (r == IC_PARSE_OK) {
		check(body == data + IC_HDR_SIZE && body_len <= len - IC_HDR_SIZE);
		check(body_len == hdr.size);
	}
	r = ic_parse_negotiate(data, len, ic->ch[op % IC_NR_SERVICES].desc->versions,
			       ic->ch[op % IC_NR_SERVICES].desc->nr_versions, &fw, &ver);
	if (r == IC_PARSE_OK)
		check(offered(ic_framework_versions, ic_nr_framework_versions, fw));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static struct fake_ext ext;
	static const u8 ext_bytes[64];
	unsigned s, packets = 0;
	u8 mode;

	if (!ready) {
		setup_once();
		ready = true;
	}
	if (!size)
		return 0;
	mode = data[0];
	data++;
	size--;
	s = (mode & 3) % IC_NR_SERVICES;
	/* Every input starts from the same state, so a crash reproduces from its input alone. */
	for (unsigned i = 0; i < IC_NR_SERVICES; i++) {
		fake_close(ch[i]);
		ic->ch[i].next_transaction = 0;
		ic->ch[i].bad = 0;
		memset(&ic->ch[i].u, 0, sizeof(ic->ch[i].u));
	}
	ic->wall_offset_100ns = 0;
	fake_now_ns = IC_NS(100);
	fake_clear();
	fake_abort_on_violation = true;
	check(fake_open(ch[s]) == VMB_STATUS_SUCCESS);
	fake_pass();
	if (mode & 4) {
		answer_negotiation(ch[s]);
		check(ic->ch[s].state == IC_READY);
		if (mode & 8) {
			char err[96];

			fake_now_ns += IC_NS(10);
			if (s == IC_SHUTDOWN)
				check(!ic_shutdown_request(ic, IC_SHUTDOWN_SHUTDOWN, err,
							   sizeof(err)));
			fake_pass();
			check(ic->ch[s].outstanding);
		}
	}
	if (mode & 0x10) {
		vmb_status st = fake_vsp_restore(inst, data, (u32)size);

		check(st == VMB_STATUS_SUCCESS || st == VMB_STATUS_DATA_ERROR ||
		      st == VMB_STATUS_REVISION_MISMATCH);
		for (unsigned i = 0; i < IC_NR_SERVICES; i++)
			check_channel(&ic->ch[i], ch[i]);
		fake_pass();
	}
	ext = (struct fake_ext){1, {ext_bytes}, {sizeof(ext_bytes)}};
	while (size >= 3 && packets++ < MAX_PACKETS) {
		u8 op = data[0];
		u32 len = data[1] | (u32)data[2] << 8;

		data += 3;
		size -= 3;
		if (len > size)
			len = (u32)size;
		if (len > FAKE_MAX_DATA)
			len = FAKE_MAX_DATA;
		parse_directly(data, len, op);
		fake_nr_sent = 0; /* keep the record short; only the last send matters */
		fake_guest_send(ch[s], data, len,
				(op & OP_EXTERNAL ? VMB_PACKET_EXTERNAL_DATA : 0) |
				    (op & OP_COMPLETION ? VMB_PACKET_COMPLETION_REQUESTED : 0),
				op & OP_EXTERNAL ? &ext : NULL);
		check_channel(&ic->ch[s], ch[s]);
		fake_now_ns += (u64)(op >> 2) * (IC_NS(1) / 100);
		fake_pass();
		check_channel(&ic->ch[s], ch[s]);
		data += len;
		size -= len;
	}
	return 0;
}
