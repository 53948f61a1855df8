/*
 * Option ROM for `make bench` (bench.py): the bare baseline of the Linux boot
 * on Bochs, which has no -kernel of its own. The Bochs BIOS runs its POST
 * (PCI, ACPI tables, E820) and calls this ROM's init entry at offset 3,
 * which hooks INT 19h (bootstrap). The BIOS's INT 19h at the end of POST
 * then lands here: we copy an hvm_start_info, its module list (the
 * initramfs) and the command line to low RAM, append the BIOS's E820 map as
 * the PVH memory map, enable A20, enter 32-bit protected mode with flat
 * segments, read the flat kernel image and the initramfs from the ATA disk
 * bench.py made (PIO, straight to their load addresses: Bochs's
 * `optramimage` cannot preload a file larger than its 128 KiB memory
 * blocks, as they are mapped lazily in the order they are touched), print
 * `pvhrom: entering Linux` on COM1 and jump to the kernel's PVH entry with
 * EBX = &start_info, as QEMU's pvh.bin does after loading from fw_cfg.
 * The PVH boot ABI: xen/include/public/arch-x86/hvm/start_info.h and
 * docs/misc/pvh.pandoc in Xen; Linux arch/x86/platform/pvh/head.S.
 *
 * Built by bench.py with: PVH_ENTRY (the Xen ELF note type 18),
 * KERNEL_ADDR and KERNEL_SECTORS (the flat image at LBA 0), INITRD_ADDR,
 * INITRD_SIZE, INITRD_LBA, ROM_BASE (where the BIOS maps the ROM) and
 * CMDLINE_FILE (the NUL-terminated command line). bench.py sets the size
 * byte and the checksum. Linked at 0: labels are offsets in CS = ROM_BASE/16.
 */
#define START_INFO 0x6000 /* low RAM, below the stack; Linux copies it at once */
#define MEMMAP 0x6800
#define MEMMAP_MAX 32
#define STACK_TOP 0x7c00
#define SMAP 0x534d4150
#define PVH_MAGIC 0x336ec578
#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define ATA_DATA 0x1f0 /* primary channel, master: ATA/ATAPI-6 register block */
#define ATA_ERROR 0x1f1
#define ATA_COUNT 0x1f2
#define ATA_LBA0 0x1f3
#define ATA_LBA1 0x1f4
#define ATA_LBA2 0x1f5
#define ATA_DEVICE 0x1f6
#define ATA_STATUS 0x1f7 /* write: command */
#define ATA_CONTROL 0x3f6
#define ATA_BSY 0x80
#define ATA_DRQ 0x08
#define ATA_ERR 0x01
#define ATA_READ_SECTORS 0x20
#define COM1 0x3f8

	.code16
	.section .text, "ax"
	.globl _start
_start:
	.byte 0x55, 0xaa
	.byte 0 /* size in 512-byte blocks, set by bench.py */
	jmp init

/* Far-called by the BIOS during POST: take over INT 19h, change nothing else. */
init:
	pushw %ds
	pushw %ax
	xorw %ax, %ax
	movw %ax, %ds
	movw $boot, 0x19 * 4
	movw %cs, 0x19 * 4 + 2
	popw %ax
	popw %ds
	lret

boot:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %es
	movw %ax, %ss
	movw $STACK_TOP, %sp
	movw %cs, %ax
	movw %ax, %ds

	/* start_info, module list and command line: one template. */
	movw $info, %si
	movw $START_INFO, %di
	movw $(info_end - info), %cx
	rep movsb

	/* E820 into the PVH memory map: 20 bytes from the BIOS, 24 per entry. */
	xorw %ax, %ax
	movw %ax, %ds
	xorl %ebx, %ebx
	xorw %bp, %bp
	movw $MEMMAP, %di
1:	movl $0xe820, %eax
	movl $20, %ecx
	movl $SMAP, %edx
	movl $0, 20(%di)
	int $0x15
	jc 2f
	cmpl $SMAP, %eax
	jne 2f
	movl $0, 20(%di)
	addw $24, %di
	incw %bp
	cmpw $MEMMAP_MAX, %bp
	je 2f
	testl %ebx, %ebx
	jnz 1b
2:	movw %bp, START_INFO + 48

	/* A20 through the fast gate (port 0x92), then protected mode. */
	inb $0x92, %al
	orb $2, %al
	andb $0xfe, %al
	outb %al, $0x92
	lgdtl %cs:gdt_ptr
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE, $(ROM_BASE + pm32)

	.code32
