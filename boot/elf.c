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
