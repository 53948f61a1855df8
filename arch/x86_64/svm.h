/* AMD SVM: VMCB layout and exit codes (AMD APM Vol.2, appendix B and C). */
#ifndef BULKHEAD_SVM_H
#define BULKHEAD_SVM_H

#include "kernel/types.h"

struct vmcb_seg {
	u16 sel;
	u16 attr; /* compressed: access byte in 7:0, AVL/L/DB/G in 11:8 */
	u32 limit;
	u64 base;
} __packed;

/* Control area (APM Vol.2, table B-1). */
struct vmcb_control {
	u32 intercept_cr;
	u32 intercept_dr;
	u32 intercept_exc;
	u32 intercept_misc1;
	u32 intercept_misc2;
	u32 intercept_misc3;
	u8 reserved0[0x3c - 0x18];
	u16 pause_threshold;
	u16 pause_count;
	u64 iopm_pa;
	u64 msrpm_pa;
	u64 tsc_offset;
	u32 asid;
	u8 tlb_control;
	u8 reserved1[3];
	u64 vintr; /* V_TPR, V_IRQ, V_INTR_MASKING (bit 24), ... */
	u64 int_shadow;
	u64 exit_code;
	u64 exit_info1;
	u64 exit_info2;
	u64 exit_int_info;
	u64 np_enable;
	u64 avic_apic_bar;
	u64 ghcb_pa;
	u64 event_inj;
	u64 n_cr3;
	u64 lbr_virt;
	u64 clean;
	u64 next_rip;
	u8 insn_len;
	u8 insn_bytes[15];
	u8 reserved2[0x400 - 0xe0];
} __packed;

/* State save area (APM Vol.2, table B-2), at offset 0x400. */
struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;
	u8 reserved0[0xcb - 0xa0];
	u8 cpl;
	u32 reserved1;
	u64 efer;
	u8 reserved2[0x148 - 0xd8];
	u64 cr4;
	u64 cr3;
	u64 cr0;
	u64 dr7;
	u64 dr6;
	u64 rflags;
	u64 rip;
	u8 reserved3[0x1d8 - 0x180];
	u64 rsp;
	u8 reserved4[0x1f8 - 0x1e0];
	u64 rax;
	u64 star;
	u64 lstar;
	u64 cstar;
	u64 sfmask;
	u64 kernel_gs_base;
	u64 sysenter_cs;
	u64 sysenter_esp;
	u64 sysenter_eip;
	u64 cr2;
	u8 reserved5[0x268 - 0x248];
	u64 g_pat;
} __packed;

struct vmcb {
	struct vmcb_control c;
	struct vmcb_save s;
} __packed;

/* Sizes: APM Vol.2 tables B-1 (control area, 0x400 bytes) and B-2 (state save area at 0x400,
 * 16 bytes per segment; struct vmcb_save stops after G_PAT, the last field used here). */
_Static_assert(sizeof(struct vmcb_seg) == 16, "VMCB segment (selector, attrib, limit, base)");
_Static_assert(sizeof(struct vmcb_control) == 0x400, "VMCB control area size");
_Static_assert(sizeof(struct vmcb_save) == 0x270, "VMCB state save area through G_PAT");
_Static_assert(sizeof(struct vmcb) == 0x670, "VMCB through G_PAT");
_Static_assert(sizeof(struct vmcb) <= 4096, "a VMCB is one 4 KiB page");
_Static_assert(__builtin_offsetof(struct vmcb, s) == 0x400, "state save area offset");
_Static_assert(__builtin_offsetof(struct vmcb_save, gdtr) == 0x60, "GDTR");
_Static_assert(__builtin_offsetof(struct vmcb_save, tr) == 0x90, "TR");
_Static_assert(__builtin_offsetof(struct vmcb_control, iopm_pa) == 0x40, "IOPM_BASE_PA");
_Static_assert(__builtin_offsetof(struct vmcb_control, exit_code) == 0x70, "EXITCODE");
_Static_assert(__builtin_offsetof(struct vmcb_control, n_cr3) == 0xb0, "N_CR3");
_Static_assert(__builtin_offsetof(struct vmcb_control, next_rip) == 0xc8, "nRIP");
_Static_assert(__builtin_offsetof(struct vmcb_save, cpl) == 0xcb, "CPL");
_Static_assert(__builtin_offsetof(struct vmcb_save, efer) == 0xd0, "EFER");
_Static_assert(__builtin_offsetof(struct vmcb_save, cr4) == 0x148, "CR4");
_Static_assert(__builtin_offsetof(struct vmcb_save, rip) == 0x178, "RIP");
_Static_assert(__builtin_offsetof(struct vmcb_save, rsp) == 0x1d8, "RSP");
_Static_assert(__builtin_offsetof(struct vmcb_save, rax) == 0x1f8, "RAX");
_Static_assert(__builtin_offsetof(struct vmcb_save, cr2) == 0x240, "CR2");
_Static_assert(__builtin_offsetof(struct vmcb_save, g_pat) == 0x268, "G_PAT");

