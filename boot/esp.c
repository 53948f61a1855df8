/*
 * Files on the ESP: the root directory of the volume BOOTX64.EFI was loaded
 * from, read whole into page-aligned EfiLoaderData pages.
 */
#include "boot/loader.h"

#define ESP_PATH_MAX   256 /* CHAR16s, with the terminating NUL */
#define ESP_INFO_BYTES (SIZE_OF_EFI_FILE_INFO + ESP_PATH_MAX * sizeof(CHAR16))

/* UEFI 2.10 9.1 (Loaded Image) and 13.4 (OpenVolume). */
EFI_STATUS esp_open_root(EFI_HANDLE image, EFI_FILE_HANDLE *root)
{
	EFI_LOADED_IMAGE *li;
	EFI_FILE_IO_INTERFACE *fs;
	EFI_STATUS status;

	status = uefi_call_wrapper(BS->HandleProtocol, 3, image, &gEfiLoadedImageProtocolGuid,
				   (void **)&li);
	if (EFI_ERROR(status))
		return status;
	status = uefi_call_wrapper(BS->HandleProtocol, 3, li->DeviceHandle,
				   &gEfiSimpleFileSystemProtocolGuid, (void **)&fs);
	if (EFI_ERROR(status))
		return status;
	return uefi_call_wrapper(fs->OpenVolume, 2, fs, root);
}

/* "guests/a.bin" -> L"guests\a.bin" (UEFI 2.10 13.5: '\' separates names). */
static EFI_STATUS esp_path(const char *path, CHAR16 *out)
{
	UINTN i;

	for (i = 0; path[i]; i++) {
		if (i == ESP_PATH_MAX - 1)
			return EFI_INVALID_PARAMETER;
		out[i] = path[i] == '/' ? L'\\' : (CHAR16)(u8)path[i];
	}
	out[i] = 0;
	return i ? EFI_SUCCESS : EFI_INVALID_PARAMETER;
}

static EFI_STATUS esp_file_size(EFI_FILE_HANDLE f, u64 *size)
{
	u64 buf[ESP_INFO_BYTES / sizeof(u64) + 1];
	EFI_FILE_INFO *info = (EFI_FILE_INFO *)buf;
	UINTN len = sizeof(buf);
	EFI_STATUS status;

	status = uefi_call_wrapper(f->GetInfo, 4, f, &gEfiFileInfoGuid, &len, info);
	if (EFI_ERROR(status))
		return status;
	if (info->Attribute & EFI_FILE_DIRECTORY)
		return EFI_NOT_FOUND;
	*size = info->FileSize;
	return EFI_SUCCESS;
}

static EFI_STATUS esp_read_all(EFI_FILE_HANDLE f, u8 *buf, u64 size)
{
	while (size) {
		UINTN n = size;
		EFI_STATUS status = uefi_call_wrapper(f->Read, 3, f, &n, buf);

		if (EFI_ERROR(status))
			return status;
		if (n == 0)
			return EFI_END_OF_FILE; /* shorter than its directory entry */
		buf += n;
		size -= n;
	}
	return EFI_SUCCESS;
}

/*
 * Read path (relative to the ESP root, '/' separated) into fresh pages.
 * An empty file still gets one page, so a loaded file never has address 0.
 */
EFI_STATUS esp_read(EFI_FILE_HANDLE root, const char *path, u64 *addr, u64 *size)
{
	CHAR16 name[ESP_PATH_MAX];
	EFI_FILE_HANDLE f;
	EFI_STATUS status;

	status = esp_path(path, name);
	if (EFI_ERROR(status))
		return status;
	status = uefi_call_wrapper(root->Open, 5, root, &f, name, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(status))
		return status;
	status = esp_file_size(f, size);
	if (!EFI_ERROR(status))
		status = pages_alloc(MAX(1, ALIGN_UP(*size, PAGE_SIZE) >> PAGE_SHIFT), addr);
	if (!EFI_ERROR(status)) {
		status = esp_read_all(f, (u8 *)*addr, *size);
		if (EFI_ERROR(status))
			pages_free(*addr);
	}
	uefi_call_wrapper(f->Close, 1, f);
	return status;
}
