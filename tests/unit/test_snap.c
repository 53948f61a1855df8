/*
 * Partition snapshot records (kernel/snap_state.h): each device's save and
 * load with round trips, the framing and its growth rule (an older UART
 * record kept below as bytes), and records refused for being corrupt,
 * short, of an unknown version or kind, or holding a field out of range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/hv.h"
#include "kernel/part.h"
#include "kernel/snap_state.h"
#include "kernel/synic.h"
#include "kernel/uart.h"
#include "kernel/vioapic.h"
#include "kernel/vlapic.h"

#define TSC_HZ 1000000000ull

static char err[128];

/*
 * A UART record as version 1.0 wrote it: the registers only (ier 0x05, lcr
 * 0x03, mcr 0x0b, scr 0x5a, dll 1, dlm 0, fcr 0xc7, THR interrupt pending),
 * no receive FIFO. The CRC was computed with Python's zlib.crc32, not with
 * the code under test.
 */
static const u8 uart_v1_0[] = {
    0x55, 0x41, 0x52, 0x54, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
    0x43, 0xfa, 0x4e, 0x4f, 0x05, 0x03, 0x0b, 0x5a, 0x01, 0x00, 0xc7, 0x01,
};

/* ---- guest pages for the SynIC ---- */

static u8 guest_page[2][4096] __attribute__((aligned(4096)));

static void *fake_page(void *ctx, u64 gpa)
{
	if (gpa == 0x5000)
		return guest_page[0];
	if (gpa == 0x6000)
		return guest_page[1];
	return NULL;
}

static unsigned raised;

static void fake_raise(void *ctx, u8 vector)
{
	raised++;
}

static const struct synic_env env = {fake_page, fake_raise, NULL};

/* ---- helpers ---- */

/* One record of t with body, framed, in buf; its length. */
static u32 frame(u8 *buf, u32 cap, const struct snap_rec_type *t, const void *body)
{
	u32 len = 0;

	assert_int_equal(snap_rec_put(buf, cap, &len, t, body), 0);
	assert_int_equal(len, sizeof(struct snap_rec_header) + t->sizes[t->minor]);
	return len;
}

/* Read buf back as the one record of t. */
static int parse_one(const u8 *buf, u32 len, const struct snap_rec_type *t, void *out)
{
	void *const outs[] = {out};

	err[0] = 0;
	return snap_recs_parse(buf, len, &t, outs, 1, err, sizeof(err));
}

static void refresh_crc(u8 *buf)
{
	struct snap_rec_header h;

	memcpy(&h, buf, sizeof(h));
	h.crc = snap_crc32(buf + sizeof(h), h.length);
	memcpy(buf, &h, sizeof(h));
}

/* ---- round trips ---- */

static void test_lapic_round_trip(void **state)
{
	struct vlapic a, b;
	struct vlapic_saved r, r2;
	u8 buf[512];
	u32 len;

	vlapic_init(&a, 0, TSC_HZ, NULL, NULL);
	assert_true(vlapic_msr_write(&a, 0x80f, 100, 0x1ff));	/* SVR: enabled */
	assert_true(vlapic_msr_write(&a, 0x808, 100, 0x20));	/* TPR */
	assert_true(vlapic_msr_write(&a, 0x83e, 100, 0x3));	/* divide by 16 */
	assert_true(vlapic_msr_write(&a, 0x832, 100, 0x20031)); /* periodic timer, vector 0x31 */
	assert_true(vlapic_msr_write(&a, 0x838, 100, 5000));
	vlapic_set_irq(&a, 0x41, true);
	vlapic_set_irq(&a, 0x52, false);
	vlapic_accept(&a, 0x52);

	vlapic_save(&a, &r);
	len = frame(buf, sizeof(buf), &snap_rec_lapic, &r);
	memset(&r2, 0xee, sizeof(r2));
	assert_int_equal(parse_one(buf, len, &snap_rec_lapic, &r2), 0);
	vlapic_init(&b, 0, TSC_HZ, NULL, NULL);
	assert_int_equal(vlapic_load(&b, &r2, err, sizeof(err)), 0);
	assert_int_equal(vlapic_pending(&b), vlapic_pending(&a));
	assert_int_equal(vlapic_deadline(&b), vlapic_deadline(&a));
	assert_int_equal(b.tpr, 0x20);
	assert_int_equal(b.lvt[LVT_TIMER], 0x20031);
	assert_true(b.isr[1] & (1ull << (0x52 - 64)));
	assert_true(b.tmr[1] & (1ull << (0x41 - 64)));
	vlapic_save(&b, &r2);
	assert_memory_equal(&r, &r2, sizeof(r));
}

