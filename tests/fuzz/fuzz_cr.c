/*
 * libFuzzer: control-register exits of VT-x (arch/x86_64/vmx_cr.c): MOV to
 * and from CR0/CR3/CR4/CR8, CLTS and LMSW, mode switches into and out of
 * IA-32e mode, and the PAE PDPTE loads they imply, read from a guest memory
 * whose pages may be missing. Only the back end (AMD-V does not intercept CR
 * writes) emulates them.
 *
 * vmx_cr.c reaches the CPU through vmread/vmwrite and cpuid, inline
 * assembly in vmx.h and cpu.h. The harness includes those headers with the
 * inline functions renamed out of the way, puts a fake VMCS (a few fields)
 * and a fake CPUID in their place, and then includes vmx_cr.c itself: the
 * real source, compiled once, here.
 *
 *   u64 cr0 | u64 cr4 | u64 efer | u64 cr3 | u16 cs_attr | u8 maxphys | u8 absent |
 *   u8 masks | u8 nr_edits | edits { u8 page, u8 off, u8 xor }... | ops { u64 qual, u64 value }...
 *
 * The start state is the guest's, made one a VM entry accepts (CR0 and
 * EFER.LMA consistent). Checks: an instruction that raises #GP changes
 * no VMCS field and no register; one that succeeds leaves CR0 with ET, PG
 * only with PE, NW only with CD, the high half clear, EFER.LMA = LME && PG,
 * the fixed bits in the real CR0, and in PAE paging the VMCS PDPTEs equal to
 * the guest's entries, none present with a reserved bit; a MOV from CR reads
 * what the guest sees.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define vmread	real_vmread
#define vmwrite real_vmwrite
#define cpuid	real_cpuid
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/vmx.h"
#include "tests/fuzz/fuzz_input.h"
#undef vmread
#undef vmwrite
#undef cpuid

#define PAGES	 4
#define MAX_OPS	 32
#define CS_AR	 (VMCS_GUEST_ES_AR + VMX_SEG_CS * VMX_SEG_STRIDE)
#define NO_GP	 (-1)
#define CR0_HIGH (~0xffffffffull)

/* The VMCS fields vmx_cr.c may touch (SDM Vol.3C appendix B). */
struct vmcs {
	u64 cr0, cr0_shadow, cr3, cr4, cr4_shadow, efer, cs_ar, pdpte[4];
};

static struct vmcs vmcs;
static u8 maxphys;
static int gp_vector = NO_GP;
static u8 *ram[PAGES];
static u8 absent;

u64 vmx_cr0_mask, vmx_cr4_mask, vmx_cr0_fixed0, vmx_cr0_fixed1, vmx_cr4_fixed0;

static u64 *field(u64 f)
{
	switch (f) {
	case VMCS_GUEST_CR0:
		return &vmcs.cr0;
	case VMCS_CR0_SHADOW:
		return &vmcs.cr0_shadow;
	case VMCS_GUEST_CR3:
		return &vmcs.cr3;
	case VMCS_GUEST_CR4:
		return &vmcs.cr4;
	case VMCS_CR4_SHADOW:
		return &vmcs.cr4_shadow;
	case VMCS_GUEST_EFER:
		return &vmcs.efer;
	case CS_AR:
		return &vmcs.cs_ar;
	}
	if (f >= VMCS_GUEST_PDPTE0 && f < VMCS_GUEST_PDPTE0 + 8 && !(f & 1))
		return &vmcs.pdpte[(f - VMCS_GUEST_PDPTE0) / 2];
	__builtin_trap(); /* a field the CR code has no business with */
}

static u64 vmread(u64 f)
{
	return *field(f);
}

static bool vmwrite(u64 f, u64 v)
{
	*field(f) = v;
	return true;
}

static void cpuid(u32 leaf, u32 sub, struct cpuid_regs *r)
{
	check(leaf == CPUID_ADDR_SIZES);
	memset(r, 0, sizeof(*r));
	r->eax = maxphys;
}

void vmx_inject_hw_exception(struct vp *vp, u8 vector, u32 error)
{
	gp_vector = vector;
}

void vmx_set_efer(u64 efer)
{
	vmcs.efer = efer;
}

#include "arch/x86_64/vmx_cr.c"

static int guest_read(void *ctx, u64 gpa, void *buf, unsigned len)
{
	u64 page = gpa >> PAGE_SHIFT;

	if (page >= PAGES || (absent >> page & 1) || len > PAGE_SIZE - (gpa & ~PAGE_MASK))
		return -1;
	memcpy(buf, ram[page] + (gpa & ~PAGE_MASK), len);
	return 0;
}

static void check_pdptes(u64 cr3)
{
	u64 e[4], reserved = PDPTE_PAE_RSVD | (~0ull << (maxphys & 0xff));

	check(!guest_read(NULL, cr3 & CR3_PAE_MASK, e, sizeof(e)));
	for (unsigned i = 0; i < 4; i++) {
		check(vmcs.pdpte[i] == e[i]);
		check(!(e[i] & PTE_P) || !(e[i] & reserved));
	}
}

