/*
 * libFuzzer: the loader's ELF checks, its section lookup and the config scan
 * on arbitrary bytes (the scan with the input's own first bytes as key
 * declarations too, so hostile declarations are covered).
 */
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
	u64 off, len;
	static const struct boot_cfg_key decl = {BOOT_CFG_KEY_MAGIC, BOOT_CFG_KEY_FILE, "partition",
						 "image"};
	u8 keys[BOOT_CFG_KEY_SIZE] = {0};

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
	if (!elf_section(data, size, "cfg_keys", &off, &len) && (off > size || len > size - off))
		__builtin_trap();
	memcpy(keys, &decl, sizeof(decl));
	scan_config_files((const char *)data, size, keys, sizeof(keys), on_file, (void *)data);
	scan_config_files((const char *)data, size, data, MIN(size, 4 * BOOT_CFG_KEY_SIZE), on_file,
			  (void *)data);
	return 0;
}
