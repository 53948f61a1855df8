/*
 * Guest page-table walker: 32-bit, PAE, 4-level and 5-level paging (SDM
 * Vol.3A 4.3-4.5; permissions 4.6; #PF error code 4.7; AMD APM Vol.2 5.3).
 * The guest's tables are read through a callback and never written.
 */
#include "arch/x86_64/gwalk.h"
#include "arch/x86_64/cpu.h"

/* Entry bits (PTE_*) are in kernel/x86.h; the rest only the walker needs. */
#define PTE32_ADDR_MASK	  0xfffff000ull
#define PDE32_4M_MASK	  0xffc00000ull /* bits 31:22 of a 4 MiB page */
#define PDE32_4M_HI_SHIFT 13		/* PSE-36: PDE bits 20:13 are address bits 39:32 */
#define PDE32_4M_HI_MASK  0xffull
#define PDE32_4M_RSVD	  (1ull << 21)
#define PSE36_MAX_PHYS	  40		/* PSE-36 address width limit (SDM Vol.3A 4.3) */
#define LARGE_1G_RSVD	  0x3fffe000ull /* bits 29:13 of a 1 GiB leaf */
#define LARGE_2M_RSVD	  0x1fe000ull	/* bits 20:13 of a 2 MiB leaf */
#define LIMIT_32	  0xffffffffull /* linear addresses outside long mode */
#define MAX_PHYS_BITS	  52

/* The paging mode's shape (SDM Vol.3A table 4-1). */
enum paging_mode { PAGING_OFF, PAGING_32, PAGING_PAE, PAGING_4, PAGING_5 };

struct walk {
	enum paging_mode mode;
	unsigned levels;     /* top level number; 1 is the page table */
	unsigned entry_size; /* 4 or 8 bytes */
	unsigned index_bits; /* 10 or 9 */
	unsigned maxphys;
	bool nxe;
	bool pse; /* CR4.PSE: 4 MiB pages in 32-bit paging */
};

static u64 bits_from(unsigned lo, unsigned hi)
{
	return hi <= lo ? 0 : (((hi >= 64) ? ~0ull : ((1ull << hi) - 1)) & ~((1ull << lo) - 1));
}

static int setup(const struct gwalk_cpu *cpu, struct walk *w)
{
	w->maxphys =
	    cpu->maxphyaddr && cpu->maxphyaddr <= MAX_PHYS_BITS ? cpu->maxphyaddr : MAX_PHYS_BITS;
	w->nxe = cpu->efer & EFER_NXE;
	w->pse = cpu->cr4 & CR4_PSE;
	w->entry_size = 8;
	w->index_bits = 9;
	if (!(cpu->cr0 & CR0_PG)) {
		w->mode = PAGING_OFF;
		w->levels = 0;
	} else if (!(cpu->cr4 & CR4_PAE)) {
		if (cpu->efer & EFER_LMA)
			return GWALK_UNSUPPORTED; /* long mode requires PAE */
		w->mode = PAGING_32;
		w->levels = 2;
		w->entry_size = 4;
		w->index_bits = 10;
		w->nxe = false; /* no XD bit in 32-bit paging */
	} else if (!(cpu->efer & EFER_LMA)) {
		w->mode = PAGING_PAE;
		w->levels = 3;
	} else if (cpu->cr4 & CR4_LA57) {
		w->mode = PAGING_5;
		w->levels = 5;
	} else {
		w->mode = PAGING_4;
		w->levels = 4;
	}
	return GWALK_OK;
}