static void test_lapic_fields_checked(void **state)
{
	struct vlapic a, b;
	struct vlapic_saved r, bad;

	vlapic_init(&a, 0, TSC_HZ, NULL, NULL);
	vlapic_save(&a, &r);
	vlapic_init(&b, 0, TSC_HZ, NULL, NULL);
	b.tpr = 0x11;

	bad = r;
	bad.lvt[LVT_ERROR] |= 0x700; /* delivery mode: not an ERROR LVT bit */
	assert_int_equal(vlapic_load(&b, &bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "LVT"));
	bad = r;
	bad.id = 3;
	assert_int_equal(vlapic_load(&b, &bad, err, sizeof(err)), -1);
	bad = r;
	bad.timer_running = 1; /* with a zero initial count */
	assert_int_equal(vlapic_load(&b, &bad, err, sizeof(err)), -1);
	bad = r;
	bad.tpr = 0x100;
	assert_int_equal(vlapic_load(&b, &bad, err, sizeof(err)), -1);
	assert_int_equal(b.tpr, 0x11); /* nothing changed */
}

static void test_ioapic_round_trip(void **state)
{
	struct vlapic l;
	struct vioapic a, b;
	struct vioapic_saved r, r2;
	u32 v;

	vlapic_init(&l, 0, TSC_HZ, NULL, NULL);
	vioapic_init(&a, 0, &l);
	v = 0x10 + 2 * 4;
	vioapic_mmio(&a, 0x00, true, &v);
	v = 0x8000 | 0x44; /* pin 4: level, vector 0x44, unmasked */
	vioapic_mmio(&a, 0x10, true, &v);
	vioapic_set_pin(&a, 4, true);
	vioapic_save(&a, &r);

	vioapic_init(&b, 0, &l);
	assert_int_equal(vioapic_load(&b, &r, err, sizeof(err)), 0);
	assert_int_equal(b.sel, 0x18);
	assert_int_equal(b.level, 1u << 4);
	assert_true(b.redir[4] & (1ull << 14)); /* Remote IRR: delivered, not yet EOIed */
	assert_int_equal(b.delivered, 1);
	assert_ptr_equal(b.lapic, &l);
	vioapic_save(&b, &r2);
	assert_memory_equal(&r, &r2, sizeof(r));

	r2 = r;
	r2.redir[4] &= ~(1ull << 15); /* Remote IRR on an edge pin */
	assert_int_equal(vioapic_load(&b, &r2, err, sizeof(err)), -1);
	r2 = r;
	r2.level = 1u << 24; /* pin 24 does not exist */
	assert_int_equal(vioapic_load(&b, &r2, err, sizeof(err)), -1);
}

static void test_synic_round_trip_with_queue_and_timers(void **state)
{
	static struct synic a, b;
	static struct synic_saved r, r2;
	struct hv_message m = {.type = 0x42, .payload_size = 8};

	synic_init(&a, &env);
	assert_true(synic_msr_write(&a, HV_MSR_SIMP, 0, 0x5001));
	assert_true(synic_msr_write(&a, HV_MSR_SIEFP, 0, 0x6001));
	assert_true(synic_msr_write(&a, HV_MSR_SCONTROL, 0, 1));
	assert_true(synic_msr_write(&a, HV_MSR_SINT0 + 2, 0, 0x50));
	/* The first fills the slot, three more wait in the queue. */
	for (unsigned i = 0; i < 4; i++) {
		m.payload[0] = i;
		assert_int_equal(synic_post(&a, 2, &m), HV_STATUS_SUCCESS);
	}
	assert_int_equal(a.queue[2].count, 3);
	assert_true(synic_msr_write(&a, HV_MSR_STIMER0_CONFIG, 0, 0x2000b)); /* SINT 2, periodic */
	assert_true(synic_msr_write(&a, HV_MSR_STIMER0_CONFIG + 1, 0, 10000));
	assert_true(a.timer[0].armed);

	synic_save(&a, &r);
	assert_int_equal(r.queued[2], 3);
	synic_init(&b, &env);
	assert_int_equal(synic_load(&b, &r, err, sizeof(err)), 0);
	assert_int_equal(synic_next_deadline(&b), synic_next_deadline(&a));
	assert_int_equal(b.queue[2].count, 3);
	/* Oldest first: the guest's EOM brings the second message into the slot. */
	memset(guest_page[0] + 2 * HV_MESSAGE_SIZE, 0, HV_MESSAGE_SIZE);
	assert_true(synic_msr_write(&b, HV_MSR_EOM, 0, 0));
	assert_int_equal(((struct hv_message *)(guest_page[0] + 2 * HV_MESSAGE_SIZE))->payload[0],
			 1);
	synic_save(&b, &r2);
	assert_int_equal(r2.queued[2], 2);

	r2 = r;
	r2.queued[5] = SYNIC_QUEUE_LEN + 1;
	assert_int_equal(synic_load(&b, &r2, err, sizeof(err)), -1);
	r2 = r;
	r2.simp = 0x9001; /* not guest RAM */
	assert_int_equal(synic_load(&b, &r2, err, sizeof(err)), -1);
	r2 = r;
	r2.sint[3] = 0x05; /* unmasked vector below 16 */
	assert_int_equal(synic_load(&b, &r2, err, sizeof(err)), -1);
	r2 = r;
	r2.timer[1].armed = 1; /* armed but not enabled */
	assert_int_equal(synic_load(&b, &r2, err, sizeof(err)), -1);
}

