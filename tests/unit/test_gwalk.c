/*
 * Guest page-table walker: page tables built by hand in a fake guest RAM for
 * every paging mode, large pages, faults and their error codes, tables
 * outside RAM, and instruction fetches across a page boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86_64/gwalk.h"

#define RAM_SIZE (4u << 20)

/* Architectural bits, spelled out here so the test does not share the code's constants. */
#define P	  (1ull << 0)
#define RW	  (1ull << 1)
#define US	  (1ull << 2)
#define PS	  (1ull << 7)
#define XD	  (1ull << 63)
#define CR0_PE_	  (1ull << 0)
#define CR0_WP_	  (1ull << 16)
#define CR0_PG_	  (1ull << 31)
#define CR4_PSE_  (1ull << 4)
#define CR4_PAE_  (1ull << 5)
#define CR4_LA57_ (1ull << 12)
#define CR4_SMEP_ (1ull << 20)
#define EFER_LME_ (1ull << 8)
#define EFER_LMA_ (1ull << 10)
#define EFER_NXE_ (1ull << 11)

struct fake_ram {
	u8 *mem;
	unsigned reads;
};

static struct fake_ram ram;
static struct gwalk_result res;

static int read_gpa(void *ctx, u64 gpa, void *buf, unsigned len)
{
	struct fake_ram *r = ctx;

	r->reads++;
	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return -1;
	memcpy(buf, r->mem + gpa, len);
	return 0;
}

static void put64(u64 gpa, u64 v)
{
	memcpy(ram.mem + gpa, &v, 8);
}

static void put32(u64 gpa, u32 v)
{
	memcpy(ram.mem + gpa, &v, 4);
}

static int setup(void **state)
{
	ram.mem = test_calloc(1, RAM_SIZE);
	ram.reads = 0;
	return 0;
}

static int teardown(void **state)
{
	test_free(ram.mem);
	return 0;
}

static int walk(const struct gwalk_cpu *cpu, u64 la, unsigned access)
{
	memset(&res, 0xcc, sizeof(res));
	return gwalk_translate(cpu, la, access, read_gpa, &ram, &res);
}

static void test_paging_off(void **state)
{
	struct gwalk_cpu cpu = {.cr0 = CR0_PE_};

	assert_int_equal(walk(&cpu, 0xfee00300, GWALK_WRITE), GWALK_OK);
	assert_int_equal(res.gpa, 0xfee00300);
	assert_int_equal(res.page_size, 0);
	cpu.cr0 = 0; /* real mode: linear addresses are 32 bits */
	assert_int_equal(walk(&cpu, 0x1000ffff0ull, GWALK_FETCH), GWALK_OK);
	assert_int_equal(res.gpa, 0xffff0);
	assert_int_equal(ram.reads, 0);
}

/* 32-bit paging: PD at 0x1000, PT at 0x2000 (SDM Vol.3A 4.3). */
static struct gwalk_cpu build_32(void)
{
	put32(0x1000 + 4 * 1, 0x2000 | P | RW | US);		      /* 0x00400000: PT */
	put32(0x2000 + 4 * 1, 0x5000 | P | RW | US);		      /* 0x00401000 -> 0x5000 */
	put32(0x2000 + 4 * 2, 0x6000 | P | US);			      /* 0x00402000 -> 0x6000, RO */
	put32(0x1000 + 4 * 2, 0x00c00000 | P | RW | PS);	      /* 0x00800000: 4M */
	put32(0x1000 + 4 * 3, 0x00c00000 | P | RW | PS | (1u << 13)); /* PSE-36: bit 32 */
	put32(0x1000 + 4 * 4, 0x00c00000 | P | RW | PS | (1u << 21)); /* reserved */
	return (struct gwalk_cpu){
	    .cr0 = CR0_PE_ | CR0_PG_ | CR0_WP_, .cr3 = 0x1000, .cr4 = CR4_PSE_};
}

