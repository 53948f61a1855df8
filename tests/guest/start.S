/*
 * Test guest entry: 16-bit real mode -> 32-bit protected mode -> 64-bit long
 * mode, then guest_main() in testguest.c. Also the GDT and the exception
 * stubs. Linked at 0x8000 (testguest.ld) and entered there as CS=0x0800,
 * IP=0, either by the hypervisor (`entry = 0x8000`) or by the ROM's reset
 * stub (rom.S), which copies this very image to 0x8000 first.
 *
 * Mode-switch facts: Intel SDM Vol.3A 10.9.1 "Switching to Protected Mode"
 * and 10.8.5 "Initializing IA-32e Mode"; AMD APM Vol.2 14.6 "Enabling and
 * Activating Long Mode".
 */

#define SEL_CODE32 0x08
#define SEL_CODE64 0x10 /* system tests expect the long-mode CS to be 0x10 */
#define SEL_DATA 0x18
#define SEL_USER_DATA 0x23 /* 0x20 | RPL 3 */
#define SEL_USER_CODE 0x2b /* 0x28 | RPL 3 */
#define RFLAGS_RESERVED 0x2 /* bit 1 is always set; IF stays clear in user mode */

#define CR0_PE (1 << 0)
#define CR0_NW (1 << 29)
#define CR0_CD (1 << 30)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)

#define PTE_P 0x001
#define PTE_W 0x002
#define PTE_U 0x004 /* user pages too: the 'u' command runs code at CPL 3 */
#define PTE_PS 0x080 /* 2 MiB page in a PD entry */
#define PT_PAGES 6 /* PML4, PDPT, 4 PDs: 4 GiB with 2 MiB pages */
#define PD_ENTRIES (4 * 512)

	.section .text.start, "ax"
	.code16
	.globl _start
_start:
	cli
	cld
	/* CS=0x0800, IP=0: make CS zero so link addresses are offsets. */
	ljmp $0, $real16
real16:
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $_start, %sp /* a few bytes of real-mode stack below the image */
	call real_mode_hypercalls
	lgdtl gdt_ptr
	/* PE on; CD/NW off (the reset value of CR0 has caching disabled). */
	movl %cr0, %eax
	andl $~(CR0_CD | CR0_NW), %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	/* Right after setting PE, a far jump loads CS from the GDT (10.9.1 step 4). */
	ljmpl $SEL_CODE32, $prot32

/*
 * A hypercall in real mode must raise #UD and do nothing (TLFS 3.2: CPL 0 in
 * protected mode only): VMCALL and VMMCALL once each with Bulkhead's echo
 * call (RCX 0x0fff, which inverts RDX where it is served). The #UD handler
 * in the IVT (vector 6 at 0:0x18) counts and skips the 3 bytes; the 'r'
 * command prints what was seen. Under a bare emulator both raise #UD too.
 */
#define RM_ECHO_CODE 0x0fff
#define RM_ECHO_INPUT 0x5a5a1234
#define IVT_UD 0x18
real_mode_hypercalls:
	movw $real_mode_ud, IVT_UD
	movw $0, IVT_UD + 2
	movl $RM_ECHO_CODE, %ecx
	movl $RM_ECHO_INPUT, %edx
	xorl %eax, %eax
	vmcall
	movl %edx, rm_edx
	movl $RM_ECHO_CODE, %ecx
	movl $RM_ECHO_INPUT, %edx
	xorl %eax, %eax
	vmmcall
	movl %edx, rm_edx + 4
	ret
real_mode_ud:
	pushw %bp
	movw %sp, %bp
	addw $3, 2(%bp) /* IP past the 3-byte instruction (the frame: IP, CS, FLAGS) */
	incw rm_ud
	popw %bp
	iret
	.align 4
	.globl rm_ud, rm_edx
rm_ud:	.word 0, 0 /* #UDs taken in real mode */
rm_edx:	.long 0, 0 /* EDX after the VMCALL and the VMMCALL */

	.code32
prot32:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $__stack_top, %esp

	/* Zero .bss: RAM may hold an earlier run's data after a reset. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb

	/* Identity map 0..4 GiB with 2 MiB pages. */
	movl $__pt_base, %edi
	movl $(PT_PAGES * 4096 / 4), %ecx
	rep stosl
	movl $__pt_base, %edi
	leal 0x1000 + PTE_P + PTE_W + PTE_U(%edi), %eax
	movl %eax, (%edi) /* PML4[0] -> PDPT */
	xorl %ecx, %ecx
