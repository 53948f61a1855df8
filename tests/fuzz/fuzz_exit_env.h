/*
 * The fake machine the exit-path fuzzers share (fuzz_mmio.c, fuzz_pio.c):
 * one partition with the real exit dispatcher, port I/O, MSRs, Hyper-V,
 * UART, LAPIC and I/O APIC above it (kernel/exit.c and what it calls), a
 * guest RAM of FX_PAGES pages that are each their own heap block (ASan sees
 * an access that leaves a page) and may be absent, and a VP whose segment
 * state the fuzzer sets. What reaches the fakes is counted for checks.
 */
#ifndef BULKHEAD_FUZZ_EXIT_ENV_H
#define BULKHEAD_FUZZ_EXIT_ENV_H

#include "kernel/exit.h"
#include "kernel/part.h"

#define FX_PAGES  16
#define FX_TSC_HZ 1000000000ull

extern struct partition fx_part;
extern u8 *fx_ram[FX_PAGES];
extern u32 fx_absent;		 /* bit per page: no backing (part_gpa_* and guest reads fail) */
extern struct vp_sregs fx_sregs; /* what vp_get_sregs returns */
extern int fx_injected;		 /* last exception vector injected, or -1 */
extern u64 fx_tx_bytes, fx_irq_changes;
extern u64 fx_tsc;

/* Everything back to a fresh partition (RAM zeroed, mem_size FX_PAGES pages). */
void fx_reset(bool is_linux);

#endif
