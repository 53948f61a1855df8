/* Local APIC timer and time keeping (SDM Vol.3 11.5.4; PIT: Intel 8254 data sheet). */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/desc.h"
#include "kernel/arch.h"
#include "kernel/log.h"

/* xAPIC register offsets (SDM Vol.3 table 11-1). */
#define LAPIC_SVR	    0xf0
#define LAPIC_EOI	    0xb0
#define LAPIC_LVT_TIMER	    0x320
#define LAPIC_TIMER_INIT    0x380
#define LAPIC_TIMER_CUR	    0x390
#define LAPIC_TIMER_DIV	    0x3e0
#define SVR_ENABLE	    0x100
#define LVT_MASKED	    0x10000
#define TIMER_DIV_16	    0x3
#define APIC_BASE_ENABLE    (1ull << 11)
#define APIC_BASE_ADDR_MASK 0xffffff000ull

/* PIT channel 2, gated through port 0x61 (8254 data sheet; PC AT port B). */
#define PIT_HZ		 1193182
#define PIT_CH2		 0x42
#define PIT_CMD		 0x43
#define PIT_PORT_B	 0x61
#define PIT_CALIBRATE_MS 10

static volatile u32 *lapic;
static u64 tsc_hz, lapic_hz;
static u64 armed_until; /* TSC at which the one-shot fires; 0 when disarmed */

static inline u32 lapic_read(u32 reg)
{
	return lapic[reg / 4];
}

static inline void lapic_write(u32 reg, u32 v)
{
	lapic[reg / 4] = v;
}

void lapic_init(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);

	wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_ENABLE);
	lapic = (volatile u32 *)(base & APIC_BASE_ADDR_MASK);
	lapic_write(LAPIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
	lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

void lapic_timer_arm(u64 us)
{
	u64 count = us * lapic_hz / 1000000;

	if (!us) {
		lapic_write(LAPIC_TIMER_INIT, 0);
		armed_until = 0;
		return;
	}
	lapic_write(LAPIC_LVT_TIMER, VEC_TIMER); /* one-shot, unmasked */
	lapic_write(LAPIC_TIMER_INIT, (u32)MIN(MAX(count, 1), 0xffffffffull));
	armed_until = rdtsc() + us * (tsc_hz / 1000000);
}

void lapic_timer_arm_within(u64 us)
{
	u64 now = rdtsc();

	if (armed_until > now && armed_until <= now + us * (tsc_hz / 1000000))
		return;
	lapic_timer_arm(us);
}

void lapic_timer_fired(void)
{
	armed_until = 0;
}

void time_calibrate(void)
{
	u32 ticks = PIT_HZ * PIT_CALIBRATE_MS / 1000;
	u8 portb = inb(PIT_PORT_B);

	outb(PIT_PORT_B, (portb & ~0x02) | 0x01); /* gate on, speaker off */
	outb(PIT_CMD, 0xb0);			  /* channel 2, lo/hi byte, mode 0 */
	outb(PIT_CH2, ticks & 0xff);
	outb(PIT_CH2, ticks >> 8);
	lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
	u64 t0 = rdtsc();
	while (!(inb(PIT_PORT_B) & 0x20))
		cpu_relax();
	u64 t1 = rdtsc();
	u32 left = lapic_read(LAPIC_TIMER_CUR);
	lapic_write(LAPIC_TIMER_INIT, 0);
	outb(PIT_PORT_B, portb);

	tsc_hz = (t1 - t0) * 1000 / PIT_CALIBRATE_MS;
	lapic_hz = (u64)(0xffffffffu - left) * 1000 / PIT_CALIBRATE_MS;
	if (!tsc_hz)
		tsc_hz = 1000000000;
	if (!lapic_hz)
		lapic_hz = 1000000;
}

u64 arch_tsc_hz(void)
{
	return tsc_hz;
}

u64 arch_time_us(void)
{
	return rdtsc() / (tsc_hz / 1000000 ? tsc_hz / 1000000 : 1);
}
