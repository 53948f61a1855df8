/*
 * Partition life cycle (kernel/part.c) on the host: part_create with its
 * checks, running out of host memory at every allocation, extensions
 * (PART_EXT, kernel/ext.h) created in order and unwound newest first when
 * one fails or when the partition cannot start, part_reset and its hooks,
 * part_find, part_stop's console line, and guest-physical lookups. The real
 * page allocator and page-table builder run over identity-mapped fake
 * memory (fake_ident.c); the VP, interrupts, Hyper-V and console are faked
 * here and write what they are asked into a log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/arch.h"
#include "kernel/con.h"
#include "kernel/ext.h"
#include "kernel/irq.h"
#include "kernel/palloc.h"
#include "kernel/part.h"
#include "kernel/sched.h"
#include "tests/unit/fake_ident.h"

#define FAKE_TSC 777ull

/* ---- the log every fake writes to ---- */

static char log_buf[4096];
static size_t log_len;
static char con_out[1024];
static size_t con_len;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(log_buf + log_len, sizeof(log_buf) - log_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		log_len = MIN(log_len + (size_t)n, sizeof(log_buf) - 1);
}

static void log_clear(void)
{
	log_len = 0;
	log_buf[0] = 0;
	con_len = 0;
	con_out[0] = 0;
}

/* ---- doubles for what part.c calls outside the units under test ---- */

static bool vp_create_fails, linux_boot_fails, vp_alive;
static struct vp_reset last_vp_reset;

static int fake_vp_create(struct vp *vp)
{
	note("vp_create ");
	if (vp_create_fails)
		return -1;
	vp_alive = true;
	return 0;
}

static void fake_vp_destroy(struct vp *vp)
{
	note("vp_destroy ");
	vp_alive = false;
}

static void fake_vp_reset(struct vp *vp, const struct vp_reset *r)
{
	note("vp_reset ");
	last_vp_reset = *r;
}

static const struct vp_ops fake_ops = {
    .name = "fake",
    .gpt_format = &pt_format_ept,
    .vp_create = fake_vp_create,
    .vp_destroy = fake_vp_destroy,
    .vp_reset = fake_vp_reset,
};
const struct vp_ops *vp_ops = &fake_ops;

int part_linux_boot(struct partition *p, char *err, size_t errlen)
{
	note("linux_boot ");
	if (linux_boot_fails) {
		snprintf(err, errlen, "vmlinux is no ELF");
		return -1;
	}
	return 0;
}

void irq_init(struct partition *p)
{
	note("irq_init ");
}

void irq_set_line(struct partition *p, unsigned gsi, bool level)
{
	note("irq%u=%d ", gsi, level);
}

void hv_init(struct partition *p, u64 now)
{
	note("hv_init@%llu ", (unsigned long long)now);
}

u64 arch_rdtsc(void)
{
	return FAKE_TSC;
}

u64 arch_tsc_hz(void)
{
	return 1000000000ull;
}

void arch_fpu_init(void *area)
{
	note("fpu_init ");
}

void sched_fpu_load(struct partition *p)
{
	note("fpu_load ");
}

void con_guest_output(struct partition *p, u8 c)
{
	note("out:%s:%c ", p->name, c);
}

void con_flush_guest_line(struct partition *p)
{
	note("flush:%s ", p->name);
}

void con_guest_queue(struct partition *p, u8 c)
{
	note("queue:%s:%c ", p->name, c);
}

bool con_drain_guest(struct partition *p, unsigned max)
{
	note("drain:%s ", p->name);
	return false;
}

void con_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(con_out + con_len, sizeof(con_out) - con_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		con_len = MIN(con_len + (size_t)n, sizeof(con_out) - 1);
}

/* ---- extensions: three whole ones and one with a create hook only ---- */

static const char *fail_ext; /* the extension whose create fails */
static struct partition *ext_part;
static const struct cfg_partition *ext_cfg;

static int ext_create(const char *name, struct partition *p, const struct cfg_partition *c,
		      char *err, size_t errlen)
{
	note("create:%s ", name);
	/* After memory and the VP (ext.h). */
	assert_non_null(p->frames);
	assert_true(vp_alive);
	assert_ptr_equal(p->cfg, c);
	ext_part = p;
	ext_cfg = c;
	if (fail_ext && !strcmp(fail_ext, name)) {
		snprintf(err, errlen, "%s refuses", name);
		return -1;
	}
	return 0;
}

