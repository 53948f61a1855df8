/*
 * libFuzzer: PVH boot of arbitrary bytes as a vmlinux. Whatever pvh_parse
 * accepts must load inside guest memory and the file, and must be bootable:
 * an initrd placed beside it and a start info built for it.
 */
#include <stdint.h>
#include <string.h>

#include "pvh.h"

#define MEM_SIZE (256ull << 20)

struct sink {
	const uint8_t *file;
	u64 size, lo, hi, written;
};

static int check_write(void *ctx, u64 gpa, const void *src, u64 len)
{
	struct sink *s = ctx;
	const uint8_t *p = src;

	if (!len || gpa >= MEM_SIZE || len > MEM_SIZE - gpa || gpa < s->lo || gpa + len > s->hi)
		__builtin_trap();
	if (p && (p < s->file || len > s->size || (u64)(p - s->file) > s->size - len))
		__builtin_trap();
	s->written += len;
	return 0;
}

static void check_kernel(const struct pvh_kernel *k, u64 size)
{
	bool entry_ok = false;
	u64 lo = ~0ull, hi = 0;

	if (k->nr_loads == 0 || k->nr_loads > PVH_MAX_LOADS)
		__builtin_trap();
	for (unsigned i = 0; i < k->nr_loads; i++) {
		const struct elf_load *l = &k->load[i];

		if (!l->memsz || l->filesz > l->memsz || l->offset > size ||
		    l->filesz > size - l->offset || l->paddr < PVH_LOAD_MIN ||
		    l->paddr > MEM_SIZE || l->memsz > MEM_SIZE - l->paddr)
			__builtin_trap();
		for (unsigned j = 0; j < i; j++)
			if (l->paddr < k->load[j].paddr + k->load[j].memsz &&
			    k->load[j].paddr < l->paddr + l->memsz)
				__builtin_trap();
		if (k->entry >= l->paddr && k->entry < l->paddr + l->filesz)
			entry_ok = true;
		lo = MIN(lo, l->paddr);
		hi = MAX(hi, l->paddr + l->memsz);
	}
	if (!entry_ok || k->lo != lo || k->hi != hi)
		__builtin_trap();
}

static void check_memmap(const u8 *buf, long used)
{
	const struct pvh_start_info *si = (const void *)buf;
	const struct pvh_memmap_entry *map;
	u64 ram = 0, end = 0;

	if (si->magic != PVH_START_MAGIC || si->memmap_entries == 0 ||
	    si->memmap_entries > PVH_MEMMAP_MAX ||
	    si->memmap_paddr - PVH_START_INFO_GPA + si->memmap_entries * sizeof(*map) > (u64)used)
		__builtin_trap();
	map = (const void *)(buf + (si->memmap_paddr - PVH_START_INFO_GPA));
	for (unsigned i = 0; i < si->memmap_entries; i++) {
		if (!map[i].size || map[i].addr < end)
			__builtin_trap(); /* empty, unsorted or overlapping */
		end = map[i].addr + map[i].size;
		if (map[i].type == PVH_MEMMAP_RAM)
			ram += map[i].size;
	}
	if (ram == 0 || ram >= MEM_SIZE || buf[used - 1] != 0)
		__builtin_trap();
}

/* A bootable kernel gets an initrd and a start info with the recommended layout. */
static void check_boot_data(const struct pvh_kernel *k, u64 initrd_size)
{
	static u8 buf[PVH_START_INFO_SIZE];
	struct pvh_layout l = {
	    .mem_size = MEM_SIZE,
	    .start_info_gpa = PVH_START_INFO_GPA,
	    .rsdp_gpa = 0xe0000,
	    .cmdline = "console=ttyS0",
	    .nr_reserved = 1,
	    .reserved = {{PVH_LOW_RESERVED_BASE, PVH_LOW_RESERVED_END - PVH_LOW_RESERVED_BASE,
			  PVH_MEMMAP_RESERVED}},
	};
	long used;

	l.initrd_size = initrd_size;
	if (pvh_place_initrd(k, &l, &l.initrd_gpa, NULL, 0)) {
		u64 need = ALIGN_UP(initrd_size, PAGE_SIZE);

		/* Refused only when it fits in neither gap beside the kernel. */
		if (need <= MEM_SIZE - ALIGN_UP(k->hi, PAGE_SIZE) ||
		    need <= (k->lo & PAGE_MASK) - PVH_LOAD_MIN)
			__builtin_trap();
		l.initrd_size = 0;
	} else if (initrd_size &&
		   (!IS_ALIGNED(l.initrd_gpa, PAGE_SIZE) || l.initrd_gpa < PVH_LOAD_MIN ||
		    l.initrd_gpa + initrd_size > MEM_SIZE ||
		    (l.initrd_gpa < k->hi && k->lo < l.initrd_gpa + initrd_size))) {
		__builtin_trap();
	}
	used = pvh_build_start_info(buf, sizeof(buf), k, &l, NULL, 0);
	if (used <= 0 || used > (long)sizeof(buf))
		__builtin_trap();
	check_memmap(buf, used);
	if (((const struct pvh_start_info *)buf)->nr_modules != (l.initrd_size ? 1 : 0))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pvh_kernel k;
	struct sink s = {.file = data, .size = size};
	u64 memsz = 0;

	if (pvh_parse(data, size, MEM_SIZE, &k, NULL, 0))
		return 0;
	check_kernel(&k, size);
	s.lo = k.lo;
	s.hi = k.hi;
	if (pvh_load(data, size, &k, check_write, &s))
		__builtin_trap();
	for (unsigned i = 0; i < k.nr_loads; i++)
		memsz += k.load[i].memsz;
	if (s.written != memsz)
		__builtin_trap();
	/* The initrd size comes from the file too, so both gaps get tried. */
	check_boot_data(&k, size > 8 ? (u64)data[size - 1] << 20 | data[size - 2] : 0);
	return 0;
}
