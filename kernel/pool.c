/*
 * Per-partition memory pools (pool.h). The pool is a row of blocks, each a
 * 16-byte header and its payload; a header records its block's size and the
 * size of the block before it, so a freed block merges with both neighbours
 * at once. Free blocks are also on a doubly linked list (the links in their
 * payload), searched first fit. Under AddressSanitizer (host tests and
 * fuzzers) the free payloads and the slack behind each allocation are
 * poisoned, so a use after free or a small overrun is still caught.
 */
#include "pool.h"

#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define POOL_ASAN 1
#endif
#ifdef POOL_ASAN
#include <sanitizer/asan_interface.h>
#define poison(p, n)	  ASAN_POISON_MEMORY_REGION((p), (n))
#define unpoison(p, n)	  ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define is_poisoned(p, n) (__asan_region_is_poisoned((void *)(p), (n)) != NULL)
#else
#define poison(p, n)	  ((void)(p), (void)(n))
#define unpoison(p, n)	  ((void)(p), (void)(n))
#define is_poisoned(p, n) ((void)(p), (void)(n), false)
#endif

#define MAGIC_USED 0x55534544u /* "USED" */
#define MAGIC_FREE 0x46524545u /* "FREE" */
#define UNIT	   POOL_ALIGN
#define MIN_UNITS  2 /* a header and the two links of a free block */

struct pool_hdr {
	u32 magic;
	u32 units;	/* this block, header included, in UNITs */
	u32 prev_units; /* the block before it; 0 for the first */
	u32 req;	/* bytes asked for (used blocks) */
};
_Static_assert(sizeof(struct pool_hdr) == UNIT, "pool header is one unit");

struct pool_free {
	struct pool_free *next, *prev;
};
_Static_assert(sizeof(struct pool_free) <= UNIT, "free links fit in one unit");

/* A block is at most 2^32 units: a bigger pool is split into several blocks. */
#define MAX_BLOCK_UNITS 0xffffffffu

static struct pool_hdr *hdr_of(const struct pool_free *f)
{
	return (struct pool_hdr *)f - 1;
}

static struct pool_free *links_of(struct pool_hdr *h)
{
	return (struct pool_free *)(h + 1);
}

static u8 *pool_end(const struct pool *pool)
{
	return pool->base + pool->size;
}

static struct pool_hdr *next_hdr(const struct pool *pool, struct pool_hdr *h)
{
	u8 *n = (u8 *)h + (u64)h->units * UNIT;

	return n < pool_end(pool) ? (struct pool_hdr *)n : NULL;
}

static struct pool_hdr *prev_hdr(struct pool_hdr *h)
{
	return h->prev_units ? (struct pool_hdr *)((u8 *)h - (u64)h->prev_units * UNIT) : NULL;
}

static void list_remove(struct pool *pool, struct pool_hdr *h)
{
	struct pool_free *f = links_of(h);

	if (f->prev)
		f->prev->next = f->next;
	else
		pool->free_list = f->next;
	if (f->next)
		f->next->prev = f->prev;
}

/* Make h a free block of units and put it on the list; its payload is poisoned. */
static void make_free(struct pool *pool, struct pool_hdr *h, u32 units)
{
	struct pool_free *f = links_of(h);
	struct pool_hdr *n;

	unpoison(h, 2 * UNIT);
	h->magic = MAGIC_FREE;
	h->units = units;
	h->req = 0;
	f->prev = NULL;
	f->next = pool->free_list;
	if (f->next)
		f->next->prev = f;
	pool->free_list = f;
	poison((u8 *)h + 2 * UNIT, (u64)units * UNIT - 2 * UNIT);
	n = next_hdr(pool, h);
	if (n)
		n->prev_units = units;
}

void pool_init(struct pool *pool, void *buf, u64 size)
{
	u64 at = 0;
	u32 prev = 0;

	memset(pool, 0, sizeof(*pool));
	pool->base = buf;
	pool->size = size / UNIT * UNIT;
	unpoison(buf, pool->size);
	if (pool->size < MIN_UNITS * UNIT) {
		pool->size = 0;
		return;
	}
	/* One free block, or a few when the pool is larger than a block can be. */
	while (at < pool->size) {
		u64 units = MIN((pool->size - at) / UNIT, (u64)MAX_BLOCK_UNITS);
		struct pool_hdr *h = (struct pool_hdr *)(pool->base + at);

		if (units < MIN_UNITS) {
			pool->size = at; /* a tail too small for a block: not part of the pool */
			break;
		}
		unpoison(h, UNIT);
		h->prev_units = prev;
		make_free(pool, h, (u32)units);
		prev = (u32)units;
		at += units * UNIT;
	}
}

