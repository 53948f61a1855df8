/*
 * Wire format of the Hyper-V Integration Components (heartbeat, shutdown,
 * timesync) as the host sends them and Linux's hv_utils answers them.
 * Facts from Linux include/linux/hyperv.h (struct vmbuspipe_hdr, ic_version,
 * icmsg_hdr, icmsg_negotiate, heartbeat_msg_data, shutdown_msg_data,
 * ictimesync_data, ictimesync_ref_data), drivers/hv/hv_util.c and
 * channel_mgmt.c (vmbus_prep_negotiate_resp), and Microsoft's OpenVMM
 * hyperv_ic_protocol (field meanings, shutdown flag bits). Declared once,
 * here; every structure is little-endian and packed as on the wire.
 *
 * A message is one VMBus in-band packet: ic_pipe_hdr, ic_msg_hdr, then the
 * message body of ic_msg_hdr.size bytes. The host sends requests
 * (TRANSACTION | REQUEST); the guest sends the same buffer back, edited in
 * place, as a new in-band packet flagged TRANSACTION | RESPONSE.
 */
#ifndef BULKHEAD_VSP_IC_PROTO_H
#define BULKHEAD_VSP_IC_PROTO_H

#include "kernel/types.h"

/* Windows VMPIPE_PROTOCOL_HEADER (Linux struct vmbuspipe_hdr, which Linux ignores). */
struct ic_pipe_hdr {
	u32 type; /* IC_PIPE_DATA */
	u32 size; /* bytes after this header */
} __packed;
_Static_assert(sizeof(struct ic_pipe_hdr) == 8, "vmbuspipe_hdr");
#define IC_PIPE_DATA 1 /* VmPipeMessageData */

struct ic_version {
	u16 major, minor;
} __packed;
_Static_assert(sizeof(struct ic_version) == 4, "ic_version");

/* Linux struct icmsg_hdr. */
struct ic_msg_hdr {
	struct ic_version framework; /* negotiated framework version (0.0 in a negotiate) */
	u16 type;		     /* IC_MSG_* */
	struct ic_version version;   /* negotiated message version (0.0 in a negotiate) */
	u16 size;		     /* body bytes after this header */
	u32 status;		     /* IC_S_OK or an HRESULT, set by the guest in a response */
	u8 transaction;		     /* the response carries the request's value back */
	u8 flags;		     /* IC_FLAG_* */
	u8 reserved[2];
} __packed;
_Static_assert(sizeof(struct ic_msg_hdr) == 20, "icmsg_hdr");
_Static_assert(offsetof(struct ic_msg_hdr, type) == 4, "icmsgtype");
_Static_assert(offsetof(struct ic_msg_hdr, size) == 10, "icmsgsize");
_Static_assert(offsetof(struct ic_msg_hdr, status) == 12, "status");
_Static_assert(offsetof(struct ic_msg_hdr, transaction) == 16, "ictransaction_id");
_Static_assert(offsetof(struct ic_msg_hdr, flags) == 17, "icflags");

/* Bytes before a message body (Linux ICMSG_HDR). */
#define IC_HDR_SIZE (sizeof(struct ic_pipe_hdr) + sizeof(struct ic_msg_hdr))
_Static_assert(IC_HDR_SIZE == 28, "ICMSG_HDR");

/* ICMSGTYPE_* */
#define IC_MSG_NEGOTIATE 0
#define IC_MSG_HEARTBEAT 1
#define IC_MSG_SHUTDOWN	 3
#define IC_MSG_TIMESYNC	 4

/* ICMSGHDRFLAG_* */
#define IC_FLAG_TRANSACTION 0x01 /* a response is expected / this is one */
#define IC_FLAG_REQUEST	    0x02 /* host -> guest */
#define IC_FLAG_RESPONSE    0x04 /* guest -> host */

/* Status values the guest puts in a response (Linux HV_S_OK, HV_E_FAIL). */
#define IC_S_OK	  0x00000000u
#define IC_E_FAIL 0x80004005u

