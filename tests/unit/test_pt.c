/* The page-table builder in its three formats: leaves, splitting, unmapping, freeing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/palloc.h"
#include "kernel/pt.h"
#include "tests/unit/fake_phys.h"

#define SZ_2M (2ull << 20)
#define SZ_1G (1ull << 30)

static u64 leaf_of(const struct pt *pt, u64 va)
{
	u64 pa, e = 0;

	assert_true(pt_lookup(pt, va, &pa, &e));
	return e;
}

static void test_4k_map_lookup_unmap(void **state)
{
	struct pt pt;
	u64 pa, free0 = fake_phys_init();

	assert_int_equal(pt_init(&pt, &pt_format_ept), 0);
	assert_int_equal(pt_map(&pt, 0x5000, 0x123000, PAGE_SIZE, PT_R | PT_W, true), 0);
	assert_true(pt_lookup(&pt, 0x5abc, &pa, NULL));
	assert_int_equal(pa, 0x123abc);
	assert_false(pt_lookup(&pt, 0x6000, &pa, NULL));
	assert_false(pt_lookup(&pt, 0x4fff, &pa, NULL));
	/* EPT leaf: R|W, no X, memory type WB (SDM 29.3.2). */
	assert_int_equal(leaf_of(&pt, 0x5000) & 0xff, 0x3 | (6 << 3));
	/* Root + PDPT + PD + PT. */
	assert_int_equal(palloc_free_count(), free0 - 4);
	assert_int_equal(pt_unmap(&pt, 0x5000, PAGE_SIZE), 0);
	assert_false(pt_lookup(&pt, 0x5000, &pa, NULL));
	pt_destroy(&pt);
	assert_int_equal(palloc_free_count(), free0);
}

static void test_large_leaves_chosen_by_alignment(void **state)
{
	struct pt pt;
	u64 pa, free0 = fake_phys_init();

	assert_int_equal(pt_init(&pt, &pt_format_npt), 0);
	/* 1G-aligned 1G + 2M: one 1G leaf, one 2M leaf, no 4K tables. */
	assert_int_equal(pt_map(&pt, SZ_1G, 2 * SZ_1G, SZ_1G + SZ_2M, PT_R | PT_W | PT_X, false),
			 0);
	assert_int_equal(palloc_free_count(), free0 - 3); /* root, PDPT, one PD */
	assert_true(pt_lookup(&pt, SZ_1G + 0x12345, &pa, NULL));
	assert_int_equal(pa, 2 * SZ_1G + 0x12345);
	assert_true(pt_lookup(&pt, 2 * SZ_1G + SZ_2M - 1, &pa, NULL));
	assert_int_equal(pa, 3 * SZ_1G + SZ_2M - 1);
	/* NPT: P|RW|US and PS on large leaves; U also on tables (APM 15.25.5). */
	assert_int_equal(leaf_of(&pt, SZ_1G) & 0xff, 0x87);
	u64 *root = phys_to_virt(pt.root);
	assert_int_equal(root[0] & 0x7, 0x7);
	/* Misaligned pa forces 4K leaves even when the size would allow more. */
	assert_int_equal(pt_map(&pt, 0, PAGE_SIZE, SZ_2M, PT_R, false), 0);
	assert_int_equal(leaf_of(&pt, 0) & 0x80, 0);
	pt_destroy(&pt);
	assert_int_equal(palloc_free_count(), free0);
}

static void test_split_large_leaf_on_partial_unmap(void **state)
{
	struct pt pt;
	u64 pa, free0 = fake_phys_init();

	assert_int_equal(pt_init(&pt, &pt_format_host), 0);
	assert_int_equal(pt_map(&pt, 0, 0, SZ_1G, PT_R | PT_W, false), 0);
	/* Punch a 4K hole in the middle of the 1G leaf. */
	assert_int_equal(pt_unmap(&pt, 0x201000, PAGE_SIZE), 0);
	assert_false(pt_lookup(&pt, 0x201000, &pa, NULL));
	/* Its neighbours keep their translation and flags. */
	assert_true(pt_lookup(&pt, 0x200fff, &pa, NULL));
	assert_int_equal(pa, 0x200fff);
	assert_true(pt_lookup(&pt, 0x202000, &pa, NULL));
	assert_int_equal(pa, 0x202000);
	assert_int_equal(leaf_of(&pt, 0x202000) & 0x83, 0x03); /* 4K leaf: P|RW, no PS */
	assert_int_equal(leaf_of(&pt, 0x400000) & 0x83, 0x83); /* still a 2M leaf */
	assert_true(pt_lookup(&pt, SZ_1G - 1, &pa, NULL));
	assert_int_equal(pa, SZ_1G - 1);
	pt_destroy(&pt);
	assert_int_equal(palloc_free_count(), free0);
}