1:	leal 0x2000 + PTE_P + PTE_W + PTE_U(%edi), %eax /* PDPT[i] -> PD i */
	movl %ecx, %edx
	shll $12, %edx
	addl %edx, %eax
	movl %eax, 0x1000(%edi, %ecx, 8)
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx
1:	movl %ecx, %eax /* PD entry i maps i * 2 MiB; bits 32+ stay zero */
	shll $21, %eax
	orl $(PTE_P | PTE_W | PTE_U | PTE_PS), %eax
	movl %eax, 0x2000(%edi, %ecx, 8)
	incl %ecx
	cmpl $PD_ENTRIES, %ecx
	jb 1b

	/* PAE, CR3, EFER.LME, then PG activates long mode (IA32_EFER.LMA=1). */
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl %edi, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	/* Compatibility mode until CS is a code segment with L=1. */
	ljmpl $SEL_CODE64, $long64

	.code64
long64:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movq $__stack_top, %rsp
	call guest_main
1:	cli
	hlt
	jmp 1b

/*
 * Exception stubs: vector 0..31, then the interrupt vectors 32..36 (the
 * x2APIC timer of the 'i' test, of hv-stimer's watchdog and of the VMBus
 * client's waits, the SynIC and direct-timer vectors of hv-stimer, the VMBus
 * client's SINT; guest.h). Each pushes a zero error code where the CPU
 * pushes none (SDM Vol.3A 7.15 "Exception and Interrupt Reference"), then the
 * vector, so trap() always sees the same struct trap_frame.
 */
#define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
		      (v) == 29 || (v) == 30)

	.macro stub v
	.align 16
	.if !HAS_ERROR(\v)
	pushq $0
	.endif
	pushq $\v
	jmp trap_common
	.endm

	.text
	.align 16
	.globl trap_stubs
trap_stubs: /* 16 bytes apart: vector v's stub is at trap_stubs + 16 * v */
	.irp v, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, \
		16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36
	stub \v
	.endr

/*
 * 64-bit delivery aligns RSP to 16 (SDM Vol.3A 7.14.2 "64-Bit Mode Stack
 * Frame"); the CPU's 5 pushes, the stub's 2 and these 15 keep it aligned.
 */
trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	call trap
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp /* vector, error code */
	iretq

/*
 * user_call(fn, stack): run fn at CPL 3 on stack (SDM Vol.3A 7.14.3: IRETQ
 * to an outer level pops SS:RSP too), interrupts off. fn ends with INT
 * VEC_USER_RETURN, whose gate (DPL 3) is user_return: back on the kernel
 * stack user_call left, the data segments reloaded (IRETQ to CPL 3 made
 * them null), and return to user_call's caller.
 */
	.globl user_call, user_return
user_call:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, user_kernel_rsp(%rip)
	pushq $SEL_USER_DATA
	pushq %rsi
	pushq $RFLAGS_RESERVED
	pushq $SEL_USER_CODE
	pushq %rdi
	iretq
user_return:
	movq user_kernel_rsp(%rip), %rsp
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
	.data
	.align 8
user_kernel_rsp:
	.quad 0

/*
 * Flat segments (SDM Vol.3A 3.4.5 "Segment Descriptors"; L=1 marks 64-bit
 * code), the user ones at DPL 3, and a 64-bit TSS descriptor that
 * testguest.c fills in before the 'u' command's LTR (LTR sets its busy bit:
 * this is RAM, never the ROM).
 */
	.section .rodata.gdt, "a"
	.align 16
	.globl gdt
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff /* 0x08: 32-bit code, base 0, limit 4G */
	.quad 0x00af9b000000ffff /* 0x10: 64-bit code (L=1, D=0) */
	.quad 0x00cf93000000ffff /* 0x18: data, base 0, limit 4G */
	.quad 0x00cff3000000ffff /* 0x20: user data (DPL 3) */
	.quad 0x00affb000000ffff /* 0x28: user 64-bit code (DPL 3) */
	.quad 0, 0		 /* 0x30: TSS (16 bytes in long mode) */
gdt_end:
	.align 8
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt

	.section .note.GNU-stack, "", @progbits
