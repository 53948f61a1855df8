/*
 * Declarations shared by the UEFI loader's files (boot/): output, page
 * allocation, ESP file access and the memory map hand-over.
 */
#ifndef BULKHEAD_BOOT_LOADER_H
#define BULKHEAD_BOOT_LOADER_H

#include <efi.h>
#include <efilib.h>

#include "kernel/boot_info.h"

/* out.c: the UEFI console, plus COM1 when the console does not reach it. */
void out_init(void);
void out_printf(const CHAR16 *fmt, ...);

/* pages.c: EfiLoaderData pages, all freed again if the loader fails. */
EFI_STATUS pages_alloc(u64 pages, u64 *addr);
EFI_STATUS pages_alloc_at(u64 addr, u64 pages);
void pages_free(u64 addr);
void pages_free_all(void);

/* esp.c: whole files from the root directory of the boot volume. */
EFI_STATUS esp_open_root(EFI_HANDLE image, EFI_FILE_HANDLE *root);
EFI_STATUS esp_read(EFI_FILE_HANDLE root, const char *path, u64 *addr, u64 *size);

/* memmap.c: final memory map into bi->mem, then ExitBootServices. */
EFI_STATUS memmap_exit_boot_services(EFI_HANDLE image, struct boot_info *bi);

#endif
