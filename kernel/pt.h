/*
 * 4-level page-table builder, shared by the hypervisor's own tables, EPT and
 * NPT. The entry format is data (struct pt_format), so one builder serves
 * all three and is tested on the host.
 */
#ifndef BULKHEAD_PT_H
#define BULKHEAD_PT_H

#include "types.h"

/* Access rights asked of pt_map(); the format turns them into bits. */
#define PT_R  1u
#define PT_W  2u
#define PT_X  4u
#define PT_UC 8u /* uncached (MMIO) */

struct pt_format {
	u64 table_bits;	  /* bits of a non-leaf entry that points to a table */
	u64 present_mask; /* an entry is present if any of these bits is set */
	u64 large_bit;	  /* PS bit, for 2M/1G leaves */
	u64 (*leaf_bits)(unsigned prot, int level); /* level 1 = 4K, 2 = 2M, 3 = 1G */
	bool allow_1g;				    /* may use 1G leaves */
};

/* Entry formats (architectural; see pt.c for the SDM/APM references). */
extern const struct pt_format pt_format_host; /* x86-64 4-level paging */
extern const struct pt_format pt_format_npt;  /* AMD nested paging: host format + U bit */
extern const struct pt_format pt_format_ept;  /* Intel EPT */

#define PT_ADDR_MASK 0x000ffffffffff000ull

/* A page-table tree: the root frame's physical address and its format. */
struct pt {
	u64 root;
	const struct pt_format *fmt;
};

/* Allocate an empty root (palloc). Returns 0 or -1. */
int pt_init(struct pt *pt, const struct pt_format *fmt);
/* Free every table frame (not the mapped frames). */
void pt_destroy(struct pt *pt);
/*
 * Map [va, va+size) to [pa, pa+size) with prot. All three page aligned. Uses
 * the largest leaves alignment allows (2M, 1G if the format allows), unless
 * small is set. Overwrites existing mappings. Returns 0 or -1 (out of memory).
 */
int pt_map(struct pt *pt, u64 va, u64 pa, u64 size, unsigned prot, bool small);
/* Remove mappings of [va, va+size); splits large leaves where needed. */
int pt_unmap(struct pt *pt, u64 va, u64 size);
/* Translate va. Returns true and sets *pa (and *leaf_entry if not NULL). */
bool pt_lookup(const struct pt *pt, u64 va, u64 *pa, u64 *leaf_entry);

#endif
