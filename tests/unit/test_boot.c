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
	eh->e_entry = 0x100000;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	ph[0] = (struct elf64_phdr){.p_type = ELF_PT_LOAD,
				    .p_offset = 4096,
				    .p_vaddr = 0x100000,
				    .p_paddr = 0x100000,
				    .p_filesz = 100,
				    .p_memsz = 100,
				    .p_align = 4096};
	ph[1] = (struct elf64_phdr){.p_type = ELF_PT_LOAD,
				    .p_offset = 4096,
				    .p_vaddr = 0x101000,
				    .p_paddr = 0x101000,
				    .p_filesz = 50,
				    .p_memsz = 0x3000,
				    .p_align = 4096};
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

/* Key declarations as the image carries them: image/kernel/initrd in partitions, disk in one. */
static u8 keys[5 * BOOT_CFG_KEY_SIZE];

static void declare(unsigned i, u32 flags, const char *section, const char *name)
{
	struct boot_cfg_key k = {BOOT_CFG_KEY_MAGIC, flags, "", ""};

	strncpy(k.section, section, sizeof(k.section) - 1);
	strncpy(k.name, name, sizeof(k.name) - 1);
	memcpy(keys + i * BOOT_CFG_KEY_SIZE, &k, sizeof(k));
}

static void make_keys(void)
{
	memset(keys, 0xaa, sizeof(keys)); /* the rest of each entry is none of the loader's */
	declare(0, BOOT_CFG_KEY_FILE, "partition", "image");
	declare(1, BOOT_CFG_KEY_FILE, "partition", "kernel");
	declare(2, BOOT_CFG_KEY_FILE, "partition", "initrd");
	declare(3, 0, "partition", "vmbus");		  /* not a file */
	declare(4, BOOT_CFG_KEY_FILE, "switch", "table"); /* a file only in [switch NAME] */
}

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
	struct found f = {.n = 0};

	make_keys();
	scan_config_files(cfg, sizeof(cfg) - 1, keys, sizeof(keys), on_file, &f);
	assert_int_equal(f.n, 4);
	assert_string_equal(f.names[0], "guest.bin");
	assert_string_equal(f.names[1], "sub/vmlinux");
	assert_string_equal(f.names[2], "initrd.cpio.gz");
	assert_string_equal(f.names[3], "last.bin");
	/* Without declarations nothing is a file. */
	f.n = 0;
	scan_config_files(cfg, sizeof(cfg) - 1, keys, 0, on_file, &f);
	assert_int_equal(f.n, 0);
}

/* A key names a file only in the section word it is declared for; bad entries are skipped. */
static void test_scan_follows_sections_and_declarations(void **state)
{
	static const char cfg[] = "image = before.bin\n" /* before any section: none */
				  "[switch lan]\n"
				  "table = t.bin\n"
				  "image = no.bin\n"
				  "[ partition a ]\n"
				  "table = no2.bin\n"
				  "vmbus = ic\n"
				  "image = a.bin\n"
				  "[averyveryverylongword x]\n"
				  "image = no3.bin\n";
	struct found f = {.n = 0};
	struct boot_cfg_key *k;

	make_keys();
	scan_config_files(cfg, sizeof(cfg) - 1, keys, sizeof(keys), on_file, &f);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.names[0], "t.bin");
	assert_string_equal(f.names[1], "a.bin");
	/* An entry with a bad magic, or a name without its NUL, is no declaration. */
	k = (struct boot_cfg_key *)(keys + 4 * BOOT_CFG_KEY_SIZE);
	k->magic = 0;
	f.n = 0;
	scan_config_files(cfg, sizeof(cfg) - 1, keys, sizeof(keys), on_file, &f);
	assert_int_equal(f.n, 1);
	make_keys();
	k = (struct boot_cfg_key *)keys;
	memset(k->name, 'x', sizeof(k->name));
	f.n = 0;
	scan_config_files("[partition a]\nxxxxxxxxxxxxxxxx = y\n", 34, keys, sizeof(keys), on_file,
			  &f);
	assert_int_equal(f.n, 0);
	/* A short last entry is not read past the buffer. */
	f.n = 0;
	make_keys();
	scan_config_files("[partition a]\nimage = y\n", 24, keys, 20, on_file, &f);
	assert_int_equal(f.n, 0);
}

/* bulkhead.elf's section table: the loader finds cfg_keys by name. */
static void test_elf_section(void **state)
{
	struct elf64_ehdr *eh = (void *)file;
	struct elf64_shdr *sh;
	static const char names[] = "\0.text\0cfg_keys\0.shstrtab";
	u64 size = make_elf(), off, len;

	/* Three sections at 6000: null, cfg_keys (bytes at 7000), .shstrtab (at 7500). */
	sh = (void *)(file + 6000);
	eh->e_shoff = 6000;
	eh->e_shentsize = sizeof(*sh);
	eh->e_shnum = 3;
	eh->e_shstrndx = 2;
	memset(sh, 0, 3 * sizeof(*sh));
	sh[1] = (struct elf64_shdr){.sh_name = 7, .sh_type = 1, .sh_offset = 7000, .sh_size = 128};
	sh[2] = (struct elf64_shdr){
	    .sh_name = 16, .sh_type = 3, .sh_offset = 7500, .sh_size = sizeof(names)};
	memcpy(file + 7500, names, sizeof(names));
	assert_null(elf_section(file, size, "cfg_keys", &off, &len));
	assert_int_equal(off, 7000);
	assert_int_equal(len, 128);
	assert_string_equal(elf_section(file, size, "cfg_key", &off, &len), "no such section");
	assert_string_equal(elf_section(file, size, ".text", &off, &len), "no such section");
	/* Sizes and offsets outside the file. */
	sh[1].sh_size = size;
	assert_non_null(elf_section(file, size, "cfg_keys", &off, &len));
	sh[1].sh_size = 128;
	sh[2].sh_size = ~0ull;
	assert_non_null(elf_section(file, size, "cfg_keys", &off, &len));
	sh[2].sh_size = sizeof(names);
	sh[1].sh_name = 100000;
	assert_string_equal(elf_section(file, size, "cfg_keys", &off, &len), "no such section");
	/* A name that runs to the end of the string table without its NUL does not match. */
	sh[1].sh_name = 7;
	sh[2].sh_size = 15; /* "\0.text\0cfg_key" */
	assert_string_equal(elf_section(file, size, "cfg_keys", &off, &len), "no such section");
	sh[2].sh_size = sizeof(names);
	eh->e_shstrndx = 3;
	assert_non_null(elf_section(file, size, "cfg_keys", &off, &len));
	eh->e_shstrndx = 2;
	eh->e_shoff = size - 10;
	assert_non_null(elf_section(file, size, "cfg_keys", &off, &len));
	eh->e_shoff = 6000;
	assert_null(elf_section(file, size, "cfg_keys", &off, &len));
	assert_non_null(elf_section(file, 63, "cfg_keys", &off, &len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_elf_valid),
	    cmocka_unit_test(test_elf_rejects),
	    cmocka_unit_test(test_scan_finds_file_keys),
	    cmocka_unit_test(test_scan_follows_sections_and_declarations),
	    cmocka_unit_test(test_elf_section),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
