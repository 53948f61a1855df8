/*
 * The Integration Components VSP ("ic" in a configuration's `vmbus =` list):
 * three channels per partition, heartbeat, shutdown and timesync, that
 * Linux's hv_utils binds. Shared by the files of vsp/ic/ and the unit tests; nothing
 * outside vsp/ includes it.
 *
 * Each channel runs the same conversation (ic.c): the host (we) speaks
 * first with a version negotiation; the guest answers with its choice; then
 * the service (heartbeat.c, shutdown.c, timesync.c) sends its requests,
 * one outstanding at a time, and the guest answers each in place. Sending
 * happens only from ic_work (the door's work pass, vmbus/vsp.h: a timer
 * armed for the next thing due, or work deferred by a callback) and from
 * console commands, never from inside a VMBus callback; callbacks only
 * record what arrived.
 */
#ifndef BULKHEAD_VSP_IC_H
#define BULKHEAD_VSP_IC_H

#include "vmbus/kmcl.h"
#include "vmbus/vsp.h"
#include "vsp/ic/proto.h"

enum ic_service {
	IC_HEARTBEAT,
	IC_SHUTDOWN,
	IC_TIMESYNC,
	IC_NR_SERVICES,
};

enum ic_state {
	IC_CLOSED,	/* the guest has not opened the channel */
	IC_NEGOTIATE,	/* open; our negotiate message is due */
	IC_NEGOTIATING, /* sent; waiting for the guest's choice */
	IC_READY,	/* versions agreed; service messages flow */
	IC_REFUSED,	/* the guest supports none of our versions (until it reopens) */
};

/* Largest message either side sends: a shutdown request is IC_HDR_SIZE + 2060. */
#define IC_MAX_MESSAGE 4096 /* Linux receives IC messages into one 4 KiB page */

/* Seconds of host time between periodic messages, and response limits. */
#define IC_HEARTBEAT_PERIOD_S  1
#define IC_HEARTBEAT_LATE_S    5 /* no answer for this long: state=late */
#define IC_TIMESYNC_PERIOD_S   5 /* samples between syncs, as OpenVMM sends them */
#define IC_NEGOTIATE_TIMEOUT_S 5 /* no valid answer: negotiate again */

struct ic_channel;
struct ic_instance;

/* What makes one service different from the others. */
struct ic_service_desc {
	const char *name; /* "heartbeat": logs, friendly name */
	struct vmb_guid type, instance;
	u16 msg_type;			   /* IC_MSG_* of its service messages */
	const struct ic_version *versions; /* the message versions we offer, newest first */
	unsigned nr_versions;
	/* Versions agreed (state READY). */
	void (*ready)(struct ic_channel *c, u64 now);
	/* READY: send what is due (the channel has no request outstanding or may replace it). */
	void (*tick)(struct ic_channel *c, u64 now);
	/* READY: the host time (ns) the next message is due at (~0: none); now if it is late. */
	u64 (*next_due)(const struct ic_channel *c);
	/*
	 * The guest answered our outstanding request of msg_type (header checked, body
	 * copied). false: not a valid answer (rejected; the request stays outstanding).
	 */
	bool (*response)(struct ic_channel *c, const struct ic_msg_hdr *hdr, const u8 *body,
			 u32 body_len, u64 now);
};

extern const struct ic_service_desc ic_heartbeat_desc, ic_shutdown_desc, ic_timesync_desc;
extern const struct ic_version ic_framework_versions[];
extern const unsigned ic_nr_framework_versions;

struct ic_heartbeat_state {
	u64 seq_sent;	  /* sequence number of the last heartbeat sent */
	u64 seq_answered; /* the guest's answer (seq_sent + 1) to the last one it answered */
	u64 answered_at;  /* host time (ns) of that answer */
	u64 next_at;	  /* host time (ns) the next heartbeat is due */
	bool live;	  /* answered since the versions were agreed */
	u64 sent, answered, missed;
};

struct ic_shutdown_state {
	bool pending; /* requested from the console, not sent yet */
	u32 flags;    /* IC_SHUTDOWN_* of the pending request */
	u64 requested, accepted, refused;
	u32 last_status; /* the guest's status for the last answered request */
};

struct ic_timesync_state {
	bool sync_due; /* the next message carries IC_TIMESYNC_SYNC */
	u64 next_at;
	u64 sent, answered;
	u64 last_parent_time; /* FILETIME of the last message sent */
};

struct ic_channel {
	const struct ic_service_desc *desc;
	struct ic_instance *ic;
	struct vmb_channel *channel;
	enum ic_state state;
	struct ic_version framework, version; /* negotiated (READY) */
	/* The one request in flight. */
	bool outstanding;
	u16 out_type;
	u8 out_transaction;
	u64 out_sent_at;
	u8 next_transaction;
	u64 negotiations; /* negotiate messages sent */
	u64 bad;	  /* guest packets rejected (malformed, unexpected, stale) */
	bool bad_logged;  /* one log line per open, not one per packet */
	union {
		struct ic_heartbeat_state hb;
		struct ic_shutdown_state sd;
		struct ic_timesync_state ts;
	} u;
};

/* The instance (vsp_state); each channel's context points to its struct ic_channel. */
struct ic_instance {
	struct vsp *vsp;
	s64 wall_offset_100ns; /* this partition's wall clock minus the hypervisor's */
	struct ic_channel ch[IC_NR_SERVICES];
	/* One message at a time in each direction (callbacks of a bus never overlap). */
	u8 rx[IC_MAX_MESSAGE] __aligned(8);
	u8 tx[IC_MAX_MESSAGE] __aligned(8);
	struct ic_shutdown_msg sd_msg;
};

