/*
 * Interrupt routing of a partition (kernel/irq.c) on the host, with the real
 * LAPIC, I/O APIC, SynIC and Hyper-V timers under it: device lines through
 * the I/O APIC (edge and level, the EOI back to it), what irq_deliver asks
 * of the VP (inject, or an interrupt window) and in which order, the rule
 * that a VP stopped at HLT executes it before the interrupt, SynIC auto-EOI,
 * timers waking an idle VP, and the next deadline. The VP is a fake that
 * records every call; time is a fake TSC.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/arch.h"
#include "kernel/con.h"
#include "kernel/irq.h"
#include "kernel/part.h"

/*
 * 2^7 * 10^7 Hz: reference time (100 ns units, TLFS 12.1) is exactly 128 TSC
 * ticks a unit, a LAPIC bus tick (10 ns) 12.8, so the deadlines below are exact.
 */
#define TSC_HZ	  1280000000ull
#define TSC_START (40000ull * 128)

/* x2APIC MSRs (SDM Vol.3 table 11-6) and bits (11.5.1, 11.9). */
#define X2_TPR		 0x808
#define X2_EOI		 0x80b
#define X2_SVR		 0x80f
#define X2_LVT_TIMER	 0x832
#define X2_TIMER_INITIAL 0x838
#define X2_TIMER_DIVIDE	 0x83e
#define SVR_ENABLE	 0x100
#define DIVIDE_BY_1	 0xb
#define LVT_MASKED	 (1u << 16)

/* I/O APIC window and redirection entry bits (82093AA data sheet 3.1, 3.2.4). */
#define IOREGSEL	0x00
#define IOWIN		0x10
#define IOAPIC_REDIR(n) (0x10 + 2 * (n))
#define RTE_LEVEL	(1u << 15)
#define RTE_REMOTE_IRR	(1u << 14)

/* ---- doubles for what irq.c and the devices call outside the units under test ---- */
static struct partition part;
static u64 fake_tsc;
static bool fake_ready, fake_at_hlt;
static unsigned at_hlt_asks;
static char log_buf[2048];
static size_t log_len;
static u8 ram[2][PAGE_SIZE] __aligned(4096);

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
}

u64 arch_rdtsc(void)
{
	return fake_tsc;
}

u64 arch_tsc_hz(void)
{
	return TSC_HZ;
}

bool arch_at_hlt(struct vp *vp)
{
	assert_ptr_equal(vp, &part.vp);
	at_hlt_asks++;
	return fake_at_hlt;
}

void *part_gpa_to_hva(struct partition *p, u64 gpa, u64 len)
{
	if (gpa >= sizeof(ram) || len > PAGE_SIZE - (gpa & ~PAGE_MASK))
		return NULL;
	return ram[gpa >> PAGE_SHIFT] + (gpa & ~PAGE_MASK);
}

void *part_gpa_peek(struct partition *p, u64 gpa, u64 len)
{
	return part_gpa_to_hva(p, gpa, len);
}

void con_printf(const char *fmt, ...)
{
}

void con_flush_guest_line(struct partition *p)
{
}

static bool is_set(const u64 *map, unsigned v)
{
	return map[v / 64] & (1ull << (v % 64));
}

static bool fake_irq_ready(struct vp *vp)
{
	assert_ptr_equal(vp, &part.vp);
	return fake_ready;
}

static void fake_inject_irq(struct vp *vp, u8 vector)
{
	assert_ptr_equal(vp, &part.vp);
	/* Taken by the LAPIC before it goes in: in service, no longer requested. */
	assert_false(is_set(part.lapic.irr, vector));
	note("inject:%#x%s ", vector, is_set(part.lapic.isr, vector) ? "" : "(not in ISR)");
}

static void fake_irq_window(struct vp *vp, bool on)
{
	assert_ptr_equal(vp, &part.vp);
	note("window:%d ", on);
}

static const struct vp_ops fake_ops = {
    .name = "fake",
    .vp_irq_ready = fake_irq_ready,
    .vp_inject_irq = fake_inject_irq,
    .vp_irq_window = fake_irq_window,
};
const struct vp_ops *vp_ops = &fake_ops;

/* ---- helpers ---- */

static void lapic_write(u32 msr, u64 val)
{
	assert_true(vlapic_msr_write(&part.lapic, msr, fake_tsc, val));
}

static void hv_write(u32 msr, u64 val)
{
	bool ok = false;

	assert_true(hv_msr_write(&part.vp, msr, val, &ok));
	assert_true(ok);
}

