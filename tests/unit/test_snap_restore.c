/*
 * `snapshot P` and `restore P` (kernel/snap.c) on the host, through the
 * console commands: a restore is two-phase, every record of every layer
 * checked before anything changes, so a restore that a layer refuses leaves
 * the partition exactly as it was (memory, VP, x87/SSE image, devices,
 * extensions, state line); and a snapshot that a restore would refuse is
 * refused when it is taken. The real records, device save/load, page
 * allocator and page tables run over identity-mapped fake memory
 * (fake_ident.c); the VP, the FPU switch, the partition table and two
 * extensions (standing in for VMBus) are faked here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/arch.h"
#include "kernel/con.h"
#include "kernel/ext.h"
#include "kernel/palloc.h"
#include "kernel/part.h"
#include "kernel/sched.h"
#include "tests/unit/fake_ident.h"

#define PAGES 16

/* ---- the console ---- */

static char out[2048];

void con_printf(const char *fmt, ...)
{
	size_t used = strlen(out);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out + used, sizeof(out) - used, fmt, ap);
	va_end(ap);
}

static const char *run(const char *line)
{
	char buf[64], *argv[4];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 4; t = strtok(NULL, " "))
		argv[argc++] = t;
	out[0] = 0;
	for_each_con_command(c)
	{
		if (!strcmp(c->name, argv[0])) {
			c->fn(argc, argv);
			return out;
		}
	}
	fail_msg("no command %s", argv[0]);
	return NULL;
}

/* ---- the partition table, the VP and the FPU switch ---- */

struct partition partitions[PART_MAX];
unsigned nr_partitions;
static struct vp_state cpu_vp; /* what the fake VMX/SVM holds */
static unsigned fpu_loads, stops;

static void fake_vp_save(struct vp *vp, struct vp_state *s)
{
	*s = cpu_vp;
}

static void fake_vp_load(struct vp *vp, const struct vp_state *s)
{
	cpu_vp = *s;
}

static const struct vp_ops fake_ops = {
    .name = "fake",
    .gpt_format = &pt_format_ept,
    .vp_save = fake_vp_save,
    .vp_load = fake_vp_load,
};
const struct vp_ops *vp_ops = &fake_ops;

u64 arch_time_us(void)
{
	return 0;
}

void sched_fpu_flush(struct partition *p)
{
}

void sched_fpu_load(struct partition *p)
{
	fpu_loads++;
}

const char *part_state_name(enum part_state s)
{
	static const char *const names[] = {"running", "paused", "stopped", "halted"};

	return names[s];
}

struct partition *part_find(const char *name)
{
	for (unsigned i = 0; i < nr_partitions; i++)
		if (!strcmp(partitions[i].name, name))
			return &partitions[i];
	return NULL;
}

void part_stop(struct partition *p, const char *fmt, ...)
{
	stops++;
	p->state = PART_STOPPED;
	snprintf(p->stop_reason, sizeof(p->stop_reason), "%s", fmt);
}

u64 part_bitmap_pages(const struct partition *p)
{
	return ALIGN_UP(ALIGN_UP(p->mem_size >> PAGE_SHIFT, 64) / 8, PAGE_SIZE) >> PAGE_SHIFT;
}

/* ---- two extensions with saved state: `one` always takes it, `two` may refuse it ---- */

struct ext_state {
	u32 value;
};
static u32 value_one, value_two;
static bool two_refuses; /* two's check and restore refuse what they are given */
static unsigned restores;

static void *save_one(struct partition *p, char *err, size_t errlen)
{
	struct ext_state *s = malloc(sizeof(*s));

	s->value = value_one;
	return s;
}

static void *save_two(struct partition *p, char *err, size_t errlen)
{
	struct ext_state *s = malloc(sizeof(*s));

	s->value = value_two;
	return s;
}

static int check_two(struct partition *p, const void *state, char *err, size_t errlen)
{
	if (!two_refuses)
		return 0;
	snprintf(err, errlen, "two: saved state refused");
	return -1;
}

static int restore_one(struct partition *p, const void *state, char *err, size_t errlen)
{
	restores++;
	value_one = ((const struct ext_state *)state)->value;
	return 0;
}

