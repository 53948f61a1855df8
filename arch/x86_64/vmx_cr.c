/*
 * Control-register exits of VT-x. The guest/host masks own the CR0 and CR4
 * bits whose real values the guest must not see or change: CR0.NE (fixed to
 * 1 in VMX operation but 0 at reset), CR4.VMXE (fixed to 1, not offered),
 * CR4.OSXSAVE (XSAVE is not offered), CR4.PKE (PKRU is not switched, PKU
 * not offered), CR4.CET (its state is not switched, CET not offered) and
 * the CR4 bits this CPU lacks. A MOV
 * that changes one of them exits (SDM Vol.3C 26.1.3) and is emulated here,
 * mode switches included, so the guest never returns to the kernel for it.
 * CR3 and CR8 exits are handled here too.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/vmx.h"
#include "kernel/vp.h"

#define CR8_TPR_MASK 0xfull
#define LMSW_BITS    0xfull /* LMSW writes PE, MP, EM, TS (SDM Vol.2, LMSW) */

#define PDPTE_COUNT 4 /* PAE paging (SDM Vol.3A 5.4.1) */

u64 vmx_guest_cr0(void)
{
	return (vmread(VMCS_GUEST_CR0) & ~vmx_cr0_mask) | (vmread(VMCS_CR0_SHADOW) & vmx_cr0_mask);
}

u64 vmx_guest_cr4(void)
{
	return (vmread(VMCS_GUEST_CR4) & ~vmx_cr4_mask) | (vmread(VMCS_CR4_SHADOW) & vmx_cr4_mask);
}

static bool in_64bit_mode(void)
{
	return (vmread(VMCS_GUEST_EFER) & EFER_LMA) &&
	       (vmread(VMCS_GUEST_ES_AR + VMX_SEG_CS * VMX_SEG_STRIDE) & SEG_ATTR_L);
}

static bool gp(struct vp *vp)
{
	vmx_inject_hw_exception(vp, EXC_GP, 0);
	return false;
}

/*
 * With EPT the PDPTEs of PAE paging live in the VMCS (25.4.2); a MOV to CR0,
 * CR3 or CR4 that the CPU would load them on is emulated, so load them here.
 */
static bool load_pdptes(struct vp *vp, u64 cr3)
{
	struct cpuid_regs id;
	u64 entries[PDPTE_COUNT];

	/* One read of guest memory: the checks below and the VMCS see the same entries. */
	if (vp->guest.read(vp->guest.read_ctx, cr3 & CR3_PAE_MASK, entries, sizeof(entries)))
		return false;
	cpuid(CPUID_ADDR_SIZES, 0, &id);
	u64 reserved = PDPTE_PAE_RSVD | (~0ull << (id.eax & 0xff));
	for (unsigned i = 0; i < PDPTE_COUNT; i++) {
		if ((entries[i] & PTE_P) && (entries[i] & reserved))
			return false;
	}
	for (unsigned i = 0; i < PDPTE_COUNT; i++)
		vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, entries[i]);
	return true;
}

static bool pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LMA);
}

/* MOV to CR0 (SDM Vol.2, MOV to/from Control Registers; Vol.3A 10.8.5 for IA-32e mode). */
static bool set_cr0(struct vp *vp, struct vmx_vp *s, u64 val)
{
	u64 old = vmx_guest_cr0(), cr4 = vmx_guest_cr4(), efer = vmread(VMCS_GUEST_EFER);
	bool cs_l = vmread(VMCS_GUEST_ES_AR + VMX_SEG_CS * VMX_SEG_STRIDE) & SEG_ATTR_L;

	val |= CR0_ET; /* hardwired to 1 (SDM Vol.3A 2.5) */
	if (val >> 32 || ((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD)))
		return gp(vp);
	if (!(old & CR0_PG) && (val & CR0_PG) && (efer & EFER_LME)) {
		if (!(cr4 & CR4_PAE) || cs_l)
			return gp(vp);
		efer |= EFER_LMA;
	}
	if ((old & CR0_PG) && !(val & CR0_PG)) {
		if ((cr4 & CR4_PCIDE) || ((efer & EFER_LMA) && cs_l))
			return gp(vp);
		efer &= ~EFER_LMA;
	}
	if (pae_paging(val, cr4, efer) && (!(old & CR0_PG) || ((old ^ val) & (CR0_CD | CR0_NW))) &&
	    !load_pdptes(vp, vmread(VMCS_GUEST_CR3)))
		return gp(vp);
	if ((old ^ val) & (CR0_PG | CR0_PE | CR0_WP))
		s->flush = true; /* the CPU would flush this VPID's TLB (SDM Vol.3A 5.10.4.1) */
	vmx_set_efer(efer);
	vmwrite(VMCS_GUEST_CR0, (val | (vmx_cr0_fixed0 & ~(CR0_PE | CR0_PG))) & vmx_cr0_fixed1);
	vmwrite(VMCS_CR0_SHADOW, val);
	return true;
}

