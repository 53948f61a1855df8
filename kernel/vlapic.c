/* Virtual x2APIC (SDM Vol.3 chapter 11; register map: table 11-6 "x2APIC MSRs"). */
#include "vlapic.h"
#include "snap_state.h"

#include <stdio.h>
#include <string.h>

/* x2APIC MSR addresses (SDM Vol.3 table 11-6). */
#define X2_ID		 0x802
#define X2_VERSION	 0x803
#define X2_TPR		 0x808
#define X2_PPR		 0x80a
#define X2_EOI		 0x80b
#define X2_LDR		 0x80d
#define X2_SVR		 0x80f
#define X2_ISR0		 0x810
#define X2_TMR0		 0x818
#define X2_IRR0		 0x820
#define X2_ESR		 0x828
#define X2_LVT_CMCI	 0x82f
#define X2_ICR		 0x830
#define X2_LVT_TIMER	 0x832
#define X2_LVT_THERMAL	 0x833
#define X2_LVT_PERF	 0x834
#define X2_LVT_LINT0	 0x835
#define X2_LVT_LINT1	 0x836
#define X2_LVT_ERROR	 0x837
#define X2_TIMER_INITIAL 0x838
#define X2_TIMER_CURRENT 0x839
#define X2_TIMER_DIVIDE	 0x83e
#define X2_SELF_IPI	 0x83f

/* Version register: version 0x14 (integrated APIC), 7 LVT entries (max index 6). */
#define VERSION_VALUE	     (0x14u | ((NR_LVT - 1u) << 16))
#define SVR_RESET	     0xffu
#define SVR_ENABLE	     (1u << 8)
#define SVR_MASK	     0x1ffu
#define LVT_MASKED	     (1u << 16)
#define LVT_VECTOR_MASK	     0xffu
#define LVT_TIMER_MODE_SHIFT 17
#define LVT_TIMER_MODE_MASK  (3u << LVT_TIMER_MODE_SHIFT)
#define LVT_TIMER_PERIODIC   (1u << LVT_TIMER_MODE_SHIFT)
/* Writable bits per LVT (SDM figure 11-8): vector, delivery mode, polarity, trigger, mask, timer
 * mode. */
#define LVT_TIMER_BITS (LVT_VECTOR_MASK | LVT_MASKED | LVT_TIMER_PERIODIC)
#define LVT_LINT_BITS  (LVT_VECTOR_MASK | 0x700u | (1u << 13) | (1u << 15) | LVT_MASKED)
#define LVT_OTHER_BITS (LVT_VECTOR_MASK | 0x700u | LVT_MASKED)
#define LVT_ERROR_BITS (LVT_VECTOR_MASK | LVT_MASKED)
#define DIVIDE_BITS    0xbu /* bits 0, 1 and 3 (SDM figure 11-10) */
#define DIVIDE_BY_1    0xbu

/* ICR (SDM figure 11-12; x2APIC: one 64-bit MSR, destination in 63:32). */
#define ICR_VECTOR_MASK	    0xffu
#define ICR_MODE_SHIFT	    8
#define ICR_MODE_MASK	    7u
#define ICR_MODE_FIXED	    0
#define ICR_MODE_LOWEST	    1
#define ICR_LEVEL_TRIGGER   (1u << 15)
#define ICR_SHORTHAND_SHIFT 18
#define ICR_SHORTHAND_MASK  3u
#define ICR_SH_NONE	    0
#define ICR_SH_SELF	    1
#define ICR_SH_ALL	    2
#define ICR_LOW_BITS	    0x000cefffu /* vector, mode, dest mode, level, trigger, shorthand */

#define FIRST_VALID_VECTOR 16 /* 0-15 are illegal for fixed delivery (SDM 11.5.2) */

static bool bit_test(const u64 *map, unsigned v)
{
	return map[v / 64] & (1ull << (v % 64));
}

static void bit_set(u64 *map, unsigned v)
{
	map[v / 64] |= 1ull << (v % 64);
}

static void bit_clear(u64 *map, unsigned v)
{
	map[v / 64] &= ~(1ull << (v % 64));
}

/* Highest set bit of a 256-bit map, or -1. */
static int highest(const u64 *map)
{
	for (int w = 3; w >= 0; w--)
		if (map[w])
			return w * 64 + 63 - __builtin_clzll(map[w]);
	return -1;
}

void vlapic_init(struct vlapic *l, u32 id, u64 tsc_hz, void (*eoi_level)(void *ctx, u8 vector),
		 void *ctx)
{
	memset(l, 0, sizeof(*l));
	l->id = id;
	l->svr = SVR_RESET;
	for (unsigned i = 0; i < NR_LVT; i++)
		l->lvt[i] = LVT_MASKED;
	l->tsc_hz = tsc_hz ? tsc_hz : 1;
	l->eoi_level = eoi_level;
	l->ctx = ctx;
}

