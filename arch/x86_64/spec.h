/*
 * The back ends' side of the speculation mitigations (kernel/mitig.c
 * decides which; docs/security.md): what runs around every entry and exit.
 */
#ifndef BULKHEAD_SPEC_H
#define BULKHEAD_SPEC_H

/* Return-stack entries overwritten after an exit: at least the RSB's depth on current parts. */
#define SPEC_RSB_ENTRIES 32

#ifdef __ASSEMBLY__
/*
 * Fill the return stack buffer with SPEC_RSB_ENTRIES return addresses that
 * lead only to a speculation trap, then drop them from the stack: no RET of
 * the host can then be predicted to a target the guest left behind (RSB
 * stuffing: Intel "Retpoline: A Branch Target Injection Mitigation", 5.3;
 * AMD "Software Techniques for Managing Speculation", mitigation V2-3).
 * Each round makes two calls; reg is clobbered.
 */
.macro SPEC_RSB_FILL reg
	testb	$1, spec_exit_rsb(%rip)
	jz	.Lrsb_done\@
	mov	$(SPEC_RSB_ENTRIES / 2), \reg
.Lrsb_round\@:
	call	.Lrsb_next\@
.Lrsb_trap1\@:
	pause
	lfence
	jmp	.Lrsb_trap1\@
.Lrsb_next\@:
	call	.Lrsb_last\@
.Lrsb_trap2\@:
	pause
	lfence
	jmp	.Lrsb_trap2\@
.Lrsb_last\@:
	dec	\reg
	jnz	.Lrsb_round\@
	add	$(8 * SPEC_RSB_ENTRIES), %rsp
.Lrsb_done\@:
.endm

/*
 * Overwrite the CPU buffers MDS and TAA sample (VERW with MD_CLEAR, Intel
 * "Deep Dive: Microarchitectural Data Sampling"): the last thing before the
 * entry, after every load of host data. Clobbers RFLAGS only.
 */
.macro SPEC_VERW
	testb	$1, spec_entry_verw(%rip)
	jz	.Lverw_done\@
	verw	spec_verw_sel(%rip)
.Lverw_done\@:
.endm

#else

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
#endif
