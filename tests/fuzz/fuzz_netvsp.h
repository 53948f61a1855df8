/*
 * What the two netvsp harnesses share (fuzz_vsp_netvsp_nvsp.c drives raw NVSP,
 * fuzz_vsp_netvsp_rndis.c raw RNDIS on a device brought up as Linux does):
 * one NIC made once, through the VSP fake, with a receive buffer, a send
 * buffer, a buffer too small and one over the channel's ring; each input
 * starts from a fresh open of the channel. The fake aborts at any breach of
 * the library's rules. Checks: no guest packet is left in use (netvsp
 * answers every one at once, or keeps a few while the library is out of
 * memory), every answer in the receive buffer is of a known type, the NIC's
 * port on a real switch (vsp/vswitch/) only ever passes frames of a legal
 * size from the NIC's own MAC to the harness's port there (the "wire"),
 * every transfer-page packet points at whole messages inside the receive
 * buffer, one per section, and no more sections are out than the buffer
 * has.
 */
#ifndef BULKHEAD_FUZZ_NETVSP_H
#define BULKHEAD_FUZZ_NETVSP_H

#include <stdlib.h>
#include <string.h>

#include "tests/unit/test_vsp_fake.h"
#include "vsp/netvsp/netvsp.h"
#include "vsp/netvsp/nic.h" /* rx_gen: whether the receive buffer changed */
#include "vsp/netvsp/proto.h"
#include "tests/fuzz/fuzz_input.h"

#define RX_SECTION  1728
#define RX_SECTIONS 6
#define TX_SECTION  6144
#define TX_SECTIONS 2
#define MAX_OPS	    24

static struct vsp *inst;
static struct vmb_channel *ch;
static struct netvsp_nic *nic;
static u8 rxbuf[RX_SECTIONS * RX_SECTION], txbuf[TX_SECTIONS * TX_SECTION];
static u8 small[512], ring[2 * 4096];
static unsigned checked, answered; /* records looked at, and completed by the guest */
/*
 * netvsp's receive-buffer generation at the last look: if the guest
 * revoked its buffer (or reset the NIC) since, sections of records not yet
 * looked at may hold later messages (the guest's own doing), so only their
 * bounds are checked.
 */
static u32 rx_gen_seen;

static struct vsw_port *wire;
static const u8 wire_mac[6] = {2, 0, 0, 0, 0, 0x77};

static void *wire_alloc(void *ctx, size_t size)
{
	return malloc(size);
}

static void wire_free(void *ctx, void *ptr)
{
	free(ptr);
}

/* What the guest sent, as the wire receives it. */
static void wire_drain(void)
{
	const u8 *f;
	u32 len;

	while ((f = vsw_port_peek(wire, &len))) {
		check(len >= NETVSP_FRAME_MIN && len <= NETVSP_FRAME_MAX);
		check(!memcmp(f + 6, nic->mac, 6));
		vsw_port_pop(wire);
	}
}

static void make_once(void)
{
	static const struct vmb_guid type = NETVSP_TYPE_GUID;
	char err[160];

	const struct vsw_endpoint ep = {NULL, wire_alloc, wire_free, NULL};
	struct vsw_port_info info = {.partition = "wire", .link_up = true};

	if (inst)
		return;
	fake_reset();
	vsw_reset_all();
	check(vsw_make("lan", 4, 8, 1000000000ull) != NULL);
	memcpy(info.mac, wire_mac, 6);
	check(vsw_port_attach("lan", &info, &ep, &wire, err, sizeof(err)) == 0);
	fake_preset_config("nic", "lan");
	inst = fake_vsp_create("netvsp", "fuzz", err, sizeof(err));
	check(inst != NULL);
	ch = fake_channel(vsp_bus(inst), &type);
	nic = netvsp_nic(inst, 0);
	check(ch && nic && nic->port);
	fake_add_gpadl(ch, 1, rxbuf, sizeof(rxbuf));
	fake_add_gpadl(ch, 2, txbuf, sizeof(txbuf));
	fake_add_gpadl(ch, 3, small, sizeof(small));
	fake_add_gpadl(ch, 4, ring + 4096, 4096);
	fake_set_ring(ch, ring, sizeof(ring));
}

static void fresh(void)
{
	make_once();
	fake_close(ch);
	fake_clear();
	fake_abort_on_violation = true;
	check(fake_open(ch) == VMB_STATUS_SUCCESS);
	checked = answered = 0;
	rx_gen_seen = nic->rx_gen;
}

/* Every new record: transfer pages whole and inside; the guest completes some of them. */
static void look(bool complete_all)
{
	for (; checked < fake_nr_sent; checked++) {
		const struct fake_record *r = &fake_sent[checked];
		struct rndis_header h;
		u32 off, len;

		if (r->kind != FAKE_SENT || !r->xfer)
			continue;
		check(r->nr_xfer == 1);
		off = r->xfer_ranges[0].byte_offset;
		len = r->xfer_ranges[0].byte_count;
		check(off % RX_SECTION == 0 && len <= RX_SECTION && off + len <= sizeof(rxbuf));
		if (nic->rx_gen != rx_gen_seen)
			continue;
		memcpy(&h, rxbuf + off, sizeof(h));
		check(h.len == len);
		check(h.type == RNDIS_MSG_PACKET || h.type == RNDIS_MSG_INDICATE ||
		      (h.type & RNDIS_MSG_COMPLETION));
	}
	rx_gen_seen = nic->rx_gen;
	/* A record of a packet gone with a close is refused: the guest cannot answer it. */
	for (; complete_all && answered < fake_nr_sent; answered++)
		if (fake_sent[answered].xfer)
			fake_complete_sent(&fake_sent[answered], VMB_STATUS_SUCCESS, NULL, 0);
	if (complete_all) { /* the fake's counts walk its tables: not after every step */
		check(fake_waiting(ch) == 0);
		/* Answered at once, or deferred while the library is out of memory (NETVSP_OWED).
		 */
		check(fake_in_use(ch) <= 4);
	}
	if (fake_nr_sent > FAKE_MAX_SENT - 32) {
		/* Keep the record from filling: the guest answers everything first. */
		for (unsigned i = 0; i < fake_nr_sent; i++)
			if (fake_sent[i].xfer)
				fake_complete_sent(&fake_sent[i], VMB_STATUS_SUCCESS, NULL, 0);
		fake_nr_sent = checked = answered = 0;
	}
}

