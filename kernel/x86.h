/*
 * Architectural x86-64 facts that kernel/ and arch/ both use: control
 * register and RFLAGS bits, exception vectors, MSR numbers, CPUID leaves and
 * bits, segment attributes and the values a CPU holds after reset. Only
 * numbers, so host unit tests can include it. Vendor-specific extensions
 * (VMCS fields, VMCB layout) stay in arch/.
 */
#ifndef BULKHEAD_X86_H
#define BULKHEAD_X86_H

/* Control register bits (SDM Vol.3A 2.5). */
#define CR0_PE		 (1ull << 0)
#define CR0_MP		 (1ull << 1)
#define CR0_EM		 (1ull << 2)
#define CR0_TS		 (1ull << 3)
#define CR0_ET		 (1ull << 4)
#define CR0_NE		 (1ull << 5)
#define CR0_WP		 (1ull << 16)
#define CR0_NW		 (1ull << 29)
#define CR0_CD		 (1ull << 30)
#define CR0_PG		 (1ull << 31)
#define CR3_PCID_NOFLUSH (1ull << 63) /* SDM Vol.3A 5.10.4.1 */
#define CR4_PSE		 (1ull << 4)
#define CR4_PAE		 (1ull << 5)
#define CR4_PGE		 (1ull << 7)
#define CR4_OSFXSR	 (1ull << 9)
#define CR4_OSXMMEXCPT	 (1ull << 10)
#define CR4_LA57	 (1ull << 12)
#define CR4_VMXE	 (1ull << 13)
#define CR4_PCIDE	 (1ull << 17)
#define CR4_OSXSAVE	 (1ull << 18)
#define CR4_SMEP	 (1ull << 20)
#define CR4_PKE		 (1ull << 22) /* protection keys (SDM Vol.3A 2.5) */
#define CR4_CET		 (1ull << 23)
#define XCR0_X87	 1u /* SDM Vol.1 13.3 */
#define XCR0_SSE	 2u

/* Paging-structure entry bits (SDM Vol.3A 4.5, tables 4-4 to 4-20; APM Vol.2 5.3). */
#define PTE_P	      (1ull << 0)
#define PTE_RW	      (1ull << 1)
#define PTE_US	      (1ull << 2)
#define PTE_PWT	      (1ull << 3)
#define PTE_PCD	      (1ull << 4)
#define PTE_PS	      (1ull << 7)
#define PTE_XD	      (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 */
/* PAE paging (SDM Vol.3A 4.4.1): CR3 locates four PDPTEs, 32-byte aligned. */
#define CR3_PAE_MASK   0xffffffe0ull
#define PDPTE_PAE_RSVD 0x1e6ull /* bits 8:5 and 2:1 */

/* RFLAGS (SDM Vol.1 3.4.3). */
#define RFLAGS_RESERVED1 (1ull << 1) /* always 1 */
#define RFLAGS_IF	 (1ull << 9)
#define RFLAGS_VM	 (1ull << 17) /* virtual-8086 mode */

/* Exception vectors (SDM Vol.3A 6.3.1, table 6-1). */
#define EXC_DE 0
#define EXC_UD 6
#define EXC_DF 8
#define EXC_GP 13
#define EXC_PF 14

/* MSRs (SDM Vol.4 table 2-2; AMD APM Vol.2 appendix A). */
#define MSR_IA32_TSC		   0x10
#define MSR_IA32_SPEC_CTRL	   0x48
#define MSR_IA32_PRED_CMD	   0x49
#define MSR_IA32_ARCH_CAPABILITIES 0x10a
#define MSR_IA32_FLUSH_CMD	   0x10b
#define MSR_IA32_APIC_BASE	   0x1b
#define MSR_IA32_FEATURE_CONTROL   0x3a
#define MSR_IA32_BIOS_SIGN_ID	   0x8b /* microcode revision */
#define MSR_IA32_MTRRCAP	   0xfe
#define MSR_IA32_SYSENTER_CS	   0x174
#define MSR_IA32_SYSENTER_ESP	   0x175
#define MSR_IA32_SYSENTER_EIP	   0x176
#define MSR_IA32_MISC_ENABLE	   0x1a0
#define MSR_IA32_DEBUGCTL	   0x1d9
#define MSR_IA32_PAT		   0x277
#define MSR_IA32_MTRR_DEF_TYPE	   0x2ff
#define MSR_EFER		   0xc0000080
#define MSR_STAR		   0xc0000081
#define MSR_LSTAR		   0xc0000082
#define MSR_CSTAR		   0xc0000083
#define MSR_SFMASK		   0xc0000084
#define MSR_FS_BASE		   0xc0000100
#define MSR_GS_BASE		   0xc0000101
#define MSR_KERNEL_GS_BASE	   0xc0000102
#define MSR_TSC_AUX		   0xc0000103
#define MSR_AMD_INT_PENDING	   0xc0010055 /* APM: "Interrupt Pending" (C1E) */
#define MSR_VM_CR		   0xc0010114
#define MSR_VM_HSAVE_PA		   0xc0010117

