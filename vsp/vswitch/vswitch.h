/*
 * The virtual switch (docs/vswitch.md): Ethernet switches between
 * partitions' NICs, made at boot from the configuration's [switch NAME]
 * sections, with extensions on the data path whose per-port runtime state
 * is saved and restored by provider GUID (docs/kmcl.md, "Virtual switch
 * runtime state"). It knows nothing of VMBus: a NIC's VSP (netvsp) is an
 * endpoint, and reaches a switch through this header only.
 *
 * Memory: the switch's own tables are static and bounded (VSW_MAX_*); the
 * configuration picks sizes within them. A frame queued in the switch is
 * held in memory the sending endpoint gives (vsw_endpoint.alloc, bound to
 * its instance's vsp_alloc): it is charged to the sender's partition, and
 * the per-port queue bound limits how much of it a sender can hold.
 *
 * Calls: every function here runs inside a callback of the door (a VSP's
 * hook, a channel callback, a console command); the hypervisor runs them
 * on one CPU, one at a time.
 */
#ifndef BULKHEAD_VSWITCH_H
#define BULKHEAD_VSWITCH_H

#include "vmbus/kmcl.h"
#include "vmbus/vsp.h"

#define VSW_MAX_SWITCHES  CFG_MAX_SECTIONS
#define VSW_MAX_PORTS	  16 /* per switch; `ports =` picks up to this many */
#define VSW_MAX_EXT	  4  /* extensions on one switch */
#define VSW_MAC_TABLE	  64 /* learned addresses per switch */
#define VSW_QUEUE_MAX	  64 /* frames queued for one port; `queue =` picks up to this */
#define VSW_PORTS_DEFAULT 8
#define VSW_QUEUE_DEFAULT 32
#define VSW_AGE_DEFAULT_S 300  /* a learned address is forgotten after this long unheard */
#define VSW_FRAME_MIN	  14   /* destination, source, EtherType */
#define VSW_FRAME_MAX	  1518 /* 1500 bytes of payload, the header and an 802.1Q tag */
#define VSW_BLOB_MAX	  1024 /* one extension's runtime state for one port */
#define VSW_MAX_SEGMENTS  8    /* segments in one port's saved runtime state */
#define VSW_PORT_NONE	  0xffffffffu

struct vsw;	 /* one switch */
struct vsw_port; /* one port of it */

enum vsw_port_state {
	VSW_PORT_DOWN,	    /* attached, link down: takes and gives no frames */
	VSW_PORT_UP,	    /* link up */
	VSW_PORT_RESTORING, /* its runtime state is being restored: no frames yet */
};

/*
 * Counters of a port, as its partition's NIC sees them: tx what the
 * partition sent into the switch, rx what the switch queued for it, drops
 * the frames lost on the way (sender: bad length, out of memory; receiver:
 * queue full or its share used up, an extension dropped it, port not up).
 */
struct vsw_counters {
	u64 rx_packets, tx_packets, rx_bytes, tx_bytes, drops;
};

/* ---- endpoints: a NIC's VSP ---- */

struct vsw_endpoint {
	void *ctx;
	/* Memory for frames this port sends (zeroed or not), charged to its partition. */
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr);
	/*
	 * Optional: the port has frames to take (its queue was empty), or the
	 * switch has deferred work (vsw_poll from the VSP's work hook). netvsp
	 * calls vsp_defer here. Never calls back into the switch.
	 */
	void (*kick)(void *ctx);
};

struct vsw_port_info {
	const char *partition; /* name, for the console (copied) */
	u32 partition_index;   /* among the configuration's partitions */
	u32 nic;	       /* the NIC's index in the partition */
	u8 mac[6];
	bool link_up;
};

/* The switch made from [switch NAME], or NULL. */
struct vsw *vsw_find(const char *name);
const char *vsw_name(const struct vsw *sw);
/*
 * A new port on switch `name`, state down or up as info->link_up says
 * (lowest free port id). 0, or -1 with a one-line reason in err (no such
 * switch, every port in use).
 */
int vsw_port_attach(const char *name, const struct vsw_port_info *info,
		    const struct vsw_endpoint *ep, struct vsw_port **out, char *err, size_t errlen);
/* The port goes away: its queue and every frame it sent still queued elsewhere are freed. */
void vsw_port_detach(struct vsw_port *p);
u32 vsw_port_id(const struct vsw_port *p);
struct vsw *vsw_port_switch(struct vsw_port *p);
enum vsw_port_state vsw_port_state(const struct vsw_port *p);
const struct vsw_counters *vsw_port_counters(const struct vsw_port *p);
/*
 * The port's MAC changes (the guest set another one and its VSP allowed
 * it): frames must come from the new one from now on.
 */
