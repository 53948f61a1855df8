/*
 * Host stand-in for physical memory that is identity-mapped, as the
 * hypervisor's is: FAKE_IDENT_SIZE bytes mapped at host address
 * FAKE_IDENT_BASE, so a frame's physical address is also a pointer to it
 * (kernel/part.c keeps palloc'd arrays as pointers). fake_phys.h is the
 * variant for code that only goes through phys_to_virt().
 */
#ifndef BULKHEAD_TEST_FAKE_IDENT_H
#define BULKHEAD_TEST_FAKE_IDENT_H

#include "kernel/types.h"

#define FAKE_IDENT_BASE (1ull << 30) /* low user memory, outside ASan's shadow */
#define FAKE_IDENT_SIZE (8ull << 20)

/* (Re)fill the memory with garbage and initialise palloc over it. Returns free frames. */
u64 fake_ident_init(void);

#endif
