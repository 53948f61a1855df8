/*
 * MSRs that exit: an allow-list. The vendor code owns the MSRs whose state
 * lives in the VMCS/VMCB; the rest are emulated here; anything else is #GP,
 * as on hardware for an unimplemented MSR.
 */
#include "exit.h"
#include "arch.h"

/* SDM Vol.4, table 2-2 (architectural MSRs). */
#define MSR_IA32_TSC 0x10
#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_MTRRCAP 0xfe
#define MSR_IA32_MISC_ENABLE 0x1a0
#define APIC_BASE_DEFAULT 0xfee00000ull
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_ENABLE (1ull << 11)
#define MISC_ENABLE_FAST_STRINGS 1ull

bool msr_read(struct vp *vp, u32 index, u64 *val)
{
	if (vp_ops->vp_msr(vp, index, val, false))
		return true;
	switch (index) {
	case MSR_IA32_TSC:
		*val = arch_rdtsc();
		return true;
	case MSR_IA32_APIC_BASE:
		*val = APIC_BASE_DEFAULT | APIC_BASE_BSP | APIC_BASE_ENABLE;
		return true;
	case MSR_IA32_MTRRCAP:
		*val = 0; /* no MTRRs: CPUID hides them too */
		return true;
	case MSR_IA32_MISC_ENABLE:
		*val = MISC_ENABLE_FAST_STRINGS;
		return true;
	}
	return false;
}

bool msr_write(struct vp *vp, u32 index, u64 val)
{
	if (vp_ops->vp_msr(vp, index, &val, true))
		return true;
	switch (index) {
	case MSR_IA32_APIC_BASE:
		/* Only the value we report may be written back. */
		return val == (APIC_BASE_DEFAULT | APIC_BASE_BSP | APIC_BASE_ENABLE);
	case MSR_IA32_MISC_ENABLE:
		return val == MISC_ENABLE_FAST_STRINGS;
	}
	return false;
}
