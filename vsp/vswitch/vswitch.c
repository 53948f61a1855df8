/*
 * The virtual switch's data path (vswitch.h, docs/vswitch.md): ports, MAC
 * learning with aging, flooding, the bounded per-port queues with their
 * per-sender share, the extensions in order, and a port's runtime-state
 * save and restore.
 */
#include "vsp/vswitch/vswitch.h"

#include <stdio.h>
#include <string.h>

/* One frame, in the sender's memory, queued for refs ports. */
struct vsw_frame {
	struct vsw_endpoint ep; /* the sender's, whose free gives it back */
	u32 src;		/* the sender's port id */
	u32 refs;
	u32 len;
	u8 data[] __aligned(8);
};

/* A restore's completion context: one per segment of a port's restore. */
struct vsw_completion {
	bool busy;
};

struct vsw_port {
	bool used;
	u32 id;
	struct vsw *sw;
	char partition[CFG_NAME_MAX + 1];
	u32 partition_index, nic;
	u8 mac[6];
	bool link_up;
	enum vsw_port_state state;
	struct vsw_endpoint ep;
	struct vsw_counters c;
	struct vsw_frame *q[VSW_QUEUE_MAX]; /* a ring: q_len frames from q_head */
	unsigned q_head, q_len;
	u16 held[VSW_MAX_PORTS]; /* frames in q from each sender */
	unsigned pending;	 /* restores answered PENDING, not yet completed */
	bool beginning;		 /* inside vsw_port_restore_begin: it finishes the restore */
	vmb_status restore_status;
	struct vsw_completion comp[VSW_MAX_SEGMENTS];
};

struct vsw_mac {
	bool used;
	u8 mac[6];
	u32 port;
	u64 seen_ns;
};

struct vsw_ext {
	const struct vsw_ext_ops *ops;
	void *ctx;
};

struct vsw {
	bool used;
	unsigned index;
	char name[CFG_NAME_MAX + 1];
	unsigned max_ports, queue;
	u64 age_ns;
	bool deferred;
	unsigned nr_ext;
	struct vsw_ext ext[VSW_MAX_EXT];
	struct vsw_port ports[VSW_MAX_PORTS];
	struct vsw_mac macs[VSW_MAC_TABLE];
};

static struct vsw switches[VSW_MAX_SWITCHES];
static u8 blob_scratch[VSW_BLOB_MAX]; /* one extension's save at a time */

/* ---- switches ---- */

struct vsw *vsw_find(const char *name)
{
	for (unsigned i = 0; i < VSW_MAX_SWITCHES; i++)
		if (switches[i].used && !strcmp(switches[i].name, name))
			return &switches[i];
	return NULL;
}

const char *vsw_name(const struct vsw *sw)
{
	return sw->name;
}

unsigned vsw_max_ports(const struct vsw *sw)
{
	return sw->max_ports;
}

unsigned vsw_index(const struct vsw *sw)
{
	return sw->index;
}

struct vsw *vsw_make(const char *name, unsigned max_ports, unsigned queue, u64 age_ns)
{
	for (unsigned i = 0; i < VSW_MAX_SWITCHES; i++) {
		struct vsw *sw = &switches[i];

		if (sw->used)
			continue;
		memset(sw, 0, sizeof(*sw));
		sw->used = true;
		sw->index = i;
		strncpy(sw->name, name, CFG_NAME_MAX);
		sw->max_ports = MIN(MAX(max_ports, 1u), (unsigned)VSW_MAX_PORTS);
		sw->queue = MIN(MAX(queue, 1u), (unsigned)VSW_QUEUE_MAX);
		sw->age_ns = age_ns;
		return sw;
	}
	return NULL;
}

void vsw_reset_all(void)
{
	memset(switches, 0, sizeof(switches));
}

int vsw_ext_register(struct vsw *sw, const struct vsw_ext_ops *ops, void *ctx)
{
	if (sw->nr_ext == VSW_MAX_EXT)
		return -1;
	for (unsigned i = 0; i < sw->nr_ext; i++)
		if (!memcmp(&sw->ext[i].ops->provider, &ops->provider, sizeof(ops->provider)))
			return -1; /* one extension per provider GUID */
	sw->ext[sw->nr_ext++] = (struct vsw_ext){ops, ctx};
	return 0;
}

unsigned vsw_ext_names(const struct vsw *sw, const char **names, unsigned max)
{
	unsigned n = MIN(sw->nr_ext, max);

	for (unsigned i = 0; i < n; i++)
		names[i] = sw->ext[i].ops->name;
	return n;
}

/* ---- ports ---- */

