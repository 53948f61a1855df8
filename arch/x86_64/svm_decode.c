/*
 * Turning a #VMEXIT into a struct vm_exit (AMD APM Vol.2, appendix C). Kept
 * apart from svm.c so host unit tests can feed it VMCBs.
 */
#include "arch/x86_64/insn.h"
#include "arch/x86_64/svm.h"
#include "kernel/vp.h"

#include <string.h>

/* Instruction lengths of the exits that need them: no NRIP save under QEMU. */
#define LEN_CPUID   2 /* 0f a2 */
#define LEN_HLT	    1 /* f4 */
#define LEN_MSR	    2 /* 0f 32 / 0f 30 */
#define LEN_VMMCALL 3 /* 0f 01 d9 */

/* MOV to CR: 0F 22 /r; the ModRM mod bits are ignored (SDM Vol.2, MOV to Control Registers). */
#define OP_ESCAPE    0x0f
#define OP_MOV_TO_CR 0x22
#define PFX_LOCK     0xf0 /* with MOV CR0: CR8 instead (APM Vol.3, MOV CRn, AltMovCr8) */
#define REX_R	     0x4
#define REX_B	     0x1

/* Legacy prefixes (SDM Vol.2 2.1.1): none changes MOV to CR but LOCK. */
static bool legacy_prefix(u8 b)
{
	switch (b) {
	case 0x26:
	case 0x2e:
	case 0x36:
	case 0x3e:
	case 0x64:
	case 0x65:
	case 0x66:
	case 0x67:
	case 0xf0:
	case 0xf2:
	case 0xf3:
		return true;
	}
	return false;
}

unsigned svm_decode_mov_to_cr(const u8 *b, unsigned n, bool long_mode, unsigned *cr, unsigned *gpr)
{
	unsigned i = 0, rex = 0;
	bool lock = false;

	n = MIN(n, INSN_MAX_LEN);
	for (; i < n && legacy_prefix(b[i]); i++)
		lock |= b[i] == PFX_LOCK;
	if (long_mode && i < n && (b[i] & 0xf0) == 0x40)
		rex = b[i++]; /* REX: only directly before the opcode (SDM Vol.2 2.2.1) */
	if (i + 3 > n || b[i] != OP_ESCAPE || b[i + 1] != OP_MOV_TO_CR)
		return 0;
	*cr = ((b[i + 2] >> 3) & 7) | (rex & REX_R || lock ? 8 : 0);
	*gpr = (b[i + 2] & 7) | (rex & REX_B ? 8 : 0);
	return i + 3;
}

static void decode_ioio(const struct vmcb *v, struct vm_exit *e)
{
	u64 info = v->c.exit_info1;

	e->reason = EXIT_IO;
	e->io.in = info & SVM_IOIO_IN;
	e->io.string = info & SVM_IOIO_STR;
	e->io.rep = info & SVM_IOIO_REP;
	e->io.size = (info >> SVM_IOIO_SZ_SHIFT) & 0x7; /* SZ8/SZ16/SZ32 one-hot = 1/2/4 */
	e->io.port = (u16)(info >> SVM_IOIO_PORT_SHIFT);
	e->insn_len = (u8)(v->c.exit_info2 - v->s.rip); /* EXITINFO2 = next RIP */
}

/* The #GP cases of MOV to CR4 (SDM Vol.2, MOV to/from Control Registers; APM Vol.2 3.1.3). */
bool svm_cr4_write_faults(u8 cpl, const struct vp_sregs *sr, u64 val)
{
	bool long_mode = sr->efer & EFER_LMA;

	if (cpl || (val & SVM_CR4_REFUSED))
		return true;
	if (long_mode && (!(val & CR4_PAE) || ((val ^ sr->cr4) & CR4_LA57)))
		return true;
	/* PCIDE may be set only in IA-32e mode and with CR3[11:0] = 0. */
	return (val & CR4_PCIDE) && !(sr->cr4 & CR4_PCIDE) && (!long_mode || (sr->cr3 & 0xfff));
}

void svm_decode_exit(const struct vmcb *v, struct vm_exit *e)
{
	u64 code = v->c.exit_code;

	memset(e, 0, sizeof(*e));
	e->raw = code;
	e->qual = v->c.exit_info1;
	switch (code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
		/*
		 * The host's: the event stays pending while GIF is 0 and the CPU takes
		 * it at svm_enter's STGI (an NMI through vector 2, an SMI into SMM;
		 * APM Vol.2 15.17). The partition carries on.
		 */
		e->reason = EXIT_INTR;
		break;
	case SVM_EXIT_VINTR:
		e->reason = EXIT_IRQ_WINDOW;
		break;
	case SVM_EXIT_CPUID:
		e->reason = EXIT_CPUID;
		e->insn_len = LEN_CPUID;
		break;
	case SVM_EXIT_HLT:
		e->reason = EXIT_HLT;
		e->insn_len = LEN_HLT;
		break;
	case SVM_EXIT_IOIO:
		decode_ioio(v, e);
		break;
	case SVM_EXIT_MSR:
		e->reason = v->c.exit_info1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		e->insn_len = LEN_MSR;
		break;
	case SVM_EXIT_VMMCALL:
		e->reason = EXIT_HYPERCALL;
		e->insn_len = LEN_VMMCALL;
		e->hypercall.cpl = v->s.cpl; /* APM Vol.2 15.5.1: the VMCB's CPL */
		e->hypercall.protected_mode = v->s.cr0 & CR0_PE;
		break;
	case SVM_EXIT_NPF:
		e->reason = EXIT_MEM_FAULT;
		e->mem.gpa = v->c.exit_info2;
		e->mem.access = (v->c.exit_info1 & SVM_NPF_FETCH)   ? MEM_EXEC
				: (v->c.exit_info1 & SVM_NPF_WRITE) ? MEM_WRITE
								    : MEM_READ;
		break;
	case SVM_EXIT_SHUTDOWN:
		e->reason = EXIT_TRIPLE_FAULT;
		break;
	case SVM_EXIT_INVALID:
		e->reason = EXIT_INVALID;
		break;
	default:
		e->reason = EXIT_UNHANDLED;
		break;
	}
}
