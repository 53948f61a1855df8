/*
 * Per-partition memory pools (docs/architecture.md, "What a partition may
 * consume"): a small first-fit allocator with boundary tags over one block
 * of host memory, either frames reserved from palloc for one partition
 * (pool_reserve) or any buffer (pool_init, for host tests). Everything the
 * hypervisor allocates on a partition's behalf comes from its pool, so a
 * guest that runs its pool dry hurts nobody but itself. The headers live in
 * the pool, never in guest memory. Single CPU, no locking.
 */
#ifndef BULKHEAD_POOL_H
#define BULKHEAD_POOL_H

#include "types.h"

#define POOL_ALIGN 16 /* every block and every pointer handed out */

struct pool_free;

struct pool {
	u8 *base;
	u64 size;	/* bytes, a multiple of POOL_ALIGN */
	u64 pa, frames; /* pool_reserve: palloc frames at base; 0 for a caller's buffer */
	u64 used;	/* bytes of live blocks, headers included */
	u64 peak;	/* the most `used` has been */
	u64 failures;	/* allocations refused */
	u64 bad_frees;	/* pool_free of something that is not a live block of this pool */
	struct pool_free *free_list;
	/* Called on every refused allocation (optional): the owner reports it, rate limited. */
	void (*exhausted)(struct pool *pool, size_t want, void *ctx);
	void *ctx;
};

/* Manage [buf, buf + size): buf aligned to POOL_ALIGN; size is rounded down. */
void pool_init(struct pool *pool, void *buf, u64 size);
/* Forget the pool; its memory is plain memory again, its blocks must not be used. */
void pool_clear(struct pool *pool);
/* pool_frames.c: */
/* size bytes (rounded up to pages) of zeroed palloc frames, contiguous; -1 if there are none.
 * size 0 makes an empty pool. */
int pool_reserve(struct pool *pool, u64 size);
/* Give pool_reserve's frames back; the pool is empty afterwards (pool_init's buffer stays). */
void pool_release(struct pool *pool);

/* NULL when the pool has no room (pool->exhausted is told). size 0 gives a unique pointer. */
void *pool_alloc(struct pool *pool, size_t size);
void *pool_zalloc(struct pool *pool, size_t size);
/* n * size zeroed bytes; NULL also when the product overflows. */
void *pool_calloc(struct pool *pool, size_t n, size_t size);
/* As realloc: NULL ptr allocates; on failure NULL and ptr is untouched. Never shrinks. */
void *pool_realloc(struct pool *pool, void *ptr, size_t size);
/* Free a block (NULL is ignored). 0, or -1 if ptr is not a live block of this pool: then
 * nothing changes and bad_frees counts it. */
int pool_free(struct pool *pool, void *ptr);

/* Bytes the largest allocation that would succeed now may have. */
u64 pool_largest(const struct pool *pool);

#endif
