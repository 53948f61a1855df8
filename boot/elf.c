/*
 * Validation of bulkhead.elf: a static x86-64 executable whose PT_LOAD
 * segments lie in the file, do not overlap, and are loaded at their physical
 * addresses (p_paddr == p_vaddr, identity mapped) below 4 GiB.
 */
#include "boot/elf.h"

static bool elf_has_magic(const u8 *ident)
{
	return ident[0] == 0x7f && ident[1] == 'E' && ident[2] == 'L' && ident[3] == 'F';
}

static const char *elf_check_header(const struct elf64_ehdr *eh, u64 size)
{
	if (!elf_has_magic(eh->e_ident))
		return "not an ELF file";
	if (eh->e_ident[4] != ELF_CLASS_64 || eh->e_ident[5] != ELF_DATA_LSB ||
	    eh->e_ident[6] != ELF_VERSION_CURRENT)
		return "not a little-endian ELF64 file";
	if (eh->e_machine != ELF_MACHINE_X86_64)
		return "not an x86-64 ELF file";
	if (eh->e_type != ELF_TYPE_EXEC)
		return "not an executable (ET_EXEC) ELF file";
	if (eh->e_phentsize != sizeof(struct elf64_phdr) || eh->e_phnum == 0)
		return "no usable program header table";
	if (eh->e_phoff > size || (u64)eh->e_phnum * sizeof(struct elf64_phdr) > size - eh->e_phoff)
		return "program headers lie outside the file";
	return NULL;
}

static const char *elf_check_load(const struct elf64_phdr *ph, u64 size, u64 prev_end)
{
	if (ph->p_filesz > ph->p_memsz)
		return "segment has p_filesz > p_memsz";
	if (ph->p_offset > size || ph->p_filesz > size - ph->p_offset)
		return "segment lies outside the file";
	if (ph->p_paddr != ph->p_vaddr)
		return "segment has p_paddr != p_vaddr";
	if (ph->p_paddr >= ELF_LOAD_LIMIT || ph->p_memsz > ELF_LOAD_LIMIT - ph->p_paddr ||
	    ALIGN_UP(ph->p_paddr + ph->p_memsz, PAGE_SIZE) > ELF_LOAD_LIMIT)
		return "segment lies above 4 GiB";
	if (ph->p_paddr < prev_end)
		return "segments overlap or are not in ascending order";
	return NULL;
}

const char *elf_parse(const void *buf, u64 size, struct elf_image *img)
{
	struct elf64_ehdr eh;
	const char *why;
	u64 prev_end = 0;

	if (size < sizeof(eh))
		return "file is too small for an ELF header";
	__builtin_memcpy(&eh, buf, sizeof(eh));
	why = elf_check_header(&eh, size);
	if (why)
		return why;

	img->entry = eh.e_entry;
	img->nr_loads = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		struct elf64_phdr ph;

		__builtin_memcpy(&ph, (const u8 *)buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != ELF_PT_LOAD || ph.p_memsz == 0)
			continue;
		why = elf_check_load(&ph, size, prev_end);
		if (why)
			return why;
		if (img->nr_loads == ELF_MAX_LOADS)
			return "too many PT_LOAD segments";
		img->load[img->nr_loads++] = (struct elf_load){
		    .paddr = ph.p_paddr,
		    .memsz = ph.p_memsz,
		    .offset = ph.p_offset,
		    .filesz = ph.p_filesz,
		};
		prev_end = ph.p_paddr + ph.p_memsz;
	}
	if (img->nr_loads == 0)
		return "no PT_LOAD segments";
	for (unsigned i = 0; i < img->nr_loads; i++)
		if (img->entry >= img->load[i].paddr &&
		    img->entry < img->load[i].paddr + img->load[i].filesz)
			return NULL;
	return "entry point lies outside the loaded segments";
}

/* Is the NUL-terminated string at strtab[at] within [0, len) equal to name? */
static bool elf_name_is(const u8 *strtab, u64 len, u64 at, const char *name)
{
	u64 i = 0;

	for (; at + i < len && name[i]; i++)
		if (strtab[at + i] != (u8)name[i])
			return false;
	return at + i < len && !name[i] && !strtab[at + i];
}

static bool elf_in_file(u64 offset, u64 len, u64 size)
{
	return offset <= size && len <= size - offset;
}

const char *elf_section(const void *buf, u64 size, const char *name, u64 *offset, u64 *len)
{
	const u8 *file = buf;
	struct elf64_ehdr eh;
	struct elf64_shdr strtab;

	if (size < sizeof(eh))
		return "file is too small for an ELF header";
	__builtin_memcpy(&eh, buf, sizeof(eh));
	if (!elf_has_magic(eh.e_ident) || eh.e_ident[4] != ELF_CLASS_64)
		return "not an ELF64 file";
	if (eh.e_shentsize != sizeof(struct elf64_shdr) || !eh.e_shnum ||
	    eh.e_shstrndx >= eh.e_shnum ||
	    !elf_in_file(eh.e_shoff, (u64)eh.e_shnum * sizeof(struct elf64_shdr), size))
		return "no usable section header table";
	__builtin_memcpy(&strtab, file + eh.e_shoff + eh.e_shstrndx * sizeof(strtab),
			 sizeof(strtab));
	if (strtab.sh_type == ELF_SHT_NOBITS ||
	    !elf_in_file(strtab.sh_offset, strtab.sh_size, size))
		return "section names lie outside the file";
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		struct elf64_shdr sh;

		__builtin_memcpy(&sh, file + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if (!elf_name_is(file + strtab.sh_offset, strtab.sh_size, sh.sh_name, name))
			continue;
		if (sh.sh_type == ELF_SHT_NOBITS || !elf_in_file(sh.sh_offset, sh.sh_size, size))
			return "the section lies outside the file";
		*offset = sh.sh_offset;
		*len = sh.sh_size;
		return NULL;
	}
	return "no such section";
}
