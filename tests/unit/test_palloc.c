/* The physical page allocator: the memory map, zeroing, contiguity, reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/palloc.h"
#include "tests/unit/fake_phys.h"

#define FAKE_FRAMES (FAKE_PHYS_SIZE >> PAGE_SHIFT)

static void test_init_counts_only_free_types(void **state)
{
	static u64 bm[64];
	struct boot_mem_range map[] = {
	    {.base = 0, .pages = 0x100, .type = BOOT_MEM_CONVENTIONAL}, /* below 1M: kept */
	    {.base = 0x200000, .pages = 16, .type = BOOT_MEM_CONVENTIONAL},
	    {.base = 0x300000, .pages = 16, .type = BOOT_MEM_BS_DATA},
	    {.base = 0x400000, .pages = 16, .type = BOOT_MEM_LOADER_DATA}, /* our files */
	    {.base = 0x500000, .pages = 16, .type = 9 /* ACPI reclaim */},
	    {.base = 0x600000, .pages = 16, .type = BOOT_MEM_BS_CODE},
	};
	u64 need = palloc_bitmap_bytes(map, 6);

	/* Highest free byte is 0x610000: 0x610 frames, rounded to 64-bit words. */
	assert_int_equal(need, ALIGN_UP(0x610, 64) / 8);
	/* The image [0x600000, 0x608000) is reserved. */
	assert_int_equal(palloc_init(map, 6, 0x600000, 0x608000, bm, need), 16 + 16 + 8);
	assert_int_equal(palloc_total_count(), 40);
}

static void test_bitmap_smaller_than_memory(void **state)
{
	static u64 bm[1]; /* covers 64 frames only: the first 256K */
	struct boot_mem_range map[] = {
	    {.base = 0, .pages = 0x1000, .type = BOOT_MEM_CONVENTIONAL},
	};

	/* Every covered frame is below 1M, so nothing is usable, and nothing breaks. */
	assert_int_equal(palloc_init(map, 1, 0, 0, bm, sizeof(bm)), 0);
	assert_int_equal(palloc_alloc(), 0);
	assert_int_equal(palloc_alloc_contig(1, PAGE_SIZE), 0);
}

static void test_alloc_is_zeroed_and_distinct(void **state)
{
	u64 a, b;

	assert_int_equal(fake_phys_init(), FAKE_FRAMES);
	a = palloc_alloc();
	b = palloc_alloc();
	assert_true(fake_phys_owns(a) && fake_phys_owns(b));
	assert_int_not_equal(a, b);
	assert_true(IS_ALIGNED(a, PAGE_SIZE));
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		assert_int_equal(((unsigned char *)phys_to_virt(a))[i], 0);
	memset(phys_to_virt(a), 0xff, PAGE_SIZE);
	palloc_free(a);
	assert_int_equal(palloc_free_count(), FAKE_FRAMES - 1);
}

static void test_exhaust_and_reuse(void **state)
{
	u64 last = 0;

	fake_phys_init();
	for (u64 i = 0; i < FAKE_FRAMES; i++) {
		last = palloc_alloc();
		assert_int_not_equal(last, 0);
	}
	assert_int_equal(palloc_free_count(), 0);
	assert_int_equal(palloc_alloc(), 0);
	memset(phys_to_virt(last), 0x5a, PAGE_SIZE);
	palloc_free(last);
	/* Only one frame is free: the cursor wraps around to it, zeroed again. */
	assert_int_equal(palloc_alloc(), last);
	assert_int_equal(*(unsigned char *)phys_to_virt(last), 0);
}

static void test_double_free_keeps_counts(void **state)
{
	u64 a;

	fake_phys_init();
	a = palloc_alloc();
	palloc_free(a);
	palloc_free(a);
	assert_int_equal(palloc_free_count(), FAKE_FRAMES);
}

static void test_contig_alignment_and_holes(void **state)
{
	u64 small[3], big;

	fake_phys_init();
	/* A 4K frame at the bottom makes the first 2M-aligned run start later. */
	small[0] = palloc_alloc();
	big = palloc_alloc_contig(512, 2ull << 20);
	assert_int_not_equal(big, 0);
	assert_true(IS_ALIGNED(big, 2ull << 20));
	assert_true(big > small[0]);
	for (u64 off = 0; off < (2ull << 20); off += PAGE_SIZE)
		assert_int_equal(*(u64 *)phys_to_virt(big + off), 0);
	/* A run that cannot fit anywhere fails without taking anything. */
	u64 before = palloc_free_count();
	assert_int_equal(palloc_alloc_contig(FAKE_FRAMES, PAGE_SIZE), 0);
	assert_int_equal(palloc_free_count(), before);
	/* Holes: runs skip used frames. */
	small[1] = palloc_alloc();
	small[2] = palloc_alloc();
	palloc_free(small[1]);
	assert_int_equal(small[1] + PAGE_SIZE, small[2]);
	u64 two = palloc_alloc_contig(2, PAGE_SIZE);
	assert_int_not_equal(two, 0);
	assert_int_not_equal(two, small[1]);
	assert_true(two + PAGE_SIZE != small[2] && two != small[2]);
	assert_int_equal(palloc_alloc_contig(1, PAGE_SIZE), small[1]); /* the hole, first fit */
	palloc_free_contig(big, 512);
	assert_int_equal(palloc_alloc_contig(512, 2ull << 20), big);
}

static void test_contig_bad_arguments(void **state)
{
	fake_phys_init();
	assert_int_equal(palloc_alloc_contig(0, PAGE_SIZE), 0);
	assert_int_equal(palloc_alloc_contig(1, 3 * PAGE_SIZE), 0); /* not a power of two */
	assert_int_equal(palloc_alloc_contig(~0ull, PAGE_SIZE), 0);
	assert_int_equal(palloc_free_count(), FAKE_FRAMES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_counts_only_free_types),
	    cmocka_unit_test(test_bitmap_smaller_than_memory),
	    cmocka_unit_test(test_alloc_is_zeroed_and_distinct),
	    cmocka_unit_test(test_exhaust_and_reuse),
	    cmocka_unit_test(test_double_free_keeps_counts),
	    cmocka_unit_test(test_contig_alignment_and_holes),
	    cmocka_unit_test(test_contig_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
