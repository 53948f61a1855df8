/*
 * GPADL assembly, checks and page access (gpadl.h). The range buffer is
 * Linux's: per range a struct vmbus_gpa_range (byte count, byte offset) and
 * the PFNs of every page the bytes touch, range_buflen bytes in all
 * (include/linux/hyperv.h struct gpa_range, struct vmbus_channel_gpadl_header).
 */
#include "vmbus/gpadl.h"

#include <string.h>

struct vmb_gpadl_mapping {
	struct pool *pool;
	struct gpadl *gpadl; /* NULL once the GPADL is gone */
	struct vmb_gpadl_mapping *next;
	struct vmb_channel *channel;
	u64 size;
	u16 nr_ranges;
	struct gpadl_range *ranges;
	u8 **pages;
};

static enum gpadl_status fail(const char **why, const char *what)
{
	*why = what;
	return GPADL_BAD;
}

/* Count bytes more against the bus's assembly budget. */
static enum gpadl_status charge(struct gpadl *g, u64 bytes, const char **why)
{
	struct gpadl_budget *b = g->budget;

	if (bytes > GPADL_ASSEMBLY_MAX - b->assembling) {
		*why = "too many GPADL bytes being assembled on this bus";
		return GPADL_LIMIT;
	}
	b->assembling += bytes;
	g->charged += bytes;
	return GPADL_OK;
}

static void uncharge(struct gpadl *g)
{
	g->budget->assembling -= g->charged;
	g->charged = 0;
}

/* Room for need words in raw: doubling, never past what the header announced. */
static enum gpadl_status grow(struct gpadl *g, u32 need, const char **why)
{
	u32 room = MIN(g->words, MAX(need, 2 * g->room));
	enum gpadl_status st;
	u64 *raw;

	if (need <= g->room)
		return GPADL_OK;
	st = charge(g, (u64)(room - g->room) * sizeof(u64), why);
	if (st != GPADL_OK)
		return st;
	raw = pool_realloc(g->budget->pool, g->raw, (size_t)room * sizeof(u64));
	if (!raw) {
		*why = "out of device memory";
		return GPADL_NOMEM;
	}
	g->raw = raw;
	g->room = room;
	return GPADL_OK;
}

/* Append whole u64 words of ranges/PFNs. */
static enum gpadl_status append(struct gpadl *g, const void *data, u32 len, const char **why)
{
	enum gpadl_status st;

	if (len % sizeof(u64))
		return fail(why, "PFN bytes not a multiple of 8");
	if (len / sizeof(u64) > g->words - g->filled)
		return fail(why, "more PFNs than range_buflen announced");
	st = grow(g, g->filled + len / (u32)sizeof(u64), why);
	if (st != GPADL_OK)
		return st;
	memcpy(g->raw + g->filled, data, len);
	g->filled += len / sizeof(u64);
	if (g->filled != g->words)
		return GPADL_MORE;
	uncharge(g); /* assembled: what it holds now is a GPADL's, not assembly's */
	return GPADL_OK;
}

enum gpadl_status gpadl_begin(struct gpadl **out, struct gpadl_budget *budget, u32 id,
			      u16 range_buflen, u16 range_count, const void *data, u32 len,
			      const char **why)
{
	struct gpadl *g;
	enum gpadl_status st;

	*out = NULL;
	if (!range_count)
		return fail(why, "no ranges");
	if (range_buflen % sizeof(u64))
		return fail(why, "range_buflen not a multiple of 8");
	/* Each range needs its header and at least one PFN. */
	if (range_buflen / (2 * sizeof(u64)) < range_count)
		return fail(why, "range_buflen too small for its ranges");
	if (sizeof(*g) > GPADL_ASSEMBLY_MAX - budget->assembling) {
		*why = "too many GPADL bytes being assembled on this bus";
		return GPADL_LIMIT;
	}
	g = pool_zalloc(budget->pool, sizeof(*g));
	if (!g) {
		*why = "out of device memory";
		return GPADL_NOMEM;
	}
	g->budget = budget;
	charge(g, sizeof(*g), why);
	g->id = id;
	g->nr_ranges = range_count;
	g->words = range_buflen / sizeof(u64);
	/* raw grows as PFNs arrive: a header alone costs no more than what it carries. */
	st = len ? append(g, data, len, why) : GPADL_MORE;
	if (st != GPADL_OK && st != GPADL_MORE) {
		gpadl_free(g);
		return st;
	}
	*out = g;
	return st;
}

