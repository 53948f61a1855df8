/*
 * The echo VSP ("echo" in a configuration's `vmbus =` list): a test device
 * that returns every packet the guest sends. Shared by vsp/echo.c and its
 * unit test; nothing outside vsp/ includes it.
 *
 * Offer: interface type b1c0e000-0ec0-4b48-9000-000000000001 and instance
 * b1c0e000-0ec0-4b48-9000-000000000101, Bulkhead's own fixed GUIDs (the
 * "b1c0e000" prefix marks Bulkhead test devices; no guest driver claims it).
 *
 * Protocol: for each guest packet, the host sends back one in-band packet
 * (no completion requested) carrying
 *   - the packet's in-band payload, or
 *   - for a packet with external data (GPA direct), the bytes of guest
 *     memory it describes, range after range,
 * truncated to ECHO_MAX_DATA bytes; if the guest asked for a completion,
 * the completion carries the same bytes. In-band payloads above
 * ECHO_MAX_DATA and external data above ECHO_MAX_EXTERNAL are refused by
 * the library (vmb_channel_init_set_maximum_*). When the host->guest ring
 * is full, packets wait in order (at most ECHO_QUEUE_DEPTH) and delivery is
 * paused until they are out: none is lost, none is sent twice.
 */
#ifndef BULKHEAD_VSP_ECHO_H
#define BULKHEAD_VSP_ECHO_H

#include "vmbus/kmcl.h"

struct vsp;

#define ECHO_TYPE_GUID	   VMB_GUID(0xb1c0e000, 0x0ec0, 0x4b48, 0x90, 0x00, 0, 0, 0, 0, 0, 0x01)
#define ECHO_INSTANCE_GUID VMB_GUID(0xb1c0e000, 0x0ec0, 0x4b48, 0x90, 0x00, 0, 0, 0, 0, 0x01, 0x01)

#define ECHO_MAX_DATA	  2048	     /* bytes echoed per packet */
#define ECHO_MAX_EXTERNAL (64 << 10) /* external data a packet may describe */
#define ECHO_QUEUE_DEPTH  8	     /* packets kept while the ring is full */

struct echo_stats {
	u64 packets;	 /* guest packets received */
	u64 bytes;	 /* bytes echoed (after truncation) */
	u64 completions; /* completions sent (the guest asked for them) */
	u64 external;	 /* packets with external data */
	u64 truncated;	 /* packets echoed only in part */
	u64 deferred;	 /* packets that had to wait for ring space */
	u64 errors;	 /* bad external data, or the library refused a send */
	u64 dropped;	 /* failed because no place was left to keep them */
};

/*
 * The VSP's own part of a deferred packet in a channel save (docs/kmcl.md,
 * "Saving a channel"), followed by len bytes of data. A snapshot image is
 * untrusted input: restore checks every field.
 */
struct echo_saved_packet {
	u32 version; /* ECHO_SAVE_VERSION */
	u32 state;   /* ECHO_SAVED_* */
	u32 len;     /* bytes that follow, at most ECHO_MAX_DATA */
	u32 flags;   /* the packet's VMB_PACKET_* */
} __packed;
_Static_assert(sizeof(struct echo_saved_packet) == 16, "echo saved packet");
#define ECHO_SAVE_VERSION 1
#define ECHO_SAVED_ECHOED 0x1 /* the echo went out; only the completion is owed */
#define ECHO_SAVED_KNOWN  ECHO_SAVED_ECHOED

/*
 * The instance's own saved state (vsp_type save/check/restore): whether it
 * had paused its channel for flow control, so that a restore (which keeps
 * the channel paused as it was saved) leaves it to echo to start it again
 * once its waiting packets are out. Growth rule as the IC VSP's: fields
 * only appended (size grows), a longer record of this version is read for
 * the fields known, a shorter one refused; another version is
 * REVISION_MISMATCH.
 */
struct echo_saved {
	u32 version; /* ECHO_STATE_VERSION */
	u32 size;    /* sizeof(struct echo_saved) when written */
	u32 flags;   /* ECHO_SAVED_* below */
	u32 reserved;
} __packed;
_Static_assert(sizeof(struct echo_saved) == 16, "echo saved state");
#define ECHO_STATE_VERSION 1
#define ECHO_SAVED_PAUSED  0x1 /* echo had paused delivery while packets waited */

/* The counters of an echo instance (vmbus/vsp.h). */
void echo_get_stats(struct vsp *v, struct echo_stats *out);
/* Packets waiting for ring space. */
unsigned echo_queued(struct vsp *v);

#endif
