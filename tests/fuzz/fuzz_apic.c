/*
 * libFuzzer: the virtual x2APIC (kernel/vlapic.c) and I/O APIC
 * (kernel/vioapic.c) registers, in any order, with the timer and EOI paths.
 * The input is a list of operations, each an op byte and its argument bytes
 * (zeros once the input ends):
 *
 *   op % 12: 0 x2APIC MSR read (u8 msr - 0x800) | 1 MSR write (u8 msr, u64 value)
 *            2 IOAPIC MMIO read (u8 offset) | 3 MMIO write (u8 offset, u32 value)
 *            4 pin level (u8 pin, level in bit 7) | 5 take the pending vector
 *            6 EOI | 7 auto-EOI of the highest in service | 8 time passes (u32 cycles)
 *            9 a device raises (u8 vector, level in op bit 7) | 10 save and load back
 *            11 both registers of one IOAPIC pin at once (u8 pin, u64 entry)
 *
 * The harness keeps its own model of the in-service register (the VP only
 * takes what vlapic_pending offers) and checks after each step: no vector
 * below 16 is ever requested or in service, the pending vector is requested
 * and outranks what is in service, ISR matches the model, Remote IRR is set
 * only on level-triggered pins, the current count never exceeds the initial
 * count, every level EOI names a vector that was in service, and a saved
 * state loads back to the same registers.
 */
#include <stdint.h>
#include <string.h>

#include "kernel/snap_state.h"
#include "kernel/vioapic.h"
#include "kernel/vlapic.h"
#include "tests/fuzz/fuzz_input.h"

#define TSC_HZ	      1000000000ull
#define MAX_OPS	      128
#define FIRST_VECTOR  16 /* 0-15 are illegal for fixed delivery (SDM Vol.3 11.5.2) */
#define X2_EOI	      0x80b
#define X2_SVR	      0x80f
#define X2_TIMER_INIT 0x838
#define X2_TIMER_CUR  0x839
#define RTE_REMOTE    (1ull << 14) /* 82093AA data sheet 3.2.4 */
#define RTE_LEVEL     (1ull << 15)
#define IO_SEL	      0x00
#define IO_WIN	      0x10
#define IO_REDIR0     0x10

static struct vlapic l;
static struct vioapic io;
static u64 isr_model[4];
static u64 now;

static bool test_bit(const u64 *map, unsigned v)
{
	return map[v / 64] >> (v % 64) & 1;
}

static int highest(const u64 *map)
{
	for (int w = 3; w >= 0; w--)
		if (map[w])
			return w * 64 + 63 - __builtin_clzll(map[w]);
	return -1;
}

static void on_eoi(void *ctx, u8 vector)
{
	check(ctx == &io);
	check(vector >= FIRST_VECTOR);
	check(test_bit(l.tmr, vector));
	vioapic_eoi(&io, vector);
}

/* What the guest's EOI write does to the model: the highest in service is done. */
static void model_eoi(void)
{
	int v = highest(isr_model);

	if (v >= 0)
		isr_model[v / 64] &= ~(1ull << (v % 64));
}

static void check_state(bool ioapic_touched)
{
	int v = vlapic_pending(&l);
	int in_service = highest(l.isr);

	check((l.irr[0] & 0xffff) == 0 && (l.isr[0] & 0xffff) == 0);
	check(memcmp(l.isr, isr_model, sizeof(isr_model)) == 0);
	if (v >= 0) {
		check(v >= FIRST_VECTOR && v <= 255);
		check(test_bit(l.irr, (unsigned)v));
		check(in_service < 0 || (v & 0xf0) > (in_service & 0xf0));
		check((u32)(v & 0xf0) > (l.tpr & 0xf0));
	}
	for (unsigned pin = 0; pin < VIOAPIC_PINS && ioapic_touched; pin++)
		check(!(io.redir[pin] & RTE_REMOTE) || (io.redir[pin] & RTE_LEVEL));
	check(io.sel <= 0xff);
	check(l.timer_running || vlapic_deadline(&l) == ~0ull);
}