static void test_32bit(void **state)
{
	struct gwalk_cpu cpu = build_32();

	assert_int_equal(walk(&cpu, 0x00401234, 0), GWALK_OK);
	assert_int_equal(res.gpa, 0x5234);
	assert_int_equal(res.page_size, 4096);
	assert_int_equal(walk(&cpu, 0x00812345, GWALK_WRITE), GWALK_OK);
	assert_int_equal(res.gpa, 0x00c12345);
	assert_int_equal(res.page_size, 4u << 20);
	/* The upper half of a 64-bit address is not part of a 32-bit linear address. */
	assert_int_equal(walk(&cpu, 0xabcd000000401234ull, 0), GWALK_OK);
	assert_int_equal(res.gpa, 0x5234);

	cpu.maxphyaddr = 36;
	assert_int_equal(walk(&cpu, 0x00c00010, 0), GWALK_OK);
	assert_int_equal(res.gpa, 0x100c00010ull);
	cpu.maxphyaddr = 32;
	assert_int_equal(walk(&cpu, 0x00c00010, 0), GWALK_RESERVED);
	assert_int_equal(res.pfec, GWALK_PFEC_PRESENT | GWALK_PFEC_RSVD);
	cpu.maxphyaddr = 0;
	assert_int_equal(walk(&cpu, 0x01000000, GWALK_WRITE), GWALK_RESERVED);
	assert_int_equal(res.pfec, GWALK_PFEC_PRESENT | GWALK_PFEC_RSVD | GWALK_PFEC_WRITE);

	/* Not present at either level. */
	assert_int_equal(walk(&cpu, 0x00000000, GWALK_FETCH | GWALK_USER), GWALK_NOT_PRESENT);
	assert_int_equal(res.pfec, GWALK_PFEC_USER); /* no I/D bit: no NX, no SMEP */
	assert_int_equal(walk(&cpu, 0x00403000, 0), GWALK_NOT_PRESENT);
	assert_int_equal(res.pfec, 0);

	/* Without CR4.PSE the PS bit is ignored: 0x00c00000 is then a (non-RAM) table. */
	cpu.cr4 = 0;
	assert_int_equal(walk(&cpu, 0x00812345, 0), GWALK_BAD_TABLE);
	assert_int_equal(walk(&cpu, 0x01000000, 0), GWALK_BAD_TABLE); /* bit 21 not reserved */
	cpu.cr4 = CR4_PSE_;

	/* Permissions: a user write to a read-only page; supervisor write with and without WP. */
	assert_int_equal(walk(&cpu, 0x00402000, GWALK_USER), GWALK_OK);
	assert_int_equal(walk(&cpu, 0x00402000, GWALK_USER | GWALK_WRITE), GWALK_PROTECTION);
	assert_int_equal(res.pfec, GWALK_PFEC_PRESENT | GWALK_PFEC_WRITE | GWALK_PFEC_USER);
	assert_int_equal(walk(&cpu, 0x00402000, GWALK_WRITE), GWALK_PROTECTION);
	cpu.cr0 &= ~CR0_WP_;
	assert_int_equal(walk(&cpu, 0x00402000, GWALK_WRITE), GWALK_OK);
	assert_int_equal(walk(&cpu, 0x00402000, GWALK_USER | GWALK_WRITE), GWALK_PROTECTION);
	/* The 4M page is supervisor-only. */
	assert_int_equal(walk(&cpu, 0x00812345, GWALK_USER), GWALK_PROTECTION);
	/* SMEP: supervisor fetch from a user page, reported with I/D. */
	cpu.cr4 |= CR4_SMEP_;
	assert_int_equal(walk(&cpu, 0x00401000, GWALK_FETCH), GWALK_PROTECTION);
	assert_int_equal(res.pfec, GWALK_PFEC_PRESENT | GWALK_PFEC_FETCH);
	assert_int_equal(walk(&cpu, 0x00812345, GWALK_FETCH), GWALK_OK);
}