pm32:
	movl $SEL_DATA, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $STACK_TOP, %esp

	/* COM1: 115200 8N1 (the Bochs BIOS leaves it at reset, 5-bit words). */
	movw $(COM1 + 3), %dx
	movb $0x80, %al /* DLAB */
	outb %al, %dx
	movw $COM1, %dx
	movb $1, %al /* divisor 1 */
	outb %al, %dx
	incw %dx
	xorb %al, %al
	outb %al, %dx
	movw $(COM1 + 3), %dx
	movb $3, %al /* 8N1 */
	outb %al, %dx
	movl $(ROM_BASE + msg_load), %esi
	call puts
	movb $2, %al /* nIEN: we poll, no IRQ 14 left pending for Linux */
	movw $ATA_CONTROL, %dx
	outb %al, %dx
	movl $KERNEL_ADDR, %edi
	xorl %eax, %eax
	movl $KERNEL_SECTORS, %ecx
	call ata_read
	movl $INITRD_ADDR, %edi
	movl $INITRD_LBA, %eax
	movl $((INITRD_SIZE + 511) / 512), %ecx
	call ata_read

	movl $(ROM_BASE + msg_enter), %esi
	call puts
	movl $START_INFO, %ebx
	movl $PVH_ENTRY, %eax
	jmp *%eax

/* Read ECX sectors from LBA EAX to EDI, at most 256 per command. */
ata_read:
	pushl %ebp
	movl %eax, %ebp /* LBA */
	movl %ecx, %esi /* sectors left */
1:	testl %esi, %esi
	jz 4f
	movl %esi, %ebx
	cmpl $256, %ebx
	jbe 2f
	movl $256, %ebx
2:	call ata_wait_idle
	movl %ebp, %eax
	shrl $24, %eax
	andb $0x0f, %al
	orb $0xe0, %al /* LBA, master */
	movw $ATA_DEVICE, %dx
	outb %al, %dx
	movb %bl, %al /* 256 is written as 0 */
	movw $ATA_COUNT, %dx
	outb %al, %dx
	movl %ebp, %eax
	movw $ATA_LBA0, %dx
	outb %al, %dx
	shrl $8, %eax
	movw $ATA_LBA1, %dx
	outb %al, %dx
	shrl $8, %eax
	movw $ATA_LBA2, %dx
	outb %al, %dx
	movb $ATA_READ_SECTORS, %al
	movw $ATA_STATUS, %dx
	outb %al, %dx
	addl %ebx, %ebp
	subl %ebx, %esi
3:	call ata_wait_drq
	movl $256, %ecx
	movw $ATA_DATA, %dx
	rep insw
	decl %ebx
	jnz 3b
	jmp 1b
4:	popl %ebp
	ret

ata_wait_idle:
	movw $ATA_STATUS, %dx
1:	inb %dx, %al
	testb $ATA_BSY, %al
	jnz 1b
	ret

ata_wait_drq:
	movw $ATA_STATUS, %dx
1:	inb %dx, %al
	testb $ATA_BSY, %al
	jnz 1b
	testb $ATA_ERR, %al
	jnz ata_fail
	testb $ATA_DRQ, %al
	jz 1b
	ret

ata_fail:
	movl $(ROM_BASE + msg_fail), %esi
	call puts
1:	cli
	hlt
	jmp 1b

/* Print the NUL-terminated string at ESI on COM1 (as the BIOS set it up). */
puts:
	movw $(COM1 + 5), %dx
1:	inb %dx, %al
	testb $0x20, %al /* THR empty */
	jz 1b
	lodsb
	testb %al, %al
	jz 2f
	movw $COM1, %dx
	outb %al, %dx
	jmp puts
2:	ret

msg_load:
	.asciz "pvhrom: loading Linux from the disk\r\n"
msg_enter:
	.asciz "pvhrom: entering Linux\r\n"
msg_fail:
	.asciz "pvhrom: error: ATA read failed\r\n"

	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* SEL_CODE: flat 32-bit code */
	.quad 0x00cf92000000ffff /* SEL_DATA: flat data */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long ROM_BASE + gdt

/* Copied to START_INFO: addresses below are where the copy lives. */
	.balign 8
info:
	.long PVH_MAGIC
	.long 1                                  /* version: has the memory map */
	.long 0                                  /* flags */
	.long 1                                  /* nr_modules */
	.quad START_INFO + (modlist - info)      /* modlist_paddr */
	.quad START_INFO + (cmdline - info)      /* cmdline_paddr */
	.quad 0                                  /* rsdp_paddr: Linux scans the BIOS area */
	.quad MEMMAP                             /* memmap_paddr */
	.long 0                                  /* memmap_entries, filled in */
	.long 0
modlist:
	.quad INITRD_ADDR
	.quad INITRD_SIZE
	.quad 0                                  /* cmdline_paddr */
	.quad 0
cmdline:
	.incbin CMDLINE_FILE
info_end:

	.section .note.GNU-stack, "", @progbits