struct vsw_port *vsw_port_by_id(struct vsw *sw, u32 id)
{
	if (id >= sw->max_ports || !sw->ports[id].used)
		return NULL;
	return &sw->ports[id];
}

void vsw_port_describe(const struct vsw_port *p, const char **partition, u32 *nic, const u8 **mac)
{
	*partition = p->partition;
	*nic = p->nic;
	*mac = p->mac;
}

u32 vsw_port_id(const struct vsw_port *p)
{
	return p->id;
}

struct vsw *vsw_port_switch(struct vsw_port *p)
{
	return p->sw;
}

enum vsw_port_state vsw_port_state(const struct vsw_port *p)
{
	return p->state;
}

const struct vsw_counters *vsw_port_counters(const struct vsw_port *p)
{
	return &p->c;
}

void vsw_port_set_counters(struct vsw_port *p, const struct vsw_counters *c)
{
	p->c = *c;
}

static void frame_put(struct vsw_frame *f)
{
	if (--f->refs == 0)
		f->ep.free(f->ep.ctx, f);
}

/* Drop every frame queued for p; each counts as one of p's drops if `count`. */
static void queue_flush(struct vsw_port *p, bool count)
{
	while (p->q_len) {
		struct vsw_frame *f = p->q[p->q_head];

		p->q_head = (p->q_head + 1) % VSW_QUEUE_MAX;
		p->q_len--;
		p->held[f->src]--;
		if (count)
			p->c.drops++;
		frame_put(f);
	}
}

/* Drop the frames port `src` sent that wait in p's queue, keeping the others in order. */
static void queue_forget_sender(struct vsw_port *p, u32 src)
{
	unsigned kept = 0, n = p->q_len;

	for (unsigned i = 0; i < n; i++) {
		struct vsw_frame *f = p->q[(p->q_head + i) % VSW_QUEUE_MAX];

		if (f->src == src) {
			p->held[src]--;
			frame_put(f);
		} else {
			p->q[(p->q_head + kept++) % VSW_QUEUE_MAX] = f;
		}
	}
	p->q_len = kept;
}

static void ports_changed(struct vsw *sw, u32 id)
{
	for (unsigned i = 0; i < sw->nr_ext; i++)
		if (sw->ext[i].ops->port_reset)
			sw->ext[i].ops->port_reset(sw->ext[i].ctx, sw, id);
}

int vsw_port_attach(const char *name, const struct vsw_port_info *info,
		    const struct vsw_endpoint *ep, struct vsw_port **out, char *err, size_t errlen)
{
	struct vsw *sw = vsw_find(name);

	*out = NULL;
	if (!sw) {
		snprintf(err, errlen, "no switch named '%s'", name);
		return -1;
	}
	if (!ep->alloc || !ep->free) {
		snprintf(err, errlen, "switch %s: an endpoint without memory", name);
		return -1;
	}
	for (u32 id = 0; id < sw->max_ports; id++) {
		struct vsw_port *p = &sw->ports[id];

		if (p->used)
			continue;
		memset(p, 0, sizeof(*p));
		p->used = true;
		p->id = id;
		p->sw = sw;
		strncpy(p->partition, info->partition ? info->partition : "", CFG_NAME_MAX);
		p->partition_index = info->partition_index;
		p->nic = info->nic;
		memcpy(p->mac, info->mac, 6);
		p->link_up = info->link_up;
		p->state = info->link_up ? VSW_PORT_UP : VSW_PORT_DOWN;
		p->ep = *ep;
		ports_changed(sw, id);
		*out = p;
		return 0;
	}
	snprintf(err, errlen, "switch %s: all of its %u ports are in use", name, sw->max_ports);
	return -1;
}

void vsw_port_detach(struct vsw_port *p)
{
	struct vsw *sw = p->sw;

	queue_flush(p, false);
	for (u32 i = 0; i < sw->max_ports; i++)
		if (sw->ports[i].used && i != p->id)
			queue_forget_sender(&sw->ports[i], p->id);
	for (unsigned i = 0; i < VSW_MAC_TABLE; i++)
		if (sw->macs[i].used && sw->macs[i].port == p->id)
			sw->macs[i].used = false;
	ports_changed(sw, p->id);
	memset(p, 0, sizeof(*p)); /* its completions too: a late notify finds nothing */
}

void vsw_port_set_mac(struct vsw_port *p, const u8 mac[6])
{
	struct vsw *sw = p->sw;

	memcpy(p->mac, mac, 6);
	for (unsigned i = 0; i < VSW_MAC_TABLE; i++)
		if (sw->macs[i].used && sw->macs[i].port == p->id)
			sw->macs[i].used = false; /* relearned from its next frame */
}