enum gpadl_status gpadl_add(struct gpadl *g, const void *data, u32 len, const char **why)
{
	if (!len)
		return fail(why, "a body without PFNs");
	if (gpadl_complete(g))
		return fail(why, "a body after the last PFN");
	return append(g, data, len, why);
}

bool gpadl_complete(const struct gpadl *g)
{
	return g->filled == g->words;
}

static bool pfn_ok(const struct vmbus_host *host, u64 pfn)
{
	return pfn < VMBUS_PFN_LIMIT && host->page(host->ctx, pfn << PAGE_SHIFT);
}

enum gpadl_status gpadl_finish(struct gpadl *g, const struct vmbus_host *host, const char **why)
{
	u32 at = 0, pfns = 0;

	if (!gpadl_complete(g))
		return fail(why, "incomplete");
	g->ranges = pool_calloc(g->budget->pool, g->nr_ranges, sizeof(*g->ranges));
	if (!g->ranges) {
		*why = "out of device memory";
		return GPADL_NOMEM;
	}
	g->size = 0;
	for (unsigned i = 0; i < g->nr_ranges; i++) {
		struct gpadl_range *r = &g->ranges[i];
		u64 word, pages;

		if (at == g->words)
			return fail(why, "fewer ranges than range_count");
		word = g->raw[at++];
		r->byte_count = (u32)word;
		r->byte_offset = (u32)(word >> 32);
		if (!r->byte_count || r->byte_offset >= PAGE_SIZE)
			return fail(why, "range with no bytes or an offset past its page");
		pages = ALIGN_UP((u64)r->byte_offset + r->byte_count, PAGE_SIZE) >> PAGE_SHIFT;
		if (pages > g->words - at)
			return fail(why, "range with fewer PFNs than bytes");
		for (u64 p = 0; p < pages; p++)
			if (!pfn_ok(host, g->raw[at + p]))
				return fail(why, "PFN outside guest RAM");
		/* Compact: the PFNs move down over the range headers. */
		memmove(g->raw + pfns, g->raw + at, pages * sizeof(u64));
		r->first = pfns;
		r->nr_pfns = (u32)pages;
		pfns += (u32)pages;
		at += (u32)pages;
		g->size += r->byte_count;
	}
	if (at != g->words)
		return fail(why, "range_buflen longer than its ranges");
	g->nr_pfns = pfns;
	return GPADL_OK;
}

void gpadl_free(struct gpadl *g)
{
	if (!g)
		return;
	for (struct vmb_gpadl_mapping *m = g->mappings; m; m = m->next)
		m->gpadl = NULL;
	uncharge(g);
	pool_free(g->budget->pool, g->ranges);
	pool_free(g->budget->pool, g->raw);
	pool_free(g->budget->pool, g);
}

bool gpadl_pages(const struct gpadl *g, const struct vmbus_host *host, u32 first, u32 n, u8 **out)
{
	if (first > g->nr_pfns || n > g->nr_pfns - first)
		return false;
	for (u32 i = 0; i < n; i++) {
		out[i] = host->page(host->ctx, g->raw[first + i] << PAGE_SHIFT);
		if (!out[i])
			return false;
	}
	return true;
}

struct vmb_gpadl_mapping *gpadl_map(struct gpadl *g, const struct vmbus_host *host,
				    struct vmb_channel *channel)
{
	struct vmb_gpadl_mapping *m = pool_zalloc(host->pool, sizeof(*m));