/* ---- ic.c: the common conversation ---- */

/* The door's work pass (vsp_type.work): sends what is due, arms the timer for what is next. */
void ic_work(struct vsp *v);
const char *ic_state_name(enum ic_state s);
/* Send a request on a READY (or, for IC_MSG_NEGOTIATE, open) channel; it becomes outstanding. */
vmb_status ic_send(struct ic_channel *c, u16 type, const void *body, u16 body_len, u64 now);
/* Count and log (once per open) a guest message that is not acted on. */
void ic_reject(struct ic_channel *c, const char *why);
/* Nanoseconds in `seconds`. */
#define IC_NS(seconds) ((u64)(seconds)*1000000000ull)

/*
 * A guest packet, checked (pure: unit tests and fuzzing). IC_PARSE_OK: hdr
 * is the header, body/body_len the body inside buf. IC_PARSE_REFUSED: a
 * well-formed negotiate answer that agrees on nothing.
 */
enum ic_parse {
	IC_PARSE_OK,
	IC_PARSE_REFUSED,
	IC_PARSE_SHORT,		/* shorter than its headers or than its declared body */
	IC_PARSE_NOT_RESPONSE,	/* flags lack TRANSACTION | RESPONSE */
	IC_PARSE_UNEXPECTED,	/* no request outstanding, or another type or transaction */
	IC_PARSE_BAD_NEGOTIATE, /* counts or versions we did not offer */
};
const char *ic_parse_name(enum ic_parse r);
enum ic_parse ic_parse_response(const u8 *buf, u32 len, bool outstanding, u16 out_type,
				u8 out_transaction, struct ic_msg_hdr *hdr, const u8 **body,
				u32 *body_len);
/* The versions a negotiate answer chose, checked against what we offered. */
enum ic_parse ic_parse_negotiate(const u8 *body, u32 body_len, const struct ic_version *svc,
				 unsigned nr_svc, struct ic_version *framework,
				 struct ic_version *version);

/*
 * ---- the instance's saved state (vsp_type save/restore) ----
 *
 * What the channels' own save does not carry: each channel's conversation
 * (negotiated versions, the request outstanding, the counters) and the
 * partition's wall-clock offset, so that a restored guest carries on
 * without a new negotiation. Host times are not saved: after a restore
 * everything periodic is due at once, and a heartbeat answer is as fresh
 * as the restore. Growth rule: fields are only appended, so a longer
 * record of IC_SAVE_VERSION (from a later build) is read for the fields
 * this one knows; a shorter one is refused (there is one layout yet); any
 * other version is REVISION_MISMATCH.
 */
#define IC_SAVE_VERSION	     1
#define IC_SAVED_CLOSED	     0 /* saved-state constants for enum ic_state */
#define IC_SAVED_NEGOTIATE   1
#define IC_SAVED_NEGOTIATING 2
#define IC_SAVED_READY	     3
#define IC_SAVED_REFUSED     4
#define IC_SAVED_OUTSTANDING 0x1 /* ic_saved_channel.flags */
#define IC_SAVED_HB_LIVE     0x2
#define IC_SAVED_SD_PENDING  0x4
#define IC_SAVED_TS_SYNC_DUE 0x8

struct ic_saved_channel {
	u8 state; /* IC_SAVED_* */
	u8 flags; /* IC_SAVED_* bits */
	u8 out_transaction, next_transaction;
	u16 out_type;
	u16 reserved;
	struct ic_version framework, version;
	u64 negotiations, bad;
	/* The service's: heartbeat seq_sent, seq_answered, sent, answered, missed; shutdown
	 * flags, requested, accepted, refused, last_status; timesync sent, answered,
	 * last_parent_time (unused ones 0). */
	u64 svc[5];
} __packed;
_Static_assert(sizeof(struct ic_saved_channel) == 72, "ic saved channel");

struct ic_saved {
	u32 version; /* IC_SAVE_VERSION */
	u32 size;    /* sizeof(struct ic_saved) when written */
	s64 wall_offset_100ns;
	struct ic_saved_channel ch[IC_NR_SERVICES];
} __packed;
_Static_assert(sizeof(struct ic_saved) == 16 + 3 * 72, "ic saved");

vmb_status ic_save(struct vsp *v, void *buf, u32 size, u32 *needed);
/* check changes nothing; restore fails only where check would (the channels decide what is
 * open). */
vmb_status ic_check(struct vsp *v, const void *buf, u32 size);
vmb_status ic_restore(struct vsp *v, const void *buf, u32 size);

/* ---- services ---- */

/* Ask the guest to shut down (flags IC_SHUTDOWN_*): 0, or -1 with a reason. */
int ic_shutdown_request(struct ic_instance *ic, u32 flags, char *err, size_t errlen);
/*
 * Wall time: the hypervisor has no RTC yet, so its notion of UTC is
 * IC_WALL_EPOCH_UNIX at boot plus the host time since (vsp_now_ns), and
 * each partition may be set apart from it (`date P SECONDS`). FILETIME
 * units (100 ns since 1601); now_ns is host time.
 */
#define IC_WALL_EPOCH_UNIX 1767225600ull /* 2026-01-01T00:00:00Z */
u64 ic_wall_filetime(const struct ic_instance *ic, u64 now_ns);
void ic_wall_set_unix(struct ic_instance *ic, u64 unix_seconds, u64 now_ns);
/* Send a SYNC timesync at the next poll. */
void ic_timesync_sync_now(struct ic_instance *ic);

#endif