static void save_and_load(void)
{
	struct vlapic_saved ls;
	struct vioapic_saved is;
	struct vlapic l2;
	struct vioapic io2;
	char err[96];

	vlapic_save(&l, &ls);
	vioapic_save(&io, &is);
	vlapic_init(&l2, 0, TSC_HZ, on_eoi, &io);
	vioapic_init(&io2, 1, &l);
	check(vlapic_load(&l2, &ls, err, sizeof(err)) == 0);
	check(vioapic_load(&io2, &is, err, sizeof(err)) == 0);
	check(memcmp(l2.irr, l.irr, sizeof(l.irr)) == 0 &&
	      memcmp(l2.isr, l.isr, sizeof(l.isr)) == 0);
	check(memcmp(l2.tmr, l.tmr, sizeof(l.tmr)) == 0 && l2.tpr == l.tpr && l2.svr == l.svr);
	check(memcmp(l2.lvt, l.lvt, sizeof(l.lvt)) == 0);
	check(l2.timer_initial == l.timer_initial && l2.timer_divide_reg == l.timer_divide_reg);
	check(memcmp(io2.redir, io.redir, sizeof(io.redir)) == 0 && io2.level == io.level);
	check(io2.sel == io.sel && io2.id == io.id);
}

static void step(u8 op)
{
	u64 val, a;
	u32 v32;
	int vec;

	switch (op % 12) {
	case 0:
		a = 0x800 + take(1);
		if (vlapic_msr_read(&l, (u32)a, now, &val) && a == X2_TIMER_CUR)
			check(val <= l.timer_initial);
		break;
	case 1:
		a = 0x800 + take(1);
		val = take(8);
		if (vlapic_msr_write(&l, (u32)a, now, val) && a == X2_EOI)
			model_eoi();
		break;
	case 2:
		v32 = 0xdeadbeef;
		vioapic_mmio(&io, take(1), false, &v32);
		break;
	case 3:
		a = take(1);
		v32 = (u32)take(4);
		vioapic_mmio(&io, a, true, &v32);
		break;
	case 4:
		a = take(1);
		vioapic_set_pin(&io, a & 0x7f, a & 0x80);
		break;
	case 5:
		vec = vlapic_pending(&l);
		if (vec >= 0) {
			vlapic_accept(&l, (u8)vec);
			isr_model[vec / 64] |= 1ull << (vec % 64);
		}
		break;
	case 6:
		check(vlapic_msr_write(&l, X2_EOI, now, 0));
		model_eoi();
		break;
	case 7:
		vec = highest(l.isr);
		if (vec >= 0) {
			vlapic_auto_eoi(&l, (u8)vec);
			isr_model[vec / 64] &= ~(1ull << (vec % 64));
		}
		break;
	case 8:
		now += take(4);
		vlapic_tick(&l, now);
		check(!l.timer_running || l.timer_deadline > now);
		break;
	case 9:
		vlapic_set_irq(&l, (u8)take(1), op & 0x80);
		break;
	case 10:
		save_and_load();
		break;
	case 11:
		a = take(1) % VIOAPIC_PINS;
		val = take(8);
		v32 = IO_REDIR0 + 2 * (u32)a + 1;
		vioapic_mmio(&io, IO_SEL, true, &v32);
		v32 = (u32)(val >> 32);
		vioapic_mmio(&io, IO_WIN, true, &v32);
		v32 = IO_REDIR0 + 2 * (u32)a;
		vioapic_mmio(&io, IO_SEL, true, &v32);
		v32 = (u32)val;
		vioapic_mmio(&io, IO_WIN, true, &v32);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vlapic_init(&l, 0, TSC_HZ, on_eoi, &io);
	vioapic_init(&io, 1, &l);
	memset(isr_model, 0, sizeof(isr_model));
	now = 1000;
	cur = data;
	end = data + size;
	/* Software-enabled first, as every guest does, unless the first byte says otherwise. */
	if (size && !(data[0] & 1))
		check(vlapic_msr_write(&l, X2_SVR, now, 0x1ff));
	for (unsigned n = 0; n < MAX_OPS && cur < end; n++) {
		u8 op = *cur++;

		step(op);
		/* Remote IRR moves on I/O APIC writes, pin changes and EOIs (MSR writes) only. */
		check_state(op % 12 == 1 || op % 12 == 3 || op % 12 == 4 || op % 12 == 6 ||
			    op % 12 == 11);
	}
	return 0;
}
