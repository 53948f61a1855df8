/*
 * Budgets (docs/architecture.md, "What a partition may consume"): two
 * partitions' buses, each on a pool of its own. What a guest does to its
 * bus (GPADL headers without bodies, a ring it never drains while asking
 * for completions, more channels than its pool holds) stays inside its
 * pool, is refused with the protocol's statuses, and leaves the other bus
 * working. Also the cap on GPADL bytes being assembled.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_vmbus_fake.h"

#define RING_GPADL 0x100
#define RING_PAGES 4 /* split 2: one data page each way */
#define RING_SPLIT 2
#define A_RING	   8 /* fake RAM pages of each bus's first ring */
#define B_RING	   16
#define POOL_SIZE  (512u << 10)

static u8 mem_a[POOL_SIZE] __attribute__((aligned(POOL_ALIGN)));
static u8 mem_b[POOL_SIZE] __attribute__((aligned(POOL_ALIGN)));
static struct pool pool_a, pool_b;
static struct vmbus_host host_a, host_b;
static struct vmb_bus *bus_a, *bus_b;
static unsigned exhausted_a, exhausted_b;
static unsigned completions;

static const struct vmb_guid TYPE = VMB_GUID(0x0b0d6e70, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);

static void on_exhausted(struct pool *pool, size_t want, void *ctx)
{
	(*(unsigned *)ctx)++;
}

/* The VSP answers every packet at once with 16 bytes. */
static void process(struct vmb_channel *ch, struct vmb_packet *p, const void *buf, u32 len,
		    u32 flags)
{
	static const u8 reply[16] = "sixteen bytes..";

	if (vmb_channel_packet_complete(p, reply, sizeof(reply)) == VMB_STATUS_SUCCESS)
		completions++;
}

static struct vmb_channel *add_channel(struct vmb_bus *bus, u32 n)
{
	struct vmb_guid inst = VMB_GUID(0x1a570000 + n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	struct vmb_channel *ch;

	if (vmb_channel_allocate(bus, &ch) != VMB_STATUS_SUCCESS)
		return NULL;
	assert_int_equal(vmb_server_channel_init_set_target_interface_id(ch, &TYPE, &inst), 0);
	assert_int_equal(vmb_channel_init_set_process_packet_callbacks(ch, process, NULL), 0);
	assert_int_equal(vmb_channel_enable(ch), 0);
	return ch;
}

static int setup(void **state)
{
	fh.quiet = true;
	fake_reset();
	pool_init(&pool_a, mem_a, sizeof(mem_a));
	pool_init(&pool_b, mem_b, sizeof(mem_b));
	pool_a.exhausted = pool_b.exhausted = on_exhausted;
	pool_a.ctx = &exhausted_a;
	pool_b.ctx = &exhausted_b;
	exhausted_a = exhausted_b = completions = 0;
	host_a = fake_vmbus_host_pool(&pool_a);
	host_b = fake_vmbus_host_pool(&pool_b);
	bus_a = vmbus_create(&host_a, "a");
	bus_b = vmbus_create(&host_b, "b");
	assert_non_null(bus_a);
	assert_non_null(bus_b);
	assert_non_null(add_channel(bus_a, 0));
	assert_non_null(add_channel(bus_b, 0));
	return 0;
}

static int teardown(void **state)
{
	vmbus_destroy(bus_a);
	vmbus_destroy(bus_b);
	assert_int_equal(pool_a.used, 0);
	assert_int_equal(pool_b.used, 0);
	assert_int_equal(pool_a.bad_frees + pool_b.bad_frees, 0);
	pool_clear(&pool_a);
	pool_clear(&pool_b);
	return 0;
}

/* The sibling's guest opens a channel and exchanges a packet: it is unaffected. */
static void sibling_works(void)
{
	struct guest_chan gc;
	struct vmbus_packet_desc d;
	u8 buf[64];
	u32 len;
	unsigned before = completions;

	fh.nr_msgs = 0;
	assert_int_equal(
	    guest_open_channel(bus_b, &gc, 1, RING_GPADL, B_RING, RING_PAGES, RING_SPLIT), 0);
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_DATA_INBAND,
				     VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 5, NULL, 0, "ping", 4),
			 0);
	guest_signal(bus_b, 1);
	assert_int_equal(completions, before + 1);
	assert_int_equal(guest_read(&gc.in, &d, buf, sizeof(buf), &len), 0);
	assert_int_equal(d.type, VMBUS_PKT_COMP);
	assert_int_equal(d.trans_id, 5);
	assert_int_equal(exhausted_b, 0);
}

