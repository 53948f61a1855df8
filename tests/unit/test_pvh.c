/*
 * PVH boot of a vmlinux: ELF and note checks on synthetic files, the segment
 * copy, initrd placement, the start info, the entry state; and, when it has
 * been built, Debian's real vmlinux (build/linux/vmlinux or $PVH_VMLINUX).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pvh.h"
#include "vp.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

#define MEM	     (64 * MiB)
#define TEXT_GPA     0x1000000ull /* Linux's LOAD_PHYSICAL_ADDR */
#define TEXT_OFF     0x1000
#define TEXT_SIZE    0x200
#define DATA_GPA     0x1001000ull
#define DATA_OFF     0x1200
#define DATA_SIZE    0x100
#define DATA_MEMSZ   0x3000
#define ENTRY	     (TEXT_GPA + 0x40)
#define PHDR_OFF     64
#define NR_PHDRS     3
#define PH_NOTE	     2
#define NOTES_OFF    0x600
#define SHDR_OFF     0x1800
#define XEN_TYPE_PVH 18

static u8 file[8192];
static char err[256];
static u64 notes_end; /* end of the notes written by make_elf */
static u64 pvh_note;  /* offset of the PVH note's header */

static struct elf64_ehdr *ehdr(void)
{
	return (void *)file;
}

static struct elf64_phdr *phdr(unsigned i)
{
	return (void *)(file + PHDR_OFF + i * sizeof(struct elf64_phdr));
}

/* One ELF note at off (aligned); descriptor and end aligned from the file start. */
static u64 put_note(u64 off, const char *name, u32 type, const void *desc, u32 descsz, u64 align)
{
	u32 namesz = (u32)strlen(name) + 1;
	u32 hdr[3] = {namesz, descsz, type};

	memcpy(file + off, hdr, sizeof(hdr));
	off += sizeof(hdr);
	memcpy(file + off, name, namesz);
	off = ALIGN_UP(off + namesz, align);
	memcpy(file + off, desc, descsz);
	return ALIGN_UP(off + descsz, align);
}

/* The notes of a vmlinux: a build id, another Xen note, then the PVH entry. */
static void put_notes(const void *entry_desc, u32 entry_size, u64 align)
{
	static const u8 build_id[3] = {1, 2, 3};
	u64 xen_entry = 0xffffffff80000000ull;
	u64 off = NOTES_OFF;

	memset(file + NOTES_OFF, 0, SHDR_OFF - NOTES_OFF);
	off = put_note(off, "GNU", 3, build_id, sizeof(build_id), align);
	off = put_note(off, "Xen", 1, &xen_entry, 8, align); /* XEN_ELFNOTE_ENTRY */
	pvh_note = off;
	notes_end = put_note(off, "Xen", XEN_TYPE_PVH, entry_desc, entry_size, align);
	phdr(PH_NOTE)->p_filesz = notes_end - NOTES_OFF;
	phdr(PH_NOTE)->p_memsz = notes_end - NOTES_OFF;
	phdr(PH_NOTE)->p_align = align;
}

/* A small vmlinux: text at 16 MiB, data + bss after it, a PT_NOTE and a .notes section. */
static void make_elf(void)
{
	struct elf64_ehdr *eh = ehdr();
	struct elf64_shdr *sh = (void *)(file + SHDR_OFF);
	u64 entry = ENTRY;

	memset(file, 0, sizeof(file));
	memcpy(eh->e_ident,
	       "\x7f"
	       "ELF",
	       4);
	eh->e_ident[4] = ELF_CLASS_64;
	eh->e_ident[5] = ELF_DATA_LSB;
	eh->e_ident[6] = ELF_VERSION_CURRENT;
	eh->e_type = ELF_TYPE_EXEC;
	eh->e_machine = ELF_MACHINE_X86_64;
	eh->e_version = ELF_VERSION_CURRENT;
	eh->e_entry = 0xffffffff81000000ull;
	eh->e_phoff = PHDR_OFF;
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(struct elf64_phdr);
	eh->e_phnum = NR_PHDRS;
	eh->e_shoff = SHDR_OFF;
	eh->e_shentsize = sizeof(*sh);
	eh->e_shnum = 2;
	*phdr(0) = (struct elf64_phdr){.p_type = ELF_PT_LOAD,
				       .p_offset = TEXT_OFF,
				       .p_vaddr = 0xffffffff81000000ull,
				       .p_paddr = TEXT_GPA,
				       .p_filesz = TEXT_SIZE,
				       .p_memsz = TEXT_SIZE,
				       .p_align = 0x1000};
	*phdr(1) = (struct elf64_phdr){.p_type = ELF_PT_LOAD,
				       .p_offset = DATA_OFF,
				       .p_vaddr = 0xffffffff81001000ull,
				       .p_paddr = DATA_GPA,
				       .p_filesz = DATA_SIZE,
				       .p_memsz = DATA_MEMSZ,
				       .p_align = 0x1000};
	*phdr(PH_NOTE) = (struct elf64_phdr){.p_type = 4 /* PT_NOTE */, .p_offset = NOTES_OFF};
	put_notes(&entry, sizeof(entry), 4);
	sh[1].sh_type = 7; /* SHT_NOTE */
	sh[1].sh_offset = NOTES_OFF;
	sh[1].sh_size = notes_end - NOTES_OFF;
	sh[1].sh_addralign = 4;
	for (unsigned i = 0; i < TEXT_SIZE; i++)
		file[TEXT_OFF + i] = (u8)(i * 7 + 1);
	for (unsigned i = 0; i < DATA_SIZE; i++)
		file[DATA_OFF + i] = (u8)(0xd0 ^ i);
}

