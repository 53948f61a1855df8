/*
 * GPADLs (vmbus/gpadl.c and their protocol in vmbus/channel.c) on the host:
 * assembly from a header and bodies, the checks on the finished list, page
 * access and VSP mappings, and the GPADL messages against a bus.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_vmbus_fake.h"

static struct vmbus_host host;
static struct vmb_bus *bus;
static struct vmb_channel *ch;

static const struct vmb_guid TYPE = VMB_GUID(0x11111111, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
static const struct vmb_guid INST = VMB_GUID(0x22222222, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);

static int setup(void **state)
{
	fh.quiet = true;
	fake_reset();
	host = fake_vmbus_host();
	bus = vmbus_create(&host, "g");
	assert_int_equal(vmb_channel_allocate(bus, &ch), 0);
	assert_int_equal(vmb_server_channel_init_set_target_interface_id(ch, &TYPE, &INST), 0);
	assert_int_equal(vmb_channel_enable(ch), 0);
	return 0;
}

static int teardown(void **state)
{
	vmbus_destroy(bus);
	/* Everything the bus took from its pool went back. */
	assert_int_equal(fake_pool.used, 0);
	return 0;
}

/* ---- the module ---- */

/* A raw range buffer: one range over pfns, as the guest sends it. */
static u32 raw_range(u64 *w, u32 count, u32 offset, const u64 *pfns, u32 n)
{
	w[0] = (u64)count | (u64)offset << 32;
	memcpy(w + 1, pfns, n * sizeof(u64));
	return (n + 1) * (u32)sizeof(u64);
}

static void test_assemble_in_pieces(void **state)
{
	u64 pfns[40], w[64];
	u32 len;
	struct gpadl *g;
	const char *why = NULL;
	u8 *ptrs[40];

	for (unsigned i = 0; i < 40; i++)
		pfns[i] = fake_pfn(100 - i); /* not contiguous, descending */
	len = raw_range(w, 40 * PAGE_SIZE, 0, pfns, 40);
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 7, (u16)len, 1, w, 26 * 8 + 8, &why),
			 GPADL_MORE);
	assert_false(gpadl_complete(g));
	assert_int_equal(gpadl_add(g, (u8 *)w + 27 * 8, 10 * 8, &why), GPADL_MORE);
	assert_int_equal(gpadl_add(g, (u8 *)w + 37 * 8, 4 * 8, &why), GPADL_OK);
	assert_true(gpadl_complete(g));
	/* Nothing more fits. */
	assert_int_equal(gpadl_add(g, w, 8, &why), GPADL_BAD);
	assert_int_equal(gpadl_finish(g, &host, &why), GPADL_OK);
	assert_int_equal(g->nr_pfns, 40);
	assert_int_equal(g->size, 40 * PAGE_SIZE);
	assert_true(gpadl_pages(g, &host, 0, 40, ptrs));
	assert_ptr_equal(ptrs[0], fake_page_ptr(100));
	assert_ptr_equal(ptrs[39], fake_page_ptr(61));
	assert_false(gpadl_pages(g, &host, 30, 11, ptrs));
	gpadl_free(g);
}