static int restore_two(struct partition *p, const void *state, char *err, size_t errlen)
{
	if (check_two(p, state, err, errlen))
		return -1;
	restores++;
	value_two = ((const struct ext_state *)state)->value;
	return 0;
}

PART_EXT(one_ext) = {
    .name = "one", .snap_save = save_one, .snap_restore = restore_one, .snap_drop = free};
PART_EXT(two_ext) = {.name = "two",
		     .snap_save = save_two,
		     .snap_check = check_two,
		     .snap_restore = restore_two,
		     .snap_drop = free};

/* ---- a partition and what the tests compare ---- */

static struct partition *p;

static u8 *page(unsigned i)
{
	return phys_to_virt(p->frames[i]);
}

static void uart_tx(void *ctx, u8 c)
{
}

static void uart_irq(void *ctx, bool level)
{
}

static void *no_page(void *ctx, u64 gpa)
{
	return NULL;
}

static void no_raise(void *ctx, u8 vector)
{
}

static const struct synic_env synic_env = {no_page, no_raise, NULL};

static int setup(void **state)
{
	fake_ident_init();
	memset(partitions, 0, sizeof(partitions));
	nr_partitions = 1;
	p = &partitions[0];
	snprintf(p->name, sizeof(p->name), "t");
	p->mem_size = PAGES * PAGE_SIZE;
	p->frames = (u64 *)palloc_alloc_contig(1, PAGE_SIZE);
	p->host_seen = (u64 *)palloc_alloc_contig(part_bitmap_pages(p), PAGE_SIZE);
	memset(p->host_seen, 0, part_bitmap_pages(p) << PAGE_SHIFT);
	assert_int_equal(pt_init(&p->gpt, &pt_format_ept), 0);
	for (unsigned i = 0; i < PAGES; i++) {
		p->frames[i] = palloc_alloc();
		assert_int_equal(pt_map(&p->gpt, (u64)i << PAGE_SHIFT, p->frames[i], PAGE_SIZE,
					PT_R | PT_W | PT_X, true),
				 0);
	}
	uart_init(&p->uart, uart_tx, uart_irq, p);
	vlapic_init(&p->lapic, 0, 1000000000ull, NULL, p);
	vioapic_init(&p->ioapic, 0, &p->lapic);
	synic_init(&p->hv.synic, &synic_env);
	p->state = PART_RUNNING;
	fpu_loads = stops = restores = 0;
	two_refuses = false;
	return 0;
}

/* Everything of p a restore may change, as it is now. */
struct world {
	u8 mem[PAGES][PAGE_SIZE];
	struct vp_state vp;
	u8 fpu[VP_FPU_SIZE];
	struct vlapic lapic;
	struct vioapic ioapic;
	struct hv hv;
	struct uart uart;
	u16 pm1_cnt, pm1_en;
	enum part_state state;
	char stop_reason[96];
	bool idle;
	u32 one, two;
};

static void capture(struct world *w)
{
	memset(w, 0, sizeof(*w));
	for (unsigned i = 0; i < PAGES; i++)
		memcpy(w->mem[i], page(i), PAGE_SIZE);
	w->vp = cpu_vp;
	memcpy(w->fpu, p->vp.fpu, sizeof(w->fpu));
	w->lapic = p->lapic;
	w->ioapic = p->ioapic;
	w->hv = p->hv;
	w->uart = p->uart;
	w->pm1_cnt = p->pm1_cnt;
	w->pm1_en = p->pm1_en;
	w->state = p->state;
	memcpy(w->stop_reason, p->stop_reason, sizeof(w->stop_reason));
	w->idle = p->idle;
	w->one = value_one;
	w->two = value_two;
}

/* The guest at one moment: memory, registers, x87/SSE, devices, extensions all say n. */
static void become(u8 n)
{
	for (unsigned i = 0; i < PAGES; i++) {
		snap_write_fault(p, (u64)i << PAGE_SHIFT); /* what the guest's writes would do */
		memset(page(i), n, PAGE_SIZE);
	}
	memset(&cpu_vp, 0, sizeof(cpu_vp));
	cpu_vp.regs.rip = 0x1000u * n;
	cpu_vp.regs.rflags = 0x202;
	cpu_vp.regs.gpr[0] = n;
	memset(p->vp.fpu, n, sizeof(p->vp.fpu));
	memset(p->vp.fpu + 24, 0, 4); /* MXCSR 0: valid */
	p->pm1_en = n;
	p->uart.scr = n;
	value_one = value_two = n;
}