static int parse(u64 size, u64 mem, struct pvh_kernel *k)
{
	err[0] = 0;
	return pvh_parse(file, size, mem, k, err, sizeof(err));
}

/* make_elf has been mutated: the parse must fail with a message containing want. */
static void expect_reject_at(u64 size, u64 mem, const char *want, int line)
{
	struct pvh_kernel k;

	if (parse(size, mem, &k) != -1 || !strstr(err, want) || strncmp(err, "vmlinux: ", 9) ||
	    strchr(err, '\n'))
		fail_msg("line %d: wanted an error with \"%s\", got \"%s\"", line, want, err);
}
#define expect_reject(want) expect_reject_at(sizeof(file), MEM, want, __LINE__)

/* ---- pvh_parse ---- */

static void test_parse_good(void **state)
{
	struct pvh_kernel k;

	make_elf();
	assert_int_equal(parse(sizeof(file), MEM, &k), 0);
	assert_int_equal(k.entry, ENTRY);
	assert_int_equal(k.nr_loads, 2);
	assert_int_equal(k.lo, TEXT_GPA);
	assert_int_equal(k.hi, DATA_GPA + DATA_MEMSZ);
	assert_int_equal(k.load[0].paddr, TEXT_GPA);
	assert_int_equal(k.load[0].offset, TEXT_OFF);
	assert_int_equal(k.load[0].filesz, TEXT_SIZE);
	assert_int_equal(k.load[1].memsz, DATA_MEMSZ);
	assert_int_equal(k.load[1].filesz, DATA_SIZE);
}

static void test_parse_note_forms(void **state)
{
	struct pvh_kernel k;
	u32 entry32 = ENTRY;
	u64 entry64 = ENTRY + 4;

	make_elf(); /* the i386 form: a 4-byte descriptor */
	put_notes(&entry32, sizeof(entry32), 4);
	assert_int_equal(parse(sizeof(file), MEM, &k), 0);
	assert_int_equal(k.entry, ENTRY);

	make_elf(); /* 8-byte aligned notes in a segment that says so */
	put_notes(&entry64, sizeof(entry64), 8);
	assert_int_equal(parse(sizeof(file), MEM, &k), 0);
	assert_int_equal(k.entry, ENTRY + 4);

	make_elf(); /* no PT_NOTE: found through the SHT_NOTE section */
	phdr(PH_NOTE)->p_type = 0;
	assert_int_equal(parse(sizeof(file), MEM, &k), 0);
	assert_int_equal(k.entry, ENTRY);

	make_elf(); /* segments in any order; empty ones are ignored */
	{
		struct elf64_phdr t = *phdr(0);

		*phdr(0) = *phdr(1);
		*phdr(1) = t;
		phdr(PH_NOTE)->p_type = ELF_PT_LOAD;
		phdr(PH_NOTE)->p_memsz = 0;
		phdr(PH_NOTE)->p_filesz = 0;
		assert_int_equal(parse(sizeof(file), MEM, &k), 0); /* section note */
		assert_int_equal(k.nr_loads, 2);
		assert_int_equal(k.lo, TEXT_GPA);
		assert_int_equal(k.hi, DATA_GPA + DATA_MEMSZ);
	}
}

static void test_parse_rejects_header(void **state)
{
	make_elf();
	expect_reject_at(10, MEM, "too small", __LINE__);
	file[1] = 'M';
	expect_reject("not an ELF file");
	memcpy(file, "MZ", 2); /* a bzImage starts like a PE file */
	expect_reject("bzImage");
	make_elf();
	ehdr()->e_ident[4] = 1; /* ELFCLASS32 */
	expect_reject("ELF64");
	make_elf();
	ehdr()->e_ident[5] = 2; /* big endian */
	expect_reject("little-endian");
	make_elf();
	ehdr()->e_version = 0;
	expect_reject("version");
	make_elf();
	ehdr()->e_machine = 3; /* i386 */
	expect_reject("not an x86-64");
	make_elf();
	ehdr()->e_type = 3; /* ET_DYN */
	expect_reject("not an executable");
	make_elf();
	ehdr()->e_phentsize = 32;
	expect_reject("program header entries");
	make_elf();
	ehdr()->e_phnum = 0;
	expect_reject("no usable program header");
	make_elf();
	ehdr()->e_phnum = 0xffff;
	expect_reject("no usable program header");
	make_elf();
	ehdr()->e_phoff = sizeof(file) - 100;
	expect_reject("program headers lie outside the file");
	make_elf();
	ehdr()->e_phoff = ~0ull - 8; /* offset + size overflows */
	expect_reject("program headers lie outside the file");
	make_elf();
	expect_reject_at(PHDR_OFF + 100, MEM, "program headers lie outside the file", __LINE__);
}

