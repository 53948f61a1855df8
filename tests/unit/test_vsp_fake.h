/*
 * A fake of a VSP's whole world, exactly vmbus/kmcl.h and vmbus/vsp.h, for
 * the VSP unit tests (test_vsp_*.c) and fuzzers. The library: tables of
 * channels and packets, a guest->host queue per channel that obeys pause and
 * start, a host->guest ring whose room the test sets, and a record of every
 * packet and completion the VSP sent. It also checks the VSP keeps the
 * library's rules (every delivered packet completed, failed or deferred;
 * nothing used after it is gone; setters only before enable) and counts
 * each breach in fake_violations. The door: instances made by type name,
 * a pass that runs deferred work and due timers, a clock the test sets,
 * console commands resolved as the real door does. kmcl.h's channel save
 * API (save_begin/continue/end, restore_from_buffer) is the snapshot code's
 * to call, not a VSP's: fake_save and fake_restore stand in for it.
 */
#ifndef BULKHEAD_TEST_VSP_FAKE_H
#define BULKHEAD_TEST_VSP_FAKE_H

#include "vmbus/kmcl.h"
#include "vmbus/vsp.h"
#include "kernel/pool.h"

#define FAKE_MAX_DATA	    4096
#define FAKE_MAX_SENT	    256
#define FAKE_MAX_RANGES	    4
#define FAKE_RING_UNLIMITED (-1)

enum fake_kind {
	FAKE_SENT,	 /* vmb_packet_send: a new host->guest packet */
	FAKE_COMPLETION, /* vmb_channel_packet_complete of a packet that asked for one */
	FAKE_FAILED,	 /* vmb_channel_packet_fail */
};

struct fake_record {
	struct vmb_channel *channel;
	enum fake_kind kind;
	u32 flags; /* VMB_SEND_* of a send */
	u32 len;
	u8 data[FAKE_MAX_DATA];
	/* A send: the packet (for fake_complete_sent) and a transfer-page send's ranges. */
	struct vmb_packet *packet;
	unsigned gen;
	bool xfer;
	u16 xfer_id;
	u32 nr_xfer;
	struct vmb_transfer_range xfer_ranges[FAKE_MAX_RANGES];
};

/* External data of a guest packet: each range's bytes (NULL: a range that fails to read). */
struct fake_ext {
	unsigned nr_ranges;
	const u8 *data[FAKE_MAX_RANGES];
	u32 len[FAKE_MAX_RANGES];
};

extern struct fake_record fake_sent[FAKE_MAX_SENT];
extern unsigned fake_nr_sent;
/*
 * Sends and completions the host->guest ring still takes (FAKE_RING_UNLIMITED:
 * any number). A completion with no room is refused with INSUFFICIENT_RESOURCES,
 * which the real library does only when out of memory (it queues it otherwise):
 * the VSP must cope with both.
 */
extern int fake_ring_room;
/* vmb_packet_allocate fails with INSUFFICIENT_RESOURCES while set. */
extern bool fake_alloc_fails;
/* The partition's pool the instances' state and vsp_alloc come from (emptied by fake_reset). */
extern struct pool fake_vsp_pool;
extern unsigned fake_violations;
/* Abort at the first breach (fuzzers) instead of counting it. */
extern bool fake_abort_on_violation;
/* Bytes the VSP read from guest memory (vmb_gpadl_read, vmb_packet_read_external). */
extern u64 fake_bytes_read;
extern u64 fake_now_ns;	  /* vsp_now_ns */
extern u64 fake_ref_time; /* vsp_ref_time */
/* Everything vsp_printf and vsp_log printed since fake_reset. */
extern char fake_console[16384];
extern char fake_log[16384];

/* Forget everything: instances (without destroy), partitions, channels, packets, records. */
void fake_reset(void);
/* Between tests that share the VSPs' channels: records, output, knobs and counters only. */
void fake_clear(void);
/* ---- the door ---- */

/* An instance of the VSP_TYPE named `type` for partition `partition` (its bus made on first
 * use); NULL with the reason in err if create fails. */
struct vsp *fake_vsp_create(const char *type, const char *partition, char *err, size_t errlen);
/* A partition with a bus but no instance yet (for the console's errors). */
void fake_partition(const char *name);
void fake_vsp_destroy(struct vsp *v);
/* One pass of the door: work runs where it was deferred or the timer is due at fake_now_ns. */
void fake_pass(void);
/* The instance's timer: armed? (and for when) */
bool fake_timer(const struct vsp *v, u64 *at_ns);
bool fake_deferred(const struct vsp *v);
void fake_set_run_state(struct vsp *v, enum vsp_run_state s);
/* Bytes the instance holds through vsp_alloc. */
size_t fake_vsp_bytes(const struct vsp *v);
/* The type's save / check / restore hooks (SUCCESS with *needed 0 where it has none). */
vmb_status fake_vsp_save(struct vsp *v, void *buf, u32 size, u32 *needed);
vmb_status fake_vsp_check(struct vsp *v, const void *buf, u32 size);
vmb_status fake_vsp_restore(struct vsp *v, const void *buf, u32 size);
/* The partition's key `key` for vsp_config (text) and vsp_file (data/size; NULL: not a file). */
void fake_set_config(struct vsp *v, const char *key, const char *text, const void *data, u64 size);
/* A key the next fake_vsp_create's instance has from the start (its create may read it). */
void fake_preset_config(const char *key, const char *text);
/* Run a console line as the door would (VSP_COMMAND); returns what it printed. */
const char *fake_command(const char *line);