/* A GPADL_HEADER announcing the largest buffer (range_buflen 0xfff8), and no PFNs. */
static void header_only(struct vmb_bus *bus, u32 relid, u32 id)
{
	struct vmbus_msg_gpadl_header h = {{VMBUS_MSG_GPADL_HEADER, 0}, relid, id, 0xfff8, 1};

	guest_post(bus, &h, sizeof(h));
}

static const struct vmbus_msg_gpadl_created *created(u32 id)
{
	for (unsigned i = 0; i < fh.nr_msgs && i < FAKE_MAX_MSGS; i++) {
		const struct vmbus_msg_gpadl_created *c = (const void *)fh.msgs[i].data;

		if (c->header.type == VMBUS_MSG_GPADL_CREATED && c->gpadl == id)
			return c;
	}
	return NULL;
}

static void test_gpadl_headers_without_bodies(void **state)
{
	guest_connect(bus_a, VMBUS_VERSION_V5_3);
	guest_request_offers(bus_a);
	/*
	 * 64 KiB each if the buffer were allocated at the header: 4 would fill
	 * the pool. Allocated as PFNs arrive, a header costs its struct only.
	 */
	for (u32 id = 1; id <= VMBUS_MAX_GPADLS; id++)
		header_only(bus_a, 1, id);
	assert_int_equal(bus_a->channels[0]->nr_gpadls, VMBUS_MAX_GPADLS);
	assert_true(pool_a.used < 32u << 10);
	assert_true(bus_a->gpadl_budget.assembling < 16u << 10);
	assert_int_equal(exhausted_a, 0);
	/* The channel's limit: the next is refused with a failed GPADL_CREATED. */
	fh.nr_msgs = 0;
	header_only(bus_a, 1, 1000);
	assert_non_null(created(1000));
	assert_int_not_equal(created(1000)->status, 0);
	sibling_works();
	/* A reset (the guest went away) gives everything back. */
	vmbus_reset(bus_a);
	assert_int_equal(bus_a->gpadl_budget.assembling, 0);
}

static void test_gpadl_assembly_is_capped(void **state)
{
	static u64 pfns[7936];
	u8 buf[VMBUS_MSG_MAX];
	struct vmbus_msg_gpadl_body *b = (void *)buf;
	u32 per_body = (VMBUS_MSG_MAX - sizeof(*b)) / sizeof(u64), id;
	u64 peak = 0;

	guest_connect(bus_a, VMBUS_VERSION_V5_3);
	guest_request_offers(bus_a);
	/* netvsc's largest receive buffer (31 MiB: 7936 PFNs) assembles in one piece. */
	for (unsigned i = 0; i < ARRAY_SIZE(pfns); i++)
		pfns[i] = fake_pfn(i % FAKE_RAM_PAGES);
	fh.nr_msgs = 0;
	assert_int_equal(guest_gpadl_pfns(bus_a, 1, 0x5e, pfns, ARRAY_SIZE(pfns), 0,
					  ARRAY_SIZE(pfns) * (u32)PAGE_SIZE),
			 0);
	assert_int_equal(bus_a->gpadl_budget.assembling, 0);
	/* Headers whose bodies come and come but never complete: refused at the cap. */
	memset(buf, 0, sizeof(buf));
	b->header.type = VMBUS_MSG_GPADL_BODY;
	for (u32 k = 0; k < per_body; k++)
		((u64 *)(b + 1))[k] = fake_pfn(1);
	fh.nr_msgs = 0;
	for (id = 1; id <= 8; id++) {
		header_only(bus_a, 1, id);
		b->gpadl = id;
		/* 0xfff8 bytes: one word less than would complete it. */
		for (u32 words = 0; words + per_body < 0xfff8 / 8 - 1; words += per_body)
			guest_post(bus_a, buf, (u32)(sizeof(*b) + per_body * sizeof(u64)));
		peak = MAX(peak, bus_a->gpadl_budget.assembling);
		assert_true(bus_a->gpadl_budget.assembling <= GPADL_ASSEMBLY_MAX);
	}
	assert_int_equal(peak <= GPADL_ASSEMBLY_MAX, 1);
	/* At most two such fit; the third and later were refused the way Linux understands. */
	assert_null(created(1));
	assert_null(created(2));
	for (id = 3; id <= 8; id++) {
		assert_non_null(created(id));
		assert_int_not_equal(created(id)->status, 0);
	}
	assert_true(bus_a->channels[0]->nr_gpadls <= 3); /* the big one and two assembling */
	assert_int_equal(exhausted_a, 0);		 /* the cap, not the pool, stopped it */
	sibling_works();
}