/* Bits that must be 0 in a present entry at this level (SDM Vol.3A 4.3-4.5). */
static u64 reserved_bits(const struct walk *w, unsigned level, u64 e)
{
	u64 r;

	if (w->mode == PAGING_32) {
		unsigned top = MIN(w->maxphys, PSE36_MAX_PHYS);

		if (level != 2 || !(e & PTE_PS) || !w->pse)
			return 0;
		/* PDE bits 20:13 hold address bits 39:32; those at or above MAXPHYADDR are
		 * reserved. */
		return PDE32_4M_RSVD | bits_from(PDE32_4M_HI_SHIFT + (top > 32 ? top - 32 : 0),
						 PDE32_4M_HI_SHIFT + 8);
	}
	if (w->mode == PAGING_PAE) {
		if (level == 3)
			return bits_from(w->maxphys, 64) | PDPTE_PAE_RSVD;
		r = bits_from(w->maxphys, 63);
	} else {
		r = bits_from(w->maxphys, MAX_PHYS_BITS);
		if (level >= 4)
			r |= PTE_PS; /* no large PML4E/PML5E */
	}
	if (!w->nxe)
		r |= PTE_XD;
	if (level == 3 && (e & PTE_PS))
		r |= LARGE_1G_RSVD;
	if (level == 2 && (e & PTE_PS))
		r |= LARGE_2M_RSVD;
	return r;
}

static bool is_leaf(const struct walk *w, unsigned level, u64 e)
{
	if (level == 1)
		return true;
	if (w->mode == PAGING_32)
		return (e & PTE_PS) && w->pse;
	if (w->mode == PAGING_PAE && level == 3)
		return false;
	return level <= 3 && (e & PTE_PS);
}

static int read_entry(const struct walk *w, u64 gpa, gwalk_read_fn read_gpa, void *ctx, u64 *e)
{
	u8 b[8];
	u64 v = 0;

	if (read_gpa(ctx, gpa, b, w->entry_size))
		return GWALK_BAD_TABLE;
	for (unsigned i = 0; i < w->entry_size; i++)
		v |= (u64)b[i] << (8 * i);
	*e = v;
	return GWALK_OK;
}

static bool canonical(u64 la, unsigned bits)
{
	s64 ext = (s64)(la << (64 - bits)) >> (64 - bits);

	return (u64)ext == la;
}

static u64 root_of(const struct walk *w, const struct gwalk_cpu *cpu)
{
	switch (w->mode) {
	case PAGING_32:
		return cpu->cr3 & PTE32_ADDR_MASK;
	case PAGING_PAE:
		return cpu->cr3 & CR3_PAE_MASK;
	default:
		return cpu->cr3 & PTE_ADDR_MASK & bits_from(0, w->maxphys);
	}
}

/* The leaf's page frame (SDM Vol.3A 4.3 for PSE-36). */
static u64 frame_of(const struct walk *w, u64 e, u64 size)
{
	if (w->mode != PAGING_32)
		return e & PTE_ADDR_MASK & ~(size - 1);
	if (size == PAGE_SIZE)
		return e & PTE32_ADDR_MASK;
	return (e & PDE32_4M_MASK) | (((e >> PDE32_4M_HI_SHIFT) & PDE32_4M_HI_MASK) << 32);
}

/* Access rights of the whole walk (SDM Vol.3A 4.6.1). */
static bool allowed(const struct gwalk_cpu *cpu, unsigned access, bool rw, bool us, bool xd)
{
	bool write = access & GWALK_WRITE, fetch = access & GWALK_FETCH;

	if (access & GWALK_USER)
		return us && (!write || rw) && (!fetch || !xd);
	if (write && !rw && (cpu->cr0 & CR0_WP))
		return false;
	if (fetch && (xd || (us && (cpu->cr4 & CR4_SMEP))))
		return false;
	return true;
}

static int fault(const struct walk *w, const struct gwalk_cpu *cpu, unsigned access, int st,
		 struct gwalk_result *res)
{
	u32 pfec = access & (GWALK_PFEC_WRITE | GWALK_PFEC_USER);

	if (st != GWALK_NOT_PRESENT)
		pfec |= GWALK_PFEC_PRESENT;
	if (st == GWALK_RESERVED)
		pfec |= GWALK_PFEC_RSVD;
	/* I/D is reported only where fetches can fault on their own (SDM Vol.3A 4.7). */
	if ((access & GWALK_FETCH) && (w->nxe || (cpu->cr4 & CR4_SMEP)))
		pfec |= GWALK_PFEC_FETCH;
	res->pfec = pfec;
	return st;
}