void vsw_port_set_link(struct vsw_port *p, bool up)
{
	p->link_up = up;
	if (p->state == VSW_PORT_RESTORING)
		return;
	p->state = up ? VSW_PORT_UP : VSW_PORT_DOWN;
	if (!up)
		queue_flush(p, true);
}

/* ---- learning ---- */

static bool is_group(const u8 *mac)
{
	return mac[0] & 1; /* the I/G bit, IEEE 802-2014 8.2 */
}

static bool fresh(const struct vsw *sw, const struct vsw_mac *m, u64 now)
{
	return m->used && now - m->seen_ns < sw->age_ns;
}

static void learn(struct vsw *sw, const u8 *mac, u32 port, u64 now)
{
	struct vsw_mac *slot = NULL;

	for (unsigned i = 0; i < VSW_MAC_TABLE; i++) {
		struct vsw_mac *m = &sw->macs[i];

		if (m->used && !memcmp(m->mac, mac, 6)) {
			slot = m;
			break;
		}
		/* A free or stale entry, else the one heard least recently. */
		if (!slot || (slot->used && (!fresh(sw, m, now) || m->seen_ns < slot->seen_ns)))
			slot = m;
	}
	slot->used = true;
	memcpy(slot->mac, mac, 6);
	slot->port = port;
	slot->seen_ns = now;
}

static u32 lookup(struct vsw *sw, const u8 *mac, u64 now)
{
	for (unsigned i = 0; i < VSW_MAC_TABLE; i++) {
		struct vsw_mac *m = &sw->macs[i];

		if (m->used && !memcmp(m->mac, mac, 6)) {
			if (fresh(sw, m, now))
				return m->port;
			m->used = false; /* aged out */
			return VSW_PORT_NONE;
		}
	}
	return VSW_PORT_NONE;
}

/* ---- the data path ---- */

/* What one sender may hold of a receiver's queue: an equal part for each other port up. */
static unsigned share(const struct vsw *sw, u32 dst)
{
	unsigned senders = 0;

	for (u32 i = 0; i < sw->max_ports; i++)
		if (i != dst && sw->ports[i].used && sw->ports[i].state == VSW_PORT_UP)
			senders++;
	return MAX(sw->queue / MAX(senders, 1u), 1u);
}

/* May the frame go from src to dst? Counts dst's drop if not. */
static bool admit(struct vsw *sw, struct vsw_port *src, struct vsw_port *dst, const u8 *frame,
		  u32 len)
{
	for (unsigned i = 0; i < sw->nr_ext; i++) {
		const struct vsw_ext *x = &sw->ext[i];

		if (x->ops->frame && !x->ops->frame(x->ctx, sw, src->id, dst->id, frame, len)) {
			dst->c.drops++;
			return false;
		}
	}
	if (dst->q_len >= sw->queue || dst->held[src->id] >= share(sw, dst->id)) {
		dst->c.drops++;
		return false;
	}
	return true;
}

/* Learn the source of the switch's copy; its destinations, each admitted, into `to`. */
static unsigned route(struct vsw_port *p, const u8 *fr, u32 len, struct vsw_port **to)
{
	struct vsw *sw = p->sw;
	unsigned nr_to = 0;
	u64 now = vsp_now_ns();
	u32 dst;

	learn(sw, fr + 6, p->id, now);
	dst = is_group(fr) ? VSW_PORT_NONE : lookup(sw, fr, now);
	if (dst != VSW_PORT_NONE) {
		struct vsw_port *d = &sw->ports[dst];

		if (d == p)
			return 0; /* its own address: nowhere to go */
		if (d->state != VSW_PORT_UP)
			d->c.drops++;
		else if (admit(sw, p, d, fr, len))
			to[nr_to++] = d;
		return nr_to;
	}
	for (u32 i = 0; i < sw->max_ports; i++) {
		struct vsw_port *d = &sw->ports[i];

		if (d != p && d->used && d->state == VSW_PORT_UP && admit(sw, p, d, fr, len))
			to[nr_to++] = d;
	}
	return nr_to;
}

