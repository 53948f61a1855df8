/* The fake hypervisor and echo VSP of the VMBus fuzzers (fuzz_vmbus_host.h). */
#include "tests/fuzz/fuzz_vmbus_host.h"
#include "kernel/hv_defs.h"

#include <string.h>
#include <stdio.h>

#define FZ_MAX_CHANNELS 3
#define FZ_HELD		16

u8 fz_ram[FZ_RAM_PAGES][PAGE_SIZE] __attribute__((aligned(4096)));
int fz_post_status;
unsigned fz_posts, fz_signals;
u32 fz_last_type;
u8 fz_vsp_mode;

struct pool fz_pool;
u32 fz_pool_bytes = 24u << 10;
static u8 pool_mem[FZ_POOL_MAX] __attribute__((aligned(POOL_ALIGN)));
static struct pool sibling_pool;
static u8 sibling_mem[64u << 10] __attribute__((aligned(POOL_ALIGN)));
static struct vmb_bus *sibling;
static struct vmb_channel *sibling_ch;
static u64 sibling_used;

static struct vmb_channel *channels[FZ_MAX_CHANNELS];
static struct vmb_packet *held[FZ_HELD];
static unsigned nr_held;

void kprintf(const char *fmt, ...)
{
}

static void *page(void *ctx, u64 gpa)
{
	if (gpa & ~PAGE_MASK || gpa < FZ_RAM_BASE || gpa >= FZ_RAM_BASE + FZ_RAM_PAGES * PAGE_SIZE)
		return NULL;
	return fz_ram[(gpa - FZ_RAM_BASE) >> PAGE_SHIFT];
}

static int post(void *ctx, const void *msg, u32 size)
{
	if (size < sizeof(struct vmbus_msg_header) || size > VMBUS_MSG_MAX)
		__builtin_trap(); /* the server never posts a malformed message */
	if (fz_post_status != HV_STATUS_SUCCESS)
		return fz_post_status;
	fz_posts++;
	fz_last_type = ((const struct vmbus_msg_header *)msg)->type;
	return HV_STATUS_SUCCESS;
}

static void host_signal(void *ctx, u32 relid)
{
	if (!relid || relid > VMBUS_MAX_CHANNELS)
		__builtin_trap();
	fz_signals++;
}

struct vmbus_host fz_host(void)
{
	if (!fz_pool.base)
		pool_init(&fz_pool, pool_mem, MIN(fz_pool_bytes, FZ_POOL_MAX));
	return (struct vmbus_host){page, post, host_signal, NULL, &fz_pool};
}

/* Another partition's bus with one enabled channel, on its own pool. */
static void make_sibling(void)
{
	struct vmbus_host host = {page, post, host_signal, NULL, &sibling_pool};
	struct vmb_guid type = VMB_GUID(0xf0330000, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);

	pool_init(&sibling_pool, sibling_mem, sizeof(sibling_mem));
	sibling = vmbus_create(&host, "sibling");
	if (!sibling || vmb_channel_allocate(sibling, &sibling_ch) ||
	    vmb_server_channel_init_set_target_interface_id(sibling_ch, &type, &type) ||
	    vmb_channel_enable(sibling_ch))
		__builtin_trap();
	sibling_used = sibling_pool.used;
}

static void *hog;

void fz_begin_run(size_t size)
{
	u64 largest = pool_largest(&fz_pool), leave = (size % 32) * 128;

	if ((size & 1) && largest > leave)
		hog = pool_alloc(&fz_pool, largest - leave);
}

void fz_end_run(void)
{
	static u64 mark;
	struct vmb_packet *p;
	struct vmb_channel *ch;

	pool_free(&fz_pool, hog);
	hog = NULL;
	if (!mark)
		mark = fz_pool.used;
	if (fz_pool.used != mark || fz_pool.bad_frees)
		__builtin_trap(); /* a leak, or a free of something not allocated */
	if (!sibling)
		make_sibling();
	if (sibling_pool.used != sibling_used || sibling_pool.failures ||
	    vmb_packet_allocate(sibling_ch, &p) != VMB_STATUS_SUCCESS)
		__builtin_trap();
	vmb_packet_free(p);
	if (vmb_channel_allocate(sibling, &ch) != VMB_STATUS_SUCCESS)
		__builtin_trap();
	vmb_channel_cleanup(ch);
	if (sibling_pool.used != sibling_used)
		__builtin_trap();
}

u64 fz_pfn(unsigned page_index)
{
	return (FZ_RAM_BASE >> PAGE_SHIFT) + page_index;
}

static void process(struct vmb_channel *ch, struct vmb_packet *p, const void *buf, u32 len,
		    u32 flags)
{
	struct vmb_external_data ext;
	struct vmb_packet *out;
	u8 tmp[64];

	if (flags & VMB_PACKET_EXTERNAL_DATA) {
		vmb_packet_get_external_data(p, &ext);
		for (u32 i = 0; i < ext.nr_ranges; i++) {
			u32 n = MIN(ext.ranges[i].byte_count, (u32)sizeof(tmp));

			if (vmb_packet_read_external(p, i, ext.ranges[i].byte_count - n, tmp, n) ||
			    vmb_packet_write_external(p, i, 0, tmp, n))
				__builtin_trap(); /* inside the range: must work */
		}
	}
	switch (fz_vsp_mode % 5) {
	case 0:
		vmb_channel_packet_complete(p, buf, MIN(len, 32u));
		break;
	case 1:
		if (nr_held < FZ_HELD) {
			held[nr_held++] = p;
			vmb_channel_packet_defer(p);
		} else {
			vmb_channel_packet_fail(p);
		}
		break;
	case 2:
		vmb_channel_packet_fail(p);
		break;
	case 3:
		if (vmb_packet_allocate(ch, &out) == VMB_STATUS_SUCCESS &&
		    vmb_packet_send(out, buf, MIN(len, 64u), NULL,
				    len & 1 ? VMB_SEND_COMPLETION_REQUESTED : 0) !=
			VMB_STATUS_SUCCESS)
			vmb_packet_free(out);
		vmb_channel_packet_complete(p, NULL, 0);
		break;
	default:
		vmb_channel_packet_complete(p, NULL, 0);
		if (len & 2)
			vmb_channel_pause(ch);
		break;
	}
}

