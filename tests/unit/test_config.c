/* The bulkhead.cfg parser (kernel/config.c) against docs/architecture.md, "Configuration". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/config.h"

#define CFG_FILE "bulkhead.cfg"

static struct cfg cfg;
static char err[CFG_ERR_MAX];

static int parse(const char *text)
{
	return cfg_parse(text, strlen(text), CFG_FILE, &cfg, err, sizeof(err));
}

static void expect_ok(const char *text)
{
	int rc = parse(text);

	if (rc)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
}

static void expect_error(const char *text, const char *msg)
{
	assert_int_equal(parse(text), -1);
	assert_string_equal(err, msg);
}

/* tests/guest/demo.cfg, as `make run` boots it. */
static const char demo_cfg[] =
    "# Bulkhead demo configuration: what `make run` boots (docs/architecture.md, "
    "\"Configuration\").\n"
    "#\n"
    "# Each [partition NAME] section makes one partition (NAME: 1-16 of [a-z0-9_-]).\n"
    "#   memory = SIZE   guest RAM from GPA 0, K/M/G suffix, a multiple of 4K\n"
    "#   image = FILE    flat binary, a path relative to this file; `make run` copies\n"
    "#                   it onto the ESP from this folder or from build/guest/\n"
    "#   load = GPA      where the image is loaded (default 0)\n"
    "#   entry = GPA     start in 16-bit real mode at CS = entry >> 4, IP = entry & 15;\n"
    "#                   without `entry` the VP starts at the reset vector (CS selector\n"
    "#                   0xf000, base 0xffff0000, IP 0xfff0), and 0xf0000-0xfffff is\n"
    "#                   also seen at 0xffff0000-0xffffffff\n"
    "#\n"
    "# All three run the test guest (tests/guest/README.md): it prints its self-check\n"
    "# results, then `tick N` lines, and obeys one-byte commands typed on its serial\n"
    "# port (`console NAME` on the Bulkhead console, Ctrl-] to come back).\n"
    "\n"
    "# The flat image, entered in real mode at 0x0800:0000.\n"
    "[partition alpha]\n"
    "memory = 16M\n"
    "image = testguest.bin\n"
    "load = 0x8000\n"
    "entry = 0x8000\n"
    "\n"
    "[partition beta]\n"
    "memory = 16M\n"
    "image = testguest.bin\n"
    "load = 0x8000\n"
    "entry = 0x8000\n"
    "\n"
    "# The 64 KiB ROM image: no `entry`, so it starts at the reset vector like\n"
    "# firmware; its reset stub copies the same guest to 0x8000 and enters it.\n"
    "[partition gamma]\n"
    "memory = 16M\n"
    "image = testguest-rom.bin\n"
    "load = 0xF0000\n";

static void test_demo_config(void **state)
{
	const struct cfg_partition *a = &cfg.part[0], *b = &cfg.part[1], *g = &cfg.part[2];

	expect_ok(demo_cfg);
	assert_int_equal(cfg.nr, 3);

	assert_string_equal(a->name, "alpha");
	assert_int_equal(a->line, 18);
	assert_int_equal(a->memory, 16 << 20);
	assert_string_equal(a->image.path, "testguest.bin");
	assert_int_equal(a->image.line, 20);
	assert_int_equal(a->load, 0x8000);
	assert_true(a->has_entry);
	assert_int_equal(a->entry, 0x8000);
	assert_string_equal(a->kernel.path, "");
	assert_int_equal(a->values.nr, 0);

	assert_string_equal(b->name, "beta");
	assert_int_equal(b->line, 24);
	assert_int_equal(b->image.line, 26);
	assert_true(b->has_entry);

	assert_string_equal(g->name, "gamma");
	assert_int_equal(g->line, 32);
	assert_int_equal(g->memory, 16 << 20);
	assert_string_equal(g->image.path, "testguest-rom.bin");
	assert_int_equal(g->image.line, 34);
	assert_int_equal(g->load, 0xf0000);
	assert_false(g->has_entry);
	assert_int_equal(g->entry, 0);
}

