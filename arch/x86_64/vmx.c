/*
 * Intel VT-x back end of the VP interface: VMXON, one VMCS per VP, EPT with
 * VPIDs, unrestricted guest for real mode, VMLAUNCH/VMRESUME, and the exits
 * that never need the kernel (control registers, #UD for what CPUID hides).
 * SDM Vol.3C chapters 24-31; section numbers as in vmx.h.
 *
 * Guest state that the VMCS does not switch (syscall MSRs, TSC_AUX, CR2,
 * DR0-3, DR6) is passed through and swapped only when another VP takes the
 * CPU: the host never executes SYSCALL, SWAPGS or RDTSCP, takes no page
 * faults and sets no breakpoints (DR7 is 0x400 after every exit), so it
 * needs none of them restored on exit.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/desc.h"
#include "arch/x86_64/spec.h"
#include "arch/x86_64/vendor.h"
#include "arch/x86_64/vmx.h"
#include "kernel/arch.h"
#include "kernel/log.h"
#include "kernel/palloc.h"

#include <string.h>

#define REAL_MODE_LIMIT 0xffff
/* Access rights at reset (25.4.1 layout): code, data, LDT, busy 32-bit TSS. */
#define AR_CODE	       0x9b
#define AR_DATA	       0x93
#define AR_LDT	       0x82
#define AR_TSS_BUSY    0x8b
#define VMCS_LINK_NONE (~0ull) /* 27.3.1.5: no shadow VMCS */
#define VPID_FIRST     1       /* VPID 0 is the host's (29.1) */
/* Vectors that push an error code in protected mode (SDM Vol.3A 7.3; 27.2.1.3). */
#define EXC_WITH_ERROR                                                                             \
	((1u << 8) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 17))
#define US_PER_S	     1000000ull
#define PREEMPT_TIMER_MAX    0xffffffffull
#define TSS_DESC_BASE_LO(d)  (((d) >> 16) & 0xffffffull) /* SDM Vol.3A 9.2.3 */
#define TSS_DESC_BASE_MID(d) (((d) >> 56) & 0xffull)

/* VM-instruction error numbers (31.4) worth a name in a message. */
#define VMERR_LAUNCH_NOT_CLEAR	  4
#define VMERR_RESUME_NOT_LAUNCHED 5
#define VMERR_INVALID_CONTROLS	  7
#define VMERR_INVALID_HOST_STATE  8
#define VMERR_MOV_SS_BLOCKING	  26

_Static_assert(sizeof(struct vmx_vp) <= PAGE_SIZE, "VP state fits its frame");

/* What cpu_enable settled once for every VMCS. */
static struct {
	u32 revision;
	u32 pin, proc, proc2, exit, entry;
	unsigned preempt_shift; /* the timer ticks every 2^shift TSC cycles (26.5.1) */
	bool lma_saved;		/* exits update "IA-32e mode guest" themselves (A.6 bit 5) */
	bool invept_single;
	bool tsc_aux; /* the CPU has TSC_AUX: guests reach it through RDTSCP */
	u64 msr_bitmap_pa;
	u64 host_efer, host_pat, host_fs_base, host_gs_base;
} vmx;

u64 vmx_cr0_mask, vmx_cr4_mask, vmx_cr0_fixed0, vmx_cr0_fixed1, vmx_cr4_fixed0;

static struct vmx_vp *vmcs_current; /* whose VMCS VMPTRLD made current */
static struct vmx_vp *state_owner;  /* whose pass-through registers are in the CPU */

/* MSRs the guest reaches without exits: VMCS fields or switched lazily. */
static const u32 passthrough_msrs[] = {
    MSR_FS_BASE,
    MSR_GS_BASE,
    MSR_KERNEL_GS_BASE,
    MSR_STAR,
    MSR_LSTAR,
    MSR_CSTAR,
    MSR_SFMASK,
    MSR_IA32_SYSENTER_CS,
    MSR_IA32_SYSENTER_ESP,
    MSR_IA32_SYSENTER_EIP,
    MSR_IA32_PAT,
    MSR_EFER,
};

/* A VMWRITE that fails is a bug here: say which field. */
static void vmw(u64 field, u64 v)
{
	if (!vmwrite(field, v))
		kprintf("error: vmx: VMWRITE of field 0x%llx failed (VM-instruction error %llu)\n",
			(unsigned long long)field, (unsigned long long)vmread(VMCS_VM_INSN_ERROR));
}

/* ---- enabling VMX ---- */

/* IA32_FEATURE_CONTROL must allow VMXON outside SMX and be locked (24.7). */
static int feature_control_enable(void)
{
	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (!(fc & FEATURE_CONTROL_LOCK)) {
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
		return 0;
	}
	if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		kprintf("error: VT-x is disabled by the firmware (IA32_FEATURE_CONTROL locked "
			"without VMX outside SMX)\n");
		return -1;
	}
	return 0;
}

static bool offers(u32 may_be_1, u32 bits, const char *what)
{
	if ((may_be_1 & bits) == bits)
		return true;
	kprintf("error: VT-x without %s is not supported\n", what);
	return false;
}

/*
 * A control word from its capability MSR (A.3-A.5): bits 31:0 say which
 * controls must be 1, bits 63:32 which may be 1. want is taken where allowed.
 */
static u32 settle(u64 cap, u32 want)
{
	return ((u32)cap | want) & (u32)(cap >> 32);
}

