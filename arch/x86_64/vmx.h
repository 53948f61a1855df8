/*
 * Intel VT-x: VMCS field encodings, control bits, exit reasons and the
 * VMX instructions (Intel SDM Vol.3C). Section numbers follow the SDM of
 * 2023 and later, where the VMX chapters are 24-31 (VMCS 25, VM entries 27,
 * VM exits 28, EPT 29, instructions 31); older editions number them one
 * lower. Appendix A is the capability MSRs, B the field encodings, C the
 * exit reasons.
 */
#ifndef BULKHEAD_VMX_H
#define BULKHEAD_VMX_H

/* ---- VMX capability and control MSRs (SDM Vol.4 table 2-2; Vol.3C appendix A) ---- */
#define MSR_IA32_VMX_BASIC		 0x480
#define MSR_IA32_VMX_PINBASED_CTLS	 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS	 0x482
#define MSR_IA32_VMX_EXIT_CTLS		 0x483
#define MSR_IA32_VMX_ENTRY_CTLS		 0x484
#define MSR_IA32_VMX_MISC		 0x485
#define MSR_IA32_VMX_CR0_FIXED0		 0x486
#define MSR_IA32_VMX_CR0_FIXED1		 0x487
#define MSR_IA32_VMX_CR4_FIXED0		 0x488
#define MSR_IA32_VMX_CR4_FIXED1		 0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2	 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP	 0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS	 0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS	 0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS	 0x490

/* IA32_FEATURE_CONTROL (SDM Vol.3C 24.7). */
#define FEATURE_CONTROL_LOCK		(1ull << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)

/* IA32_VMX_BASIC (A.1). */
#define VMX_BASIC_REVISION_MASK 0x7fffffffull
#define VMX_BASIC_SIZE_SHIFT	32
#define VMX_BASIC_SIZE_MASK	0x1fffull
#define VMX_BASIC_TRUE_CTLS	(1ull << 55)

/* IA32_VMX_MISC (A.6). */
#define VMX_MISC_PREEMPT_RATE_MASK 0x1full
#define VMX_MISC_STORE_LMA	   (1ull << 5) /* exits store EFER.LMA in "IA-32e mode guest" */

/* IA32_VMX_EPT_VPID_CAP (A.10). */
#define EPT_CAP_WALK_4	      (1ull << 6)
#define EPT_CAP_WB	      (1ull << 14)
#define EPT_CAP_INVEPT	      (1ull << 20)
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define EPT_CAP_INVEPT_ALL    (1ull << 26)

/* Pin-based VM-execution controls (25.6.1). */
#define PIN_EXT_INTR_EXITING (1u << 0)
#define PIN_NMI_EXITING	     (1u << 3)
#define PIN_PREEMPT_TIMER    (1u << 6)

/* Primary processor-based VM-execution controls (25.6.2). */
#define PROC_INTR_WINDOW_EXITING (1u << 2)
#define PROC_HLT_EXITING	 (1u << 7)
#define PROC_MWAIT_EXITING	 (1u << 10)
#define PROC_CR3_LOAD_EXITING	 (1u << 15)
#define PROC_CR3_STORE_EXITING	 (1u << 16)
#define PROC_CR8_LOAD_EXITING	 (1u << 19)
#define PROC_CR8_STORE_EXITING	 (1u << 20)
#define PROC_UNCOND_IO_EXITING	 (1u << 24)
#define PROC_USE_MSR_BITMAPS	 (1u << 28)
#define PROC_MONITOR_EXITING	 (1u << 29)
#define PROC_SECONDARY		 (1u << 31)

/* Secondary processor-based VM-execution controls (25.6.2). */
#define PROC2_ENABLE_EPT	 (1u << 1)
#define PROC2_ENABLE_RDTSCP	 (1u << 3)
#define PROC2_ENABLE_VPID	 (1u << 5)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define PROC2_ENABLE_INVPCID	 (1u << 12)

/* VM-exit controls (25.7.1). */
#define EXIT_SAVE_DEBUG (1u << 2)
#define EXIT_HOST_64	(1u << 9)
#define EXIT_SAVE_PAT	(1u << 18)
#define EXIT_LOAD_PAT	(1u << 19)
#define EXIT_SAVE_EFER	(1u << 20)
#define EXIT_LOAD_EFER	(1u << 21)