static void check_success(const struct vmcs *before, unsigned cr, unsigned type, u64 val)
{
	u64 cr0 = vmx_guest_cr0(), cr4 = vmx_guest_cr4();
	bool pae = (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(vmcs.efer & EFER_LMA);

	if (type == CR_TYPE_MOV_TO && cr == 4) {
		/* Only a write that leaves every masked bit 0 is taken (none sets one). */
		check(!(val & vmx_cr4_mask) && vmcs.cr4_shadow == val);
		check(vmcs.cr4 == (val | vmx_cr4_fixed0));
		return;
	}
	if (type == CR_TYPE_MOV_FROM || (type == CR_TYPE_MOV_TO && cr != 0 && cr != 3)) {
		check(!memcmp(before, &vmcs, sizeof(vmcs))); /* reads and CR8 leave the VMCS */
		return;
	}
	if (type != CR_TYPE_MOV_TO || cr == 0) {
		check(cr0 & CR0_ET);
		check(!(cr0 & CR0_HIGH));
		check(!(cr0 & CR0_PG) || (cr0 & CR0_PE));
		check(!(cr0 & CR0_NW) || (cr0 & CR0_CD));
		check(!!(vmcs.efer & EFER_LMA) == ((vmcs.efer & EFER_LME) && (cr0 & CR0_PG)) ||
		      !((before->cr0 ^ vmcs.cr0) & CR0_PG));
		check((vmcs.cr0 & vmx_cr0_fixed1) == vmcs.cr0);
		check((vmcs.cr0 & (vmx_cr0_fixed0 & ~(CR0_PE | CR0_PG))) ==
		      (vmx_cr0_fixed0 & ~(CR0_PE | CR0_PG)));
	}
	if (pae && memcmp(before->pdpte, vmcs.pdpte, sizeof(vmcs.pdpte)))
		check_pdptes(vmcs.cr3);
}

/* What a VM entry accepts (SDM Vol.3C 26.3.1.1): the emulation starts from there. */
static void sane_start(void)
{
	u64 cr0 = (vmcs.cr0 & ~CR0_HIGH) | CR0_ET;

	if (cr0 & CR0_PG)
		cr0 |= CR0_PE;
	if (cr0 & CR0_NW)
		cr0 |= CR0_CD;
	vmcs.cr0 = vmcs.cr0_shadow = cr0;
	vmcs.efer &= ~EFER_LMA;
	if ((vmcs.efer & EFER_LME) && (cr0 & CR0_PG)) {
		vmcs.efer |= EFER_LMA;
		vmcs.cr4 |= CR4_PAE;
		vmcs.cr4_shadow |= CR4_PAE;
	}
}

static void run_op(struct vp *vp, struct vmx_vp *s, u64 qual, u64 value)
{
	unsigned cr = qual & CR_QUAL_NUM_MASK,
		 type = (qual >> CR_QUAL_TYPE_SHIFT) & CR_QUAL_TYPE_MASK;
	unsigned reg = (qual >> CR_QUAL_GPR_SHIFT) & CR_QUAL_GPR_MASK;
	struct vmcs before = vmcs;
	u64 gprs[VP_NR_GPRS];
	bool ok;

	vp->regs.gpr[reg] = value;
	memcpy(gprs, vp->regs.gpr, sizeof(gprs));
	gp_vector = NO_GP;
	ok = vmx_handle_cr(vp, s, qual);
	if (!ok) {
		check(gp_vector == EXC_GP);
		check(!memcmp(&before, &vmcs, sizeof(vmcs)));
		check(!memcmp(gprs, vp->regs.gpr, sizeof(gprs)));
		return;
	}
	check(gp_vector == NO_GP);
	check_success(&before, cr, type,
		      vmcs.efer & EFER_LMA && vmcs.cs_ar & SEG_ATTR_L ? value : (u32)value);
	if (type == CR_TYPE_MOV_FROM) {
		if (cr == 0)
			check(vp->regs.gpr[reg] == vmx_guest_cr0());
		else if (cr == 4)
			check(vp->regs.gpr[reg] == vmx_guest_cr4());
		else if (cr == 8)
			check(vp->regs.gpr[reg] == s->cr8 && s->cr8 <= 0xf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vp vp;
	static struct vmx_vp s;
	u8 masks, n;

	if (!ram[0])
		for (unsigned i = 0; i < PAGES; i++)
			ram[i] = malloc(PAGE_SIZE);
	if (size < 38)
		return 0;
	cur = data;
	end = data + size;
	memset(&vmcs, 0, sizeof(vmcs));
	memset(&vp, 0, sizeof(vp));
	memset(&s, 0, sizeof(s));
	vp.guest.read = guest_read;
	vmcs.cr0 = vmcs.cr0_shadow = take(8);
	vmcs.cr4 = vmcs.cr4_shadow = take(8);
	vmcs.efer = take(8);
	vmcs.cr3 = take(8) & ((PAGES << PAGE_SHIFT) * 2 - 1); /* half of the time in RAM */
	vmcs.cs_ar = take(2);
	sane_start();
	maxphys = 32 + (u8)take(1) % 21; /* 32..52 */
	absent = (u8)take(1);
	masks = (u8)take(1);
	/* What vmx.c settles at cpu_enable: a typical CPU, with or without unrestricted guest. */
	vmx_cr0_fixed0 = masks & 1 ? CR0_NE : CR0_PE | CR0_NE | CR0_PG;
	vmx_cr0_fixed1 = 0xffffffffull;
	vmx_cr4_fixed0 = CR4_VMXE;
	vmx_cr0_mask = CR0_NE | (masks & 2 ? CR0_CD | CR0_NW : 0);
	vmx_cr4_mask = CR4_VMXE | CR4_OSXSAVE | (masks & 4 ? CR4_PCIDE | CR4_LA57 : 0);
	for (unsigned i = 0; i < PAGES; i++)
		memset(ram[i], 0, PAGE_SIZE);
	n = (u8)take(1);
	for (unsigned i = 0; i < n && cur < end; i++) {
		u8 page = (u8)take(1) % PAGES, off = (u8)take(1);

		ram[page][off] ^= (u8)take(1); /* the PDPTEs live in the first 32 bytes of a page */
	}
	for (unsigned i = 0; i < MAX_OPS && cur < end; i++) {
		u64 qual = take(8);

		run_op(&vp, &s, qual, take(8));
	}
	return 0;
}
