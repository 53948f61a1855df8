/*
 * The fake hypervisor the VMBus fuzzers share (fuzz_vmbus_*.c): a few pages
 * of guest RAM, a struct vmbus_host that counts posts and signals (and can
 * refuse posts like a full SynIC queue), a silent kprintf, and a VSP that
 * completes every packet and echoes some back. Small and fast on purpose:
 * each run builds a fresh bus.
 *
 * Memory is a partition's: the buses draw from fz_pool, fz_pool_bytes
 * large, a little more than a harness's bus needs (measured: a bus with
 * three channels takes 18 KiB, an open channel some 5 KiB more), so that
 * runs reach the paths where it is exhausted. A sibling partition's bus,
 * on a pool of its own, must not notice (fz_end_run).
 */
#ifndef BULKHEAD_FUZZ_VMBUS_HOST_H
#define BULKHEAD_FUZZ_VMBUS_HOST_H

#include "vmbus/bus.h"
#include "vmbus/wire.h"

#define FZ_RAM_BASE  0x10000ull
#define FZ_RAM_PAGES 16
#define FZ_POOL_MAX  (256u << 10)

extern u8 fz_ram[FZ_RAM_PAGES][PAGE_SIZE];
extern int fz_post_status;
extern unsigned fz_posts, fz_signals;
extern u32 fz_last_type; /* of the last message posted */

extern struct pool fz_pool;
/* The size of fz_pool (at most FZ_POOL_MAX), if set before the first fz_host(); 24 KiB. */
extern u32 fz_pool_bytes;

struct vmbus_host fz_host(void);
/*
 * At each run's start, after its set-up: for an odd input size, all of
 * fz_pool but (size % 32) * 128 bytes is taken for the run, so that
 * exhaustion comes at many points of the code.
 */
void fz_begin_run(size_t size);
/*
 * At each run's end: traps unless the run gave back to fz_pool all it took
 * (what the first run left is the mark), and the sibling bus still works
 * and holds what it held.
 */
void fz_end_run(void);
u64 fz_pfn(unsigned page);
/* A bus with nr channels (relids 1..nr) driven by the echo VSP; max_external for GPA_DIRECT. */
struct vmb_bus *fz_bus(unsigned nr, u32 max_external);
struct vmb_channel *fz_channel(unsigned i);
/* The VSP frees channel i and makes it again (same identity, a new relid if the old one waits). */
void fz_recreate(struct vmb_bus *bus, unsigned i);
/* Back to the bus fz_bus made: partition reset, channels enabled and started again. */
void fz_rewind(struct vmb_bus *bus, unsigned nr);
int fz_post(struct vmb_bus *bus, const void *msg, u32 size);
/* Guest side: connect (5.3), request offers, a whole-page GPADL, an open. */
void fz_connect(struct vmb_bus *bus);
void fz_gpadl(struct vmb_bus *bus, u32 relid, u32 id, unsigned first, unsigned n);
void fz_open(struct vmb_bus *bus, u32 relid, u32 gpadl, u32 split);
/* The VSP's behaviour for the next packets: complete, keep, defer, fail, echo. */
extern u8 fz_vsp_mode;
/* Packets the VSP holds (kept or deferred); finish them all. */
void fz_vsp_finish(void);

#endif
