/*
 * The last thing the loader does with the firmware: take the final memory
 * map, leave boot services with its key, and record that very map in
 * struct boot_info for the hypervisor.
 */
#include "boot/loader.h"

#define MEMMAP_SPARE_DESCS 8 /* room for what allocating the buffer adds */
#define MEMMAP_TRIES	   8

/*
 * Convert the accepted map. Over BOOT_MAX_MEM descriptors, neighbours of the
 * same type that touch are merged (nothing the hypervisor reads is lost);
 * whatever still does not fit is dropped from the end.
 */
static void memmap_record(struct boot_info *bi, const u8 *map, UINTN size, UINTN desc_size)
{
	UINTN n = size / desc_size;
	bool merge = n > BOOT_MAX_MEM;

	bi->nr_mem = 0;
	for (UINTN i = 0; i < n; i++) {
		const EFI_MEMORY_DESCRIPTOR *d = (const void *)(map + i * desc_size);
		struct boot_mem_range *last = bi->nr_mem ? &bi->mem[bi->nr_mem - 1] : NULL;

		if (merge && last && last->type == d->Type &&
		    last->base + (last->pages << PAGE_SHIFT) == d->PhysicalStart) {
			last->pages += d->NumberOfPages;
			continue;
		}
		if (bi->nr_mem == BOOT_MAX_MEM)
			break;
		bi->mem[bi->nr_mem++] = (struct boot_mem_range){
		    .base = d->PhysicalStart,
		    .pages = d->NumberOfPages,
		    .type = d->Type,
		};
	}
}

/*
 * UEFI 2.10 7.2 GetMemoryMap and 7.4 ExitBootServices: the key must be the one
 * of the latest map. An allocation changes the map, so the buffer is grown
 * with spare descriptors before the key is taken; a wrong key returns
 * EFI_INVALID_PARAMETER and the map is fetched again (only memory services
 * may be used after a failed ExitBootServices).
 */
EFI_STATUS memmap_exit_boot_services(EFI_HANDLE image, struct boot_info *bi)
{
	EFI_MEMORY_DESCRIPTOR *map = NULL;
	UINTN cap = 0, size, key, desc_size = sizeof(EFI_MEMORY_DESCRIPTOR);
	UINT32 desc_version;
	EFI_STATUS status = EFI_ABORTED;

	for (int tries = 0; tries < MEMMAP_TRIES; tries++) {
		size = cap;
		status = uefi_call_wrapper(BS->GetMemoryMap, 5, &size, map, &key, &desc_size,
					   &desc_version);
		if (status == EFI_BUFFER_TOO_SMALL) {
			if (map)
				uefi_call_wrapper(BS->FreePool, 1, map);
			cap = size + MEMMAP_SPARE_DESCS * desc_size;
			status = uefi_call_wrapper(BS->AllocatePool, 3, EfiLoaderData, cap,
						   (void **)&map);
			if (EFI_ERROR(status))
				return status;
			continue;
		}
		if (EFI_ERROR(status))
			return status;
		status = uefi_call_wrapper(BS->ExitBootServices, 2, image, key);
		if (status == EFI_SUCCESS) {
			memmap_record(bi, (const u8 *)map, size, desc_size);
			return EFI_SUCCESS;
		}
		if (status != EFI_INVALID_PARAMETER)
			return status;
	}
	return status;
}