static void ioapic_write(u32 reg, u32 val)
{
	u32 sel = reg;

	vioapic_mmio(&part.ioapic, IOREGSEL, true, &sel);
	vioapic_mmio(&part.ioapic, IOWIN, true, &val);
}

static u32 ioapic_read(u32 reg)
{
	u32 val = 0;

	vioapic_mmio(&part.ioapic, IOREGSEL, true, &reg);
	vioapic_mmio(&part.ioapic, IOWIN, false, &val);
	return val;
}

/* irq_deliver once; what the VP was asked, as "inject:0x30 window:0 ". */
static const char *deliver(void)
{
	log_clear();
	irq_deliver(&part);
	return log_buf;
}

static int setup(void **state)
{
	memset(&part, 0, sizeof(part));
	snprintf(part.name, sizeof(part.name), "t");
	part.vp.part = &part;
	part.vp.regs.rip = 0x1000;
	part.mem_size = sizeof(ram);
	fake_tsc = TSC_START;
	fake_ready = true;
	fake_at_hlt = false;
	at_hlt_asks = 0;
	irq_init(&part);
	hv_init(&part, fake_tsc);
	/* The guest enables its LAPIC; a Hyper-V guest says who it is. */
	lapic_write(X2_SVR, SVR_ENABLE | 0xff);
	hv_write(HV_MSR_GUEST_OS_ID, 0x8100000000000000ull);
	log_clear();
	return 0;
}

/* ---- injection ---- */

static void test_nothing_pending_closes_the_window(void **state)
{
	assert_string_equal(deliver(), "window:0 ");
	fake_ready = false;
	assert_string_equal(deliver(), "window:0 ");
	/* Nothing was asked of the guest's code either. */
	assert_int_equal(at_hlt_asks, 0);
	assert_int_equal(part.vp.regs.rip, 0x1000);
}

static void test_highest_priority_first_then_after_eoi(void **state)
{
	vlapic_set_irq(&part.lapic, 0x31, false);
	vlapic_set_irq(&part.lapic, 0x51, false);
	vlapic_set_irq(&part.lapic, 0x52, false);
	assert_string_equal(deliver(), "inject:0x52 window:0 ");
	/* 0x51 is of the same priority class as 0x52, in service: it waits (SDM 11.8.3). */
	assert_string_equal(deliver(), "window:0 ");
	lapic_write(X2_EOI, 0);
	assert_string_equal(deliver(), "inject:0x51 window:0 ");
	lapic_write(X2_EOI, 0);
	assert_string_equal(deliver(), "inject:0x31 window:0 ");
	lapic_write(X2_EOI, 0);
	assert_string_equal(deliver(), "window:0 ");
	assert_int_equal(part.vp.regs.rip, 0x1000);
}

static void test_task_priority_holds_back(void **state)
{
	vlapic_set_irq(&part.lapic, 0x45, false);
	lapic_write(X2_TPR, 0x50);
	assert_string_equal(deliver(), "window:0 ");
	lapic_write(X2_TPR, 0x30);
	assert_string_equal(deliver(), "inject:0x45 window:0 ");
}

static void test_not_ready_asks_for_a_window(void **state)
{
	fake_at_hlt = true;
	fake_ready = false;
	vlapic_set_irq(&part.lapic, 0x40, false);
	assert_string_equal(deliver(), "window:1 ");
	/* Still requested, not taken; the VP did not move. */
	assert_true(is_set(part.lapic.irr, 0x40));
	assert_false(is_set(part.lapic.isr, 0x40));
	assert_int_equal(part.vp.regs.rip, 0x1000);
	assert_int_equal(at_hlt_asks, 0);
	/* The window came: now it goes in, and the window is closed. */
	fake_ready = true;
	assert_string_equal(deliver(), "inject:0x40 window:0 ");
}

static void test_hlt_is_executed_before_the_interrupt(void **state)
{
	/* At a HLT: it is stepped over, so the handler returns after it (SDM Vol.3 6.8.3). */
	fake_at_hlt = true;
	vlapic_set_irq(&part.lapic, 0x40, false);
	assert_string_equal(deliver(), "inject:0x40 window:0 ");
	assert_int_equal(part.vp.regs.rip, 0x1001);
	assert_int_equal(at_hlt_asks, 1);
	/* Anywhere else RIP stays. */
	fake_at_hlt = false;
	lapic_write(X2_EOI, 0);
	vlapic_set_irq(&part.lapic, 0x41, false);
	assert_string_equal(deliver(), "inject:0x41 window:0 ");
	assert_int_equal(part.vp.regs.rip, 0x1001);
	assert_int_equal(at_hlt_asks, 2);
}

