/*
 * The VMBus server in a partition: the "vmbus" partition extension
 * (kernel/ext.h) creates a partition's bus and, through the VSP door
 * (vsp.c), the VSPs its configuration's `vmbus =` list names; it connects
 * the bus to the partition's SynIC and memory and to the guest's
 * HvPostMessage / HvSignalEvent connections; and the console command
 * `channels P` lists the bus's channels.
 */
#include "vmbus/part.h"
#include "vmbus/vmbus.h"
#include "kernel/con.h"
#include "kernel/ext.h"
#include "kernel/part.h"

#include <stdio.h>
#include <string.h>

#define GUID_TEXT 37

static struct vmb_bus *bus_of(const struct partition *p)
{
	const struct vmbus_part *vp = p->vmbus;

	return vp ? vp->bus : NULL;
}

/* ---- what the bus needs from the partition ---- */

static void *host_page(void *ctx, u64 gpa)
{
	if (gpa & ~PAGE_MASK)
		return NULL;
	return part_gpa_to_hva(ctx, gpa, PAGE_SIZE);
}

static int host_post(void *ctx, const void *msg, u32 size)
{
	struct partition *p = ctx;
	struct hv_message m;

	if (size > HV_MESSAGE_PAYLOAD_MAX)
		return HV_STATUS_INVALID_PARAMETER;
	memset(&m, 0, sizeof(m));
	m.type = VMBUS_HV_MESSAGE_TYPE;
	m.payload_size = (u8)size;
	memcpy(m.payload, msg, size);
	return synic_post(&p->hv.synic, vmbus_message_sint(bus_of(p)), &m);
}

static void host_signal(void *ctx, u32 relid)
{
	struct partition *p = ctx;

	synic_signal(&p->hv.synic, VMBUS_SINT, relid);
}

/* ---- the guest's connections ---- */

static int port_post(void *ctx, u32 conn_id, u32 type, const void *payload, u32 size)
{
	struct partition *p = ctx;

	return vmbus_guest_post(bus_of(p), conn_id, type, payload, size);
}

static int port_signal(void *ctx, u32 conn_id, unsigned flag)
{
	struct partition *p = ctx;

	return vmbus_guest_signal(bus_of(p), conn_id, flag);
}

static int add_ports(struct partition *p)
{
	const struct hv_port ports[] = {
	    {VMBUS_CONN_MESSAGE, port_post, NULL, p, 1},
	    {VMBUS_CONN_MESSAGE_4, port_post, NULL, p, 1},
	    /* Channel relid n signals on VMBUS_CONN_CHANNEL_BASE + n (the offer says so). */
	    {VMBUS_CONN_CHANNEL_BASE + 1, NULL, port_signal, p, VMBUS_MAX_CHANNELS},
	};

	for (unsigned i = 0; i < ARRAY_SIZE(ports); i++)
		if (hv_port_add(p, &ports[i]))
			return -1;
	return 0;
}

/* ---- the extension ---- */

static void vmbus_part_destroy(struct partition *p)
{
	struct vmbus_part *vp = p->vmbus;

	if (!vp)
		return;
	vsp_destroy_all(vp);
	vmbus_destroy(vp->bus);
	pool_free(&p->pool, vp);
	p->vmbus = NULL;
}

static int vmbus_part_create(struct partition *p, const struct cfg_partition *c, char *err,
			     size_t errlen)
{
	const struct vmbus_host host = {host_page, host_post, host_signal, p, &p->pool};
	const struct cfg_value *list = cfg_get(&c->values, "vmbus");
	struct vmbus_part *vp;

	if (!vsp_wanted(c))
		return 0;
	vp = pool_zalloc(&p->pool, sizeof(*vp));
	if (vp)
		vp->bus = vmbus_create(&host, p->name);
	if (!vp || !vp->bus) {
		pool_free(&p->pool, vp);
		snprintf(err, errlen, "vmbus: out of device memory (device_memory = %lluK)",
			 (unsigned long long)(p->pool.size >> 10));
		return -1;
	}
	vp->part = p;
	p->vmbus = vp;
	if (vsp_create_all(vp, list, err, errlen))
		goto fail;
	if (add_ports(p)) {
		snprintf(err, errlen, "vmbus: its connection ids are taken");
		goto fail;
	}
	return 0;
fail:
	vmbus_part_destroy(p);
	return -1;
}

static void vmbus_part_reset(struct partition *p)
{
	struct vmbus_part *vp = p->vmbus;

	if (!vp)
		return;
	vmbus_reset(vp->bus);
	vsp_reset_all(vp);
}

static void vmbus_part_poll(struct partition *p)
{
	struct vmbus_part *vp = p->vmbus;

	if (!vp)
		return;
	vmbus_poll(vp->bus);
	vsp_work_all(vp);
}

