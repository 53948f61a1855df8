/* The virtual x2APIC and I/O APIC: priorities, EOI, timer, routing, level-triggered pins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/vioapic.h"
#include "kernel/vlapic.h"

#define TSC_HZ	     1000000000ull /* 1 GHz: 10 TSC cycles per APIC bus tick */
#define X2_TPR	     0x808
#define X2_PPR	     0x80a
#define X2_EOI	     0x80b
#define X2_SVR	     0x80f
#define X2_ISR0	     0x810
#define X2_IRR0	     0x820
#define X2_ICR	     0x830
#define X2_LVT_TIMER 0x832
#define X2_INITIAL   0x838
#define X2_CURRENT   0x839
#define X2_DIVIDE    0x83e
#define X2_SELF_IPI  0x83f

static struct vlapic l;
static struct vioapic io;

static void on_eoi(void *ctx, u8 vector)
{
	vioapic_eoi(ctx, vector);
}

static int setup(void **state)
{
	vlapic_init(&l, 0, TSC_HZ, on_eoi, &io);
	vioapic_init(&io, 1, &l);
	assert_true(vlapic_msr_write(&l, X2_SVR, 0, 0x1ff));
	return 0;
}

static u64 rd(u32 msr, u64 now)
{
	u64 v = 0;

	assert_true(vlapic_msr_read(&l, msr, now, &v));
	return v;
}

static void take(int vector)
{
	assert_int_equal(vlapic_pending(&l), vector);
	vlapic_accept(&l, (u8)vector);
}

static void test_priority_and_eoi(void **state)
{
	vlapic_set_irq(&l, 0x31, false);
	vlapic_set_irq(&l, 0x51, false);
	take(0x51);
	/* 0x31 is a lower class than the one in service: it waits. */
	assert_int_equal(vlapic_pending(&l), -1);
	assert_int_equal(rd(X2_PPR, 0), 0x50);
	assert_int_equal(rd(X2_ISR0 + 2, 0), 1u << (0x51 - 64));
	assert_true(vlapic_msr_write(&l, X2_EOI, 0, 0));
	take(0x31);
	/* TPR masks a class and below. */
	assert_true(vlapic_msr_write(&l, X2_EOI, 0, 0));
	assert_true(vlapic_msr_write(&l, X2_TPR, 0, 0x40));
	vlapic_set_irq(&l, 0x45, false);
	assert_int_equal(vlapic_pending(&l), -1);
	assert_int_equal(rd(X2_IRR0 + 2, 0), 1u << (0x45 - 64));
	vlapic_set_irq(&l, 0x50, false);
	take(0x50);
}

static void test_register_access_rules(void **state)
{
	u64 v;

	assert_false(vlapic_msr_write(&l, X2_EOI, 0, 1)); /* non-zero EOI: #GP */
	assert_false(vlapic_msr_read(&l, X2_EOI, 0, &v)); /* write-only */
	assert_false(vlapic_msr_read(&l, X2_SELF_IPI, 0, &v));
	assert_false(vlapic_msr_write(&l, X2_PPR, 0, 0)); /* read-only */
	assert_false(vlapic_msr_write(&l, 0x804, 0, 0));  /* reserved */
	assert_false(vlapic_msr_read(&l, 0x8ff, 0, &v));
	assert_false(vlapic_msr_write(&l, X2_TPR, 0, 1ull << 32)); /* reserved high half */
	assert_int_equal(rd(0x802, 0), 0);			   /* id */
	assert_int_equal(rd(0x80d, 0), 1); /* logical id: cluster 0, bit 0 */
}

static void test_software_disable_masks(void **state)
{
	vlapic_set_irq(&l, 0x40, false);
	assert_true(vlapic_msr_write(&l, X2_SVR, 0, 0xff));
	assert_int_equal(vlapic_pending(&l), -1);
	assert_true(vlapic_msr_write(&l, X2_LVT_TIMER, 0, 0x20));
	assert_int_equal(rd(X2_LVT_TIMER, 0) & (1u << 16), 1u << 16);
	/* Illegal vectors are dropped. */
	assert_true(vlapic_msr_write(&l, X2_SVR, 0, 0x1ff));
	vlapic_set_irq(&l, 3, false);
	take(0x40);
	assert_int_equal(vlapic_pending(&l), -1);
}