vmb_status vsw_send_from(struct vsw_port *p, u32 len, vsw_fill_fn fill, void *ctx)
{
	struct vsw_port *to[VSW_MAX_PORTS];
	struct vsw_frame *f;
	vmb_status st;
	unsigned nr_to;

	if (p->state != VSW_PORT_UP) {
		p->c.drops++;
		return VMB_STATUS_INVALID_DEVICE_STATE;
	}
	if (len < VSW_FRAME_MIN || len > VSW_FRAME_MAX) {
		p->c.drops++;
		return VMB_STATUS_INVALID_PARAMETER;
	}
	/*
	 * The one copy into the switch comes first: the frame may be in guest
	 * memory, and the switch and its extensions look only at this copy.
	 */
	f = p->ep.alloc(p->ep.ctx, sizeof(*f) + len);
	if (!f) {
		p->c.drops++;
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	}
	f->ep = p->ep;
	f->src = p->id;
	f->refs = 1;
	f->len = len;
	st = fill(ctx, f->data, len);
	if (st == VMB_STATUS_SUCCESS && memcmp(f->data + 6, p->mac, 6))
		st = VMB_STATUS_INVALID_PARAMETER; /* a source that is not its own: no spoofing */
	if (st != VMB_STATUS_SUCCESS) {
		p->c.drops++;
		frame_put(f);
		return st;
	}
	p->c.tx_packets++;
	p->c.tx_bytes += len;
	nr_to = route(p, f->data, len, to);
	f->refs = nr_to;
	if (!nr_to)
		f->ep.free(f->ep.ctx, f);
	for (unsigned i = 0; i < nr_to; i++) {
		struct vsw_port *d = to[i];

		d->q[(d->q_head + d->q_len++) % VSW_QUEUE_MAX] = f;
		d->held[p->id]++;
		d->c.rx_packets++;
		d->c.rx_bytes += len;
		if (d->q_len == 1 && d->ep.kick)
			d->ep.kick(d->ep.ctx);
	}
	return VMB_STATUS_SUCCESS;
}

static vmb_status fill_flat(void *ctx, void *dst, u32 len)
{
	memcpy(dst, ctx, len);
	return VMB_STATUS_SUCCESS;
}

vmb_status vsw_send(struct vsw_port *p, const void *frame, u32 len)
{
	return vsw_send_from(p, len, fill_flat, (void *)frame);
}

const void *vsw_port_peek(struct vsw_port *p, u32 *len)
{
	struct vsw_frame *f;

	*len = 0;
	if (!p->q_len || p->state != VSW_PORT_UP)
		return NULL;
	f = p->q[p->q_head];
	*len = f->len;
	return f->data;
}

void vsw_port_pop(struct vsw_port *p)
{
	struct vsw_frame *f;

	if (!p->q_len)
		return;
	f = p->q[p->q_head];
	p->q_head = (p->q_head + 1) % VSW_QUEUE_MAX;
	p->q_len--;
	p->held[f->src]--;
	frame_put(f);
}

void vsw_defer(struct vsw *sw)
{
	sw->deferred = true;
	for (u32 i = 0; i < sw->max_ports; i++)
		if (sw->ports[i].used && sw->ports[i].ep.kick)
			sw->ports[i].ep.kick(sw->ports[i].ep.ctx);
}

void vsw_poll(struct vsw *sw)
{
	if (!sw->deferred)
		return;
	sw->deferred = false; /* work may defer again */
	for (unsigned i = 0; i < sw->nr_ext; i++)
		if (sw->ext[i].ops->work)
			sw->ext[i].ops->work(sw->ext[i].ctx, sw);
}

/* ---- runtime state ---- */

vmb_status vsw_port_save(struct vsw_port *p, void *buf, u32 size, u32 *needed)
{
	struct vsw *sw = p->sw;
	u8 *out = buf;
	u32 at = sizeof(struct vsw_saved_head);

	for (unsigned pass = 0; pass < 2; pass++) {
		at = sizeof(struct vsw_saved_head);
		for (unsigned i = 0; i < sw->nr_ext; i++) {
			const struct vsw_ext *x = &sw->ext[i];
			u32 len = 0;
			vmb_status st = VMB_STATUS_SUCCESS;

			if (x->ops->save)
				st = x->ops->save(x->ctx, sw, p->id, blob_scratch, VSW_BLOB_MAX,
						  &len);
			if (st != VMB_STATUS_SUCCESS)
				return st;
			if (len > VSW_BLOB_MAX)
				return VMB_STATUS_DATA_ERROR;
			if (pass) {
				struct vsw_saved_segment s = {x->ops->provider, len, 0};

				memcpy(out + at, &s, sizeof(s));
				memcpy(out + at + sizeof(s), blob_scratch, len);
				memset(out + at + sizeof(s) + len, 0, ALIGN_UP(len, 8) - len);
			}
			at += sizeof(struct vsw_saved_segment) + (u32)ALIGN_UP(len, 8);
		}
		*needed = at;
		if (!pass && size < at)
			return VMB_STATUS_BUFFER_TOO_SMALL;
	}
	{
		struct vsw_saved_head h = {VSW_SAVED_MAGIC,
					   VSW_SAVED_VERSION,
					   sizeof(struct vsw_saved_head),
					   at,
					   (u16)sw->nr_ext,
					   0};

		memcpy(out, &h, sizeof(h));
	}
	return VMB_STATUS_SUCCESS;
}

