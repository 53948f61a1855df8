/*
 * MMIO emulation (arch/x86_64/mmio.c) on the host: guest memory comes only
 * through vp->guest.read and the segment state through the vendor's
 * vp_get_sregs, so a flat buffer and a fake vp_ops are the whole guest.
 * Instruction bytes checked against GNU as/objdump.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86_64/vendor.h"
#include "kernel/arch.h"

#define MEM_SIZE  0x10000
#define MMIO_GPA  0xfec00000ull
#define RAX_INIT  0x1122334455667788ull
#define PML4_GPA  0x3000
#define PDPT_GPA  0x4000
#define PD_GPA	  0x5000
#define CODE_ATTR 0x9b /* present code segment, DPL 0 */
#define DATA_ATTR 0x93

static u8 mem[MEM_SIZE];
static struct vp_sregs sregs;
static struct vp vp;
static unsigned reads; /* of guest memory */

static void fake_get_sregs(struct vp *v, struct vp_sregs *s)
{
	*s = sregs;
}

static const struct vp_ops fake_ops = {.name = "fake", .vp_get_sregs = fake_get_sregs};
const struct vp_ops *vendor_ops = &fake_ops;

static int fake_read(void *ctx, u64 gpa, void *buf, unsigned len)
{
	assert_ptr_equal(ctx, mem);
	reads++;
	if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
		return -1;
	memcpy(buf, mem + gpa, len);
	return 0;
}

/* The device: a log of accesses, and what reads return. */
struct access {
	u64 gpa;
	unsigned size;
	bool write;
	u64 val;
};
static struct access log[4];
static unsigned nr_log;
static u64 device_value;

static void device(void *ctx, u64 gpa, unsigned size, bool write, u64 *val)
{
	assert_ptr_equal(ctx, &device_value);
	assert_true(nr_log < 4);
	if (!write)
		*val = device_value & (size == 8 ? ~0ull : (1ull << (8 * size)) - 1);
	log[nr_log++] = (struct access){gpa, size, write, *val};
}

static int setup(void **state)
{
	memset(mem, 0, sizeof(mem));
	memset(&vp, 0, sizeof(vp));
	vp.guest.read = fake_read;
	vp.guest.read_ctx = mem;
	vp.regs.gpr[REG_RAX] = RAX_INIT;
	vp.regs.rflags = RFLAGS_RESERVED1;
	sregs = (struct vp_sregs){0};
	sregs.cs =
	    (struct vp_seg){.sel = 0x100, .attr = CODE_ATTR, .limit = 0xffff, .base = 0x1000};
	sregs.ss = (struct vp_seg){.attr = DATA_ATTR, .limit = 0xffff};
	sregs.cr0 = CR0_ET; /* real mode */
	nr_log = 0;
	reads = 0;
	device_value = 0;
	return 0;
}

/* Put bytes at linear (= physical here) address la and point CS:RIP at them. */
static void code_at(u64 la, const u8 *bytes, unsigned n)
{
	memcpy(mem + la, bytes, n);
	vp.regs.rip = la - sregs.cs.base;
}
#define CODE(la, ...) code_at(la, (const u8[]){__VA_ARGS__}, sizeof((const u8[]){__VA_ARGS__}))

static int emulate(char *why, size_t whylen)
{
	return arch_mmio_emulate(&vp, MMIO_GPA, device, &device_value, why, whylen);
}

static void test_real_mode_store(void **state)
{
	char why[80];

	CODE(0x1010, 0x89, 0x07); /* mov %ax,(%bx) */
	assert_int_equal(emulate(why, sizeof(why)), 0);
	assert_int_equal(nr_log, 1);
	assert_true(log[0].write);
	assert_int_equal(log[0].gpa, MMIO_GPA);
	assert_int_equal(log[0].size, 2);
	assert_int_equal(log[0].val, 0x7788);
	assert_int_equal(vp.regs.rip, 0x12); /* CS.base is not part of IP */
	assert_true(reads > 0);
}

static void test_real_mode_load_merges(void **state)
{
	char why[80];

	device_value = 0xbeef;
	CODE(0x1010, 0x8b, 0x07); /* mov (%bx),%ax */
	assert_int_equal(emulate(why, sizeof(why)), 0);
	assert_int_equal(nr_log, 1);
	assert_false(log[0].write);
	assert_int_equal(log[0].size, 2);
	assert_int_equal(vp.regs.gpr[REG_RAX], 0x112233445566beefull); /* 16-bit write merges */
	assert_int_equal(vp.regs.rip, 0x12);
}

