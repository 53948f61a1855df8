/*
 * The portstats extension: a port's counters are its runtime state, so a
 * restored port counts on from the snapshot's figures.
 *
 * Its blob (little-endian, packed): u32 version (1), u32 size (48, the
 * blob's length; a longer one of version 1 is read for these fields),
 * then u64 rx_packets, tx_packets, rx_bytes, tx_bytes, drops.
 */
#include "vsp/vswitch/vswitch.h"

#include <string.h>

#define PORTSTATS_VERSION 1
#define PORTSTATS_SIZE	  48

static u64 get_u64(const u8 *b)
{
	u64 v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static u32 get_u32(const u8 *b)
{
	return b[0] | b[1] << 8 | b[2] << 16 | (u32)b[3] << 24;
}

static void put_u64(u8 *b, u64 v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		b[i] = v & 0xff;
}

static vmb_status portstats_save(void *ctx, struct vsw *sw, u32 port, void *blob, u32 room,
				 u32 *len)
{
	struct vsw_port *p = vsw_port_by_id(sw, port);
	const struct vsw_counters *c;
	u8 *b = blob;

	(void)ctx;
	*len = 0;
	if (!p)
		return VMB_STATUS_INVALID_PARAMETER;
	if (room < PORTSTATS_SIZE)
		return VMB_STATUS_BUFFER_TOO_SMALL;
	c = vsw_port_counters(p);
	memset(b, 0, PORTSTATS_SIZE);
	b[0] = PORTSTATS_VERSION;
	b[4] = PORTSTATS_SIZE;
	put_u64(b + 8, c->rx_packets);
	put_u64(b + 16, c->tx_packets);
	put_u64(b + 24, c->rx_bytes);
	put_u64(b + 32, c->tx_bytes);
	put_u64(b + 40, c->drops);
	*len = PORTSTATS_SIZE;
	return VMB_STATUS_SUCCESS;
}

static vmb_status portstats_restore(void *notify_ctx, void *completion, enum vsw_event event,
				    struct vsw *sw, u32 port, const void *blob, u32 len)
{
	struct vsw_port *p = vsw_port_by_id(sw, port);
	const u8 *b = blob;
	struct vsw_counters c;

	(void)notify_ctx;
	(void)completion;
	if (event != VSW_EVENT_RESTORE || !p)
		return VMB_STATUS_INVALID_PARAMETER;
	if (len < 8)
		return VMB_STATUS_DATA_ERROR;
	if (get_u32(b) != PORTSTATS_VERSION)
		return VMB_STATUS_REVISION_MISMATCH;
	if (get_u32(b + 4) != len || len < PORTSTATS_SIZE)
		return VMB_STATUS_DATA_ERROR;
	c.rx_packets = get_u64(b + 8);
	c.tx_packets = get_u64(b + 16);
	c.rx_bytes = get_u64(b + 24);
	c.tx_bytes = get_u64(b + 32);
	c.drops = get_u64(b + 40);
	vsw_port_set_counters(p, &c);
	return VMB_STATUS_SUCCESS;
}

/* Bulkhead's own provider GUID for it (random, version 4). */
const struct vsw_ext_ops vsw_portstats_ops = {
    .provider =
	VMB_GUID(0x6c1f3a52, 0x0d4e, 0x4b7a, 0x9e, 0x21, 0x5b, 0x83, 0x47, 0xc0, 0xd2, 0x19),
    .name = "portstats",
    .save = portstats_save,
    .restore = portstats_restore,
};

void *vsw_portstats_ctx(unsigned switch_index)
{
	(void)switch_index;
	return NULL; /* its state is the switch's counters */
}