static void test_ring_never_drained_stops_taking_packets(void **state)
{
	struct guest_chan gc;
	struct vmb_channel *ch = bus_a->channels[0];
	unsigned written = 0;

	assert_int_equal(
	    guest_open_channel(bus_a, &gc, 1, RING_GPADL, A_RING, RING_PAGES, RING_SPLIT), 0);
	/*
	 * The guest asks for a completion of every packet and never reads its
	 * ring: completions wait for room, and they count as packets in use.
	 */
	for (unsigned round = 0; round < 40; round++) {
		while (!guest_write(&gc.out, VMBUS_PKT_DATA_INBAND,
				    VMBUS_PKT_FLAG_COMPLETION_REQUESTED, written + 1, NULL, 0,
				    "data", 4))
			written++;
		guest_signal(bus_a, 1);
		vmbus_poll(bus_a);
	}
	assert_true(written > VMBUS_MAX_IN_USE); /* the host took more than it now holds */
	assert_int_equal(ch->completing.count + ch->incoming.count, VMBUS_MAX_IN_USE);
	/* The guest's ring is full: the channel stopped taking packets. */
	assert_int_not_equal(guest_write(&gc.out, VMBUS_PKT_DATA_INBAND, 0, 0, NULL, 0, "x", 1), 0);
	assert_true(pool_a.used < 128u << 10);
	assert_int_equal(exhausted_a, 0);
	sibling_works();
	/* The guest reads its ring: the waiting completions go out, the channel reads again. */
	{
		struct vmbus_packet_desc d;
		u8 buf[64];
		u32 len;
		unsigned got = 0, tries = 0;

		while (ch->completing.count && tries++ < 1000) {
			while (!guest_read(&gc.in, &d, buf, sizeof(buf), &len))
				got++;
			guest_signal(bus_a, 1);
		}
		assert_true(got >= VMBUS_MAX_IN_USE);
	}
	assert_int_equal(guest_write(&gc.out, VMBUS_PKT_DATA_INBAND, 0, 0, NULL, 0, "x", 1), 0);
}

static void test_too_many_channels_opened(void **state)
{
	struct guest_chan gc;
	unsigned made = 1, open = 0, refused = 0;
	static u8 small[48u << 10] __attribute__((aligned(POOL_ALIGN)));
	struct pool tiny;
	struct vmbus_host host;
	struct vmb_bus *bus;

	/* A partition with little device memory, and as many channels as VMBus allows. */
	pool_init(&tiny, small, sizeof(small));
	tiny.exhausted = on_exhausted;
	tiny.ctx = &exhausted_a;
	host = fake_vmbus_host_pool(&tiny);
	bus = vmbus_create(&host, "tiny");
	assert_non_null(bus);
	assert_non_null(add_channel(bus, 0));
	while (made < VMBUS_MAX_CHANNELS && add_channel(bus, made))
		made++;
	guest_connect(bus, VMBUS_VERSION_V5_3);
	guest_request_offers(bus);
	/* Each open takes a GPADL, its ring and a packet buffer; the pool runs dry on the way. */
	for (u32 relid = 1; relid <= made; relid++) {
		unsigned first = 8 + (relid - 1) % 32 * 4;

		fh.nr_msgs = 0;
		if (!guest_open_channel(bus, &gc, relid, RING_GPADL + relid, first, RING_PAGES,
					RING_SPLIT))
			open++;
		else
			refused++;
	}
	assert_true(open > 0);
	assert_true(refused > 0);
	assert_true(exhausted_a > 0);
	assert_true(tiny.used <= tiny.size);
	sibling_works();
	vmbus_destroy(bus);
	assert_int_equal(tiny.used, 0);
	pool_clear(&tiny);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_gpadl_headers_without_bodies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gpadl_assembly_is_capped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ring_never_drained_stops_taking_packets, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_channels_opened, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