/* VM-entry controls (25.8.1). */
#define ENTRY_LOAD_DEBUG  (1u << 2)
#define ENTRY_IA32E_GUEST (1u << 9)
#define ENTRY_LOAD_PAT	  (1u << 14)
#define ENTRY_LOAD_EFER	  (1u << 15)

/* ---- VMCS field encodings (appendix B) ---- */
/* 16-bit (B.1) */
#define VMCS_VPID	    0x0000
#define VMCS_GUEST_ES_SEL   0x0800 /* ES, CS, SS, DS, FS, GS, LDTR, TR: 2 apart */
#define VMCS_GUEST_CS_SEL   0x0802
#define VMCS_GUEST_SS_SEL   0x0804
#define VMCS_GUEST_DS_SEL   0x0806
#define VMCS_GUEST_FS_SEL   0x0808
#define VMCS_GUEST_GS_SEL   0x080a
#define VMCS_GUEST_LDTR_SEL 0x080c
#define VMCS_GUEST_TR_SEL   0x080e
#define VMCS_HOST_ES_SEL    0x0c00
#define VMCS_HOST_CS_SEL    0x0c02
#define VMCS_HOST_SS_SEL    0x0c04
#define VMCS_HOST_DS_SEL    0x0c06
#define VMCS_HOST_FS_SEL    0x0c08
#define VMCS_HOST_GS_SEL    0x0c0a
#define VMCS_HOST_TR_SEL    0x0c0c
/* 64-bit (B.2) */
#define VMCS_MSR_BITMAP		 0x2004
#define VMCS_EXIT_MSR_STORE_ADDR 0x2006
#define VMCS_EXIT_MSR_LOAD_ADDR	 0x2008
#define VMCS_ENTRY_MSR_LOAD_ADDR 0x200a
#define VMCS_TSC_OFFSET		 0x2010
#define VMCS_EPTP		 0x201a
#define VMCS_GUEST_PHYS_ADDR	 0x2400
#define VMCS_LINK_POINTER	 0x2800
#define VMCS_GUEST_DEBUGCTL	 0x2802
#define VMCS_GUEST_PAT		 0x2804
#define VMCS_GUEST_EFER		 0x2806
#define VMCS_GUEST_PDPTE0	 0x280a /* PDPTE0..3: 2 apart */
#define VMCS_HOST_PAT		 0x2c00
#define VMCS_HOST_EFER		 0x2c02
/* 32-bit (B.3) */
#define VMCS_PIN_CTLS		    0x4000
#define VMCS_PROC_CTLS		    0x4002
#define VMCS_EXCEPTION_BITMAP	    0x4004
#define VMCS_PF_ERROR_MASK	    0x4006
#define VMCS_PF_ERROR_MATCH	    0x4008
#define VMCS_CR3_TARGET_COUNT	    0x400a
#define VMCS_EXIT_CTLS		    0x400c
#define VMCS_EXIT_MSR_STORE_COUNT   0x400e
#define VMCS_EXIT_MSR_LOAD_COUNT    0x4010
#define VMCS_ENTRY_CTLS		    0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT   0x4014
#define VMCS_ENTRY_INTR_INFO	    0x4016
#define VMCS_ENTRY_EXCEPTION_ERROR  0x4018
#define VMCS_ENTRY_INSN_LEN	    0x401a
#define VMCS_PROC2_CTLS		    0x401e
#define VMCS_VM_INSN_ERROR	    0x4400
#define VMCS_EXIT_REASON	    0x4402
#define VMCS_EXIT_INTR_INFO	    0x4404
#define VMCS_EXIT_INTR_ERROR	    0x4406
#define VMCS_IDT_VECTORING_INFO	    0x4408
#define VMCS_IDT_VECTORING_ERROR    0x440a
#define VMCS_EXIT_INSN_LEN	    0x440c
#define VMCS_EXIT_INSN_INFO	    0x440e
#define VMCS_GUEST_ES_LIMIT	    0x4800 /* ES..TR limits: 2 apart */
#define VMCS_GUEST_GDTR_LIMIT	    0x4810
#define VMCS_GUEST_IDTR_LIMIT	    0x4812
#define VMCS_GUEST_ES_AR	    0x4814 /* ES..TR access rights: 2 apart */
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824
#define VMCS_GUEST_ACTIVITY	    0x4826
#define VMCS_GUEST_SYSENTER_CS	    0x482a
#define VMCS_PREEMPT_TIMER	    0x482e
#define VMCS_HOST_SYSENTER_CS	    0x4c00
/* Natural width (B.4) */
#define VMCS_CR0_MASK		0x6000
#define VMCS_CR4_MASK		0x6002
#define VMCS_CR0_SHADOW		0x6004
#define VMCS_CR4_SHADOW		0x6006
#define VMCS_EXIT_QUAL		0x6400
#define VMCS_GUEST_CR0		0x6800
#define VMCS_GUEST_CR3		0x6802
#define VMCS_GUEST_CR4		0x6804
#define VMCS_GUEST_ES_BASE	0x6806 /* ES..TR bases: 2 apart */
#define VMCS_GUEST_GDTR_BASE	0x6816
#define VMCS_GUEST_IDTR_BASE	0x6818
#define VMCS_GUEST_DR7		0x681a
#define VMCS_GUEST_RSP		0x681c
#define VMCS_GUEST_RIP		0x681e
#define VMCS_GUEST_RFLAGS	0x6820
#define VMCS_GUEST_PENDING_DBG	0x6822
#define VMCS_GUEST_SYSENTER_ESP 0x6824
#define VMCS_GUEST_SYSENTER_EIP 0x6826
#define VMCS_HOST_CR0		0x6c00
#define VMCS_HOST_CR3		0x6c02
#define VMCS_HOST_CR4		0x6c04
#define VMCS_HOST_FS_BASE	0x6c06
#define VMCS_HOST_GS_BASE	0x6c08
#define VMCS_HOST_TR_BASE	0x6c0a
#define VMCS_HOST_GDTR_BASE	0x6c0c
#define VMCS_HOST_IDTR_BASE	0x6c0e
#define VMCS_HOST_SYSENTER_ESP	0x6c10
#define VMCS_HOST_SYSENTER_EIP	0x6c12
#define VMCS_HOST_RSP		0x6c14
#define VMCS_HOST_RIP		0x6c16

