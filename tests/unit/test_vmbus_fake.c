/*
 * The fake hypervisor and scripted guest of the VMBus tests (test_vmbus_fake.h).
 * The guest side follows Linux: drivers/hv/connection.c (INITIATE_CONTACT),
 * channel.c (create_gpadl_header's split into header and bodies, open),
 * ring_buffer.c (indices, trailer, pending_send_sz).
 */
#include "tests/unit/test_vmbus_fake.h"
#include "kernel/hv_defs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_host fh;
struct pool fake_pool;
static u8 pool_mem[FAKE_POOL_SIZE] __attribute__((aligned(POOL_ALIGN)));
static u8 ram_pages[FAKE_RAM_PAGES][PAGE_SIZE] __attribute__((aligned(4096)));
u8 (*fake_ram)[PAGE_SIZE] = ram_pages;

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fh.last_log, sizeof(fh.last_log), fmt, ap);
	va_end(ap);
	fh.nr_logs++;
	if (!fh.quiet)
		fprintf(stderr, "  log: %s", fh.last_log);
}

static void *fake_page(void *ctx, u64 gpa)
{
	if (gpa & ~PAGE_MASK || gpa < FAKE_RAM_BASE ||
	    gpa >= FAKE_RAM_BASE + FAKE_RAM_PAGES * PAGE_SIZE)
		return NULL;
	return ram_pages[(gpa - FAKE_RAM_BASE) >> PAGE_SHIFT];
}

static int fake_post(void *ctx, const void *msg, u32 size)
{
	if (fh.post_status != HV_STATUS_SUCCESS)
		return fh.post_status;
	if (fh.nr_msgs < FAKE_MAX_MSGS) {
		fh.msgs[fh.nr_msgs].size = size;
		memset(fh.msgs[fh.nr_msgs].data, 0, VMBUS_MSG_MAX);
		memcpy(fh.msgs[fh.nr_msgs].data, msg, size);
	}
	fh.nr_msgs++;
	return HV_STATUS_SUCCESS;
}

static void fake_signal(void *ctx, u32 relid)
{
	if (fh.nr_signals < FAKE_MAX_SIGNALS)
		fh.signals[fh.nr_signals] = relid;
	fh.nr_signals++;
}

void fake_reset(void)
{
	bool quiet = fh.quiet;

	memset(&fh, 0, sizeof(fh));
	fh.quiet = quiet;
	memset(ram_pages, 0, sizeof(ram_pages));
}

struct vmbus_host fake_vmbus_host_pool(struct pool *pool)
{
	return (struct vmbus_host){fake_page, fake_post, fake_signal, &fh, pool};
}

struct vmbus_host fake_vmbus_host(void)
{
	pool_init(&fake_pool, pool_mem, sizeof(pool_mem));
	return fake_vmbus_host_pool(&fake_pool);
}

u64 fake_gpa(unsigned page)
{
	return FAKE_RAM_BASE + (u64)page * PAGE_SIZE;
}

u64 fake_pfn(unsigned page)
{
	return fake_gpa(page) >> PAGE_SHIFT;
}

void *fake_page_ptr(unsigned page)
{
	return ram_pages[page];
}

/* ---- what the host sent ---- */

static u32 msg_type(const struct fake_msg *m)
{
	return ((const struct vmbus_msg_header *)m->data)->type;
}

unsigned fake_count(u32 type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < fh.nr_msgs && i < FAKE_MAX_MSGS; i++)
		n += msg_type(&fh.msgs[i]) == type;
	return n;
}

const void *fake_find(u32 type, unsigned n)
{
	for (unsigned i = 0; i < fh.nr_msgs && i < FAKE_MAX_MSGS; i++)
		if (msg_type(&fh.msgs[i]) == type && !n--)
			return fh.msgs[i].data;
	return NULL;
}

const void *fake_last(void)
{
	return fh.nr_msgs ? fh.msgs[MIN(fh.nr_msgs, FAKE_MAX_MSGS) - 1].data : NULL;
}

u32 fake_last_type(void)
{
	return fh.nr_msgs ? msg_type(&fh.msgs[MIN(fh.nr_msgs, FAKE_MAX_MSGS) - 1]) : 0;
}

/* ---- the guest's messages ---- */

int guest_post(struct vmb_bus *bus, const void *msg, u32 size)
{
	return vmbus_guest_post(bus, VMBUS_CONN_MESSAGE_4, VMBUS_HV_MESSAGE_TYPE, msg, size);
}

int guest_post_hdr(struct vmb_bus *bus, u32 type)
{
	struct vmbus_msg_header h = {type, 0};

	return guest_post(bus, &h, sizeof(h));
}

