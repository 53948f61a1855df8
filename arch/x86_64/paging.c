/*
 * The hypervisor's own page tables: an identity map of the low 64 GiB with
 * 2 MiB pages, write-back in the PAT (the firmware's MTRRs make MMIO
 * uncached). Built in static memory, before the page allocator exists,
 * because the firmware's tables live in memory the allocator will hand out.
 */
#include "arch/x86_64/desc.h"
#include "arch/x86_64/cpu.h"
#include "kernel/log.h"

#define MAP_GIB 64

static u64 pml4[512] __aligned(4096);
static u64 pdpt[512] __aligned(4096);
static u64 pd[MAP_GIB][512] __aligned(4096);

void paging_init(u64 max_pa)
{
	u64 gib = MIN(MAP_GIB, MAX(4, ALIGN_UP(max_pa, 1ull << 30) >> 30));

	if (max_pa > (u64)MAP_GIB << 30)
		kprintf("warning: memory above %d GiB is not used\n", MAP_GIB);
	for (u64 g = 0; g < gib; g++) {
		for (u64 i = 0; i < 512; i++)
			pd[g][i] = (g << 30) + (i << 21) + (PTE_P | PTE_RW | PTE_PS);
		pdpt[g] = (u64)pd[g] | PTE_P | PTE_RW;
	}
	pml4[0] = (u64)pdpt | PTE_P | PTE_RW;
	write_cr3((u64)pml4);
}

void *phys_to_virt(u64 pa)
{
	return (void *)pa;
}
