/*
 * Booting a Linux vmlinux in a partition through PVH: checking the ELF file,
 * copying its segments, placing the initrd, writing the start info (memory
 * map, command line, module list) and describing the entry register state.
 * Pure logic over buffers and callbacks: no I/O, no allocation.
 *
 * Sources: Xen's xen/include/public/arch-x86/hvm/start_info.h (start info,
 * module list and memory map layouts), xen/include/public/elfnote.h
 * (XEN_ELFNOTE_PHYS32_ENTRY), Xen's docs/misc/pvh.pandoc (entry state), the
 * System V ELF-64 format (notes, section headers) and the ACPI address range
 * types (the e820 types, ACPI 6.5 section 15.3).
 */
#ifndef BULKHEAD_PVH_H
#define BULKHEAD_PVH_H

#include "types.h"
#include "x86.h"
#include "boot/elf.h" /* the ELF-64 headers (declared once, for the loader too), elf_load */

struct vp_regs;
struct vp_sregs;

/* ---- guest-physical layout ---- */

#define PVH_LOAD_MIN	0x100000ull    /* kernel and initrd go at 1 MiB and above */
#define PVH_IOAPIC_GPA	0xfec00000ull  /* default IOAPIC page (82093AA datasheet 3.0) */
#define PVH_LAPIC_GPA	0xfee00000ull  /* default local APIC page (SDM Vol.3 11.4.1) */
#define PVH_LOAD_LIMIT	PVH_IOAPIC_GPA /* nothing is loaded at or above the MMIO pages */
#define PVH_CMDLINE_MAX 2048	       /* Linux x86 COMMAND_LINE_SIZE, NUL included */

/*
 * A layout that works (the caller chooses): RAM below 0x9f000, the start info
 * page at 0x9f000 and the ACPI tables at 0xe0000 inside one reserved range
 * [0x9f000, 0x100000), RAM from 1 MiB up.
 */
#define PVH_LOW_RESERVED_BASE 0x9f000ull
#define PVH_LOW_RESERVED_END  0x100000ull
#define PVH_START_INFO_GPA    0x9f000ull
#define PVH_START_INFO_SIZE   PAGE_SIZE /* always enough for pvh_build_start_info */

#define PVH_MAX_LOADS	 16 /* PT_LOAD segments (Debian 6.1 vmlinux has 4) */
#define PVH_MAX_RESERVED 8  /* caller's reserved ranges */
#define PVH_MEMMAP_MAX	 (2 * (PVH_MAX_RESERVED + 2) + 1) /* RAM gaps around every range */

/* ---- what the guest reads (start_info.h; version 1 of the structure) ---- */

#define PVH_START_MAGIC	  0x336ec578u /* XEN_HVM_START_MAGIC_VALUE: "xEn3", 0x80 set in 'E' */
#define PVH_START_VERSION 1

/* struct hvm_start_info. A zero address means "not present". */
struct pvh_start_info {
	u32 magic;
	u32 version;
	u32 flags; /* SIF_*: none apply to us */
	u32 nr_modules;
	u64 modlist_paddr; /* array of struct pvh_modlist_entry */
	u64 cmdline_paddr; /* NUL-terminated ASCII */
	u64 rsdp_paddr;
	u64 memmap_paddr; /* array of struct pvh_memmap_entry (version >= 1) */
	u32 memmap_entries;
	u32 reserved;
} __packed;

/* struct hvm_modlist_entry. Linux takes the first module as its initrd. */
struct pvh_modlist_entry {
	u64 paddr;
	u64 size;
	u64 cmdline_paddr;
	u64 reserved;
} __packed;

/* struct hvm_memmap_table_entry. */
struct pvh_memmap_entry {
	u64 addr;
	u64 size;
	u32 type; /* PVH_MEMMAP_* */
	u32 reserved;
} __packed;

_Static_assert(sizeof(struct pvh_start_info) == 56, "hvm_start_info is 56 bytes");
_Static_assert(__builtin_offsetof(struct pvh_start_info, modlist_paddr) == 16, "modlist_paddr");
_Static_assert(__builtin_offsetof(struct pvh_start_info, rsdp_paddr) == 32, "rsdp_paddr");
_Static_assert(__builtin_offsetof(struct pvh_start_info, memmap_entries) == 48, "memmap_entries");
_Static_assert(sizeof(struct pvh_modlist_entry) == 32, "hvm_modlist_entry is 32 bytes");
_Static_assert(sizeof(struct pvh_memmap_entry) == 24, "hvm_memmap_table_entry is 24 bytes");

/* XEN_HVM_MEMMAP_TYPE_*, equal to the e820 / ACPI address range types. */
#define PVH_MEMMAP_RAM	    1
#define PVH_MEMMAP_RESERVED 2
#define PVH_MEMMAP_ACPI	    3 /* ACPI tables, reclaimable once read */
#define PVH_MEMMAP_NVS	    4

/* ---- the kernel ---- */

struct pvh_kernel {
	u32 entry;  /* XEN_ELFNOTE_PHYS32_ENTRY: 32-bit protected-mode entry GPA */
	u64 lo, hi; /* [lo, hi): extent of every PT_LOAD (p_paddr, p_memsz) */
	unsigned nr_loads;
	struct elf_load load[PVH_MAX_LOADS]; /* in file order, not overlapping */
};

