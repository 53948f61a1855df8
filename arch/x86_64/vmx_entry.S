/*
 * int vmx_enter(u64 *gprs, int resume)
 * Load the guest's general registers (all but RSP, which is in the VMCS) and
 * VMLAUNCH or VMRESUME the current VMCS. A VM exit lands at vmx_exit_entry
 * (HOST_RIP) with RSP = HOST_RSP, written here just before entry; the guest
 * registers go back to gprs and 0 is returned. If the instruction itself
 * fails, nothing ran: 1 for VMfailInvalid (CF), 2 for VMfailValid (ZF).
 * Host RFLAGS after an exit is 2 (SDM Vol.3C 28.5.3): IF stays 0.
 * (VMLAUNCH/VMRESUME: SDM Vol.3C 31.3; conventions for VMX instructions 31.2.)
 * VERW (spec.inc) is the last thing before the entry; it clobbers ZF, so it
 * comes after the branch on it. The RSB is filled before the first RET.
 */
#include "arch/x86_64/spec.inc"
#include "arch/x86_64/vmx.h"

#define GPR(n) (8 * (n))

	.text
	.globl vmx_enter
	.type vmx_enter, @function
vmx_enter:
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%rdi		/* 0(%rsp) at the exit: gprs */

	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	jbe	vmx_fail

	test	%esi, %esi	/* ZF for the choice below; MOVs keep the flags */
	mov	GPR(0)(%rdi), %rax
	mov	GPR(1)(%rdi), %rcx
	mov	GPR(2)(%rdi), %rdx
	mov	GPR(3)(%rdi), %rbx
	mov	GPR(5)(%rdi), %rbp
	mov	GPR(6)(%rdi), %rsi
	mov	GPR(8)(%rdi), %r8
	mov	GPR(9)(%rdi), %r9
	mov	GPR(10)(%rdi), %r10
	mov	GPR(11)(%rdi), %r11
	mov	GPR(12)(%rdi), %r12
	mov	GPR(13)(%rdi), %r13
	mov	GPR(14)(%rdi), %r14
	mov	GPR(15)(%rdi), %r15
	mov	GPR(7)(%rdi), %rdi
	jz	1f
	SPEC_VERW
	vmresume
	jmp	vmx_fail
1:	SPEC_VERW
	vmlaunch

vmx_fail:
	mov	$VMX_ENTER_FAIL_INVALID, %eax
	jc	2f
	mov	$VMX_ENTER_FAIL_VALID, %eax
2:	add	$8, %rsp
	jmp	vmx_return

	.globl vmx_exit_entry
	.type vmx_exit_entry, @function
vmx_exit_entry:
	push	%rdi
	mov	8(%rsp), %rdi	/* gprs */
	mov	%rax, GPR(0)(%rdi)
	mov	%rcx, GPR(1)(%rdi)
	mov	%rdx, GPR(2)(%rdi)
	mov	%rbx, GPR(3)(%rdi)
	mov	%rbp, GPR(5)(%rdi)
	mov	%rsi, GPR(6)(%rdi)
	mov	%r8, GPR(8)(%rdi)
	mov	%r9, GPR(9)(%rdi)
	mov	%r10, GPR(10)(%rdi)
	mov	%r11, GPR(11)(%rdi)
	mov	%r12, GPR(12)(%rdi)
	mov	%r13, GPR(13)(%rdi)
	mov	%r14, GPR(14)(%rdi)
	mov	%r15, GPR(15)(%rdi)
	popq	GPR(7)(%rdi)
	add	$8, %rsp
	SPEC_RSB_FILL %rcx
	mov	$VMX_ENTER_EXITED, %eax

vmx_return:
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret

	.section .note.GNU-stack, "", @progbits
