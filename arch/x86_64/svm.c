/*
 * AMD-V back end of the VP interface: VMCB set-up, nested paging, VMRUN and
 * exit decoding (AMD APM Vol.2, chapter 15). Written for QEMU's emulator as
 * well as hardware: no NRIP save, no decode assists, no clean bits, no
 * flush-by-ASID, so instruction lengths are known here and TLB_CONTROL
 * flushes everything after NPT changes.
 *
 * DR6 and DR7 are in the VMCB; DR0-3 are not, and are not intercepted: the
 * guest reaches the CPU's own. They are swapped when another VP takes the
 * CPU (as VT-x does, vmx.c): the host sets no breakpoints, and #VMEXIT
 * disables the guest's in DR7 (APM Vol.2 15.6), so the host needs none of
 * them restored on exit.
 */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/insn.h"
#include "arch/x86_64/spec.h"
#include "arch/x86_64/svm.h"
#include "arch/x86_64/vendor.h"
#include "kernel/log.h"
#include "kernel/palloc.h"

#include <string.h>

#define IOPM_PAGES  3
#define MSRPM_PAGES 2

struct svm_vp {
	struct vmcb *vmcb;
	u64 vmcb_pa;
	u64 gpt_gen;  /* partition's gpt_gen at the last TLB flush */
	u64 exit_rip; /* guest RIP at the last exit: if the kernel moved it, the STI shadow is over
		       */
	u64 dr[4];    /* DR0-3 while another VP owns the CPU's */
};

static struct svm_vp *dr_owner; /* whose DR0-3 are in the CPU */

static u64 iopm_pa, msrpm_pa, hsave_pa, host_vmcb_pa;

/* MSRs the guest reaches directly; their state is in the VMCB (VMLOAD/VMSAVE). */
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
};

/* MSR permission map: 2 bits per MSR in three 2K-byte ranges (APM Vol.2, 15.11). */
static void msrpm_allow(u8 *map, u32 msr)
{
	u32 base;

	if (msr < 0x2000)
		base = 0;
	else if (msr - 0xc0000000u < 0x2000)
		base = 0x800, msr -= 0xc0000000u;
	else if (msr - 0xc0010000u < 0x2000)
		base = 0x1000, msr -= 0xc0010000u;
	else
		return;
	map[base + msr / 4] &= ~(3u << (2 * (msr % 4)));
}

