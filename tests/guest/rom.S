/*
 * ROM variant of the test guest: a 64 KiB firmware image for 0xf0000-0xfffff.
 * The CPU starts at the reset vector (CS selector 0xf000, base 0xffff0000,
 * IP 0xfff0: SDM Vol.3A 10.1.4 "First Instruction Executed"), i.e. in the
 * last 16 bytes here. They jump to rom_start, which copies the unchanged
 * testguest.bin to 0x8000 and enters it as the hypervisor would with
 * `entry = 0x8000`: CS=0x0800, IP=0. Linked at 0 = offsets in segment 0xf000.
 */
#define IMAGE_SEG 0x0800 /* testguest.bin is linked at 0x8000 */
#define ROM_SEG 0xf000

	.code16
	.section .text, "ax"
rom_start:
	cli
	cld
	movw $ROM_SEG, %ax
	movw %ax, %ds
	movw $IMAGE_SEG, %ax
	movw %ax, %es
	movw $image, %si
	xorw %di, %di
	movw $(image_end - image), %cx
	rep movsb
	ljmp $IMAGE_SEG, $0

	.align 16
image:
	.incbin "testguest.bin"
image_end:

/* Reset vector: the far jump loads CS base 0xf0000, leaving the 4 GiB alias. */
	.section .reset, "ax"
	ljmp $ROM_SEG, $rom_start

	.section .note.GNU-stack, "", @progbits