/* PAE: PDPT at 0x3020 (32-byte aligned), PD at 0x4000, PT at 0x5000 (SDM Vol.3A 4.4). */
static struct gwalk_cpu build_pae(void)
{
	put64(0x3020 + 8 * 3, 0x4000 | P);			      /* 0xc0000000 */
	put64(0x4000 + 8 * 1, 0x5000 | P | RW);			      /* 0xc0200000: PT */
	put64(0x5000 + 8 * 1, 0x7000 | P | RW);			      /* 0xc0201000 -> 0x7000 */
	put64(0x5000 + 8 * 2, 0x8000 | P | RW | XD);		      /* 0xc0202000 -> 0x8000, NX */
	put64(0x4000 + 8 * 2, 0x40000000ull | P | RW | PS);	      /* 0xc0400000: 2M */
	put64(0x4000 + 8 * 3, 0x40200000ull | P | PS | (1ull << 13)); /* reserved */
	put64(0x4000 + 8 * 4, 0x1000000000ull | P | RW);	      /* 0xc0800000: PT at 64G */
	put64(0x3020 + 8 * 1, 0x4000 | P | RW); /* 0x40000000: RW is reserved */
	return (struct gwalk_cpu){
	    .cr0 = CR0_PE_ | CR0_PG_, .cr3 = 0x3020, .cr4 = CR4_PAE_, .maxphyaddr = 36};
}

static void test_pae(void **state)
{
	struct gwalk_cpu cpu = build_pae();

	assert_int_equal(walk(&cpu, 0xc0201abc, GWALK_WRITE), GWALK_OK);
	assert_int_equal(res.gpa, 0x7abc);
	assert_int_equal(res.page_size, 4096);
	assert_int_equal(walk(&cpu, 0xc0412345, 0), GWALK_OK);
	assert_int_equal(res.gpa, 0x40012345);
	assert_int_equal(res.page_size, 2u << 20);
	assert_int_equal(walk(&cpu, 0xc0600000, 0), GWALK_RESERVED); /* bit 13 of a 2M PDE */
	assert_int_equal(walk(&cpu, 0x40000000, 0), GWALK_RESERVED); /* PDPTE bit 1 */
	assert_int_equal(walk(&cpu, 0x80000000, 0), GWALK_NOT_PRESENT);
	assert_int_equal(walk(&cpu, 0xc0800000, 0), GWALK_RESERVED); /* bit 36 >= MAXPHYADDR */
	cpu.maxphyaddr = 40; /* now bit 36 is an address bit: the table is outside RAM */
	assert_int_equal(walk(&cpu, 0xc0800000, 0), GWALK_BAD_TABLE);
	cpu.maxphyaddr = 36;

	/* XD: reserved without EFER.NXE; with it, a fetch fault with I/D. */
	assert_int_equal(walk(&cpu, 0xc0202000, 0), GWALK_RESERVED);
	cpu.efer = EFER_NXE_;
	assert_int_equal(walk(&cpu, 0xc0202000, 0), GWALK_OK);
	assert_int_equal(res.gpa, 0x8000);
	assert_int_equal(walk(&cpu, 0xc0202000, GWALK_FETCH), GWALK_PROTECTION);
	assert_int_equal(res.pfec, GWALK_PFEC_PRESENT | GWALK_PFEC_FETCH);
	assert_int_equal(walk(&cpu, 0xc0203000, GWALK_FETCH), GWALK_NOT_PRESENT);
	assert_int_equal(res.pfec, GWALK_PFEC_FETCH);
	/* PDPTE bit 63 is reserved even with NXE. */
	put64(0x3020 + 8 * 3, 0x4000 | P | XD);
	assert_int_equal(walk(&cpu, 0xc0201abc, 0), GWALK_RESERVED);
}

/* 4-level: PML4 0x10000, PDPT 0x11000, PD 0x12000, PT 0x13000 (SDM Vol.3A 4.5). */
#define KVA 0xffffffff81234567ull /* PML4 511, PDPT 510, PD 9, PT 0x34 */

