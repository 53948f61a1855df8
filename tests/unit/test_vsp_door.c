/*
 * The VSP door (vmbus/vsp.c) itself, with the kernel faked around it: the
 * orders docs/vsp.md states (create in `vmbus =` order, unwound in reverse
 * on a failure; destroy in reverse), deferred work and timers, memory
 * charged to the partition and freed with the instance, snapshots of the
 * instances' own state, console commands resolved to an instance, and the
 * partition's configuration keys and files, and hypervisor-wide modules (their boot
 * hook, the sections they read, their .global console commands).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmbus/part.h"
#include "kernel/ext.h"
#include "kernel/log.h"
#include "kernel/part.h"

#define TSC_HZ 1000000000ull /* 1 GHz: a TSC tick is a nanosecond */

/* ---- the kernel, faked ---- */

static u64 tsc;
static char out[4096];
static struct partition parts[2]; /* "linux" (with VSPs) and "plain" */
static struct cfg_partition cfgs[2];

u64 arch_rdtsc(void)
{
	return tsc;
}

u64 arch_tsc_hz(void)
{
	return TSC_HZ;
}

void kvprintf(const char *fmt, va_list ap)
{
	size_t used = strlen(out);

	if (used + 1 < sizeof(out))
		vsnprintf(out + used, sizeof(out) - used, fmt, ap);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

struct partition *part_find(const char *name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(parts); i++)
		if (!strcmp(parts[i].name, name))
			return &parts[i];
	return NULL;
}

static const u8 disk_bytes[] = "the disk";

const void *boot_file_data(const char *name, u64 *size)
{
	if (strcmp(name, "disks/a.img")) {
		*size = 0;
		return NULL;
	}
	*size = sizeof(disk_bytes);
	return disk_bytes;
}

/* ---- test VSPs: they log what the door asks of them ---- */

static char calls[512];
static int fail_create_of; /* the VSP type number whose create fails, 0: none */

struct test_state {
	int number;
	unsigned works;
	u32 saved; /* what save writes and restore checks */
};

static void note(struct vsp *v, const char *what)
{
	struct test_state *s = vsp_state(v);
	size_t used = strlen(calls);

	snprintf(calls + used, sizeof(calls) - used, "%s%d ", what, s->number);
}

static int create_n(struct vsp *v, int n, char *err, size_t len)
{
	struct test_state *s = vsp_state(v);

	s->number = n;
	note(v, "create");
	if (fail_create_of == n) {
		snprintf(err, len, "refused");
		return -1;
	}
	return 0;
}

static int create_1(struct vsp *v, char *err, size_t len)
{
	return create_n(v, 1, err, len);
}

static int create_2(struct vsp *v, char *err, size_t len)
{
	return create_n(v, 2, err, len);
}

static int create_3(struct vsp *v, char *err, size_t len)
{
	return create_n(v, 3, err, len);
}

static void destroy(struct vsp *v)
{
	note(v, "destroy");
}

static void reset(struct vsp *v)
{
	note(v, "reset");
}

static void work(struct vsp *v)
{
	struct test_state *s = vsp_state(v);

	s->works++;
	note(v, "work");
}

static vmb_status save(struct vsp *v, void *buf, u32 size, u32 *needed)
{
	struct test_state *s = vsp_state(v);

	*needed = sizeof(s->saved);
	if (size < sizeof(s->saved))
		return VMB_STATUS_BUFFER_TOO_SMALL;
	memcpy(buf, &s->saved, sizeof(s->saved));
	return VMB_STATUS_SUCCESS;
}

static vmb_status restore(struct vsp *v, const void *buf, u32 size)
{
	struct test_state *s = vsp_state(v);

	if (size != sizeof(s->saved))
		return VMB_STATUS_DATA_ERROR;
	memcpy(&s->saved, buf, sizeof(s->saved));
	return VMB_STATUS_SUCCESS;
}

