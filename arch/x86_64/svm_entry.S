/*
 * void svm_enter(u64 vmcb_pa, u64 host_vmcb_pa, struct vp_regs *regs)
 * VMSAVE the host's hidden state, VMLOAD the guest's, VMRUN; after #VMEXIT
 * the reverse. Interrupts: CLGI, STI, VMRUN so a host interrupt exits the
 * guest (V_INTR_MASKING); STGI after the exit lets it be taken, then CLI.
 * (APM Vol.2, 15.5 VMRUN, 15.17 GIF, 15.21.3 interrupt masking.)
 * VERW and the RSB fill (spec.inc) sit right at the VMRUN: after the last
 * host load, and before the first host RET or interrupt (STGI).
 */
#include "arch/x86_64/spec.inc"

#define GPR(n) (8 * (n))

	.text
	.globl svm_enter
svm_enter:
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%rdx		/* 16(%rsp): regs */
	push	%rsi		/* 8(%rsp): host vmcb */
	push	%rdi		/* 0(%rsp): guest vmcb */

	clgi
	mov	%rsi, %rax
	vmsave	%rax
	mov	%rdi, %rax
	vmload	%rax

	mov	%rdx, %rbx
	mov	GPR(1)(%rbx), %rcx
	mov	GPR(2)(%rbx), %rdx
	mov	GPR(5)(%rbx), %rbp
	mov	GPR(6)(%rbx), %rsi
	mov	GPR(7)(%rbx), %rdi
	mov	GPR(8)(%rbx), %r8
	mov	GPR(9)(%rbx), %r9
	mov	GPR(10)(%rbx), %r10
	mov	GPR(11)(%rbx), %r11
	mov	GPR(12)(%rbx), %r12
	mov	GPR(13)(%rbx), %r13
	mov	GPR(14)(%rbx), %r14
	mov	GPR(15)(%rbx), %r15
	mov	GPR(3)(%rbx), %rbx

	SPEC_VERW
	sti
	vmrun	%rax

	push	%rbx
	mov	24(%rsp), %rbx	/* regs */
	mov	%rcx, GPR(1)(%rbx)
	mov	%rdx, GPR(2)(%rbx)
	mov	%rbp, GPR(5)(%rbx)
	mov	%rsi, GPR(6)(%rbx)
	mov	%rdi, GPR(7)(%rbx)
	mov	%r8, GPR(8)(%rbx)
	mov	%r9, GPR(9)(%rbx)
	mov	%r10, GPR(10)(%rbx)
	mov	%r11, GPR(11)(%rbx)
	mov	%r12, GPR(12)(%rbx)
	mov	%r13, GPR(13)(%rbx)
	mov	%r14, GPR(14)(%rbx)
	mov	%r15, GPR(15)(%rbx)
	popq	GPR(3)(%rbx)
	SPEC_RSB_FILL %rcx

	mov	0(%rsp), %rax
	vmsave	%rax
	mov	8(%rsp), %rax
	vmload	%rax
	stgi
	cli

	add	$24, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret
	.section .note.GNU-stack, "", @progbits