static struct gwalk_cpu build_4level(void)
{
	put64(0x10000 + 8 * 511, 0x11000 | P | RW);
	put64(0x11000 + 8 * 510, 0x12000 | P | RW);
	put64(0x12000 + 8 * 9, 0x13000 | P | RW);
	put64(0x13000 + 8 * 0x34, 0x00abc000 | P | RW);
	put64(0x12000 + 8 * 10, 0x00e00000 | P | RW | PS);     /* 0xffffffff81400000: 2M */
	put64(0x11000 + 8 * 511, 0xc0000000ull | P | RW | PS); /* 0xffffffffc0000000: 1G */
	put64(0x11000 + 8 * 509, 0x40000000ull | P | RW | PS | (1ull << 13)); /* reserved */
	/* User half: 0x0000000000400000 and a user page, RO at the PD level. */
	put64(0x10000 + 8 * 0, 0x14000 | P | RW | US);
	put64(0x14000 + 8 * 0, 0x15000 | P | RW | US);
	put64(0x15000 + 8 * 2, 0x16000 | P | US);
	put64(0x16000 + 8 * 0, 0x00200000 | P | RW | US);
	put64(0x15000 + 8 * 3, 0x17000 | P | RW); /* supervisor PD entry */
	put64(0x17000 + 8 * 0, 0x00300000 | P | RW | US);
	put64(0x15000 + 8 * 4, 0x7fff0000000ull | P | RW | US); /* PT far outside RAM */
	put64(0x10000 + 8 * 1, 0x14000 | P | RW | PS);		/* PS in a PML4E */
	return (struct gwalk_cpu){.cr0 = CR0_PE_ | CR0_PG_ | CR0_WP_,
				  .cr3 = 0x10000,
				  .cr4 = CR4_PAE_,
				  .efer = EFER_LME_ | EFER_LMA_ | EFER_NXE_};
}

static void test_4level(void **state)
{
	struct gwalk_cpu cpu = build_4level();

	assert_int_equal(walk(&cpu, KVA, GWALK_FETCH), GWALK_OK);
	assert_int_equal(res.gpa, 0x00abc567);
	assert_int_equal(res.page_size, 4096);
	assert_int_equal(walk(&cpu, 0xffffffff81512345ull, 0), GWALK_OK);
	assert_int_equal(res.gpa, 0x00f12345);
	assert_int_equal(res.page_size, 2u << 20);
	assert_int_equal(walk(&cpu, 0xffffffffc1234567ull, 0), GWALK_OK);
	assert_int_equal(res.gpa, 0xc1234567ull);
	assert_int_equal(res.page_size, 1u << 30);
	assert_int_equal(walk(&cpu, 0xffffffff40000000ull, 0), GWALK_RESERVED); /* 1G bit 13 */
	assert_int_equal(walk(&cpu, 0x0000008000000000ull, 0), GWALK_RESERVED); /* PML4E PS */
	assert_int_equal(walk(&cpu, 0xffff800000000000ull, 0), GWALK_NOT_PRESENT);

	/* CR3's low bits (PCID, PWT/PCD) are not part of the address. */
	cpu.cr3 = 0x10000 | 0x18;
	assert_int_equal(walk(&cpu, KVA, 0), GWALK_OK);
	assert_int_equal(res.gpa, 0x00abc567);

	/* Canonical checks: #GP, not #PF. */
	assert_int_equal(walk(&cpu, 0x0000800000000000ull, 0), GWALK_NON_CANONICAL);
	assert_int_equal(walk(&cpu, 0xfffe000000000000ull, 0), GWALK_NON_CANONICAL);
	assert_int_equal(walk(&cpu, 0x00007fffffffffffull, 0), GWALK_NOT_PRESENT);

	/* Reserved physical-address bits depend on MAXPHYADDR. */
	put64(0x13000 + 8 * 0x35, (1ull << 45) | P | RW);
	cpu.maxphyaddr = 39;
	assert_int_equal(walk(&cpu, KVA + 0x1000, 0), GWALK_RESERVED);
	cpu.maxphyaddr = 46;
	assert_int_equal(walk(&cpu, KVA + 0x1000, 0), GWALK_OK);
	assert_int_equal(res.gpa, (1ull << 45) | 0x567);

	/* A table pointer outside guest RAM. */
	assert_int_equal(walk(&cpu, 0x800000, 0), GWALK_BAD_TABLE);
}