/* Two's saved state: refused when it says 0xbad, by check and restore alike. */
static vmb_status check_2(struct vsp *v, const void *buf, u32 size)
{
	u32 x;

	if (size != sizeof(x))
		return VMB_STATUS_DATA_ERROR;
	memcpy(&x, buf, sizeof(x));
	return x == 0xbad ? VMB_STATUS_DATA_ERROR : VMB_STATUS_SUCCESS;
}

static vmb_status restore_2(struct vsp *v, const void *buf, u32 size)
{
	vmb_status st = check_2(v, buf, size);

	return st == VMB_STATUS_SUCCESS ? restore(v, buf, size) : st;
}

VSP_TYPE(one_vsp) = {.name = "one",
		     .state_size = sizeof(struct test_state),
		     .create = create_1,
		     .destroy = destroy,
		     .reset = reset,
		     .work = work,
		     .save = save,
		     .restore = restore};
VSP_TYPE(two_vsp) = {.name = "two",
		     .state_size = sizeof(struct test_state),
		     .create = create_2,
		     .destroy = destroy,
		     .reset = reset,
		     .work = work,
		     .save = save,
		     .check = check_2,
		     .restore = restore_2};
/* Also made, unlisted, for a partition that sets `three_key` (as netvsp for `nic =`). */
VSP_TYPE(three_vsp) = {.name = "three",
		       .state_size = sizeof(struct test_state),
		       .create = create_3,
		       .when_key = "three_key"};

static void cmd_one(struct vsp *v, int argc, char **argv)
{
	struct test_state *s = vsp_state(v);

	vsp_printf("one partition=%s number=%d args=%d\n", argv[1], s->number, argc);
}

static void cmd_three(struct vsp *v, int argc, char **argv)
{
	vsp_printf("three partition=%s\n", argv[1]);
}

VSP_COMMAND(three_cmd) = {
    .name = "three",
    .vsp = "three",
    .device = "THREE device",
    .usage = "three PARTITION",
    .fn = cmd_three,
    .help = "three P              test",
};

VSP_COMMAND(one_cmd) = {
    .name = "one",
    .vsp = "one",
    .device = "ONE device",
    .usage = "one PARTITION [X]",
    .max_args = 1,
    .fn = cmd_one,
    .help = "one P [X]            test",
};

CFG_KEY(disk_key) = {.k = CFG_KEY_HEAD(BOOT_CFG_KEY_FILE, "partition", "disk")};
CFG_KEY(three_key) = {.k = CFG_KEY_HEAD(0, "partition", "three_key")};

static struct vmbus_part vp;
static u8 pool_mem[2u << 20] __attribute__((aligned(POOL_ALIGN))); /* parts[0]'s device memory */

/* A `vmbus =` value naming the given VSPs. */
static struct cfg_value list_of(const char *a, const char *b, const char *c)
{
	struct cfg_value l = {0};
	const char *names[] = {a, b, c};

	for (unsigned i = 0; i < 3; i++)
		if (names[i])
			snprintf(l.items[l.nr_items++], sizeof(l.items[0]), "%s", names[i]);
	return l;
}

static int setup(void **state)
{
	memset(&vp, 0, sizeof(vp));
	memset(parts, 0, sizeof(parts));
	memset(cfgs, 0, sizeof(cfgs));
	snprintf(parts[0].name, sizeof(parts[0].name), "linux");
	snprintf(parts[1].name, sizeof(parts[1].name), "plain");
	parts[0].cfg = &cfgs[0];
	parts[0].vmbus = &vp;
	parts[0].state = PART_RUNNING;
	hv_clock_init(&parts[0].hv.clock, TSC_HZ, 0);
	vp.part = &parts[0];
	pool_init(&parts[0].pool, pool_mem, sizeof(pool_mem));
	out[0] = calls[0] = 0;
	fail_create_of = 0;
	tsc = 0;
	return 0;
}

static int teardown(void **state)
{
	vsp_destroy_all(&vp);
	/* The instances' state and blocks went back to the partition's pool. */
	assert_int_equal(parts[0].pool.used, 0);
	return 0;
}

/* ---- the tests ---- */