static void test_synic_auto_eoi(void **state)
{
	/* SINT2 with auto-EOI at 0x40 (TLFS 11.8.3): out of service as soon as it is taken. */
	hv_write(HV_MSR_SINT0 + 2, 0x40 | HV_SINT_AUTO_EOI);
	vlapic_set_irq(&part.lapic, 0x40, false);
	assert_string_equal(deliver(), "inject:0x40(not in ISR) window:0 ");
	/* So a lower vector comes next without an EOI. */
	vlapic_set_irq(&part.lapic, 0x38, false);
	assert_string_equal(deliver(), "inject:0x38 window:0 ");
	assert_true(is_set(part.lapic.isr, 0x38));

	/* A masked SINT has no auto-EOI: 0x40 stays in service and holds 0x39 back. */
	lapic_write(X2_EOI, 0);
	hv_write(HV_MSR_SINT0 + 2, 0x40 | HV_SINT_AUTO_EOI | HV_SINT_MASKED);
	vlapic_set_irq(&part.lapic, 0x40, false);
	assert_string_equal(deliver(), "inject:0x40 window:0 ");
	vlapic_set_irq(&part.lapic, 0x39, false);
	assert_string_equal(deliver(), "window:0 ");
	/* Nor has a vector no SINT names. */
	lapic_write(X2_EOI, 0);
	hv_write(HV_MSR_SINT0 + 2, 0x40 | HV_SINT_AUTO_EOI);
	vlapic_set_irq(&part.lapic, 0x41, false);
	assert_string_equal(deliver(), "inject:0x41 window:0 ");
	assert_true(is_set(part.lapic.isr, 0x41));
}

/* ---- device lines ---- */

static void test_edge_line_through_the_ioapic(void **state)
{
	/* The I/O APIC follows the CPU's APIC id (irq.c: one VP, id 1). */
	assert_int_equal(ioapic_read(0) >> 24, 1);
	/* Masked after reset: a line does nothing. */
	irq_set_line(&part, IRQ_COM1, true);
	irq_set_line(&part, IRQ_COM1, false);
	assert_string_equal(deliver(), "window:0 ");
	/* Pin 4 edge-triggered to vector 0x34: one interrupt per rising edge. */
	ioapic_write(IOAPIC_REDIR(IRQ_COM1), 0x34);
	ioapic_write(IOAPIC_REDIR(IRQ_COM1) + 1, 0);
	irq_set_line(&part, IRQ_COM1, true);
	irq_set_line(&part, IRQ_COM1, true);
	assert_string_equal(deliver(), "inject:0x34 window:0 ");
	lapic_write(X2_EOI, 0);
	assert_string_equal(deliver(), "window:0 ");
	irq_set_line(&part, IRQ_COM1, false);
	irq_set_line(&part, IRQ_COM1, true);
	assert_string_equal(deliver(), "inject:0x34 window:0 ");
	/* Another pin is another line. */
	irq_set_line(&part, 3, true);
	lapic_write(X2_EOI, 0);
	assert_string_equal(deliver(), "window:0 ");
}

static void test_level_line_and_its_eoi(void **state)
{
	ioapic_write(IOAPIC_REDIR(IRQ_COM1), 0x34 | RTE_LEVEL);
	irq_set_line(&part, IRQ_COM1, true);
	assert_string_equal(deliver(), "inject:0x34 window:0 ");
	assert_true(ioapic_read(IOAPIC_REDIR(IRQ_COM1)) & RTE_REMOTE_IRR);
	/* The line is still up at the EOI: the LAPIC tells the I/O APIC, which sends it again. */
	lapic_write(X2_EOI, 0);
	assert_string_equal(deliver(), "inject:0x34 window:0 ");
	/* Dropped before the EOI: Remote IRR clears, nothing more. */
	irq_set_line(&part, IRQ_COM1, false);
	lapic_write(X2_EOI, 0);
	assert_false(ioapic_read(IOAPIC_REDIR(IRQ_COM1)) & RTE_REMOTE_IRR);
	assert_string_equal(deliver(), "window:0 ");
	assert_int_equal(part.ioapic.delivered, 2);
}

/* ---- timers ---- */

