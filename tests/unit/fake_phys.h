/*
 * Host stand-in for physical memory: FAKE_PHYS_SIZE bytes that appear at
 * physical address FAKE_PHYS_BASE, with phys_to_virt() into them, and a
 * memory map that hands them all to the page allocator.
 */
#ifndef BULKHEAD_TEST_FAKE_PHYS_H
#define BULKHEAD_TEST_FAKE_PHYS_H

#include "kernel/boot_info.h"

#define FAKE_PHYS_BASE (4ull << 20)
#define FAKE_PHYS_SIZE (16ull << 20)

/* (Re)create the fake memory and initialise palloc over it. Returns free frames. */
u64 fake_phys_init(void);
/* True if pa is inside the fake memory. */
int fake_phys_owns(u64 pa);

#endif