static void test_create_and_destroy_in_order(void **state)
{
	struct cfg_value l = list_of("two", "one", "three");
	char err[CFG_ERR_MAX] = "";

	assert_int_equal(vsp_create_all(&vp, &l, err, sizeof(err)), 0);
	assert_string_equal(calls, "create2 create1 create3 ");
	assert_int_equal(vp.nr_vsps, 3);
	calls[0] = 0;
	vsp_reset_all(&vp);
	assert_string_equal(calls, "reset2 reset1 "); /* three has no reset */
	calls[0] = 0;
	vsp_destroy_all(&vp);
	assert_string_equal(calls, "destroy1 destroy2 ");
	assert_int_equal(vp.nr_vsps, 0);
}

static void test_a_key_makes_an_instance(void **state)
{
	struct cfg_value l = list_of("two", NULL, NULL), both = list_of("three", "one", NULL);
	const struct cfg_value key = {.key = &three_key, .line = 4, .text = "x"};
	char err[CFG_ERR_MAX] = "";

	assert_false(vsp_wanted(&cfgs[0]));
	cfgs[0].values.v[cfgs[0].values.nr++] = key;
	assert_true(vsp_wanted(&cfgs[0])); /* without `vmbus =` */
	assert_int_equal(vsp_create_all(&vp, &l, err, sizeof(err)), 0);
	assert_string_equal(calls, "create2 create3 "); /* the list first */
	assert_int_equal(vsp_partition_index(&vp.vsps[1]), 0);
	vsp_destroy_all(&vp);
	calls[0] = 0;
	assert_int_equal(vsp_create_all(&vp, &both, err, sizeof(err)), 0);
	assert_string_equal(calls, "create3 create1 "); /* listed and keyed: once */
	vsp_destroy_all(&vp);
	calls[0] = 0;
	assert_int_equal(vsp_create_all(&vp, NULL, err, sizeof(err)), 0);
	assert_string_equal(calls, "create3 ");
	assert_int_equal(vp.nr_vsps, 1);
}

static void test_a_failed_create_unwinds_the_ones_before(void **state)
{
	struct cfg_value l = list_of("one", "two", "three");
	char err[CFG_ERR_MAX] = "";

	fail_create_of = 2;
	assert_int_equal(vsp_create_all(&vp, &l, err, sizeof(err)), -1);
	assert_string_equal(err, "vmbus: VSP 'two': refused");
	/* The failed one undid itself: only the one before it is destroyed. */
	assert_string_equal(calls, "create1 create2 destroy1 ");
	assert_int_equal(vp.nr_vsps, 0);
	/* An unknown name makes nothing at all. */
	calls[0] = 0;
	l = list_of("one", "nosuch", NULL);
	assert_int_equal(vsp_create_all(&vp, &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "vmbus: unknown VSP 'nosuch' (known: "));
	assert_non_null(strstr(err, "one"));
	assert_string_equal(calls, "");
}

static void test_work_runs_when_deferred_or_due(void **state)
{
	struct cfg_value l = list_of("one", "two", NULL);
	char err[CFG_ERR_MAX] = "";
	struct vsp *one = &vp.vsps[0], *two = &vp.vsps[1];

	assert_int_equal(vsp_create_all(&vp, &l, err, sizeof(err)), 0);
	calls[0] = 0;
	vsp_work_all(&vp);
	assert_string_equal(calls, ""); /* nothing asked */
	vsp_defer(two);
	vsp_timer_at(one, 5000);
	vsp_work_all(&vp);
	assert_string_equal(calls, "work2 ");
	tsc = 4999;
	vsp_work_all(&vp);
	assert_string_equal(calls, "work2 ");
	tsc = 5000;
	assert_int_equal(vsp_now_ns(), 5000);
	vsp_work_all(&vp);
	vsp_work_all(&vp); /* a timer fires once */
	assert_string_equal(calls, "work2 work1 ");
	/* A later call moves the one timer. */
	vsp_timer_at(one, 9000);
	vsp_timer_at(one, 7000);
	tsc = 7000;
	vsp_work_all(&vp);
	assert_string_equal(calls, "work2 work1 work1 ");
	/* The reference time is the partition's, in 100 ns units. */
	tsc = 2 * TSC_HZ;
	assert_int_equal(vsp_ref_time(one), hv_clock_ref(&parts[0].hv.clock, 2 * TSC_HZ));
	assert_true(vsp_ref_time(one) >= 19999999 && vsp_ref_time(one) <= 20000000);
	parts[0].state = PART_STOPPED;
	assert_int_equal(vsp_run_state(one), VSP_STOPPED);
}