static void test_protected_mode_load_zero_extends(void **state)
{
	char why[80];

	sregs.cr0 = CR0_PE | CR0_ET;
	sregs.cs = (struct vp_seg){.sel = 8, .attr = 0xc09b, .limit = 0xffffffff, .base = 0x2000};
	device_value = 0xdeadbeef;
	CODE(0x2400, 0x8b, 0x03); /* mov (%ebx),%eax */
	assert_int_equal(emulate(why, sizeof(why)), 0);
	assert_int_equal(log[0].size, 4);
	assert_int_equal(vp.regs.gpr[REG_RAX], 0xdeadbeefull); /* 32-bit write zeroes 63:32 */
	assert_int_equal(vp.regs.rip, 0x402);
}

/* 64-bit mode: the instruction is found through the guest's page tables (a 2 MiB identity page). */
static void test_long_mode_fetch_through_page_tables(void **state)
{
	char why[80];
	u64 e;

	e = PDPT_GPA | PTE_P | PTE_RW;
	memcpy(mem + PML4_GPA, &e, 8);
	e = PD_GPA | PTE_P | PTE_RW;
	memcpy(mem + PDPT_GPA, &e, 8);
	e = 0 | PTE_P | PTE_RW | PTE_PS;
	memcpy(mem + PD_GPA, &e, 8);
	sregs.cr0 = CR0_PE | CR0_ET | CR0_PG;
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	sregs.cs = (struct vp_seg){.sel = 8, .attr = 0xa09b, .limit = 0xffffffff, .base = 0};
	CODE(0x8000, 0x48, 0x89, 0x03); /* mov %rax,(%rbx) */
	assert_int_equal(emulate(why, sizeof(why)), 0);
	assert_int_equal(nr_log, 1);
	assert_int_equal(log[0].size, 8);
	assert_int_equal(log[0].val, RAX_INIT);
	assert_int_equal(vp.regs.rip, 0x8003);

	/* Without the PD entry the fetch fails, and nothing is accessed. */
	memset(mem + PD_GPA, 0, 8);
	nr_log = 0;
	vp.regs.rip = 0x8000;
	assert_int_equal(emulate(why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot fetch"));
	assert_int_equal(nr_log, 0);
	assert_int_equal(vp.regs.rip, 0x8000);
}

static void test_xchg_reads_then_writes(void **state)
{
	char why[80];

	device_value = 0x4242;
	CODE(0x1010, 0x87, 0x07); /* xchg %ax,(%bx) */
	assert_int_equal(emulate(why, sizeof(why)), 0);
	assert_int_equal(nr_log, 2);
	assert_false(log[0].write);
	assert_true(log[1].write);
	assert_int_equal(log[1].val, 0x7788);
	assert_int_equal(vp.regs.gpr[REG_RAX], 0x1122334455664242ull);
}

static void test_failures_leave_the_vp_alone(void **state)
{
	char why[80];

	CODE(0x1010, 0x90); /* nop: not a memory access */
	assert_int_equal(emulate(why, sizeof(why)), -1);
	assert_non_null(strstr(why, "0x90"));
	assert_int_equal(nr_log, 0);
	assert_int_equal(vp.regs.rip, 0x10);

	/* CS:IP outside guest memory: guest.read fails. */
	sregs.cs.base = MEM_SIZE;
	vp.regs.rip = 0;
	assert_int_equal(emulate(why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot fetch"));
	assert_int_equal(nr_log, 0);
	assert_int_equal(vp.regs.rip, 0);
}

static void test_at_hlt(void **state)
{
	CODE(0x1010, 0xf4); /* hlt */
	assert_true(arch_at_hlt(&vp));
	mem[0x1010] = 0x90;
	assert_false(arch_at_hlt(&vp));

	/* In protected mode HLT outside ring 0, or in virtual-8086 mode, is #GP, not a halt. */
	mem[0x1010] = 0xf4;
	sregs.cr0 = CR0_PE | CR0_ET;
	assert_true(arch_at_hlt(&vp));
	sregs.ss.attr = DATA_ATTR | (3 << 5);
	assert_false(arch_at_hlt(&vp));
	sregs.ss.attr = DATA_ATTR;
	vp.regs.rflags |= RFLAGS_VM;
	assert_false(arch_at_hlt(&vp));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_real_mode_store, setup),
	    cmocka_unit_test_setup(test_real_mode_load_merges, setup),
	    cmocka_unit_test_setup(test_protected_mode_load_zero_extends, setup),
	    cmocka_unit_test_setup(test_long_mode_fetch_through_page_tables, setup),
	    cmocka_unit_test_setup(test_xchg_reads_then_writes, setup),
	    cmocka_unit_test_setup(test_failures_leave_the_vp_alone, setup),
	    cmocka_unit_test_setup(test_at_hlt, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