static void test_permissions_long_mode(void **state)
{
	struct gwalk_cpu cpu = build_4level();

	assert_int_equal(walk(&cpu, 0x400123, GWALK_USER), GWALK_OK);
	assert_int_equal(res.gpa, 0x200123);
	assert_int_equal(walk(&cpu, 0x400123, GWALK_USER | GWALK_FETCH), GWALK_OK);
	/* RO at the PD level wins over RW in the PTE. */
	assert_int_equal(walk(&cpu, 0x400123, GWALK_USER | GWALK_WRITE), GWALK_PROTECTION);
	assert_int_equal(res.pfec, GWALK_PFEC_PRESENT | GWALK_PFEC_WRITE | GWALK_PFEC_USER);
	assert_int_equal(walk(&cpu, 0x400123, GWALK_WRITE), GWALK_PROTECTION); /* CR0.WP */
	cpu.cr0 &= ~CR0_WP_;
	assert_int_equal(walk(&cpu, 0x400123, GWALK_WRITE), GWALK_OK);
	cpu.cr0 |= CR0_WP_;

	/* Supervisor at the PD level wins over U/S in the PTE. */
	assert_int_equal(walk(&cpu, 0x600000, 0), GWALK_OK);
	assert_int_equal(walk(&cpu, 0x600000, GWALK_USER), GWALK_PROTECTION);
	assert_int_equal(res.pfec, GWALK_PFEC_PRESENT | GWALK_PFEC_USER);
	assert_int_equal(walk(&cpu, KVA, GWALK_USER | GWALK_FETCH), GWALK_PROTECTION);
	assert_int_equal(res.pfec, GWALK_PFEC_PRESENT | GWALK_PFEC_USER | GWALK_PFEC_FETCH);

	/* XD at any level; SMEP for supervisor fetches from user pages. */
	put64(0x12000 + 8 * 9, 0x13000 | P | RW | XD);
	assert_int_equal(walk(&cpu, KVA, GWALK_FETCH), GWALK_PROTECTION);
	assert_int_equal(walk(&cpu, KVA, GWALK_WRITE), GWALK_OK);
	cpu.efer &= ~EFER_NXE_;
	assert_int_equal(walk(&cpu, KVA, 0), GWALK_RESERVED);
	cpu.efer |= EFER_NXE_;
	assert_int_equal(walk(&cpu, 0x400123, GWALK_FETCH), GWALK_OK);
	cpu.cr4 |= CR4_SMEP_;
	assert_int_equal(walk(&cpu, 0x400123, GWALK_FETCH), GWALK_PROTECTION);
	assert_int_equal(walk(&cpu, 0x400123, 0), GWALK_OK); /* SMAP is not modelled */
}

static void test_5level(void **state)
{
	struct gwalk_cpu cpu = build_4level();
	u64 la = 0x00ff000000000234ull; /* PML5 index 0xff, then zeros: canonical only with LA57 */

	put64(0x20000 + 8 * 0xff, 0x10000 | P | RW | US); /* PML5E -> the 4-level PML4 */
	put64(0x20000 + 8 * 0x1ff, 0x10000 | P | RW);
	cpu.cr3 = 0x20000;
	cpu.cr4 |= CR4_LA57_;
	assert_int_equal(walk(&cpu, la, 0), GWALK_NOT_PRESENT); /* PML4 0 -> ... PT 0: absent */
	assert_int_equal(walk(&cpu, la + 0x400000, GWALK_USER), GWALK_OK);
	assert_int_equal(res.gpa, 0x200234);
	assert_int_equal(walk(&cpu, KVA, 0), GWALK_OK); /* 0xff... : PML5 511 */
	assert_int_equal(res.gpa, 0x00abc567);
	assert_int_equal(walk(&cpu, 0x0100000000000000ull, 0), GWALK_NON_CANONICAL);
	put64(0x20000 + 8 * 0x1ff, 0x10000 | P | RW | PS);
	assert_int_equal(walk(&cpu, KVA, 0), GWALK_RESERVED);

	cpu.cr3 = 0x10000;
	cpu.cr4 &= ~CR4_LA57_;
	assert_int_equal(walk(&cpu, la, 0), GWALK_NON_CANONICAL);
}

static void test_unsupported_and_strings(void **state)
{
	struct gwalk_cpu cpu = {.cr0 = CR0_PE_ | CR0_PG_, .efer = EFER_LMA_}; /* LMA without PAE */

	assert_int_equal(walk(&cpu, 0, 0), GWALK_UNSUPPORTED);
	assert_string_equal(gwalk_status_str(GWALK_BAD_TABLE), "page table outside guest RAM");
	assert_string_equal(gwalk_status_str(-5), "unknown walk status");
}