static void test_bad_descriptions(void **state)
{
	u64 pfns[4] = {fake_pfn(1), fake_pfn(2), fake_pfn(3), fake_pfn(4)}, w[16];
	struct gpadl *g;
	const char *why;
	u32 len;

	/* Shape errors in the header. */
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 1, 40, 0, NULL, 0, &why), GPADL_BAD);
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 1, 41, 1, NULL, 0, &why), GPADL_BAD);
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 1, 24, 2, NULL, 0, &why), GPADL_BAD);
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 1, 16, 1, w, 12, &why),
			 GPADL_BAD); /* partial PFN */
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 1, 16, 1, w, 24, &why),
			 GPADL_BAD); /* too many */
	assert_null(g);

	/* A range whose bytes need more pages than it lists. */
	len = raw_range(w, 2 * PAGE_SIZE + 1, 0, pfns, 3);
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 1, (u16)len, 1, w, len, &why),
			 GPADL_OK);
	assert_int_equal(gpadl_finish(g, &host, &why), GPADL_OK);
	gpadl_free(g);
	len = raw_range(w, 2 * PAGE_SIZE + 1, 0, pfns, 2);
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 1, (u16)len, 1, w, len, &why),
			 GPADL_OK);
	assert_int_equal(gpadl_finish(g, &host, &why), GPADL_BAD);
	gpadl_free(g);
	/* More PFNs than its bytes need (range_buflen longer than the ranges). */
	len = raw_range(w, PAGE_SIZE, 0, pfns, 2);
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 1, (u16)len, 1, w, len, &why),
			 GPADL_OK);
	assert_int_equal(gpadl_finish(g, &host, &why), GPADL_BAD);
	gpadl_free(g);
	/* Offset past the first page, no bytes. */
	len = raw_range(w, 8, PAGE_SIZE, pfns, 1);
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 1, (u16)len, 1, w, len, &why),
			 GPADL_OK);
	assert_int_equal(gpadl_finish(g, &host, &why), GPADL_BAD);
	gpadl_free(g);
	len = raw_range(w, 0, 0, pfns, 1);
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 1, (u16)len, 1, w, len, &why),
			 GPADL_OK);
	assert_int_equal(gpadl_finish(g, &host, &why), GPADL_BAD);
	gpadl_free(g);
	/* PFNs outside guest RAM, and past the physical address width. */
	pfns[1] = FAKE_NO_RAM >> PAGE_SHIFT;
	len = raw_range(w, 2 * PAGE_SIZE, 0, pfns, 2);
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 1, (u16)len, 1, w, len, &why),
			 GPADL_OK);
	assert_int_equal(gpadl_finish(g, &host, &why), GPADL_BAD);
	assert_string_equal(why, "PFN outside guest RAM");
	gpadl_free(g);
	pfns[1] = (1ull << 52) | fake_pfn(2);
	len = raw_range(w, 2 * PAGE_SIZE, 0, pfns, 2);
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 1, (u16)len, 1, w, len, &why),
			 GPADL_OK);
	assert_int_equal(gpadl_finish(g, &host, &why), GPADL_BAD);
	gpadl_free(g);
	/* Fewer ranges than range_count. */
	pfns[1] = fake_pfn(2);
	len = raw_range(w, PAGE_SIZE, 0, pfns, 1);
	w[2] = (u64)PAGE_SIZE;
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 1, 32, 2, w, 24, &why), GPADL_MORE);
	assert_int_equal(gpadl_add(g, w + 3, 8, &why), GPADL_OK);
	w[3] = fake_pfn(3);
	assert_int_equal(gpadl_finish(g, &host, &why), GPADL_OK); /* two ranges of one page */
	assert_int_equal(g->nr_ranges, 2);
	gpadl_free(g);
}