static void test_hv_round_trip_and_clock(void **state)
{
	static struct hv a, b;
	struct hv_saved r, r2;

	memset(&a, 0, sizeof(a));
	hv_clock_init(&a.clock, TSC_HZ, 12345);
	a.guest_os_id = 0x8100;
	a.hypercall = 0x7001;
	a.ref_tsc = 0x8001;
	a.crash[2] = 7;
	a.hypercalls = 99;
	hv_save(&a, &r);

	memset(&b, 0, sizeof(b));
	hv_clock_init(&b.clock, TSC_HZ, 999999);
	b.nr_ports = 3; /* connections stay */
	assert_int_equal(hv_load(&b, &r, err, sizeof(err)), 0);
	assert_int_equal(hv_clock_ref(&b.clock, 12345 + TSC_HZ), 10000000);
	assert_int_equal(b.nr_ports, 3);
	hv_save(&b, &r2);
	assert_memory_equal(&r, &r2, sizeof(r));

	/* Another host's TSC rate: the clock cannot be kept. */
	hv_clock_init(&b.clock, 2 * TSC_HZ, 0);
	assert_int_equal(hv_load(&b, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "TSC rate"));
	hv_clock_init(&b.clock, TSC_HZ, 0);
	r2 = r;
	r2.ref_tsc |= 0x2; /* reserved */
	assert_int_equal(hv_load(&b, &r2, err, sizeof(err)), -1);
	r2 = r;
	r2.guest_os_id = 0; /* a hypercall page without a guest OS id */
	assert_int_equal(hv_load(&b, &r2, err, sizeof(err)), -1);
}

static void test_uart_round_trip(void **state)
{
	struct uart a, b;
	struct uart_saved r, r2;
	u8 v;

	uart_init(&a, NULL, NULL, NULL);
	v = 0x03;
	uart_io(&a, 3, false, &v);
	v = 0x01;
	uart_io(&a, 1, false, &v);
	for (unsigned i = 0; i < 300; i++) /* a few wraps of the free-running indices */
		uart_rx_push(&a, (u8)i), uart_io(&a, 0, true, &v);
	uart_rx_push(&a, 'o');
	uart_rx_push(&a, 'k');
	uart_save(&a, &r);
	assert_int_equal(r.rx_count, 2);

	uart_init(&b, NULL, NULL, NULL);
	b.tx_bytes = 77;
	assert_int_equal(uart_load(&b, &r, err, sizeof(err)), 0);
	assert_int_equal(b.tx_bytes, 77); /* the console's */
	uart_io(&b, 0, true, &v);
	assert_int_equal(v, 'o');
	uart_io(&b, 0, true, &v);
	assert_int_equal(v, 'k');
	uart_io(&b, 5, true, &v);
	assert_int_equal(v & 1, 0); /* FIFO empty now */

	r2 = r;
	r2.rx_count = 257;
	assert_int_equal(uart_load(&b, &r2, err, sizeof(err)), -1);
	r2 = r;
	r2.ier = 0x10;
	assert_int_equal(uart_load(&b, &r2, err, sizeof(err)), -1);
}

/*
 * VP record 1.1: DR0-3 and SPEC_CTRL go through; a 1.0 record (no SPEC_CTRL)
 * is still read, with SPEC_CTRL 0; SPEC_CTRL bits no CPU has and CR4.PKE
 * (refused on both back ends) are refused.
 */
