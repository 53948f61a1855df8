/*
 * GPADLs (guest physical address descriptor lists): guest buffers a guest
 * describes, page by page, in a GPADL_HEADER message and as many GPADL_BODY
 * messages as its PFNs need (Linux drivers/hv/channel.c
 * create_gpadl_header). This module assembles the pieces in arrival order
 * (the buffer grows as PFNs arrive, under a per-bus cap on what is being
 * assembled, from the partition's pool),
 * checks the finished list (ranges, lengths, every PFN against guest RAM)
 * and gives access to the pages: as host pointers for ring buffers, and as
 * a byte-addressed mapping for VSPs (vmb_channel_map_gpadl). The channel
 * protocol around it (which channel, answers to the guest) is channel.c's.
 */
#ifndef BULKHEAD_VMBUS_GPADL_H
#define BULKHEAD_VMBUS_GPADL_H

#include "vmbus/vmbus.h"
#include "vmbus/wire.h"
#include "kernel/pool.h"

#define VMBUS_PFN_LIMIT (1ull << (52 - PAGE_SHIFT)) /* x86-64 physical addresses have 52 bits */
/*
 * Bytes one bus may hold for GPADLs still being assembled (their structs and
 * the PFNs received so far). The largest GPADL a header can announce is
 * range_buflen 0xfff8 (a u16): 8191 words, 64 KiB, which holds netvsc's 31
 * MiB receive buffer (7936 PFNs, Linux netvsc.h NETVSC_RECEIVE_BUFFER_SIZE).
 * Two of the largest, with their structs, may be assembled at once.
 */
#define GPADL_ASSEMBLY_MAX (136u << 10)

/* Where a bus's GPADLs come from: its partition's pool, and what assembly holds now. */
struct gpadl_budget {
	struct pool *pool;
	u64 assembling; /* bytes, at most GPADL_ASSEMBLY_MAX */
};

struct gpadl_range {
	u32 byte_count;
	u32 byte_offset; /* into its first page */
	u32 first;	 /* index of its first PFN in the GPADL's list */
	u32 nr_pfns;
};

struct gpadl {
	struct gpadl *next; /* in its channel's list */
	u32 id;
	bool ready;	       /* complete and checked: GPADL_CREATED was sent */
	bool teardown_pending; /* the guest asked for a teardown while it was in use */
	unsigned users;	       /* an open ring, VSP mappings */
	struct vmb_gpadl_mapping *mappings;
	struct gpadl_budget *budget;
	u64 charged; /* bytes counted in budget->assembling (0 once complete) */
	u16 nr_ranges;
	u32 words, filled; /* of raw, in u64 units (range_buflen / 8) */
	u32 room;	   /* words raw has room for: it grows as PFNs arrive */
	u64 *raw;	   /* as the guest sent it; after gpadl_finish, the PFNs only */
	struct gpadl_range *ranges;
	u32 nr_pfns;
	u64 size; /* bytes described */
};

enum gpadl_status {
	GPADL_OK,    /* complete */
	GPADL_MORE,  /* waiting for body messages */
	GPADL_BAD,   /* the guest's description is wrong (why says how) */
	GPADL_NOMEM, /* out of host memory (the partition's pool) */
	GPADL_LIMIT, /* the bus has GPADL_ASSEMBLY_MAX bytes being assembled already */
};

/* From a GPADL_HEADER: the buffer's shape and the first bytes of ranges and PFNs. */
enum gpadl_status gpadl_begin(struct gpadl **out, struct gpadl_budget *budget, u32 id,
			      u16 range_buflen, u16 range_count, const void *data, u32 len,
			      const char **why);
/* More PFNs, from a GPADL_BODY. */
enum gpadl_status gpadl_add(struct gpadl *g, const void *data, u32 len, const char **why);
bool gpadl_complete(const struct gpadl *g);
/* Parse and check the complete list; every PFN must be guest RAM. */
enum gpadl_status gpadl_finish(struct gpadl *g, const struct vmbus_host *host, const char **why);
/* Frees it; VSP mappings of it stop working (reads and writes fail) but stay allocated. */
void gpadl_free(struct gpadl *g);

/* Host addresses of PFNs [first, first + n); false if one is not guest RAM. */
bool gpadl_pages(const struct gpadl *g, const struct vmbus_host *host, u32 first, u32 n, u8 **out);

/* A VSP's view of a ready GPADL (kmcl.h vmb_gpadl_*). The channel is the mapper's. */
struct vmb_gpadl_mapping *gpadl_map(struct gpadl *g, const struct vmbus_host *host,
				    struct vmb_channel *channel);
/* The GPADL it mapped (its users count dropped), or NULL if that was freed meanwhile. */
struct gpadl *gpadl_unmap(struct vmb_gpadl_mapping *m);
struct vmb_channel *gpadl_mapping_channel(const struct vmb_gpadl_mapping *m);
/* The GPADL a mapping shows (NULL once it is gone), and whether two share a guest page. */
const struct gpadl *gpadl_mapping_gpadl(const struct vmb_gpadl_mapping *m);
bool gpadl_shares_page(const struct gpadl *a, const struct gpadl *b);
/* How many VSP mappings g has (vmbus/save.c saves them). */
unsigned gpadl_nr_mappings(const struct gpadl *g);

#endif