static void test_linux_partition(void **state)
{
	const struct cfg_partition *l = &cfg.part[0];

	expect_ok("[partition linux]\n"
		  "memory = 256M\n"
		  "kernel = vmlinux          # Linux through PVH\n"
		  "initrd = boot/initrd.cpio.gz\n"
		  "cmdline = console=ttyS0 quiet\n"
		  "vmbus = ic, echo          # VSPs offered to this partition\n");
	assert_int_equal(cfg.nr, 1);
	assert_string_equal(l->name, "linux");
	assert_int_equal(l->memory, 256 << 20);
	assert_string_equal(l->kernel.path, "vmlinux");
	assert_int_equal(l->kernel.line, 3);
	assert_string_equal(l->initrd.path, "boot/initrd.cpio.gz");
	assert_int_equal(l->initrd.line, 4);
	assert_string_equal(l->cmdline, "console=ttyS0 quiet");
	assert_int_equal(cfg_get(&l->values, "vmbus")->nr_items, 2);
	assert_string_equal(cfg_get(&l->values, "vmbus")->items[0], "ic");
	assert_string_equal(cfg_get(&l->values, "vmbus")->items[1], "echo");
	assert_int_equal(cfg_get(&l->values, "vmbus")->line, 6);
	assert_string_equal(l->image.path, "");
	assert_int_equal(l->load, 0);
	assert_false(l->has_entry);
}

static void test_defaults(void **state)
{
	const struct cfg_partition *p = &cfg.part[0];

	/* A previous result must not leak into the next one. */
	expect_ok(demo_cfg);
	expect_ok("[partition x]\nmemory=4K\nimage=a.bin");
	assert_int_equal(cfg.nr, 1);
	assert_int_equal(p->memory, 4096);
	assert_int_equal(p->device_memory, CFG_DEVICE_MEMORY_DEFAULT);
	assert_int_equal(p->load, 0);
	assert_false(p->has_entry);
	assert_string_equal(p->cmdline, "");
	assert_string_equal(cfg.part[1].name, "");
}

