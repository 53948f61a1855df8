/*
 * CPUID as a partition sees it: the host's answers, minus what partitions
 * are not given (virtualization, XSAVE/AVX, MONITOR, MTRR, machine check,
 * performance monitoring, thermal and power control, RDTSCP/RDPID,
 * TSC_ADJUST, protection keys, CET and the speculation controls the host
 * lacks: all of them MSRs or state we do not provide), plus the
 * hypervisor-present bit, x2APIC and the Hyper-V leaves.
 */
#include "exit.h"
#include "arch.h"
#include "hv.h"
#include "mitig.h"
#include "x86.h"

#include <string.h>

/* Leaf 1 (SDM Vol.2A, CPUID, tables 3-10 and 3-11). */
#define L1_ECX_MONITOR	    (1u << 3)
#define L1_ECX_FMA	    (1u << 12)
#define L1_ECX_X2APIC	    (1u << 21)
#define L1_ECX_TSC_DEADLINE (1u << 24)
#define L1_ECX_XSAVE	    (1u << 26)
#define L1_ECX_OSXSAVE	    (1u << 27)
#define L1_ECX_AVX	    (1u << 28)
#define L1_ECX_F16C	    (1u << 29)
#define L1_ECX_HYPERVISOR   (1u << 31)
/* DTES64, DS-CPL, EST, TM2, xTPR, PDCM: debug store, thermal and perf MSRs. */
#define L1_ECX_MSR_MASK ((1u << 2) | (1u << 4) | (1u << 7) | (1u << 8) | (1u << 14) | (1u << 15))
#define L1_EDX_MCE	(1u << 7)
#define L1_EDX_MTRR	(1u << 12)
#define L1_EDX_MCA	(1u << 14)
/* DS, ACPI (thermal MSRs), TM, PBE. */
#define L1_EDX_MSR_MASK	    ((1u << 21) | (1u << 22) | (1u << 29) | (1u << 31))
#define L1_EBX_APIC_ID_MASK 0xff000000u
/* Leaf 7 EBX: AVX2 and the AVX-512 family need XSAVE state we don't switch. */
#define L7_EBX_AVX_MASK                                                                            \
	((1u << 5) | (1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | \
	 (1u << 30) | (1u << 31))
#define L7_ECX_AVX_MASK ((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14))
/* Leaf 7 EBX: TSC_ADJUST (its MSR is not provided), HLE, RTM, MPX, Intel PT; ECX: RDPID. */
#define L7_EBX_OTHER_MASK ((1u << 1) | (1u << 4) | (1u << 11) | (1u << 14) | (1u << 25))
#define L7_ECX_RDPID	  (1u << 22)
/* Leaf 7 ECX: PKU, OSPKE: PKRU is not switched between partitions, so CR4.PKE is refused. */
#define L7_ECX_PKU_MASK ((1u << 3) | (1u << 4))
/* Leaf 7 ECX CET_SS, EDX CET_IBT: CET state lives in XSAVES and MSRs not switched; CR4.CET is
 * refused. */
#define L7_ECX_CET_SS  (1u << 7)
#define L7_EDX_CET_IBT (1u << 20)
/*
 * Leaf 7 EDX: IBRS/IBPB, STIBP, L1D_FLUSH, ARCH_CAPABILITIES, CORE_CAPABILITIES, SSBD: the
 * ones whose MSRs msr.c serves (mitig.l7_edx, exactly where the host has them) stay.
 */
#define L7_EDX_SPEC_MASK                                                                           \
	((1u << 26) | (1u << 27) | (1u << 28) | (1u << 29) | (1u << 30) | (1u << 31))
/* Leaf 6: thermal and power management; only ARAT (the APIC timer always runs) stays. */
#define L6_EAX_ARAT (1u << 2)
/* Leaf 0x80000001 ECX: IBS, SKINIT, WDT, core performance counters (E.4.2). */
#define LX1_ECX_MSR_MASK ((1u << 10) | (1u << 12) | (1u << 13) | (1u << 23))
/* 0x80000008 EBX: IBPB, IBRS, STIBP, ... AMD speculation controls (E.4.7); mitig.lx8_ebx stay. */
#define LX8_EBX_SPEC_MASK 0x0701f000u

#define LEAF_THERMAL	 0x6
#define LEAF_PERFMON	 0xa
#define LEAF_TOPOLOGY	 0xb
#define LEAF_TOPOLOGY_V2 0x1f
#define LEAF_XSAVE	 0xd
#define LEAF_HV_BASE	 0x40000000u
#define LEAF_HV_LAST	 0x400000ffu
#define LEAF_SVM	 0x8000000au

void cpuid_emulate(u32 leaf, u32 sub, u32 out[4])
{
	if (leaf >= LEAF_HV_BASE && leaf <= LEAF_HV_LAST) {
		hv_cpuid(leaf, out);
		return;
	}
	arch_cpuid(leaf, sub, out);
	switch (leaf) {
	case CPUID_FEATURES:
		out[2] &= ~(L1_ECX_MONITOR | CPUID_1_ECX_VMX | L1_ECX_FMA | L1_ECX_TSC_DEADLINE |
			    L1_ECX_XSAVE | L1_ECX_OSXSAVE | L1_ECX_AVX | L1_ECX_F16C);
		out[2] |= L1_ECX_HYPERVISOR | L1_ECX_X2APIC;
		out[1] &= ~L1_EBX_APIC_ID_MASK; /* the VP's APIC id is 0 */
		out[2] &= ~L1_ECX_MSR_MASK;
		out[3] &= ~(L1_EDX_MTRR | L1_EDX_MCE | L1_EDX_MCA | L1_EDX_MSR_MASK);
		break;
	case LEAF_THERMAL:
		out[0] &= L6_EAX_ARAT;
		out[1] = out[2] = out[3] = 0;
		break;
	case 7:
		if (sub == 0) {
			out[1] &= ~(L7_EBX_AVX_MASK | L7_EBX_OTHER_MASK);
			out[2] &=
			    ~(L7_ECX_AVX_MASK | L7_ECX_RDPID | L7_ECX_PKU_MASK | L7_ECX_CET_SS);
			out[3] &= ~((L7_EDX_SPEC_MASK & ~mitig.l7_edx) | L7_EDX_CET_IBT);
		}
		break;
	case LEAF_TOPOLOGY:
	case LEAF_TOPOLOGY_V2:
		out[3] = 0; /* x2APIC id of this logical processor: the VP's is 0 */
		break;
	case LEAF_PERFMON:
	case LEAF_XSAVE:
	case LEAF_SVM:
		memset(out, 0, 4 * sizeof(u32));
		break;
	case CPUID_EXT_FEATURES:
		out[2] &= ~(CPUID_X1_ECX_SVM | LX1_ECX_MSR_MASK);
		out[3] &= ~CPUID_X1_EDX_RDTSCP;
		break;
	case CPUID_ADDR_SIZES:
		out[1] &= ~(LX8_EBX_SPEC_MASK & ~mitig.lx8_ebx);
		break;
	}
}