static void test_parse_rejects_segments(void **state)
{
	make_elf();
	phdr(0)->p_filesz = sizeof(file);
	phdr(0)->p_memsz = sizeof(file);
	expect_reject("segment 0 (0x2000 bytes at offset 0x1000) lies outside the file");
	make_elf();
	phdr(1)->p_offset = ~0ull - 8;
	expect_reject("segment 1 (0x100 bytes at offset 0xfffffffffffffff7) lies outside");
	make_elf();
	phdr(0)->p_memsz = TEXT_SIZE - 1;
	expect_reject("segment 0 has p_filesz 0x200 > p_memsz 0x1ff");
	make_elf();
	phdr(1)->p_paddr = TEXT_GPA + 0x100;
	expect_reject("segment 1 at 0x1000100 overlaps the one at 0x1000000");
	make_elf();
	phdr(0)->p_paddr = DATA_GPA + DATA_MEMSZ - 1; /* overlaps a later segment */
	expect_reject("overlaps");
	make_elf();
	expect_reject_at(sizeof(file), DATA_GPA + DATA_MEMSZ - 1, "outside guest memory", __LINE__);
	make_elf();
	phdr(1)->p_paddr = ~0ull - 0x100; /* paddr + memsz overflows */
	expect_reject("outside guest memory");
	make_elf();
	phdr(1)->p_paddr = PVH_LOAD_LIMIT - 0x1000; /* meets the IOAPIC page */
	expect_reject_at(sizeof(file), 8 * GiB, "outside guest memory [1 MiB, 0xfec00000)",
			 __LINE__);
	make_elf();
	phdr(0)->p_paddr = 0x80000;
	expect_reject("segment 0 at 0x80000 lies below 1 MiB");
	make_elf();
	phdr(0)->p_type = 0;
	phdr(1)->p_type = 6; /* PT_PHDR */
	expect_reject("no PT_LOAD segments");
}

static void test_parse_rejects_too_many_loads(void **state)
{
	make_elf();
	/* Program headers 0..16 all PT_LOAD, one page each: the notes move nowhere. */
	ehdr()->e_phnum = PVH_MAX_LOADS + 1;
	assert_true(PHDR_OFF + (PVH_MAX_LOADS + 1) * sizeof(struct elf64_phdr) <= NOTES_OFF);
	for (unsigned i = 0; i <= PVH_MAX_LOADS; i++)
		*phdr(i) = (struct elf64_phdr){
		    .p_type = ELF_PT_LOAD, .p_paddr = TEXT_GPA + i * 0x1000, .p_memsz = 0x1000};
	expect_reject("more than 16 PT_LOAD segments");
}

static void test_parse_rejects_notes(void **state)
{
	u64 far = 0x2000000, high = 1ull << 32, bss = DATA_GPA + DATA_SIZE;
	u16 two = 0x1234;

	make_elf(); /* no Xen note of type 18 anywhere */
	file[pvh_note + 8] = 19;
	expect_reject("vmlinux: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); is this an "
		      "uncompressed vmlinux?");
	make_elf(); /* type 18 under another name */
	memcpy(file + pvh_note + 12, "Xeo", 4);
	expect_reject("no PVH entry note");
	make_elf(); /* no notes at all, no sections */
	phdr(PH_NOTE)->p_type = 0;
	ehdr()->e_shoff = 0;
	expect_reject("no PVH entry note");
	make_elf();
	put_notes(&far, 8, 4);
	expect_reject("PVH entry 0x2000000 lies outside the loaded segments");
	make_elf(); /* in the bss: not code from the file */
	put_notes(&bss, 8, 4);
	expect_reject("PVH entry 0x1001100 lies outside the loaded segments");
	make_elf();
	put_notes(&high, 8, 4);
	expect_reject("PVH entry 0x100000000 lies above 4 GiB");
	make_elf();
	put_notes(&two, 2, 4);
	expect_reject("2-byte descriptor");
	make_elf(); /* descriptor runs past the note segment */
	memcpy(file + pvh_note + 4, &(u32){0x10000}, 4);
	expect_reject("truncated ELF note at offset 0x");
	make_elf(); /* segment ends inside the PVH note's descriptor */
	phdr(PH_NOTE)->p_filesz = pvh_note + 12 + 4 + 4 - NOTES_OFF;
	expect_reject("truncated ELF note");
	make_elf(); /* name size runs past the end */
	memcpy(file + NOTES_OFF, &(u32){0xffffffff}, 4);
	expect_reject("truncated ELF note at offset 0x600 in segment 2");
	make_elf();
	phdr(PH_NOTE)->p_offset = sizeof(file) - 8;
	expect_reject("note segment 2 lies outside the file");
	make_elf(); /* only a section, and the section table is out of the file */
	phdr(PH_NOTE)->p_type = 0;
	ehdr()->e_shoff = sizeof(file) - 64;
	expect_reject("section headers lie outside the file");
	make_elf();
	phdr(PH_NOTE)->p_type = 0;
	memcpy(file + SHDR_OFF + 64 + 24, &(u64){sizeof(file)}, 8); /* sh_offset */
	expect_reject("note section 1 lies outside the file");
}

