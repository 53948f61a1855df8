/*
 * ELF64 headers of bulkhead.elf and the checks the loader makes before it
 * copies a byte. Pure logic over a buffer: no UEFI calls, so it builds for
 * the host as well.
 */
#ifndef BULKHEAD_BOOT_ELF_H
#define BULKHEAD_BOOT_ELF_H

#include "kernel/types.h"

/* System V ABI, "ELF-64 Object File Format" 1.5, Figure 2 (ELF header). */
struct elf64_ehdr {
	u8 e_ident[16];
	u16 e_type;
	u16 e_machine;
	u32 e_version;
	u64 e_entry;
	u64 e_phoff;
	u64 e_shoff;
	u32 e_flags;
	u16 e_ehsize;
	u16 e_phentsize;
	u16 e_phnum;
	u16 e_shentsize;
	u16 e_shnum;
	u16 e_shstrndx;
} __packed;

/* Same document, Figure 5 (program header table entry). */
struct elf64_phdr {
	u32 p_type;
	u32 p_flags;
	u64 p_offset;
	u64 p_vaddr;
	u64 p_paddr;
	u64 p_filesz;
	u64 p_memsz;
	u64 p_align;
} __packed;

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header is 64 bytes");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header is 56 bytes");

#define ELF_CLASS_64	    2
#define ELF_DATA_LSB	    1
#define ELF_VERSION_CURRENT 1
#define ELF_TYPE_EXEC	    2
#define ELF_MACHINE_X86_64  62
#define ELF_PT_LOAD	    1

#define ELF_MAX_LOADS  16
#define ELF_LOAD_LIMIT (1ull << 32) /* every loaded page lies below 4 GiB */

struct elf_load {
	u64 paddr;
	u64 memsz;
	u64 offset; /* of the p_filesz bytes in the file */
	u64 filesz;
};

struct elf_image {
	u64 entry;
	unsigned nr_loads;
	struct elf_load load[ELF_MAX_LOADS]; /* ascending, not overlapping */
};

/*
 * Check buf[0..size) as bulkhead.elf and describe its PT_LOAD segments.
 * Returns NULL when it can be loaded, else why not (one short phrase).
 */
const char *elf_parse(const void *buf, u64 size, struct elf_image *img);

#endif
