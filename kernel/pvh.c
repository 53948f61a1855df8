/*
 * PVH boot of a vmlinux: the ELF and note checks on the untrusted file, the
 * segment copy, initrd placement, the start info with its memory map, and the
 * entry register state. Layouts and numbers follow the sources named in pvh.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pvh.h"
#include "vp.h"

/* xen/include/public/elfnote.h */
#define XEN_NOTE_NAME		 "Xen" /* n_namesz 4 with the NUL */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define LIMIT_4G	(1ull << 32)
#define ACPI_RSDP_SIZE	36		       /* ACPI 6.5 5.2.5.3: revision 2 RSDP */
#define NR_SPANS	(PVH_MAX_RESERVED + 2) /* caller's ranges + IOAPIC + LAPIC */
#define MEMMAP_MAX_SIZE (sizeof(struct pvh_memmap_entry) * PVH_MEMMAP_MAX)

_Static_assert(sizeof(struct pvh_start_info) + sizeof(struct pvh_modlist_entry) + MEMMAP_MAX_SIZE +
		       PVH_CMDLINE_MAX <=
		   PVH_START_INFO_SIZE,
	       "the start info always fits in PVH_START_INFO_SIZE");

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* [off, off + len) inside [0, size), without overflow. */
static bool range_in(u64 off, u64 len, u64 size)
{
	return off <= size && len <= size - off;
}

/* Ranges whose ends do not overflow; an empty one meets nothing. */
static bool overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

static u64 le_read(const u8 *p, unsigned bytes)
{
	u64 v = 0;

	for (unsigned i = bytes; i--;)
		v = v << 8 | p[i];
	return v;
}

/* ---- ELF header and segments ---- */

static int check_header(const struct elf64_ehdr *eh, u64 size, char *err, size_t errlen)
{
	const u8 *id = eh->e_ident;

	if (id[0] != 0x7f || id[1] != 'E' || id[2] != 'L' || id[3] != 'F')
		return fail(err, errlen,
			    "vmlinux: not an ELF file; is this a bzImage "
			    "instead of an uncompressed vmlinux?");
	if (id[4] != ELF_CLASS_64)
		return fail(err, errlen, "vmlinux: not an ELF64 file (class %u)", id[4]);
	if (id[5] != ELF_DATA_LSB)
		return fail(err, errlen, "vmlinux: not a little-endian ELF file");
	if (id[6] != ELF_VERSION_CURRENT || eh->e_version != ELF_VERSION_CURRENT)
		return fail(err, errlen, "vmlinux: unknown ELF version %u", eh->e_version);
	if (eh->e_machine != ELF_MACHINE_X86_64)
		return fail(err, errlen, "vmlinux: not an x86-64 ELF file (e_machine %u)",
			    eh->e_machine);
	if (eh->e_type != ELF_TYPE_EXEC)
		return fail(err, errlen, "vmlinux: not an executable ELF file (e_type %u)",
			    eh->e_type);
	if (eh->e_phentsize != sizeof(struct elf64_phdr))
		return fail(err, errlen,
			    "vmlinux: program header entries of %u bytes, expected %zu",
			    eh->e_phentsize, sizeof(struct elf64_phdr));
	if (eh->e_phnum == 0 || eh->e_phnum == ELF_PN_XNUM)
		return fail(err, errlen, "vmlinux: no usable program header table (e_phnum %u)",
			    eh->e_phnum);
	if (!range_in(eh->e_phoff, (u64)eh->e_phnum * sizeof(struct elf64_phdr), size))
		return fail(err, errlen, "vmlinux: program headers lie outside the file");
	return 0;
}

static void read_phdr(const u8 *file, const struct elf64_ehdr *eh, unsigned i,
		      struct elf64_phdr *ph)
{
	memcpy(ph, file + eh->e_phoff + (u64)i * sizeof(*ph), sizeof(*ph));
}

