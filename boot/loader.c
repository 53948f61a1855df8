/*
 * BOOTX64.EFI: read bulkhead.elf, bulkhead.cfg and the files the config names
 * from the ESP, describe them, the ACPI RSDP and the memory map in struct
 * boot_info, leave boot services and start the hypervisor (docs/architecture.md, "Boot
 * flow"). Any failure before that is one "bulkhead: error: " line, a pause
 * to read it, and a return to the firmware.
 */
#include "boot/elf.h"
#include "boot/loader.h"
#include "boot/scan.h"

#define HYPERVISOR_FILE "bulkhead.elf"
#define CONFIG_FILE	"bulkhead.cfg"
#define ERROR_PAUSE_US	(5 * 1000 * 1000)
#define CFG_KEYS_MAX	64 /* key declarations the loader keeps from the image */

typedef void __attribute__((sysv_abi, noreturn)) (*hv_entry_fn)(struct boot_info *bi);

struct file_ctx {
	struct boot_info *bi;
	EFI_FILE_HANDLE root;
};

static EFI_GUID acpi20_table_guid = ACPI_20_TABLE_GUID;

/* The image's configuration key declarations (kernel/boot_info.h), kept for the config scan. */
static u8 cfg_keys[CFG_KEYS_MAX * BOOT_CFG_KEY_SIZE];
static u64 cfg_keys_len;

/* Copy the cfg_keys section out of the file before it is freed. */
static void keep_cfg_keys(const u8 *file, u64 size)
{
	u64 off, len;
	const char *why = elf_section(file, size, BOOT_CFG_KEYS_SECTION, &off, &len);

	if (why) {
		out_printf(L"bulkhead: loader: %a: %a section: %a; the config's files are not "
			   L"loaded\n",
			   HYPERVISOR_FILE, BOOT_CFG_KEYS_SECTION, why);
		return;
	}
	if (len > sizeof(cfg_keys)) {
		out_printf(L"bulkhead: loader: %a: more than %d configuration keys; the rest are "
			   L"not looked for\n",
			   HYPERVISOR_FILE, CFG_KEYS_MAX);
		len = sizeof(cfg_keys);
	}
	CopyMem(cfg_keys, (void *)(file + off), len);
	cfg_keys_len = len;
}

static EFI_STATUS loader_fail(EFI_STATUS status)
{
	uefi_call_wrapper(BS->Stall, 1, ERROR_PAUSE_US);
	pages_free_all();
	return status;
}

/* Allocate every page of every segment, zero it, copy the file bytes. */
static EFI_STATUS load_segments(const struct elf_image *img, const u8 *file, struct boot_info *bi)
{
	u64 allocated_end = 0; /* segments may share a page; take it once */

	for (unsigned i = 0; i < img->nr_loads; i++) {
		const struct elf_load *l = &img->load[i];
		u64 start = MAX(l->paddr & PAGE_MASK, allocated_end);
		u64 end = ALIGN_UP(l->paddr + l->memsz, PAGE_SIZE);
		EFI_STATUS status;

		if (end > start) {
			status = pages_alloc_at(start, (end - start) >> PAGE_SHIFT);
			if (EFI_ERROR(status)) {
				out_printf(
				    L"bulkhead: error: %a: memory 0x%lx-0x%lx is not free: %r\n",
				    HYPERVISOR_FILE, start, end - 1, status);
				return status;
			}
			SetMem((void *)start, end - start, 0);
			allocated_end = end;
		}
		CopyMem((void *)l->paddr, (void *)(file + l->offset), l->filesz);
	}
	bi->image_base = img->load[0].paddr & PAGE_MASK;
	bi->image_end = allocated_end;
	return EFI_SUCCESS;
}

static EFI_STATUS load_hypervisor(EFI_FILE_HANDLE root, struct boot_info *bi, u64 *entry)
{
	struct elf_image img;
	const char *why;
	u64 file, size;
	EFI_STATUS status;

	status = esp_read(root, HYPERVISOR_FILE, &file, &size);
	if (EFI_ERROR(status)) {
		out_printf(L"bulkhead: error: cannot read %a from the ESP: %r\n", HYPERVISOR_FILE,
			   status);
		return status;
	}
	why = elf_parse((const void *)file, size, &img);
	if (why) {
		out_printf(L"bulkhead: error: %a: %a\n", HYPERVISOR_FILE, why);
		status = EFI_LOAD_ERROR;
	} else {
		status = load_segments(&img, (const u8 *)file, bi);
		*entry = img.entry;
		keep_cfg_keys((const u8 *)file, size);
	}
	pages_free(file);
	return status;
}

