/*
 * Hypercall dispatch (VMCALL/VMMCALL). The register convention and status
 * codes follow the Hyper-V TLFS (3.6 hypercall interface; 3.8 status codes):
 * RCX holds the control word, the call code in bits 15:0.
 */
#include "exit.h"

#define HC_CODE_MASK 0xffffull
#define HV_STATUS_SUCCESS 0
#define HV_STATUS_INVALID_HYPERCALL_CODE 2
/* Bulkhead's private test call: returns the bitwise NOT of RDX in RDX. */
#define HC_BULKHEAD_ECHO 0x0fff

void hypercall_dispatch(struct vp *vp)
{
	u64 *r = vp->regs.gpr;

	switch (r[REG_RCX] & HC_CODE_MASK) {
	case HC_BULKHEAD_ECHO:
		r[REG_RDX] = ~r[REG_RDX];
		r[REG_RAX] = HV_STATUS_SUCCESS;
		break;
	default:
		r[REG_RAX] = HV_STATUS_INVALID_HYPERCALL_CODE;
		break;
	}
}