static void test_self_ipi_and_icr(void **state)
{
	assert_true(vlapic_msr_write(&l, X2_SELF_IPI, 0, 0x61));
	take(0x61);
	assert_true(vlapic_msr_write(&l, X2_EOI, 0, 0));
	/* ICR: fixed, shorthand "self". */
	assert_true(vlapic_msr_write(&l, X2_ICR, 0, (1u << 18) | 0x62));
	take(0x62);
	assert_true(vlapic_msr_write(&l, X2_EOI, 0, 0));
	/* To another APIC id: nobody there. */
	assert_true(vlapic_msr_write(&l, X2_ICR, 0, (5ull << 32) | 0x63));
	assert_int_equal(vlapic_pending(&l), -1);
	assert_int_equal(rd(X2_ICR, 0), (5ull << 32) | 0x63);
}

static void test_one_shot_timer(void **state)
{
	u64 t0 = 1000;

	assert_true(vlapic_msr_write(&l, X2_DIVIDE, t0, 0x1)); /* divide by 4 */
	assert_true(vlapic_msr_write(&l, X2_LVT_TIMER, t0, 0x30));
	assert_true(vlapic_msr_write(&l, X2_INITIAL, t0, 1000));
	/* 1000 ticks * 4 * 10 TSC cycles = 40000 cycles. */
	assert_int_equal(vlapic_deadline(&l), t0 + 40000);
	assert_int_equal(rd(X2_CURRENT, t0 + 20000), 500);
	vlapic_tick(&l, t0 + 39999);
	assert_int_equal(vlapic_pending(&l), -1);
	vlapic_tick(&l, t0 + 40000);
	take(0x30);
	assert_int_equal(vlapic_deadline(&l), ~0ull);
	assert_int_equal(rd(X2_CURRENT, t0 + 50000), 0);
}

static void test_periodic_timer_catches_up(void **state)
{
	assert_true(vlapic_msr_write(&l, X2_DIVIDE, 0, 0xb)); /* divide by 1 */
	assert_true(vlapic_msr_write(&l, X2_LVT_TIMER, 0, (1u << 17) | 0x30));
	assert_true(vlapic_msr_write(&l, X2_INITIAL, 0, 100)); /* every 1000 cycles */
	vlapic_tick(&l, 1000);
	assert_int_equal(vlapic_deadline(&l), 2000);
	take(0x30);
	assert_true(vlapic_msr_write(&l, X2_EOI, 0, 0));
	/* Scheduled out for 5.5 periods: one interrupt, and the next on the period grid. */
	vlapic_tick(&l, 7500);
	take(0x30);
	assert_int_equal(vlapic_deadline(&l), 8000);
	assert_int_equal(rd(X2_CURRENT, 7500), 50);
	/* Writing 0 stops it. */
	assert_true(vlapic_msr_write(&l, X2_INITIAL, 7600, 0));
	assert_int_equal(vlapic_deadline(&l), ~0ull);
	assert_int_equal(l.timer_fired, 2);
}

static void test_masked_timer_does_not_interrupt(void **state)
{
	assert_true(vlapic_msr_write(&l, X2_LVT_TIMER, 0, (1u << 16) | 0x30));
	assert_true(vlapic_msr_write(&l, X2_INITIAL, 0, 10));
	vlapic_tick(&l, 1000000);
	assert_int_equal(vlapic_pending(&l), -1);
	assert_int_equal(l.timer_fired, 1);
}

/* IOAPIC MMIO helpers: IOREGSEL at 0, IOWIN at 0x10. */
static void io_write(u32 reg, u32 v)
{
	vioapic_mmio(&io, 0, true, &reg);
	vioapic_mmio(&io, 0x10, true, &v);
}

