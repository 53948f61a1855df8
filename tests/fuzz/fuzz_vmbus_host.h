/*
 * The fake hypervisor the VMBus fuzzers share (fuzz_vmbus_*.c): a few pages
 * of guest RAM, a struct vmbus_host that counts posts and signals (and can
 * refuse posts like a full SynIC queue), a silent kprintf, and a VSP that
 * completes every packet and echoes some back. Small and fast on purpose:
 * each run builds a fresh bus.
 */
#ifndef BULKHEAD_FUZZ_VMBUS_HOST_H
#define BULKHEAD_FUZZ_VMBUS_HOST_H

#include "vmbus/bus.h"
#include "vmbus/wire.h"

#define FZ_RAM_BASE  0x10000ull
#define FZ_RAM_PAGES 16

extern u8 fz_ram[FZ_RAM_PAGES][PAGE_SIZE];
extern int fz_post_status;
extern unsigned fz_posts, fz_signals;
extern u32 fz_last_type; /* of the last message posted */

struct vmbus_host fz_host(void);
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
