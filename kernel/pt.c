/*
 * 4-level page-table builder for host paging, AMD NPT and Intel EPT. The
 * three differ only in entry bits (struct pt_format); the walk, splitting of
 * large leaves and freeing of tables are written once here.
 */
#include "pt.h"
#include "palloc.h"
#include "x86.h" /* PTE_* */

#define PT_LEVELS  4
#define PT_ENTRIES 512

/* EPT entry bits (SDM Vol.3 29.3.2, tables 29-1..29-6). */
#define EPT_R	     (1ull << 0)
#define EPT_W	     (1ull << 1)
#define EPT_X	     (1ull << 2)
#define EPT_MT_SHIFT 3
#define EPT_MT_UC    0ull
#define EPT_MT_WB    6ull
#define EPT_PS	     (1ull << 7)

/*
 * Host and NPT leaves never set NX, so the tables are valid whatever EFER.NXE
 * is (bit 63 is reserved while it is clear; SDM Vol.3 4.5.4).
 */
static u64 x86_leaf(unsigned prot, bool user)
{
	u64 e = PTE_P;

	if (prot & PT_W)
		e |= PTE_RW;
	if (prot & PT_UC)
		e |= PTE_PCD | PTE_PWT;
	if (user)
		e |= PTE_US;
	return e;
}

static u64 host_leaf_bits(unsigned prot, int level)
{
	return x86_leaf(prot, false);
}

/* NPT entries need U at every level: guest accesses are user accesses (APM 15.25.5). */
static u64 npt_leaf_bits(unsigned prot, int level)
{
	return x86_leaf(prot, true);
}

static u64 ept_leaf_bits(unsigned prot, int level)
{
	u64 e = ((prot & PT_UC) ? EPT_MT_UC : EPT_MT_WB) << EPT_MT_SHIFT;

	if (prot & PT_R)
		e |= EPT_R;
	if (prot & PT_W)
		e |= EPT_W;
	if (prot & PT_X)
		e |= EPT_X;
	return e;
}

const struct pt_format pt_format_host = {
    .table_bits = PTE_P | PTE_RW,
    .present_mask = PTE_P,
    .large_bit = PTE_PS,
    .leaf_bits = host_leaf_bits,
    .allow_1g = true,
};

const struct pt_format pt_format_npt = {
    .table_bits = PTE_P | PTE_RW | PTE_US,
    .present_mask = PTE_P,
    .large_bit = PTE_PS,
    .leaf_bits = npt_leaf_bits,
    .allow_1g = true,
};

const struct pt_format pt_format_ept = {
    .table_bits = EPT_R | EPT_W | EPT_X,
    .present_mask = EPT_R | EPT_W | EPT_X,
    .large_bit = EPT_PS,
    .leaf_bits = ept_leaf_bits,
    .allow_1g = true,
};

/* Bytes one entry at level maps: 1 = 4K, 2 = 2M, 3 = 1G, 4 = 512G. */
static u64 level_size(int level)
{
	return 1ull << (PAGE_SHIFT + 9 * (level - 1));
}