static void test_sizes(void **state)
{
	static const struct {
		const char *s;
		u64 v;
	} good[] = {
	    {"4K", 4096},	{"4k", 4096},		{"64M", 64ull << 20}, {"64m", 64ull << 20},
	    {"1G", 1ull << 30}, {"1g", 1ull << 30},	{"64G", 64ull << 30}, {"0x1000", 0x1000},
	    {"0X1000", 0x1000}, {"0x10M", 16ull << 20}, {"4096", 4096},	      {"0004096", 4096},
	    {"8K", 8192},
	};
	static const char *const bad[] = {
	    "12Q",
	    "",
	    "K",
	    "4KB",
	    "4 K",
	    " 4K",
	    "4K ",
	    "0x",
	    "0xK",
	    "-4K",
	    "+4K",
	    "0",
	    "0K",
	    "0x0",
	    "4097",
	    "1K",
	    "2K",
	    "6K",
	    "65G",
	    "0x1000000001",
	    "18446744073709551616",
	    "0xffffffffffffffffff",
	    "17179869184G",
	    "4M4",
	    "1.5G",
	};
	u64 v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 0;
		if (cfg_parse_size(good[i].s, &v))
			print_error("'%s' refused\n", good[i].s);
		assert_int_equal(cfg_parse_size(good[i].s, &v), 0);
		assert_int_equal(v, good[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		if (!cfg_parse_size(bad[i], &v))
			print_error("'%s' accepted\n", bad[i]);
		assert_int_equal(cfg_parse_size(bad[i], &v), -1);
		assert_int_equal(v, 12345); /* untouched on failure */
	}
	assert_int_equal(cfg_parse_size(NULL, &v), -1);
}

static void test_device_memory(void **state)
{
	expect_ok("[partition x]\nmemory=4K\nimage=a.bin\ndevice_memory = 64k\n");
	assert_int_equal(cfg.part[0].device_memory, 64 << 10);
	expect_error("[partition a]\ndevice_memory = 1000\n",
		     "bulkhead.cfg:2: device_memory: '1000' is not a multiple of 4K");
	expect_error("[partition a]\ndevice_memory = 0\n",
		     "bulkhead.cfg:2: device_memory: '0' is zero");
}

static void test_memory_errors(void **state)
{
	expect_error("[partition a]\nimage = a.bin\n\n\n\n\nmemory = 12Q\n",
		     "bulkhead.cfg:7: memory: '12Q' is not a size (K/M/G suffix, multiple of 4K)");
	expect_error("[partition a]\nmemory = 0\n", "bulkhead.cfg:2: memory: '0' is zero");
	expect_error("[partition a]\nmemory = 1000\n",
		     "bulkhead.cfg:2: memory: '1000' is not a multiple of 4K");
	expect_error("[partition a]\nmemory = 128G\n",
		     "bulkhead.cfg:2: memory: '128G' is more than 4076M (guest RAM must end below "
		     "the I/O APIC at 0xfec00000)");
	expect_error("[partition a]\nmemory = 99999999999999999999999\n",
		     "bulkhead.cfg:2: memory: '99999999999999999999999' is more than 4076M (guest "
		     "RAM must end below the I/O APIC at 0xfec00000)");
}

/*
 * Guest RAM runs from GPA 0 without a hole: it must end below the I/O APIC (0xfec00000),
 * the local APIC (0xfee00000) and the reset vector's alias (0xffff0000), or it would cover
 * them and the E820 would hand the guest RAM where its devices are.
 */
static void test_memory_below_mmio(void **state)
{
	const char *err = "bulkhead.cfg:2: memory: '%s' is more than 4076M (guest RAM must end "
			  "below the I/O APIC at 0xfec00000)";
	static const char *const too_big[] = {"4077M", "0xfec01000", "4G", "8G", "64G"};
	char want[200], text[200];

	for (size_t i = 0; i < sizeof(too_big) / sizeof(too_big[0]); i++) {
		snprintf(text, sizeof(text), "[partition a]\nmemory = %s\nimage = a.bin\n",
			 too_big[i]);
		snprintf(want, sizeof(want), err, too_big[i]);
		expect_error(text, want);
	}
	expect_ok("[partition x]\nmemory = 4076M\nimage = a.bin\n");
	assert_int_equal(cfg.part[0].memory, 0xfec00000ull);
	expect_ok("[partition x]\nmemory = 0xfebff000\nimage = a.bin\n");
	assert_int_equal(cfg.part[0].memory, 0xfebff000ull);
	expect_error("[partition a]\nmemory =\n",
		     "bulkhead.cfg:2: memory: '' is not a size (K/M/G suffix, multiple of 4K)");
}

static void test_numbers(void **state)
{
	const struct cfg_partition *p = &cfg.part[0];

	expect_ok("[partition a]\nmemory = 2M\nimage = a.bin\nload = 65536\nentry = 0xFFFFF\n");
	assert_int_equal(p->load, 0x10000);
	assert_true(p->has_entry);
	assert_int_equal(p->entry, 0xfffff);
	expect_ok(
	    "[partition a]\nmemory = 2M\nimage = a.bin\nload = 0xffffffffffffffff\nentry=0\n");
	assert_int_equal(p->load, ~0ull);
	assert_true(p->has_entry);
	assert_int_equal(p->entry, 0);

	expect_error(
	    "[partition a]\nmemory = 2M\nimage = a.bin\nentry = 0x100000\n",
	    "bulkhead.cfg:4: entry: '0x100000' is above 0xfffff, out of real mode's reach");
	expect_error("[partition a]\nmemory = 2M\nimage = a.bin\nload = 8000h\n",
		     "bulkhead.cfg:4: load: '8000h' is not a number (decimal or 0x hex)");
	expect_error("[partition a]\nmemory = 2M\nimage = a.bin\nload = 0x\n",
		     "bulkhead.cfg:4: load: '0x' is not a number (decimal or 0x hex)");
	expect_error("[partition a]\nmemory = 2M\nimage = a.bin\nload = 0x10000000000000000\n",
		     "bulkhead.cfg:4: load: '0x10000000000000000' does not fit in 64 bits");
	expect_error("[partition a]\nmemory = 2M\nimage = a.bin\nentry = 18446744073709551616\n",
		     "bulkhead.cfg:4: entry: '18446744073709551616' does not fit in 64 bits");
	expect_error("[partition a]\nmemory = 2M\nimage = a.bin\nentry = -1\n",
		     "bulkhead.cfg:4: entry: '-1' is not a number (decimal or 0x hex)");
}

static void test_line_errors(void **state)
{
	static const char nul[] = "[partition a]\nmemory = 2M\nimage = a\0b\n";

	expect_error("[partition a]\nmemory = 2M\ncolour = blue\n",
		     "bulkhead.cfg:3: colour: unknown key");
	expect_error("[partition a]\nMemory = 2M\n", "bulkhead.cfg:2: Memory: unknown key");
	expect_error("# comment\n\nmemory = 2M\n[partition a]\n",
		     "bulkhead.cfg:3: memory: comes before any [partition NAME]");
	expect_error(
	    "[partition a]\nmemory 2M\n",
	    "bulkhead.cfg:2: syntax: 'memory 2M' is neither KEY = VALUE nor [partition NAME]");
	expect_error("[partition a]\n = 2M\n",
		     "bulkhead.cfg:2: syntax: '= 2M' has no key before '='");
	expect_error("[partition a]\nmemory = 2M\nmemory = 4M\nimage = a.bin\n",
		     "bulkhead.cfg:3: memory: set twice in [partition a] (first on line 2)");
	assert_int_equal(cfg_parse(nul, sizeof(nul) - 1, CFG_FILE, &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "bulkhead.cfg:3: text: NUL byte in the file (not a text file?)");
}

static void test_section_errors(void **state)
{
	expect_error("[vm a]\n",
		     "bulkhead.cfg:1: section: expected [partition NAME], not '[vm a]'");
	expect_error("[partition]\n",
		     "bulkhead.cfg:1: section: expected [partition NAME], not '[partition]'");
	expect_error("[partitiona]\n",
		     "bulkhead.cfg:1: section: expected [partition NAME], not '[partitiona]'");
	expect_error("[partition a\n",
		     "bulkhead.cfg:1: section: expected [partition NAME], not '[partition a'");
	expect_error("[partition a] x\n",
		     "bulkhead.cfg:1: section: expected [partition NAME], not '[partition a] x'");
	expect_error("[\n", "bulkhead.cfg:1: section: expected [partition NAME], not '['");
	expect_error("[partition Alpha]\n",
		     "bulkhead.cfg:1: partition: name 'Alpha' is not 1-16 of [a-z0-9_-]");
	expect_error("[partition a b]\n",
		     "bulkhead.cfg:1: partition: name 'a b' is not 1-16 of [a-z0-9_-]");
	expect_error(
	    "[partition abcdefghijklmnopq]\n",
	    "bulkhead.cfg:1: partition: name 'abcdefghijklmnopq' is not 1-16 of [a-z0-9_-]");
	expect_ok("[ partition \t abcdefghijklmn-_ ]\nmemory = 4K\nimage = a.bin\n");
	assert_string_equal(cfg.part[0].name, "abcdefghijklmn-_");
	expect_error("", "bulkhead.cfg:1: section: no [partition NAME] section");
	expect_error("# only a comment\n\n  \t\n",
		     "bulkhead.cfg:1: section: no [partition NAME] section");
}

static void test_duplicate_names(void **state)
{
	expect_error("[partition a]\nmemory = 2M\nimage = a.bin\n"
		     "[partition b]\nmemory = 2M\nimage = b.bin\n"
		     "[partition a]\nmemory = 2M\nimage = c.bin\n",
		     "bulkhead.cfg:7: partition: name 'a' is already used on line 1");
}

static void test_too_many_partitions(void **state)
{
	char text[2048];
	size_t n = 0;

	for (int i = 0; i < CFG_MAX_PARTITIONS; i++)
		n += snprintf(text + n, sizeof(text) - n,
			      "[partition p%d]\nmemory = 4K\nimage = g\n", i);
	expect_ok(text);
	assert_int_equal(cfg.nr, CFG_MAX_PARTITIONS);
	assert_string_equal(cfg.part[CFG_MAX_PARTITIONS - 1].name, "p7");
	snprintf(text + n, sizeof(text) - n, "[partition last]\nmemory = 4K\nimage = g\n");
	expect_error(text, "bulkhead.cfg:25: partition: 'last' is one more than the 8 allowed");
}

static void test_section_checks(void **state)
{
	expect_error("[partition a]\nimage = a.bin\n[partition b]\n",
		     "bulkhead.cfg:1: partition: 'a' has no memory = SIZE");
	expect_error("[partition a]\nmemory = 2M\n",
		     "bulkhead.cfg:1: partition: 'a' needs image = FILE or kernel = FILE");
	expect_error("\n[partition a]\nmemory = 2M\nimage = a.bin\nkernel = vmlinux\n",
		     "bulkhead.cfg:2: partition: 'a' has both image (line 4) and kernel (line 5); "
		     "choose one");
	expect_error(
	    "[partition a]\nmemory = 2M\nimage = a.bin\ninitrd = i.gz\n",
	    "bulkhead.cfg:1: partition: 'a': initrd (line 4) goes only with kernel = FILE");
	expect_error(
	    "[partition a]\nmemory = 2M\nimage = a.bin\ncmdline = quiet\n",
	    "bulkhead.cfg:1: partition: 'a': cmdline (line 4) goes only with kernel = FILE");
	expect_error("[partition a]\nmemory = 2M\nkernel = vmlinux\nload = 0x1000\n",
		     "bulkhead.cfg:1: partition: 'a': load (line 4) goes only with image = FILE");
	expect_error("[partition a]\nmemory = 2M\nkernel = vmlinux\nentry = 0x1000\n",
		     "bulkhead.cfg:1: partition: 'a': entry (line 4) goes only with image = FILE");
	/* The first section's fault is found before the second header is read. */
	expect_error("[partition a]\nmemory = 2M\n[vm b]\n",
		     "bulkhead.cfg:1: partition: 'a' needs image = FILE or kernel = FILE");
}

static void test_path_errors(void **state)
{
	char text[256];

	expect_ok("[partition a]\nmemory = 2M\nimage = Sub.Dir/guest-1_x.bin\n");
	assert_string_equal(cfg.part[0].image.path, "Sub.Dir/guest-1_x.bin");
	expect_ok("[partition a]\nmemory = 2M\nimage = ./a..b\n");
	expect_error("[partition a]\nmemory = 2M\nimage =\n",
		     "bulkhead.cfg:3: image: needs a file name");
	expect_error(
	    "[partition a]\nmemory = 2M\nimage = my guest.bin\n",
	    "bulkhead.cfg:3: image: 'my guest.bin' has a character outside [A-Za-z0-9._/-]");
	expect_error("[partition a]\nmemory = 2M\nkernel = ../vmlinux\n",
		     "bulkhead.cfg:3: kernel: '../vmlinux' is not a path relative to the config "
		     "file (no '..', no '//')");
	expect_error("[partition a]\nmemory = 2M\nkernel = a/../../b\n",
		     "bulkhead.cfg:3: kernel: 'a/../../b' is not a path relative to the config "
		     "file (no '..', no '//')");
	expect_error("[partition a]\nmemory = 2M\nkernel = vmlinux\ninitrd = /boot/i\n",
		     "bulkhead.cfg:4: initrd: '/boot/i' is not a path relative to the config file "
		     "(no '..', no '//')");
	expect_error("[partition a]\nmemory = 2M\nimage = a//b\n",
		     "bulkhead.cfg:3: image: 'a//b' is not a path relative to the config file "
		     "(no '..', no '//')");
	expect_error("[partition a]\nmemory = 2M\nimage = dir/\n",
		     "bulkhead.cfg:3: image: 'dir/' is not a path relative to the config file "
		     "(no '..', no '//')");
	/* 63 characters fit; 64 do not, and the quote is cut short. */
	snprintf(text, sizeof(text), "[partition a]\nmemory = 2M\nimage = %0*d\n", CFG_PATH_MAX, 0);
	expect_ok(text);
	assert_int_equal(strlen(cfg.part[0].image.path), CFG_PATH_MAX);
	snprintf(text, sizeof(text), "[partition a]\nmemory = 2M\nimage = %0*d\n", CFG_PATH_MAX + 1,
		 0);
	expect_error(text, "bulkhead.cfg:3: image: '0000000000000000000000000000000000000000...' "
			   "is longer than 63 characters");
}

static void test_cmdline(void **state)
{
	char text[CFG_CMDLINE_MAX + 128];
	int n;

	expect_ok("[partition l]\nmemory = 2M\nkernel = vmlinux\n"
		  "cmdline =   console=ttyS0  root=/dev/sda rw # the rest is a comment\n");
	assert_string_equal(cfg.part[0].cmdline, "console=ttyS0  root=/dev/sda rw");
	expect_ok("[partition l]\nmemory = 2M\nkernel = vmlinux\ncmdline =\n");
	assert_string_equal(cfg.part[0].cmdline, "");

	n = snprintf(text, sizeof(text),
		     "[partition l]\nmemory = 2M\nkernel = vmlinux\ncmdline = ");
	memset(text + n, 'x', CFG_CMDLINE_MAX);
	text[n + CFG_CMDLINE_MAX] = 0;
	expect_ok(text);
	assert_int_equal(strlen(cfg.part[0].cmdline), CFG_CMDLINE_MAX);
	text[n + CFG_CMDLINE_MAX] = 'x';
	text[n + CFG_CMDLINE_MAX + 1] = 0;
	expect_error(text, "bulkhead.cfg:4: cmdline: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' "
			   "is longer than 511 characters");
	expect_error("[partition l]\nmemory = 2M\nkernel = vmlinux\ncmdline = a\x1b[2Jb\n",
		     "bulkhead.cfg:4: cmdline: 'a?[2Jb' has a control or non-ASCII character");
}

/* `vmbus =`, the VMBus server's key (vmbus/cfg.c): a list of distinct VSP names. */
static void test_vmbus(void **state)
{
	const struct cfg_value *v;
	const char *head = "[partition l]\nmemory = 2M\nkernel = vmlinux\n";
	char text[512];

	snprintf(text, sizeof(text), "%svmbus=storvsp\n", head);
	expect_ok(text);
	v = cfg_get(&cfg.part[0].values, "vmbus");
	assert_int_equal(v->nr_items, 1);
	assert_string_equal(v->items[0], "storvsp");
	snprintf(text, sizeof(text), "%svmbus = a,b , c\t,d,e,f,g,abcdefghijklmno\n", head);
	expect_ok(text);
	v = cfg_get(&cfg.part[0].values, "vmbus");
	assert_int_equal(v->nr_items, CFG_LIST_MAX);
	assert_string_equal(v->items[2], "c");
	assert_string_equal(v->items[7], "abcdefghijklmno");

	snprintf(text, sizeof(text), "%svmbus =\n", head);
	expect_error(text, "bulkhead.cfg:4: vmbus: needs a list of VSP names, such as 'ic, echo'");
	snprintf(text, sizeof(text), "%svmbus = ic,,echo\n", head);
	expect_error(text, "bulkhead.cfg:4: vmbus: 'ic,,echo' has an empty VSP name");
	snprintf(text, sizeof(text), "%svmbus = ic,\n", head);
	expect_error(text, "bulkhead.cfg:4: vmbus: 'ic,' has an empty VSP name");
	snprintf(text, sizeof(text), "%svmbus = ic, echo, ic\n", head);
	expect_error(text, "bulkhead.cfg:4: vmbus: 'ic' is listed twice");
	snprintf(text, sizeof(text), "%svmbus = IC\n", head);
	expect_error(text, "bulkhead.cfg:4: vmbus: 'IC' is not a VSP name (1-15 of [a-z0-9_-])");
	snprintf(text, sizeof(text), "%svmbus = abcdefghijklmnop\n", head);
	expect_error(text, "bulkhead.cfg:4: vmbus: 'abcdefghijklmnop' is not a VSP name "
			   "(1-15 of [a-z0-9_-])");
	snprintf(text, sizeof(text), "%svmbus = a,b,c,d,e,f,g,h,i\n", head);
	expect_error(text, "bulkhead.cfg:4: vmbus: 'a,b,c,d,e,f,g,h,i' names more than 8 VSPs");
}

/* The parser must stop at len: the bytes after it are garbage, not a NUL. */
static void test_not_nul_terminated(void **state)
{
	static const char body[] = "[partition a]\nmemory = 2M\nimage = g.bin";
	char buf[sizeof(body) + 16];
	size_t len = sizeof(body) - 1;
	char *exact;

	memcpy(buf, body, len);
	memcpy(buf + len, "x\nmemory = 4M\n", 15);
	assert_int_equal(cfg_parse(buf, len, CFG_FILE, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.part[0].image.path, "g.bin");
	assert_int_equal(cfg.part[0].memory, 2 << 20);

	/* An exact-size heap copy lets the address sanitizer catch any overread. */
	exact = malloc(len);
	assert_non_null(exact);
	memcpy(exact, body, len);
	assert_int_equal(cfg_parse(exact, len, CFG_FILE, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg_parse(exact, len - 4, CFG_FILE, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.part[0].image.path, "g");
	assert_int_equal(cfg_parse(exact, 3, CFG_FILE, &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "bulkhead.cfg:1: section: expected [partition NAME], not '[pa'");
	free(exact);
	assert_int_equal(cfg_parse(NULL, 0, CFG_FILE, &cfg, err, sizeof(err)), -1);
}

static void test_crlf_and_comments(void **state)
{
	const struct cfg_partition *p = &cfg.part[0];

	expect_ok("# comment\r\n[partition a]  # the first\r\n"
		  "memory = 2M# no blank before the comment\r\n"
		  "\timage\t=\tg.bin\t\r\n"
		  "load = 0x1000 # entry below\r\n"
		  "entry = 0x1000\r\n"
		  "\r\n");
	assert_string_equal(p->name, "a");
	assert_int_equal(p->memory, 2 << 20);
	assert_string_equal(p->image.path, "g.bin");
	assert_int_equal(p->image.line, 4);
	assert_int_equal(p->load, 0x1000);
	assert_int_equal(p->entry, 0x1000);
	expect_error("[partition a]\r\nmemory = 2M\r\ncolour = red # why\r\n",
		     "bulkhead.cfg:3: colour: unknown key");
	expect_error("[partition a]\r\nmemory = 2M\r\nimage = a\rb\r\n",
		     "bulkhead.cfg:3: image: 'a?b' has a character outside [A-Za-z0-9._/-]");
}

static void test_message_hygiene(void **state)
{
	char small[24];

	/* Control characters are shown as '?' wherever a message quotes the text. */
	expect_error("[partition a]\nmemory = 2\x01M\n",
		     "bulkhead.cfg:2: memory: '2?M' is not a size (K/M/G suffix, multiple of 4K)");
	expect_error("[partition a]\nco\x7fl\xc3\xa9 = 1\n", "bulkhead.cfg:2: co?l??: unknown key");
	expect_error("[partition \x1b]\n",
		     "bulkhead.cfg:1: partition: name '?' is not 1-16 of [a-z0-9_-]");
	/* Long keys are cut like values. */
	expect_error("[partition a]\nkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk = 1\n",
		     "bulkhead.cfg:2: kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...: unknown key");

	/* A short buffer gets a truncated, terminated message; none at all is fine. */
	assert_int_equal(cfg_parse("[x]", 3, CFG_FILE, &cfg, small, sizeof(small)), -1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, "bulkhead.cfg:1: section", sizeof(small) - 1);
	assert_int_equal(cfg_parse("[x]", 3, CFG_FILE, &cfg, small, 1), -1);
	assert_string_equal(small, "");
	assert_int_equal(cfg_parse("[x]", 3, CFG_FILE, &cfg, NULL, 0), -1);
	assert_int_equal(cfg_parse("[x]", 3, "other.cfg", &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "other.cfg:1: section: expected [partition NAME], not '[x]'");
}

/* ---- keys and sections extensions declare ---- */

/* As an extension would: a file key and a checked key in partitions, and a section of its own. */
static int check_hue(const struct cfg_value *v, char *why, size_t len)
{
	if (strcmp(v->text, "red") && strcmp(v->text, "blue")) {
		snprintf(why, len, "'%s' is neither red nor blue", v->text);
		return -1;
	}
	return 0;
}

CFG_KEY(test_disk_key) = {.k = CFG_KEY_HEAD(BOOT_CFG_KEY_FILE, "partition", "disk")};
CFG_KEY(test_hue_key) = {.k = CFG_KEY_HEAD(0, "partition", "hue"), .check = check_hue};
CFG_KEY(test_ext_key) = {.k = CFG_KEY_HEAD(CFG_KEY_LIST, "switch", "extensions"),
			 .noun = "extension",
			 .example = "portstats, firewall"};

static void test_declared_partition_keys(void **state)
{
	const struct cfg_partition *p = &cfg.part[0];
	const struct cfg_value *v;

	expect_ok("[partition a]\nmemory = 2M\nimage = g.bin\ndisk = disks/a.img\nhue = red\n");
	v = cfg_get(&p->values, "disk");
	assert_non_null(v);
	assert_ptr_equal(v->key, &test_disk_key);
	assert_string_equal(v->text, "disks/a.img");
	assert_int_equal(v->line, 4);
	assert_string_equal(cfg_get(&p->values, "hue")->text, "red");
	assert_null(cfg_get(&p->values, "vmbus"));
	/* The kind's checks, the key's own check, and the usual errors. */
	expect_error("[partition a]\nmemory = 2M\nimage = g.bin\ndisk = ../x.img\n",
		     "bulkhead.cfg:4: disk: '../x.img' is not a path relative to the config file "
		     "(no '..', no '//')");
	expect_error("[partition a]\nmemory = 2M\nimage = g.bin\ndisk =\n",
		     "bulkhead.cfg:4: disk: needs a file name");
	expect_error("[partition a]\nmemory = 2M\nimage = g.bin\nhue = green\n",
		     "bulkhead.cfg:4: hue: 'green' is neither red nor blue");
	expect_error("[partition a]\nmemory = 2M\nhue = red\nhue = blue\nimage = g.bin\n",
		     "bulkhead.cfg:4: hue: set twice in [partition a] (first on line 3)");
	expect_error("hue = red\n[partition a]\n",
		     "bulkhead.cfg:1: hue: comes before any [partition NAME]");
	expect_error("[partition a]\nmemory = 2M\nimage = g.bin\nextensions = x\n",
		     "bulkhead.cfg:4: extensions: unknown key");
	expect_error("[partition a]\nmemory = 2M\nimage = g.bin\nhue = r\x01\n",
		     "bulkhead.cfg:4: hue: 'r?' has a control or non-ASCII character");
}

static void test_declared_sections(void **state)
{
	const struct cfg_section *s;

	expect_ok("[switch lan]\nextensions = portstats, firewall\n"
		  "[partition a]\nmemory = 2M\nimage = g.bin\n"
		  "[ switch   dmz ]\n");
	assert_int_equal(cfg.nr, 1);
	assert_int_equal(cfg.nr_sections, 2);
	s = &cfg.sections[0];
	assert_string_equal(s->word, "switch");
	assert_string_equal(s->name, "lan");
	assert_int_equal(s->line, 1);
	assert_int_equal(cfg_get(&s->values, "extensions")->nr_items, 2);
	assert_string_equal(cfg_get(&s->values, "extensions")->items[1], "firewall");
	assert_string_equal(cfg.sections[1].name, "dmz");
	assert_null(cfg_get(&cfg.sections[1].values, "extensions"));
	/* A partition's keys stay in partitions; names are unique per section word. */
	expect_error("[switch lan]\nmemory = 2M\n", "bulkhead.cfg:2: memory: unknown key");
	expect_error("[switch lan]\n[switch lan]\n",
		     "bulkhead.cfg:2: switch: name 'lan' is already used on line 1");
	expect_error("[switch LAN]\n", "bulkhead.cfg:1: switch: name 'LAN' is not 1-16 of "
				       "[a-z0-9_-]");
	expect_error("[switch lan]\nextensions = a, a\n",
		     "bulkhead.cfg:2: extensions: 'a' is listed twice");
	expect_error("[switch lan]\nextensions =\n",
		     "bulkhead.cfg:2: extensions: needs a list of extension names, such as "
		     "'portstats, firewall'");
	expect_error("[router r]\n", "bulkhead.cfg:1: section: expected [partition NAME], not "
				     "'[router r]'");
	/* A config of sections alone still needs a partition. */
	expect_error("[switch lan]\n", "bulkhead.cfg:1: section: no [partition NAME] section");
}

/* The loader learns the file keys from the same declarations (boot/scan.c reads them). */
static void test_file_keys_are_declared(void **state)
{
	static const char *const files[] = {"image", "kernel", "initrd", "disk"};

	for (unsigned i = 0; i < ARRAY_SIZE(files); i++) {
		bool found = false;

		for (const struct cfg_key_decl *d = __start_cfg_keys; d < __stop_cfg_keys; d++)
			found |= d->k.magic == BOOT_CFG_KEY_MAGIC &&
				 (d->k.flags & BOOT_CFG_KEY_FILE) && !strcmp(d->k.name, files[i]);
		assert_true(found);
	}
	assert_int_equal((const char *)(__start_cfg_keys + 1) - (const char *)__start_cfg_keys,
			 BOOT_CFG_KEY_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_demo_config),
	    cmocka_unit_test(test_linux_partition),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_memory_errors),
	    cmocka_unit_test(test_device_memory),
	    cmocka_unit_test(test_memory_below_mmio),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_line_errors),
	    cmocka_unit_test(test_section_errors),
	    cmocka_unit_test(test_duplicate_names),
	    cmocka_unit_test(test_too_many_partitions),
	    cmocka_unit_test(test_section_checks),
	    cmocka_unit_test(test_path_errors),
	    cmocka_unit_test(test_cmdline),
	    cmocka_unit_test(test_vmbus),
	    cmocka_unit_test(test_declared_partition_keys),
	    cmocka_unit_test(test_declared_sections),
	    cmocka_unit_test(test_file_keys_are_declared),
	    cmocka_unit_test(test_not_nul_terminated),
	    cmocka_unit_test(test_crlf_and_comments),
	    cmocka_unit_test(test_message_hygiene),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