static void test_vp_record_debug_and_speculation_state(void **state)
{
	struct vp_state s, t;
	struct vp_saved r, r2;
	u8 fpu[VP_FPU_SIZE] = {0}, fpu2[VP_FPU_SIZE];
	u8 buf[2 * sizeof(struct vp_saved)];
	u32 len = 0;

	memset(&s, 0, sizeof(s));
	s.regs.rflags = 0x2;
	for (unsigned i = 0; i < 4; i++)
		s.dr[i] = 0xffffffff81000000ull + 8 * i;
	s.dr7 = 0x4ff;
	s.spec_ctrl = SPEC_CTRL_IBRS | SPEC_CTRL_SSBD;
	vp_state_save(&s, fpu, &r);
	assert_int_equal(vp_state_load(&r, &t, fpu2, err, sizeof(err)), 0);
	assert_memory_equal(t.dr, s.dr, sizeof(s.dr));
	assert_int_equal(t.spec_ctrl, s.spec_ctrl);

	/* A record of minor 0 is the first SNAP_VP_SIZE_1_0 bytes. */
	struct snap_rec_header h = {SNAP_TAG_VP, 1, 0, SNAP_VP_SIZE_1_0,
				    snap_crc32(&r, SNAP_VP_SIZE_1_0)};
	assert_int_equal(snap_rec_read(&snap_rec_vp, &h, &r, &r2, err, sizeof(err)), 0);
	assert_int_equal(r2.spec_ctrl, 0);
	assert_memory_equal(r2.dr, r.dr, sizeof(r.dr));
	assert_int_equal(snap_rec_put(buf, sizeof(buf), &len, &snap_rec_vp, &r), 0);
	assert_int_equal(len, sizeof(struct snap_rec_header) + sizeof(struct vp_saved));

	r2 = r;
	r2.spec_ctrl = 1ull << 10;
	assert_int_equal(vp_state_load(&r2, &t, fpu2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "SPEC_CTRL"));
	r2 = r;
	r2.cr4 = CR4_PAE | CR4_PKE;
	assert_int_equal(vp_state_load(&r2, &t, fpu2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CR4"));
}

static void test_vp_round_trip_and_checks(void **state)
{
	struct vp_state s, t;
	struct vp_saved r, r2;
	u8 fpu[VP_FPU_SIZE], fpu2[VP_FPU_SIZE];
	u32 mxcsr = 0x1f80;

	memset(&s, 0, sizeof(s));
	for (unsigned i = 0; i < VP_NR_GPRS; i++)
		s.regs.gpr[i] = 0x1111111111111111ull * (i + 1);
	s.regs.rip = 0xffffffff81000000ull;
	s.regs.rflags = 0x246;
	s.sregs.cs = (struct vp_seg){0x10, 0xa09b, 0xffffffff, 0};
	s.sregs.tr = (struct vp_seg){0x40, 0x8b, 0x67, 0xfffffe0000003000ull};
	s.sregs.cr0 = 0x80050033;
	s.sregs.cr3 = 0x1234000;
	s.sregs.efer = 0xd01;
	s.lstar = 0xffffffff81a00000ull;
	s.dr7 = 0x400;
	s.cr8 = 2;
	s.shadow = true;
	s.event = 0x80000b0e; /* #PF with an error code, valid */
	s.event_error = 2;
	for (unsigned i = 0; i < sizeof(fpu); i++)
		fpu[i] = (u8)(i * 7);
	memcpy(fpu + 24, &mxcsr, sizeof(mxcsr));

	vp_state_save(&s, fpu, &r);
	assert_int_equal(vp_state_load(&r, &t, fpu2, err, sizeof(err)), 0);
	assert_memory_equal(&s.regs, &t.regs, sizeof(s.regs));
	assert_memory_equal(&s.sregs, &t.sregs, sizeof(s.sregs));
	assert_memory_equal(fpu, fpu2, sizeof(fpu));
	assert_true(t.shadow);
	assert_int_equal(t.event, s.event);
	vp_state_save(&t, fpu2, &r2);
	assert_memory_equal(&r, &r2, sizeof(r));

	r2 = r;
	r2.rflags = 0x200; /* bit 1 clear */
	assert_int_equal(vp_state_load(&r2, &t, fpu2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "RFLAGS"));
	r2 = r;
	r2.fpu[26] = 1; /* MXCSR bit 16: FXRSTOR would fault in the hypervisor */
	assert_int_equal(vp_state_load(&r2, &t, fpu2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "MXCSR"));
	r2 = r;
	r2.event |= 1u << 20;
	assert_int_equal(vp_state_load(&r2, &t, fpu2, err, sizeof(err)), -1);
	r2 = r;
	r2.shadow = 2;
	assert_int_equal(vp_state_load(&r2, &t, fpu2, err, sizeof(err)), -1);
	r2 = r;
	r2.ss.attr |= 0x100;
	assert_int_equal(vp_state_load(&r2, &t, fpu2, err, sizeof(err)), -1);
}

static void test_partition_and_pm1(void **state)
{
	struct part_saved r;
	struct pm1_saved pm;
	unsigned st;
	bool idle;
	u16 cnt, en;

	/* The enum goes through the table: its numbers are not the saved constants. */
	part_state_save(PART_HALTED, true, &r);
	assert_int_equal(r.state, SNAP_PART_HALTED);
	assert_int_equal(part_state_load(&r, &st, &idle, err, sizeof(err)), 0);
	assert_int_equal(st, PART_HALTED);
	assert_true(idle);
	part_state_save(PART_RUNNING, false, &r);
	assert_int_equal(r.state, SNAP_PART_RUNNING);
	r.state = 0;
	assert_int_equal(part_state_load(&r, &st, &idle, err, sizeof(err)), -1);
	r.state = SNAP_PART_HALTED + 1;
	assert_int_equal(part_state_load(&r, &st, &idle, err, sizeof(err)), -1);

	pm1_save(5 << 10, 0x21, &pm);
	assert_int_equal(pm1_load(&pm, &cnt, &en, err, sizeof(err)), 0);
	assert_int_equal(cnt, 5 << 10);
	assert_int_equal(en, 0x21);
	pm.cnt |= 1; /* SCI_EN is never kept */
	assert_int_equal(pm1_load(&pm, &cnt, &en, err, sizeof(err)), -1);
}

/* ---- framing and the growth rule ---- */

static void test_older_uart_record_read_through_growth_rule(void **state)
{
	struct uart_saved r;
	struct uart u;
	u8 v;

	memset(&r, 0xee, sizeof(r));
	assert_int_equal(parse_one(uart_v1_0, sizeof(uart_v1_0), &snap_rec_uart, &r), 0);
	assert_int_equal(r.ier, 0x05);
	assert_int_equal(r.scr, 0x5a);
	assert_int_equal(r.fcr, 0xc7);
	assert_int_equal(r.flags, SNAP_UART_THR_IPENDING);
	assert_int_equal(r.rx_count, 0); /* appended in 1.1: the default */
	assert_int_equal(r.rx[0], 0);

	uart_init(&u, NULL, NULL, NULL);
	uart_rx_push(&u, 'x');
	assert_int_equal(uart_load(&u, &r, err, sizeof(err)), 0);
	uart_io(&u, 5, true, &v);
	assert_int_equal(v & 1, 0); /* no data: 1.0 had no FIFO */
	uart_io(&u, 7, true, &v);
	assert_int_equal(v, 0x5a);
	assert_true(u.thr_ipending);
}

static void test_corrupt_short_and_unknown_refused(void **state)
{
	struct uart_saved r;
	u8 buf[512], b2[1024];
	struct snap_rec_header h;
	u32 len;

	memset(&r, 0, sizeof(r));
	r.lcr = 3;
	r.rx_count = 1;
	r.rx[0] = 'z';
	len = frame(buf, sizeof(buf), &snap_rec_uart, &r);
	assert_int_equal(parse_one(buf, len, &snap_rec_uart, &r), 0);

	/* A flipped byte in the body. */
	memcpy(b2, buf, len);
	b2[sizeof(h) + 3] ^= 0x40;
	assert_int_equal(parse_one(b2, len, &snap_rec_uart, &r), -1);
	assert_non_null(strstr(err, "checksum"));
	/* Cut short: in the body, and in the header. */
	assert_int_equal(parse_one(buf, len - 1, &snap_rec_uart, &r), -1);
	assert_int_equal(parse_one(buf, 10, &snap_rec_uart, &r), -1);
	assert_non_null(strstr(err, "cut short"));
	/* Nothing at all: the record is missing. */
	assert_int_equal(parse_one(buf, 0, &snap_rec_uart, &r), -1);
	assert_non_null(strstr(err, "no UART"));
	/* A known minor with a length that is not its size. */
	memcpy(b2, buf, len);
	memcpy(&h, b2, sizeof(h));
	h.minor = 0;
	memcpy(b2, &h, sizeof(h));
	assert_int_equal(parse_one(b2, len, &snap_rec_uart, &r), -1);
	assert_non_null(strstr(err, "not a size"));
	/* A newer major. */
	memcpy(b2, buf, len);
	h.minor = 1;
	h.major = 2;
	memcpy(b2, &h, sizeof(h));
	assert_int_equal(parse_one(b2, len, &snap_rec_uart, &r), -1);
	assert_non_null(strstr(err, "version 2.1"));
	/* An unknown tag. */
	memcpy(b2, buf, len);
	memcpy(&h, b2, sizeof(h));
	h.tag = SNAP_TAG('N', 'I', 'C', ' ');
	memcpy(b2, &h, sizeof(h));
	assert_int_equal(parse_one(b2, len, &snap_rec_uart, &r), -1);
	assert_non_null(strstr(err, "unknown record"));
	/* The same record twice. */
	memcpy(b2, buf, len);
	memcpy(b2 + len, buf, len);
	assert_int_equal(parse_one(b2, 2 * len, &snap_rec_uart, &r), -1);
	assert_non_null(strstr(err, "twice"));
	/* No room to write. */
	len = 0;
	assert_int_equal(snap_rec_put(b2, 100, &len, &snap_rec_uart, &r), -1);
	assert_int_equal(len, 0);
}

static void test_newer_minor_tail_ignored(void **state)
{
	struct uart_saved r, out;
	u8 buf[512];
	struct snap_rec_header h;
	u32 len;

	memset(&r, 0, sizeof(r));
	r.dll = 12;
	r.rx_count = 1;
	r.rx[0] = 'q';
	len = frame(buf, sizeof(buf), &snap_rec_uart, &r);
	/* As a later build might write it: 1.2 with four more bytes. */
	memcpy(&h, buf, sizeof(h));
	h.minor = 2;
	h.length += 4;
	memcpy(buf, &h, sizeof(h));
	memset(buf + len, 0xab, 4);
	refresh_crc(buf);
	assert_int_equal(parse_one(buf, len + 4, &snap_rec_uart, &out), 0);
	assert_memory_equal(&out, &r, sizeof(r));
	/* But not shorter than what this build knows. */
	h.length = sizeof(r) - 1;
	memcpy(buf, &h, sizeof(h));
	refresh_crc(buf);
	assert_int_equal(parse_one(buf, sizeof(h) + h.length, &snap_rec_uart, &out), -1);
}

static void test_all_records_in_one_buffer(void **state)
{
	static const struct snap_rec_type *const types[] = {&snap_rec_pm1, &snap_rec_part};
	struct pm1_saved pm = {1 << 10, 4, 0}, pm2;
	struct part_saved ps, ps2;
	void *const outs[] = {&pm2, &ps2};
	u8 buf[256];
	u32 len = 0;

	part_state_save(PART_PAUSED, false, &ps);
	/* Any order. */
	assert_int_equal(snap_rec_put(buf, sizeof(buf), &len, &snap_rec_part, &ps), 0);
	assert_int_equal(snap_rec_put(buf, sizeof(buf), &len, &snap_rec_pm1, &pm), 0);
	assert_int_equal(snap_recs_parse(buf, len, types, outs, 2, err, sizeof(err)), 0);
	assert_memory_equal(&pm, &pm2, sizeof(pm));
	assert_memory_equal(&ps, &ps2, sizeof(ps));
	/* Trailing bytes that are no record. */
	buf[len] = 1;
	assert_int_equal(snap_recs_parse(buf, len + 1, types, outs, 2, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lapic_round_trip),
	    cmocka_unit_test(test_lapic_fields_checked),
	    cmocka_unit_test(test_ioapic_round_trip),
	    cmocka_unit_test(test_synic_round_trip_with_queue_and_timers),
	    cmocka_unit_test(test_hv_round_trip_and_clock),
	    cmocka_unit_test(test_uart_round_trip),
	    cmocka_unit_test(test_vp_round_trip_and_checks),
	    cmocka_unit_test(test_vp_record_debug_and_speculation_state),
	    cmocka_unit_test(test_partition_and_pm1),
	    cmocka_unit_test(test_older_uart_record_read_through_growth_rule),
	    cmocka_unit_test(test_corrupt_short_and_unknown_refused),
	    cmocka_unit_test(test_newer_minor_tail_ignored),
	    cmocka_unit_test(test_all_records_in_one_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