/*
 * The guest's message as sent, but a receive buffer it names is rxbuf or a
 * bad one, never txbuf (which the harness writes sends into).
 */
static void guest(const void *msg, u32 len, u32 flags)
{
	u8 copy[160];
	u32 type = 0, gpadl;

	if (fake_guest_queued(ch) >= 16)
		return; /* netvsp paused delivery; the fake's queue holds 32, a real ring fills */
	len = len < sizeof(copy) ? len : sizeof(copy);
	memcpy(copy, msg, len);
	if (len >= 4)
		memcpy(&type, copy, 4);
	if (type == NVSP_MSG1_SEND_RECV_BUF && len >= 8) {
		memcpy(&gpadl, copy + 4, 4);
		gpadl = gpadl == 2 ? 1 : gpadl;
		memcpy(copy + 4, &gpadl, 4);
	}
	fake_guest_send(ch, copy, len, flags, NULL);
}

/* NVSP to an open device, as Linux 6.1 brings it up. */
static void bring_up(u32 version)
{
	const struct nvsp_init init = {NVSP_MSG_INIT, version, version};
	const struct nvsp_ndis_config cfg = {NVSP_MSG2_SEND_NDIS_CONFIG, 1514, 0, 0};
	const struct nvsp_send_buf rx = {NVSP_MSG1_SEND_RECV_BUF, 1, 0xcafe};
	const struct nvsp_send_buf tx = {NVSP_MSG1_SEND_SEND_BUF, 2, 0};

	guest(&init, sizeof(init), VMB_PACKET_COMPLETION_REQUESTED);
	guest(&cfg, sizeof(cfg), 0);
	guest(&rx, sizeof(rx), VMB_PACKET_COMPLETION_REQUESTED);
	guest(&tx, sizeof(tx), VMB_PACKET_COMPLETION_REQUESTED);
}

/* An RNDIS message through send section `section` (or the guest's index and size). */
static void rndis_via_section(const u8 *msg, u32 len, u32 section, u32 size, u32 type);

/* NVSP 6.1, RNDIS initialized and a packet filter set: the device open, as Linux 6.1 has it. */
static void device_up(void)
{
	const struct rndis_init init = {{RNDIS_MSG_INIT, sizeof(init)}, 1, 1, 0, 0x4000};
	struct {
		struct rndis_oid_request q;
		u32 filter;
	} set = {{{RNDIS_MSG_SET, sizeof(set)}, 2, OID_GEN_CURRENT_PACKET_FILTER, 4, 20, 0}, 9};

	bring_up(NVSP_VERSION_61);
	rndis_via_section((const u8 *)&init, sizeof(init), 0, sizeof(init), NVSP_CHANNEL_CONTROL);
	rndis_via_section((const u8 *)&set, sizeof(set), 0, sizeof(set), NVSP_CHANNEL_CONTROL);
	look(true);
}

/* An RNDIS message through send section `section` (or the guest's index and size). */
static void rndis_via_section(const u8 *msg, u32 len, u32 section, u32 size, u32 type)
{
	const struct nvsp_rndis_pkt m = {NVSP_MSG1_SEND_RNDIS_PKT, type, section, size};

	if (section < TX_SECTIONS)
		memcpy(txbuf + section * TX_SECTION, msg, len < TX_SECTION ? len : TX_SECTION);
	guest(&m, sizeof(m), VMB_PACKET_COMPLETION_REQUESTED);
}

/* A guest message of up to max bytes from the input. */
static u32 take_bytes(u8 *out, u32 max)
{
	u32 len = (u32)take(2) % (max + 1), avail = (u32)(end - cur);

	len = len < avail ? len : avail;
	memcpy(out, cur, len);
	cur += len;
	return len;
}

/* The ops both harnesses have besides their own: the switch side, the guest's answers. */
static void common_op(unsigned op)
{
	static u8 frame[NETVSP_FRAME_MAX + 8];

	switch (op) {
	case 0: {
		u32 len = (u32)take(2) % sizeof(frame);

		memset(frame, (int)len, len);
		if (len >= 12) { /* to the NIC or to everyone, from the wire */
			memcpy(frame,
			       take(1) & 1 ? nic->mac
					   : (const u8[6]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
			       6);
			memcpy(frame + 6, wire_mac, 6);
		}
		vsw_send(wire, frame, len);
		break;
	}
	case 1:
		look(true);
		break;
	case 2:
		fake_pass();
		break;
	case 3:
		fake_ring_room = take(1) & 1 ? FAKE_RING_UNLIMITED : (int)take(1) % 4;
		break;
	case 4:
		wire_drain();
		break;
	case 5:
		fake_close(ch);
		check(fake_mappings(ch) == 0);
		check(fake_open(ch) == VMB_STATUS_SUCCESS);
		checked = answered = fake_nr_sent;
		break;
	}
	look(false);
}

#endif