static void test_mapping_reads_and_writes_across_ranges(void **state)
{
	u64 w[8];
	struct gpadl *g;
	const char *why;
	struct vmb_gpadl_mapping *m;
	u8 buf[PAGE_SIZE + 200];

	/* Range 0: 100 bytes at offset 4000 of page 10 into page 11; range 1: page 20 whole. */
	w[0] = 100 | (u64)4000 << 32;
	w[1] = fake_pfn(10);
	w[2] = fake_pfn(11);
	w[3] = PAGE_SIZE;
	w[4] = fake_pfn(20);
	assert_int_equal(gpadl_begin(&g, &bus->gpadl_budget, 3, 40, 2, w, 40, &why), GPADL_OK);
	assert_int_equal(gpadl_finish(g, &host, &why), GPADL_OK);
	assert_int_equal(g->size, 100 + PAGE_SIZE);
	m = gpadl_map(g, &host, ch);
	assert_non_null(m);
	assert_int_equal(g->users, 1);
	assert_int_equal(vmb_gpadl_mapping_size(m), 100 + PAGE_SIZE);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)i;
	assert_int_equal(vmb_gpadl_write(m, 0, buf, 100 + PAGE_SIZE), VMB_STATUS_SUCCESS);
	assert_int_equal(((u8 *)fake_page_ptr(10))[4000], 0);
	assert_int_equal(((u8 *)fake_page_ptr(10))[4095], 95);
	assert_int_equal(((u8 *)fake_page_ptr(11))[0], 96);
	assert_int_equal(((u8 *)fake_page_ptr(11))[3], 99);
	assert_int_equal(((u8 *)fake_page_ptr(11))[4], 0); /* outside the range */
	assert_int_equal(((u8 *)fake_page_ptr(20))[0], 100);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(vmb_gpadl_read(m, 98, buf, 4), VMB_STATUS_SUCCESS);
	assert_memory_equal(buf, ((u8[]){98, 99, 100, 101}), 4);
	assert_int_equal(vmb_gpadl_read(m, 100 + PAGE_SIZE, buf, 1), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_gpadl_read(m, ~0ull, buf, 2), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_gpadl_read(m, 1, buf, ~0ull), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_gpadl_read(m, 100 + PAGE_SIZE, buf, 0), VMB_STATUS_SUCCESS);
	/* The GPADL goes away under the mapping: it stops working, but stays the VSP's. */
	gpadl_free(g);
	assert_int_equal(vmb_gpadl_read(m, 0, buf, 1), VMB_STATUS_INVALID_DEVICE_STATE);
	assert_null(gpadl_unmap(m));
}

/* ---- the protocol ---- */

/* Range data after a GPADL header starts at byte 20: not 8-byte aligned. */
static void put64(void *base, unsigned i, u64 v)
{
	memcpy((u8 *)base + i * sizeof(u64), &v, sizeof(v));
}

static void test_multi_message_gpadl_over_the_bus(void **state)
{
	const struct vmbus_msg_gpadl_created *c;

	guest_connect(bus, VMBUS_VERSION_V5_3);
	guest_request_offers(bus);
	/* 100 pages: a header with 26 PFNs and three bodies (28, 28, 18). */
	assert_int_equal(guest_gpadl(bus, 1, 0xe1e10, 10, 100), 0);
	c = fake_find(VMBUS_MSG_GPADL_CREATED, 0);
	assert_non_null(c);
	assert_int_equal(c->child_relid, 1);
	assert_int_equal(c->gpadl, 0xe1e10);
	assert_int_equal(vmbus_find_gpadl(ch, 0xe1e10)->nr_pfns, 100);
	/* A second GPADL of the same id is refused; another id is fine. */
	assert_int_equal(guest_gpadl(bus, 1, 0xe1e10, 10, 2), (int)VMBUS_STATUS_FAILED);
	assert_int_equal(guest_gpadl(bus, 1, 0xe1e11, 10, 2), 0);
	assert_int_equal(ch->nr_gpadls, 2);
	/* Teardown answers with TORNDOWN. */
	assert_int_equal(guest_teardown(bus, 1, 0xe1e10), 1);
	assert_null(vmbus_find_gpadl(ch, 0xe1e10));
	assert_int_equal(guest_teardown(bus, 1, 0xe1e10), 0); /* no longer exists: dropped */
}