static void closed(struct vmb_channel *ch)
{
	/* In-use packets are gone: forget those of this channel. */
	unsigned k = 0;

	for (unsigned i = 0; i < nr_held; i++)
		if (vmb_packet_get_channel(held[i]) != ch)
			held[k++] = held[i];
	nr_held = k;
}

void fz_vsp_finish(void)
{
	for (unsigned i = 0; i < nr_held; i++)
		vmb_channel_packet_complete(held[i], "late", 4);
	nr_held = 0;
}

static u32 external_limit;

static void make_channel(struct vmb_bus *bus, unsigned i)
{
	static const struct vmb_state_callbacks cb = {.closed = closed};
	struct vmb_guid type = VMB_GUID(0xf0220000 + i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	struct vmb_channel *ch;

	if (vmb_channel_allocate(bus, &ch) ||
	    vmb_server_channel_init_set_target_interface_id(ch, &type, &type) ||
	    vmb_channel_init_set_process_packet_callbacks(ch, process, NULL) ||
	    vmb_channel_init_set_state_change_callbacks(ch, &cb) ||
	    vmb_channel_init_set_maximum_external_data(ch, external_limit))
		__builtin_trap();
	/* May fail: every relid taken by rescinded channels the guest has not released. */
	vmb_channel_enable(ch);
	channels[i] = ch;
}

struct vmb_bus *fz_bus(unsigned nr, u32 max_external)
{
	const struct vmbus_host host = fz_host();
	struct vmb_bus *bus = vmbus_create(&host, "fuzz");

	/* Start rate limited: most log lines are then counted, not formatted (speed). */
	bus->logged = VMBUS_LOG_BURST;
	fz_post_status = HV_STATUS_SUCCESS;
	fz_posts = fz_signals = 0;
	fz_vsp_mode = 0;
	nr_held = 0;
	external_limit = max_external;
	for (unsigned i = 0; i < nr && i < FZ_MAX_CHANNELS; i++)
		make_channel(bus, i);
	return bus;
}

void fz_recreate(struct vmb_bus *bus, unsigned i)
{
	struct vmb_channel *ch = fz_channel(i);

	closed(ch); /* cleanup frees what the VSP holds without telling it */
	vmb_channel_cleanup(ch);
	make_channel(bus, i % FZ_MAX_CHANNELS);
}

void fz_rewind(struct vmb_bus *bus, unsigned nr)
{
	vmbus_reset(bus);
	bus->logged = VMBUS_LOG_BURST;
	fz_post_status = HV_STATUS_SUCCESS;
	fz_vsp_mode = 0;
	for (unsigned i = 0; i < nr && i < FZ_MAX_CHANNELS; i++) {
		struct vmb_channel *ch = channels[i];

		if (ch->offer != OFFER_NONE || ch->gpadls || ch->open)
			__builtin_trap(); /* a reset leaves nothing of the guest's */
		if (!ch->enabled)
			vmb_channel_enable(ch);
		vmb_channel_start(ch);
	}
}

struct vmb_channel *fz_channel(unsigned i)
{
	return channels[i % FZ_MAX_CHANNELS];
}

int fz_post(struct vmb_bus *bus, const void *msg, u32 size)
{
	return vmbus_guest_post(bus, VMBUS_CONN_MESSAGE_4, VMBUS_HV_MESSAGE_TYPE, msg, size);
}

void fz_connect(struct vmb_bus *bus)
{
	struct vmbus_msg_initiate_contact m = {{VMBUS_MSG_INITIATE_CONTACT, 0}, VMBUS_VERSION_V5_3};
	struct vmbus_msg_header r = {VMBUS_MSG_REQUESTOFFERS, 0};

	m.msg_sint = VMBUS_SINT;
	fz_post(bus, &m, sizeof(m));
	fz_post(bus, &r, sizeof(r));
}

void fz_gpadl(struct vmb_bus *bus, u32 relid, u32 id, unsigned first, unsigned n)
{
	u8 buf[VMBUS_MSG_MAX];
	struct vmbus_msg_gpadl_header *h = (void *)buf;
	u64 w;

	memset(buf, 0, sizeof(buf));
	h->header.type = VMBUS_MSG_GPADL_HEADER;
	h->child_relid = relid;
	h->gpadl = id;
	h->range_count = 1;
	h->range_buflen = (u16)(8 + 8 * n);
	w = n * PAGE_SIZE;
	memcpy(h + 1, &w, 8);
	for (unsigned i = 0; i < n && i < 26; i++) {
		w = fz_pfn(first + i);
		memcpy((u8 *)(h + 1) + 8 + 8 * i, &w, 8);
	}
	fz_post(bus, buf, (u32)(sizeof(*h) + 8 + 8 * MIN(n, 26u)));
}

void fz_open(struct vmb_bus *bus, u32 relid, u32 gpadl, u32 split)
{
	struct vmbus_msg_open o;

	memset(&o, 0, sizeof(o));
	o.header.type = VMBUS_MSG_OPENCHANNEL;
	o.child_relid = o.open_id = relid;
	o.ring_gpadl = gpadl;
	o.downstream_page_offset = split;
	fz_post(bus, &o, sizeof(o));
}
