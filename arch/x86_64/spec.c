/*
 * Speculation mitigations around entries and exits, for both back ends
 * (spec.h; the decisions are kernel/mitig.c's, handed over in struct
 * vp_guest). IBPB keeps one partition's branch training from steering
 * another's (SDM Vol.4 2.1, IA32_PRED_CMD); the guest's IA32_SPEC_CTRL is
 * loaded only for its own run, written here around the entry because the MSR
 * exits to kernel/msr.c on every guest access: the VMCB's own SPEC_CTRL
 * field needs V_SPEC_CTRL (CPUID Fn8000_000A EDX[20]), which QEMU does not
 * model, and VT-x would need MSR load lists for what two WRMSRs do here.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/desc.h"
#include "arch/x86_64/spec.h"
#include "kernel/arch.h"

#define NO_TAG (~0u)

u8 spec_entry_verw, spec_exit_rsb;
const u16 spec_verw_sel = GDT_KERNEL_DS; /* VERW's operand: a writable data segment */

static u64 host_spec_ctrl;
static unsigned last_tag = NO_TAG; /* partition whose VP the CPU ran last */

u64 arch_arch_capabilities(void)
{
	return rdmsr(MSR_IA32_ARCH_CAPABILITIES);
}

void arch_ibpb(void)
{
	wrmsr(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
}

void arch_l1d_flush(void)
{
	wrmsr(MSR_IA32_FLUSH_CMD, FLUSH_CMD_L1D);
}

void arch_spec_ctrl_host(u64 value)
{
	host_spec_ctrl = value;
	wrmsr(MSR_IA32_SPEC_CTRL, value);
}

static bool own_spec_ctrl(const struct vp *vp)
{
	return (vp->guest.mitig & VP_MITIG_SPEC_CTRL) && vp->spec_ctrl != host_spec_ctrl;
}

void spec_entry(struct vp *vp)
{
	unsigned m = vp->guest.mitig;

	if (vp->guest.tag != last_tag) {
		if (m & VP_MITIG_IBPB)
			arch_ibpb();
		last_tag = vp->guest.tag;
	}
	if (own_spec_ctrl(vp))
		wrmsr(MSR_IA32_SPEC_CTRL, vp->spec_ctrl);
	if (m & VP_MITIG_L1D_FLUSH)
		arch_l1d_flush();
	spec_entry_verw = (m & VP_MITIG_VERW) != 0;
	spec_exit_rsb = (m & VP_MITIG_RSB) != 0;
}

void spec_exit(struct vp *vp)
{
	if (own_spec_ctrl(vp))
		wrmsr(MSR_IA32_SPEC_CTRL, host_spec_ctrl);
}

void spec_forget(struct vp *vp)
{
	if (last_tag == vp->guest.tag)
		last_tag = NO_TAG;
}