static void test_gpadl_bodies_out_of_place(void **state)
{
	u8 buf[VMBUS_MSG_MAX];
	struct vmbus_msg_gpadl_header *h = (void *)buf;
	struct vmbus_msg_gpadl_body *b = (void *)buf;
	u8 *w;
	unsigned logs;

	guest_connect(bus, VMBUS_VERSION_V5_3);
	guest_request_offers(bus);
	/* A body for a GPADL nobody started: dropped with a log line. */
	memset(buf, 0, sizeof(buf));
	b->header.type = VMBUS_MSG_GPADL_BODY;
	b->gpadl = 5;
	logs = fh.nr_logs;
	assert_int_equal(guest_post(bus, buf, sizeof(*b) + 8), 0);
	assert_int_equal(fh.nr_logs, logs + 1);
	assert_int_equal(fake_count(VMBUS_MSG_GPADL_CREATED), 0);

	/* A header announcing 3 PFNs with 1; then a body with 3: too many, refused. */
	memset(buf, 0, sizeof(buf));
	h->header.type = VMBUS_MSG_GPADL_HEADER;
	h->child_relid = 1;
	h->gpadl = 5;
	h->range_count = 1;
	h->range_buflen = 32;
	w = (u8 *)(h + 1);
	put64(w, 0, 3 * PAGE_SIZE);
	put64(w, 1, fake_pfn(1));
	assert_int_equal(guest_post(bus, buf, sizeof(*h) + 16), 0);
	assert_int_equal(fake_count(VMBUS_MSG_GPADL_CREATED), 0);
	/* Another header for the same id while it is being built: refused. */
	assert_int_equal(guest_post(bus, buf, sizeof(*h) + 16), 0);
	assert_int_equal(fake_count(VMBUS_MSG_GPADL_CREATED), 1);
	memset(buf, 0, sizeof(buf));
	b->header.type = VMBUS_MSG_GPADL_BODY;
	b->gpadl = 5;
	w = (u8 *)(b + 1);
	put64(w, 0, fake_pfn(2));
	put64(w, 1, fake_pfn(2));
	put64(w, 2, fake_pfn(2));
	assert_int_equal(guest_post(bus, buf, sizeof(*b) + 24), 0);
	assert_int_equal(fake_count(VMBUS_MSG_GPADL_CREATED), 2);
	assert_int_equal(((const struct vmbus_msg_gpadl_created *)fake_last())->status,
			 VMBUS_STATUS_FAILED);
	assert_null(vmbus_find_gpadl(ch, 5));
	/* The id is free again, and an odd-sized body fails the GPADL. */
	memset(buf, 0, sizeof(buf));
	h->header.type = VMBUS_MSG_GPADL_HEADER;
	h->child_relid = 1;
	h->gpadl = 5;
	h->range_count = 1;
	h->range_buflen = 32;
	w = (u8 *)(h + 1);
	put64(w, 0, 3 * PAGE_SIZE);
	assert_int_equal(guest_post(bus, buf, sizeof(*h) + 8), 0);
	memset(buf, 0, sizeof(buf));
	b->header.type = VMBUS_MSG_GPADL_BODY;
	b->gpadl = 5;
	assert_int_equal(guest_post(bus, buf, sizeof(*b) + 12), 0);
	assert_int_equal(fake_count(VMBUS_MSG_GPADL_CREATED), 3);
	/* An empty body also. */
	assert_int_equal(guest_post(bus, buf, sizeof(*b)), 0);
	assert_int_equal(fake_count(VMBUS_MSG_GPADL_CREATED), 3); /* no GPADL any more: dropped */
}

static void test_gpadl_pfn_outside_ram_and_unknown_relid(void **state)
{
	u64 pfns[30];

	guest_connect(bus, VMBUS_VERSION_V5_3);
	guest_request_offers(bus);
	for (unsigned i = 0; i < 30; i++)
		pfns[i] = fake_pfn(i);
	pfns[29] = FAKE_NO_RAM >> PAGE_SHIFT; /* in the body */
	assert_int_equal(guest_gpadl_pfns(bus, 1, 9, pfns, 30, 0, 30 * PAGE_SIZE),
			 (int)VMBUS_STATUS_FAILED);
	assert_null(vmbus_find_gpadl(ch, 9));
	assert_int_equal(guest_gpadl(bus, 7, 9, 0, 2), (int)VMBUS_STATUS_FAILED);
	assert_int_equal(guest_gpadl(bus, 0, 9, 0, 2), (int)VMBUS_STATUS_FAILED);
	/* The maximum a header can describe: 8190 PFNs exceed RAM here, but the shape is fine. */
	assert_int_equal(guest_gpadl(bus, 1, 9, 0, FAKE_RAM_PAGES), 0);
}