/*
 * Check elf[0..size) (untrusted) as a PVH-bootable vmlinux for a partition of
 * mem_size bytes: ELF64 x86-64 ET_EXEC, program headers in the file, PT_LOAD
 * segments in the file with p_filesz <= p_memsz, not overlapping, inside
 * [PVH_LOAD_MIN, MIN(mem_size, PVH_LOAD_LIMIT)); a "Xen" note of type
 * XEN_ELFNOTE_PHYS32_ENTRY (in a PT_NOTE segment, else an SHT_NOTE section)
 * with a 4- or 8-byte entry that lies in a segment's file bytes.
 * 0, or -1 with one line in err ("vmlinux: ...").
 */
int pvh_parse(const void *elf, u64 size, u64 mem_size, struct pvh_kernel *k, char *err,
	      size_t errlen);

/*
 * Guest-memory writer: len bytes from src at gpa, or len zero bytes when src
 * is NULL. Returns 0, or a non-zero status that stops the load.
 */
typedef int (*pvh_write_fn)(void *ctx, u64 gpa, const void *src, u64 len);

/*
 * Copy each segment of a file pvh_parse accepted (the same elf and size):
 * p_filesz bytes, then p_memsz - p_filesz zero bytes. Returns 0, the first
 * non-zero status of write, or -1 if k does not describe this file.
 */
int pvh_load(const void *elf, u64 size, const struct pvh_kernel *k, pvh_write_fn write, void *ctx);

/* ---- boot data ---- */

struct pvh_range {
	u64 base, size; /* page aligned */
	u32 type;	/* PVH_MEMMAP_RESERVED, _ACPI or _NVS */
};

struct pvh_layout {
	u64 mem_size;	    /* guest RAM from GPA 0, page aligned */
	u64 start_info_gpa; /* where buf of pvh_build_start_info goes; in a reserved range */
	u64 initrd_gpa, initrd_size; /* from pvh_place_initrd; 0, 0 for none */
	u64 rsdp_gpa;		     /* ACPI RSDP in a reserved range, or 0 */
	const char *cmdline;	     /* NULL for an empty one */
	/*
	 * Not RAM: the start info, the ACPI tables, anything else the partition
	 * owns. The IOAPIC and LAPIC pages are added by the builder.
	 */
	unsigned nr_reserved;
	struct pvh_range reserved[PVH_MAX_RESERVED];
};

/*
 * Choose l->initrd_size bytes of guest memory for the initrd: page aligned,
 * as high as possible below MIN(l->mem_size, PVH_LOAD_LIMIT), at or above
 * PVH_LOAD_MIN, clear of the kernel, the reserved ranges and the MMIO pages.
 * *gpa = 0 when the size is 0. 0, or -1 with one line in err ("initrd: ...").
 */
int pvh_place_initrd(const struct pvh_kernel *k, const struct pvh_layout *l, u64 *gpa, char *err,
		     size_t errlen);

/*
 * Check the layout against k and write the start info, module list, memory
 * map and command line into buf, which the guest sees at l->start_info_gpa.
 * The memory map is RAM [0, mem_size) less the reserved ranges, plus the
 * reserved ranges and the IOAPIC and LAPIC pages, in address order.
 * Returns the bytes used (at most PVH_START_INFO_SIZE), or -1 with one line
 * in err: buffer too small, command line too long, inconsistent layout.
 */
long pvh_build_start_info(void *buf, u64 size, const struct pvh_kernel *k,
			  const struct pvh_layout *l, char *err, size_t errlen);

/* ---- entry state (docs/misc/pvh.pandoc, "x86/HVM direct boot ABI") ----
 *
 *   EIP    k->entry; EBX = start_info GPA; other general registers 0
 *   mode   32-bit protected mode, paging off
 *   CR0    PE (bit 0) set, every other writable bit clear: 0x11 with the
 *          fixed ET bit. VT-x needs NE=1 in the real CR0; the guest may see
 *          it (Linux writes CR0 itself before it enables paging).
 *   CR4    0;  EFER 0 (long mode off)
 *   CS     32-bit execute/read code, base 0, limit 0xffffffff (selector
 *          unspecified; 0x10 is conventional)
 *   DS ES SS (and FS GS here)  32-bit read/write data, base 0, limit
 *          0xffffffff (selectors unspecified; 0x18 here)
 *   TR     32-bit TSS, busy, base 0, limit 0x67
 *   EFLAGS VM (bit 17), IF (bit 9), TF (bit 8) clear: 0x2
 *   GDTR, IDTR  unspecified: the OS loads its own before it reloads a
 *          segment (0 here, so an early exception is a triple fault)
 * Attributes in the VMX access-rights layout of struct vp_seg.
 */
#define PVH_ENTRY_CS_SEL   0x10
#define PVH_ENTRY_DS_SEL   0x18
#define PVH_ENTRY_CS_ATTR  0xc09b /* G, D, P, S, type 11: code, execute/read, accessed */
#define PVH_ENTRY_DS_ATTR  0xc093 /* G, D, P, S, type 3: data, read/write, accessed */
#define PVH_ENTRY_TR_ATTR  0x008b /* P, type 11: busy 32-bit TSS */
#define PVH_ENTRY_TR_LIMIT 0x67
#define PVH_ENTRY_LDT_ATTR 0x0082 /* P, type 2: LDT (none is used) */
#define PVH_ENTRY_CR0	   (CR0_PE | CR0_ET)
#define PVH_ENTRY_CR4	   0
#define PVH_ENTRY_RFLAGS   RFLAGS_RESERVED1

/* Fill regs and sregs (kernel/vp.h) with the entry state above. */
void pvh_entry_state(const struct pvh_kernel *k, u64 start_info_gpa, struct vp_regs *regs,
		     struct vp_sregs *sregs);

#endif