static int add_load(struct pvh_kernel *k, const struct elf64_phdr *ph, unsigned i, u64 size,
		    u64 limit, char *err, size_t errlen)
{
	if (ph->p_filesz > ph->p_memsz)
		return fail(err, errlen, "vmlinux: segment %u has p_filesz 0x%llx > p_memsz 0x%llx",
			    i, (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
	if (!range_in(ph->p_offset, ph->p_filesz, size))
		return fail(err, errlen,
			    "vmlinux: segment %u (0x%llx bytes at offset 0x%llx) "
			    "lies outside the file (%llu bytes)",
			    i, (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_offset,
			    (unsigned long long)size);
	if (ph->p_paddr < PVH_LOAD_MIN)
		return fail(err, errlen, "vmlinux: segment %u at 0x%llx lies below 1 MiB", i,
			    (unsigned long long)ph->p_paddr);
	if (!range_in(ph->p_paddr, ph->p_memsz, limit))
		return fail(err, errlen,
			    "vmlinux: segment %u [0x%llx, +0x%llx) lies outside "
			    "guest memory [1 MiB, 0x%llx)",
			    i, (unsigned long long)ph->p_paddr, (unsigned long long)ph->p_memsz,
			    (unsigned long long)limit);
	for (unsigned j = 0; j < k->nr_loads; j++)
		if (overlaps(ph->p_paddr, ph->p_memsz, k->load[j].paddr, k->load[j].memsz))
			return fail(err, errlen,
				    "vmlinux: segment %u at 0x%llx overlaps the one at "
				    "0x%llx",
				    i, (unsigned long long)ph->p_paddr,
				    (unsigned long long)k->load[j].paddr);
	if (k->nr_loads == PVH_MAX_LOADS)
		return fail(err, errlen, "vmlinux: more than %u PT_LOAD segments", PVH_MAX_LOADS);

	k->load[k->nr_loads++] = (struct elf_load){
	    .paddr = ph->p_paddr,
	    .memsz = ph->p_memsz,
	    .offset = ph->p_offset,
	    .filesz = ph->p_filesz,
	};
	k->lo = k->nr_loads == 1 ? ph->p_paddr : MIN(k->lo, ph->p_paddr);
	k->hi = MAX(k->hi, ph->p_paddr + ph->p_memsz);
	return 0;
}

static int read_loads(const u8 *file, const struct elf64_ehdr *eh, u64 size, u64 mem_size,
		      struct pvh_kernel *k, char *err, size_t errlen)
{
	u64 limit = MIN(mem_size, PVH_LOAD_LIMIT);

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		struct elf64_phdr ph;

		read_phdr(file, eh, i, &ph);
		if (ph.p_type != ELF_PT_LOAD || ph.p_memsz == 0)
			continue;
		if (add_load(k, &ph, i, size, limit, err, errlen))
			return -1;
	}
	if (k->nr_loads == 0)
		return fail(err, errlen, "vmlinux: no PT_LOAD segments");
	return 0;
}

/* ---- the PVH entry note ---- */

static int read_entry(const u8 *desc, u32 descsz, u32 *entry, char *err, size_t errlen)
{
	u64 v;

	/* Linux emits the address with _ASM_PTR: 8 bytes on x86-64, 4 on i386. */
	if (descsz != 4 && descsz != 8)
		return fail(err, errlen,
			    "vmlinux: PVH entry note has a %u-byte descriptor, "
			    "expected 4 or 8",
			    descsz);
	v = le_read(desc, descsz);
	if (v >= LIMIT_4G)
		return fail(err, errlen, "vmlinux: PVH entry 0x%llx lies above 4 GiB",
			    (unsigned long long)v);
	*entry = (u32)v;
	return 1;
}

/*
 * Walk the notes in file[off, off + len): descriptor and next note start at
 * the next multiple of align from the start of the notes (binutils' reading
 * of the gABI; the same as padding name and descriptor when align is 4).
 * 1 with *entry set, 0 if there is no PVH note, -1 on a malformed note.
 */
static int scan_notes(const u8 *file, u64 off, u64 len, u64 align, const char *where, unsigned idx,
		      u32 *entry, char *err, size_t errlen)
{
	const u8 *p = file + off;
	u64 pos = 0;

	while (len - pos >= sizeof(struct elf64_nhdr)) {
		struct elf64_nhdr nh;
		u64 name, desc;

		memcpy(&nh, p + pos, sizeof(nh));
		name = pos + sizeof(nh);
		desc = ALIGN_UP(name + nh.n_namesz, align);
		if (desc > len || nh.n_descsz > len - desc)
			return fail(err, errlen,
				    "vmlinux: truncated ELF note at offset 0x%llx in %s %u",
				    (unsigned long long)(off + pos), where, idx);
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == sizeof(XEN_NOTE_NAME) &&
		    !memcmp(p + name, XEN_NOTE_NAME, sizeof(XEN_NOTE_NAME)))
			return read_entry(p + desc, nh.n_descsz, entry, err, errlen);
		/* The last note's descriptor padding may be cut off by the end. */
		pos = MIN(len, ALIGN_UP(desc + nh.n_descsz, align));
	}
	return 0;
}

/* gABI: notes are 4-byte aligned, 8-byte only where the segment or section says 8. */
static u64 note_align(u64 align)
{
	return align == 8 ? 8 : 4;
}

static int scan_note_segments(const u8 *file, const struct elf64_ehdr *eh, u64 size, u32 *entry,
			      char *err, size_t errlen)
{
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		struct elf64_phdr ph;
		int rc;

		read_phdr(file, eh, i, &ph);
		if (ph.p_type != ELF_PT_NOTE)
			continue;
		if (!range_in(ph.p_offset, ph.p_filesz, size))
			return fail(err, errlen, "vmlinux: note segment %u lies outside the file",
				    i);
		rc = scan_notes(file, ph.p_offset, ph.p_filesz, note_align(ph.p_align), "segment",
				i, entry, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int scan_note_sections(const u8 *file, const struct elf64_ehdr *eh, u64 size, u32 *entry,
			      char *err, size_t errlen)
{
	if (eh->e_shoff == 0 || eh->e_shnum == 0)
		return 0;
	if (eh->e_shentsize != sizeof(struct elf64_shdr) ||
	    !range_in(eh->e_shoff, (u64)eh->e_shnum * sizeof(struct elf64_shdr), size))
		return fail(err, errlen, "vmlinux: section headers lie outside the file");

	for (unsigned i = 0; i < eh->e_shnum; i++) {
		struct elf64_shdr sh;
		int rc;

		memcpy(&sh, file + eh->e_shoff + (u64)i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != ELF_SHT_NOTE)
			continue;
		if (!range_in(sh.sh_offset, sh.sh_size, size))
			return fail(err, errlen, "vmlinux: note section %u lies outside the file",
				    i);
		rc = scan_notes(file, sh.sh_offset, sh.sh_size, note_align(sh.sh_addralign),
				"section", i, entry, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int find_entry(const u8 *file, const struct elf64_ehdr *eh, u64 size, u32 *entry, char *err,
		      size_t errlen)
{
	int rc = scan_note_segments(file, eh, size, entry, err, errlen);

	if (rc == 0)
		rc = scan_note_sections(file, eh, size, entry, err, errlen);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return fail(err, errlen,
			    "vmlinux: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); "
			    "is this an uncompressed vmlinux?");
	return 0;
}

static bool entry_in_loads(const struct pvh_kernel *k)
{
	for (unsigned i = 0; i < k->nr_loads; i++)
		if (k->entry >= k->load[i].paddr && k->entry - k->load[i].paddr < k->load[i].filesz)
			return true;
	return false;
}

int pvh_parse(const void *elf, u64 size, u64 mem_size, struct pvh_kernel *k, char *err,
	      size_t errlen)
{
	const u8 *file = elf;
	struct elf64_ehdr eh;

	memset(k, 0, sizeof(*k));
	if (size < sizeof(eh))
		return fail(err, errlen, "vmlinux: %llu bytes is too small for an ELF header",
			    (unsigned long long)size);
	memcpy(&eh, file, sizeof(eh));
	if (check_header(&eh, size, err, errlen) ||
	    read_loads(file, &eh, size, mem_size, k, err, errlen) ||
	    find_entry(file, &eh, size, &k->entry, err, errlen))
		return -1;
	if (!entry_in_loads(k))
		return fail(err, errlen, "vmlinux: PVH entry 0x%x lies outside the loaded segments",
			    k->entry);
	return 0;
}

int pvh_load(const void *elf, u64 size, const struct pvh_kernel *k, pvh_write_fn write, void *ctx)
{
	const u8 *file = elf;

	if (k->nr_loads > PVH_MAX_LOADS)
		return -1;
	for (unsigned i = 0; i < k->nr_loads; i++) {
		const struct elf_load *l = &k->load[i];
		int rc;

		if (l->filesz > l->memsz || !range_in(l->offset, l->filesz, size))
			return -1;
		if (l->filesz) {
			rc = write(ctx, l->paddr, file + l->offset, l->filesz);
			if (rc)
				return rc;
		}
		if (l->memsz > l->filesz) {
			rc = write(ctx, l->paddr + l->filesz, NULL, l->memsz - l->filesz);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- reserved ranges and the initrd ---- */

static u64 range_end(const struct pvh_range *r)
{
	return r->base + r->size < r->base ? ~0ull : r->base + r->size;
}

/* The caller's ranges and the MMIO pages, sorted by base. Returns how many. */
static unsigned sorted_spans(const struct pvh_layout *l, struct pvh_range *out)
{
	unsigned n = 0, nr = MIN(l->nr_reserved, PVH_MAX_RESERVED);

	for (unsigned i = 0; i < nr; i++)
		out[n++] = l->reserved[i];
	out[n++] = (struct pvh_range){PVH_IOAPIC_GPA, PAGE_SIZE, PVH_MEMMAP_RESERVED};
	out[n++] = (struct pvh_range){PVH_LAPIC_GPA, PAGE_SIZE, PVH_MEMMAP_RESERVED};
	for (unsigned i = 1; i < n; i++) {
		struct pvh_range r = out[i];
		unsigned j = i;

		for (; j && out[j - 1].base > r.base; j--)
			out[j] = out[j - 1];
		out[j] = r;
	}
	return n;
}

/* The first span [base, end) meets, or NULL. */
static const struct pvh_range *span_hit(const struct pvh_range *s, unsigned n, u64 base, u64 end)
{
	for (unsigned i = 0; i < n; i++)
		if (s[i].size && base < range_end(&s[i]) && s[i].base < end)
			return &s[i];
	return NULL;
}

int pvh_place_initrd(const struct pvh_kernel *k, const struct pvh_layout *l, u64 *gpa, char *err,
		     size_t errlen)
{
	struct pvh_range busy[NR_SPANS + 1];
	u64 top = MIN(l->mem_size, PVH_LOAD_LIMIT) & PAGE_MASK;
	u64 need = ALIGN_UP(l->initrd_size, PAGE_SIZE);
	unsigned n;

	*gpa = 0;
	if (!l->initrd_size)
		return 0;
	n = sorted_spans(l, busy);
	busy[n++] = (struct pvh_range){
	    .base = k->lo & PAGE_MASK,
	    .size = ALIGN_UP(k->hi, PAGE_SIZE) - (k->lo & PAGE_MASK),
	    .type = PVH_MEMMAP_RAM, /* the kernel's own pages */
	};

	/* Highest first: every span that gets in the way moves the top below it, once. */
	while (need && top >= PVH_LOAD_MIN && need <= top - PVH_LOAD_MIN) {
		const struct pvh_range *hit = span_hit(busy, n, top - need, top);

		if (!hit) {
			*gpa = top - need;
			return 0;
		}
		top = hit->base & PAGE_MASK;
	}
	return fail(err, errlen,
		    "initrd: %llu bytes do not fit in guest memory below 0x%llx "
		    "beside the kernel and the reserved ranges",
		    (unsigned long long)l->initrd_size,
		    (unsigned long long)MIN(l->mem_size, PVH_LOAD_LIMIT));
}

/* ---- the start info ---- */

static bool range_type_ok(u32 type)
{
	return type == PVH_MEMMAP_RESERVED || type == PVH_MEMMAP_ACPI || type == PVH_MEMMAP_NVS;
}

static int check_spans(const struct pvh_kernel *k, const struct pvh_layout *l,
		       const struct pvh_range *s, unsigned n, char *err, size_t errlen)
{
	if (l->nr_reserved > PVH_MAX_RESERVED)
		return fail(err, errlen, "start info: more than %u reserved ranges",
			    PVH_MAX_RESERVED);
	for (unsigned i = 0; i < l->nr_reserved; i++) {
		const struct pvh_range *r = &l->reserved[i];

		if (!r->size || !IS_ALIGNED(r->base | r->size, PAGE_SIZE) ||
		    r->base + r->size < r->base || !range_type_ok(r->type))
			return fail(err, errlen,
				    "start info: reserved range %u [0x%llx, +0x%llx) "
				    "type %u is empty, unaligned or of a wrong type",
				    i, (unsigned long long)r->base, (unsigned long long)r->size,
				    r->type);
	}
	for (unsigned i = 0; i < n; i++) {
		if (i && s[i].base < range_end(&s[i - 1]))
			return fail(err, errlen,
				    "start info: reserved ranges at 0x%llx and 0x%llx "
				    "overlap (the IOAPIC and LAPIC pages are added)",
				    (unsigned long long)s[i - 1].base,
				    (unsigned long long)s[i].base);
		if (overlaps(s[i].base, s[i].size, k->lo, k->hi - k->lo))
			return fail(err, errlen,
				    "start info: reserved range at 0x%llx overlaps the "
				    "kernel [0x%llx, 0x%llx)",
				    (unsigned long long)s[i].base, (unsigned long long)k->lo,
				    (unsigned long long)k->hi);
	}
	return 0;
}

static int check_initrd(const struct pvh_kernel *k, const struct pvh_layout *l,
			const struct pvh_range *s, unsigned n, char *err, size_t errlen)
{
	u64 gpa = l->initrd_gpa, size = l->initrd_size;

	if (!size && !gpa)
		return 0;
	if (!size || !IS_ALIGNED(gpa, PAGE_SIZE) || gpa < PVH_LOAD_MIN ||
	    !range_in(gpa, size, MIN(l->mem_size, PVH_LOAD_LIMIT)))
		return fail(err, errlen,
			    "initrd: [0x%llx, +0x%llx) is not a page-aligned range of "
			    "guest memory above 1 MiB",
			    (unsigned long long)gpa, (unsigned long long)size);
	if (overlaps(gpa, size, k->lo, k->hi - k->lo) || span_hit(s, n, gpa, gpa + size))
		return fail(err, errlen,
			    "initrd: [0x%llx, +0x%llx) overlaps the kernel or a "
			    "reserved range",
			    (unsigned long long)gpa, (unsigned long long)size);
	return 0;
}

/*
 * Guest memory [gpa, gpa + len) below 4 GiB inside one of the caller's
 * reserved ranges (checked already), so Linux does not reuse it early.
 */
static bool in_reserved(const struct pvh_layout *l, u64 gpa, u64 len)
{
	if (!range_in(gpa, len, MIN(l->mem_size, LIMIT_4G)))
		return false;
	for (unsigned i = 0; i < l->nr_reserved; i++)
		if (gpa >= l->reserved[i].base &&
		    gpa + len <= l->reserved[i].base + l->reserved[i].size)
			return true;
	return false;
}

/* RAM [0, mem_size) less the spans, plus the spans, in address order. */
static unsigned build_memmap(const struct pvh_range *s, unsigned n, u64 mem_size,
			     struct pvh_memmap_entry *map)
{
	unsigned nr = 0;
	u64 cur = 0;

	for (unsigned i = 0; i < n; i++) {
		if (cur < s[i].base && cur < mem_size)
			map[nr++] = (struct pvh_memmap_entry){
			    .addr = cur,
			    .size = MIN(s[i].base, mem_size) - cur,
			    .type = PVH_MEMMAP_RAM,
			};
		map[nr++] = (struct pvh_memmap_entry){
		    .addr = s[i].base,
		    .size = s[i].size,
		    .type = s[i].type,
		};
		cur = range_end(&s[i]);
	}
	if (cur < mem_size)
		map[nr++] = (struct pvh_memmap_entry){
		    .addr = cur,
		    .size = mem_size - cur,
		    .type = PVH_MEMMAP_RAM,
		};
	return nr;
}

long pvh_build_start_info(void *buf, u64 size, const struct pvh_kernel *k,
			  const struct pvh_layout *l, char *err, size_t errlen)
{
	struct pvh_range spans[NR_SPANS];
	struct pvh_memmap_entry map[PVH_MEMMAP_MAX];
	struct pvh_start_info si;
	const char *cmdline = l->cmdline ? l->cmdline : "";
	size_t cmdlen = strnlen(cmdline, PVH_CMDLINE_MAX);
	u64 gpa = l->start_info_gpa, mod_off, map_off, cmd_off, used;
	unsigned n, nr_map;
	u8 *out = buf;

	if (cmdlen >= PVH_CMDLINE_MAX)
		return fail(err, errlen, "cmdline: longer than %u characters", PVH_CMDLINE_MAX - 1);
	if (!IS_ALIGNED(l->mem_size, PAGE_SIZE) || l->mem_size <= PVH_LOAD_MIN)
		return fail(err, errlen,
			    "start info: memory size 0x%llx is not page aligned above "
			    "1 MiB",
			    (unsigned long long)l->mem_size);
	n = sorted_spans(l, spans);
	if (check_spans(k, l, spans, n, err, errlen) || check_initrd(k, l, spans, n, err, errlen))
		return -1;
	if (l->rsdp_gpa && !in_reserved(l, l->rsdp_gpa, ACPI_RSDP_SIZE))
		return fail(err, errlen,
			    "start info: RSDP at 0x%llx is not in a reserved range of "
			    "guest memory",
			    (unsigned long long)l->rsdp_gpa);

	nr_map = build_memmap(spans, n, l->mem_size, map);
	mod_off = sizeof(struct pvh_start_info);
	map_off = mod_off + (l->initrd_size ? sizeof(struct pvh_modlist_entry) : 0);
	cmd_off = map_off + nr_map * sizeof(struct pvh_memmap_entry);
	used = cmd_off + cmdlen + 1;
	/* Linux copies COMMAND_LINE_SIZE bytes from the command line, whatever its length. */
	if (!gpa || !IS_ALIGNED(gpa, 8) || !in_reserved(l, gpa, used) ||
	    !range_in(gpa + cmd_off, PVH_CMDLINE_MAX, MIN(l->mem_size, LIMIT_4G)))
		return fail(err, errlen,
			    "start info: 0x%llx bytes at 0x%llx are not in a reserved "
			    "range of guest memory (8-byte aligned, below 4 GiB)",
			    (unsigned long long)used, (unsigned long long)gpa);
	if (size < used)
		return fail(err, errlen, "start info: needs %llu bytes, the buffer has %llu",
			    (unsigned long long)used, (unsigned long long)size);

	memset(out, 0, used);
	si = (struct pvh_start_info){
	    .magic = PVH_START_MAGIC,
	    .version = PVH_START_VERSION,
	    .nr_modules = l->initrd_size ? 1 : 0,
	    .modlist_paddr = l->initrd_size ? gpa + mod_off : 0,
	    .cmdline_paddr = gpa + cmd_off,
	    .rsdp_paddr = l->rsdp_gpa,
	    .memmap_paddr = gpa + map_off,
	    .memmap_entries = nr_map,
	};
	memcpy(out, &si, sizeof(si));
	if (l->initrd_size) {
		struct pvh_modlist_entry mod = {.paddr = l->initrd_gpa, .size = l->initrd_size};

		memcpy(out + mod_off, &mod, sizeof(mod));
	}
	memcpy(out + map_off, map, nr_map * sizeof(map[0]));
	memcpy(out + cmd_off, cmdline, cmdlen);
	return (long)used;
}

/* ---- entry state ---- */

static struct vp_seg flat_seg(u16 sel, u16 attr)
{
	return (struct vp_seg){.sel = sel, .attr = attr, .limit = 0xffffffff, .base = 0};
}

void pvh_entry_state(const struct pvh_kernel *k, u64 start_info_gpa, struct vp_regs *regs,
		     struct vp_sregs *sregs)
{
	memset(regs, 0, sizeof(*regs));
	regs->gpr[REG_RBX] = start_info_gpa;
	regs->rip = k->entry;
	regs->rflags = PVH_ENTRY_RFLAGS;

	memset(sregs, 0, sizeof(*sregs));
	sregs->cs = flat_seg(PVH_ENTRY_CS_SEL, PVH_ENTRY_CS_ATTR);
	sregs->ds = flat_seg(PVH_ENTRY_DS_SEL, PVH_ENTRY_DS_ATTR);
	sregs->es = sregs->ds;
	sregs->ss = sregs->ds;
	sregs->fs = sregs->ds;
	sregs->gs = sregs->ds;
	sregs->tr = (struct vp_seg){.attr = PVH_ENTRY_TR_ATTR, .limit = PVH_ENTRY_TR_LIMIT};
	sregs->ldtr = (struct vp_seg){.attr = PVH_ENTRY_LDT_ATTR, .limit = 0xffff};
	sregs->cr0 = PVH_ENTRY_CR0;
	sregs->cr4 = PVH_ENTRY_CR4;
}
