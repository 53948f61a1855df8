/*
 * Turning a VM exit into a struct vm_exit (SDM Vol.3C 28.2 and appendix C).
 * Pure: vmx.c reads the VMCS fields into struct vmx_exit_info, so host unit
 * tests can feed this any exit.
 */
#include "arch/x86_64/vmx.h"
#include "kernel/vp.h"

#include <string.h>

static void decode_io(const struct vmx_exit_info *x, struct vm_exit *e)
{
	e->reason = EXIT_IO;
	e->io.size = (u8)((x->qual & IO_QUAL_SIZE_MASK) + 1);
	e->io.in = x->qual & IO_QUAL_IN;
	e->io.string = x->qual & IO_QUAL_STRING;
	e->io.rep = x->qual & IO_QUAL_REP;
	e->io.port = (u16)(x->qual >> IO_QUAL_PORT_SHIFT);
}

static void decode_ept_violation(const struct vmx_exit_info *x, struct vm_exit *e)
{
	e->reason = EXIT_MEM_FAULT;
	e->mem.gpa = x->gpa;
	e->mem.access = (x->qual & EPT_QUAL_READ ? MEM_READ : 0) |
			(x->qual & EPT_QUAL_WRITE ? MEM_WRITE : 0) |
			(x->qual & EPT_QUAL_FETCH ? MEM_EXEC : 0);
}

void vmx_decode_exit(const struct vmx_exit_info *x, struct vm_exit *e)
{
	memset(e, 0, sizeof(*e));
	e->raw = x->reason;
	e->qual = x->qual;
	e->insn_len = (u8)x->insn_len;
	if (x->reason & EXIT_REASON_ENTRY_FAIL) {
		e->reason = EXIT_INVALID; /* chapter 27: a guest-state or MSR-load check failed */
		return;
	}
	switch (x->reason & EXIT_REASON_BASIC_MASK) {
	case EXIT_REASON_EXCEPTION_NMI:
		/* Exceptions are not intercepted; an NMI exit is the host's, like an interrupt. */
		e->reason = (x->intr_info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI ? EXIT_INTR
										  : EXIT_UNHANDLED;
		break;
	case EXIT_REASON_EXT_INTR:
		e->reason = EXIT_INTR;
		break;
	case EXIT_REASON_TRIPLE_FAULT:
		e->reason = EXIT_TRIPLE_FAULT;
		break;
	case EXIT_REASON_INTR_WINDOW:
		e->reason = EXIT_IRQ_WINDOW;
		break;
	case EXIT_REASON_CPUID:
		e->reason = EXIT_CPUID;
		break;
	case EXIT_REASON_HLT:
		e->reason = EXIT_HLT;
		break;
	case EXIT_REASON_VMCALL:
		e->reason = EXIT_HYPERCALL;
		e->hypercall.cpl = (u8)SEG_DPL(x->ss_ar);
		e->hypercall.protected_mode = x->cr0 & CR0_PE;
		break;
	case EXIT_REASON_IO:
		decode_io(x, e);
		break;
	case EXIT_REASON_RDMSR:
		e->reason = EXIT_MSR_READ;
		break;
	case EXIT_REASON_WRMSR:
		e->reason = EXIT_MSR_WRITE;
		break;
	case EXIT_REASON_EPT_VIOLATION:
		decode_ept_violation(x, e);
		break;
	case EXIT_REASON_EPT_MISCONFIG:
		/* Our EPT entries are malformed: a hypervisor bug, not a guest fault. */
		e->reason = EXIT_UNHANDLED;
		e->qual = x->gpa;
		break;
	case EXIT_REASON_PREEMPT_TIMER:
		e->reason = EXIT_PREEMPT;
		break;
	default:
		e->reason = EXIT_UNHANDLED;
		break;
	}
}