/* Segment registers in the order of the guest-state fields (25.4.1). */
#define VMX_SEG_ES     0
#define VMX_SEG_CS     1
#define VMX_SEG_SS     2
#define VMX_SEG_DS     3
#define VMX_SEG_FS     4
#define VMX_SEG_GS     5
#define VMX_SEG_LDTR   6
#define VMX_SEG_TR     7
#define VMX_SEG_STRIDE 2 /* encodings of consecutive segments differ by 2 */

/* Segment access rights (25.4.1, table 25-2): bit 16 marks it unusable. */
#define VMX_AR_UNUSABLE (1u << 16)
#define VMX_AR_MASK	0xf0ffu /* bits 11:8 are reserved */

/* Guest interruptibility state (25.4.2, table 25-3). */
#define INTR_BLOCK_STI	  (1u << 0)
#define INTR_BLOCK_MOV_SS (1u << 1)

/* Activity state (25.4.2). */
#define VMX_ACTIVITY_ACTIVE 0

/* Interruption information: entry (25.8.3), exit (25.9.2), IDT vectoring (25.9.3). */
#define INTR_INFO_VECTOR_MASK	    0xffu
#define INTR_INFO_TYPE_SHIFT	    8
#define INTR_INFO_TYPE_MASK	    (7u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_EXT_INTR	    (0u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_NMI		    (2u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_HW_EXCEPTION	    (3u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_SW_INTR	    (4u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_PRIV_SW_EXCEPTION (5u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_SW_EXCEPTION	    (6u << INTR_INFO_TYPE_SHIFT)
#define INTR_INFO_ERROR_VALID	    (1u << 11)
#define INTR_INFO_VALID		    (1u << 31)
#define INTR_INFO_ENTRY_RESERVED    0x7ffff000u /* bits 30:12 must be 0 on entry (27.2.1.3) */

/* EPTP (25.6.11). */
#define EPTP_MEMTYPE_WB 6ull
#define EPTP_WALK_4	(3ull << 3) /* page-walk length minus one */