/*
 * Linux struct icmsg_negotiate: framework_count framework versions, then
 * version_count message versions. The guest answers with counts 1 and 1 and
 * its choice in the first two slots, or counts 0 and 0 when nothing fits
 * (vmbus_prep_negotiate_resp). Linux refuses more than 100 of each.
 */
struct ic_negotiate {
	u16 framework_count;
	u16 version_count;
	u32 reserved;
	/* struct ic_version versions[framework_count + version_count]; */
} __packed;
_Static_assert(sizeof(struct ic_negotiate) == 8, "icmsg_negotiate");
#define IC_NEGOTIATE_MAX_COUNT 100 /* IC_VERSION_NEGOTIATION_MAX_VER_COUNT */

/* Linux struct heartbeat_msg_data: the guest answers seq + 1. */
struct ic_heartbeat_msg {
	u64 seq;
	u32 reserved[8];
} __packed;
_Static_assert(sizeof(struct ic_heartbeat_msg) == 40, "heartbeat_msg_data");

/*
 * Linux struct shutdown_msg_data. flags: 0 shut down, bit 0 force, bit 1
 * restart, bit 2 hibernate (hv_util.c accepts 0/1, 2/3, 4/5; OpenVMM
 * ShutdownFlags). Linux rejects a message shorter than the whole structure.
 */
struct ic_shutdown_msg {
	u32 reason;	  /* a Windows shutdown reason code (SHTDN_REASON_*) */
	u32 timeout_s;	  /* time allowed to the guest; 0: none given */
	u32 flags;	  /* IC_SHUTDOWN_* */
	u8 message[2048]; /* display text for the guest's users */
} __packed;
_Static_assert(sizeof(struct ic_shutdown_msg) == 2060, "shutdown_msg_data");
_Static_assert(offsetof(struct ic_shutdown_msg, flags) == 8, "shutdown flags");
#define IC_SHUTDOWN_SHUTDOWN  0x0
#define IC_SHUTDOWN_FORCE     0x1
#define IC_SHUTDOWN_RESTART   0x2
#define IC_SHUTDOWN_HIBERNATE 0x4
/* Windows SDK SHTDN_REASON_FLAG_PLANNED (also what OpenVMM sends). */
#define IC_SHTDN_REASON_FLAG_PLANNED 0x80000000u

/*
 * Timesync: parent_time is the host's UTC wall time in 100 ns units since
 * 1601-01-01 (Windows FILETIME; Linux subtracts WLTIMEDELTA). Versions
 * before 4.0 carry struct ictimesync_data; 4.0 carries ictimesync_ref_data,
 * whose vm_reference_time is the partition reference counter (the guest's
 * TIME_REF_COUNT) when parent_time was read, so the guest can correct for
 * the delivery delay (hv_util.c adj_guesttime).
 */
struct ic_timesync_msg {
	u64 parent_time;
	u64 child_time;
	u64 round_trip_time;
	u8 flags; /* IC_TIMESYNC_* */
} __packed;
_Static_assert(sizeof(struct ic_timesync_msg) == 25, "ictimesync_data");

struct ic_timesync_ref_msg {
	u64 parent_time;
	u64 vm_reference_time;
	u8 flags; /* IC_TIMESYNC_* */
	u8 leap_flags;
	u8 stratum;
	u8 reserved[3];
} __packed;
_Static_assert(sizeof(struct ic_timesync_ref_msg) == 22, "ictimesync_ref_data");
_Static_assert(offsetof(struct ic_timesync_ref_msg, flags) == 16, "timesync ref flags");

/* ICTIMESYNCFLAG_*: SYNC makes Linux step its clock (do_settimeofday64). */
#define IC_TIMESYNC_PROBE  0x0
#define IC_TIMESYNC_SYNC   0x1
#define IC_TIMESYNC_SAMPLE 0x2

/* 100 ns units from 1601-01-01 to 1970-01-01 (Linux WLTIMEDELTA). */
#define IC_FILETIME_UNIX_EPOCH 116444736000000000ull
#define IC_FILETIME_HZ	       10000000ull /* 100 ns units per second */

#endif