static int controls_init(bool true_ctls)
{
	u64 pin = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	u64 proc =
	    rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	u64 exit = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	u64 entry = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	u64 proc2 = 0;
	bool ok;

	ok = offers(pin >> 32, PIN_EXT_INTR_EXITING | PIN_NMI_EXITING,
		    "external-interrupt and NMI exiting");
	ok &= offers(pin >> 32, PIN_PREEMPT_TIMER, "the VMX-preemption timer");
	ok &= offers(proc >> 32, PROC_HLT_EXITING | PROC_UNCOND_IO_EXITING, "HLT and I/O exiting");
	ok &= offers(proc >> 32, PROC_USE_MSR_BITMAPS, "MSR bitmaps");
	ok &= offers(proc >> 32, PROC_SECONDARY, "secondary controls (EPT)");
	if (!ok)
		return -1;
	proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	ok &= offers(proc2 >> 32, PROC2_ENABLE_EPT, "EPT");
	ok &= offers(proc2 >> 32, PROC2_ENABLE_VPID, "VPID");
	ok &= offers(proc2 >> 32, PROC2_UNRESTRICTED_GUEST, "unrestricted guest");
	ok &= offers(exit >> 32, EXIT_HOST_64, "a 64-bit host");
	ok &=
	    offers(exit >> 32, EXIT_SAVE_EFER | EXIT_LOAD_EFER, "saving and loading EFER on exit");
	ok &= offers(entry >> 32, ENTRY_LOAD_EFER, "loading EFER on entry");
	ok &= offers(exit >> 32, EXIT_SAVE_PAT | EXIT_LOAD_PAT, "saving and loading PAT on exit");
	ok &= offers(entry >> 32, ENTRY_LOAD_PAT, "loading PAT on entry");
	if (!ok)
		return -1;

	vmx.pin = settle(pin, PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_PREEMPT_TIMER);
	/* CR8 exits keep TPR per VP; MONITOR/MWAIT are hidden by CPUID, so #UD them. */
	ok &= offers(proc >> 32, PROC_INTR_WINDOW_EXITING, "interrupt-window exiting");
	if (!ok)
		return -1;
	vmx.proc =
	    settle(proc, PROC_HLT_EXITING | PROC_UNCOND_IO_EXITING | PROC_USE_MSR_BITMAPS |
			     PROC_SECONDARY | PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING |
			     PROC_MONITOR_EXITING | PROC_MWAIT_EXITING);
	/* Without these two, RDTSCP and INVPCID would #UD although CPUID lists them. */
	vmx.proc2 = settle(proc2, PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST |
				      PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID);
	vmx.exit = settle(exit, EXIT_HOST_64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT |
				    EXIT_LOAD_PAT | EXIT_SAVE_DEBUG);
	vmx.entry =
	    settle(entry, ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG) & ~ENTRY_IA32E_GUEST;
	return 0;
}

static int ept_check(void)
{
	u64 cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);

	if (!(cap & EPT_CAP_WALK_4)) {
		kprintf("error: VT-x EPT without 4-level page walks is not supported\n");
		return -1;
	}
	if (!(cap & EPT_CAP_WB)) {
		kprintf("error: VT-x EPT without write-back paging structures is not supported\n");
		return -1;
	}
	if (!(cap & EPT_CAP_INVEPT) || !(cap & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
		kprintf(
		    "error: VT-x EPT without INVEPT (single or all context) is not supported\n");
		return -1;
	}
	vmx.invept_single = cap & EPT_CAP_INVEPT_SINGLE;
	return 0;
}

/* MSR bitmap (25.6.9): a set bit makes RDMSR/WRMSR of that MSR exit. */
static void msr_pass(u8 *map, u32 msr)
{
	u32 half = 0;

	if (msr >= MSR_BITMAP_RANGE) {
		if (msr - MSR_HIGH_BASE >= MSR_BITMAP_RANGE)
			return;
		msr -= MSR_HIGH_BASE;
		half = MSR_BITMAP_READ_HIGH - MSR_BITMAP_READ_LOW;
	}
	map[MSR_BITMAP_READ_LOW + half + msr / 8] &= (u8) ~(1u << (msr % 8));
	map[MSR_BITMAP_WRITE_LOW + half + msr / 8] &= (u8) ~(1u << (msr % 8));
}