	if (!m)
		return NULL;
	m->pool = host->pool;
	m->ranges = pool_calloc(m->pool, g->nr_ranges, sizeof(*m->ranges));
	m->pages = pool_calloc(m->pool, g->nr_pfns, sizeof(*m->pages));
	if (!m->ranges || !m->pages || !gpadl_pages(g, host, 0, g->nr_pfns, m->pages)) {
		pool_free(m->pool, m->ranges);
		pool_free(m->pool, m->pages);
		pool_free(m->pool, m);
		return NULL;
	}
	memcpy(m->ranges, g->ranges, g->nr_ranges * sizeof(*m->ranges));
	m->nr_ranges = g->nr_ranges;
	m->size = g->size;
	m->channel = channel;
	m->gpadl = g;
	m->next = g->mappings;
	g->mappings = m;
	g->users++;
	return m;
}

struct gpadl *gpadl_unmap(struct vmb_gpadl_mapping *m)
{
	struct gpadl *g = m->gpadl;

	if (g) {
		for (struct vmb_gpadl_mapping **pp = &g->mappings; *pp; pp = &(*pp)->next) {
			if (*pp == m) {
				*pp = m->next;
				break;
			}
		}
		g->users--;
	}
	pool_free(m->pool, m->ranges);
	pool_free(m->pool, m->pages);
	pool_free(m->pool, m);
	return g;
}

const struct gpadl *gpadl_mapping_gpadl(const struct vmb_gpadl_mapping *m)
{
	return m->gpadl;
}

bool gpadl_shares_page(const struct gpadl *a, const struct gpadl *b)
{
	/* After gpadl_finish raw holds the PFNs only; a few thousand by a few hundred at most. */
	for (u32 i = 0; i < a->nr_pfns; i++)
		for (u32 j = 0; j < b->nr_pfns; j++)
			if (a->raw[i] == b->raw[j])
				return true;
	return false;
}

struct vmb_channel *gpadl_mapping_channel(const struct vmb_gpadl_mapping *m)
{
	return m->channel;
}

unsigned gpadl_nr_mappings(const struct gpadl *g)
{
	unsigned n = 0;

	for (const struct vmb_gpadl_mapping *m = g->mappings; m; m = m->next)
		n++;
	return n;
}

u64 vmb_gpadl_mapping_size(const struct vmb_gpadl_mapping *mapping)
{
	return mapping->size;
}

/* Copy len bytes at offset of the mapped buffer, in or out. */
static vmb_status mapping_copy(const struct vmb_gpadl_mapping *m, u64 offset, void *buf, u64 len,
			       bool out)
{
	u8 *p = buf;
	u64 base = 0;

	if (!m->gpadl)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	if (offset > m->size || len > m->size - offset)
		return VMB_STATUS_INVALID_PARAMETER;
	for (unsigned i = 0; i < m->nr_ranges && len; i++) {
		const struct gpadl_range *r = &m->ranges[i];

		if (offset >= base + r->byte_count) {
			base += r->byte_count;
			continue;
		}
		while (len && offset < base + r->byte_count) {
			u64 pos = r->byte_offset + (offset - base);
			u64 in_page = pos & (PAGE_SIZE - 1);
			u64 chunk =
			    MIN(MIN(len, PAGE_SIZE - in_page), base + r->byte_count - offset);
			u8 *page = m->pages[r->first + (pos >> PAGE_SHIFT)];

			if (out)
				memcpy(p, page + in_page, chunk);
			else
				memcpy(page + in_page, p, chunk);
			p += chunk;
			offset += chunk;
			len -= chunk;
		}
		base += r->byte_count;
	}
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_gpadl_read(const struct vmb_gpadl_mapping *mapping, u64 offset, void *buf, u64 len)
{
	return mapping_copy(mapping, offset, buf, len, true);
}

vmb_status vmb_gpadl_write(const struct vmb_gpadl_mapping *mapping, u64 offset, const void *buf,
			   u64 len)
{
	return mapping_copy(mapping, offset, (void *)buf, len, false);
}