static void test_lapic_timer_wakes_an_idle_vp(void **state)
{
	assert_int_equal(irq_next_deadline(&part), ~0ull);
	/* One-shot at vector 0x60 after 1000 bus ticks of 10 ns: 12800 TSC ticks. */
	lapic_write(X2_TIMER_DIVIDE, DIVIDE_BY_1);
	lapic_write(X2_LVT_TIMER, 0x60);
	lapic_write(X2_TIMER_INITIAL, 1000);
	assert_int_equal(irq_next_deadline(&part), TSC_START + 12800);
	part.idle = true;
	irq_tick(&part, TSC_START + 12799);
	assert_true(part.idle);
	assert_string_equal(deliver(), "window:0 ");
	irq_tick(&part, TSC_START + 12800);
	assert_false(part.idle);
	assert_int_equal(irq_next_deadline(&part), ~0ull);
	assert_string_equal(deliver(), "inject:0x60 window:0 ");
}

static void test_idle_stays_idle_without_an_interrupt(void **state)
{
	/* The timer fires masked: nothing to take, the VP sleeps on. */
	lapic_write(X2_TIMER_DIVIDE, DIVIDE_BY_1);
	lapic_write(X2_LVT_TIMER, 0x60 | LVT_MASKED);
	lapic_write(X2_TIMER_INITIAL, 10);
	part.idle = true;
	irq_tick(&part, TSC_START + 1000);
	assert_int_equal(part.lapic.timer_fired, 1);
	assert_true(part.idle);
	/* An interrupt held back by the TPR does not wake it either; one above does. */
	lapic_write(X2_TPR, 0x80);
	vlapic_set_irq(&part.lapic, 0x70, false);
	irq_tick(&part, TSC_START + 2000);
	assert_true(part.idle);
	vlapic_set_irq(&part.lapic, 0x90, false);
	irq_tick(&part, TSC_START + 3000);
	assert_false(part.idle);
}

static void test_stimer_wakes_and_sets_the_deadline(void **state)
{
	/* Direct-mode synthetic timer 0 at vector 0x70, due at reference time 50 (5 us, 6400). */
	hv_write(HV_MSR_STIMER0_CONFIG + 1, 50);
	hv_write(HV_MSR_STIMER0_CONFIG,
		 HV_STIMER_ENABLE | HV_STIMER_DIRECT | (0x70ull << HV_STIMER_VECTOR_SHIFT));
	assert_int_equal(irq_next_deadline(&part), TSC_START + 6400);
	/* A LAPIC timer due earlier comes first, one due later does not. */
	lapic_write(X2_TIMER_DIVIDE, DIVIDE_BY_1);
	lapic_write(X2_LVT_TIMER, 0x60);
	lapic_write(X2_TIMER_INITIAL, 100);
	assert_int_equal(irq_next_deadline(&part), TSC_START + 1280);
	lapic_write(X2_TIMER_INITIAL, 1000);
	assert_int_equal(irq_next_deadline(&part), TSC_START + 6400);

	part.idle = true;
	irq_tick(&part, TSC_START + 6399);
	assert_true(part.idle);
	irq_tick(&part, TSC_START + 6400);
	assert_false(part.idle);
	assert_int_equal(part.hv.synic.timer[0].expirations, 1);
	assert_int_equal(irq_next_deadline(&part), TSC_START + 12800);
	assert_string_equal(deliver(), "inject:0x70 window:0 ");
	/* The one-shot stimer is done; the LAPIC timer is the last event. */
	lapic_write(X2_EOI, 0);
	irq_tick(&part, TSC_START + 12800);
	assert_int_equal(irq_next_deadline(&part), ~0ull);
	assert_string_equal(deliver(), "inject:0x60 window:0 ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_nothing_pending_closes_the_window, setup),
	    cmocka_unit_test_setup(test_highest_priority_first_then_after_eoi, setup),
	    cmocka_unit_test_setup(test_task_priority_holds_back, setup),
	    cmocka_unit_test_setup(test_not_ready_asks_for_a_window, setup),
	    cmocka_unit_test_setup(test_hlt_is_executed_before_the_interrupt, setup),
	    cmocka_unit_test_setup(test_synic_auto_eoi, setup),
	    cmocka_unit_test_setup(test_edge_line_through_the_ioapic, setup),
	    cmocka_unit_test_setup(test_level_line_and_its_eoi, setup),
	    cmocka_unit_test_setup(test_lapic_timer_wakes_an_idle_vp, setup),
	    cmocka_unit_test_setup(test_idle_stays_idle_without_an_interrupt, setup),
	    cmocka_unit_test_setup(test_stimer_wakes_and_sets_the_deadline, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