static int msr_bitmap_init(void)
{
	u8 *map;

	vmx.msr_bitmap_pa = palloc_alloc();
	if (!vmx.msr_bitmap_pa)
		return -1;
	map = phys_to_virt(vmx.msr_bitmap_pa);
	memset(map, 0xff, PAGE_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
		msr_pass(map, passthrough_msrs[i]);
	if (vmx.tsc_aux)
		msr_pass(map, MSR_TSC_AUX);
	return 0;
}

static bool cpu_has_rdtscp(void)
{
	struct cpuid_regs id;

	cpuid(CPUID_EXT_MAX, 0, &id);
	if (id.eax < CPUID_EXT_FEATURES)
		return false;
	cpuid(CPUID_EXT_FEATURES, 0, &id);
	return id.edx & CPUID_X1_EDX_RDTSCP;
}

static int vmx_cpu_enable(void)
{
	struct cpuid_regs id;
	u64 basic, misc, vmxon_pa;

	cpuid(1, 0, &id);
	if (!(id.ecx & CPUID_1_ECX_VMX)) {
		kprintf("error: the CPU has no VT-x (CPUID.1:ECX.VMX is 0)\n");
		return -1;
	}
	if (feature_control_enable())
		return -1;
	basic = rdmsr(MSR_IA32_VMX_BASIC);
	vmx.revision = basic & VMX_BASIC_REVISION_MASK;
	if (((basic >> VMX_BASIC_SIZE_SHIFT) & VMX_BASIC_SIZE_MASK) > PAGE_SIZE) {
		kprintf("error: VT-x VMCS larger than a page is not supported\n");
		return -1;
	}
	if (controls_init(basic & VMX_BASIC_TRUE_CTLS) || ept_check())
		return -1;
	misc = rdmsr(MSR_IA32_VMX_MISC);
	vmx.preempt_shift = misc & VMX_MISC_PREEMPT_RATE_MASK;
	vmx.lma_saved = misc & VMX_MISC_STORE_LMA;
	vmx.tsc_aux = (vmx.proc2 & PROC2_ENABLE_RDTSCP) && cpu_has_rdtscp();

	/* CR0/CR4 in VMX operation (A.7, A.8): the guest owns PE and PG (unrestricted). */
	vmx_cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	vmx_cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	vmx_cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	u64 cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	vmx_cr0_mask = (vmx_cr0_fixed0 & ~(CR0_PE | CR0_PG)) | ~vmx_cr0_fixed1;
	vmx_cr4_mask = vmx_cr4_fixed0 | ~cr4_fixed1 | CR4_OSXSAVE | CR4_PKE | CR4_CET;
	write_cr0((read_cr0() | vmx_cr0_fixed0) & vmx_cr0_fixed1);
	write_cr4((read_cr4() | vmx_cr4_fixed0 | CR4_VMXE) & cr4_fixed1);

	/* VMXON region: a page starting with the revision identifier (25.11.5). */
	vmxon_pa = palloc_alloc();
	if (!vmxon_pa || msr_bitmap_init())
		return -1;
	*(u32 *)phys_to_virt(vmxon_pa) = vmx.revision;
	if (!vmxon(vmxon_pa)) {
		kprintf("error: VMXON failed (the CPU may already be in VMX operation)\n");
		return -1;
	}
	vmx.host_efer = rdmsr(MSR_EFER);
	vmx.host_pat = rdmsr(MSR_IA32_PAT);
	vmx.host_fs_base = rdmsr(MSR_FS_BASE);
	vmx.host_gs_base = rdmsr(MSR_GS_BASE);
	kprintf("vmx: VMCS revision 0x%x, EPT, VPID, unrestricted guest, preemption timer "
		"rate 2^%u\n",
		vmx.revision, vmx.preempt_shift);
	return 0;
}

/* ---- which VMCS and which registers are in the CPU ---- */

static void vmcs_load(struct vmx_vp *s)
{
	if (vmcs_current == s)
		return;
	if (!vmptrld(s->vmcs_pa))
		panic("vmx: VMPTRLD of 0x%llx failed", (unsigned long long)s->vmcs_pa);
	vmcs_current = s;
}

static void state_save(struct vmx_vp *s)
{
	s->kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
	s->star = rdmsr(MSR_STAR);
	s->lstar = rdmsr(MSR_LSTAR);
	s->cstar = rdmsr(MSR_CSTAR);
	s->sfmask = rdmsr(MSR_SFMASK);
	if (vmx.tsc_aux)
		s->tsc_aux = rdmsr(MSR_TSC_AUX);
	s->cr2 = read_cr2();
	s->dr[0] = read_dr0();
	s->dr[1] = read_dr1();
	s->dr[2] = read_dr2();
	s->dr[3] = read_dr3();
	s->dr6 = read_dr6();
}

static void state_load(const struct vmx_vp *s)
{
	wrmsr(MSR_KERNEL_GS_BASE, s->kernel_gs_base);
	wrmsr(MSR_STAR, s->star);
	wrmsr(MSR_LSTAR, s->lstar);
	wrmsr(MSR_CSTAR, s->cstar);
	wrmsr(MSR_SFMASK, s->sfmask);
	if (vmx.tsc_aux)
		wrmsr(MSR_TSC_AUX, s->tsc_aux);
	write_cr2(s->cr2);
	write_dr0(s->dr[0]);
	write_dr1(s->dr[1]);
	write_dr2(s->dr[2]);
	write_dr3(s->dr[3]);
	write_dr6(s->dr6);
}

static void state_switch(struct vmx_vp *s)
{
	if (state_owner == s)
		return;
	if (state_owner)
		state_save(state_owner);
	state_load(s);
	state_owner = s;
}

/* ---- VP life cycle ---- */

static int vmx_vp_create(struct vp *vp)
{
	u64 state_pa = palloc_alloc(), vmcs_pa = palloc_alloc();
	struct vmx_vp *s;

	if (!state_pa || !vmcs_pa) {
		if (state_pa)
			palloc_free(state_pa);
		if (vmcs_pa)
			palloc_free(vmcs_pa);
		return -1;
	}
	*(u32 *)phys_to_virt(vmcs_pa) = vmx.revision; /* 25.2 */
	if (!vmclear(vmcs_pa)) {
		palloc_free(state_pa);
		palloc_free(vmcs_pa);
		return -1;
	}
	s = phys_to_virt(state_pa);
	s->vmcs_pa = vmcs_pa;
	vp->arch = s;
	vp->arch_pa = state_pa;
	return 0;
}

static void vmx_vp_destroy(struct vp *vp)
{
	struct vmx_vp *s = vp->arch;

	if (!s)
		return;
	vmclear(s->vmcs_pa);
	if (vmcs_current == s)
		vmcs_current = NULL;
	if (state_owner == s)
		state_owner = NULL;
	spec_forget(vp);
	palloc_free(s->vmcs_pa);
	palloc_free(vp->arch_pa);
	vp->arch = NULL;
}

static void seg_write(unsigned seg, u16 sel, u64 base, u32 limit, u32 ar)
{
	vmw(VMCS_GUEST_ES_SEL + seg * VMX_SEG_STRIDE, sel);
	vmw(VMCS_GUEST_ES_BASE + seg * VMX_SEG_STRIDE, base);
	vmw(VMCS_GUEST_ES_LIMIT + seg * VMX_SEG_STRIDE, limit);
	vmw(VMCS_GUEST_ES_AR + seg * VMX_SEG_STRIDE, ar);
}

/* Host-state area (25.5), checked by VM entry (27.2) and loaded by every exit (28.5). */
static void vmcs_write_host(void)
{
	struct desc_ptr gdtr, idtr;

	asm volatile("sgdt %0" : "=m"(gdtr));
	asm volatile("sidt %0" : "=m"(idtr));
	const u64 *tss_desc = (const u64 *)(gdtr.base + GDT_TSS);
	u64 tr_base = TSS_DESC_BASE_LO(tss_desc[0]) | (TSS_DESC_BASE_MID(tss_desc[0]) << 24) |
		      (tss_desc[1] << 32);

	vmw(VMCS_HOST_CR0, read_cr0());
	vmw(VMCS_HOST_CR3, read_cr3());
	vmw(VMCS_HOST_CR4, read_cr4());
	vmw(VMCS_HOST_CS_SEL, GDT_KERNEL_CS);
	vmw(VMCS_HOST_SS_SEL, GDT_KERNEL_DS);
	vmw(VMCS_HOST_DS_SEL, GDT_KERNEL_DS);
	vmw(VMCS_HOST_ES_SEL, GDT_KERNEL_DS);
	vmw(VMCS_HOST_FS_SEL, 0);
	vmw(VMCS_HOST_GS_SEL, 0);
	vmw(VMCS_HOST_TR_SEL, GDT_TSS);
	vmw(VMCS_HOST_FS_BASE, vmx.host_fs_base);
	vmw(VMCS_HOST_GS_BASE, vmx.host_gs_base);
	vmw(VMCS_HOST_TR_BASE, tr_base);
	vmw(VMCS_HOST_GDTR_BASE, gdtr.base);
	vmw(VMCS_HOST_IDTR_BASE, idtr.base);
	vmw(VMCS_HOST_SYSENTER_CS, 0);
	vmw(VMCS_HOST_SYSENTER_ESP, 0);
	vmw(VMCS_HOST_SYSENTER_EIP, 0);
	vmw(VMCS_HOST_PAT, vmx.host_pat);
	vmw(VMCS_HOST_EFER, vmx.host_efer);
	vmw(VMCS_HOST_RIP, (u64)vmx_exit_entry);
	/* HOST_RSP is written by vmx_enter, right before each entry. */
}

/* Execution, exit and entry controls (25.6-25.8). */
static void vmcs_write_controls(struct vmx_vp *s, const struct vp_guest *g)
{
	vmw(VMCS_PIN_CTLS, vmx.pin);
	vmw(VMCS_PROC_CTLS, vmx.proc);
	vmw(VMCS_PROC2_CTLS, vmx.proc2);
	vmw(VMCS_EXIT_CTLS, vmx.exit);
	vmw(VMCS_ENTRY_CTLS, vmx.entry);
	vmw(VMCS_EXCEPTION_BITMAP, 0);
	vmw(VMCS_PF_ERROR_MASK, 0);
	vmw(VMCS_PF_ERROR_MATCH, 0);
	vmw(VMCS_CR3_TARGET_COUNT, 0);
	vmw(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmw(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmw(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmw(VMCS_ENTRY_INTR_INFO, 0);
	vmw(VMCS_MSR_BITMAP, vmx.msr_bitmap_pa);
	s->eptp = g->gpt->root | EPTP_WALK_4 | EPTP_MEMTYPE_WB;
	vmw(VMCS_EPTP, s->eptp);
	vmw(VMCS_VPID, VPID_FIRST + g->tag);
	vmw(VMCS_CR0_MASK, vmx_cr0_mask);
	vmw(VMCS_CR4_MASK, vmx_cr4_mask);
	vmw(VMCS_LINK_POINTER, VMCS_LINK_NONE);
}

/*
 * Guest state at reset (SDM Vol.3A 10.1.1, table 10-1): real mode, which
 * unrestricted guest lets VM entry load (27.3.1). CR0 and CR4 read as
 * the guest expects through the shadows; the real values carry the bits VMX
 * operation fixes (NE, VMXE).
 */
static void vmcs_write_guest_reset(const struct vp_reset *r)
{
	static const unsigned data_segs[] = {VMX_SEG_ES, VMX_SEG_SS, VMX_SEG_DS, VMX_SEG_FS,
					     VMX_SEG_GS};
	u64 cr0 = RESET_CR0;

	seg_write(VMX_SEG_CS, r->cs_sel, r->cs_base, REAL_MODE_LIMIT, AR_CODE);
	for (unsigned i = 0; i < ARRAY_SIZE(data_segs); i++)
		seg_write(data_segs[i], 0, 0, REAL_MODE_LIMIT, AR_DATA);
	seg_write(VMX_SEG_LDTR, 0, 0, REAL_MODE_LIMIT, AR_LDT);
	seg_write(VMX_SEG_TR, 0, 0, REAL_MODE_LIMIT, AR_TSS_BUSY);
	vmw(VMCS_GUEST_GDTR_BASE, 0);
	vmw(VMCS_GUEST_GDTR_LIMIT, REAL_MODE_LIMIT);
	vmw(VMCS_GUEST_IDTR_BASE, 0);
	vmw(VMCS_GUEST_IDTR_LIMIT, REAL_MODE_LIMIT);

	vmw(VMCS_GUEST_CR0, (cr0 | (vmx_cr0_fixed0 & ~(CR0_PE | CR0_PG))) & vmx_cr0_fixed1);
	vmw(VMCS_CR0_SHADOW, cr0);
	vmw(VMCS_GUEST_CR3, 0);
	vmw(VMCS_GUEST_CR4, vmx_cr4_fixed0);
	vmw(VMCS_CR4_SHADOW, 0);
	vmw(VMCS_GUEST_DR7, RESET_DR7);
	vmw(VMCS_GUEST_DEBUGCTL, 0);
	vmw(VMCS_GUEST_SYSENTER_CS, 0);
	vmw(VMCS_GUEST_SYSENTER_ESP, 0);
	vmw(VMCS_GUEST_SYSENTER_EIP, 0);
	vmw(VMCS_GUEST_PAT, RESET_PAT);
	vmw(VMCS_GUEST_EFER, 0);
	for (unsigned i = 0; i < 4; i++)
		vmw(VMCS_GUEST_PDPTE0 + 2 * i, 0);
	vmw(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmw(VMCS_GUEST_ACTIVITY, VMX_ACTIVITY_ACTIVE);
	vmw(VMCS_GUEST_PENDING_DBG, 0);
}

/* A full reset: a fresh VMCS, so nothing of the previous run survives. */
static void vmx_vp_reset(struct vp *vp, const struct vp_reset *r)
{
	struct vmx_vp *s = vp->arch;
	u64 vmcs_pa = s->vmcs_pa;
	struct cpuid_regs id;

	vmclear(vmcs_pa); /* 25.11.3: flush it out of the CPU before rewriting the region */
	if (vmcs_current == s)
		vmcs_current = NULL;
	if (state_owner == s)
		state_owner = NULL; /* what the CPU holds is the old run's: drop it */
	memset(phys_to_virt(vmcs_pa), 0, PAGE_SIZE);
	*(u32 *)phys_to_virt(vmcs_pa) = vmx.revision;
	vmclear(vmcs_pa);

	memset(s, 0, sizeof(*s));
	s->vmcs_pa = vmcs_pa;
	s->dr6 = RESET_DR6;
	s->flush = true; /* cached translations of the last run go */
	s->gpt_gen = *vp->guest.gpt_gen;
	s->exit_rip = r->rip;

	vmcs_load(s);
	vmcs_write_controls(s, &vp->guest);
	vmcs_write_host();
	vmcs_write_guest_reset(r);

	memset(&vp->regs, 0, sizeof(vp->regs));
	vp->spec_ctrl = 0; /* IA32_SPEC_CTRL is 0 at reset (SDM Vol.4 2.1) */
	vp->regs.rip = r->rip;
	vp->regs.rflags = RFLAGS_RESERVED1;
	cpuid(1, 0, &id);
	vp->regs.gpr[REG_RDX] = id.eax; /* processor signature at reset */
}

/* ---- running ---- */

void vmx_set_efer(u64 efer)
{
	u64 ctls = vmread(VMCS_ENTRY_CTLS);
	u64 want = efer & EFER_LMA ? ctls | ENTRY_IA32E_GUEST : ctls & ~(u64)ENTRY_IA32E_GUEST;

	vmwrite(VMCS_GUEST_EFER, efer);
	if (want != ctls)
		vmwrite(VMCS_ENTRY_CTLS, want);
}

void vmx_inject_hw_exception(struct vp *vp, u8 vector, u32 error)
{
	u32 info = vector | INTR_TYPE_HW_EXCEPTION | INTR_INFO_VALID;

	/* 27.2.1.3: an error code goes with these vectors, and never in real mode. */
	if (vector < 32 && (EXC_WITH_ERROR & (1u << vector)) && (vmread(VMCS_GUEST_CR0) & CR0_PE)) {
		info |= INTR_INFO_ERROR_VALID;
		vmw(VMCS_ENTRY_EXCEPTION_ERROR, error);
	}
	vmw(VMCS_ENTRY_INTR_INFO, info);
}

static void vmx_vp_inject_exception(struct vp *vp, u8 vector, bool has_error, u32 error)
{
	vmcs_load(vp->arch);
	vmx_inject_hw_exception(vp, vector, has_error ? error : 0);
}

/* The instruction after STI or MOV SS has run: its interrupt shadow is over. */
static void end_interrupt_shadow(void)
{
	u64 v = vmread(VMCS_GUEST_INTERRUPTIBILITY);

	if (v & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS))
		vmw(VMCS_GUEST_INTERRUPTIBILITY, v & ~(u64)(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS));
}

/* An event whose delivery the exit interrupted goes in again (IDT-vectoring info, 28.2). */
static void requeue_event(void)
{
	u32 info = (u32)vmread(VMCS_IDT_VECTORING_INFO);
	u32 type = info & INTR_INFO_TYPE_MASK;

	if (!(info & INTR_INFO_VALID))
		return;
	vmw(VMCS_ENTRY_INTR_INFO, info & ~INTR_INFO_ENTRY_RESERVED);
	if (info & INTR_INFO_ERROR_VALID)
		vmw(VMCS_ENTRY_EXCEPTION_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
	if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
	    type == INTR_TYPE_SW_EXCEPTION)
		vmw(VMCS_ENTRY_INSN_LEN, vmread(VMCS_EXIT_INSN_LEN));
}

static u64 us_to_tsc(u64 us)
{
	u64 hz = arch_tsc_hz();

	if (hz && us > ~0ull / hz)
		return ~0ull;
	return us * hz / US_PER_S;
}

/*
 * Exits that never reach the kernel. Returns true if the guest can go on;
 * the instruction is skipped, or an exception is queued in its place.
 */
static bool handle_inside(struct vp *vp, struct vmx_vp *s, const struct vmx_exit_info *x)
{
	switch (x->reason & EXIT_REASON_BASIC_MASK) {
	case EXIT_REASON_CR_ACCESS:
		if (!vmx_handle_cr(vp, s, x->qual))
			return true;
		break;
	case EXIT_REASON_INVD:
		/* Dropping caches the host owns is not the guest's to do: act as WBINVD. */
		break;
	case EXIT_REASON_XSETBV:
		/* The guest sees CR4.OSXSAVE = 0, for which XSETBV is #UD (SDM Vol.2, XSETBV). */
	case EXIT_REASON_MONITOR:
	case EXIT_REASON_MWAIT:
		/* CPUID hides MONITOR/MWAIT (kernel/cpuid.c). */
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMPTRLD:
	case EXIT_REASON_VMPTRST:
	case EXIT_REASON_VMREAD:
	case EXIT_REASON_VMRESUME:
	case EXIT_REASON_VMWRITE:
	case EXIT_REASON_VMXOFF:
	case EXIT_REASON_VMXON:
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID:
		/* CPUID hides VMX: the guest's CR4.VMXE reads 0 and these are #UD. */
		vmx_inject_hw_exception(vp, EXC_UD, 0);
		return true;
	default:
		return false;
	}
	vp->regs.rip += x->insn_len;
	end_interrupt_shadow();
	return true;
}

static const char *vm_insn_error_name(u64 err)
{
	switch (err) {
	case VMERR_LAUNCH_NOT_CLEAR:
		return "VMLAUNCH with a non-clear VMCS";
	case VMERR_RESUME_NOT_LAUNCHED:
		return "VMRESUME with a non-launched VMCS";
	case VMERR_INVALID_CONTROLS:
		return "invalid control fields";
	case VMERR_INVALID_HOST_STATE:
		return "invalid host-state fields";
	case VMERR_MOV_SS_BLOCKING:
		return "events blocked by MOV SS";
	}
	return "see SDM Vol.3C 31.4";
}

static void entry_failed(struct vp *vp, struct vmx_vp *s, struct vm_exit *e, int rc)
{
	memset(e, 0, sizeof(*e));
	e->reason = EXIT_INVALID;
	e->raw = VMX_RAW_VMFAIL;
	e->qual = rc == VMX_ENTER_FAIL_VALID ? vmread(VMCS_VM_INSN_ERROR) : 0;
	kprintf("vmx: %s failed for %s: VM-instruction error %llu (%s)\n",
		s->launched ? "VMRESUME" : "VMLAUNCH", vp->guest.name, (unsigned long long)e->qual,
		rc == VMX_ENTER_FAIL_VALID ? vm_insn_error_name(e->qual) : "no current VMCS");
}

static void entry_failed_late(struct vp *vp, const struct vmx_exit_info *x)
{
	u32 basic = x->reason & EXIT_REASON_BASIC_MASK;
	const char *what = basic == EXIT_REASON_INVALID_GUEST_STATE ? "invalid guest state"
			   : basic == EXIT_REASON_MSR_LOADING	    ? "MSR loading"
			   : basic == EXIT_REASON_MACHINE_CHECK	    ? "machine check"
								    : "?";

	kprintf("vmx: VM entry failed for %s: %s (exit reason %u, qualification %llu)\n",
		vp->guest.name, what, basic, (unsigned long long)x->qual);
}

static void vmx_vp_run(struct vp *vp, struct vm_exit *e, u64 slice_us)
{
	struct vmx_vp *s = vp->arch;
	u64 start = rdtsc(), budget = us_to_tsc(slice_us);
	struct vmx_exit_info x = {0};

	vmcs_load(s);
	state_switch(s);
	if (vp->regs.rip != s->exit_rip)
		end_interrupt_shadow(); /* the kernel completed the exiting instruction */
	for (;;) {
		u64 used = rdtsc() - start;
		int rc;

		if (s->flush || s->gpt_gen != *vp->guest.gpt_gen) {
			invept(vmx.invept_single ? INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXT,
			       s->eptp);
			s->gpt_gen = *vp->guest.gpt_gen;
			s->flush = false;
		}
		vmw(VMCS_GUEST_RSP, vp->regs.gpr[REG_RSP]);
		vmw(VMCS_GUEST_RIP, vp->regs.rip);
		vmw(VMCS_GUEST_RFLAGS, vp->regs.rflags);
		vmw(VMCS_PREEMPT_TIMER,
		    MIN((used < budget ? budget - used : 0) >> vmx.preempt_shift,
			PREEMPT_TIMER_MAX));

		spec_entry(vp);
		rc = vmx_enter(vp->regs.gpr, s->launched);
		spec_exit(vp);
		if (rc != VMX_ENTER_EXITED) {
			entry_failed(vp, s, e, rc);
			return;
		}
		x.reason = (u32)vmread(VMCS_EXIT_REASON);
		x.qual = vmread(VMCS_EXIT_QUAL);
		vp->regs.gpr[REG_RSP] = vmread(VMCS_GUEST_RSP);
		vp->regs.rip = vmread(VMCS_GUEST_RIP);
		vp->regs.rflags = vmread(VMCS_GUEST_RFLAGS);
		if (x.reason & EXIT_REASON_ENTRY_FAIL) {
			entry_failed_late(vp, &x);
			vmx_decode_exit(&x, e);
			return;
		}
		s->launched = true;
		requeue_event();
		if (!vmx.lma_saved)
			vmx_set_efer(vmread(VMCS_GUEST_EFER));
		x.insn_len = (u32)vmread(VMCS_EXIT_INSN_LEN);
		if (!handle_inside(vp, s, &x))
			break;
		if (rdtsc() - start >= budget) {
			memset(e, 0, sizeof(*e));
			e->reason = EXIT_PREEMPT;
			e->raw = x.reason;
			s->exit_rip = vp->regs.rip;
			return;
		}
	}
	switch (x.reason & EXIT_REASON_BASIC_MASK) {
	case EXIT_REASON_EPT_VIOLATION:
	case EXIT_REASON_EPT_MISCONFIG:
		x.gpa = vmread(VMCS_GUEST_PHYS_ADDR);
		break;
	case EXIT_REASON_EXCEPTION_NMI:
		x.intr_info = (u32)vmread(VMCS_EXIT_INTR_INFO);
		/*
		 * With NMI exiting on (SDM Vol. 3C, pin-based controls) a host NMI
		 * ends the guest's run instead of reaching the host's IDT: hand it to
		 * the host's handler now, as on AMD-V (traps.c counts it).
		 */
		if ((x.intr_info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI)
			__asm__ volatile("int $2");
		break;
	case EXIT_REASON_VMCALL:
		x.cr0 = vmread(VMCS_GUEST_CR0);
		x.ss_ar = (u32)vmread(VMCS_GUEST_ES_AR + VMX_SEG_SS * VMX_SEG_STRIDE);
		break;
	}
	vmx_decode_exit(&x, e);
	s->exit_rip = vp->regs.rip;
}

/* ---- inspection ---- */

static void seg_read(struct vp_seg *out, unsigned seg)
{
	u32 ar = (u32)vmread(VMCS_GUEST_ES_AR + seg * VMX_SEG_STRIDE);

	out->sel = (u16)vmread(VMCS_GUEST_ES_SEL + seg * VMX_SEG_STRIDE);
	out->base = vmread(VMCS_GUEST_ES_BASE + seg * VMX_SEG_STRIDE);
	out->limit = (u32)vmread(VMCS_GUEST_ES_LIMIT + seg * VMX_SEG_STRIDE);
	out->attr = ar & VMX_AR_UNUSABLE ? 0 : (u16)(ar & VMX_AR_MASK);
}

static void vmx_vp_get_sregs(struct vp *vp, struct vp_sregs *sr)
{
	struct vmx_vp *s = vp->arch;

	vmcs_load(s);
	seg_read(&sr->es, VMX_SEG_ES);
	seg_read(&sr->cs, VMX_SEG_CS);
	seg_read(&sr->ss, VMX_SEG_SS);
	seg_read(&sr->ds, VMX_SEG_DS);
	seg_read(&sr->fs, VMX_SEG_FS);
	seg_read(&sr->gs, VMX_SEG_GS);
	seg_read(&sr->ldtr, VMX_SEG_LDTR);
	seg_read(&sr->tr, VMX_SEG_TR);
	sr->gdt_base = vmread(VMCS_GUEST_GDTR_BASE);
	sr->gdt_limit = (u32)vmread(VMCS_GUEST_GDTR_LIMIT);
	sr->idt_base = vmread(VMCS_GUEST_IDTR_BASE);
	sr->idt_limit = (u32)vmread(VMCS_GUEST_IDTR_LIMIT);
	sr->cr0 = vmx_guest_cr0();
	sr->cr2 = state_owner == s ? read_cr2() : s->cr2;
	sr->cr3 = vmread(VMCS_GUEST_CR3);
	sr->cr4 = vmx_guest_cr4();
	sr->efer = vmread(VMCS_GUEST_EFER);
}

static void seg_write_vp(unsigned seg, const struct vp_seg *v)
{
	/* attr 0 is how vp_seg says "unusable" (seg_read), e.g. a null LDTR. */
	seg_write(seg, v->sel, v->base, v->limit, v->attr ? v->attr : VMX_AR_UNUSABLE);
}

static void vmx_vp_set_sregs(struct vp *vp, const struct vp_sregs *sr)
{
	struct vmx_vp *s = vp->arch;

	vmcs_load(s);
	seg_write_vp(VMX_SEG_ES, &sr->es);
	seg_write_vp(VMX_SEG_CS, &sr->cs);
	seg_write_vp(VMX_SEG_SS, &sr->ss);
	seg_write_vp(VMX_SEG_DS, &sr->ds);
	seg_write_vp(VMX_SEG_FS, &sr->fs);
	seg_write_vp(VMX_SEG_GS, &sr->gs);
	seg_write_vp(VMX_SEG_LDTR, &sr->ldtr);
	seg_write_vp(VMX_SEG_TR, &sr->tr);
	vmw(VMCS_GUEST_GDTR_BASE, sr->gdt_base);
	vmw(VMCS_GUEST_GDTR_LIMIT, sr->gdt_limit);
	vmw(VMCS_GUEST_IDTR_BASE, sr->idt_base);
	vmw(VMCS_GUEST_IDTR_LIMIT, sr->idt_limit);
	/* As vmx_cr.c keeps them: the real registers carry the fixed bits, the shadows what the
	 * guest wrote. */
	vmw(VMCS_GUEST_CR0,
	    ((sr->cr0 | CR0_ET) | (vmx_cr0_fixed0 & ~(CR0_PE | CR0_PG))) & vmx_cr0_fixed1);
	vmw(VMCS_CR0_SHADOW, sr->cr0 | CR0_ET);
	vmw(VMCS_GUEST_CR3, sr->cr3);
	vmw(VMCS_GUEST_CR4, (sr->cr4 & ~vmx_cr4_mask) | vmx_cr4_fixed0);
	vmw(VMCS_CR4_SHADOW, sr->cr4 & ~vmx_cr4_mask);
	vmx_set_efer(sr->efer);
	if (state_owner == s)
		write_cr2(sr->cr2);
	else
		s->cr2 = sr->cr2;
	s->flush = true;
}

static bool vmx_vp_irq_ready(struct vp *vp)
{
	struct vmx_vp *s = vp->arch;
	bool shadow;

	vmcs_load(s);
	/* The STI/MOV SS shadow only lasts if the kernel did not complete the instruction. */
	shadow = (vmread(VMCS_GUEST_INTERRUPTIBILITY) & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS)) &&
		 vp->regs.rip == s->exit_rip;
	return (vp->regs.rflags & RFLAGS_IF) && !shadow &&
	       !(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID);
}

static void vmx_vp_inject_irq(struct vp *vp, u8 vector)
{
	vmcs_load(vp->arch);
	vmw(VMCS_ENTRY_INTR_INFO, vector | INTR_TYPE_EXT_INTR | INTR_INFO_VALID);
}

static void vmx_vp_irq_window(struct vp *vp, bool on)
{
	u64 proc;

	vmcs_load(vp->arch);
	proc = vmread(VMCS_PROC_CTLS);
	if (on)
		proc |= PROC_INTR_WINDOW_EXITING;
	else
		proc &= ~(u64)PROC_INTR_WINDOW_EXITING;
	vmw(VMCS_PROC_CTLS, proc);
}

/* ---- snapshots (vp.h, struct vp_state) ---- */

static void vmx_vp_save(struct vp *vp, struct vp_state *st)
{
	struct vmx_vp *s = vp->arch;

	vmcs_load(s);
	if (state_owner == s)
		state_save(s);
	st->regs = vp->regs;
	vmx_vp_get_sregs(vp, &st->sregs);
	st->kernel_gs_base = s->kernel_gs_base;
	st->star = s->star;
	st->lstar = s->lstar;
	st->cstar = s->cstar;
	st->sfmask = s->sfmask;
	st->tsc_aux = s->tsc_aux;
	st->sysenter_cs = vmread(VMCS_GUEST_SYSENTER_CS);
	st->sysenter_esp = vmread(VMCS_GUEST_SYSENTER_ESP);
	st->sysenter_eip = vmread(VMCS_GUEST_SYSENTER_EIP);
	st->pat = vmread(VMCS_GUEST_PAT);
	memcpy(st->dr, s->dr, sizeof(st->dr));
	st->dr6 = s->dr6;
	st->dr7 = vmread(VMCS_GUEST_DR7);
	st->cr8 = s->cr8;
	st->shadow = (vmread(VMCS_GUEST_INTERRUPTIBILITY) & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS)) &&
		     vp->regs.rip == s->exit_rip;
	st->event = (u32)vmread(VMCS_ENTRY_INTR_INFO);
	st->event_error = (u32)vmread(VMCS_ENTRY_EXCEPTION_ERROR);
	st->event_insn_len = (u32)vmread(VMCS_ENTRY_INSN_LEN);
	st->spec_ctrl = vp->spec_ctrl;
}

static void vmx_vp_load(struct vp *vp, const struct vp_state *st)
{
	struct vmx_vp *s = vp->arch;
	u64 intr;

	vmcs_load(s);
	vp->regs = st->regs;
	vmx_vp_set_sregs(vp, &st->sregs); /* sets flush: the guest's translations go */
	s->kernel_gs_base = st->kernel_gs_base;
	s->star = st->star;
	s->lstar = st->lstar;
	s->cstar = st->cstar;
	s->sfmask = st->sfmask;
	s->tsc_aux = st->tsc_aux;
	vmw(VMCS_GUEST_SYSENTER_CS, st->sysenter_cs);
	vmw(VMCS_GUEST_SYSENTER_ESP, st->sysenter_esp);
	vmw(VMCS_GUEST_SYSENTER_EIP, st->sysenter_eip);
	vmw(VMCS_GUEST_PAT, st->pat);
	memcpy(s->dr, st->dr, sizeof(s->dr));
	s->dr6 = st->dr6;
	vmw(VMCS_GUEST_DR7, st->dr7);
	s->cr8 = (u8)(st->cr8 & 0xf);
	if (state_owner == s)
		state_load(s);
	intr = vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~(u64)(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS);
	vmw(VMCS_GUEST_INTERRUPTIBILITY, intr | (st->shadow ? INTR_BLOCK_STI : 0));
	s->exit_rip = vp->regs.rip;
	vmw(VMCS_ENTRY_INTR_INFO, st->event & INTR_INFO_VALID ? st->event : 0);
	vmw(VMCS_ENTRY_EXCEPTION_ERROR, st->event_error);
	vmw(VMCS_ENTRY_INSN_LEN, st->event_insn_len);
	vp->spec_ctrl = st->spec_ctrl & vp->guest.spec_ctrl_bits; /* WRMSR takes only these */
}

/* Every MSR that exits is the kernel's: VT-x state is in the VMCS or passed through. */
static bool vmx_vp_msr(struct vp *vp, u32 index, u64 *val, bool write)
{
	return false;
}

static const u8 vmcall[3] = {0x0f, 0x01, 0xc1}; /* SDM Vol.2, VMCALL */

const struct vp_ops vmx_ops = {
    .name = "vmx",
    .hypercall_insn = vmcall,
    .gpt_format = &pt_format_ept,
    .cpu_enable = vmx_cpu_enable,
    .vp_create = vmx_vp_create,
    .vp_destroy = vmx_vp_destroy,
    .vp_reset = vmx_vp_reset,
    .vp_run = vmx_vp_run,
    .vp_get_sregs = vmx_vp_get_sregs,
    .vp_set_sregs = vmx_vp_set_sregs,
    .vp_inject_exception = vmx_vp_inject_exception,
    .vp_msr = vmx_vp_msr,
    .vp_irq_ready = vmx_vp_irq_ready,
    .vp_inject_irq = vmx_vp_inject_irq,
    .vp_irq_window = vmx_vp_irq_window,
    .vp_save = vmx_vp_save,
    .vp_load = vmx_vp_load,
};