static u32 io_read(u32 reg)
{
	u32 v = 0;

	vioapic_mmio(&io, 0, true, &reg);
	vioapic_mmio(&io, 0x10, false, &v);
	return v;
}

static void test_ioapic_registers(void **state)
{
	assert_int_equal(io_read(1), 0x00170011); /* 24 pins, version 0x11 */
	assert_int_equal(io_read(0) >> 24, 1);
	assert_int_equal(io_read(0x10 + 2 * 4), 1u << 16); /* masked at reset */
	io_write(0x10 + 2 * 4, 0x34);
	io_write(0x11 + 2 * 4, 0);
	assert_int_equal(io_read(0x10 + 2 * 4), 0x34);
	/* Delivery status and Remote IRR are read-only. */
	io_write(0x10 + 2 * 4, 0x34 | (1u << 12) | (1u << 14));
	assert_int_equal(io_read(0x10 + 2 * 4), 0x34);
	/* Beyond the table: reads 0, writes vanish. */
	io_write(0x10 + 2 * 30, 0x55);
	assert_int_equal(io_read(0x10 + 2 * 30), 0);
	u32 v = 0x1234;
	vioapic_mmio(&io, 0x20, false, &v);
	assert_int_equal(v, 0);
}

static void test_ioapic_edge(void **state)
{
	io_write(0x10 + 2 * 4, 0x34); /* edge, active high, unmasked */
	vioapic_set_pin(&io, 4, true);
	take(0x34);
	vlapic_msr_write(&l, X2_EOI, 0, 0);
	/* Held high: no second interrupt until it falls and rises again. */
	vioapic_set_pin(&io, 4, true);
	assert_int_equal(vlapic_pending(&l), -1);
	vioapic_set_pin(&io, 4, false);
	vioapic_set_pin(&io, 4, true);
	take(0x34);
	assert_int_equal(io.delivered, 2);
	/* Masked pins stay quiet. */
	io_write(0x10 + 2 * 5, (1u << 16) | 0x35);
	vioapic_set_pin(&io, 5, true);
	assert_int_equal(vlapic_pending(&l), -1);
}

static void test_ioapic_level_remote_irr(void **state)
{
	io_write(0x10 + 2 * 9, (1u << 15) | 0x39); /* level, active high */
	vioapic_set_pin(&io, 9, true);
	take(0x39);
	assert_true(io_read(0x10 + 2 * 9) & (1u << 14)); /* Remote IRR */
	vioapic_set_pin(&io, 9, true);
	assert_int_equal(vlapic_pending(&l), -1);
	/* EOI with the line still asserted: delivered again. */
	vlapic_msr_write(&l, X2_EOI, 0, 0);
	take(0x39);
	vioapic_set_pin(&io, 9, false);
	vlapic_msr_write(&l, X2_EOI, 0, 0);
	assert_false(io_read(0x10 + 2 * 9) & (1u << 14));
	assert_int_equal(vlapic_pending(&l), -1);
	/* Active low, edge: the falling line is the edge. */
	io_write(0x10 + 2 * 10, (1u << 13) | 0x3a);
	vioapic_set_pin(&io, 10, true);
	assert_int_equal(vlapic_pending(&l), -1);
	vioapic_set_pin(&io, 10, false);
	take(0x3a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_priority_and_eoi, setup),
	    cmocka_unit_test_setup(test_register_access_rules, setup),
	    cmocka_unit_test_setup(test_software_disable_masks, setup),
	    cmocka_unit_test_setup(test_self_ipi_and_icr, setup),
	    cmocka_unit_test_setup(test_one_shot_timer, setup),
	    cmocka_unit_test_setup(test_periodic_timer_catches_up, setup),
	    cmocka_unit_test_setup(test_masked_timer_does_not_interrupt, setup),
	    cmocka_unit_test_setup(test_ioapic_registers, setup),
	    cmocka_unit_test_setup(test_ioapic_edge, setup),
	    cmocka_unit_test_setup(test_ioapic_level_remote_irr, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
