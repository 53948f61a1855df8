/* The boot CPU's local APIC (xAPIC MMIO): timer and EOI; PIT-based calibration. */
#ifndef BULKHEAD_APIC_H
#define BULKHEAD_APIC_H

#include "kernel/types.h"

void lapic_init(void);
void lapic_eoi(void);
/* One-shot timer interrupt (VEC_TIMER) after us microseconds; 0 disarms it. */
void lapic_timer_arm(u64 us);
/* Measure the TSC and the APIC timer against the PIT. */
void time_calibrate(void);

#endif
