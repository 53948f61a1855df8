/*
 * What kernel/ needs from arch/ besides the VP interface (vp.h): time,
 * interrupts, halting and power. Implemented in arch/x86_64.
 */
#ifndef BULKHEAD_ARCH_H
#define BULKHEAD_ARCH_H

#include "types.h"

struct boot_info;

/* Monotonic time since boot. */
u64 arch_time_us(void);
u64 arch_tsc_hz(void);
u64 arch_rdtsc(void);
/* The host CPU's CPUID leaf (eax, ebx, ecx, edx). */
void arch_cpuid(u32 leaf, u32 sub, u32 out[4]);
void arch_irq_disable(void);
/* Wait (halted) until a host interrupt or at most us microseconds have passed. */
void arch_idle(u64 us);
/* Guest x87/SSE state: partitions never see each other's registers. */
void arch_fpu_init(void *area);
void arch_fpu_save(void *area);
void arch_fpu_restore(const void *area);
void arch_backtrace_here(void);
__noreturn void arch_halt(void);
/* Power the machine off (ACPI S5), or halt if that fails. */
__noreturn void arch_poweroff(void);
/*
 * Emulate the instruction of vp that faulted on MMIO address gpa: fn performs
 * the access (*val in for writes, out for reads); the VP's registers and RIP
 * are updated. 0, or -1 with a one-line reason in why.
 */
struct vp;
/* The guest's next instruction is HLT (fetched through its page tables). */
bool arch_at_hlt(struct vp *vp);
typedef void (*arch_mmio_fn)(void *ctx, u64 gpa, unsigned size, bool write, u64 *val);
int arch_mmio_emulate(struct vp *vp, u64 gpa, arch_mmio_fn fn, void *ctx, char *why, size_t whylen);
/* Called by arch_boot once the CPU is set up. */
__noreturn void kmain(struct boot_info *bi);

#endif