int guest_connect(struct vmb_bus *bus, u32 version)
{
	struct vmbus_msg_initiate_contact m;
	const struct vmbus_msg_version_response *r;
	unsigned before = fake_count(VMBUS_MSG_VERSION_RESPONSE);

	memset(&m, 0, sizeof(m));
	m.header.type = VMBUS_MSG_INITIATE_CONTACT;
	m.version = version;
	if (version >= VMBUS_VERSION_V5) {
		m.msg_sint = VMBUS_SINT;
	} else {
		m.interrupt_page = fake_gpa(0);
	}
	m.monitor_page1 = fake_gpa(1);
	m.monitor_page2 = fake_gpa(2);
	guest_post(bus, &m, sizeof(m));
	r = fake_find(VMBUS_MSG_VERSION_RESPONSE, before);
	return r ? r->version_supported : -1;
}

void guest_request_offers(struct vmb_bus *bus)
{
	guest_post_hdr(bus, VMBUS_MSG_REQUESTOFFERS);
}

/* The GPADL_CREATED for (relid, id) after message index from, or -1. */
static int created_status(unsigned from, u32 relid, u32 id)
{
	for (unsigned i = from; i < fh.nr_msgs && i < FAKE_MAX_MSGS; i++) {
		const struct vmbus_msg_gpadl_created *c = (const void *)fh.msgs[i].data;

		if (c->header.type == VMBUS_MSG_GPADL_CREATED && c->child_relid == relid &&
		    c->gpadl == id)
			return (int)c->status;
	}
	return -1;
}

int guest_gpadl_pfns(struct vmb_bus *bus, u32 relid, u32 id, const u64 *pfns, u32 n,
		     u32 byte_offset, u32 byte_count)
{
	u8 buf[VMBUS_MSG_MAX];
	struct vmbus_msg_gpadl_header *h = (void *)buf;
	struct vmbus_gpa_range *r = (void *)(h + 1);
	struct vmbus_msg_gpadl_body *b = (void *)buf;
	u32 first = (VMBUS_MSG_MAX - sizeof(*h) - sizeof(*r)) / sizeof(u64);
	u32 per_body = (VMBUS_MSG_MAX - sizeof(*b)) / sizeof(u64);
	unsigned from = fh.nr_msgs;
	u32 done;

	memset(buf, 0, sizeof(buf));
	h->header.type = VMBUS_MSG_GPADL_HEADER;
	h->child_relid = relid;
	h->gpadl = id;
	h->range_count = 1;
	h->range_buflen = (u16)(sizeof(*r) + n * sizeof(u64));
	r->byte_count = byte_count;
	r->byte_offset = byte_offset;
	done = MIN(n, first);
	memcpy(r + 1, pfns, done * sizeof(u64));
	guest_post(bus, buf, (u32)(sizeof(*h) + sizeof(*r) + done * sizeof(u64)));
	while (done < n) {
		u32 k = MIN(n - done, per_body);

		memset(buf, 0, sizeof(buf));
		b->header.type = VMBUS_MSG_GPADL_BODY;
		b->gpadl = id;
		memcpy(b + 1, pfns + done, k * sizeof(u64));
		guest_post(bus, buf, (u32)(sizeof(*b) + k * sizeof(u64)));
		done += k;
	}
	return created_status(from, relid, id);
}

int guest_gpadl(struct vmb_bus *bus, u32 relid, u32 id, unsigned first, unsigned n)
{
	u64 pfns[FAKE_RAM_PAGES];

	for (unsigned i = 0; i < n; i++)
		pfns[i] = fake_pfn(first + i);
	return guest_gpadl_pfns(bus, relid, id, pfns, n, 0, n * (u32)PAGE_SIZE);
}

int guest_open(struct vmb_bus *bus, u32 relid, u32 gpadl, u32 split)
{
	struct vmbus_msg_open o;
	unsigned from = fh.nr_msgs;

	memset(&o, 0, sizeof(o));
	o.header.type = VMBUS_MSG_OPENCHANNEL;
	o.child_relid = relid;
	o.open_id = relid;
	o.ring_gpadl = gpadl;
	o.downstream_page_offset = split;
	guest_post(bus, &o, sizeof(o));
	for (unsigned i = from; i < fh.nr_msgs && i < FAKE_MAX_MSGS; i++) {
		const struct vmbus_msg_open_result *r = (const void *)fh.msgs[i].data;

		if (r->header.type == VMBUS_MSG_OPENCHANNEL_RESULT && r->child_relid == relid)
			return (int)r->status;
	}
	return -1;
}