static unsigned level_index(u64 va, int level)
{
	return (va >> (PAGE_SHIFT + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

static u64 *table_of(u64 entry)
{
	return phys_to_virt(entry & PT_ADDR_MASK);
}

static bool present(const struct pt *pt, u64 e)
{
	return e & pt->fmt->present_mask;
}

static bool is_leaf(const struct pt *pt, u64 e, int level)
{
	return level == 1 || (e & pt->fmt->large_bit);
}

int pt_init(struct pt *pt, const struct pt_format *fmt)
{
	pt->fmt = fmt;
	pt->root = palloc_alloc();
	return pt->root ? 0 : -1;
}

/* Free the table behind a non-leaf entry at level, and every table below it. */
static void free_tables(const struct pt *pt, u64 table_pa, int level)
{
	u64 *t = phys_to_virt(table_pa);

	if (level > 1) {
		for (unsigned i = 0; i < PT_ENTRIES; i++)
			if (present(pt, t[i]) && !is_leaf(pt, t[i], level))
				free_tables(pt, t[i] & PT_ADDR_MASK, level - 1);
	}
	palloc_free(table_pa);
}

void pt_destroy(struct pt *pt)
{
	if (pt->root)
		free_tables(pt, pt->root, PT_LEVELS);
	pt->root = 0;
}

/* Replace the large leaf *e at level by a table of 512 leaves one level down. */
static int split_leaf(const struct pt *pt, u64 *e, int level)
{
	u64 table = palloc_alloc();
	u64 base = *e & PT_ADDR_MASK;
	u64 flags = *e & ~PT_ADDR_MASK & ~pt->fmt->large_bit;
	u64 *t;

	if (!table)
		return -1;
	t = phys_to_virt(table);
	if (level - 1 > 1)
		flags |= pt->fmt->large_bit;
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		t[i] = (base + i * level_size(level - 1)) | flags;
	*e = table | pt->fmt->table_bits;
	return 0;
}

/*
 * The entry for va at want_level, creating tables on the way down and
 * splitting large leaves that are in the way. NULL when out of memory.
 */
static u64 *walk_create(const struct pt *pt, u64 va, int want_level)
{
	u64 *t = phys_to_virt(pt->root);

	for (int level = PT_LEVELS; level > want_level; level--) {
		u64 *e = &t[level_index(va, level)];

		if (!present(pt, *e)) {
			u64 table = palloc_alloc();

			if (!table)
				return NULL;
			*e = table | pt->fmt->table_bits;
		} else if (is_leaf(pt, *e, level) && split_leaf(pt, e, level)) {
			return NULL;
		}
		t = table_of(*e);
	}
	return &t[level_index(va, want_level)];
}

/* Largest leaf level that va, pa and the remaining size allow. */
static int map_level(const struct pt *pt, u64 va, u64 pa, u64 left, bool small)
{
	int top = pt->fmt->allow_1g ? 3 : 2;

	if (small)
		return 1;
	for (int level = top; level > 1; level--) {
		u64 sz = level_size(level);

		if (IS_ALIGNED(va, sz) && IS_ALIGNED(pa, sz) && left >= sz)
			return level;
	}
	return 1;
}

int pt_map(struct pt *pt, u64 va, u64 pa, u64 size, unsigned prot, bool small)
{
	if (!IS_ALIGNED(va | pa | size, PAGE_SIZE))
		return -1;
	while (size) {
		int level = map_level(pt, va, pa, size, small);
		u64 *e = walk_create(pt, va, level);
		u64 leaf = pa | pt->fmt->leaf_bits(prot, level);

		if (!e)
			return -1;
		if (level > 1)
			leaf |= pt->fmt->large_bit;
		if (present(pt, *e) && !is_leaf(pt, *e, level))
			free_tables(pt, *e & PT_ADDR_MASK, level - 1);
		*e = leaf;
		va += level_size(level);
		pa += level_size(level);
		size -= level_size(level);
	}
	return 0;
}

int pt_unmap(struct pt *pt, u64 va, u64 size)
{
	if (!IS_ALIGNED(va | size, PAGE_SIZE))
		return -1;
	while (size) {
		u64 *t = phys_to_virt(pt->root);
		u64 step = PAGE_SIZE;

		for (int level = PT_LEVELS; level >= 1; level--) {
			u64 *e = &t[level_index(va, level)];
			u64 sz = level_size(level);

			step = sz - (va & (sz - 1));
			if (!present(pt, *e))
				break;
			if (IS_ALIGNED(va, sz) && size >= sz) {
				if (!is_leaf(pt, *e, level))
					free_tables(pt, *e & PT_ADDR_MASK, level - 1);
				*e = 0;
				break;
			}
			if (is_leaf(pt, *e, level) && split_leaf(pt, e, level))
				return -1;
			t = table_of(*e);
		}
		if (step >= size)
			break;
		va += step;
		size -= step;
	}
	return 0;
}

bool pt_lookup(const struct pt *pt, u64 va, u64 *pa, u64 *leaf_entry)
{
	const u64 *t = phys_to_virt(pt->root);

	for (int level = PT_LEVELS; level >= 1; level--) {
		u64 e = t[level_index(va, level)];

		if (!present(pt, e))
			return false;
		if (is_leaf(pt, e, level)) {
			*pa = (e & PT_ADDR_MASK & ~(level_size(level) - 1)) +
			      (va & (level_size(level) - 1));
			if (leaf_entry)
				*leaf_entry = e;
			return true;
		}
		t = table_of(e);
	}
	return false;
}
