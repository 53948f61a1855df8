/*
 * CPUID as a partition sees it: the host's answers, minus what partitions
 * are not given (virtualization, XSAVE/AVX, MONITOR, MTRR), plus the
 * hypervisor-present bit and Bulkhead's hypervisor leaves.
 */
#include "exit.h"
#include "arch.h"

#include <string.h>

/* Leaf 1 (SDM Vol.2A, CPUID, tables 3-10 and 3-11). */
#define L1_ECX_MONITOR (1u << 3)
#define L1_ECX_VMX (1u << 5)
#define L1_ECX_FMA (1u << 12)
#define L1_ECX_X2APIC (1u << 21)
#define L1_ECX_TSC_DEADLINE (1u << 24)
#define L1_ECX_XSAVE (1u << 26)
#define L1_ECX_OSXSAVE (1u << 27)
#define L1_ECX_AVX (1u << 28)
#define L1_ECX_F16C (1u << 29)
#define L1_ECX_HYPERVISOR (1u << 31)
#define L1_EDX_MTRR (1u << 12)
#define L1_EBX_APIC_ID_MASK 0xff000000u
/* Leaf 7 EBX: AVX2 and the AVX-512 family need XSAVE state we don't switch. */
#define L7_EBX_AVX_MASK ((1u << 5) | (1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | \
			 (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31))
#define L7_ECX_AVX_MASK ((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14))
/* Leaf 0x80000001 ECX bit 2: SVM (APM Vol.3, E.4.2). */
#define LX1_ECX_SVM (1u << 2)

#define LEAF_TOPOLOGY 0xb
#define LEAF_TOPOLOGY_V2 0x1f
#define LEAF_XSAVE 0xd
#define LEAF_HV_BASE 0x40000000u
#define LEAF_HV_LAST 0x400000ffu
#define LEAF_SVM 0x8000000au

void cpuid_emulate(u32 leaf, u32 sub, u32 out[4])
{
	if (leaf >= LEAF_HV_BASE && leaf <= LEAF_HV_LAST) {
		memset(out, 0, 4 * sizeof(u32));
		if (leaf == LEAF_HV_BASE) {
			out[0] = LEAF_HV_BASE;
			memcpy(&out[1], "Bulk", 4);
			memcpy(&out[2], "head", 4);
			memcpy(&out[3], " HV ", 4);
		}
		return;
	}
	arch_cpuid(leaf, sub, out);
	switch (leaf) {
	case 1:
		out[2] &= ~(L1_ECX_MONITOR | L1_ECX_VMX | L1_ECX_FMA | L1_ECX_TSC_DEADLINE |
			    L1_ECX_XSAVE | L1_ECX_OSXSAVE | L1_ECX_AVX | L1_ECX_F16C);
		out[2] |= L1_ECX_HYPERVISOR | L1_ECX_X2APIC;
		out[1] &= ~L1_EBX_APIC_ID_MASK; /* the VP's APIC id is 0 */
		out[3] &= ~L1_EDX_MTRR;
		break;
	case 7:
		if (sub == 0) {
			out[1] &= ~L7_EBX_AVX_MASK;
			out[2] &= ~L7_ECX_AVX_MASK;
		}
		break;
	case LEAF_TOPOLOGY:
	case LEAF_TOPOLOGY_V2:
		out[3] = 0; /* x2APIC id of this logical processor: the VP's is 0 */
		break;
	case LEAF_XSAVE:
	case LEAF_SVM:
		memset(out, 0, 4 * sizeof(u32));
		break;
	case 0x80000001u:
		out[2] &= ~LX1_ECX_SVM;
		break;
	}
}
