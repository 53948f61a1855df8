/* Fake physical memory for host unit tests of palloc and pt (fake_phys.h). */
#include <stdlib.h>
#include <string.h>

#include "kernel/palloc.h"
#include "tests/unit/fake_phys.h"

static unsigned char *arena;
static u64 bitmap[(FAKE_PHYS_BASE + FAKE_PHYS_SIZE) / PAGE_SIZE / 64];

void *phys_to_virt(u64 pa)
{
	if (!fake_phys_owns(pa))
		abort();
	return arena + (pa - FAKE_PHYS_BASE);
}

int fake_phys_owns(u64 pa)
{
	return pa >= FAKE_PHYS_BASE && pa < FAKE_PHYS_BASE + FAKE_PHYS_SIZE;
}

u64 fake_phys_init(void)
{
	struct boot_mem_range map[] = {
	    {.base = 0, .pages = FAKE_PHYS_BASE >> PAGE_SHIFT, .type = 0},
	    {.base = FAKE_PHYS_BASE,
	     .pages = FAKE_PHYS_SIZE >> PAGE_SHIFT,
	     .type = BOOT_MEM_CONVENTIONAL},
	};

	free(arena);
	arena = aligned_alloc(PAGE_SIZE, FAKE_PHYS_SIZE);
	memset(arena, 0xa5, FAKE_PHYS_SIZE); /* allocations must come back zeroed */
	return palloc_init(map, 2, 0, 0, bitmap, palloc_bitmap_bytes(map, 2));
}
