/*
 * libFuzzer: the whole MMIO path on a fake guest: a fault on the I/O APIC
 * page goes through the kernel's dispatch (kernel/exit.c, EXIT_MEM_FAULT),
 * which has arch/x86_64/mmio.c fetch the instruction through the guest's own
 * page tables (gwalk.c), decode it (insn.c), do the access on the I/O APIC
 * and apply the result to the registers. fuzz_insn covers the decoder alone;
 * here the mode, paging, page-table entries and code bytes are the guest's.
 *
 *   u8 mode | u8 flags | u16 ip | u8 absent | u8 nr_edits | edits { u16 off, u8 xor }... |
 *   u8 code_len | code bytes | faults { u8 offset, u8 access }...
 *
 * mode % 8: real, virtual-8086, 16- and 32-bit protected without paging,
 * 32-bit paging, PAE, 64-bit and compatibility mode (4-level), all mapping the
 * first 64 KiB one to one. flags: 0 CPL 3 (SS.DPL), 1 EFER.NXE, 2 CR0.WP,
 * 3 CR4.SMEP, 4 the code page not executable, 5 CR4.PSE. absent: bit n takes
 * guest page 8+n away (the code lives in pages 8-15). The edits xor bytes of
 * the page tables (pages 1-4). The code goes at linear 0x8000 + ip % 0x8000;
 * each fault then emulates the instruction at RIP, so the code runs on while
 * the faults last and the emulation succeeds.
 *
 * Checks: an emulated access moves RIP by 1-15 bytes and changes at most one
 * register; a refused one stops the partition with a reason and changes no
 * register; the I/O APIC stays consistent.
 */
#include <stdint.h>
#include <string.h>

#include "kernel/arch.h"
#include "kernel/x86.h"
#include "tests/fuzz/fuzz_exit_env.h"
#include "tests/fuzz/fuzz_input.h"

#define CODE_LA	   0x8000u
#define CODE_MAX   64
#define MAX_FAULTS 16
#define PT1	   0x1000u /* the top-level table (CR3); entries: SDM Vol.3A 4.3-4.5 */
#define PT2	   0x2000u
#define PT3	   0x3000u
#define PT4	   0x4000u

#define CODE_ATTR  0x9bu /* present, DPL 0, execute/read, accessed */
#define DATA_ATTR  0x93u
#define ATTR_G	   (1u << 15)
#define ATTR_DPL3  (3u << 5)
#define RTE_REMOTE (1ull << 14)
#define RTE_LEVEL  (1ull << 15)

static void put32(u32 gpa, u32 v)
{
	memcpy(fx_ram[gpa >> PAGE_SHIFT] + (gpa & ~PAGE_MASK), &v, 4);
}

static void put64(u32 gpa, u64 v)
{
	memcpy(fx_ram[gpa >> PAGE_SHIFT] + (gpa & ~PAGE_MASK), &v, 8);
}

/* Leaf entries for the 16 pages of RAM, 4 or 8 bytes each, at table. */
static void leaf_table(u32 table, bool wide, u64 bits, u64 code_bits)
{
	for (u32 i = 0; i < FX_PAGES; i++) {
		u64 e =
		    ((u64)i << PAGE_SHIFT) | bits | (i >= CODE_LA >> PAGE_SHIFT ? code_bits : 0);

		if (wide)
			put64(table + 8 * i, e);
		else
			put32(table + 4 * i, (u32)e);
	}
}

static void setup_mode(u8 mode, u8 flags)
{
	struct vp_sregs *s = &fx_sregs;
	u64 bits = PTE_P | PTE_RW | PTE_US, nx = flags & 0x10 ? PTE_XD : 0;

	s->cs = (struct vp_seg){.sel = 0x8, .attr = CODE_ATTR, .limit = 0xffffffffu};
	s->ss = (struct vp_seg){.sel = 0x10, .attr = DATA_ATTR, .limit = 0xffffffffu};
	s->ds = s->es = s->ss;
	s->cr0 = CR0_ET;
	if (flags & 1)
		s->ss.attr |= ATTR_DPL3;
	if (flags & 2)
		s->efer |= EFER_NXE;
	if (flags & 4)
		s->cr0 |= CR0_WP;
	if (flags & 8)
		s->cr4 |= CR4_SMEP;
	if (flags & 0x20)
		s->cr4 |= CR4_PSE;
	mode %= 8;
	if (mode == 0)
		return; /* real mode */
	s->cr0 |= CR0_PE;
	if (mode == 1) {
		fx_part.vp.regs.rflags |= RFLAGS_VM;
		return;
	}
	if (mode >= 3)
		s->cs.attr |= SEG_ATTR_D | ATTR_G;
	if (mode <= 3)
		return;
	s->cr0 |= CR0_PG;
	s->cr3 = PT1;
	switch (mode) {
	case 4: /* 32-bit paging: PD -> PT */
		put32(PT1, PT2 | (u32)bits);
		leaf_table(PT2, false, bits, 0);
		break;
	case 5: /* PAE: PDPT -> PD -> PT */
		s->cr4 |= CR4_PAE;
		put64(PT1, PT2 | PTE_P);
		put64(PT2, PT3 | bits);
		leaf_table(PT3, true, bits, nx);
		break;
	default: /* 4-level: PML4 -> PDPT -> PD -> PT */
		s->cr4 |= CR4_PAE;
		s->efer |= EFER_LME | EFER_LMA;
		put64(PT1, PT2 | bits);
		put64(PT2, PT3 | bits);
		put64(PT3, PT4 | bits);
		leaf_table(PT4, true, bits, nx);
		if (mode == 6)
			s->cs.attr = (s->cs.attr & ~SEG_ATTR_D) | SEG_ATTR_L;
		break;
	}
}

