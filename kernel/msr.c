/*
 * MSRs that exit: an allow-list. The vendor code owns the MSRs whose state
 * lives in the VMCS/VMCB; the rest are emulated here; anything else is #GP,
 * as on hardware for an unimplemented MSR.
 */
#include "exit.h"
#include "arch.h"
#include "mitig.h"
#include "part.h"
#include "x86.h" /* MSR numbers */

#define MISC_ENABLE_FAST_STRINGS 1ull
/* The VP's LAPIC is in x2APIC mode from reset, and stays there. */
#define APIC_BASE_VALUE (VLAPIC_BASE_ADDR | VLAPIC_BASE_BSP | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD)

static bool is_x2apic(u32 index)
{
	return index >= VLAPIC_MSR_FIRST && index <= VLAPIC_MSR_LAST;
}

bool msr_read(struct vp *vp, u32 index, u64 *val)
{
	bool ok;

	if (vp_ops->vp_msr(vp, index, val, false))
		return true;
	if (hv_msr_read(vp, index, val, &ok))
		return ok;
	if (is_x2apic(index))
		return vlapic_msr_read(&vp->part->lapic, index, arch_rdtsc(), val);
	switch (index) {
	case MSR_IA32_TSC:
		*val = arch_rdtsc();
		return true;
	case MSR_IA32_APIC_BASE:
		*val = APIC_BASE_VALUE;
		return true;
	case MSR_IA32_MTRRCAP:
		*val = 0; /* no MTRRs: CPUID hides them too */
		return true;
	case MSR_IA32_MISC_ENABLE:
		*val = MISC_ENABLE_FAST_STRINGS;
		return true;
	case MSR_AMD_INT_PENDING: /* Linux's AMD E400 idle reads it */
		*val = 0;	  /* no C1E: nothing to report */
		return true;
	case MSR_IA32_BIOS_SIGN_ID: /* Linux reads it unguarded on Intel */
		*val = 0;	    /* no microcode revision to report */
		return true;
	case MSR_IA32_SPEC_CTRL:
		*val = vp->spec_ctrl;
		return vp->guest.spec_ctrl_bits != 0;
	case MSR_IA32_ARCH_CAPABILITIES:
		*val = mitig.guest_arch_caps;
		return mitig.arch_caps;
	}
	return false;
}

bool msr_write(struct vp *vp, u32 index, u64 val)
{
	bool ok;

	if (vp_ops->vp_msr(vp, index, &val, true))
		return true;
	if (hv_msr_write(vp, index, val, &ok))
		return ok;
	if (is_x2apic(index))
		return vlapic_msr_write(&vp->part->lapic, index, arch_rdtsc(), val);
	switch (index) {
	case MSR_IA32_APIC_BASE:
		/* Only the value we report may be written back. */
		return val == APIC_BASE_VALUE;
	case MSR_IA32_MISC_ENABLE:
		return val == MISC_ENABLE_FAST_STRINGS;
	case MSR_IA32_BIOS_SIGN_ID:
		return true; /* writing 0 asks the CPU to latch the revision: nothing to do */
	case MSR_IA32_SPEC_CTRL:
		/* The back end loads it for the guest's entries (VP_MITIG_SPEC_CTRL). */
		if (!vp->guest.spec_ctrl_bits || (val & ~vp->guest.spec_ctrl_bits))
			return false;
		vp->spec_ctrl = val;
		return true;
	case MSR_IA32_PRED_CMD: /* write-only: a read is #GP (SDM Vol.4 2.1) */
		if (!mitig.pred_cmd || (val & ~PRED_CMD_IBPB))
			return false;
		if (val)
			arch_ibpb();
		return true;
	case MSR_IA32_FLUSH_CMD:
		if (!mitig.flush_cmd || (val & ~FLUSH_CMD_L1D))
			return false;
		if (val)
			arch_l1d_flush();
		return true;
	}
	return false;
}
