/*
 * Speculative-execution mitigations (docs/security.md): what this CPU needs
 * and has, decided once at boot from CPUID and IA32_ARCH_CAPABILITIES, and
 * which of its speculation controls partitions are offered. mitig_decide is
 * pure (a test feeds it any CPU); mitig_apply.c reads the real one and
 * hands the result to the back end through struct vp_guest (vp.h).
 */
#ifndef BULKHEAD_MITIG_H
#define BULKHEAD_MITIG_H

#include "types.h"

/* CPUID bits (SDM Vol.2A CPUID, leaf 7 table 3-8; APM Vol.3 E.4.7, Fn8000_0008 EBX). */
#define CPUID7_EBX_RTM	     (1u << 11)
#define CPUID7_EDX_MD_CLEAR  (1u << 10)
#define CPUID7_EDX_IBRS_IBPB (1u << 26)
#define CPUID7_EDX_STIBP     (1u << 27)
#define CPUID7_EDX_L1D_FLUSH (1u << 28)
#define CPUID7_EDX_ARCH_CAP  (1u << 29)
#define CPUID7_EDX_SSBD	     (1u << 31)
#define CPUIDX8_EBX_IBPB     (1u << 12)
#define CPUIDX8_EBX_IBRS     (1u << 14)
#define CPUIDX8_EBX_STIBP    (1u << 15)
#define CPUIDX8_EBX_SSBD     (1u << 24)
#define CPUIDX8_EBX_SSB_NO   (1u << 26)

/* What the host CPU says about itself. */
struct mitig_cpu {
	u32 l7_ebx, l7_edx;	/* CPUID.(EAX=7,ECX=0); 0 where the leaf is absent */
	u32 lx8_ebx;		/* CPUID.80000008h:EBX; 0 where absent */
	u64 arch_caps;		/* IA32_ARCH_CAPABILITIES; 0 where CPUID does not list it */
	bool unaffected_vendor; /* a vendor with no L1TF- or MDS-affected parts (AMD, Hygon) */
};

/* What Bulkhead does about it. */
struct mitig {
	unsigned on;	     /* VP_MITIG_* (vp.h) for a partition that keeps its mitigations */
	u64 spec_ctrl_bits;  /* IA32_SPEC_CTRL bits a guest may set; 0: the MSR is not offered */
	u64 host_spec_ctrl;  /* IA32_SPEC_CTRL while the hypervisor runs */
	bool pred_cmd;	     /* guests may write IBPB to IA32_PRED_CMD */
	bool flush_cmd;	     /* guests may write L1D_FLUSH to IA32_FLUSH_CMD */
	bool arch_caps;	     /* guests may read IA32_ARCH_CAPABILITIES, */
	u64 guest_arch_caps; /* and read this */
	u32 l7_edx, lx8_ebx; /* speculation CPUID bits offered (CPUID7_EDX_*, CPUIDX8_EBX_*) */
};

extern struct mitig mitig; /* this machine's, set at boot by mitig_init */

void mitig_decide(const struct mitig_cpu *c, struct mitig *m);
/* "ibpb=on l1d=off verw=off rsb=on spec_ctrl=off": what `on` (VP_MITIG_*) turns on. */
void mitig_describe(unsigned on, char *buf, size_t len);
/* mitig_apply.c: read the CPU, decide, set the host's SPEC_CTRL, print the line. */
void mitig_init(void);

#endif