static void test_memory_is_charged_and_freed(void **state)
{
	struct cfg_value l = list_of("one", "two", NULL);
	char err[CFG_ERR_MAX] = "";
	void *a, *b, *c;

	assert_int_equal(vsp_create_all(&vp, &l, err, sizeof(err)), 0);
	a = vsp_alloc(&vp.vsps[0], 1000);
	b = vsp_alloc(&vp.vsps[1], 2000);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(((u8 *)a)[999], 0);
	assert_int_equal(vp.vsp_bytes, 3000);
	/* One budget for the partition's VSPs together. */
	assert_null(vsp_alloc(&vp.vsps[0], VSP_MEM_MAX - 2999));
	c = vsp_alloc(&vp.vsps[0], VSP_MEM_MAX - 3000);
	assert_non_null(c);
	assert_null(vsp_alloc(&vp.vsps[1], 1));
	vsp_free(&vp.vsps[0], c);
	vsp_free(&vp.vsps[0], NULL);
	assert_int_equal(vp.vsp_bytes, 3000);
	/* Destroy frees what is left. */
	vsp_destroy_all(&vp);
	assert_int_equal(vp.vsp_bytes, 0);
}

static void test_memory_comes_from_the_partitions_pool(void **state)
{
	struct cfg_value l = list_of("one", NULL, NULL);
	char err[CFG_ERR_MAX] = "";
	u64 before;
	void *a, *hog;

	assert_int_equal(vsp_create_all(&vp, &l, err, sizeof(err)), 0);
	before = parts[0].pool.used;
	a = vsp_alloc(&vp.vsps[0], 1000);
	assert_non_null(a);
	assert_true(parts[0].pool.used >= before + 1000);
	/* The bus has taken nearly all of it: VSP_MEM_MAX is not reached, and still no room. */
	hog = pool_alloc(&parts[0].pool, pool_largest(&parts[0].pool) - 100);
	assert_non_null(hog);
	assert_null(vsp_alloc(&vp.vsps[0], 1000));
	assert_int_equal(vp.vsp_bytes, 1000);
	pool_free(&parts[0].pool, hog);
	vsp_free(&vp.vsps[0], a);
	assert_int_equal(vp.vsp_bytes, 0);
}

static void test_snapshots_of_the_instances(void **state)
{
	struct cfg_value l = list_of("one", "two", NULL), other = list_of("two", "one", NULL);
	char err[CFG_ERR_MAX] = "";
	struct test_state *s;
	void *saved;

	assert_int_equal(vsp_create_all(&vp, &l, err, sizeof(err)), 0);
	s = vsp_state(&vp.vsps[0]);
	s->saved = 0x1234;
	saved = vsp_save_all(&vp, err, sizeof(err));
	assert_non_null(saved);
	s->saved = 0;
	assert_int_equal(vsp_restore_all(&vp, saved, err, sizeof(err)), 0);
	assert_int_equal(s->saved, 0x1234);
	/* Another partition's VSPs (other types, other order) do not take it. */
	vsp_destroy_all(&vp);
	assert_int_equal(vsp_create_all(&vp, &other, err, sizeof(err)), 0);
	assert_int_equal(vsp_restore_all(&vp, saved, err, sizeof(err)), -1);
	assert_string_equal(err, "vmbus: the snapshot has other VSPs");
	assert_int_equal(vsp_restore_all(&vp, NULL, err, sizeof(err)), -1);
	vsp_drop_all(saved);
}