static void test_fetch_across_pages(void **state)
{
	struct gwalk_cpu cpu = build_4level();
	u64 la = 0x401ff8; /* last 8 bytes of the page at 0x401000, then 0x402000 */
	u8 buf[16];
	int st;
	unsigned n;

	put64(0x16000 + 8 * 1, 0x00210000 | P | RW | US);
	put64(0x16000 + 8 * 2, 0x00205000 | P | RW | US); /* not contiguous in GPA */
	for (unsigned i = 0; i < 8; i++)
		ram.mem[0x210ff8 + i] = (u8)(0xa0 + i);
	for (unsigned i = 0; i < 8; i++)
		ram.mem[0x205000 + i] = (u8)(0xb0 + i);

	memset(buf, 0, sizeof(buf));
	n = gwalk_fetch(&cpu, la, GWALK_FETCH, read_gpa, &ram, buf, 15, &st, &res);
	assert_int_equal(n, 15);
	assert_int_equal(st, GWALK_OK);
	assert_memory_equal(buf,
			    ((u8[]){0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xb0, 0xb1,
				    0xb2, 0xb3, 0xb4, 0xb5, 0xb6}),
			    15);
	assert_int_equal(buf[15], 0);

	/* Within one page: one translation. */
	n = gwalk_fetch(&cpu, la - 8, GWALK_FETCH, read_gpa, &ram, buf, 8, NULL, NULL);
	assert_int_equal(n, 8);

	/* Second page not present: the bytes of the first page, and the #PF to inject. */
	put64(0x16000 + 8 * 2, 0);
	n = gwalk_fetch(&cpu, la, GWALK_FETCH | GWALK_USER, read_gpa, &ram, buf, 15, &st, &res);
	assert_int_equal(n, 8);
	assert_int_equal(st, GWALK_NOT_PRESENT);
	assert_int_equal(res.pfec, GWALK_PFEC_USER | GWALK_PFEC_FETCH);

	/* The page itself outside guest RAM (e.g. code in an MMIO page). */
	put64(0x16000 + 8 * 2, 0x7f000000ull | P | RW | US);
	n = gwalk_fetch(&cpu, la, GWALK_FETCH, read_gpa, &ram, buf, 15, &st, NULL);
	assert_int_equal(n, 8);
	assert_int_equal(st, GWALK_BAD_GPA);
	n = gwalk_fetch(&cpu, 0x402000, GWALK_FETCH, read_gpa, &ram, buf, 15, &st, NULL);
	assert_int_equal(n, 0);
	assert_int_equal(st, GWALK_BAD_GPA);
	n = gwalk_fetch(&cpu, 0x402000, GWALK_FETCH, read_gpa, &ram, buf, 0, &st, NULL);
	assert_int_equal(n, 0);
	assert_int_equal(st, GWALK_OK);
}

static void test_fetch_wraps_32bit(void **state)
{
	struct gwalk_cpu cpu = build_32();
	u8 buf[8];
	int st;

	put32(0x1000 + 4 * 1023, 0x3000 | P | RW); /* 0xffc00000: PT at 0x3000 */
	put32(0x3000 + 4 * 1023, 0x9000 | P | RW); /* 0xfffff000 -> 0x9000 */
	put32(0x1000 + 4 * 0, 0x4000 | P | RW);	   /* 0x00000000: PT at 0x4000 */
	put32(0x4000 + 4 * 0, 0xa000 | P | RW);	   /* 0x00000000 -> 0xa000 */
	memcpy(ram.mem + 0x9ffc, "\x01\x02\x03\x04", 4);
	memcpy(ram.mem + 0xa000, "\x05\x06\x07\x08", 4);
	assert_int_equal(
	    gwalk_fetch(&cpu, 0xfffffffc, GWALK_FETCH, read_gpa, &ram, buf, 8, &st, NULL), 8);
	assert_memory_equal(buf, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_paging_off, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_32bit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pae, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_4level, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_permissions_long_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_5level, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unsupported_and_strings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fetch_across_pages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fetch_wraps_32bit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
