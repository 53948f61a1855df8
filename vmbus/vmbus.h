/*
 * The VMBus server of one partition, as the rest of the hypervisor sees it
 * (docs/architecture.md, "VMBus and the KMCL-equivalent API"). The kernel never calls
 * this directly: vmbus/part.c hooks it into partitions (kernel/ext.h) and
 * into the synthetic interface (hv_port_add). VSPs see only kmcl.h and
 * vsp.h.
 *
 * Protocol facts: channel management messages travel as SynIC messages of
 * type VMBUS_HV_MESSAGE_TYPE (1) on SINT 2 (host -> guest) and as
 * HvPostMessage to connection id 1 (protocol < 5.0) or 4 (>= 5.0) (guest ->
 * host); channels signal with HvSignalEvent on their own connection id
 * (offers set is_dedicated_interrupt) and the host signals a channel by
 * setting bit `relid` in the SIEF slot of SINT 2 (protocol >= 2.4, "WIN8").
 */
#ifndef BULKHEAD_VMBUS_H
#define BULKHEAD_VMBUS_H

#include "vmbus/kmcl.h"

struct pool;

#define VMBUS_SINT		2
#define VMBUS_HV_MESSAGE_TYPE	1     /* the SynIC message type that carries VMBus messages */
#define VMBUS_CONN_MESSAGE	1     /* guest -> host messages, protocol < 5.0 */
#define VMBUS_CONN_MESSAGE_4	4     /* guest -> host messages, protocol >= 5.0 */
#define VMBUS_CONN_CHANNEL_BASE 0x100 /* channel relid n signals on VMBUS_CONN_CHANNEL_BASE + n */
#define VMBUS_MAX_CHANNELS	32    /* per partition */

/* What the server needs from the hypervisor (implemented by vmbus/part.c; faked in tests). */
struct vmbus_host {
	/* Host address of the guest page at gpa (page aligned, in RAM), or NULL. */
	void *(*page)(void *ctx, u64 gpa);
	/* Post a channel-management message (header included) to the guest: an HV_STATUS. */
	int (*post)(void *ctx, const void *msg, u32 size);
	/* Signal the guest for channel relid (event flag + SINT interrupt). */
	void (*signal)(void *ctx, u32 relid);
	void *ctx;
	/* The partition's pool: everything the bus allocates comes from it (kernel/pool.h). */
	struct pool *pool;
};

struct vmb_bus *vmbus_create(const struct vmbus_host *host, const char *name);
/* Frees the bus and every channel on it (the VSPs' channels too: they must not use them again). */
void vmbus_destroy(struct vmb_bus *bus);
/*
 * The partition was reset: the guest forgot everything. Open channels close
 * (VSP closed callbacks), GPADLs and queued messages go; enabled channels
 * are offered again when the guest reconnects.
 */
void vmbus_reset(struct vmb_bus *bus);
/*
 * Snapshots (vmbus/snap.c), between exits: the bus and every channel, as an
 * object the caller keeps (NULL with a one-line reason); checked whole
 * against the bus, changing nothing (-1 with a reason: not restorable);
 * put back after the guest's memory (it checks again; -1 with a reason,
 * which after a passed check means out of host memory: the bus is left
 * disconnected); freed.
 */
void *vmbus_snap_save(struct vmb_bus *bus, char *err, size_t errlen);
int vmbus_snap_check(const struct vmb_bus *bus, const void *state, char *err, size_t errlen);
int vmbus_snap_restore(struct vmb_bus *bus, const void *state, char *err, size_t errlen);
void vmbus_snap_drop(void *state);
/* Guest -> host: HvPostMessage to VMBUS_CONN_MESSAGE(_4). Returns an HV_STATUS. */
int vmbus_guest_post(struct vmb_bus *bus, u32 conn_id, u32 type, const void *payload, u32 size);
/* Guest -> host: HvSignalEvent on a channel's connection id. Returns an HV_STATUS. */
int vmbus_guest_signal(struct vmb_bus *bus, u32 conn_id, unsigned flag);
/* Retry what had to wait (a full message slot, a full ring), run deferred work. */
void vmbus_poll(struct vmb_bus *bus);

/* The partition a bus belongs to, for messages. */
const char *vmbus_name(const struct vmb_bus *bus);

/* For the console: `channels P`. */
struct vmbus_channel_info {
	u32 relid;
	struct vmb_guid type, instance;
	const char *state;	/* "offered", "open", "closing", "rescinded", ... */
	const char *name;	/* friendly name */
	u32 in_used, in_size;	/* guest -> host ring: bytes waiting, data size */
	u32 out_used, out_size; /* host -> guest ring */
	u64 packets_in, packets_out;
};
unsigned vmbus_nr_channels(const struct vmb_bus *bus);
int vmbus_channel_info(const struct vmb_bus *bus, unsigned index, struct vmbus_channel_info *out);
/* Negotiated protocol version (e.g. 0x00050003), 0 before INITIATE_CONTACT succeeded. */
u32 vmbus_version(const struct vmb_bus *bus);
/* The SINT the guest takes channel messages on: VMBUS_SINT, or its choice from protocol 5.0. */
unsigned vmbus_message_sint(const struct vmb_bus *bus);

#endif
