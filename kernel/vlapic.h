/*
 * The virtual local APIC of a VP, in x2APIC mode only (SDM Vol.3 chapter 11
 * "Advanced Programmable Interrupt Controller", 11.12 for x2APIC): the MSR
 * interface 0x800-0x8ff, IRR/ISR/TMR, task and processor priority, EOI,
 * self IPIs and the timer (one-shot, periodic). Pure logic: time comes in as
 * host TSC values, interrupts go out through vlapic_pending()/vlapic_accept().
 */
#ifndef BULKHEAD_VLAPIC_H
#define BULKHEAD_VLAPIC_H

#include "types.h"

#define VLAPIC_MSR_FIRST 0x800u
#define VLAPIC_MSR_LAST	 0x8ffu
/* The frequency the timer counts at before the divider (our choice; reported to
 * Hyper-V guests through HV_X64_MSR_APIC_FREQUENCY). */
#define VLAPIC_BUS_HZ 100000000ull

/* IA32_APIC_BASE as the VP sees it: x2APIC enabled at reset (SDM Vol.3 11.12.1). */
#define VLAPIC_BASE_ADDR 0xfee00000ull
#define VLAPIC_BASE_BSP	 (1ull << 8)
#define VLAPIC_BASE_EXTD (1ull << 10)
#define VLAPIC_BASE_EN	 (1ull << 11)

enum vlapic_lvt {
	LVT_CMCI,
	LVT_TIMER,
	LVT_THERMAL,
	LVT_PERF,
	LVT_LINT0,
	LVT_LINT1,
	LVT_ERROR,
	NR_LVT
};

struct vlapic {
	u32 id;
	u32 tpr, svr, esr;
	u32 icr_low;
	u32 icr_high;
	u32 lvt[NR_LVT];
	u32 timer_initial, timer_divide_reg;
	u64 irr[4], isr[4], tmr[4]; /* 256 bits each, bit n = vector n */
	u64 tsc_hz;
	/* Timer: counting from timer_start, expiring at timer_deadline (TSC). */
	bool timer_running;
	u64 timer_start, timer_deadline;
	u64 timer_fired; /* expirations delivered, for tests and `info` */
	/* Called on EOI of a level-triggered vector (the IOAPIC clears Remote IRR). */
	void (*eoi_level)(void *ctx, u8 vector);
	void *ctx;
};

void vlapic_init(struct vlapic *l, u32 id, u64 tsc_hz, void (*eoi_level)(void *ctx, u8 vector),
		 void *ctx);
/* MSR access from the guest at host TSC now. false: the access raises #GP. */
bool vlapic_msr_read(struct vlapic *l, u32 msr, u64 now, u64 *val);
bool vlapic_msr_write(struct vlapic *l, u32 msr, u64 now, u64 val);
/* A fixed interrupt arrives (IOAPIC, timer, SynIC, self IPI). */
void vlapic_set_irq(struct vlapic *l, u8 vector, bool level);
/* Highest-priority vector the VP should take now, or -1 (SDM 11.8.3). */
int vlapic_pending(const struct vlapic *l);
/* The VP took vector: IRR -> ISR. */
void vlapic_accept(struct vlapic *l, u8 vector);
/* The delivery of vector needs no EOI (SynIC auto-EOI, TLFS 11.11): out of service again. */
void vlapic_auto_eoi(struct vlapic *l, u8 vector);
/* Fire the timer if it expired by now. */
void vlapic_tick(struct vlapic *l, u64 now);
/* TSC of the next timer expiry, or ~0. */
u64 vlapic_deadline(const struct vlapic *l);
/* One line for `info`: highest IRR and ISR vectors (-1: none), TPR, timer. */
void vlapic_describe(const struct vlapic *l, u64 now, char *buf, size_t len);
/* Saved state (snap_state.h): out, and back in after checking every field (-1 with a
 * reason: nothing changed). */
struct vlapic_saved;
void vlapic_save(const struct vlapic *l, struct vlapic_saved *r);
int vlapic_load(struct vlapic *l, const struct vlapic_saved *r, char *err, size_t errlen);

#endif
