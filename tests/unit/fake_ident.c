/* Identity-mapped fake physical memory for host unit tests (fake_ident.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kernel/boot_info.h"
#include "kernel/palloc.h"
#include "tests/unit/fake_ident.h"

static u64 bitmap[(FAKE_IDENT_BASE + FAKE_IDENT_SIZE) / PAGE_SIZE / 64];
static bool mapped;

void *phys_to_virt(u64 pa)
{
	if (pa < FAKE_IDENT_BASE || pa >= FAKE_IDENT_BASE + FAKE_IDENT_SIZE)
		abort();
	return (void *)pa;
}

u64 fake_ident_init(void)
{
	struct boot_mem_range map[] = {
	    {.base = FAKE_IDENT_BASE,
	     .pages = FAKE_IDENT_SIZE >> PAGE_SHIFT,
	     .type = BOOT_MEM_CONVENTIONAL},
	};

	if (!mapped) {
		void *at = mmap((void *)FAKE_IDENT_BASE, FAKE_IDENT_SIZE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (at != (void *)FAKE_IDENT_BASE) {
			perror("fake_ident: mmap at the fixed address");
			abort();
		}
		mapped = true;
	}
	memset((void *)FAKE_IDENT_BASE, 0xa5, FAKE_IDENT_SIZE); /* allocations come back zeroed */
	return palloc_init(map, 1, 0, 0, bitmap, palloc_bitmap_bytes(map, 1));
}