static void test_gpadl_limit_per_channel(void **state)
{
	guest_connect(bus, VMBUS_VERSION_V5_3);
	guest_request_offers(bus);
	for (u32 i = 0; i < VMBUS_MAX_GPADLS; i++)
		assert_int_equal(guest_gpadl(bus, 1, 100 + i, 0, 1), 0);
	assert_int_equal(guest_gpadl(bus, 1, 99, 0, 1), (int)VMBUS_STATUS_FAILED);
	assert_int_equal(guest_teardown(bus, 1, 100), 1);
	assert_int_equal(guest_gpadl(bus, 1, 99, 0, 1), 0);
}

static void test_vsp_mapping_defers_teardown(void **state)
{
	struct vmb_gpadl_mapping *m;
	u8 b = 0;

	guest_connect(bus, VMBUS_VERSION_V5_3);
	guest_request_offers(bus);
	assert_int_equal(guest_gpadl(bus, 1, 50, 30, 4), 0);
	assert_int_equal(vmb_channel_map_gpadl(ch, 51, &m), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_channel_map_gpadl(ch, 50, &m), VMB_STATUS_SUCCESS);
	assert_int_equal(vmb_gpadl_write(m, 3 * PAGE_SIZE, "x", 1), VMB_STATUS_SUCCESS);
	assert_int_equal(((u8 *)fake_page_ptr(33))[0], 'x');
	/* The guest tears it down while the VSP maps it: the answer waits for the unmap. */
	assert_int_equal(guest_teardown(bus, 1, 50), 0);
	assert_int_equal(vmb_channel_map_gpadl(ch, 50, &m), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmb_gpadl_read(m, 0, &b, 1), VMB_STATUS_SUCCESS);
	vmb_channel_unmap_gpadl(ch, m);
	assert_int_equal(fake_last_type(), VMBUS_MSG_GPADL_TORNDOWN);
	assert_null(vmbus_find_gpadl(ch, 50));
}

static void test_mapping_against_the_ring(void **state)
{
	struct vmb_gpadl_mapping *apart, *shared, *ringmap;

	guest_connect(bus, VMBUS_VERSION_V5_3);
	guest_request_offers(bus);
	assert_int_equal(guest_gpadl(bus, 1, 60, 40, 4), 0); /* the ring: pages 40-43 */
	assert_int_equal(guest_gpadl(bus, 1, 61, 44, 4), 0);
	assert_int_equal(guest_gpadl(bus, 1, 62, 43, 2), 0); /* shares page 43 */
	assert_int_equal(vmb_channel_map_gpadl(ch, 61, &apart), VMB_STATUS_SUCCESS);
	assert_false(vmb_gpadl_mapping_overlaps_ring(ch, apart)); /* no ring yet */
	assert_int_equal(guest_open(bus, 1, 60, 2), 0);
	assert_int_equal(vmb_channel_map_gpadl(ch, 62, &shared), VMB_STATUS_SUCCESS);
	assert_int_equal(vmb_channel_map_gpadl(ch, 60, &ringmap), VMB_STATUS_SUCCESS);
	assert_false(vmb_gpadl_mapping_overlaps_ring(ch, apart));
	assert_true(vmb_gpadl_mapping_overlaps_ring(ch, shared));
	assert_true(vmb_gpadl_mapping_overlaps_ring(ch, ringmap));
	vmb_channel_unmap_gpadl(ch, apart);
	vmb_channel_unmap_gpadl(ch, shared);
	vmb_channel_unmap_gpadl(ch, ringmap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_assemble_in_pieces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mapping_against_the_ring, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_descriptions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mapping_reads_and_writes_across_ranges, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_multi_message_gpadl_over_the_bus, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gpadl_bodies_out_of_place, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gpadl_pfn_outside_ram_and_unknown_relid, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_gpadl_limit_per_channel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vsp_mapping_defers_teardown, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
