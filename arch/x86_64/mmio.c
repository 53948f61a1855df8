/*
 * MMIO emulation for both back ends: fetch the faulting instruction through
 * the guest's own page tables (gwalk.c), decode it (insn.c), let the device
 * model do the access, write the result back and step over the
 * instruction. Neither SVM without decode assists nor VMX tells us the
 * register or the direction, so this is always done here.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gwalk.h"
#include "arch/x86_64/insn.h"
#include "kernel/arch.h"
#include "arch/x86_64/vendor.h"

#include <stdio.h>
#include <string.h>

int insn_fetch(struct vp *vp, const struct vp_sregs *s, u8 *bytes, unsigned *n, char *why,
	       size_t whylen)
{
	const struct gwalk_cpu cpu = {s->cr0, s->cr3, s->cr4, s->efer, 0};
	bool long_mode = insn_mode_of(s, vp->regs.rflags) == INSN_MODE_64;
	/* CS.base is ignored in 64-bit mode; elsewhere EIP is 32 bits (SDM Vol.3A 3.4.4). */
	u64 la = long_mode ? vp->regs.rip : (s->cs.base + (u32)vp->regs.rip) & 0xffffffffull;
	unsigned access = GWALK_FETCH | (SEG_DPL(s->ss.attr) == 3 ? GWALK_USER : 0);
	int st = GWALK_OK;

	*n = gwalk_fetch(&cpu, la, access, vp->guest.read, vp->guest.read_ctx, bytes, INSN_MAX_LEN,
			 &st, NULL);
	if (*n)
		return 0;
	snprintf(why, whylen, "cannot fetch the instruction at rip=0x%llx (%s)",
		 (unsigned long long)vp->regs.rip, gwalk_status_str(st));
	return -1;
}

bool arch_at_hlt(struct vp *vp)
{
	struct vp_sregs s;
	u8 b[INSN_MAX_LEN];
	unsigned n;
	char why[8];

	vendor_ops->vp_get_sregs(vp, &s);
	if ((s.cr0 & CR0_PE) && (SEG_DPL(s.ss.attr) || (vp->regs.rflags & RFLAGS_VM)))
		return false; /* HLT outside ring 0 is #GP, not a halt */
	return !insn_fetch(vp, &s, b, &n, why, sizeof(why)) && b[0] == 0xf4; /* HLT (SDM Vol.2) */
}

int arch_mmio_emulate(struct vp *vp, u64 gpa, arch_mmio_fn fn, void *ctx, char *why, size_t whylen)
{
	struct vp_sregs s;
	struct insn in;
	u8 bytes[INSN_MAX_LEN];
	unsigned n;
	u64 val, old;
	int st;

	vendor_ops->vp_get_sregs(vp, &s);
	if (insn_fetch(vp, &s, bytes, &n, why, whylen))
		return -1;
	st = insn_decode(bytes, n, insn_mode_of(&s, vp->regs.rflags), &in);
	if (st == INSN_OK && in.mem.kind == INSN_MEM_NONE)
		st = INSN_ERR_UNSUPPORTED;
	if (st != INSN_OK) {
		snprintf(why, whylen, "instruction 0x%x at rip=0x%llx: %s", in.opcode,
			 (unsigned long long)vp->regs.rip, insn_status_str(st));
		return -1;
	}
	switch (in.op) {
	case INSN_OP_LOAD:
		fn(ctx, gpa, in.size, false, &val);
		insn_apply_load(&in, val, vp->regs.gpr);
		break;
	case INSN_OP_STORE:
		val = insn_store_value(&in, vp->regs.gpr);
		fn(ctx, gpa, in.size, true, &val);
		break;
	case INSN_OP_XCHG:
		old = insn_store_value(&in, vp->regs.gpr);
		fn(ctx, gpa, in.size, false, &val);
		insn_apply_load(&in, val, vp->regs.gpr);
		fn(ctx, gpa, in.size, true, &old);
		break;
	default:
		snprintf(why, whylen, "instruction 0x%x at rip=0x%llx is not a memory access",
			 in.opcode, (unsigned long long)vp->regs.rip);
		return -1;
	}
	vp->regs.rip += in.len;
	return 0;
}