void vsw_port_set_mac(struct vsw_port *p, const u8 mac[6]);
/* Link up or down (down drops the port's queue); a restoring port stays restoring. */
void vsw_port_set_link(struct vsw_port *p, bool up);

/*
 * A frame from the port's partition: learned, run through the
 * extensions, queued for its destination (or flooded). SUCCESS when the
 * switch took it (even if every destination dropped it, as a real switch
 * would); INVALID_PARAMETER for a length outside VSW_FRAME_MIN..MAX or a
 * source address other than the port's MAC (no spoofing),
 * INVALID_DEVICE_STATE for a port not up, INSUFFICIENT_RESOURCES when
 * the sender's memory is used up; each counts a drop.
 */
vmb_status vsw_send(struct vsw_port *p, const void *frame, u32 len);
/*
 * The same for a frame the caller cannot hand over flat (in guest memory,
 * scattered): the switch takes a queue entry of `len` bytes and `fill`
 * copies the frame into it, once; an error it returns is a drop and what
 * vsw_send_from returns. Nothing reads the frame before fill has copied it.
 */
typedef vmb_status (*vsw_fill_fn)(void *ctx, void *dst, u32 len);
vmb_status vsw_send_from(struct vsw_port *p, u32 len, vsw_fill_fn fill, void *ctx);
/*
 * The oldest frame queued for the port, or NULL: it stays queued (and its
 * bytes valid) until vsw_port_pop, so an endpoint with no room now takes it
 * later. Pull while the port is up.
 */
const void *vsw_port_peek(struct vsw_port *p, u32 *len);
void vsw_port_pop(struct vsw_port *p);
/* The switch's deferred work (extensions' vsw_defer); from a VSP's work hook when kicked. */
void vsw_poll(struct vsw *sw);

/* ---- a port's runtime state (snapshots) ---- */

/*
 * Every extension's state for the port, one segment each, in the format
 * below. The two-call form of the door's save hooks: size 0 (or too small)
 * gives BUFFER_TOO_SMALL with *needed; SUCCESS with *needed bytes written.
 * An extension's save error is returned as is.
 */
vmb_status vsw_port_save(struct vsw_port *p, void *buf, u32 size, u32 *needed);
/* The saved bytes checked, field by field, changing nothing: SUCCESS or why not. */
vmb_status vsw_state_check(const void *buf, u32 size);
/*
 * Restore: checks the bytes (nothing changes if they are refused), puts
 * the port in state restoring and hands each segment to the extension
 * registered under its provider GUID (an unknown GUID is one console line,
 * and skipped). The port comes up (if its link is) once every extension
 * that answered PENDING called vsw_notify_complete: maybe at once.
 */
vmb_status vsw_port_restore_begin(struct vsw_port *p, const void *buf, u32 size);
/* PENDING while restoring; then SUCCESS, or the first error an extension gave. */
vmb_status vsw_port_restore_status(const struct vsw_port *p);

/*
 * The saved format: a head, then nr_segments segments, each a segment
 * head and len bytes of blob padded with zeros to 8 bytes. Little-endian,
 * packed. Growth: fields are only appended to a head (head_size says how
 * long it is, a longer one is read for the fields this build knows); a
 * shorter one, another magic or bytes past `total` are refused, another
 * version is REVISION_MISMATCH.
 */
#define VSW_SAVED_MAGIC	  0x50575356u /* "VSWP" */
#define VSW_SAVED_VERSION 1
struct vsw_saved_head {
	u32 magic;
	u16 version;
	u16 head_size; /* sizeof(struct vsw_saved_head) today */
	u32 total;     /* bytes of the whole record, head included */
	u16 nr_segments;
	u16 reserved; /* 0 */
} __packed;
struct vsw_saved_segment {
	struct vmb_guid provider;
	u32 len;      /* of the blob, at most VSW_BLOB_MAX */
	u32 reserved; /* 0 */
} __packed;
_Static_assert(sizeof(struct vsw_saved_head) == 16, "vsw_saved_head");
_Static_assert(sizeof(struct vsw_saved_segment) == 24, "vsw_saved_segment");

/*
 * The parser itself: calls seg for each segment in order (if seg is not
 * NULL) once the whole record was checked; stops at seg's first non-zero
 * return. SUCCESS, or INVALID_PARAMETER / REVISION_MISMATCH / DATA_ERROR.
 */
vmb_status vsw_state_parse(const void *buf, u32 size,
			   int (*seg)(void *ctx, const struct vmb_guid *provider, const void *blob,
				      u32 len),
			   void *ctx);

/* ---- extensions ---- */

enum vsw_event {
	VSW_EVENT_SAVE,
	VSW_EVENT_RESTORE,
};

