/*
 * The firewall extension: a per-port allow-list of source MACs. A frame is
 * delivered to a port only if that port's list is empty or holds the
 * frame's source MAC. The list is the port's runtime state; its restore
 * completes on a later pass of the switch (vsw_defer, then its work hook),
 * so every restore goes through PENDING and vsw_notify_complete.
 *
 * Its blob: struct vsw_firewall_saved, then `count` struct
 * vsw_firewall_saved_rule (vswitch.h).
 */
#include "vsp/vswitch/vswitch.h"

#include <string.h>

#define FW_RULES_MAX VSW_FIREWALL_RULES_MAX

struct fw_list {
	unsigned n;
	u8 mac[FW_RULES_MAX][6];
};

struct fw_port {
	struct fw_list rules;
	bool pending; /* a restore waits for the next pass */
	struct fw_list next;
	void *completion;
};

struct fw_switch {
	struct fw_port ports[VSW_MAX_PORTS];
};

static struct fw_switch fw[VSW_MAX_SWITCHES];

void *vsw_firewall_ctx(unsigned switch_index)
{
	return switch_index < VSW_MAX_SWITCHES ? &fw[switch_index] : NULL;
}

static bool listed(const struct fw_list *l, const u8 *mac)
{
	for (unsigned i = 0; i < l->n; i++)
		if (!memcmp(l->mac[i], mac, 6))
			return true;
	return false;
}

static bool fw_frame(void *ctx, struct vsw *sw, u32 src, u32 dst, const u8 *frame, u32 len)
{
	struct fw_switch *f = ctx;
	const struct fw_list *l;

	(void)sw;
	(void)src;
	if (dst >= VSW_MAX_PORTS || len < VSW_FRAME_MIN)
		return false;
	l = &f->ports[dst].rules;
	return !l->n || listed(l, frame + 6);
}

static vmb_status fw_save(void *ctx, struct vsw *sw, u32 port, void *blob, u32 room, u32 *len)
{
	struct fw_switch *f = ctx;
	const struct fw_port *p;
	const struct fw_list *l;
	struct vsw_firewall_saved h = {.version = VSW_FIREWALL_VERSION};
	u8 *b = blob;

	(void)sw;
	*len = 0;
	if (port >= VSW_MAX_PORTS)
		return VMB_STATUS_INVALID_PARAMETER;
	p = &f->ports[port];
	l = p->pending ? &p->next : &p->rules; /* a restore not yet applied is what it holds */
	if (room < sizeof(h) + sizeof(struct vsw_firewall_saved_rule) * l->n)
		return VMB_STATUS_BUFFER_TOO_SMALL;
	h.count = l->n;
	memcpy(b, &h, sizeof(h));
	for (unsigned i = 0; i < l->n; i++) {
		struct vsw_firewall_saved_rule r = {.reserved = 0};

		memcpy(r.mac, l->mac[i], 6);
		memcpy(b + sizeof(h) + sizeof(r) * i, &r, sizeof(r));
	}
	*len = sizeof(h) + sizeof(struct vsw_firewall_saved_rule) * l->n;
	return VMB_STATUS_SUCCESS;
}

static vmb_status fw_restore(void *notify_ctx, void *completion, enum vsw_event event,
			     struct vsw *sw, u32 port, const void *blob, u32 len)
{
	struct fw_switch *f = notify_ctx;
	const u8 *b = blob;
	struct fw_list next = {0};
	struct vsw_firewall_saved h;

	if (event != VSW_EVENT_RESTORE || port >= VSW_MAX_PORTS)
		return VMB_STATUS_INVALID_PARAMETER;
	if (len < sizeof(h))
		return VMB_STATUS_DATA_ERROR;
	memcpy(&h, b, sizeof(h));
	if (h.version != VSW_FIREWALL_VERSION)
		return VMB_STATUS_REVISION_MISMATCH;
	if (h.count > FW_RULES_MAX ||
	    len != sizeof(h) + sizeof(struct vsw_firewall_saved_rule) * h.count)
		return VMB_STATUS_DATA_ERROR;
	for (u32 i = 0; i < h.count; i++) {
		struct vsw_firewall_saved_rule r;

		memcpy(&r, b + sizeof(h) + sizeof(r) * i, sizeof(r));
		if (r.reserved || (r.mac[0] & 1) || listed(&next, r.mac))
			return VMB_STATUS_DATA_ERROR; /* a source MAC is never a group address */
		memcpy(next.mac[next.n++], r.mac, 6);
	}
	f->ports[port].next = next;
	f->ports[port].pending = true;
	f->ports[port].completion = completion;
	vsw_defer(sw); /* taken on the next pass: fw_work */
	return VMB_STATUS_PENDING;
}

static void fw_work(void *ctx, struct vsw *sw)
{
	struct fw_switch *f = ctx;

	for (u32 i = 0; i < VSW_MAX_PORTS; i++) {
		struct fw_port *p = &f->ports[i];

		if (!p->pending)
			continue;
		p->rules = p->next;
		p->pending = false;
		vsw_notify_complete(sw, p->completion, VMB_STATUS_SUCCESS);
	}
}

static void fw_port_reset(void *ctx, struct vsw *sw, u32 port)
{
	struct fw_switch *f = ctx;

	(void)sw;
	if (port < VSW_MAX_PORTS)
		memset(&f->ports[port], 0, sizeof(f->ports[port]));
}

/* Bulkhead's own provider GUID for it (random, version 4). */
const struct vsw_ext_ops vsw_firewall_ops = {
    .provider =
	VMB_GUID(0x2b9e4d17, 0x8a63, 0x4f05, 0xb1, 0x7c, 0x3e, 0x02, 0x9d, 0x64, 0xa8, 0x5f),
    .name = "firewall",
    .frame = fw_frame,
    .save = fw_save,
    .restore = fw_restore,
    .work = fw_work,
    .port_reset = fw_port_reset,
};

static struct fw_switch *fw_of(struct vsw *sw)
{
	return &fw[vsw_index(sw)];
}

int vsw_firewall_allow(struct vsw *sw, u32 port, const u8 mac[6])
{
	struct fw_list *l;

	if (port >= VSW_MAX_PORTS || (mac[0] & 1))
		return -1;
	l = &fw_of(sw)->ports[port].rules;
	if (listed(l, mac))
		return 0;
	if (l->n == FW_RULES_MAX)
		return -1;
	memcpy(l->mac[l->n++], mac, 6);
	return 0;
}

void vsw_firewall_clear(struct vsw *sw, u32 port)
{
	if (port < VSW_MAX_PORTS)
		fw_of(sw)->ports[port].rules.n = 0;
}

unsigned vsw_firewall_rules(struct vsw *sw, u32 port, u8 (*macs)[6], unsigned max)
{
	const struct fw_list *l;
	unsigned n;

	if (port >= VSW_MAX_PORTS)
		return 0;
	l = &fw_of(sw)->ports[port].rules;
	n = MIN(l->n, max);
	for (unsigned i = 0; i < n; i++)
		memcpy(macs[i], l->mac[i], 6);
	return n;
}