/* INVEPT types (31.3, INVEPT). */
#define INVEPT_SINGLE_CONTEXT 1ull
#define INVEPT_ALL_CONTEXT    2ull

/* MSR bitmap layout (25.6.9): read low, read high, write low, write high. */
#define MSR_BITMAP_READ_LOW   0
#define MSR_BITMAP_READ_HIGH  1024
#define MSR_BITMAP_WRITE_LOW  2048
#define MSR_BITMAP_WRITE_HIGH 3072
#define MSR_BITMAP_RANGE      0x2000u
#define MSR_HIGH_BASE	      0xc0000000u

/* ---- Basic exit reasons (appendix C) ---- */
#define EXIT_REASON_EXCEPTION_NMI	0
#define EXIT_REASON_EXT_INTR		1
#define EXIT_REASON_TRIPLE_FAULT	2
#define EXIT_REASON_INTR_WINDOW		7
#define EXIT_REASON_CPUID		10
#define EXIT_REASON_HLT			12
#define EXIT_REASON_INVD		13
#define EXIT_REASON_VMCALL		18
#define EXIT_REASON_VMCLEAR		19
#define EXIT_REASON_VMLAUNCH		20
#define EXIT_REASON_VMPTRLD		21
#define EXIT_REASON_VMPTRST		22
#define EXIT_REASON_VMREAD		23
#define EXIT_REASON_VMRESUME		24
#define EXIT_REASON_VMWRITE		25
#define EXIT_REASON_VMXOFF		26
#define EXIT_REASON_VMXON		27
#define EXIT_REASON_CR_ACCESS		28
#define EXIT_REASON_IO			30
#define EXIT_REASON_RDMSR		31
#define EXIT_REASON_WRMSR		32
#define EXIT_REASON_INVALID_GUEST_STATE 33
#define EXIT_REASON_MSR_LOADING		34
#define EXIT_REASON_MWAIT		36
#define EXIT_REASON_MONITOR		39
#define EXIT_REASON_MACHINE_CHECK	41
#define EXIT_REASON_EPT_VIOLATION	48
#define EXIT_REASON_EPT_MISCONFIG	49
#define EXIT_REASON_INVEPT		50
#define EXIT_REASON_PREEMPT_TIMER	52
#define EXIT_REASON_INVVPID		53
#define EXIT_REASON_XSETBV		55
#define EXIT_REASON_BASIC_MASK		0xffffu
#define EXIT_REASON_ENTRY_FAIL		(1u << 31) /* 28.2.1: VM entry failed */

/* Exit qualification for I/O instructions (28.2.1, table 28-5). */
#define IO_QUAL_SIZE_MASK  7u /* size minus one */
#define IO_QUAL_IN	   (1u << 3)
#define IO_QUAL_STRING	   (1u << 4)
#define IO_QUAL_REP	   (1u << 5)
#define IO_QUAL_PORT_SHIFT 16

/* Exit qualification for control-register accesses (28.2.1, table 28-3). */
#define CR_QUAL_NUM_MASK   0xfu
#define CR_QUAL_TYPE_SHIFT 4
#define CR_QUAL_TYPE_MASK  3u
#define CR_TYPE_MOV_TO	   0
#define CR_TYPE_MOV_FROM   1
#define CR_TYPE_CLTS	   2
#define CR_TYPE_LMSW	   3
#define CR_QUAL_GPR_SHIFT  8
#define CR_QUAL_GPR_MASK   0xfu
#define CR_QUAL_LMSW_SHIFT 16

/* Exit qualification for EPT violations (28.2.1, table 28-7). */
#define EPT_QUAL_READ  (1u << 0)
#define EPT_QUAL_WRITE (1u << 1)
#define EPT_QUAL_FETCH (1u << 2)

/* Pseudo exit reason for a VMLAUNCH/VMRESUME that failed as an instruction. */
#define VMX_RAW_VMFAIL 0xffffffffull

/* vmx_enter() results: the VM exited, or the instruction failed (31.2). */
#define VMX_ENTER_EXITED       0
#define VMX_ENTER_FAIL_INVALID 1 /* CF=1: no current VMCS */
#define VMX_ENTER_FAIL_VALID   2 /* ZF=1: error number in VMCS_VM_INSN_ERROR */