struct vsw_ext_ops {
	struct vmb_guid provider;
	const char *name; /* friendly name, as `extensions =` and the console say it */
	/*
	 * Optional: a frame on its way from port src to port dst (after the
	 * extensions before it in `extensions =` order let it through): false
	 * drops it for dst (a drop on dst's counters).
	 */
	bool (*frame)(void *ctx, struct vsw *sw, u32 src, u32 dst, const u8 *frame, u32 len);
	/* Optional: the port's state into blob (room bytes, VSW_BLOB_MAX); *len 0: none. */
	vmb_status (*save)(void *ctx, struct vsw *sw, u32 port, void *blob, u32 room, u32 *len);
	/*
	 * Optional: a blob save gave, for the port. notify_ctx is the
	 * extension's ctx, completion the restore's: SUCCESS, an error, or
	 * PENDING and vsw_notify_complete(sw, completion, status) later (the
	 * blob is not valid after return: copy what is needed).
	 */
	vmb_status (*restore)(void *notify_ctx, void *completion, enum vsw_event event,
			      struct vsw *sw, u32 port, const void *blob, u32 len);
	/* Optional: the work vsw_defer asked for, from vsw_poll. */
	void (*work)(void *ctx, struct vsw *sw);
	/* Optional: a port was attached or detached: forget what was kept for its id. */
	void (*port_reset)(void *ctx, struct vsw *sw, u32 port);
};

/* Register an extension on the switch (after those before it): 0, or -1 when full. */
int vsw_ext_register(struct vsw *sw, const struct vsw_ext_ops *ops, void *ctx);
/* A PENDING restore is done. A completion the switch does not know is ignored. */
void vsw_notify_complete(struct vsw *sw, void *completion, vmb_status status);
/* Call the extensions' work on a later pass (kicks the switch's endpoints). */
void vsw_defer(struct vsw *sw);
/* The switch's index among the switches (0..VSW_MAX_SWITCHES-1), for extensions' tables. */
unsigned vsw_index(const struct vsw *sw);
/* The port with this id on the switch, or NULL. */
struct vsw_port *vsw_port_by_id(struct vsw *sw, u32 id);
/* Counters put back (portstats' restore). */
void vsw_port_set_counters(struct vsw_port *p, const struct vsw_counters *c);

/* ---- the switches (boot, and the unit tests) ---- */

/* Make every [switch NAME] of the configuration (the door's boot hook). */
int vsw_boot(char *err, size_t errlen);
/* Forget every switch (the unit tests, between cases). */
void vsw_reset_all(void);
/* A new switch with no extension yet, or NULL when VSW_MAX_SWITCHES are made. */
struct vsw *vsw_make(const char *name, unsigned max_ports, unsigned queue, u64 age_ns);
/* For the console: the extensions' names in order, a port's facts. */
unsigned vsw_ext_names(const struct vsw *sw, const char **names, unsigned max);
void vsw_port_describe(const struct vsw_port *p, const char **partition, u32 *nic, const u8 **mac);
unsigned vsw_max_ports(const struct vsw *sw);

/*
 * The built-in extensions' blobs (little-endian, packed; docs/vswitch.md).
 * Growth as for the record: fields only appended.
 */
#define VSW_PORTSTATS_VERSION 1
struct vsw_portstats_saved {
	u32 version; /* VSW_PORTSTATS_VERSION */
	u32 size;    /* the blob's length; at least sizeof(this) */
	u64 rx_packets, tx_packets, rx_bytes, tx_bytes, drops;
} __packed;
_Static_assert(sizeof(struct vsw_portstats_saved) == 48, "vsw_portstats_saved");

#define VSW_FIREWALL_VERSION   1
#define VSW_FIREWALL_RULES_MAX 8
struct vsw_firewall_saved {
	u32 version; /* VSW_FIREWALL_VERSION */
	u32 count; /* rules that follow, at most VSW_FIREWALL_RULES_MAX; the blob is exactly them */
} __packed;
struct vsw_firewall_saved_rule {
	u8 mac[6];    /* a unicast source address, each once */
	u16 reserved; /* 0 */
} __packed;
_Static_assert(sizeof(struct vsw_firewall_saved) == 8, "vsw_firewall_saved");
_Static_assert(sizeof(struct vsw_firewall_saved_rule) == 8, "vsw_firewall_saved_rule");

/* The built-in extensions (portstats.c, firewall.c) and their GUIDs. */
extern const struct vsw_ext_ops vsw_portstats_ops, vsw_firewall_ops;
/* Per-switch contexts of the built-in extensions. */
void *vsw_portstats_ctx(unsigned switch_index);
void *vsw_firewall_ctx(unsigned switch_index);
/* The firewall's rules, for its console command. */
int vsw_firewall_allow(struct vsw *sw, u32 port, const u8 mac[6]);
void vsw_firewall_clear(struct vsw *sw, u32 port);
unsigned vsw_firewall_rules(struct vsw *sw, u32 port, u8 (*macs)[6], unsigned max);

#endif