static bool file_known(const struct boot_info *bi, const char *name)
{
	for (u32 i = 0; i < bi->nr_files; i++)
		if (!strcmpa((const CHAR8 *)bi->files[i].name, (const CHAR8 *)name))
			return true;
	return false;
}

/* A file the config names: load it once; if it cannot be read, say so to the hypervisor. */
static void file_add(void *opaque, const char *value, size_t len)
{
	struct file_ctx *ctx = opaque;
	struct boot_info *bi = ctx->bi;
	struct boot_file *f;
	char name[BOOT_NAME_MAX];
	EFI_STATUS status;

	if (len >= BOOT_NAME_MAX)
		return; /* the hypervisor's parser reports the over-long path */
	for (size_t i = 0; i < len; i++)
		if ((u8)value[i] < ' ')
			return; /* nor a name the ESP could hold */
	CopyMem(name, (void *)value, len);
	name[len] = 0;
	if (file_known(bi, name) || bi->nr_files == BOOT_MAX_FILES)
		return;

	f = &bi->files[bi->nr_files++];
	CopyMem(f->name, name, len + 1);
	status = esp_read(ctx->root, name, &f->addr, &f->size);
	if (EFI_ERROR(status)) {
		f->addr = 0;
		f->size = 0;
		f->missing = 1;
		out_printf(L"bulkhead: loader: %a: %r\n", name, status);
	}
}

/* No config is no error here: the hypervisor reports it on its console. */
static void load_config(EFI_FILE_HANDLE root, struct boot_info *bi)
{
	struct boot_file *f = &bi->files[0];
	struct file_ctx ctx = {.bi = bi, .root = root};
	EFI_STATUS status;

	status = esp_read(root, CONFIG_FILE, &f->addr, &f->size);
	if (EFI_ERROR(status)) {
		f->addr = 0;
		f->size = 0;
		out_printf(L"bulkhead: loader: %a: %r\n", CONFIG_FILE, status);
		return;
	}
	CopyMem(f->name, CONFIG_FILE, sizeof(CONFIG_FILE));
	CopyMem(bi->cfg_name, CONFIG_FILE, sizeof(CONFIG_FILE));
	bi->nr_files = 1;
	scan_config_files((const char *)f->addr, f->size, cfg_keys, cfg_keys_len, file_add, &ctx);
}

/* UEFI 2.10 4.6 EFI Configuration Table: the ACPI 2.0+ RSDP. */
static u64 find_rsdp(void)
{
	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];

		if (!CompareMem(&t->VendorGuid, &acpi20_table_guid, sizeof(EFI_GUID)))
			return (u64)t->VendorTable;
	}
	return 0;
}

static EFI_STATUS prepare(EFI_HANDLE image, struct boot_info **out, u64 *entry)
{
	EFI_FILE_HANDLE root;
	struct boot_info *bi;
	u64 addr;
	EFI_STATUS status;

	status = esp_open_root(image, &root);
	if (EFI_ERROR(status)) {
		out_printf(L"bulkhead: error: cannot open the boot volume: %r\n", status);
		return status;
	}
	status = pages_alloc(ALIGN_UP(sizeof(*bi), PAGE_SIZE) >> PAGE_SHIFT, &addr);
	if (EFI_ERROR(status)) {
		out_printf(L"bulkhead: error: no memory for boot_info: %r\n", status);
		goto out;
	}
	bi = (struct boot_info *)addr;
	SetMem(bi, sizeof(*bi), 0);
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	bi->size = sizeof(*bi);
	status = load_hypervisor(root, bi, entry);
	if (EFI_ERROR(status))
		goto out;
	load_config(root, bi);
	bi->rsdp = find_rsdp();
	*out = bi;
out:
	uefi_call_wrapper(root->Close, 1, root);
	return status;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	struct boot_info *bi;
	u64 entry;
	EFI_STATUS status;

	InitializeLib(image, systab);
	out_init();
	/* UEFI 2.10 3.1.2: the boot manager's 5-minute watchdog; slow media must not fire it. */
	uefi_call_wrapper(BS->SetWatchdogTimer, 4, 0, 0, 0, NULL);

	status = prepare(image, &bi, &entry);
	if (EFI_ERROR(status))
		return loader_fail(status);

	out_printf(L"bulkhead: loader: starting hypervisor (%d files)\n", bi->nr_files);
	status = memmap_exit_boot_services(image, bi);
	if (EFI_ERROR(status)) {
		out_printf(L"bulkhead: error: ExitBootServices failed: %r\n", status);
		return loader_fail(status);
	}

	/* The entry contract: SysV ABI, boot_info in RDI, interrupts off. */
	asm volatile("cli" ::: "memory");
	((hv_entry_fn)entry)(bi);
}