int gwalk_translate(const struct gwalk_cpu *cpu, u64 la, unsigned access, gwalk_read_fn read_gpa,
		    void *ctx, struct gwalk_result *res)
{
	struct walk w;
	bool rw = true, us = true, xd = false;
	u64 table, e = 0, size = 0;
	int st;

	res->gpa = 0;
	res->page_size = 0;
	res->pfec = 0;
	st = setup(cpu, &w);
	if (st)
		return st;
	if (w.mode == PAGING_OFF) {
		res->gpa = la & LIMIT_32;
		return GWALK_OK;
	}
	if (w.mode == PAGING_32 || w.mode == PAGING_PAE)
		la &= LIMIT_32;
	else if (!canonical(la, w.mode == PAGING_5 ? 57 : 48))
		return GWALK_NON_CANONICAL;

	table = root_of(&w, cpu);
	for (unsigned level = w.levels; level >= 1; level--) {
		unsigned shift = PAGE_SHIFT + w.index_bits * (level - 1);
		u64 index = (la >> shift) & ((1ull << w.index_bits) - 1);

		st = read_entry(&w, table + index * w.entry_size, read_gpa, ctx, &e);
		if (st)
			return st;
		if (!(e & PTE_P))
			return fault(&w, cpu, access, GWALK_NOT_PRESENT, res);
		if (e & reserved_bits(&w, level, e))
			return fault(&w, cpu, access, GWALK_RESERVED, res);
		if (!(w.mode == PAGING_PAE && level == 3)) { /* PAE PDPTEs carry no rights */
			rw = rw && (e & PTE_RW);
			us = us && (e & PTE_US);
			xd = xd || (w.nxe && (e & PTE_XD));
		}
		if (is_leaf(&w, level, e)) {
			size = 1ull << shift;
			break;
		}
		table = e & (w.mode == PAGING_32 ? PTE32_ADDR_MASK : PTE_ADDR_MASK);
	}
	if (!allowed(cpu, access, rw, us, xd))
		return fault(&w, cpu, access, GWALK_PROTECTION, res);
	res->page_size = size;
	res->gpa = frame_of(&w, e, size) | (la & (size - 1));
	return GWALK_OK;
}

unsigned gwalk_fetch(const struct gwalk_cpu *cpu, u64 la, unsigned access, gwalk_read_fn read_gpa,
		     void *ctx, u8 *buf, unsigned len, int *status, struct gwalk_result *res)
{
	struct gwalk_result local;
	unsigned got = 0;
	int st = GWALK_OK;

	if (!res)
		res = &local;
	while (got < len) {
		u64 addr = la + got;
		unsigned chunk =
		    (unsigned)MIN((u64)(len - got), PAGE_SIZE - (addr & (PAGE_SIZE - 1)));

		st = gwalk_translate(cpu, addr, access, read_gpa, ctx, res);
		if (st)
			break;
		if (read_gpa(ctx, res->gpa, buf + got, chunk)) {
			st = GWALK_BAD_GPA;
			break;
		}
		got += chunk;
	}
	if (status)
		*status = st;
	return got;
}

const char *gwalk_status_str(int status)
{
	switch (status) {
	case GWALK_OK:
		return "ok";
	case GWALK_NOT_PRESENT:
		return "page not present";
	case GWALK_RESERVED:
		return "reserved bit set in a paging entry";
	case GWALK_PROTECTION:
		return "page protection";
	case GWALK_NON_CANONICAL:
		return "non-canonical address";
	case GWALK_BAD_TABLE:
		return "page table outside guest RAM";
	case GWALK_BAD_GPA:
		return "page outside guest RAM";
	case GWALK_UNSUPPORTED:
		return "unsupported paging mode";
	default:
		return "unknown walk status";
	}
}
