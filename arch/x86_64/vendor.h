/* The two implementations of kernel/vp.h's interface; vp_probe.c picks one. */
#ifndef BULKHEAD_VENDOR_H
#define BULKHEAD_VENDOR_H

#include "kernel/vp.h"

extern const struct vp_ops vmx_ops; /* Intel VT-x with EPT (vmx.c) */
extern const struct vp_ops svm_ops; /* AMD-V with nested paging (svm.c) */
/* What vp_probe returned: arch/'s own code (mmio.c) calls the VP through it. */
extern const struct vp_ops *vendor_ops;

struct vp_sregs;
/*
 * mmio.c: fetch up to 15 bytes of the instruction at the VP's RIP through
 * its page tables into bytes (*n of them). 0, or -1 with a reason in why.
 */
int insn_fetch(struct vp *vp, const struct vp_sregs *s, u8 *bytes, unsigned *n, char *why,
	       size_t whylen);

#endif
