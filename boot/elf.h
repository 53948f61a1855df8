/*
 * The ELF-64 format (declared once: the loader reads bulkhead.elf with it,
 * kernel/pvh.c a guest's vmlinux) and the checks the loader makes before it
 * copies a byte. Pure logic over a buffer: no UEFI calls, so it builds for
 * the host as well.
 */
#ifndef BULKHEAD_BOOT_ELF_H
#define BULKHEAD_BOOT_ELF_H

#include "kernel/boot_info.h" /* u8..u64: the one kernel header the loader shares */

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

/* Same document, Figure 3 (section header). */
struct elf64_shdr {
	u32 sh_name;
	u32 sh_type;
	u64 sh_flags;
	u64 sh_addr;
	u64 sh_offset;
	u64 sh_size;
	u32 sh_link;
	u32 sh_info;
	u64 sh_addralign;
	u64 sh_entsize;
} __packed;

/* Same document, "Note Sections": each note's header. */
struct elf64_nhdr {
	u32 n_namesz; /* name bytes after the header, NUL included */
	u32 n_descsz; /* descriptor bytes, from the next aligned offset */
	u32 n_type;
} __packed;

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header is 64 bytes");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header is 56 bytes");
_Static_assert(sizeof(struct elf64_shdr) == 64, "ELF64 section header is 64 bytes");
_Static_assert(sizeof(struct elf64_nhdr) == 12, "ELF note header is 12 bytes");

#define ELF_CLASS_64	    2
#define ELF_DATA_LSB	    1
#define ELF_VERSION_CURRENT 1
#define ELF_TYPE_EXEC	    2
#define ELF_MACHINE_X86_64  62
#define ELF_PT_LOAD	    1
#define ELF_PT_NOTE	    4
#define ELF_SHT_NOTE	    7
#define ELF_PN_XNUM	    0xffff /* e_phnum escape: the real count is elsewhere */

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