#ifndef __ASSEMBLY__

#include "kernel/types.h"

struct vm_exit;
struct vp;

/* What vmx.c reads out of the VMCS for the exit decoder (kept testable on the host). */
struct vmx_exit_info {
	u32 reason; /* full exit reason, bit 31 = entry failure */
	u64 qual;
	u64 gpa; /* EPT exits only */
	u32 insn_len;
	u32 intr_info; /* exception/NMI exits only */
	u64 cr0;       /* VMCALL exits only: the guest's CR0 ... */
	u32 ss_ar;     /* ... and SS access rights, whose DPL is the CPL (SDM Vol.3C 25.4.1) */
};

void vmx_decode_exit(const struct vmx_exit_info *x, struct vm_exit *e);

/*
 * Per-VP VT-x state. Besides the VMCS, it keeps what the VMCS does not
 * switch: the syscall MSRs, TSC_AUX, CR2, DR0-3 and DR6. The host never uses
 * them, so they stay loaded while the same VP keeps running and are swapped
 * only when another VP takes the CPU.
 */
struct vmx_vp {
	u64 vmcs_pa;
	bool launched; /* VMRESUME, not VMLAUNCH */
	bool flush;    /* INVEPT before the next entry */
	u64 gpt_gen;   /* partition's gpt_gen at the last INVEPT */
	u64 eptp;
	u64 exit_rip; /* guest RIP at the last exit: if the kernel moved it, STI blocking ends */
	u8 cr8;	      /* task priority (CR8 exits; no virtual APIC page) */
	u64 kernel_gs_base, star, lstar, cstar, sfmask, tsc_aux;
	u64 cr2, dr[4], dr6;
};

/* vmx_cr.c: control-register exits. Returns true when handled (guest continues). */
bool vmx_handle_cr(struct vp *vp, struct vmx_vp *s, u64 qual);
/* Guest-visible CR0/CR4: real value outside the mask, shadow inside (25.6.6). */
u64 vmx_guest_cr0(void);
u64 vmx_guest_cr4(void);
/* vmx.c: CR masks and fixed bits, settled by cpu_enable (A.7, A.8). */
extern u64 vmx_cr0_mask, vmx_cr4_mask, vmx_cr0_fixed0, vmx_cr0_fixed1, vmx_cr4_fixed0;
/* Queue a hardware exception on the current VMCS (error code where the vector has one). */
void vmx_inject_hw_exception(struct vp *vp, u8 vector, u32 error);
/* Write the guest's EFER and keep "IA-32e mode guest" equal to its LMA (27.3.1.1). */
void vmx_set_efer(u64 efer);

/* vmx_entry.S: enter the guest (resume: VMRESUME, else VMLAUNCH) with gprs loaded. */
int vmx_enter(u64 *gprs, int resume);
void vmx_exit_entry(void); /* HOST_RIP: where a VM exit lands */

/* ---- the VMX instructions (31.3) ---- */

static inline u64 vmread(u64 field)
{
	u64 v;

	asm volatile("vmread %1, %0" : "=r"(v) : "r"(field) : "cc");
	return v;
}

/* VMWRITE; false on VMfail (CF or ZF set). */
static inline bool vmwrite(u64 field, u64 v)
{
	bool fail;

	asm volatile("vmwrite %2, %1\n\tsetna %0"
		     : "=q"(fail)
		     : "r"(field), "rm"(v)
		     : "cc", "memory");
	return !fail;
}

static inline bool vmptrld(u64 pa)
{
	bool fail;

	asm volatile("vmptrld %1\n\tsetna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline bool vmclear(u64 pa)
{
	bool fail;

	asm volatile("vmclear %1\n\tsetna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline bool vmxon(u64 pa)
{
	bool fail;

	asm volatile("vmxon %1\n\tsetna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline void invept(u64 type, u64 eptp)
{
	struct {
		u64 eptp, reserved;
	} desc = {eptp, 0};

	asm volatile("invept %0, %1" ::"m"(desc), "r"(type) : "cc", "memory");
}

#endif /* __ASSEMBLY__ */
#endif