/*
 * Every masked CR4 bit is shadowed as 0 and may not be set by the guest, so
 * a MOV to CR4 only exits when it tries to: #GP, as on a CPU without them.
 */
static bool set_cr4(struct vp *vp, u64 val)
{
	if (val & vmx_cr4_mask)
		return gp(vp);
	/* Not reached: a write that keeps the masked bits does not exit. */
	vmwrite(VMCS_GUEST_CR4, val | vmx_cr4_fixed0);
	vmwrite(VMCS_CR4_SHADOW, val);
	return true;
}

/* Only if this CPU forces CR3-load exiting (no true controls). */
static bool set_cr3(struct vp *vp, struct vmx_vp *s, u64 val)
{
	u64 cr0 = vmx_guest_cr0(), cr4 = vmx_guest_cr4(), efer = vmread(VMCS_GUEST_EFER);

	if ((cr4 & CR4_PCIDE) && (val & CR3_PCID_NOFLUSH))
		val &= ~CR3_PCID_NOFLUSH;
	else
		s->flush = true;
	if (pae_paging(cr0, cr4, efer) && !load_pdptes(vp, val))
		return gp(vp);
	vmwrite(VMCS_GUEST_CR3, val);
	return true;
}

static bool mov_to_cr(struct vp *vp, struct vmx_vp *s, unsigned cr, u64 val)
{
	switch (cr) {
	case 0:
		return set_cr0(vp, s, val);
	case 3:
		return set_cr3(vp, s, val);
	case 4:
		return set_cr4(vp, val);
	case 8:
		if (val & ~CR8_TPR_MASK)
			return gp(vp);
		s->cr8 = (u8)val;
		return true;
	}
	return gp(vp);
}

static u64 mov_from_cr(struct vmx_vp *s, unsigned cr)
{
	switch (cr) {
	case 0:
		return vmx_guest_cr0();
	case 3:
		return vmread(VMCS_GUEST_CR3);
	case 4:
		return vmx_guest_cr4();
	case 8:
		return s->cr8;
	}
	return 0;
}

bool vmx_handle_cr(struct vp *vp, struct vmx_vp *s, u64 qual)
{
	unsigned cr = qual & CR_QUAL_NUM_MASK;
	u64 *reg = &vp->regs.gpr[(qual >> CR_QUAL_GPR_SHIFT) & CR_QUAL_GPR_MASK];
	u64 cr0;

	switch ((qual >> CR_QUAL_TYPE_SHIFT) & CR_QUAL_TYPE_MASK) {
	case CR_TYPE_MOV_TO:
		return mov_to_cr(vp, s, cr, in_64bit_mode() ? *reg : (u32)*reg);
	case CR_TYPE_MOV_FROM:
		*reg = mov_from_cr(s, cr);
		return true;
	case CR_TYPE_CLTS:
		return set_cr0(vp, s, vmx_guest_cr0() & ~CR0_TS);
	case CR_TYPE_LMSW:
		/* LMSW sets PE but never clears it. */
		cr0 = vmx_guest_cr0();
		return set_cr0(vp, s,
			       (cr0 & ~LMSW_BITS) | (cr0 & CR0_PE) |
				   ((qual >> CR_QUAL_LMSW_SHIFT) & LMSW_BITS));
	}
	return gp(vp);
}
