/*
 * The portstats extension: a port's counters are its runtime state, so a
 * restored port counts on from the snapshot's figures.
 *
 * Its blob is struct vsw_portstats_saved (vswitch.h); a longer one of the
 * same version is read for the fields this build knows.
 */
#include "vsp/vswitch/vswitch.h"

#include <string.h>

static vmb_status portstats_save(void *ctx, struct vsw *sw, u32 port, void *blob, u32 room,
				 u32 *len)
{
	struct vsw_port *p = vsw_port_by_id(sw, port);
	struct vsw_portstats_saved s = {.version = VSW_PORTSTATS_VERSION, .size = sizeof(s)};
	const struct vsw_counters *c;

	(void)ctx;
	*len = 0;
	if (!p)
		return VMB_STATUS_INVALID_PARAMETER;
	if (room < sizeof(s))
		return VMB_STATUS_BUFFER_TOO_SMALL;
	c = vsw_port_counters(p);
	s.rx_packets = c->rx_packets;
	s.tx_packets = c->tx_packets;
	s.rx_bytes = c->rx_bytes;
	s.tx_bytes = c->tx_bytes;
	s.drops = c->drops;
	memcpy(blob, &s, sizeof(s));
	*len = sizeof(s);
	return VMB_STATUS_SUCCESS;
}

static vmb_status portstats_restore(void *notify_ctx, void *completion, enum vsw_event event,
				    struct vsw *sw, u32 port, const void *blob, u32 len)
{
	struct vsw_port *p = vsw_port_by_id(sw, port);
	struct vsw_portstats_saved s;
	struct vsw_counters c;

	(void)notify_ctx;
	(void)completion;
	if (event != VSW_EVENT_RESTORE || !p)
		return VMB_STATUS_INVALID_PARAMETER;
	if (len < 8)
		return VMB_STATUS_DATA_ERROR;
	memcpy(&s, blob, 8);
	if (s.version != VSW_PORTSTATS_VERSION)
		return VMB_STATUS_REVISION_MISMATCH;
	if (s.size != len || len < sizeof(s))
		return VMB_STATUS_DATA_ERROR;
	memcpy(&s, blob, sizeof(s));
	c = (struct vsw_counters){s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes, s.drops};
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