void guest_close(struct vmb_bus *bus, u32 relid)
{
	struct vmbus_msg_relid c = {{VMBUS_MSG_CLOSECHANNEL, 0}, relid};

	guest_post(bus, &c, sizeof(c));
}

int guest_teardown(struct vmb_bus *bus, u32 relid, u32 gpadl)
{
	struct vmbus_msg_gpadl_teardown t = {{VMBUS_MSG_GPADL_TEARDOWN, 0}, relid, gpadl};
	unsigned from = fh.nr_msgs;

	guest_post(bus, &t, sizeof(t));
	for (unsigned i = from; i < fh.nr_msgs && i < FAKE_MAX_MSGS; i++) {
		const struct vmbus_msg_gpadl_torndown *d = (const void *)fh.msgs[i].data;

		if (d->header.type == VMBUS_MSG_GPADL_TORNDOWN && d->gpadl == gpadl)
			return 1;
	}
	return 0;
}

void guest_release(struct vmb_bus *bus, u32 relid)
{
	struct vmbus_msg_relid r = {{VMBUS_MSG_RELID_RELEASED, 0}, relid};

	guest_post(bus, &r, sizeof(r));
}

/* ---- rings ---- */

static void ring_setup(struct guest_ring *r, unsigned first, unsigned n)
{
	r->ctl = fake_page_ptr(first);
	memset(r->ctl, 0, PAGE_SIZE);
	r->ctl->feature_bits = VMBUS_RING_FEATURE_PENDING_SEND_SZ;
	r->data = fake_page_ptr(first + 1);
	r->size = (n - 1) * (u32)PAGE_SIZE;
}

void guest_rings(struct guest_chan *gc, unsigned first, unsigned n, unsigned split)
{
	ring_setup(&gc->out, first, split);
	ring_setup(&gc->in, first + split, n - split);
}

int guest_open_channel(struct vmb_bus *bus, struct guest_chan *gc, u32 relid, u32 gpadl,
		       unsigned first, unsigned n, unsigned split)
{
	if (!vmbus_version(bus)) {
		guest_connect(bus, VMBUS_VERSION_V5_3);
		guest_request_offers(bus);
	}
	if (guest_gpadl(bus, relid, gpadl, first, n) != 0)
		return -1;
	guest_rings(gc, first, n, split);
	return guest_open(bus, relid, gpadl, split);
}

static void ring_put(struct guest_ring *r, u32 *pos, const void *src, u32 len)
{
	const u8 *s = src;

	for (u32 i = 0; i < len; i++) {
		r->data[*pos] = s[i];
		*pos = (*pos + 1) % r->size;
	}
}

static void ring_get(const struct guest_ring *r, u32 *pos, void *dst, u32 len)
{
	u8 *d = dst;

	for (u32 i = 0; i < len; i++) {
		d[i] = r->data[*pos];
		*pos = (*pos + 1) % r->size;
	}
}

int guest_write(struct guest_ring *r, u16 type, u16 flags, u64 trans_id, const void *extra,
		u32 extra_len, const void *data, u32 len)
{
	struct vmbus_packet_desc d = {type, 0, 0, flags, trans_id};
	u32 hdr = (u32)sizeof(d) + extra_len, total = hdr + len;
	u32 aligned = (u32)ALIGN_UP(total, 8), w = r->ctl->write_index, start = w;
	u32 used = (w + r->size - r->ctl->read_index) % r->size;
	u64 zero = 0, trailer = (u64)start << 32;

	if (r->size - used <= aligned + 8)
		return -1;
	d.offset8 = (u16)(hdr / 8);
	d.len8 = (u16)(aligned / 8);
	ring_put(r, &w, &d, sizeof(d));
	ring_put(r, &w, extra, extra_len);
	ring_put(r, &w, data, len);
	ring_put(r, &w, &zero, aligned - total);
	ring_put(r, &w, &trailer, sizeof(trailer));
	r->ctl->write_index = w;
	return 0;
}

int guest_read(struct guest_ring *r, struct vmbus_packet_desc *d, void *buf, u32 size, u32 *len)
{
	u32 pos = r->ctl->read_index;

	if (pos == r->ctl->write_index)
		return -1;
	ring_get(r, &pos, d, sizeof(*d));
	*len = d->len8 * 8u;
	pos = r->ctl->read_index;
	ring_get(r, &pos, buf, MIN(*len, size));
	r->ctl->read_index = (r->ctl->read_index + *len + 8) % r->size;
	return 0;
}

int guest_signal(struct vmb_bus *bus, u32 relid)
{
	return vmbus_guest_signal(bus, VMBUS_CONN_CHANNEL_BASE + relid, 0);
}