/* A snapshot of the partition's VMBus: the bus with its channels, then the VSPs' own state. */
struct vmbus_part_snap {
	struct pool *pool;
	void *bus;
	void *vsps;
};

static void vmbus_part_snap_drop(void *state)
{
	struct vmbus_part_snap *s = state;

	if (!s)
		return;
	vmbus_snap_drop(s->bus);
	vsp_drop_all(s->vsps);
	pool_free(s->pool, s);
}

static void *vmbus_part_snap_save(struct partition *p, char *err, size_t errlen)
{
	struct vmbus_part *vp = p->vmbus;
	struct vmbus_part_snap *s;

	if (!vp)
		return NULL;
	s = pool_zalloc(&p->pool, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "vmbus: out of memory");
		return NULL;
	}
	s->pool = &p->pool;
	s->bus = vmbus_snap_save(vp->bus, err, errlen);
	if (s->bus)
		s->vsps = vsp_save_all(vp, err, errlen);
	if (!s->bus || !s->vsps) {
		vmbus_part_snap_drop(s);
		return NULL;
	}
	return s;
}

/*
 * The bus, its channels and every VSP's state: checked (apply false,
 * nothing changes) or restored.
 */
static int vmbus_part_snap_load(struct partition *p, const void *state, bool apply, char *err,
				size_t errlen)
{
	struct vmbus_part *vp = p->vmbus;
	const struct vmbus_part_snap *s = state;

	if (!vp)
		return 0;
	if (!s) {
		snprintf(err, errlen, "vmbus: the snapshot has no VMBus state");
		return -1;
	}
	if (apply ? vmbus_snap_restore(vp->bus, s->bus, err, errlen)
		  : vmbus_snap_check(vp->bus, s->bus, err, errlen))
		return -1;
	return apply ? vsp_restore_all(vp, s->vsps, err, errlen)
		     : vsp_check_all(vp, s->vsps, err, errlen);
}

static int vmbus_part_snap_check(struct partition *p, const void *state, char *err, size_t errlen)
{
	return vmbus_part_snap_load(p, state, false, err, errlen);
}

static int vmbus_part_snap_restore(struct partition *p, const void *state, char *err, size_t errlen)
{
	return vmbus_part_snap_load(p, state, true, err, errlen);
}

PART_EXT(vmbus_ext) = {
    .name = "vmbus",
    .boot = vsp_boot_all,
    .create = vmbus_part_create,
    .destroy = vmbus_part_destroy,
    .reset = vmbus_part_reset,
    .poll = vmbus_part_poll,
    .snap_save = vmbus_part_snap_save,
    .snap_check = vmbus_part_snap_check,
    .snap_restore = vmbus_part_snap_restore,
    .snap_drop = vmbus_part_snap_drop,
};

/* ---- console ---- */

/* The usual text form, as Linux prints class_id (%pUl). */
static void guid_text(const struct vmb_guid *g, char out[GUID_TEXT])
{
	snprintf(out, GUID_TEXT, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", g->data1,
		 g->data2, g->data3, g->data4[0], g->data4[1], g->data4[2], g->data4[3],
		 g->data4[4], g->data4[5], g->data4[6], g->data4[7]);
}

static void cmd_channels(int argc, char **argv)
{
	struct partition *p = con_arg_partition(argc, argv, "channels PARTITION");
	struct vmbus_channel_info ci;
	char type[GUID_TEXT], inst[GUID_TEXT];
	struct vmb_bus *bus;
	u32 v;

	if (!p)
		return;
	bus = bus_of(p);
	if (!bus) {
		con_printf("error: partition %s has no VMBus (no `vmbus =` in its config)\n",
			   p->name);
		return;
	}
	v = vmbus_version(bus);
	if (v)
		con_printf("vmbus partition=%s version=%u.%u channels=%u\n", p->name, v >> 16,
			   v & 0xffff, vmbus_nr_channels(bus));
	else
		con_printf("vmbus partition=%s version=none channels=%u\n", p->name,
			   vmbus_nr_channels(bus));
	for (unsigned i = 0; !vmbus_channel_info(bus, i, &ci); i++) {
		guid_text(&ci.type, type);
		guid_text(&ci.instance, inst);
		con_printf("channel relid=%u type=%s instance=%s state=%s name=%s in=%u/%u "
			   "out=%u/%u packets_in=%llu packets_out=%llu\n",
			   ci.relid, type, inst, ci.state, ci.name[0] ? ci.name : "-", ci.in_used,
			   ci.in_size, ci.out_used, ci.out_size, (unsigned long long)ci.packets_in,
			   (unsigned long long)ci.packets_out);
	}
}

CON_COMMAND(channels_cmd) = {"channels", cmd_channels,
			     "channels P           list P's VMBus channels"};
