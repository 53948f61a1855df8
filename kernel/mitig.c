/*
 * Which speculation mitigations this CPU needs and has (docs/security.md).
 * Sources: SDM Vol.4 2.1 (the MSRs), Intel "Speculative Execution Side
 * Channel Mitigations" rev. 3.0 (IBRS, IBPB, STIBP, SSBD, ARCH_CAPABILITIES),
 * Intel "Deep Dive: Intel Analysis of L1 Terminal Fault" (flush L1D on VM
 * entry unless RDCL_NO or SKIP_L1DFL_VMENTRY), Intel "Deep Dive:
 * Microarchitectural Data Sampling" (VERW with MD_CLEAR unless MDS_NO; the
 * L1D_FLUSH command also overwrites the buffers VERW clears, so one flush on
 * entry is enough), Intel "TSX Asynchronous Abort" (TAA_NO), AMD "Software
 * Techniques for Managing Speculation on AMD Processors" (Fn8000_0008 EBX).
 */
#include "mitig.h"
#include "vp.h"
#include "x86.h"

#include <stdio.h>
#include <string.h>

struct mitig mitig;

/* IA32_ARCH_CAPABILITIES bits a guest is told: facts about the CPU that stay true under us. */
#define GUEST_ARCH_CAPS                                                                            \
	(ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_RSBA | ARCH_CAP_SSB_NO |                  \
	 ARCH_CAP_MDS_NO | ARCH_CAP_PSCHANGE_NO | ARCH_CAP_TAA_NO)
#define OFFER_L7_EDX                                                                               \
	(CPUID7_EDX_IBRS_IBPB | CPUID7_EDX_STIBP | CPUID7_EDX_L1D_FLUSH | CPUID7_EDX_ARCH_CAP |    \
	 CPUID7_EDX_SSBD)
#define OFFER_LX8_EBX                                                                              \
	(CPUIDX8_EBX_IBPB | CPUIDX8_EBX_IBRS | CPUIDX8_EBX_STIBP | CPUIDX8_EBX_SSBD |              \
	 CPUIDX8_EBX_SSB_NO)

static u64 spec_ctrl_bits(const struct mitig_cpu *c)
{
	u64 bits = 0;

	if ((c->l7_edx & CPUID7_EDX_IBRS_IBPB) || (c->lx8_ebx & CPUIDX8_EBX_IBRS))
		bits |= SPEC_CTRL_IBRS;
	if ((c->l7_edx & CPUID7_EDX_STIBP) || (c->lx8_ebx & CPUIDX8_EBX_STIBP))
		bits |= SPEC_CTRL_STIBP;
	if ((c->l7_edx & CPUID7_EDX_SSBD) || (c->lx8_ebx & CPUIDX8_EBX_SSBD))
		bits |= SPEC_CTRL_SSBD;
	return bits;
}

void mitig_decide(const struct mitig_cpu *c, struct mitig *m)
{
	u64 caps = (c->l7_edx & CPUID7_EDX_ARCH_CAP) ? c->arch_caps : 0;
	bool affected = !c->unaffected_vendor;
	bool l1tf = affected && !(caps & ARCH_CAP_RDCL_NO);
	bool mds = affected && !(caps & ARCH_CAP_MDS_NO);
	bool taa = affected && (c->l7_ebx & CPUID7_EBX_RTM) && !(caps & ARCH_CAP_TAA_NO);

	memset(m, 0, sizeof(*m));
	m->spec_ctrl_bits = spec_ctrl_bits(c);
	m->pred_cmd = (c->l7_edx & CPUID7_EDX_IBRS_IBPB) || (c->lx8_ebx & CPUIDX8_EBX_IBPB);
	m->flush_cmd = c->l7_edx & CPUID7_EDX_L1D_FLUSH;
	m->arch_caps = c->l7_edx & CPUID7_EDX_ARCH_CAP;
	m->guest_arch_caps = caps & GUEST_ARCH_CAPS;
	m->l7_edx = c->l7_edx & OFFER_L7_EDX;
	m->lx8_ebx = c->lx8_ebx & OFFER_LX8_EBX;
	/* Enhanced IBRS: set once, it keeps guests' predictions out of the host (SDM Vol.4). */
	if ((caps & ARCH_CAP_IBRS_ALL) && (m->spec_ctrl_bits & SPEC_CTRL_IBRS))
		m->host_spec_ctrl = SPEC_CTRL_IBRS;

	m->on = VP_MITIG_RSB;
	if (m->pred_cmd)
		m->on |= VP_MITIG_IBPB;
	if (m->spec_ctrl_bits)
		m->on |= VP_MITIG_SPEC_CTRL;
	if (l1tf && m->flush_cmd && !(caps & ARCH_CAP_SKIP_L1DFL))
		m->on |= VP_MITIG_L1D_FLUSH; /* it clears the MDS buffers as well */
	else if ((mds || taa) && (c->l7_edx & CPUID7_EDX_MD_CLEAR))
		m->on |= VP_MITIG_VERW;
}

static const char *onoff(unsigned on, unsigned bit)
{
	return on & bit ? "on" : "off";
}

void mitig_describe(unsigned on, char *buf, size_t len)
{
	snprintf(buf, len, "ibpb=%s l1d=%s verw=%s rsb=%s spec_ctrl=%s", onoff(on, VP_MITIG_IBPB),
		 onoff(on, VP_MITIG_L1D_FLUSH), onoff(on, VP_MITIG_VERW), onoff(on, VP_MITIG_RSB),
		 onoff(on, VP_MITIG_SPEC_CTRL));
}
