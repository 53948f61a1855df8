/*
 * Software walk of a guest's own page tables: guest linear address to
 * guest-physical address, as the CPU would translate it (SDM Vol.3A
 * chapter 4, AMD APM Vol.2 chapter 5). Used to fetch the instruction bytes
 * at the guest RIP for MMIO emulation. Pure: guest memory is read through a
 * callback, so host unit tests can hand it fake page tables.
 */
#ifndef BULKHEAD_GWALK_H
#define BULKHEAD_GWALK_H

#include "kernel/types.h"

/* Access kinds; the values are the #PF error-code bits (SDM Vol.3A 4.7). */
#define GWALK_WRITE (1u << 1)
#define GWALK_USER  (1u << 2) /* CPL 3 */
#define GWALK_FETCH (1u << 4)

/* #PF error-code bits reported in gwalk_result.pfec. */
#define GWALK_PFEC_PRESENT (1u << 0)
#define GWALK_PFEC_WRITE   GWALK_WRITE
#define GWALK_PFEC_USER	   GWALK_USER
#define GWALK_PFEC_RSVD	   (1u << 3)
#define GWALK_PFEC_FETCH   GWALK_FETCH

enum gwalk_status {
	GWALK_OK = 0,
	GWALK_NOT_PRESENT,   /* #PF: a paging entry has P = 0 */
	GWALK_RESERVED,	     /* #PF: a reserved bit is set in a paging entry */
	GWALK_PROTECTION,    /* #PF: R/W, U/S, XD or SMEP forbid the access */
	GWALK_NON_CANONICAL, /* #GP: not a canonical address */
	GWALK_BAD_TABLE,     /* a paging structure lies outside guest RAM */
	GWALK_BAD_GPA,	     /* gwalk_fetch: the translated page is not guest RAM */
	GWALK_UNSUPPORTED,   /* control registers in a state this walker cannot use */
};

/* The guest's paging controls. */
struct gwalk_cpu {
	u64 cr0, cr3, cr4, efer;
	u8 maxphyaddr; /* guest MAXPHYADDR (CPUID 80000008h EAX[7:0]); 0 = 52 */
};

/* Reads guest-physical memory; returns 0, or -1 if [gpa, gpa + len) is not RAM. */
typedef int (*gwalk_read_fn)(void *ctx, u64 gpa, void *buf, unsigned len);

struct gwalk_result {
	u64 gpa;
	u64 page_size; /* size of the leaf mapping: 4K, 2M, 4M or 1G; 0 with paging off */
	u32 pfec;      /* #PF error code to inject when the status is a #PF */
};

/*
 * Translate linear address la for an access of kind access (GWALK_* bits).
 * Returns an enum gwalk_status. Accessed/dirty bits are not set: the guest
 * is not written. PAE PDPTEs are read from memory, not from the CPU's
 * PDPTE registers. SMAP is not checked.
 */
int gwalk_translate(const struct gwalk_cpu *cpu, u64 la, unsigned access, gwalk_read_fn read_gpa,
		    void *ctx, struct gwalk_result *res);

/*
 * Read up to len (at most 15) bytes at linear address la, translating each
 * page separately when they cross a page boundary. Returns the number of
 * bytes read; if that is less than len, *status (if not NULL) says why the
 * rest failed and res (if not NULL) holds the failing translation.
 */
unsigned gwalk_fetch(const struct gwalk_cpu *cpu, u64 la, unsigned access, gwalk_read_fn read_gpa,
		     void *ctx, u8 *buf, unsigned len, int *status, struct gwalk_result *res);

/* Short text for an enum gwalk_status. */
const char *gwalk_status_str(int status);

#endif
