/* The boot CPU's local APIC (xAPIC MMIO): timer and EOI; PIT-based calibration. */
#ifndef BULKHEAD_APIC_H
#define BULKHEAD_APIC_H

#include "kernel/types.h"

void lapic_init(void);
void lapic_eoi(void);
/* One-shot timer interrupt (VEC_TIMER) after us microseconds; 0 disarms it. */
void lapic_timer_arm(u64 us);
/*
 * Make sure the timer fires within us microseconds, leaving one that is
 * armed to fire sooner alone: each programming is an MMIO write, as dear
 * as a guest exit under emulation. A timer left from an earlier slice
 * costs one spurious exit at most.
 */
void lapic_timer_arm_within(u64 us);
/* The timer interrupt came (called by its handler): nothing is armed. */
void lapic_timer_fired(void);
/* Measure the TSC and the APIC timer against the PIT. */
void time_calibrate(void);

#endif