static void test_remap_over_tables_frees_them(void **state)
{
	struct pt pt;
	u64 pa, free0 = fake_phys_init();

	assert_int_equal(pt_init(&pt, &pt_format_ept), 0);
	assert_int_equal(pt_map(&pt, 0, 0x100000, SZ_2M, PT_R | PT_W | PT_X, true), 0);
	u64 with_pt = palloc_free_count();
	/* A 2M leaf over the 4K table: the table frame goes back. */
	assert_int_equal(pt_map(&pt, 0, SZ_2M, SZ_2M, PT_R | PT_UC, false), 0);
	assert_int_equal(palloc_free_count(), with_pt + 1);
	assert_true(pt_lookup(&pt, 0x1234, &pa, NULL));
	assert_int_equal(pa, SZ_2M + 0x1234);
	assert_int_equal(leaf_of(&pt, 0) & 0xff, 0x80 | 0x1); /* R, UC, PS */
	/* Unmapping a whole 1G region that holds tables frees them too. */
	assert_int_equal(pt_unmap(&pt, 0, SZ_1G), 0);
	assert_false(pt_lookup(&pt, 0, &pa, NULL));
	assert_int_equal(palloc_free_count(), free0 - 2); /* root and PDPT stay */
	pt_destroy(&pt);
	assert_int_equal(palloc_free_count(), free0);
}

static void test_unmap_range_across_boundaries(void **state)
{
	struct pt pt;
	u64 pa;

	fake_phys_init();
	assert_int_equal(pt_init(&pt, &pt_format_npt), 0);
	assert_int_equal(pt_map(&pt, 0, 0, 3 * SZ_2M, PT_R | PT_W, false), 0);
	/* From 1M to 5M: half of the first leaf, the second, half of the third. */
	assert_int_equal(pt_unmap(&pt, SZ_2M / 2, 2 * SZ_2M), 0);
	assert_true(pt_lookup(&pt, SZ_2M / 2 - 1, &pa, NULL));
	for (u64 va = SZ_2M / 2; va < SZ_2M / 2 + 2 * SZ_2M; va += PAGE_SIZE)
		assert_false(pt_lookup(&pt, va, &pa, NULL));
	assert_true(pt_lookup(&pt, SZ_2M / 2 + 2 * SZ_2M, &pa, NULL));
	assert_int_equal(pa, 5 * SZ_2M / 2);
	/* Unmapping what is not mapped, far away, is fine. */
	assert_int_equal(pt_unmap(&pt, 100 * SZ_1G, SZ_1G + PAGE_SIZE), 0);
	pt_destroy(&pt);
}

static void test_misaligned_arguments_refused(void **state)
{
	struct pt pt;
	u64 pa;

	fake_phys_init();
	assert_int_equal(pt_init(&pt, &pt_format_ept), 0);
	assert_int_equal(pt_map(&pt, 0x1001, 0, PAGE_SIZE, PT_R, true), -1);
	assert_int_equal(pt_map(&pt, 0, 0x10, PAGE_SIZE, PT_R, true), -1);
	assert_int_equal(pt_map(&pt, 0, 0, 100, PT_R, true), -1);
	assert_int_equal(pt_unmap(&pt, 0x800, PAGE_SIZE), -1);
	assert_false(pt_lookup(&pt, 0, &pa, NULL));
	pt_destroy(&pt);
}

static void test_out_of_memory_fails_cleanly(void **state)
{
	struct pt pt;

	fake_phys_init();
	assert_int_equal(pt_init(&pt, &pt_format_ept), 0);
	while (palloc_alloc())
		;
	assert_int_equal(pt_map(&pt, 0, 0, PAGE_SIZE, PT_R, true), -1);
	pt_destroy(&pt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_4k_map_lookup_unmap),
	    cmocka_unit_test(test_large_leaves_chosen_by_alignment),
	    cmocka_unit_test(test_split_large_leaf_on_partial_unmap),
	    cmocka_unit_test(test_remap_over_tables_frees_them),
	    cmocka_unit_test(test_unmap_range_across_boundaries),
	    cmocka_unit_test(test_misaligned_arguments_refused),
	    cmocka_unit_test(test_out_of_memory_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