/* One instance's state refused: no instance gets its state back, not even those before it. */
static void test_a_refused_instance_restores_none(void **state)
{
	struct cfg_value l = list_of("one", "two", NULL);
	char err[CFG_ERR_MAX] = "";
	struct test_state *s1, *s2;
	void *saved;

	assert_int_equal(vsp_create_all(&vp, &l, err, sizeof(err)), 0);
	s1 = vsp_state(&vp.vsps[0]);
	s2 = vsp_state(&vp.vsps[1]);
	s1->saved = 0x1234;
	s2->saved = 0xbad;
	saved = vsp_save_all(&vp, err, sizeof(err));
	assert_non_null(saved);
	s1->saved = s2->saved = 7;
	assert_int_equal(vsp_check_all(&vp, saved, err, sizeof(err)), -1);
	assert_int_equal(vsp_restore_all(&vp, saved, err, sizeof(err)), -1);
	assert_string_equal(err, "two: its saved state is refused (status 0xc000003e)");
	assert_int_equal(s1->saved, 7);
	assert_int_equal(s2->saved, 7);
	vsp_drop_all(saved);
	/* A good one passes the check and comes back whole. */
	s1->saved = 0x1234;
	s2->saved = 0x5678;
	saved = vsp_save_all(&vp, err, sizeof(err));
	s1->saved = s2->saved = 7;
	assert_int_equal(vsp_check_all(&vp, saved, err, sizeof(err)), 0);
	assert_int_equal(s1->saved, 7); /* check changes nothing */
	assert_int_equal(vsp_restore_all(&vp, saved, err, sizeof(err)), 0);
	assert_int_equal(s1->saved, 0x1234);
	assert_int_equal(s2->saved, 0x5678);
	vsp_drop_all(saved);
	vsp_destroy_all(&vp);
}

static void run(const char *line)
{
	char buf[128], *argv[8];
	int argc = 0;
	const struct con_command *c = NULL;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 8; t = strtok(NULL, " "))
		argv[argc++] = t;
	for_each_con_source(src)
	{
		const struct con_command *k;

		for (unsigned i = 0; (k = src->get(i)); i++)
			if (!strcmp(k->name, argv[0]))
				c = k;
	}
	assert_non_null(c);
	out[0] = 0;
	c->fn(argc, argv);
}

static void test_console_commands_resolve_to_an_instance(void **state)
{
	struct cfg_value l = list_of("two", "one", NULL);
	char err[CFG_ERR_MAX] = "";

	assert_int_equal(vsp_create_all(&vp, &l, err, sizeof(err)), 0);
	run("one linux");
	assert_string_equal(out, "one partition=linux number=1 args=2\n");
	run("one linux x");
	assert_string_equal(out, "one partition=linux number=1 args=3\n");
	run("one linux x y");
	assert_string_equal(out, "error: usage: one PARTITION [X]\n");
	run("one");
	assert_string_equal(out, "error: usage: one PARTITION [X]\n");
	run("one nobody");
	assert_string_equal(out, "error: no partition named 'nobody' (see 'list')\n");
	run("one plain");
	assert_string_equal(
	    out, "error: partition plain has no ONE device (add `one` to its vmbus list)\n");
	/* A keyed type is made by its key: the error names the key, not the vmbus list. */
	run("three plain");
	assert_string_equal(out, "error: partition plain has no THREE device (its section sets no "
				 "`three_key =`)\n");
}