static void check_ioapic(void)
{
	const struct vioapic *io = &fx_part.ioapic;

	check(io->sel <= 0xff);
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++)
		check(!(io->redir[pin] & RTE_REMOTE) || (io->redir[pin] & RTE_LEVEL));
}

static void fault(u8 off, u8 access)
{
	struct vp *vp = &fx_part.vp;
	struct vm_exit e = {.reason = EXIT_MEM_FAULT};
	u64 before[VP_NR_GPRS], rip = vp->regs.rip;
	unsigned changed = 0;

	/* Mostly IOREGSEL and IOWIN, sometimes any byte of the page. */
	e.mem.gpa = VIOAPIC_BASE + (off & 0x80 ? off & 0x7f : (off & 1) * 0x10);
	e.mem.access = access & 1 ? MEM_WRITE : MEM_READ;
	memcpy(before, vp->regs.gpr, sizeof(before));
	exit_handle(vp, &e);
	for (unsigned r = 0; r < VP_NR_GPRS; r++)
		changed += before[r] != vp->regs.gpr[r];
	if (fx_part.state == PART_RUNNING) {
		check(vp->regs.rip - rip >= 1 && vp->regs.rip - rip <= 15);
		check(changed <= 1);
	} else {
		check(fx_part.stop_reason[0]);
		check(vp->regs.rip == rip && changed == 0);
	}
	check_ioapic();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 mode, flags, n, code[CODE_MAX];
	u32 la, ip;

	if (size < 6)
		return 0;
	cur = data;
	end = data + size;
	mode = (u8)take(1);
	flags = (u8)take(1);
	ip = (u32)take(2) % CODE_LA;
	fx_reset(false);
	setup_mode(mode, flags);
	fx_absent = (u32)take(1) << 8;
	n = (u8)take(1);
	for (unsigned i = 0; i < n && cur < end; i++) {
		u32 off = PT1 + (u32)take(2) % (PT4 + PAGE_SIZE - PT1);

		fx_ram[off >> PAGE_SHIFT][off & ~PAGE_MASK] ^= (u8)take(1);
	}
	n = (u8)take(1) % CODE_MAX;
	la = CODE_LA + ip;
	memset(code, 0x90, sizeof(code));
	for (unsigned i = 0; i < n; i++)
		code[i] = (u8)take(1);
	for (unsigned i = 0; i < sizeof(code) && la + i < FX_PAGES * PAGE_SIZE; i++)
		fx_ram[(la + i) >> PAGE_SHIFT][(la + i) & ~PAGE_MASK] = code[i];
	/* Real and virtual-8086 mode: CS.base + IP, with IP 16 bits (SDM Vol.3B 20.1.1). */
	if (!(fx_sregs.cr0 & CR0_PE) || (fx_part.vp.regs.rflags & RFLAGS_VM)) {
		fx_sregs.cs.base = la & ~0xfffu;
		fx_part.vp.regs.rip = la & 0xfff;
	} else {
		fx_part.vp.regs.rip = la;
	}
	for (unsigned r = 0; r < VP_NR_GPRS; r++)
		fx_part.vp.regs.gpr[r] = 0x0101010101010101ull * (r + 1);
	for (unsigned i = 0; i < MAX_FAULTS && fx_part.state == PART_RUNNING; i++) {
		u8 off = (u8)take(1);

		fault(off, (u8)take(1));
		(void)arch_at_hlt(&fx_part.vp);
	}
	return 0;
}
