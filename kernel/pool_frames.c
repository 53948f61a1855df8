/*
 * A partition's pool over page frames (pool.h, pool_reserve): taken from
 * palloc in one contiguous run when the partition is created, so that it
 * never competes with another partition for frames later, and given back
 * when it goes away.
 */
#include "pool.h"
#include "palloc.h"

#include <string.h>

int pool_reserve(struct pool *pool, u64 size)
{
	u64 frames = ALIGN_UP(size, PAGE_SIZE) >> PAGE_SHIFT;
	u64 pa;

	memset(pool, 0, sizeof(*pool));
	if (!frames)
		return 0; /* an empty pool: every allocation is refused */
	pa = palloc_alloc_contig(frames, PAGE_SIZE);
	if (!pa)
		return -1;
	pool_init(pool, phys_to_virt(pa), frames << PAGE_SHIFT);
	pool->pa = pa;
	pool->frames = frames;
	return 0;
}

void pool_release(struct pool *pool)
{
	u64 pa = pool->pa, frames = pool->frames;

	pool_clear(pool);
	if (frames)
		palloc_free_contig(pa, frames);
}