/* Processor priority (SDM 11.8.3.1). */
static u32 ppr(const struct vlapic *l)
{
	int isrv = highest(l->isr);
	u32 isr_class = isrv < 0 ? 0 : (u32)isrv & 0xf0;

	return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

int vlapic_pending(const struct vlapic *l)
{
	int v = highest(l->irr);

	if (v < 0 || !(l->svr & SVR_ENABLE))
		return -1;
	return ((u32)v & 0xf0) > (ppr(l) & 0xf0) ? v : -1;
}

void vlapic_accept(struct vlapic *l, u8 vector)
{
	bit_clear(l->irr, vector);
	bit_set(l->isr, vector);
}

void vlapic_auto_eoi(struct vlapic *l, u8 vector)
{
	bit_clear(l->isr, vector);
}

void vlapic_set_irq(struct vlapic *l, u8 vector, bool level)
{
	if (vector < FIRST_VALID_VECTOR)
		return; /* illegal vector: dropped (the ESR is not modelled) */
	bit_set(l->irr, vector);
	if (level)
		bit_set(l->tmr, vector);
	else
		bit_clear(l->tmr, vector);
}

static void eoi(struct vlapic *l)
{
	int v = highest(l->isr);

	if (v < 0)
		return;
	bit_clear(l->isr, (unsigned)v);
	if (bit_test(l->tmr, (unsigned)v) && l->eoi_level)
		l->eoi_level(l->ctx, (u8)v);
}

/* ---- timer (SDM 11.5.4) ---- */

static u64 divisor(const struct vlapic *l)
{
	u32 d = l->timer_divide_reg & DIVIDE_BITS;
	u32 code = (d & 3) | ((d >> 1) & 4);

	return d == DIVIDE_BY_1 ? 1 : 2ull << code;
}

static u64 ticks_to_tsc(const struct vlapic *l, u64 ticks)
{
	return (u64)((unsigned __int128)ticks * divisor(l) * l->tsc_hz / VLAPIC_BUS_HZ);
}

static u64 tsc_to_ticks(const struct vlapic *l, u64 tsc)
{
	return (u64)((unsigned __int128)tsc * VLAPIC_BUS_HZ / l->tsc_hz / divisor(l));
}

static bool periodic(const struct vlapic *l)
{
	return (l->lvt[LVT_TIMER] & LVT_TIMER_MODE_MASK) == LVT_TIMER_PERIODIC;
}

static void timer_start(struct vlapic *l, u64 now)
{
	l->timer_running = l->timer_initial != 0;
	l->timer_start = now;
	l->timer_deadline = now + MAX(ticks_to_tsc(l, l->timer_initial), 1);
}

static u32 timer_current(const struct vlapic *l, u64 now)
{
	u64 elapsed;

	if (!l->timer_running || now < l->timer_start)
		return l->timer_running ? l->timer_initial : 0;
	elapsed = tsc_to_ticks(l, now - l->timer_start);
	if (periodic(l))
		return l->timer_initial - (u32)(elapsed % l->timer_initial);
	return elapsed >= l->timer_initial ? 0 : l->timer_initial - (u32)elapsed;
}

void vlapic_tick(struct vlapic *l, u64 now)
{
	u64 period;

	if (!l->timer_running || now < l->timer_deadline)
		return;
	l->timer_fired++;
	if (!(l->lvt[LVT_TIMER] & LVT_MASKED))
		vlapic_set_irq(l, l->lvt[LVT_TIMER] & LVT_VECTOR_MASK, false);
	if (!periodic(l)) {
		l->timer_running = false;
		return;
	}
	/* Expirations missed while the VP was not scheduled merge into this one. */
	period = MAX(ticks_to_tsc(l, l->timer_initial), 1);
	l->timer_start = l->timer_deadline;
	if (now - l->timer_deadline >= period)
		l->timer_start = now - (now - l->timer_deadline) % period;
	l->timer_deadline = l->timer_start + period;
}

u64 vlapic_deadline(const struct vlapic *l)
{
	return l->timer_running ? l->timer_deadline : ~0ull;
}

/* ---- MSR interface ---- */

static bool read_map(const u64 *map, u32 index, u64 *val)
{
	*val = (u32)(map[index / 2] >> (32 * (index % 2)));
	return true;
}

bool vlapic_msr_read(struct vlapic *l, u32 msr, u64 now, u64 *val)
{
	switch (msr) {
	case X2_ID:
		*val = l->id;
		return true;
	case X2_VERSION:
		*val = VERSION_VALUE;
		return true;
	case X2_TPR:
		*val = l->tpr;
		return true;
	case X2_PPR:
		*val = ppr(l);
		return true;
	case X2_LDR:
		*val = ((l->id >> 4) << 16) | (1u << (l->id & 0xf)); /* SDM 11.12.10.2 */
		return true;
	case X2_SVR:
		*val = l->svr;
		return true;
	case X2_ESR:
		*val = l->esr;
		return true;
	case X2_ICR:
		*val = ((u64)l->icr_high << 32) | l->icr_low;
		return true;
	case X2_LVT_CMCI:
		*val = l->lvt[LVT_CMCI];
		return true;
	case X2_LVT_TIMER:
	case X2_LVT_THERMAL:
	case X2_LVT_PERF:
	case X2_LVT_LINT0:
	case X2_LVT_LINT1:
	case X2_LVT_ERROR:
		*val = l->lvt[LVT_TIMER + (msr - X2_LVT_TIMER)];
		return true;
	case X2_TIMER_INITIAL:
		*val = l->timer_initial;
		return true;
	case X2_TIMER_CURRENT:
		*val = timer_current(l, now);
		return true;
	case X2_TIMER_DIVIDE:
		*val = l->timer_divide_reg;
		return true;
	}
	if (msr >= X2_ISR0 && msr < X2_ISR0 + 8)
		return read_map(l->isr, msr - X2_ISR0, val);
	if (msr >= X2_TMR0 && msr < X2_TMR0 + 8)
		return read_map(l->tmr, msr - X2_TMR0, val);
	if (msr >= X2_IRR0 && msr < X2_IRR0 + 8)
		return read_map(l->irr, msr - X2_IRR0, val);
	return false; /* reserved, or write-only (EOI, SELF IPI): #GP (SDM 11.12.1.2) */
}

/* Only fixed interrupts to this VP do anything: it is the partition's only one. */
static void send_ipi(struct vlapic *l, u64 icr)
{
	u32 mode = (icr >> ICR_MODE_SHIFT) & ICR_MODE_MASK;
	u32 shorthand = (icr >> ICR_SHORTHAND_SHIFT) & ICR_SHORTHAND_MASK;
	u32 dest = (u32)(icr >> 32);
	bool to_self = shorthand == ICR_SH_SELF || shorthand == ICR_SH_ALL ||
		       (shorthand == ICR_SH_NONE && (dest == l->id || dest == ~0u));

	if (to_self && (mode == ICR_MODE_FIXED || mode == ICR_MODE_LOWEST))
		vlapic_set_irq(l, icr & ICR_VECTOR_MASK, false);
}

static void write_lvt(struct vlapic *l, enum vlapic_lvt i, u32 val, u32 bits)
{
	if (!(l->svr & SVR_ENABLE))
		val |= LVT_MASKED; /* software-disabled: LVTs stay masked (SDM 11.4.7.2) */
	l->lvt[i] = val & bits;
}

bool vlapic_msr_write(struct vlapic *l, u32 msr, u64 now, u64 val)
{
	if (msr != X2_ICR && val >> 32)
		return false; /* 32-bit registers: the high half is reserved */
	switch (msr) {
	case X2_TPR:
		l->tpr = val & 0xff;
		return true;
	case X2_EOI:
		if (val)
			return false; /* non-zero EOI writes #GP in x2APIC mode (SDM 11.12.1.2) */
		eoi(l);
		return true;
	case X2_SVR:
		l->svr = val & SVR_MASK;
		if (!(l->svr & SVR_ENABLE))
			for (unsigned i = 0; i < NR_LVT; i++)
				l->lvt[i] |= LVT_MASKED;
		return true;
	case X2_ESR:
		if (val)
			return false;
		l->esr = 0;
		return true;
	case X2_ICR:
		l->icr_low = (u32)val & ICR_LOW_BITS;
		l->icr_high = (u32)(val >> 32);
		send_ipi(l, val);
		return true;
	case X2_LVT_CMCI:
		write_lvt(l, LVT_CMCI, val, LVT_OTHER_BITS);
		return true;
	case X2_LVT_TIMER:
		write_lvt(l, LVT_TIMER, val, LVT_TIMER_BITS);
		return true;
	case X2_LVT_THERMAL:
	case X2_LVT_PERF:
		write_lvt(l, LVT_TIMER + (msr - X2_LVT_TIMER), val, LVT_OTHER_BITS);
		return true;
	case X2_LVT_LINT0:
	case X2_LVT_LINT1:
		write_lvt(l, LVT_TIMER + (msr - X2_LVT_TIMER), val, LVT_LINT_BITS);
		return true;
	case X2_LVT_ERROR:
		write_lvt(l, LVT_ERROR, val, LVT_ERROR_BITS);
		return true;
	case X2_TIMER_INITIAL:
		l->timer_initial = (u32)val;
		timer_start(l, now);
		return true;
	case X2_TIMER_DIVIDE:
		l->timer_divide_reg = val & DIVIDE_BITS;
		return true;
	case X2_SELF_IPI:
		vlapic_set_irq(l, val & ICR_VECTOR_MASK, false);
		return true;
	}
	return false; /* read-only or reserved: #GP */
}

void vlapic_describe(const struct vlapic *l, u64 now, char *buf, size_t len)
{
	u64 left = l->timer_running && l->timer_deadline > now ? l->timer_deadline - now : 0;

	snprintf(buf, len,
		 "lapic irr=%d isr=%d tpr=0x%x svr=0x%x lvt_timer=0x%x timer=%s timer_us=%llu "
		 "timer_fired=%llu",
		 highest(l->irr), highest(l->isr), l->tpr, l->svr, l->lvt[LVT_TIMER],
		 l->timer_running ? "running" : "stopped",
		 (unsigned long long)(l->tsc_hz ? left * 1000000 / l->tsc_hz : 0),
		 (unsigned long long)l->timer_fired);
}

/* ---- saved state (snap_state.h) ---- */

static const u32 lvt_bits[NR_LVT] = {
    [LVT_CMCI] = LVT_OTHER_BITS,  [LVT_TIMER] = LVT_TIMER_BITS, [LVT_THERMAL] = LVT_OTHER_BITS,
    [LVT_PERF] = LVT_OTHER_BITS,  [LVT_LINT0] = LVT_LINT_BITS,	[LVT_LINT1] = LVT_LINT_BITS,
    [LVT_ERROR] = LVT_ERROR_BITS,
};

void vlapic_save(const struct vlapic *l, struct vlapic_saved *r)
{
	_Static_assert(NR_LVT == ARRAY_SIZE(r->lvt), "LAPIC record: LVT count");
	memset(r, 0, sizeof(*r));
	r->id = l->id;
	r->tpr = l->tpr;
	r->svr = l->svr;
	r->esr = l->esr;
	r->icr_low = l->icr_low;
	r->icr_high = l->icr_high;
	memcpy(r->lvt, l->lvt, sizeof(r->lvt));
	r->timer_initial = l->timer_initial;
	r->timer_divide_reg = l->timer_divide_reg;
	memcpy(r->irr, l->irr, sizeof(r->irr));
	memcpy(r->isr, l->isr, sizeof(r->isr));
	memcpy(r->tmr, l->tmr, sizeof(r->tmr));
	r->timer_start = l->timer_start;
	r->timer_deadline = l->timer_deadline;
	r->timer_fired = l->timer_fired;
	r->timer_running = l->timer_running;
}

int vlapic_load(struct vlapic *l, const struct vlapic_saved *r, char *err, size_t errlen)
{
	const char *bad = NULL;
	u8 zero[sizeof(r->reserved2)] = {0};

	if (r->id != l->id)
		bad = "APIC id of another VP";
	else if (r->tpr > 0xff || (r->svr & ~SVR_MASK) || (r->esr & ~0xffu) ||
		 (r->icr_low & ~ICR_LOW_BITS) || (r->timer_divide_reg & ~DIVIDE_BITS))
		bad = "register";
	else if (r->timer_running > 1 || (r->timer_running && !r->timer_initial) ||
		 (r->timer_running && r->timer_deadline < r->timer_start))
		bad = "timer";
	else if (r->reserved || memcmp(r->reserved2, zero, sizeof(zero)))
		bad = "reserved field";
	for (unsigned i = 0; i < NR_LVT && !bad; i++)
		if (r->lvt[i] & ~lvt_bits[i])
			bad = "LVT";
	if (bad) {
		snprintf(err, errlen, "LAPIC record: %s", bad);
		return -1;
	}
	/* The TSC rate and the EOI callback are the running partition's. */
	l->tpr = r->tpr;
	l->svr = r->svr;
	l->esr = r->esr;
	l->icr_low = r->icr_low;
	l->icr_high = r->icr_high;
	memcpy(l->lvt, r->lvt, sizeof(l->lvt));
	l->timer_initial = r->timer_initial;
	l->timer_divide_reg = r->timer_divide_reg;
	memcpy(l->irr, r->irr, sizeof(l->irr));
	memcpy(l->isr, r->isr, sizeof(l->isr));
	memcpy(l->tmr, r->tmr, sizeof(l->tmr));
	l->timer_start = r->timer_start;
	l->timer_deadline = r->timer_deadline;
	l->timer_fired = r->timer_fired;
	l->timer_running = r->timer_running;
	return 0;
}