vmb_status vsw_state_check(const void *buf, u32 size)
{
	return vsw_state_parse(buf, size, NULL, NULL);
}

static void finish_restore(struct vsw_port *p)
{
	vsp_printf("vswitch: switch %s port %u: runtime state restored (status 0x%08x)\n",
		   p->sw->name, p->id, p->restore_status);
	p->state = p->link_up ? VSW_PORT_UP : VSW_PORT_DOWN;
	if (p->ep.kick)
		p->ep.kick(p->ep.ctx); /* it may tell its guest the link is up */
}

struct restore_walk {
	struct vsw_port *port;
	unsigned n; /* segments handed out */
};

static void print_guid(const struct vmb_guid *g)
{
	vsp_printf("%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", g->data1, g->data2, g->data3,
		   g->data4[0], g->data4[1], g->data4[2], g->data4[3], g->data4[4], g->data4[5],
		   g->data4[6], g->data4[7]);
}

static int restore_segment(void *ctx, const struct vmb_guid *provider, const void *blob, u32 len)
{
	struct restore_walk *w = ctx;
	struct vsw_port *p = w->port;
	struct vsw *sw = p->sw;
	const struct vsw_ext *x = NULL;
	struct vsw_completion *c = &p->comp[w->n++];
	vmb_status st;

	for (unsigned i = 0; i < sw->nr_ext && !x; i++)
		if (!memcmp(&sw->ext[i].ops->provider, provider, sizeof(*provider)))
			x = &sw->ext[i];
	if (!x || !x->ops->restore) {
		vsp_printf("vswitch: switch %s port %u: runtime state of provider {", sw->name,
			   p->id);
		print_guid(provider);
		vsp_printf("} has no extension to take it; skipped\n");
		return 0;
	}
	c->busy = true;
	p->pending++;
	st = x->ops->restore(x->ctx, c, VSW_EVENT_RESTORE, sw, p->id, blob, len);
	if (st == VMB_STATUS_PENDING)
		return 0;
	if (c->busy) { /* it did not complete it from inside */
		c->busy = false;
		p->pending--;
	}
	if (st != VMB_STATUS_SUCCESS && p->restore_status == VMB_STATUS_SUCCESS) {
		p->restore_status = st;
		vsp_printf("vswitch: switch %s port %u: extension %s refused its runtime state "
			   "(status 0x%08x)\n",
			   sw->name, p->id, x->ops->name, st);
	}
	return 0;
}

vmb_status vsw_port_restore_begin(struct vsw_port *p, const void *buf, u32 size)
{
	struct restore_walk w = {p, 0};
	vmb_status st;

	if (p->state == VSW_PORT_RESTORING)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	st = vsw_state_check(buf, size);
	if (st != VMB_STATUS_SUCCESS)
		return st;
	queue_flush(p, false);
	p->state = VSW_PORT_RESTORING;
	p->pending = 0;
	p->restore_status = VMB_STATUS_SUCCESS;
	memset(p->comp, 0, sizeof(p->comp));
	p->beginning = true;
	vsw_state_parse(buf, size, restore_segment, &w);
	p->beginning = false;
	if (!p->pending)
		finish_restore(p);
	else /* the port stays `restoring` until they call vsw_notify_complete */
		vsp_printf("vswitch: switch %s port %u: restoring, %u extension%s pending\n",
			   p->sw->name, p->id, p->pending, p->pending == 1 ? "" : "s");
	return VMB_STATUS_SUCCESS;
}

vmb_status vsw_port_restore_status(const struct vsw_port *p)
{
	return p->state == VSW_PORT_RESTORING ? VMB_STATUS_PENDING : p->restore_status;
}

void vsw_notify_complete(struct vsw *sw, void *completion, vmb_status status)
{
	for (u32 i = 0; i < sw->max_ports; i++) {
		struct vsw_port *p = &sw->ports[i];

		for (unsigned k = 0; k < VSW_MAX_SEGMENTS; k++) {
			if (completion != &p->comp[k] || !p->comp[k].busy)
				continue;
			p->comp[k].busy = false;
			if (status != VMB_STATUS_SUCCESS && p->restore_status == VMB_STATUS_SUCCESS)
				p->restore_status = status;
			if (--p->pending == 0 && !p->beginning)
				finish_restore(p);
			return;
		}
	}
}