static void test_parse_error_buffer(void **state)
{
	struct pvh_kernel k;
	char small[8];

	make_elf();
	file[0] = 0;
	memset(small, 'x', sizeof(small));
	assert_int_equal(pvh_parse(file, sizeof(file), MEM, &k, small, sizeof(small)), -1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(pvh_parse(file, sizeof(file), MEM, &k, NULL, 0), -1);
}

/* ---- pvh_load ---- */

struct fake_guest {
	u8 mem[0x8000]; /* guest-physical [TEXT_GPA, TEXT_GPA + 0x8000) */
	unsigned calls, fail_at;
	u64 gpa[8], len[8];
	bool zero[8];
};

static int fake_write(void *ctx, u64 gpa, const void *src, u64 len)
{
	struct fake_guest *g = ctx;

	assert_true(gpa >= TEXT_GPA && len <= sizeof(g->mem) &&
		    gpa - TEXT_GPA <= sizeof(g->mem) - len);
	if (g->calls < ARRAY_SIZE(g->gpa)) {
		g->gpa[g->calls] = gpa;
		g->len[g->calls] = len;
		g->zero[g->calls] = !src;
	}
	if (++g->calls == g->fail_at)
		return -7;
	if (src)
		memcpy(g->mem + (gpa - TEXT_GPA), src, len);
	else
		memset(g->mem + (gpa - TEXT_GPA), 0, len);
	return 0;
}

static void test_load_copies_and_zeroes(void **state)
{
	static struct fake_guest g;
	struct pvh_kernel k;

	make_elf();
	assert_int_equal(parse(sizeof(file), MEM, &k), 0);
	memset(&g, 0, sizeof(g));
	memset(g.mem, 0xaa, sizeof(g.mem));
	assert_int_equal(pvh_load(file, sizeof(file), &k, fake_write, &g), 0);

	assert_int_equal(g.calls, 3);
	assert_int_equal(g.gpa[0], TEXT_GPA);
	assert_int_equal(g.len[0], TEXT_SIZE);
	assert_false(g.zero[0]);
	assert_int_equal(g.gpa[1], DATA_GPA);
	assert_int_equal(g.len[1], DATA_SIZE);
	assert_false(g.zero[1]);
	assert_int_equal(g.gpa[2], DATA_GPA + DATA_SIZE);
	assert_int_equal(g.len[2], DATA_MEMSZ - DATA_SIZE);
	assert_true(g.zero[2]);

	assert_memory_equal(g.mem, file + TEXT_OFF, TEXT_SIZE);
	assert_memory_equal(g.mem + (DATA_GPA - TEXT_GPA), file + DATA_OFF, DATA_SIZE);
	for (u64 a = DATA_GPA + DATA_SIZE; a < DATA_GPA + DATA_MEMSZ; a++)
		assert_int_equal(g.mem[a - TEXT_GPA], 0);
	/* Nothing between or after the segments is touched. */
	for (u64 a = TEXT_GPA + TEXT_SIZE; a < DATA_GPA; a++)
		assert_int_equal(g.mem[a - TEXT_GPA], 0xaa);
	for (u64 a = DATA_GPA + DATA_MEMSZ; a < TEXT_GPA + sizeof(g.mem); a++)
		assert_int_equal(g.mem[a - TEXT_GPA], 0xaa);
}

static void test_load_stops_on_error(void **state)
{
	static struct fake_guest g;
	struct pvh_kernel k;

	make_elf();
	assert_int_equal(parse(sizeof(file), MEM, &k), 0);
	memset(&g, 0, sizeof(g));
	g.fail_at = 2;
	assert_int_equal(pvh_load(file, sizeof(file), &k, fake_write, &g), -7);
	assert_int_equal(g.calls, 2);

	/* A description that does not match the file is refused before any write. */
	memset(&g, 0, sizeof(g));
	k.load[1].offset = sizeof(file);
	assert_int_equal(pvh_load(file, sizeof(file), &k, fake_write, &g), -1);
	assert_int_equal(g.calls, 1);
	k.load[1].offset = DATA_OFF;
	k.load[1].filesz = DATA_MEMSZ + 1;
	assert_int_equal(pvh_load(file, sizeof(file), &k, fake_write, &g), -1);
}

/* ---- boot data ---- */

/* The recommended layout: reserved [0x9f000, 0xe0000), ACPI tables [0xe0000, 1 MiB). */
static void make_layout(struct pvh_layout *l, u64 mem)
{
	memset(l, 0, sizeof(*l));
	l->mem_size = mem;
	l->start_info_gpa = PVH_START_INFO_GPA;
	l->rsdp_gpa = 0xe0000;
	l->cmdline = "console=ttyS0 quiet";
	l->nr_reserved = 2;
	l->reserved[0] = (struct pvh_range){PVH_LOW_RESERVED_BASE, 0xe0000 - PVH_LOW_RESERVED_BASE,
					    PVH_MEMMAP_RESERVED};
	l->reserved[1] =
	    (struct pvh_range){0xe0000, PVH_LOW_RESERVED_END - 0xe0000, PVH_MEMMAP_ACPI};
}

static struct pvh_kernel fake_kernel(u64 lo, u64 hi)
{
	return (struct pvh_kernel){.entry = (u32)lo, .lo = lo, .hi = hi};
}

static int place(const struct pvh_kernel *k, struct pvh_layout *l, u64 size)
{
	l->initrd_size = size;
	err[0] = 0;
	return pvh_place_initrd(k, l, &l->initrd_gpa, err, sizeof(err));
}

static void test_initrd_placement(void **state)
{
	struct pvh_kernel k;
	struct pvh_layout l;

	make_elf();
	assert_int_equal(parse(sizeof(file), MEM, &k), 0);
	make_layout(&l, MEM);
	assert_int_equal(place(&k, &l, 0), 0); /* none */
	assert_int_equal(l.initrd_gpa, 0);
	assert_int_equal(place(&k, &l, MiB + 1), 0); /* highest page-aligned spot */
	assert_int_equal(l.initrd_gpa, MEM - MiB - PAGE_SIZE);

	l.nr_reserved = 3; /* a reserved range at the top pushes it down */
	l.reserved[2] = (struct pvh_range){MEM - 4 * MiB, 4 * MiB, PVH_MEMMAP_RESERVED};
	assert_int_equal(place(&k, &l, MiB), 0);
	assert_int_equal(l.initrd_gpa, MEM - 5 * MiB);

	make_layout(&l, 8 * GiB); /* big memory: stays below the MMIO pages */
	assert_int_equal(place(&k, &l, 16 * MiB), 0);
	assert_int_equal(l.initrd_gpa, PVH_IOAPIC_GPA - 16 * MiB);
}

static void test_initrd_avoids_kernel(void **state)
{
	struct pvh_kernel k = fake_kernel(16 * MiB, 31 * MiB + 1); /* top page: 31M..31M+4K */
	struct pvh_layout l;

	make_layout(&l, 32 * MiB);
	assert_int_equal(place(&k, &l, 512 * 1024), 0); /* fits above the kernel */
	assert_int_equal(l.initrd_gpa, 32 * MiB - 512 * 1024);
	assert_int_equal(place(&k, &l, 1020 * 1024), 0); /* exactly the room above */
	assert_int_equal(l.initrd_gpa, 31 * MiB + PAGE_SIZE);
	assert_int_equal(place(&k, &l, 2 * MiB), 0); /* only below it */
	assert_int_equal(l.initrd_gpa, 14 * MiB);
	assert_int_equal(place(&k, &l, 15 * MiB), 0); /* [1M, 16M) exactly */
	assert_int_equal(l.initrd_gpa, MiB);
}

static void test_initrd_does_not_fit(void **state)
{
	struct pvh_kernel k = fake_kernel(16 * MiB, 31 * MiB);
	struct pvh_layout l;

	make_layout(&l, 32 * MiB);
	assert_int_equal(place(&k, &l, 15 * MiB + 1), -1);
	assert_non_null(strstr(err, "initrd: 15728641 bytes do not fit"));
	assert_int_equal(l.initrd_gpa, 0);
	assert_int_equal(place(&k, &l, 64 * MiB), -1);
	assert_int_equal(place(&k, &l, ~0ull), -1); /* rounding up overflows */
	assert_int_equal(place(&k, &l, ~0ull - 2 * PAGE_SIZE), -1);
	make_layout(&l, MiB);
	assert_int_equal(place(&k, &l, 1), -1);
	make_layout(&l, 0);
	assert_int_equal(place(&k, &l, 1), -1);
}

static const struct pvh_start_info *si_of(const u8 *buf)
{
	return (const void *)buf;
}

/* buf's object at guest address gpa (the start info is at l->start_info_gpa). */
static const void *at(const u8 *buf, u64 gpa)
{
	assert_true(gpa >= PVH_START_INFO_GPA && gpa < PVH_START_INFO_GPA + PVH_START_INFO_SIZE);
	return buf + (gpa - PVH_START_INFO_GPA);
}

static long build(u8 *buf, u64 size, const struct pvh_kernel *k, const struct pvh_layout *l)
{
	err[0] = 0;
	return pvh_build_start_info(buf, size, k, l, err, sizeof(err));
}

static void expect_entry(const struct pvh_memmap_entry *e, u64 addr, u64 size, u32 type)
{
	assert_int_equal(e->addr, addr);
	assert_int_equal(e->size, size);
	assert_int_equal(e->type, type);
	assert_int_equal(e->reserved, 0);
}

static void test_start_info_contents(void **state)
{
	static u8 buf[PVH_START_INFO_SIZE];
	const struct pvh_start_info *si = si_of(buf);
	const struct pvh_modlist_entry *mod;
	const struct pvh_memmap_entry *map;
	struct pvh_kernel k;
	struct pvh_layout l;
	long used;

	make_elf();
	assert_int_equal(parse(sizeof(file), MEM, &k), 0);
	make_layout(&l, MEM);
	assert_int_equal(place(&k, &l, 3 * MiB + 17), 0);
	memset(buf, 0xee, sizeof(buf));
	used = build(buf, sizeof(buf), &k, &l);
	assert_true(used > 0);
	assert_int_equal(used, 56 + 32 + 6 * 24 + strlen(l.cmdline) + 1);

	assert_int_equal(si->magic, 0x336ec578);
	assert_int_equal(si->version, 1);
	assert_int_equal(si->flags, 0);
	assert_int_equal(si->reserved, 0);
	assert_int_equal(si->rsdp_paddr, 0xe0000);

	assert_int_equal(si->nr_modules, 1);
	assert_int_equal(si->modlist_paddr % 8, 0);
	mod = at(buf, si->modlist_paddr);
	assert_int_equal(mod->paddr, l.initrd_gpa);
	assert_int_equal(mod->size, 3 * MiB + 17);
	assert_int_equal(mod->cmdline_paddr, 0);
	assert_int_equal(mod->reserved, 0);

	assert_int_equal(si->memmap_entries, 6);
	assert_int_equal(si->memmap_paddr % 8, 0);
	map = at(buf, si->memmap_paddr);
	expect_entry(&map[0], 0, 0x9f000, PVH_MEMMAP_RAM);
	expect_entry(&map[1], 0x9f000, 0xe0000 - 0x9f000, PVH_MEMMAP_RESERVED);
	expect_entry(&map[2], 0xe0000, 0x20000, PVH_MEMMAP_ACPI);
	expect_entry(&map[3], MiB, MEM - MiB, PVH_MEMMAP_RAM);
	expect_entry(&map[4], 0xfec00000, PAGE_SIZE, PVH_MEMMAP_RESERVED);
	expect_entry(&map[5], 0xfee00000, PAGE_SIZE, PVH_MEMMAP_RESERVED);

	assert_string_equal(at(buf, si->cmdline_paddr), "console=ttyS0 quiet");
	assert_int_equal(si->cmdline_paddr + strlen(l.cmdline) + 1, PVH_START_INFO_GPA + used);
	assert_int_equal(buf[used], 0xee); /* nothing written past what it reports */
}

static void test_start_info_minimal(void **state)
{
	static u8 buf[PVH_START_INFO_SIZE];
	const struct pvh_start_info *si = si_of(buf);
	struct pvh_kernel k = fake_kernel(16 * MiB, 20 * MiB);
	struct pvh_layout l;
	long used;

	make_layout(&l, MEM);
	l.cmdline = NULL;
	l.rsdp_gpa = 0;
	used = build(buf, sizeof(buf), &k, &l);
	assert_int_equal(used, 56 + 6 * 24 + 1);
	assert_int_equal(si->nr_modules, 0);
	assert_int_equal(si->modlist_paddr, 0);
	assert_int_equal(si->rsdp_paddr, 0);
	assert_int_equal(si->memmap_paddr, PVH_START_INFO_GPA + 56);
	assert_string_equal(at(buf, si->cmdline_paddr), "");

	/* The buffer may be exactly as large as needed, not smaller. */
	assert_int_equal(build(buf, used, &k, &l), used);
	assert_int_equal(build(buf, used - 1, &k, &l), -1);
	assert_non_null(strstr(err, "start info: needs 201 bytes, the buffer has 200"));
	assert_int_equal(build(buf, 0, &k, &l), -1);
}

static void test_start_info_cmdline_limit(void **state)
{
	static u8 buf[PVH_START_INFO_SIZE];
	static char line[PVH_CMDLINE_MAX + 1];
	struct pvh_kernel k = fake_kernel(16 * MiB, 20 * MiB);
	struct pvh_layout l;

	make_layout(&l, MEM);
	memset(line, 'a', PVH_CMDLINE_MAX - 1);
	l.cmdline = line;
	assert_true(build(buf, sizeof(buf), &k, &l) > 0);
	assert_int_equal(strlen(at(buf, si_of(buf)->cmdline_paddr)), PVH_CMDLINE_MAX - 1);
	line[PVH_CMDLINE_MAX - 1] = 'a';
	assert_int_equal(build(buf, sizeof(buf), &k, &l), -1);
	assert_string_equal(err, "cmdline: longer than 2047 characters");
}

static void test_start_info_big_memory(void **state)
{
	static u8 buf[PVH_START_INFO_SIZE];
	const struct pvh_memmap_entry *map;
	struct pvh_kernel k = fake_kernel(16 * MiB, 20 * MiB);
	struct pvh_layout l;

	make_layout(&l, 5 * GiB); /* RAM runs through the MMIO pages: they are cut out */
	assert_true(build(buf, sizeof(buf), &k, &l) > 0);
	assert_int_equal(si_of(buf)->memmap_entries, 8);
	map = at(buf, si_of(buf)->memmap_paddr);
	expect_entry(&map[3], MiB, 0xfec00000 - MiB, PVH_MEMMAP_RAM);
	expect_entry(&map[4], 0xfec00000, PAGE_SIZE, PVH_MEMMAP_RESERVED);
	expect_entry(&map[5], 0xfec01000, 0xfee00000 - 0xfec01000, PVH_MEMMAP_RAM);
	expect_entry(&map[6], 0xfee00000, PAGE_SIZE, PVH_MEMMAP_RESERVED);
	expect_entry(&map[7], 0xfee01000, 5 * GiB - 0xfee01000, PVH_MEMMAP_RAM);

	/* Ranges out of order, at 0 and straddling the end of memory. */
	make_layout(&l, MEM);
	l.nr_reserved = 3;
	l.reserved[2] = l.reserved[0];
	l.reserved[0] = (struct pvh_range){MEM - MiB, 2 * MiB, PVH_MEMMAP_NVS};
	l.reserved[1].base = 0; /* ACPI [0, 0x20000) */
	l.rsdp_gpa = 0x1000;
	assert_true(build(buf, sizeof(buf), &k, &l) > 0);
	assert_int_equal(si_of(buf)->memmap_entries, 7);
	map = at(buf, si_of(buf)->memmap_paddr);
	expect_entry(&map[0], 0, 0x20000, PVH_MEMMAP_ACPI);
	expect_entry(&map[1], 0x20000, 0x9f000 - 0x20000, PVH_MEMMAP_RAM);
	expect_entry(&map[2], 0x9f000, 0xe0000 - 0x9f000, PVH_MEMMAP_RESERVED);
	expect_entry(&map[3], 0xe0000, MEM - MiB - 0xe0000, PVH_MEMMAP_RAM);
	expect_entry(&map[4], MEM - MiB, 2 * MiB, PVH_MEMMAP_NVS);
	expect_entry(&map[5], 0xfec00000, PAGE_SIZE, PVH_MEMMAP_RESERVED);
}

static void expect_layout_reject_at(const struct pvh_kernel *k, const struct pvh_layout *l,
				    const char *want, int line)
{
	static u8 buf[PVH_START_INFO_SIZE];

	if (build(buf, sizeof(buf), k, l) != -1 || !strstr(err, want))
		fail_msg("line %d: wanted an error with \"%s\", got \"%s\"", line, want, err);
}
#define expect_layout_reject(want) expect_layout_reject_at(&k, &l, want, __LINE__)

static void test_start_info_rejects_layout(void **state)
{
	struct pvh_kernel k = fake_kernel(16 * MiB, 20 * MiB);
	struct pvh_layout l;

	make_layout(&l, MEM + 1);
	expect_layout_reject("memory size 0x4000001 is not page aligned");
	make_layout(&l, MiB);
	expect_layout_reject("memory size");
	make_layout(&l, MEM);
	l.start_info_gpa = 0x6000; /* in RAM */
	expect_layout_reject("start info: 0xdc bytes at 0x6000 are not in a reserved range");
	make_layout(&l, MEM);
	l.start_info_gpa = 0xdff80; /* runs out of its range */
	expect_layout_reject("not in a reserved range");
	make_layout(&l, MEM);
	l.start_info_gpa = 0x9f004;
	expect_layout_reject("8-byte aligned");
	make_layout(&l, MEM);
	l.start_info_gpa = 0;
	expect_layout_reject("not in a reserved range");
	make_layout(&l, MEM); /* the cmdline's 2 KiB window leaves guest memory */
	l.reserved[1] = (struct pvh_range){MEM - PAGE_SIZE, PAGE_SIZE, PVH_MEMMAP_RESERVED};
	l.start_info_gpa = MEM - 512;
	l.rsdp_gpa = 0;
	expect_layout_reject("not in a reserved range");
	make_layout(&l, MEM);
	l.rsdp_gpa = 0x2000;
	expect_layout_reject("RSDP at 0x2000 is not in a reserved range");
	make_layout(&l, MEM);
	l.rsdp_gpa = PVH_LOW_RESERVED_END - 8; /* RSDP crosses the end */
	expect_layout_reject("RSDP");

	make_layout(&l, MEM);
	l.reserved[1].base = 0xdf000; /* overlaps reserved[0] */
	expect_layout_reject("reserved ranges at 0x9f000 and 0xdf000 overlap");
	make_layout(&l, MEM);
	l.nr_reserved = 3;
	l.reserved[2] = (struct pvh_range){PVH_LAPIC_GPA, PAGE_SIZE, PVH_MEMMAP_RESERVED};
	expect_layout_reject("overlap (the IOAPIC and LAPIC pages are added)");
	make_layout(&l, MEM);
	l.nr_reserved = 3;
	l.reserved[2] = (struct pvh_range){19 * MiB, MiB, PVH_MEMMAP_RESERVED};
	expect_layout_reject("reserved range at 0x1300000 overlaps the kernel");
	make_layout(&l, MEM);
	l.reserved[1].size = 0x100;
	expect_layout_reject("reserved range 1 [0xe0000, +0x100) type 3 is empty, unaligned");
	make_layout(&l, MEM);
	l.reserved[1].size = 0;
	expect_layout_reject("is empty");
	make_layout(&l, MEM);
	l.reserved[1].type = PVH_MEMMAP_RAM;
	expect_layout_reject("of a wrong type");
	make_layout(&l, MEM);
	l.reserved[1].size = ~0ull & PAGE_MASK;
	expect_layout_reject("reserved range 1");
	make_layout(&l, MEM);
	l.nr_reserved = PVH_MAX_RESERVED + 1;
	expect_layout_reject("more than 8 reserved ranges");

	make_layout(&l, MEM);
	l.initrd_gpa = 18 * MiB;
	l.initrd_size = 4 * MiB;
	expect_layout_reject("initrd: [0x1200000, +0x400000) overlaps the kernel");
	l.initrd_gpa = 0xe0000;
	expect_layout_reject("initrd: [0xe0000, +0x400000) is not a page-aligned range");
	l.initrd_gpa = MEM - 2 * MiB;
	expect_layout_reject("is not a page-aligned range of guest memory");
	l.initrd_gpa = 32 * MiB + 1;
	expect_layout_reject("is not a page-aligned range");
	l.initrd_gpa = ~0ull & PAGE_MASK;
	expect_layout_reject("is not a page-aligned range");
	l.initrd_gpa = 32 * MiB;
	l.initrd_size = 0; /* an address without a size */
	expect_layout_reject("initrd: [0x2000000, +0x0)");
	make_layout(&l, MEM);
	l.nr_reserved = 3;
	l.reserved[2] = (struct pvh_range){40 * MiB, MiB, PVH_MEMMAP_RESERVED};
	l.initrd_gpa = 40 * MiB + PAGE_SIZE;
	l.initrd_size = PAGE_SIZE;
	expect_layout_reject("overlaps the kernel or a reserved range");
}

/* ---- entry state ---- */

static void test_entry_state(void **state)
{
	struct pvh_kernel k = fake_kernel(16 * MiB, 20 * MiB);
	struct vp_regs r;
	struct vp_sregs s;

	k.entry = 0x1234560;
	memset(&r, 0x55, sizeof(r));
	memset(&s, 0x55, sizeof(s));
	pvh_entry_state(&k, PVH_START_INFO_GPA, &r, &s);
	assert_int_equal(r.rip, 0x1234560);
	assert_int_equal(r.gpr[REG_RBX], PVH_START_INFO_GPA);
	assert_int_equal(r.gpr[REG_RAX], 0);
	assert_int_equal(r.gpr[REG_RSP], 0);
	assert_int_equal(r.rflags, 0x2); /* IF, TF, VM clear */
	assert_int_equal(s.cr0, 0x11);	 /* PE (and ET), no paging */
	assert_int_equal(s.cr4, 0);
	assert_int_equal(s.efer, 0);
	assert_int_equal(s.cs.sel, 0x10);
	assert_int_equal(s.cs.base, 0);
	assert_int_equal(s.cs.limit, 0xffffffff);
	assert_int_equal(s.cs.attr & 0xf, 0xb);	      /* execute/read, accessed */
	assert_int_equal(s.cs.attr & 0xe090, 0xc090); /* G, D (32-bit), P, S; not L */
	const struct vp_seg *data[] = {&s.ds, &s.es, &s.ss, &s.fs, &s.gs};
	for (unsigned i = 0; i < ARRAY_SIZE(data); i++) {
		assert_int_equal(data[i]->sel, 0x18);
		assert_int_equal(data[i]->base, 0);
		assert_int_equal(data[i]->limit, 0xffffffff);
		assert_int_equal(data[i]->attr, 0xc093);
	}
	assert_int_equal(s.tr.attr, 0x8b); /* busy 32-bit TSS */
	assert_int_equal(s.tr.base, 0);
	assert_int_equal(s.tr.limit, 0x67);
}

/* ---- Debian's vmlinux, when another step has built it ---- */

struct real_load {
	const u8 *file;
	u64 size, lo, hi, bytes, zero;
};

static int real_write(void *ctx, u64 gpa, const void *src, u64 len)
{
	struct real_load *r = ctx;

	assert_true(gpa >= r->lo && gpa <= r->hi && len <= r->hi - gpa);
	if (src) {
		assert_true((const u8 *)src >= r->file && len <= r->size &&
			    (u64)((const u8 *)src - r->file) <= r->size - len);
		r->bytes += len;
	} else {
		r->zero += len;
	}
	return 0;
}

static u8 *read_file(const char *path, u64 *size)
{
	FILE *f = fopen(path, "rb");
	u8 *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*size = (u64)n;
	}
	fclose(f);
	return buf;
}

