/* Host descriptor tables, traps and the boot path of the boot CPU. */
#ifndef BULKHEAD_DESC_H
#define BULKHEAD_DESC_H

#include "kernel/types.h"

#define GDT_KERNEL_CS 0x08
#define GDT_KERNEL_DS 0x10
#define GDT_TSS	      0x18

#define VEC_NMI	     2 /* SDM Vol.3A 6.3.1 */
#define VEC_TIMER    0x20
#define VEC_SPURIOUS 0xff

/* Operand of LGDT/LIDT and image SGDT/SIDT store (SDM Vol.2B, SGDT). */
struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;
_Static_assert(sizeof(struct desc_ptr) == 10, "SGDT/SIDT image is 10 bytes in 64-bit mode");

/* Frame pushed by entry.S for every trap; order matches the pushes. */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rdi, rsi, rbp, rbx, rdx, rcx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;
};

void desc_init(void);
void trap_dispatch(struct trap_frame *f);
/* Print a frame-pointer backtrace starting at rbp. */
void backtrace(u64 rbp);
/* Host paging: identity map of all memory with 2M pages. */
void paging_init(u64 max_pa);

#endif
