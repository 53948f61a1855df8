/*
 * The boundary between kernel/ and arch/. What kernel/ needs from arch/
 * besides the VP interface (vp.h: vp_probe and the vp_ops it returns): time,
 * interrupts, the serial port, halting, power and instruction emulation,
 * implemented in arch/x86_64. phys_to_virt (palloc.h) is arch's too.
 *
 * arch/ calls into kernel/ only through kmain (below), kprintf and panic
 * (log.h), palloc_alloc, palloc_alloc_contig and palloc_free (palloc.h),
 * and the EPT/NPT entry formats (pt.h); of a partition it knows only what
 * struct vp_guest (vp.h) passes. tests/layers.sh checks the includes and,
 * on a built tree, the symbols.
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
/* The hypervisor's serial console (COM1). */
void serial_init(void);
void serial_write(const char *buf, size_t len);
int serial_getc(void); /* -1 when no byte is waiting */
void serial_flush(void);
__noreturn void arch_halt(void);
/* Power the machine off (ACPI S5), or halt if that fails. */
__noreturn void arch_poweroff(void);
/*
 * Speculation controls (kernel/mitig.c decides, arch/x86_64/spec.c acts;
 * SDM Vol.4 2.1), each only where CPUID lists it.
 */
u64 arch_arch_capabilities(void);    /* IA32_ARCH_CAPABILITIES */
void arch_ibpb(void);		     /* IA32_PRED_CMD.IBPB: forget indirect branch predictions */
void arch_l1d_flush(void);	     /* IA32_FLUSH_CMD.L1D_FLUSH */
void arch_spec_ctrl_host(u64 value); /* IA32_SPEC_CTRL while the hypervisor runs: set now */
struct vp;
/*
 * Both fetch the guest's next instruction through its page tables, reading
 * guest memory only through vp->guest.read (vp.h).
 * arch_at_hlt: that instruction is HLT, and the guest may execute it.
 * arch_mmio_emulate: emulate that instruction, which faulted on MMIO address
 * gpa: fn performs the access (*val in for writes, out for reads); the VP's
 * registers and RIP are updated. 0, or -1 with a one-line reason in why.
 */
bool arch_at_hlt(struct vp *vp);
typedef void (*arch_mmio_fn)(void *ctx, u64 gpa, unsigned size, bool write, u64 *val);
int arch_mmio_emulate(struct vp *vp, u64 gpa, arch_mmio_fn fn, void *ctx, char *why, size_t whylen);
/* Called by arch_boot once the CPU is set up. */
__noreturn void kmain(struct boot_info *bi);

#endif