/* intercept_misc1 (vector 3) and misc2 (vector 4) bits (APM Vol.2, B-1). */
#define SVM_INTERCEPT_INTR     (1u << 0)
#define SVM_INTERCEPT_NMI      (1u << 1)
#define SVM_INTERCEPT_VINTR    (1u << 4)
#define SVM_INTERCEPT_SMI      (1u << 2)
#define SVM_INTERCEPT_INIT     (1u << 3)
#define SVM_INTERCEPT_CPUID    (1u << 18)
#define SVM_INTERCEPT_INVD     (1u << 22)
#define SVM_INTERCEPT_HLT      (1u << 24)
#define SVM_INTERCEPT_INVLPGA  (1u << 26)
#define SVM_INTERCEPT_IOIO     (1u << 27)
#define SVM_INTERCEPT_MSR      (1u << 28)
#define SVM_INTERCEPT_SHUTDOWN (1u << 31)
#define SVM_INTERCEPT_VMRUN    (1u << 0)
#define SVM_INTERCEPT_VMMCALL  (1u << 1)
#define SVM_INTERCEPT_VMLOAD   (1u << 2)
#define SVM_INTERCEPT_VMSAVE   (1u << 3)
#define SVM_INTERCEPT_STGI     (1u << 4)
#define SVM_INTERCEPT_CLGI     (1u << 5)
#define SVM_INTERCEPT_SKINIT   (1u << 6)
#define SVM_INTERCEPT_XSETBV   (1u << 13)
/* intercept_cr: reads of CRn in bit n, writes in bit 16 + n (APM Vol.2, B-1). */
#define SVM_INTERCEPT_CR4_WRITE (1u << 20)

/* Exit codes (APM Vol.2, appendix C). */
#define SVM_EXIT_CR4_WRITE 0x14
#define SVM_EXIT_EXCP_BASE 0x40
#define SVM_EXIT_INTR	   0x60
#define SVM_EXIT_NMI	   0x61
#define SVM_EXIT_SMI	   0x62
#define SVM_EXIT_VINTR	   0x64
#define SVM_EXIT_CPUID	   0x72
#define SVM_EXIT_HLT	   0x78
#define SVM_EXIT_IOIO	   0x7b
#define SVM_EXIT_MSR	   0x7c
#define SVM_EXIT_SHUTDOWN  0x7f
#define SVM_EXIT_VMRUN	   0x80
#define SVM_EXIT_VMMCALL   0x81
#define SVM_EXIT_NPF	   0x400
#define SVM_EXIT_INVALID   ((u64)-1)

/* EVENTINJ / EXITINTINFO (APM Vol.2, 15.20). */
#define SVM_EVT_VALID	       (1u << 31)
#define SVM_EVT_ERR_VALID      (1u << 11)
#define SVM_EVT_TYPE_INTR      (0u << 8)
#define SVM_EVT_TYPE_EXCEPTION (3u << 8)

/* IOIO exit information (APM Vol.2, 15.10.2). */
#define SVM_IOIO_IN	    (1u << 0)
#define SVM_IOIO_STR	    (1u << 2)
#define SVM_IOIO_REP	    (1u << 3)
#define SVM_IOIO_SZ_SHIFT   4
#define SVM_IOIO_PORT_SHIFT 16

/* Nested page fault error code in EXITINFO1 (APM Vol.2, 15.25.6). */
#define SVM_NPF_WRITE (1u << 1)
#define SVM_NPF_FETCH (1u << 4)

/* VMCB V_INTR fields (APM Vol.2, table B-1 offset 0x60) and the interrupt shadow (0x68). */
#define SVM_VINTR_MASKING    (1ull << 24)
#define SVM_VINTR_IRQ	     (1ull << 8)
#define SVM_VINTR_PRIO_SHIFT 16
#define SVM_VINTR_IGN_TPR    (1ull << 20)
#define SVM_INT_SHADOW	     1ull
#define SVM_TLB_FLUSH_ALL    1
#define SVM_VM_CR_SVMDIS     (1ull << 4)

/* CPUID Fn8000_000A EDX (APM Vol.3, E.4.10). */
#define SVM_FEATURE_NP	 (1u << 0)
#define SVM_FEATURE_NRIP (1u << 3)

struct vm_exit;
void svm_decode_exit(const struct vmcb *v, struct vm_exit *e);
/*
 * MOV to CRn (0F 22 /r) at bytes[0..n): without decode assists the intercept
 * says only which CR. The instruction's length, with *cr and the source
 * *gpr (enum vp_reg); 0 if the bytes are not that instruction.
 */
unsigned svm_decode_mov_to_cr(const u8 *bytes, unsigned n, bool long_mode, unsigned *cr,
			      unsigned *gpr);

/*
 * CR4 bits a guest may not set: PKE (PKRU is not switched and PKU is not
 * offered), OSXSAVE (XSAVE is not offered), CET (needs XSAVES state), VMXE
 * (no VMX on AMD) and the reserved bits 63:24 (APM Vol.2 3.1.3).
 */
#define SVM_CR4_REFUSED (CR4_PKE | CR4_OSXSAVE | CR4_CET | CR4_VMXE | ~0xffffffull)

struct vp_sregs;
/* A MOV of val to CR4 at cpl with the guest's registers sr raises #GP. */
bool svm_cr4_write_faults(u8 cpl, const struct vp_sregs *sr, u64 val);

/* svm_entry.S: run the guest once; regs are the GPRs except RAX/RSP. */
void svm_enter(u64 vmcb_pa, u64 host_vmcb_pa, void *gprs);

#endif