/* ---- the library ---- */

/* The channel a VSP enabled on bus with this interface type, or NULL. */
struct vmb_channel *fake_channel(struct vmb_bus *bus, const struct vmb_guid *type);
/* The n-th (from 0, in the order they were allocated) of several such channels. */
struct vmb_channel *fake_channel_nth(struct vmb_bus *bus, const struct vmb_guid *type, unsigned n);
bool fake_enabled(struct vmb_channel *ch);
void fake_channel_ids(struct vmb_channel *ch, struct vmb_guid *type, struct vmb_guid *instance);
const char *fake_friendly_name(struct vmb_channel *ch);
u32 fake_max_packet(struct vmb_channel *ch);
bool fake_paused(struct vmb_channel *ch);
bool fake_is_open(struct vmb_channel *ch);
/* The guest opens / closes the channel (opened + started, closed). */
vmb_status fake_open(struct vmb_channel *ch);
void fake_close(struct vmb_channel *ch);
/*
 * The guest sends a packet: it is queued and delivered at once unless the
 * channel is paused (then at vmb_channel_start). flags: VMB_PACKET_*.
 */
void fake_guest_send(struct vmb_channel *ch, const void *data, u32 len, u32 flags,
		     const struct fake_ext *ext);
/* Guest packets not yet delivered to the VSP. */
unsigned fake_guest_queued(struct vmb_channel *ch);
/* Incoming packets the VSP holds (delivered, not yet completed or failed). */
unsigned fake_in_use(struct vmb_channel *ch);
/* Records of one channel and kind, oldest first: the n-th, or NULL. */
const struct fake_record *fake_record(struct vmb_channel *ch, enum fake_kind kind, unsigned n);
unsigned fake_count(struct vmb_channel *ch, enum fake_kind kind);

/*
 * Save/restore of the in-use packets of a channel, as a snapshot would (the
 * guest's, in arrival order, then the VSP's sends waiting for a completion:
 * a restored one is completed through its old record, fake_complete_sent):
 * fake_save asks the VSP's save_packet for each (size 0 first, then the size
 * it needs); fake_restore hands each saved packet to check_packet first (and
 * stops there if one is refused), then drops the channel's packets, closes
 * and reopens it (so the VSP forgets its own) and hands each saved packet
 * back through restore_packet. Return the number of packets saved / restored, or -1.
 */
int fake_save(struct vmb_channel *ch);
int fake_restore(struct vmb_channel *ch);
/*
 * A guest buffer the channel's VSP may map as GPADL id (vmb_channel_map_gpadl
 * once the channel is open; reads and writes reach buf). fake_save notes
 * which GPADLs the VSP has mapped, and fake_restore hands them back through
 * vmb_channel_restored_mapping. Mappings the channel's VSP holds now:
 */
void fake_add_gpadl(struct vmb_channel *ch, u32 id, void *buf, u64 size);
unsigned fake_mappings(struct vmb_channel *ch);
/*
 * The guest completes a packet the VSP sent with VMB_SEND_COMPLETION_REQUESTED
 * (recorded as r): its completion routine runs with status and the reply,
 * then the packet is freed. INVALID_PARAMETER if it is not waiting any more.
 */
vmb_status fake_complete_sent(const struct fake_record *r, vmb_status status, const void *reply,
			      u32 len);
/* Packets the VSP sent that still wait for the guest's completion. */
unsigned fake_waiting(struct vmb_channel *ch);
/* The channel's ring as guest memory (vmb_gpadl_mapping_overlaps_ring compares with it). */
void fake_set_ring(struct vmb_channel *ch, const void *buf, u64 size);
/* The VSP part fake_save kept for the n-th saved packet, or NULL. */
const void *fake_saved_vsp(unsigned n, u32 *len);
/* Hand one saved VSP part, as the index-th packet of a stream, to check_packet (SUCCESS if
 * the VSP has none). */
vmb_status fake_check_one(struct vmb_channel *ch, u32 index, const void *vsp, u32 len);
/* Hand one saved VSP part (as from a corrupt or foreign stream) to restore_packet. */
vmb_status fake_restore_one(struct vmb_channel *ch, const void *vsp, u32 len);

#endif
