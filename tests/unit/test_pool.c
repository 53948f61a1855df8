/* The per-partition pool: exhaustion, coalescing, fragmentation, bad frees, frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/pool.h"
#include "kernel/palloc.h"
#include "tests/unit/fake_phys.h"

#define BUF_SIZE 4096

static _Alignas(POOL_ALIGN) u8 buf[BUF_SIZE];
static unsigned told;
static size_t told_want;

static void on_exhausted(struct pool *pool, size_t want, void *ctx)
{
	told++;
	told_want = want;
	assert_ptr_equal(ctx, buf);
}

static struct pool fresh(void)
{
	struct pool p;

	pool_init(&p, buf, sizeof(buf));
	p.exhausted = on_exhausted;
	p.ctx = buf;
	told = 0;
	return p;
}

static void test_exhaustion_is_reported_and_recovers(void **state)
{
	struct pool p = fresh();
	void *blocks[BUF_SIZE / 32];
	unsigned n = 0;

	while (n < ARRAY_SIZE(blocks) && (blocks[n] = pool_alloc(&p, 48)))
		n++;
	/* 48 bytes + a 16-byte header = 64 per block: all of 4K, none more. */
	assert_int_equal(n, BUF_SIZE / 64);
	assert_int_equal(p.used, BUF_SIZE);
	assert_int_equal(p.failures, 1);
	assert_int_equal(told, 1);
	assert_int_equal(told_want, 48);
	assert_null(pool_alloc(&p, 1));
	assert_int_equal(told, 2);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(pool_free(&p, blocks[i]), 0);
	assert_int_equal(p.used, 0);
	assert_int_equal(p.peak, BUF_SIZE);
	/* Everything merged back: one block as large as the pool allows. */
	assert_int_equal(pool_largest(&p), BUF_SIZE - 16);
	assert_non_null(pool_alloc(&p, BUF_SIZE - 16));
}

static void test_too_large_and_overflow_refused(void **state)
{
	struct pool p = fresh();

	assert_null(pool_alloc(&p, BUF_SIZE));
	assert_null(pool_alloc(&p, (size_t)-1));
	assert_null(pool_calloc(&p, (size_t)1 << 62, 8));
	assert_int_equal(told, 3);
	assert_int_equal(p.used, 0);
}

static void test_coalescing_both_sides(void **state)
{
	struct pool p = fresh();
	u8 *a = pool_alloc(&p, 1000), *b = pool_alloc(&p, 1000), *c = pool_alloc(&p, 1000);
	u8 *d = pool_alloc(&p, 1000); /* keeps c's right neighbour busy */

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(d);
	assert_null(pool_alloc(&p, 2500));
	assert_int_equal(pool_free(&p, a), 0);
	assert_int_equal(pool_free(&p, c), 0);
	assert_null(pool_alloc(&p, 2500));     /* two holes of 1000, not adjacent */
	assert_int_equal(pool_free(&p, b), 0); /* joins a, b and c */
	assert_true(pool_largest(&p) >= 3000);
	assert_ptr_equal(pool_alloc(&p, 2500), a);
}

static void test_fragmentation_limits_the_largest_block(void **state)
{
	struct pool p = fresh();
	void *blocks[BUF_SIZE / 64];
	unsigned n = 0;

	while (n < ARRAY_SIZE(blocks) && (blocks[n] = pool_alloc(&p, 48)))
		n++;
	/* Free every other block: half the pool is free, but in 64-byte holes. */
	for (unsigned i = 0; i < n; i += 2)
		pool_free(&p, blocks[i]);
	assert_int_equal(p.used, BUF_SIZE / 2);
	assert_int_equal(pool_largest(&p), 48);
	assert_null(pool_alloc(&p, 64));
	assert_non_null(pool_alloc(&p, 48));
}

static void test_bad_frees_detected(void **state)
{
	struct pool p = fresh();
	u8 *a = pool_alloc(&p, 100), *b = pool_alloc(&p, 100);
	static _Alignas(16) u8 elsewhere[64];
	u64 used = p.used;

	assert_int_equal(pool_free(&p, a + 16), -1); /* inside a block */
	assert_int_equal(pool_free(&p, a + 1), -1);  /* misaligned */
	assert_int_equal(pool_free(&p, elsewhere + 16), -1);
	assert_int_equal(pool_free(&p, buf + BUF_SIZE - 16), -1); /* in the free tail */
	assert_int_equal(p.used, used);
	assert_int_equal(pool_free(&p, a), 0);
	assert_int_equal(pool_free(&p, a), -1); /* twice */
	assert_int_equal(pool_free(&p, b), 0);
	assert_int_equal(pool_free(&p, b), -1); /* twice, merged into its neighbour */
	assert_int_equal(p.bad_frees, 6);
	assert_int_equal(p.used, 0);
	assert_int_equal(pool_free(&p, NULL), 0);
}

static void test_zalloc_and_realloc(void **state)
{
	struct pool p = fresh();
	u8 *a = pool_alloc(&p, 64), *z;

	memset(a, 0x5a, 64);
	pool_free(&p, a);
	z = pool_zalloc(&p, 64);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(z[i], 0);
	for (unsigned i = 0; i < 64; i++)
		z[i] = (u8)i;
	z = pool_realloc(&p, z, 2000);
	assert_non_null(z);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(z[i], i);
	/* No room to grow: NULL, and the old block is intact. */
	assert_null(pool_realloc(&p, z, 3000));
	assert_int_equal(z[63], 63);
	assert_int_equal(pool_free(&p, z), 0);
	assert_int_equal(p.used, 0);
}

static void test_two_pools_are_independent(void **state)
{
	static _Alignas(16) u8 other[1024];
	struct pool p = fresh(), q;
	void *x;

	pool_init(&q, other, sizeof(other));
	while (pool_alloc(&p, 100))
		;
	x = pool_alloc(&q, 100);
	assert_non_null(x);
	assert_int_equal(pool_free(&p, x), -1); /* not p's */
	assert_int_equal(pool_free(&q, x), 0);
}

static void test_reserve_takes_and_gives_back_frames(void **state)
{
	struct pool p;
	u64 before = fake_phys_init();

	assert_int_equal(pool_reserve(&p, 64 << 10), 0);
	assert_int_equal(palloc_free_count(), before - 16);
	assert_int_equal(p.size, 64 << 10);
	assert_non_null(pool_alloc(&p, 60 << 10));
	assert_null(pool_alloc(&p, 8 << 10));
	pool_release(&p);
	assert_int_equal(palloc_free_count(), before);
	assert_int_equal(p.size, 0);
	/* Not there: refused, nothing taken. */
	assert_int_equal(pool_reserve(&p, FAKE_PHYS_SIZE + PAGE_SIZE), -1);
	assert_int_equal(palloc_free_count(), before);
	assert_null(pool_alloc(&p, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exhaustion_is_reported_and_recovers),
	    cmocka_unit_test(test_too_large_and_overflow_refused),
	    cmocka_unit_test(test_coalescing_both_sides),
	    cmocka_unit_test(test_fragmentation_limits_the_largest_block),
	    cmocka_unit_test(test_bad_frees_detected),
	    cmocka_unit_test(test_zalloc_and_realloc),
	    cmocka_unit_test(test_two_pools_are_independent),
	    cmocka_unit_test(test_reserve_takes_and_gives_back_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