void pool_clear(struct pool *pool)
{
	unpoison(pool->base, pool->size);
	memset(pool, 0, sizeof(*pool));
}

static void *refuse(struct pool *pool, size_t size)
{
	pool->failures++;
	if (pool->exhausted)
		pool->exhausted(pool, size, pool->ctx);
	return NULL;
}

void *pool_alloc(struct pool *pool, size_t size)
{
	u64 units;

	if (size > pool->size || size > MAX_BLOCK_UNITS - 1)
		return refuse(pool, size);
	units = MAX((ALIGN_UP((u64)size, UNIT) / UNIT) + 1, (u64)MIN_UNITS);
	for (struct pool_free *f = pool->free_list; f; f = f->next) {
		struct pool_hdr *h = hdr_of(f);
		u8 *payload;

		if (h->units < units)
			continue;
		list_remove(pool, h);
		if (h->units - units >= MIN_UNITS) {
			struct pool_hdr *rest = (struct pool_hdr *)((u8 *)h + units * UNIT);

			unpoison(rest, UNIT);
			rest->prev_units = (u32)units;
			make_free(pool, rest, (u32)(h->units - units));
			h->units = (u32)units;
		}
		h->magic = MAGIC_USED;
		h->req = (u32)size;
		payload = (u8 *)(h + 1);
		poison(payload, (u64)h->units * UNIT - UNIT);
		unpoison(payload, size);
		pool->used += (u64)h->units * UNIT;
		pool->peak = MAX(pool->peak, pool->used);
		return payload;
	}
	return refuse(pool, size);
}

void *pool_zalloc(struct pool *pool, size_t size)
{
	void *p = pool_alloc(pool, size);

	if (p)
		memset(p, 0, size);
	return p;
}

void *pool_calloc(struct pool *pool, size_t n, size_t size)
{
	if (size && n > (size_t)-1 / size)
		return refuse(pool, (size_t)-1);
	return pool_zalloc(pool, n * size);
}

/* The live block ptr is the payload of, or NULL. Cheap: the neighbours must agree. */
static struct pool_hdr *live_block(const struct pool *pool, const void *ptr)
{
	const u8 *p = ptr;
	struct pool_hdr *h, *n, *prev;

	if (p < pool->base + UNIT || p >= pool_end(pool) || (u64)(p - pool->base) % UNIT)
		return NULL;
	h = (struct pool_hdr *)p - 1;
	if (is_poisoned(h, UNIT)) /* inside a free block, or a header merged away */
		return NULL;
	if (h->magic != MAGIC_USED || !h->units ||
	    (u64)h->units * UNIT > (u64)(pool_end(pool) - (u8 *)h))
		return NULL;
	n = next_hdr(pool, h);
	if (n && n->prev_units != h->units)
		return NULL;
	prev = prev_hdr(h);
	if (prev &&
	    ((u8 *)prev < pool->base || is_poisoned(prev, UNIT) || prev->units != h->prev_units))
		return NULL;
	return h;
}

int pool_free(struct pool *pool, void *ptr)
{
	struct pool_hdr *h, *n, *prev;
	u64 units;

	if (!ptr)
		return 0;
	h = live_block(pool, ptr);
	if (!h) {
		pool->bad_frees++;
		return -1;
	}
	pool->used -= (u64)h->units * UNIT;
	units = h->units;
	n = next_hdr(pool, h);
	if (n && n->magic == MAGIC_FREE && units + n->units <= MAX_BLOCK_UNITS) {
		list_remove(pool, n);
		units += n->units;
		n->magic = 0;
	}
	prev = prev_hdr(h);
	if (prev && prev->magic == MAGIC_FREE && units + prev->units <= MAX_BLOCK_UNITS) {
		list_remove(pool, prev);
		units += prev->units;
		h->magic = 0;
		h = prev;
	}
	make_free(pool, h, (u32)units);
	return 0;
}

void *pool_realloc(struct pool *pool, void *ptr, size_t size)
{
	struct pool_hdr *h;
	void *q;

	if (!ptr)
		return pool_alloc(pool, size);
	h = live_block(pool, ptr);
	if (!h) {
		pool->bad_frees++;
		return NULL;
	}
	if (size <= (u64)h->units * UNIT - UNIT) {
		unpoison(ptr, size);
		h->req = (u32)MAX((u64)h->req, (u64)size);
		return ptr;
	}
	q = pool_alloc(pool, size);
	if (!q)
		return NULL;
	memcpy(q, ptr, h->req);
	pool_free(pool, ptr);
	return q;
}

u64 pool_largest(const struct pool *pool)
{
	u64 best = 0;

	for (const struct pool_free *f = pool->free_list; f; f = f->next)
		best = MAX(best, (u64)hdr_of(f)->units);
	return best ? (best - 1) * UNIT : 0;
}
