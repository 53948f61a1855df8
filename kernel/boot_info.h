/*
 * struct boot_info: what the UEFI loader (boot/) hands the hypervisor.
 * Shared by both sides; the version changes whenever the layout does.
 */
#ifndef BULKHEAD_BOOT_INFO_H
#define BULKHEAD_BOOT_INFO_H

#include "types.h"

#define BOOT_INFO_MAGIC	  0x4f464e49544f4f42ull /* "BOOTINFO" */
#define BOOT_INFO_VERSION 1

#define BOOT_MAX_MEM   512
#define BOOT_MAX_FILES 32
#define BOOT_NAME_MAX  64

/* UEFI memory types we care about (UEFI 2.10, 7.2 EFI_MEMORY_TYPE). */
#define BOOT_MEM_LOADER_CODE  1
#define BOOT_MEM_LOADER_DATA  2
#define BOOT_MEM_BS_CODE      3
#define BOOT_MEM_BS_DATA      4
#define BOOT_MEM_CONVENTIONAL 7

struct boot_mem_range {
	u64 base;
	u64 pages;
	u32 type; /* UEFI memory type, as the firmware reported it */
	u32 reserved;
};

/* A file the loader read from the ESP (name relative to the config's folder). */
struct boot_file {
	char name[BOOT_NAME_MAX];
	u64 addr; /* physical address, page aligned; 0 if missing */
	u64 size;
	u32 missing; /* named in the config but not found on the ESP */
	u32 reserved;
};

struct boot_info {
	u64 magic;
	u32 version;
	u32 size;	/* sizeof(struct boot_info) as the loader knew it */
	u64 rsdp;	/* ACPI 2.0+ RSDP, 0 if none */
	u64 image_base; /* where bulkhead.elf was loaded */
	u64 image_end;
	u32 nr_mem;
	u32 nr_files;
	struct boot_mem_range mem[BOOT_MAX_MEM];
	struct boot_file files[BOOT_MAX_FILES];
	char cfg_name[BOOT_NAME_MAX]; /* the config file among files[] */
};

/*
 * Configuration keys as the loader finds them in the hypervisor image: the
 * ELF section BOOT_CFG_KEYS_SECTION is an array of BOOT_CFG_KEY_SIZE-byte
 * entries, each starting with struct boot_cfg_key (kernel/config.h,
 * CFG_KEY, declares them). The loader brings along the files that the
 * keys flagged BOOT_CFG_KEY_FILE name; the rest of the config is the
 * hypervisor's to parse. Names are inline: the loader reads the file, not
 * a running image.
 */
#define BOOT_CFG_KEYS_SECTION "cfg_keys"
#define BOOT_CFG_KEY_SIZE     64
#define BOOT_CFG_KEY_MAGIC    0x59454b42u /* "BKEY" */
#define BOOT_CFG_KEY_FILE     0x1u	  /* the value is a file on the ESP */
#define BOOT_CFG_WORD_MAX     15

struct boot_cfg_key {
	u32 magic;
	u32 flags;
	char section[BOOT_CFG_WORD_MAX + 1]; /* the section word: "partition", "switch" */
	char name[BOOT_CFG_WORD_MAX + 1];
};

_Static_assert(sizeof(struct boot_cfg_key) == 40, "boot_cfg_key layout");
_Static_assert(sizeof(struct boot_mem_range) == 24, "boot_mem_range layout");
_Static_assert(sizeof(struct boot_file) == 88, "boot_file layout");

#endif
