/* Hypervisor entry from the loader, boot stack, and interrupt stubs. */

	.section .text.entry, "ax"
	.globl _start
_start:
	/* SysV call from boot/: RDI = struct boot_info *. Firmware tables still live. */
	cli
	cld
	lea	boot_stack_top(%rip), %rsp
	xor	%ebp, %ebp
	call	arch_boot
1:	hlt
	jmp	1b

/* Interrupt/exception stubs: push a uniform frame, call trap_dispatch. */
.macro TRAP_NOERR vec
	.globl trap_stub_\vec
trap_stub_\vec:
	pushq	$0
	pushq	$\vec
	jmp	trap_common
.endm
.macro TRAP_ERR vec
	.globl trap_stub_\vec
trap_stub_\vec:
	pushq	$\vec
	jmp	trap_common
.endm

	.text
TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR 8
TRAP_NOERR 9
TRAP_ERR 10
TRAP_ERR 11
TRAP_ERR 12
TRAP_ERR 13
TRAP_ERR 14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR 17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR 21
TRAP_NOERR 32
TRAP_NOERR 255

trap_common:
	push	%rax
	push	%rcx
	push	%rdx
	push	%rbx
	push	%rbp
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, %rdi
	mov	%rsp, %rbx
	and	$-16, %rsp
	call	trap_dispatch
	mov	%rbx, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rbp
	pop	%rbx
	pop	%rdx
	pop	%rcx
	pop	%rax
	add	$16, %rsp
	iretq

	.bss
	.balign 16
boot_stack:
	.skip 65536
	.globl boot_stack_top
boot_stack_top:
	.section .note.GNU-stack, "", @progbits
