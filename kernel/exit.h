/* VM exit dispatch: one handler per exit reason, written once for VMX and SVM. */
#ifndef BULKHEAD_EXIT_H
#define BULKHEAD_EXIT_H

#include "vp.h"

/* Handle one exit. Returns true when the slice should end. */
bool exit_handle(struct vp *vp, const struct vm_exit *e);

/* Pieces the dispatcher uses (also unit-tested). */
void cpuid_emulate(u32 leaf, u32 sub, u32 out[4]);
bool msr_read(struct vp *vp, u32 index, u64 *val);
bool msr_write(struct vp *vp, u32 index, u64 val);
void io_emulate(struct vp *vp, const struct vm_exit *e);
void hypercall_dispatch(struct vp *vp);

#endif
