/*
 * The back ends' side of the speculation mitigations (kernel/mitig.c
 * decides which; docs/security.md): what runs around every entry and exit.
 * The entry code's macros are in spec.inc.
 */
#ifndef BULKHEAD_SPEC_H
#define BULKHEAD_SPEC_H

#include "kernel/vp.h"

/* Read by the entry code: set by spec_entry for the entry it precedes. */
extern u8 spec_entry_verw, spec_exit_rsb;
extern const u16 spec_verw_sel;

/* Just before an entry of vp: IBPB between partitions, SPEC_CTRL, the L1D flush, the flags. */
void spec_entry(struct vp *vp);
/* Just after the exit: the host's SPEC_CTRL back. */
void spec_exit(struct vp *vp);
/* vp goes away: the next VP to run is another partition's whatever its tag. */
void spec_forget(struct vp *vp);

#endif
