/*
 * Physical page allocator. Built from the firmware memory map; hands out 4K
 * frames. Frames are identified by physical address (identity-mapped).
 */
#ifndef BULKHEAD_PALLOC_H
#define BULKHEAD_PALLOC_H

#include "types.h"

struct boot_mem_range;

/*
 * Initialise from the UEFI map: conventional and boot-services memory is free,
 * except [reserve_lo, reserve_hi) (the hypervisor image) and the first 1 MiB.
 * bitmap must hold one bit per frame up to the highest free address: the
 * caller asks palloc_bitmap_bytes() first. Returns the number of free frames.
 */
u64 palloc_bitmap_bytes(const struct boot_mem_range *map, unsigned n);
u64 palloc_init(const struct boot_mem_range *map, unsigned n, u64 reserve_lo, u64 reserve_hi,
		void *bitmap, u64 bitmap_bytes);

/* One zeroed frame, or 0 when none is left. */
u64 palloc_alloc(void);
/* count physically contiguous zeroed frames aligned to align bytes, or 0. */
u64 palloc_alloc_contig(u64 count, u64 align);
void palloc_free(u64 pa);
void palloc_free_contig(u64 pa, u64 count);
u64 palloc_free_count(void);
u64 palloc_total_count(void);

/*
 * How physical addresses become pointers. The hypervisor maps all memory
 * 1:1; host unit tests substitute their own translation.
 */
void *phys_to_virt(u64 pa);

#endif