static int svm_cpu_enable(void)
{
	struct cpuid_regs r;

	if (rdmsr(MSR_VM_CR) & SVM_VM_CR_SVMDIS) {
		kprintf("error: SVM is disabled by the firmware (VM_CR.SVMDIS)\n");
		return -1;
	}
	cpuid(0x8000000a, 0, &r);
	if (!(r.edx & SVM_FEATURE_NP)) {
		kprintf("error: SVM without nested paging is not supported\n");
		return -1;
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	hsave_pa = palloc_alloc();
	host_vmcb_pa = palloc_alloc();
	iopm_pa = palloc_alloc_contig(IOPM_PAGES, PAGE_SIZE);
	msrpm_pa = palloc_alloc_contig(MSRPM_PAGES, PAGE_SIZE);
	if (!hsave_pa || !host_vmcb_pa || !iopm_pa || !msrpm_pa)
		return -1;
	wrmsr(MSR_VM_HSAVE_PA, hsave_pa);
	memset(phys_to_virt(iopm_pa), 0xff, IOPM_PAGES * PAGE_SIZE);
	memset(phys_to_virt(msrpm_pa), 0xff, MSRPM_PAGES * PAGE_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
		msrpm_allow(phys_to_virt(msrpm_pa), passthrough_msrs[i]);
	return 0;
}

static void dr_save(struct svm_vp *s)
{
	s->dr[0] = read_dr0();
	s->dr[1] = read_dr1();
	s->dr[2] = read_dr2();
	s->dr[3] = read_dr3();
}

static void dr_load(const struct svm_vp *s)
{
	write_dr0(s->dr[0]);
	write_dr1(s->dr[1]);
	write_dr2(s->dr[2]);
	write_dr3(s->dr[3]);
}

static void dr_switch(struct svm_vp *s)
{
	if (dr_owner == s)
		return;
	if (dr_owner)
		dr_save(dr_owner);
	dr_load(s);
	dr_owner = s;
}

static int svm_vp_create(struct vp *vp)
{
	struct svm_vp *s;
	u64 pa = palloc_alloc();

	if (!pa)
		return -1;
	/* The VMCB takes the first 4K page; our bookkeeping sits in a second. */
	u64 state_pa = palloc_alloc();
	if (!state_pa) {
		palloc_free(pa);
		return -1;
	}
	s = phys_to_virt(state_pa);
	s->vmcb = phys_to_virt(pa);
	s->vmcb_pa = pa;
	vp->arch = s;
	vp->arch_pa = state_pa;
	return 0;
}

static void svm_vp_destroy(struct vp *vp)
{
	struct svm_vp *s = vp->arch;

	if (!s)
		return;
	if (dr_owner == s)
		dr_owner = NULL;
	spec_forget(vp);
	palloc_free(s->vmcb_pa);
	palloc_free(vp->arch_pa);
	vp->arch = NULL;
}

static void seg_set(struct vmcb_seg *seg, u16 sel, u64 base, u32 limit, u16 attr)
{
	*seg = (struct vmcb_seg){.sel = sel, .attr = attr, .limit = limit, .base = base};
}

/* Real-mode reset state (SDM Vol.3 10.1.1 table 10-1; APM Vol.2 14.1.3). */
static void svm_vp_reset(struct vp *vp, const struct vp_reset *r)
{
	struct svm_vp *s = vp->arch;
	struct vmcb *v = s->vmcb;
	const struct vp_guest *g = &vp->guest;

	memset(v, 0, sizeof(*v));
	v->c.intercept_cr = SVM_INTERCEPT_CR4_WRITE; /* CR4 bits are refused, svm_cr4_write */
	v->c.intercept_misc1 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_SMI |
			       SVM_INTERCEPT_INIT | SVM_INTERCEPT_CPUID | SVM_INTERCEPT_INVD |
			       SVM_INTERCEPT_HLT | SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_IOIO |
			       SVM_INTERCEPT_MSR | SVM_INTERCEPT_SHUTDOWN;
	v->c.intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
			       SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
			       SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_XSETBV;
	v->c.iopm_pa = iopm_pa;
	v->c.msrpm_pa = msrpm_pa;
	v->c.asid = g->tag + 1; /* ASID 0 is the host's (APM Vol.2 15.16) */
	v->c.tlb_control = SVM_TLB_FLUSH_ALL;
	v->c.vintr = SVM_VINTR_MASKING;
	v->c.np_enable = 1;
	v->c.n_cr3 = g->gpt->root;
	s->gpt_gen = *g->gpt_gen;
	memset(s->dr, 0, sizeof(s->dr)); /* DR0-3 are 0 at reset (SDM Vol.3A 10.1.1) */
	if (dr_owner == s)
		dr_owner = NULL; /* what the CPU holds is the old run's: drop it */

	seg_set(&v->s.cs, r->cs_sel, r->cs_base, 0xffff, 0x9b);
	seg_set(&v->s.ds, 0, 0, 0xffff, 0x93);
	seg_set(&v->s.es, 0, 0, 0xffff, 0x93);
	seg_set(&v->s.ss, 0, 0, 0xffff, 0x93);
	seg_set(&v->s.fs, 0, 0, 0xffff, 0x93);
	seg_set(&v->s.gs, 0, 0, 0xffff, 0x93);
	seg_set(&v->s.gdtr, 0, 0, 0xffff, 0);
	seg_set(&v->s.idtr, 0, 0, 0xffff, 0);
	seg_set(&v->s.ldtr, 0, 0, 0xffff, 0x82);
	seg_set(&v->s.tr, 0, 0, 0xffff, 0x8b);
	v->s.cr0 = RESET_CR0;
	v->s.efer = EFER_SVME;
	v->s.dr6 = RESET_DR6;
	v->s.dr7 = RESET_DR7;
	v->s.g_pat = RESET_PAT;

	memset(&vp->regs, 0, sizeof(vp->regs));
	vp->spec_ctrl = 0; /* IA32_SPEC_CTRL is 0 at reset (SDM Vol.4 2.1) */
	vp->regs.rip = r->rip;
	s->exit_rip = r->rip;
	vp->regs.rflags = RFLAGS_RESERVED1;
	struct cpuid_regs id;
	cpuid(1, 0, &id);
	vp->regs.gpr[REG_RDX] = id.eax; /* processor signature at reset */
}

static void svm_vp_get_sregs(struct vp *vp, struct vp_sregs *sr);
static void svm_vp_inject_exception(struct vp *vp, u8 vector, bool has_error, u32 error);

/*
 * MOV to CR4, intercepted so that the SVM_CR4_REFUSED bits stay clear: #GP, as
 * on a CPU without them. Otherwise the value goes to the VMCB as the CPU
 * would have loaded it, with a TLB flush (for the bits that change paging).
 * The guest carries on; the kernel sees EXIT_NONE.
 */
static void svm_cr4_write(struct vp *vp, struct svm_vp *s, struct vm_exit *e)
{
	struct vmcb *v = s->vmcb;
	struct vp_sregs sr;
	u8 bytes[INSN_MAX_LEN];
	unsigned n, cr, gpr, len;
	char why[96];
	u64 val;

	svm_vp_get_sregs(vp, &sr);
	bool long_mode = insn_mode_of(&sr, vp->regs.rflags) == INSN_MODE_64;
	if (insn_fetch(vp, &sr, bytes, &n, why, sizeof(why)))
		return; /* e stays EXIT_UNHANDLED: the partition stops */
	len = svm_decode_mov_to_cr(bytes, n, long_mode, &cr, &gpr);
	if (!len || cr != 4)
		return;
	val = long_mode ? vp->regs.gpr[gpr] : (u32)vp->regs.gpr[gpr];
	e->reason = EXIT_NONE;
	if (svm_cr4_write_faults(v->s.cpl, &sr, val)) {
		svm_vp_inject_exception(vp, EXC_GP, sr.cr0 & CR0_PE, 0);
		return;
	}
	v->s.cr4 = val;
	v->c.tlb_control = SVM_TLB_FLUSH_ALL;
	vp->regs.rip += len;
}

static void svm_vp_run(struct vp *vp, struct vm_exit *e, u64 slice_us)
{
	struct svm_vp *s = vp->arch;
	struct vmcb *v = s->vmcb;

	if (s->gpt_gen != *vp->guest.gpt_gen) {
		v->c.tlb_control = SVM_TLB_FLUSH_ALL;
		s->gpt_gen = *vp->guest.gpt_gen;
	}
	if (vp->regs.rip != s->exit_rip)
		v->c.int_shadow &=
		    ~SVM_INT_SHADOW; /* the kernel completed the exiting instruction */
	v->s.rax = vp->regs.gpr[REG_RAX];
	v->s.rsp = vp->regs.gpr[REG_RSP];
	v->s.rip = vp->regs.rip;
	v->s.rflags = vp->regs.rflags;

	dr_switch(s);
	/* No preemption timer in SVM: the host LAPIC timer ends the slice (apic.h). */
	lapic_timer_arm_within(slice_us);
	spec_entry(vp);
	svm_enter(s->vmcb_pa, host_vmcb_pa, vp->regs.gpr);
	spec_exit(vp);

	v->c.tlb_control = 0;
	vp->regs.gpr[REG_RAX] = v->s.rax;
	vp->regs.gpr[REG_RSP] = v->s.rsp;
	vp->regs.rip = v->s.rip;
	vp->regs.rflags = v->s.rflags;
	s->exit_rip = v->s.rip;

	/* An event cut short by the exit is delivered again (APM Vol.2, 15.7.2). */
	if (v->c.exit_int_info & SVM_EVT_VALID)
		v->c.event_inj = v->c.exit_int_info;
	svm_decode_exit(v, e);
	if (v->c.exit_code == SVM_EXIT_CR4_WRITE)
		svm_cr4_write(vp, s, e);
}

/* The VMCB keeps access rights compressed: bits 7:0 as they are, 15:12 in 11:8 (APM 15.5.1). */
static void seg_get(struct vp_seg *out, const struct vmcb_seg *in)
{
	out->sel = in->sel;
	out->attr = (in->attr & 0xff) | ((in->attr & 0xf00) << 4);
	out->limit = in->limit;
	out->base = in->base;
}

static void seg_put(struct vmcb_seg *out, const struct vp_seg *in)
{
	seg_set(out, in->sel, in->base, in->limit, (in->attr & 0xff) | ((in->attr >> 4) & 0xf00));
}

static void svm_vp_get_sregs(struct vp *vp, struct vp_sregs *sr)
{
	struct vmcb *v = ((struct svm_vp *)vp->arch)->vmcb;

	seg_get(&sr->es, &v->s.es);
	seg_get(&sr->cs, &v->s.cs);
	seg_get(&sr->ss, &v->s.ss);
	seg_get(&sr->ds, &v->s.ds);
	seg_get(&sr->fs, &v->s.fs);
	seg_get(&sr->gs, &v->s.gs);
	seg_get(&sr->ldtr, &v->s.ldtr);
	seg_get(&sr->tr, &v->s.tr);
	sr->gdt_base = v->s.gdtr.base;
	sr->gdt_limit = v->s.gdtr.limit;
	sr->idt_base = v->s.idtr.base;
	sr->idt_limit = v->s.idtr.limit;
	sr->cr0 = v->s.cr0;
	sr->cr2 = v->s.cr2;
	sr->cr3 = v->s.cr3;
	sr->cr4 = v->s.cr4;
	sr->efer = v->s.efer & ~EFER_SVME;
}

static void svm_vp_set_sregs(struct vp *vp, const struct vp_sregs *sr)
{
	struct svm_vp *s = vp->arch;
	struct vmcb *v = s->vmcb;

	seg_put(&v->s.es, &sr->es);
	seg_put(&v->s.cs, &sr->cs);
	seg_put(&v->s.ss, &sr->ss);
	seg_put(&v->s.ds, &sr->ds);
	seg_put(&v->s.fs, &sr->fs);
	seg_put(&v->s.gs, &sr->gs);
	seg_put(&v->s.ldtr, &sr->ldtr);
	seg_put(&v->s.tr, &sr->tr);
	seg_set(&v->s.gdtr, 0, sr->gdt_base, sr->gdt_limit, 0);
	seg_set(&v->s.idtr, 0, sr->idt_base, sr->idt_limit, 0);
	v->s.cpl = SEG_DPL(sr->ss.attr); /* CPL is SS.DPL (APM 15.5.1) */
	v->s.cr0 = sr->cr0;
	v->s.cr2 = sr->cr2;
	v->s.cr3 = sr->cr3;
	v->s.cr4 = sr->cr4;
	v->s.efer = sr->efer | EFER_SVME;
	v->c.tlb_control = SVM_TLB_FLUSH_ALL;
}

static bool svm_vp_irq_ready(struct vp *vp)
{
	struct svm_vp *s = vp->arch;
	struct vmcb *v = s->vmcb;
	bool shadow = (v->c.int_shadow & SVM_INT_SHADOW) && vp->regs.rip == s->exit_rip;

	return (vp->regs.rflags & RFLAGS_IF) && !shadow && !(v->c.event_inj & SVM_EVT_VALID);
}

static void svm_vp_inject_irq(struct vp *vp, u8 vector)
{
	struct vmcb *v = ((struct svm_vp *)vp->arch)->vmcb;

	v->c.event_inj = vector | SVM_EVT_TYPE_INTR | SVM_EVT_VALID;
}

/*
 * An interrupt window is a virtual interrupt (V_IRQ, highest priority, TPR
 * ignored) with VINTR intercepted: the CPU exits when it would take it
 * (APM 15.21.4), i.e. when the guest can take ours.
 */
static void svm_vp_irq_window(struct vp *vp, bool on)
{
	struct vmcb *v = ((struct svm_vp *)vp->arch)->vmcb;
	u64 bits = SVM_VINTR_IRQ | SVM_VINTR_IGN_TPR | (0xfull << SVM_VINTR_PRIO_SHIFT);

	if (on) {
		v->c.vintr |= bits;
		v->c.intercept_misc1 |= SVM_INTERCEPT_VINTR;
	} else {
		v->c.vintr &= ~bits;
		v->c.intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
	}
}

static void svm_vp_inject_exception(struct vp *vp, u8 vector, bool has_error, u32 error)
{
	struct vmcb *v = ((struct svm_vp *)vp->arch)->vmcb;

	v->c.event_inj = vector | SVM_EVT_TYPE_EXCEPTION | SVM_EVT_VALID |
			 (has_error ? SVM_EVT_ERR_VALID | ((u64)error << 32) : 0);
}

/* EFER exits so that SVME stays set under the guest and hidden from it. */
static bool svm_vp_msr(struct vp *vp, u32 index, u64 *val, bool write)
{
	struct vmcb *v = ((struct svm_vp *)vp->arch)->vmcb;

	if (index != MSR_EFER)
		return false;
	if (write)
		v->s.efer = (*val & ~EFER_LMA) | (v->s.efer & EFER_LMA) | EFER_SVME;
	else
		*val = v->s.efer & ~EFER_SVME;
	return true;
}

/* ---- snapshots (vp.h, struct vp_state) ---- */

static void svm_vp_save(struct vp *vp, struct vp_state *st)
{
	struct svm_vp *s = vp->arch;
	struct vmcb *v = s->vmcb;

	st->regs = vp->regs;
	svm_vp_get_sregs(vp, &st->sregs);
	st->kernel_gs_base = v->s.kernel_gs_base;
	st->star = v->s.star;
	st->lstar = v->s.lstar;
	st->cstar = v->s.cstar;
	st->sfmask = v->s.sfmask;
	st->sysenter_cs = v->s.sysenter_cs;
	st->sysenter_esp = v->s.sysenter_esp;
	st->sysenter_eip = v->s.sysenter_eip;
	st->pat = v->s.g_pat;
	st->tsc_aux = 0; /* not passed through: RDTSCP is not offered */
	if (dr_owner == s)
		dr_save(s);
	memcpy(st->dr, s->dr, sizeof(st->dr));
	st->dr6 = v->s.dr6;
	st->dr7 = v->s.dr7;
	st->cr8 = v->c.vintr & 0xf; /* V_TPR (APM 15.21.1) */
	st->shadow = (v->c.int_shadow & SVM_INT_SHADOW) && vp->regs.rip == s->exit_rip;
	st->event = (u32)v->c.event_inj;
	st->event_error = (u32)(v->c.event_inj >> 32);
	st->event_insn_len = 0;
	st->spec_ctrl = vp->spec_ctrl;
}

static void svm_vp_load(struct vp *vp, const struct vp_state *st)
{
	struct svm_vp *s = vp->arch;
	struct vmcb *v = s->vmcb;

	vp->regs = st->regs;
	svm_vp_set_sregs(vp, &st->sregs); /* and a TLB flush at the next VMRUN */
	v->s.kernel_gs_base = st->kernel_gs_base;
	v->s.star = st->star;
	v->s.lstar = st->lstar;
	v->s.cstar = st->cstar;
	v->s.sfmask = st->sfmask;
	v->s.sysenter_cs = st->sysenter_cs;
	v->s.sysenter_esp = st->sysenter_esp;
	v->s.sysenter_eip = st->sysenter_eip;
	v->s.g_pat = st->pat;
	memcpy(s->dr, st->dr, sizeof(s->dr));
	if (dr_owner == s)
		dr_load(s);
	v->s.dr6 = st->dr6;
	v->s.dr7 = st->dr7;
	v->c.vintr = (v->c.vintr & ~0xfull) | (st->cr8 & 0xf);
	v->c.int_shadow = st->shadow ? SVM_INT_SHADOW : 0;
	s->exit_rip = vp->regs.rip;
	v->c.event_inj = st->event & SVM_EVT_VALID ? st->event | (u64)st->event_error << 32 : 0;
	v->c.clean = 0; /* every field may have changed (APM 15.15) */
	vp->spec_ctrl = st->spec_ctrl & vp->guest.spec_ctrl_bits; /* WRMSR takes only these */
}

static const u8 vmmcall[3] = {0x0f, 0x01, 0xd9}; /* APM Vol.3, VMMCALL */

const struct vp_ops svm_ops = {
    .name = "svm",
    .hypercall_insn = vmmcall,
    .gpt_format = &pt_format_npt,
    .cpu_enable = svm_cpu_enable,
    .vp_create = svm_vp_create,
    .vp_destroy = svm_vp_destroy,
    .vp_reset = svm_vp_reset,
    .vp_run = svm_vp_run,
    .vp_get_sregs = svm_vp_get_sregs,
    .vp_set_sregs = svm_vp_set_sregs,
    .vp_inject_exception = svm_vp_inject_exception,
    .vp_msr = svm_vp_msr,
    .vp_irq_ready = svm_vp_irq_ready,
    .vp_inject_irq = svm_vp_inject_irq,
    .vp_irq_window = svm_vp_irq_window,
    .vp_save = svm_vp_save,
    .vp_load = svm_vp_load,
};