/* EFER (SDM Vol.3A 2.2.1; APM Vol.2 3.1.7). */
#define EFER_SCE  (1ull << 0)
#define EFER_LME  (1ull << 8)
#define EFER_LMA  (1ull << 10)
#define EFER_NXE  (1ull << 11)
#define EFER_SVME (1ull << 12)

/* CPUID leaves and feature bits (SDM Vol.2A CPUID; APM Vol.3 appendix E). */
#define CPUID_FEATURES	    0x1u
#define CPUID_EXT_MAX	    0x80000000u
#define CPUID_EXT_FEATURES  0x80000001u
#define CPUID_ADDR_SIZES    0x80000008u /* EAX[7:0]: physical address bits */
#define CPUID_1_ECX_VMX	    (1u << 5)
#define CPUID_X1_ECX_SVM    (1u << 2)  /* leaf 0x80000001 */
#define CPUID_X1_EDX_RDTSCP (1u << 27) /* leaf 0x80000001 */

/*
 * Segment attributes in the layout struct vp_seg uses (the VMX access-rights
 * layout, SDM Vol.3C 25.4.1): type[3:0] S[4] DPL[6:5] P[7] AVL[12] L[13]
 * D[14] G[15].
 */
#define SEG_ATTR_L    (1u << 13) /* 64-bit code segment */
#define SEG_ATTR_D    (1u << 14) /* default operand size 32 */
#define SEG_DPL(attr) (((attr) >> 5) & 3)

/* State after RESET or INIT (SDM Vol.3A 10.1.1, table 10-1). */
#define RESET_CS_SEL  0xf000
#define RESET_CS_BASE 0xffff0000ull
#define RESET_IP      0xfff0
#define RESET_CR0     (CR0_ET | CR0_CD | CR0_NW)
#define RESET_DR6     0xffff0ff0ull
#define RESET_DR7     0x400ull
#define RESET_PAT     0x0007040600070406ull /* SDM Vol.3A 13.12.4 power-up value */

/*
 * Speculation-control MSRs (SDM Vol.4 2.1 table 2-2; Intel "Speculative Execution Side
 * Channel Mitigations" rev. 3.0; AMD "Software Techniques for Managing Speculation").
 */
#define SPEC_CTRL_IBRS	     (1ull << 0)
#define SPEC_CTRL_STIBP	     (1ull << 1)
#define SPEC_CTRL_SSBD	     (1ull << 2)
#define PRED_CMD_IBPB	     (1ull << 0)
#define FLUSH_CMD_L1D	     (1ull << 0)
#define ARCH_CAP_RDCL_NO     (1ull << 0)
#define ARCH_CAP_IBRS_ALL    (1ull << 1)
#define ARCH_CAP_RSBA	     (1ull << 2)
#define ARCH_CAP_SKIP_L1DFL  (1ull << 3) /* SKIP_L1DFL_VMENTRY */
#define ARCH_CAP_SSB_NO	     (1ull << 4)
#define ARCH_CAP_MDS_NO	     (1ull << 5)
#define ARCH_CAP_PSCHANGE_NO (1ull << 6) /* IF_PSCHANGE_MC_NO */
#define ARCH_CAP_TAA_NO	     (1ull << 8)

#endif
