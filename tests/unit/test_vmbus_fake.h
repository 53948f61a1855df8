/*
 * A fake hypervisor and a small scripted guest for the VMBus server tests
 * (test_vmbus_*.c) and fuzzers: guest RAM as host pages, a struct
 * vmbus_host that records every message posted and every signal raised
 * (and can refuse posts, like a full SynIC queue), the partition's pool
 * (FAKE_POOL_SIZE bytes, as a partition's device_memory), kprintf into a buffer,
 * and the guest's side of the protocol as Linux drives it: messages,
 * GPADLs split into header and bodies, ring buffers written and read.
 */
#ifndef BULKHEAD_TEST_VMBUS_FAKE_H
#define BULKHEAD_TEST_VMBUS_FAKE_H

#include "vmbus/bus.h"
#include "vmbus/wire.h"

#define FAKE_RAM_BASE	 0x100000ull /* guest RAM: FAKE_RAM_PAGES pages from here */
#define FAKE_RAM_PAGES	 160
#define FAKE_NO_RAM	 0x40000000ull /* a GPA the page callback refuses */
#define FAKE_MAX_MSGS	 512
#define FAKE_MAX_SIGNALS 512
#define FAKE_POOL_SIZE	 (4u << 20) /* the default device_memory */

struct fake_msg {
	u32 size;
	u8 data[VMBUS_MSG_MAX];
};

struct fake_host {
	struct fake_msg msgs[FAKE_MAX_MSGS];
	unsigned nr_msgs;
	int post_status; /* what post answers (HV_STATUS_INSUFFICIENT_BUFFERS: not taken) */
	u32 signals[FAKE_MAX_SIGNALS];
	unsigned nr_signals;
	unsigned nr_logs;
	char last_log[256];
	bool quiet; /* do not echo log lines to stderr */
};

extern struct fake_host fh;
/* The pool fake_vmbus_host() hands out, emptied by each call of it. */
extern struct pool fake_pool;
extern u8 (*fake_ram)[PAGE_SIZE];

/* Fresh RAM (zeroed) and records; log lines are printed unless fh.quiet. */
void fake_reset(void);
struct vmbus_host fake_vmbus_host(void);
/* The same host drawing from another pool: a second partition. */
struct vmbus_host fake_vmbus_host_pool(struct pool *pool);
u64 fake_gpa(unsigned page);
u64 fake_pfn(unsigned page);
void *fake_page_ptr(unsigned page);

/* ---- what the host sent ---- */
unsigned fake_count(u32 type);
/* The n-th (from 0) message of a type, or NULL. */
const void *fake_find(u32 type, unsigned n);
const void *fake_last(void);
u32 fake_last_type(void);

/* ---- the guest's messages ---- */
int guest_post(struct vmb_bus *bus, const void *msg, u32 size);
int guest_post_hdr(struct vmb_bus *bus, u32 type);
/* INITIATE_CONTACT for version (SINT 2, VTL 0); the VERSION_RESPONSE's version_supported. */
int guest_connect(struct vmb_bus *bus, u32 version);
void guest_request_offers(struct vmb_bus *bus);
/*
 * A GPADL over pfns[0..n) as one range of byte_count bytes at byte_offset,
 * split into a header and bodies as Linux does. Returns the GPADL_CREATED
 * status, or -1 if none came.
 */
int guest_gpadl_pfns(struct vmb_bus *bus, u32 relid, u32 id, const u64 *pfns, u32 n,
		     u32 byte_offset, u32 byte_count);
/* A GPADL over fake RAM pages [first, first + n), whole pages. */
int guest_gpadl(struct vmb_bus *bus, u32 relid, u32 id, unsigned first, unsigned n);
/* OPENCHANNEL; the OPENCHANNEL_RESULT status, or -1 if none came. */
int guest_open(struct vmb_bus *bus, u32 relid, u32 gpadl, u32 split);
void guest_close(struct vmb_bus *bus, u32 relid);
int guest_teardown(struct vmb_bus *bus, u32 relid, u32 gpadl); /* 1 if TORNDOWN came */
void guest_release(struct vmb_bus *bus, u32 relid);

/* ---- the guest's view of a channel's rings (fake RAM is contiguous) ---- */
struct guest_ring {
	struct vmbus_ring_control *ctl;
	u8 *data;
	u32 size;
};
struct guest_chan {
	struct guest_ring out; /* guest -> host */
	struct guest_ring in;  /* host -> guest */
};
/* Set up the control pages of pages [first, first + n) split at split, as Linux's
 * hv_ringbuffer_init. */
void guest_rings(struct guest_chan *gc, unsigned first, unsigned n, unsigned split);
/* Connect, offer, GPADL the ring pages and open relid: the usual way to an open channel. */
int guest_open_channel(struct vmb_bus *bus, struct guest_chan *gc, u32 relid, u32 gpadl,
		       unsigned first, unsigned n, unsigned split);
/* Write a packet: descriptor, extra header bytes, data. 0, or -1 if it does not fit. */
int guest_write(struct guest_ring *r, u16 type, u16 flags, u64 trans_id, const void *extra,
		u32 extra_len, const void *data, u32 len);
/* Read the next packet (whole, descriptor included). 0, or -1 if the ring is empty. */
int guest_read(struct guest_ring *r, struct vmbus_packet_desc *d, void *buf, u32 size, u32 *len);
/* HvSignalEvent on relid's connection. */
int guest_signal(struct vmb_bus *bus, u32 relid);

#endif
