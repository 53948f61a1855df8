/* libFuzzer: the loader's ELF checks and config scan on arbitrary bytes. */
#include <stdint.h>
#include <string.h>

#include "boot/elf.h"
#include "boot/scan.h"

static void on_file(void *ctx, const char *value, size_t len)
{
	const char *text = ctx;

	/* The value must lie inside the input and be non-empty. */
	if (!len || value < text)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_image img;

	if (!elf_parse(data, size, &img)) {
		for (unsigned i = 0; i < img.nr_loads; i++) {
			const struct elf_load *l = &img.load[i];

			if (l->filesz > l->memsz || l->offset + l->filesz > size ||
			    l->paddr + l->memsz > ELF_LOAD_LIMIT)
				__builtin_trap();
			if (i && img.load[i - 1].paddr + img.load[i - 1].memsz > l->paddr)
				__builtin_trap();
		}
	}
	scan_config_files((const char *)data, size, on_file, (void *)data);
	return 0;
}