static void test_real_vmlinux(void **state)
{
	static u8 si[PVH_START_INFO_SIZE];
	const char *path = getenv("PVH_VMLINUX") ? getenv("PVH_VMLINUX") : "build/linux/vmlinux";
	struct pvh_kernel *k = calloc(1, sizeof(*k));
	struct real_load r = {0};
	struct pvh_layout l;
	u8 *elf;

	elf = read_file(path, &r.size);
	if (!elf) {
		free(k);
		print_message("%s not found: skipped\n", path);
		skip();
	}
	make_layout(&l, 512 * MiB);
	if (pvh_parse(elf, r.size, l.mem_size, k, err, sizeof(err)))
		fail_msg("%s: %s", path, err);
	print_message("%s: entry 0x%x, %u segments in [0x%llx, 0x%llx)\n", path, k->entry,
		      k->nr_loads, (unsigned long long)k->lo, (unsigned long long)k->hi);
	assert_true(k->lo >= PVH_LOAD_MIN && k->entry >= k->lo && k->entry < k->hi);

	r.file = elf;
	r.lo = k->lo;
	r.hi = k->hi;
	assert_int_equal(pvh_load(elf, r.size, k, real_write, &r), 0);
	assert_true(r.bytes > 0 && r.bytes <= r.size);

	assert_int_equal(place(k, &l, 8 * MiB), 0);
	assert_true(l.initrd_gpa >= k->hi || l.initrd_gpa + l.initrd_size <= k->lo);
	assert_true(build(si, sizeof(si), k, &l) > 0);

	/* Cut short, it is read only up to the cut (ASan sees an exact-size copy). */
	for (unsigned i = 1; i < 8; i++) {
		u64 cut = r.size / 8 * i;
		u8 *part = malloc(cut);

		memcpy(part, elf, cut);
		if (pvh_parse(part, cut, l.mem_size, k, err, sizeof(err)) == 0)
			for (unsigned j = 0; j < k->nr_loads; j++)
				assert_true(k->load[j].offset + k->load[j].filesz <= cut);
		free(part);
	}
	free(elf);
	free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_note_forms),
	    cmocka_unit_test(test_parse_rejects_header),
	    cmocka_unit_test(test_parse_rejects_segments),
	    cmocka_unit_test(test_parse_rejects_too_many_loads),
	    cmocka_unit_test(test_parse_rejects_notes),
	    cmocka_unit_test(test_parse_error_buffer),
	    cmocka_unit_test(test_load_copies_and_zeroes),
	    cmocka_unit_test(test_load_stops_on_error),
	    cmocka_unit_test(test_initrd_placement),
	    cmocka_unit_test(test_initrd_avoids_kernel),
	    cmocka_unit_test(test_initrd_does_not_fit),
	    cmocka_unit_test(test_start_info_contents),
	    cmocka_unit_test(test_start_info_minimal),
	    cmocka_unit_test(test_start_info_cmdline_limit),
	    cmocka_unit_test(test_start_info_big_memory),
	    cmocka_unit_test(test_start_info_rejects_layout),
	    cmocka_unit_test(test_entry_state),
	    cmocka_unit_test(test_real_vmlinux),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
