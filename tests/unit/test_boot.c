/* The loader's pure parts: ELF checks and the config scan for file names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "boot/elf.h"
#include "boot/scan.h"

static u8 file[8192];

/* A valid bulkhead.elf-like image: two PT_LOADs at 1 MiB. */
static u64 make_elf(void)
{
	struct elf64_ehdr *eh = (void *)file;
	struct elf64_phdr *ph = (void *)(file + sizeof(*eh));

	memset(file, 0, sizeof(file));
	memcpy(eh->e_ident, "\x7f" "ELF", 4);
	eh->e_ident[4] = ELF_CLASS_64;
	eh->e_ident[5] = ELF_DATA_LSB;
	eh->e_ident[6] = ELF_VERSION_CURRENT;
	eh->e_type = ELF_TYPE_EXEC;
	eh->e_machine = ELF_MACHINE_X86_64;
	eh->e_version = ELF_VERSION_CURRENT;
	eh->e_entry = 0x100000;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	ph[0] = (struct elf64_phdr){ .p_type = ELF_PT_LOAD, .p_offset = 4096, .p_vaddr = 0x100000,
				     .p_paddr = 0x100000, .p_filesz = 100, .p_memsz = 100,
				     .p_align = 4096 };
	ph[1] = (struct elf64_phdr){ .p_type = ELF_PT_LOAD, .p_offset = 4096, .p_vaddr = 0x101000,
				     .p_paddr = 0x101000, .p_filesz = 50, .p_memsz = 0x3000,
				     .p_align = 4096 };
	return sizeof(file);
}

static void test_elf_valid(void **state)
{
	struct elf_image img;
	u64 size = make_elf();

	assert_null(elf_parse(file, size, &img));
	assert_int_equal(img.entry, 0x100000);
	assert_int_equal(img.nr_loads, 2);
	assert_int_equal(img.load[1].memsz, 0x3000);
}

static void test_elf_rejects(void **state)
{
	struct elf_image img;
	struct elf64_ehdr *eh = (void *)file;
	struct elf64_phdr *ph = (void *)(file + sizeof(*eh));

	make_elf();
	assert_non_null(elf_parse(file, 10, &img)); /* truncated header */
	file[0] = 0;
	assert_non_null(elf_parse(file, sizeof(file), &img)); /* bad magic */
	make_elf();
	eh->e_machine = 3;
	assert_non_null(elf_parse(file, sizeof(file), &img)); /* i386 */
	make_elf();
	eh->e_phoff = sizeof(file) - 8;
	assert_non_null(elf_parse(file, sizeof(file), &img)); /* phdrs past the end */
	make_elf();
	ph[0].p_filesz = sizeof(file);
	assert_non_null(elf_parse(file, sizeof(file), &img)); /* segment past the end */
	make_elf();
	ph[1].p_paddr = 0x100000;
	assert_non_null(elf_parse(file, sizeof(file), &img)); /* overlap */
	make_elf();
	ph[1].p_paddr = 0xfffff000;
	assert_non_null(elf_parse(file, sizeof(file), &img)); /* crosses 4 GiB */
	make_elf();
	ph[0].p_memsz = 10; /* filesz > memsz */
	assert_non_null(elf_parse(file, sizeof(file), &img));
	make_elf();
	ph[0].p_offset = ~0ull - 10; /* offset + filesz overflows */
	assert_non_null(elf_parse(file, sizeof(file), &img));
}

struct found {
	char names[8][64];
	unsigned n;
};

static void on_file(void *ctx, const char *value, size_t len)
{
	struct found *f = ctx;

	if (f->n < 8 && len < 64) {
		memcpy(f->names[f->n], value, len);
		f->names[f->n][len] = 0;
	}
	f->n++;
}

static void test_scan_finds_file_keys(void **state)
{
	static const char cfg[] = "# demo\r\n"
				  "[partition a]\n"
				  "memory = 16M\n"
				  "image =  guest.bin   # the guest\r\n"
				  "imagex = no.bin\n"
				  "[partition b]\n"
				  "kernel=sub/vmlinux\n"
				  "initrd = initrd.cpio.gz\n"
				  "cmdline = image=not-a-file\n"
				  "# image = commented.bin\n"
				  "image =\n"
				  "image = last.bin"; /* no final newline */
	struct found f = { .n = 0 };

	scan_config_files(cfg, sizeof(cfg) - 1, on_file, &f);
	assert_int_equal(f.n, 4);
	assert_string_equal(f.names[0], "guest.bin");
	assert_string_equal(f.names[1], "sub/vmlinux");
	assert_string_equal(f.names[2], "initrd.cpio.gz");
	assert_string_equal(f.names[3], "last.bin");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf_valid),
		cmocka_unit_test(test_elf_rejects),
		cmocka_unit_test(test_scan_finds_file_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