#define TEST_EXT(n)                                                                                \
	static int create_##n(struct partition *p, const struct cfg_partition *c, char *err,       \
			      size_t errlen)                                                       \
	{                                                                                          \
		return ext_create(#n, p, c, err, errlen);                                          \
	}                                                                                          \
	static void destroy_##n(struct partition *p)                                               \
	{                                                                                          \
		note("destroy:%s ", #n);                                                           \
	}                                                                                          \
	static void reset_##n(struct partition *p)                                                 \
	{                                                                                          \
		note("reset:%s ", #n);                                                             \
	}                                                                                          \
	PART_EXT(ext_##n) = {                                                                      \
	    .name = #n, .create = create_##n, .destroy = destroy_##n, .reset = reset_##n}

TEST_EXT(e1);
TEST_EXT(e2);
TEST_EXT(e3);

static int create_bare(struct partition *p, const struct cfg_partition *c, char *err, size_t errlen)
{
	return ext_create("bare", p, c, err, errlen);
}

PART_EXT(ext_bare) = {.name = "bare", .create = create_bare};

/* ---- helpers ---- */

static struct cfg_partition cfg;
static u8 image[3000];
static u64 free_at_start;

static int setup(void **state)
{
	free_at_start = fake_ident_init();
	memset(partitions, 0xcc, sizeof(partitions)); /* part_create clears what it uses */
	nr_partitions = 0;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "guest");
	cfg.memory = 1ull << 20;
	cfg.load = 0x7c00;
	for (unsigned i = 0; i < sizeof(image); i++)
		image[i] = (u8)(i * 7 + 1);
	vp_create_fails = linux_boot_fails = vp_alive = false;
	fail_ext = NULL;
	ext_part = NULL;
	ext_cfg = NULL;
	log_clear();
	return 0;
}

static int create(struct partition *p, char *err, size_t errlen)
{
	err[0] = 0;
	return part_create(p, &cfg, image, sizeof(image), NULL, 0, err, errlen);
}

static unsigned nr_exts(void)
{
	unsigned n = 0;

	for_each_part_ext(x) n++;
	return n;
}

enum ext_filter { ALL, WITH_DESTROY, WITH_RESET };

/* What the log must say for extensions [0, end) of the set: "VERB:NAME " each. */
static void ext_words(char *out, size_t len, const char *verb, unsigned end, bool reverse,
		      enum ext_filter filter)
{
	size_t at = 0;

	out[0] = 0;
	for (unsigned k = 0; k < end; k++) {
		const struct part_ext *x = &__start_part_ext[reverse ? end - 1 - k : k];

		if ((filter == WITH_DESTROY && !x->destroy) || (filter == WITH_RESET && !x->reset))
			continue;
		at += (size_t)snprintf(out + at, len - at, "%s:%s ", verb, x->name);
	}
}

static bool guest_bytes_are(struct partition *p, u64 gpa, const u8 *want, u64 len)
{
	for (u64 i = 0; i < len; i++) {
		u8 *b = part_gpa_peek(p, gpa + i, 1);

		if (!b || *b != want[i])
			return false;
	}
	return true;
}

/* ---- create ---- */

static void test_create_boots_the_image(void **state)
{
	struct partition *p = &partitions[2];
	char err[CFG_ERR_MAX], want[640], creates[256], resets[256];

	assert_int_equal(create(p, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(p->id, 2);
	assert_string_equal(p->name, "guest");
	assert_int_equal(p->state, PART_RUNNING);
	assert_string_equal(p->stop_reason, "");
	assert_int_equal(p->mem_size, 1ull << 20);
	assert_ptr_equal(p->cfg, &cfg);
	assert_ptr_equal(p->vp.part, p);
	assert_ptr_equal(ext_part, p);
	assert_ptr_equal(ext_cfg, &cfg);
	/* No `entry`: real mode at the reset vector (SDM 10.1.4). */
	assert_int_equal(last_vp_reset.cs_sel, 0xf000);
	assert_int_equal(last_vp_reset.cs_base, 0xffff0000ull);
	assert_int_equal(last_vp_reset.rip, 0xfff0);
	/* VP, extensions in set order, then the start: devices, each extension's reset. */
	ext_words(creates, sizeof(creates), "create", nr_exts(), false, ALL);
	ext_words(resets, sizeof(resets), "reset", nr_exts(), false, WITH_RESET);
	snprintf(want, sizeof(want),
		 "vp_create %svp_reset irq_init hv_init@%llu drain:guest fpu_init fpu_load %s",
		 creates, FAKE_TSC, resets);
	assert_string_equal(log_buf, want);
	assert_string_equal(con_out, "");
	/* The image is where the config puts it. */
	assert_true(guest_bytes_are(p, cfg.load, image, sizeof(image)));
	/* What the guest writes to its UART is queued for the console, not printed in the
	 * exit (con_guest_queue; the scheduler drains it between slices). */
	log_len = 0;
	log_buf[0] = 0;
	for (u8 c = 'a'; c <= 'b'; c++)
		uart_io(&p->uart, 0, false, &c);
	assert_string_equal(log_buf, "queue:guest:a queue:guest:b ");
}

static void test_create_with_entry_and_little_memory(void **state)
{
	struct partition *p = &partitions[0];
	char err[CFG_ERR_MAX];

	cfg.memory = 64ull << 10;
	cfg.load = 0x1000;
	cfg.has_entry = true;
	cfg.entry = 0x12345;
	assert_int_equal(create(p, err, sizeof(err)), 0);
	/* CS = entry >> 4, IP = entry & 15. */
	assert_int_equal(last_vp_reset.cs_sel, 0x1234);
	assert_int_equal(last_vp_reset.cs_base, 0x12340);
	assert_int_equal(last_vp_reset.rip, 5);
	assert_true(guest_bytes_are(p, 0x1000, image, sizeof(image)));
	/* Everything else of the guest's memory is zero. */
	for (u64 gpa = 0; gpa < cfg.memory; gpa++)
		if (gpa < 0x1000 || gpa >= 0x1000 + sizeof(image))
			assert_int_equal(*(u8 *)part_gpa_peek(p, gpa, 1), 0);
	/* Guest RAM is mapped where the guest sees it, nothing beyond. */
	u64 pa;

	assert_true(pt_lookup(&p->gpt, 0x3000, &pa, NULL));
	assert_ptr_equal((void *)pa, part_gpa_peek(p, 0x3000, 1));
	assert_false(pt_lookup(&p->gpt, 64ull << 10, &pa, NULL));
	assert_false(pt_lookup(&p->gpt, RESET_ALIAS_GPA, &pa, NULL));
}

static void test_memory_comes_in_2m_pieces_where_it_can(void **state)
{
	struct partition *p = &partitions[0];
	char err[CFG_ERR_MAX];
	u64 pa, leaf;

	cfg.memory = (4ull << 20) + (64ull << 10);
	assert_int_equal(create(p, err, sizeof(err)), 0);
	/* Two 2M leaves, the 64K tail in 4K pages, each where part_gpa_peek finds it. */
	for (u64 gpa = 0; gpa < cfg.memory; gpa += 0x10000) {
		assert_true(pt_lookup(&p->gpt, gpa, &pa, &leaf));
		assert_ptr_equal((void *)pa, part_gpa_peek(p, gpa, 1));
		if (gpa < (4ull << 20))
			assert_int_not_equal(leaf & pt_format_ept.large_bit, 0);
		else
			assert_int_equal(leaf & pt_format_ept.large_bit, 0);
	}
	assert_false(pt_lookup(&p->gpt, cfg.memory, &pa, NULL));
}

static void test_create_refuses_bad_layouts(void **state)
{
	char err[CFG_ERR_MAX];

	/* Nothing at the reset vector without 1M of memory. */
	cfg.memory = 512ull << 10;
	assert_int_equal(create(&partitions[0], err, sizeof(err)), -1);
	assert_string_equal(err,
			    "no `entry` and less than 1M of memory: nothing at the reset vector");
	/* An image that does not fit, at its end or beyond memory. */
	cfg.memory = 1ull << 20;
	cfg.load = (1ull << 20) - sizeof(image) + 1;
	assert_int_equal(create(&partitions[0], err, sizeof(err)), -1);
	assert_string_equal(
	    err, "image (3000 bytes at 0xff449) does not fit in 1048576 bytes of memory");
	cfg.load = ~0ull - 10;
	assert_int_equal(create(&partitions[0], err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not fit"));
	/* Exactly at the end is fine. */
	cfg.load = (1ull << 20) - sizeof(image);
	assert_string_equal(log_buf, "");
	assert_int_equal(palloc_free_count(), free_at_start);
	assert_int_equal(create(&partitions[0], err, sizeof(err)), 0);
	assert_true(guest_bytes_are(&partitions[0], cfg.load, image, sizeof(image)));
}

static void test_out_of_memory_anywhere_is_undone(void **state)
{
	char err[CFG_ERR_MAX];
	unsigned failures = 0;

	/* Leave k frames free, k = 0, 1, ...: every allocation fails once, each time undone. */
	for (u64 k = 0;; k++) {
		u64 hog;

		assert_int_equal(fake_ident_init(), free_at_start);
		hog = palloc_alloc_contig(free_at_start - k, PAGE_SIZE);
		assert_int_not_equal(hog, 0);
		assert_int_equal(palloc_free_count(), k);
		log_clear();
		if (!create(&partitions[0], err, sizeof(err)))
			break;
		failures++;
		assert_string_equal(err, "out of host memory for 1 MiB");
		assert_int_equal(palloc_free_count(), k);
		/* Neither the VP nor any extension was made. */
		assert_string_equal(log_buf, "");
		assert_null(partitions[0].frames);
		assert_null(partitions[0].host_seen);
	}
	/*
	 * One failure per frame it takes: 256 of RAM (no 2M run is left), the frame array
	 * and the bitmap, the root, a PDPT, PD and PT for RAM and a PD and PT for the alias.
	 */
	assert_int_equal(failures, 256 + 2 + 1 + 3 + 2);
	/* With enough memory it works, the reset alias included. */
	u64 pa;

	assert_true(pt_lookup(&partitions[0].gpt, RESET_ALIAS_GPA + 0xfff0, &pa, NULL));
	assert_ptr_equal((void *)pa, part_gpa_peek(&partitions[0], BIOS_ALIAS_GPA + 0xfff0, 1));
}

static void test_device_memory_reserved_at_creation(void **state)
{
	char err[CFG_ERR_MAX], want[CFG_ERR_MAX];
	struct partition *p = &partitions[0];
	u64 without;
	void *a;

	assert_int_equal(create(p, err, sizeof(err)), 0);
	without = free_at_start - palloc_free_count();
	assert_int_equal(fake_ident_init(), free_at_start);
	cfg.device_memory = 64 << 10;
	assert_int_equal(create(p, err, sizeof(err)), 0);
	assert_int_equal(free_at_start - palloc_free_count(), without + 16);
	assert_int_equal(p->pool.size, 64 << 10);
	/* Exhaustion: one console line, then silence until 10 s have passed or a reset. */
	con_len = 0;
	a = pool_alloc(&p->pool, 60 << 10);
	assert_non_null(a);
	assert_null(pool_alloc(&p->pool, 8 << 10));
	assert_null(pool_alloc(&p->pool, 8 << 10));
	assert_string_equal(con_out, "partition guest: device memory exhausted (used 61456 of "
				     "65536 bytes)\n");
	con_len = 0;
	con_out[0] = 0;
	part_reset(p);
	assert_null(pool_alloc(&p->pool, 8 << 10));
	assert_string_equal(con_out, "partition guest: device memory exhausted (used 61456 of "
				     "65536 bytes)\n");
	/* Not there: the partition is not created and every frame is back. */
	pool_release(&p->pool); /* its poisoned blocks, before the fake memory is remade */
	assert_int_equal(fake_ident_init(), free_at_start);
	cfg.device_memory = (free_at_start - without + 1) << PAGE_SHIFT;
	log_clear();
	assert_int_equal(create(p, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "out of host memory for %llu KiB of device memory",
		 (unsigned long long)(cfg.device_memory >> 10));
	assert_string_equal(err, want);
	assert_int_equal(palloc_free_count(), free_at_start);
	assert_string_equal(log_buf, ""); /* neither the VP nor an extension was made */
}

static void test_vp_create_failure(void **state)
{
	char err[CFG_ERR_MAX];

	vp_create_fails = true;
	assert_int_equal(create(&partitions[0], err, sizeof(err)), -1);
	assert_string_equal(err, "cannot create its virtual processor");
	/* No extension was asked, the VP was not destroyed, memory is back. */
	assert_string_equal(log_buf, "vp_create ");
	assert_int_equal(palloc_free_count(), free_at_start);
}

static void test_failing_extension_unwinds_the_earlier_ones(void **state)
{
	unsigned n = nr_exts();
	char err[CFG_ERR_MAX], want[512], undo[256];

	assert_int_equal(n, 4);
	for (unsigned i = 0; i < n; i++) {
		const struct part_ext *bad = &__start_part_ext[i];

		assert_int_equal(fake_ident_init(), free_at_start);
		log_clear();
		fail_ext = bad->name;
		assert_int_equal(create(&partitions[0], err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "%s refuses", bad->name);
		assert_string_equal(err, want);
		/* Created up to the failing one; the ones before it destroyed newest first
		 * (not the failing one, not those after it); then the VP. */
		ext_words(want, sizeof(want), "create", i + 1, false, ALL);
		ext_words(undo, sizeof(undo), "destroy", i, true, WITH_DESTROY);
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%svp_destroy ", undo);
		assert_string_equal(log_buf + strlen("vp_create "), want);
		assert_false(vp_alive);
		assert_int_equal(palloc_free_count(), free_at_start);
	}
}

static void test_start_failure_unwinds_everything(void **state)
{
	char err[CFG_ERR_MAX], want[512], undo[256];

	snprintf(cfg.kernel.path, sizeof(cfg.kernel.path), "vmlinux");
	linux_boot_fails = true;
	assert_int_equal(create(&partitions[0], err, sizeof(err)), -1);
	assert_string_equal(err, "vmlinux is no ELF");
	/* Every extension was made; all are destroyed, newest first, no reset hook ran. */
	ext_words(want, sizeof(want), "create", nr_exts(), false, ALL);
	ext_words(undo, sizeof(undo), "destroy", nr_exts(), true, WITH_DESTROY);
	snprintf(want + strlen(want), sizeof(want) - strlen(want),
		 "vp_reset linux_boot %svp_destroy ", undo);
	assert_string_equal(log_buf + strlen("vp_create "), want);
	assert_false(vp_alive);
	assert_int_equal(palloc_free_count(), free_at_start);

	/* The same partition boots once the kernel does. */
	log_clear();
	linux_boot_fails = false;
	assert_int_equal(create(&partitions[0], err, sizeof(err)), 0);
	assert_non_null(strstr(log_buf, "linux_boot irq_init "));
	assert_true(partitions[0].is_linux);
}

/* ---- reset ---- */

static void test_reset_reboots_and_calls_reset_hooks(void **state)
{
	struct partition *p = &partitions[1];
	char err[CFG_ERR_MAX], want[512];
	u8 *b;

	assert_int_equal(create(p, err, sizeof(err)), 0);
	/* The guest scribbles over its memory and image, the devices have state. */
	b = part_gpa_peek(p, 0x500, 1);
	*b = 0x99;
	b = part_gpa_peek(p, cfg.load + 10, 1);
	*b ^= 0xff;
	p->pm1_cnt = 0x2000;
	p->idle = true;
	p->state = PART_STOPPED;
	snprintf(p->stop_reason, sizeof(p->stop_reason), "triple fault");
	log_clear();

	assert_int_equal(part_reset(p), 0);
	assert_int_equal(p->state, PART_RUNNING);
	assert_string_equal(p->stop_reason, "");
	assert_false(p->idle);
	assert_int_equal(p->pm1_cnt, 0);
	assert_int_equal(*(u8 *)part_gpa_peek(p, 0x500, 1), 0);
	assert_true(guest_bytes_are(p, cfg.load, image, sizeof(image)));
	/* Devices reset, then each extension's reset hook in set order, once. */
	snprintf(want, sizeof(want),
		 "vp_reset irq_init hv_init@%llu drain:guest fpu_init fpu_load ", FAKE_TSC);
	ext_words(want + strlen(want), sizeof(want) - strlen(want), "reset", nr_exts(), false,
		  WITH_RESET);
	assert_string_equal(log_buf, want);
	assert_string_equal(con_out, "");

	/* The UART was reset too and queues for the console as p. */
	u8 v = 'Z';

	log_clear();
	uart_io(&p->uart, 0, false, &v);
	assert_non_null(strstr(log_buf, "queue:guest:Z "));
}

static void test_reset_failure_stops_the_partition(void **state)
{
	struct partition *p = &partitions[0];
	char err[CFG_ERR_MAX];

	snprintf(cfg.kernel.path, sizeof(cfg.kernel.path), "vmlinux");
	assert_int_equal(create(p, err, sizeof(err)), 0);
	linux_boot_fails = true;
	log_clear();
	assert_int_equal(part_reset(p), -1);
	assert_int_equal(p->state, PART_STOPPED);
	assert_string_equal(p->stop_reason, "reset failed: vmlinux is no ELF");
	assert_string_equal(con_out, "partition guest stopped: reset failed: vmlinux is no ELF\n");
	/* No extension was reset or destroyed: the partition stays, stopped. */
	assert_null(strstr(log_buf, "reset:"));
	assert_null(strstr(log_buf, "destroy"));
}

/* ---- find, stop, memory lookups ---- */

static void test_find(void **state)
{
	snprintf(partitions[0].name, sizeof(partitions[0].name), "web");
	snprintf(partitions[1].name, sizeof(partitions[1].name), "db");
	snprintf(partitions[2].name, sizeof(partitions[2].name), "hidden");
	nr_partitions = 2;
	assert_ptr_equal(part_find("web"), &partitions[0]);
	assert_ptr_equal(part_find("db"), &partitions[1]);
	assert_null(part_find("we"));
	assert_null(part_find("DB"));
	assert_null(part_find(""));
	/* Only the partitions there are. */
	assert_null(part_find("hidden"));
	nr_partitions = 0;
	assert_null(part_find("web"));
}

static void test_stop_prints_one_line(void **state)
{
	struct partition *p = &partitions[0];
	char longer[200];

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "w");
	p->state = PART_RUNNING;
	part_stop(p, "killed %d times", 3);
	assert_int_equal(p->state, PART_STOPPED);
	assert_string_equal(p->stop_reason, "killed 3 times");
	/* The guest's unfinished line comes out before the stop line. */
	assert_string_equal(log_buf, "flush:w ");
	assert_string_equal(con_out, "partition w stopped: killed 3 times\n");

	/* A long reason is cut to what the partition keeps. */
	log_clear();
	memset(longer, 'r', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = 0;
	part_stop(p, "%s", longer);
	assert_int_equal(strlen(p->stop_reason), sizeof(p->stop_reason) - 1);
	assert_int_equal(strlen(con_out),
			 strlen("partition w stopped: \n") + sizeof(p->stop_reason) - 1);
	assert_string_equal(part_state_name(PART_STOPPED), "stopped");
	assert_string_equal(part_state_name(PART_HALTED), "halted");
	assert_string_equal(part_state_name((enum part_state)9), "?");
}

static void test_gpa_lookups(void **state)
{
	struct partition *p = &partitions[0];
	char err[CFG_ERR_MAX];
	u64 page = 0x7000 >> PAGE_SHIFT;

	assert_int_equal(create(p, err, sizeof(err)), 0);
	/* Inside one page of RAM only. */
	assert_non_null(part_gpa_peek(p, 0x7ff0, 16));
	assert_null(part_gpa_peek(p, 0x7ff0, 17));
	assert_null(part_gpa_peek(p, 1ull << 20, 1));
	assert_non_null(part_gpa_peek(p, (1ull << 20) - 1, 1));
	/* Peeking marks nothing; a pointer that may be kept marks its page. */
	assert_int_equal(p->host_seen[page / 64] & (1ull << (page % 64)), 0);
	assert_ptr_equal(part_gpa_to_hva(p, 0x7010, 8), part_gpa_peek(p, 0x7010, 8));
	assert_int_not_equal(p->host_seen[page / 64] & (1ull << (page % 64)), 0);
	assert_int_equal(p->host_seen[page / 64] & ~(1ull << (page % 64)), 0);
	assert_null(part_gpa_to_hva(p, 0x7ff0, 17));
	assert_int_equal(part_bitmap_pages(p), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_create_boots_the_image, setup),
	    cmocka_unit_test_setup(test_create_with_entry_and_little_memory, setup),
	    cmocka_unit_test_setup(test_memory_comes_in_2m_pieces_where_it_can, setup),
	    cmocka_unit_test_setup(test_create_refuses_bad_layouts, setup),
	    cmocka_unit_test_setup(test_out_of_memory_anywhere_is_undone, setup),
	    cmocka_unit_test_setup(test_vp_create_failure, setup),
	    cmocka_unit_test_setup(test_failing_extension_unwinds_the_earlier_ones, setup),
	    cmocka_unit_test_setup(test_start_failure_unwinds_everything, setup),
	    cmocka_unit_test_setup(test_reset_reboots_and_calls_reset_hooks, setup),
	    cmocka_unit_test_setup(test_reset_failure_stops_the_partition, setup),
	    cmocka_unit_test_setup(test_find, setup),
	    cmocka_unit_test_setup(test_device_memory_reserved_at_creation, setup),
	    cmocka_unit_test_setup(test_stop_prints_one_line, setup),
	    cmocka_unit_test_setup(test_gpa_lookups, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