static void assert_world(const struct world *want)
{
	struct world now;

	capture(&now);
	for (unsigned i = 0; i < PAGES; i++)
		assert_memory_equal(now.mem[i], want->mem[i], PAGE_SIZE);
	assert_memory_equal(&now.vp, &want->vp, sizeof(now.vp));
	assert_memory_equal(now.fpu, want->fpu, sizeof(now.fpu));
	assert_memory_equal(&now.lapic, &want->lapic, sizeof(now.lapic));
	assert_memory_equal(&now.ioapic, &want->ioapic, sizeof(now.ioapic));
	assert_memory_equal(&now.hv, &want->hv, sizeof(now.hv));
	assert_memory_equal(&now.uart, &want->uart, sizeof(now.uart));
	assert_int_equal(now.pm1_cnt, want->pm1_cnt);
	assert_int_equal(now.pm1_en, want->pm1_en);
	assert_int_equal(now.state, want->state);
	assert_string_equal(now.stop_reason, want->stop_reason);
	assert_int_equal(now.idle, want->idle);
	assert_int_equal(now.one, want->one);
	assert_int_equal(now.two, want->two);
}

/* ---- tests ---- */

static void test_restore_goes_back(void **state)
{
	struct world a;

	become(0x11);
	capture(&a);
	assert_non_null(strstr(run("snapshot t"), "snapshot partition=t slot=0 "));
	become(0x22);
	p->state = PART_PAUSED;
	assert_non_null(strstr(run("restore t"), "restored partition=t slot=0 "));
	assert_world(&a);
	assert_int_equal(restores, 2);
	assert_int_equal(fpu_loads, 1);
	run("forget t");
}

/*
 * A layer refuses the snapshot's state at the restore: nothing of the
 * partition changed, not even what comes before that layer (memory, the
 * VP, the devices, the first extension), and it is not stopped.
 */
static void test_refused_restore_leaves_the_partition_as_it_was(void **state)
{
	struct world b;
	const char *o;

	become(0x11);
	assert_non_null(strstr(run("snapshot t"), "snapshot partition=t slot=0 "));
	become(0x22);
	p->state = PART_PAUSED;
	capture(&b);
	two_refuses = true;
	o = run("restore t");
	assert_string_equal(o, "error: restore of t: two: saved state refused\n");
	assert_world(&b);
	assert_int_equal(restores, 0);
	assert_int_equal(fpu_loads, 0);
	assert_int_equal(stops, 0);
	/* The same slot restores once the state is acceptable. */
	two_refuses = false;
	assert_non_null(strstr(run("restore t"), "restored partition=t slot=0 "));
	assert_int_equal(value_two, 0x11);
	assert_int_equal(p->state, PART_RUNNING);
	run("forget t");
}

/* A snapshot a restore would refuse is refused when it is taken; the slot keeps what it had. */
static void test_unrestorable_snapshot_is_refused_when_taken(void **state)
{
	become(0x11);
	assert_non_null(strstr(run("snapshot t"), "snapshot partition=t slot=0 "));
	become(0x22);
	two_refuses = true;
	assert_string_equal(
	    run("snapshot t"),
	    "error: snapshot of t: two: saved state refused (it could not be restored)\n");
	two_refuses = false;
	assert_non_null(strstr(run("snapshots t"), "snapshot partition=t slot=0 "));
	assert_non_null(strstr(run("restore t"), "restored partition=t slot=0 "));
	assert_int_equal(value_two, 0x11); /* the first snapshot, not the refused one */
	assert_int_equal(page(3)[7], 0x11);
	run("forget t");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_restore_goes_back, setup),
	    cmocka_unit_test_setup(test_refused_restore_leaves_the_partition_as_it_was, setup),
	    cmocka_unit_test_setup(test_unrestorable_snapshot_is_refused_when_taken, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
