/*
 * Page allocations of the loader (UEFI 2.10 7.2 AllocatePages). All of them
 * are EfiLoaderData; they are remembered so that a loader that gives up can
 * hand every page back before it returns to the firmware.
 */
#include "boot/loader.h"

#define PAGES_MAX_ALLOCS 64
#define PAGES_BELOW_4G	 0xffffffffull

struct pages_alloc {
	u64 addr;
	u64 pages;
};

static struct pages_alloc allocs[PAGES_MAX_ALLOCS];
static unsigned nr_allocs;

static EFI_STATUS pages_get(EFI_ALLOCATE_TYPE type, u64 pages, u64 *addr)
{
	EFI_PHYSICAL_ADDRESS a = *addr;
	EFI_STATUS status;

	if (nr_allocs == PAGES_MAX_ALLOCS)
		return EFI_OUT_OF_RESOURCES;
	status = uefi_call_wrapper(BS->AllocatePages, 4, type, EfiLoaderData, pages, &a);
	if (EFI_ERROR(status))
		return status;
	allocs[nr_allocs++] = (struct pages_alloc){a, pages};
	*addr = a;
	return EFI_SUCCESS;
}

/* Anywhere, below 4 GiB when possible: simple for partitions and old devices. */
EFI_STATUS pages_alloc(u64 pages, u64 *addr)
{
	*addr = PAGES_BELOW_4G;
	if (!EFI_ERROR(pages_get(AllocateMaxAddress, pages, addr)))
		return EFI_SUCCESS;
	return pages_get(AllocateAnyPages, pages, addr);
}

EFI_STATUS pages_alloc_at(u64 addr, u64 pages)
{
	return pages_get(AllocateAddress, pages, &addr);
}

void pages_free(u64 addr)
{
	for (unsigned i = 0; i < nr_allocs; i++) {
		if (allocs[i].addr != addr)
			continue;
		uefi_call_wrapper(BS->FreePages, 2, allocs[i].addr, allocs[i].pages);
		allocs[i] = allocs[--nr_allocs];
		return;
	}
}

void pages_free_all(void)
{
	while (nr_allocs)
		pages_free(allocs[nr_allocs - 1].addr);
}