static void test_log_and_configuration(void **state)
{
	struct cfg_value l = list_of("one", NULL, NULL);
	char err[CFG_ERR_MAX] = "";
	struct cfg_value disk = {.key = &disk_key, .line = 3};
	u64 size = 1;

	assert_int_equal(vsp_create_all(&vp, &l, err, sizeof(err)), 0);
	out[0] = 0;
	vsp_log(&vp.vsps[0], "hello %d", 7);
	assert_string_equal(out, "one: partition linux: hello 7\n");
	assert_null(vsp_config(&vp.vsps[0], "disk"));
	assert_null(vsp_file(&vp.vsps[0], "disk", &size));
	assert_int_equal(size, 0);
	snprintf(disk.text, sizeof(disk.text), "disks/a.img");
	cfgs[0].values.v[cfgs[0].values.nr++] = disk;
	assert_string_equal(vsp_config(&vp.vsps[0], "disk"), "disks/a.img");
	assert_ptr_equal(vsp_file(&vp.vsps[0], "disk", &size), disk_bytes);
	assert_int_equal(size, sizeof(disk_bytes));
	assert_string_equal(vsp_partition_name(&vp.vsps[0]), "linux");
}

/* ---- hypervisor-wide modules ---- */

static int boots;
static char boot_seen[64];

static int module_boot(char *err, size_t errlen)
{
	const char *name;

	boots++;
	for (unsigned i = 0; (name = vsp_section_name("zone", i)); i++) {
		const struct cfg_value *v = vsp_section_value("zone", name, "colour");

		strcat(boot_seen, name);
		strcat(boot_seen, "=");
		strcat(boot_seen, v ? v->text : "-");
		strcat(boot_seen, " ");
	}
	if (vsp_section_name("zone", 0) && !strcmp(vsp_section_name("zone", 0), "bad")) {
		snprintf(err, errlen, "zone bad is refused");
		return -1;
	}
	return 0;
}

VSP_MODULE(test_module) = {.name = "zones", .boot = module_boot};
CFG_KEY(colour_key) = {.k = CFG_KEY_HEAD(0, "zone", "colour")};

static void cmd_zone(struct vsp *v, int argc, char **argv)
{
	vsp_printf("zone v=%s first=%s args=%d\n", v ? "set" : "null", argv[1], argc);
}

VSP_COMMAND(zone_cmd) = {
    .name = "zone",
    .usage = "zone NAME [X]",
    .max_args = 2,
    .fn = cmd_zone,
    .help = "zone Z [X]           test",
    .global = true,
};

static void test_modules_boot_read_sections_and_take_global_commands(void **state)
{
	static struct cfg cfg;
	static const char text[] = "[partition linux]\nmemory = 16M\nimage = a.bin\n"
				   "[zone red]\ncolour = crimson\n[zone blue]\n";
	char err[CFG_ERR_MAX] = "";

	assert_int_equal(cfg_parse(text, strlen(text), "t.cfg", &cfg, err, sizeof(err)), 0);
	assert_int_equal(vsp_boot_all(&cfg, err, sizeof(err)), 0);
	assert_int_equal(boots, 1);
	assert_string_equal(boot_seen, "red=crimson blue=- ");
	assert_null(vsp_section_name("zone", 2));
	assert_null(vsp_section_name("partition", 0)); /* partitions are not extension sections */
	assert_null(vsp_section_value("zone", "green", "colour"));
	run("zone red");
	assert_string_equal(out, "zone v=null first=red args=2\n"); /* no partition looked up */
	run("zone red a");
	assert_string_equal(out, "zone v=null first=red args=3\n");
	run("zone");
	assert_string_equal(out, "error: usage: zone NAME [X]\n");
	run("zone red a b");
	assert_string_equal(out, "error: usage: zone NAME [X]\n");
	static const char bad[] = "[partition linux]\nmemory = 16M\nimage = a.bin\n[zone bad]\n";
	assert_int_equal(cfg_parse(bad, strlen(bad), "t.cfg", &cfg, err, sizeof(err)), 0);
	assert_int_equal(vsp_boot_all(&cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "zones: zone bad is refused");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_and_destroy_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_key_makes_an_instance, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_failed_create_unwinds_the_ones_before, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_work_runs_when_deferred_or_due, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory_is_charged_and_freed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory_comes_from_the_partitions_pool, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_snapshots_of_the_instances, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_refused_instance_restores_none, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_console_commands_resolve_to_an_instance, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_log_and_configuration, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_modules_boot_read_sections_and_take_global_commands, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
