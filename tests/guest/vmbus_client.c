/*
 * The test guest's VMBus client: the 'v' and 'V' commands. It talks to the
 * hypervisor's VMBus server as a guest's VMBus driver does and drives the
 * echo VSP hard:
 *
 *   connect    SynIC on (SIMP, SIEFP, SINT2), INITIATE_CONTACT from 5.3
 *              down until a version is accepted, REQUESTOFFERS, the offers
 *              up to ALLOFFERS_DELIVERED; the echo offer by its type GUID
 *   open       a GPADL for both rings (more PFNs than one GPADL_HEADER
 *              holds: GPADL_BODY too), GPADL_CREATED, OPENCHANNEL,
 *              OPENCHANNEL_RESULT
 *   phases     stream: in-band packets of 8..2000 bytes, a third with a
 *                completion requested, many per HvSignalEvent, the
 *                receive ring's interrupt masked while streaming;
 *              gpa-direct: packets whose data is guest memory (one or two
 *                ranges, some longer than the echo returns);
 *              full: writes until the send ring has no room, then waits
 *                for the host's signal (pending_send_sz) and drains;
 *              bad messages the host must refuse or ignore, and an `after`
 *                stream showing the channel still works
 *   close      CLOSECHANNEL, GPADL_TEARDOWN / GPADL_TORNDOWN, UNLOAD /
 *              UNLOAD_RESPONSE; an unknown version refused, a reconnect at
 *              4.1 (connection id 1) and a second UNLOAD
 *   baseline   the stream's bytes generated, copied out and back and checked
 *              with no VMBus at all
 *
 * Every echo and completion is checked byte for byte against the packet it
 * answers; every wait has a time limit (the TSC, TSC_FREQUENCY MSR). Results
 * are `vmbus: ...` lines (tests/guest/README.md); any failure prints one
 * `vmbus: FAIL <reason>` and ends the run with a best-effort UNLOAD.
 *
 * Protocol facts: Linux include/linux/hyperv.h, drivers/hv/connection.c,
 * channel.c, channel_mgmt.c and ring_buffer.c; the TLFS for SynIC and the
 * hypercalls. The echo protocol: Bulkhead's vsp/echo.h. Interrupts are on
 * only inside wait(): `sti; hlt` until the SINT2 vector or a 1 ms x2APIC
 * timer, which also gives the host's deferred work (between slices) its turn.
 */
#include "guest.h"

/* ---- VMBus protocol numbers ---- */

#define VMBUS_SINT	      2 /* messages (msg_sint from 5.0) and channel events */
#define VMBUS_MESSAGE_TYPE    1 /* SynIC / HvPostMessage type of VMBus messages */
#define CONN_MESSAGE	      1 /* guest -> host messages before 5.0 */
#define CONN_MESSAGE_4	      4 /* from 5.0 (then the VERSION_RESPONSE names it) */
#define VERSION(major, minor) ((u32)(major) << 16 | (minor))
#define VERSION_V5	      VERSION(5, 0)
#define VERSION_V5_3	      VERSION(5, 3)
#define VMBUS_MSG_MAX	      HV_MESSAGE_PAYLOAD_MAX

#define MSG_OFFERCHANNEL	   1
#define MSG_REQUESTOFFERS	   3
#define MSG_ALLOFFERS_DELIVERED	   4
#define MSG_OPENCHANNEL		   5
#define MSG_OPENCHANNEL_RESULT	   6
#define MSG_CLOSECHANNEL	   7
#define MSG_GPADL_HEADER	   8
#define MSG_GPADL_BODY		   9
#define MSG_GPADL_CREATED	   10
#define MSG_GPADL_TEARDOWN	   11
#define MSG_GPADL_TORNDOWN	   12
#define MSG_INITIATE_CONTACT	   14
#define MSG_VERSION_RESPONSE	   15
#define MSG_UNLOAD		   16
#define MSG_UNLOAD_RESPONSE	   17
#define MSG_MODIFYCHANNEL	   22
#define MSG_MODIFYCHANNEL_RESPONSE 24
#define MSG_UNKNOWN_TYPE	   99

struct msg_hdr {
	u32 type;
	u32 padding;
} __packed;

struct msg_initiate {
	struct msg_hdr hdr;
	u32 version;
	u32 target_vcpu;
	union {
		u64 interrupt_page; /* before 5.0 */
		struct {
			u8 msg_sint; /* from 5.0 */
			u8 msg_vtl;
			u8 reserved[6];
		} __packed;
	};
	u64 monitor_page1;
	u64 monitor_page2;
} __packed;
_Static_assert(sizeof(struct msg_initiate) == 40, "initiate contact");

struct msg_version_response {
	struct msg_hdr hdr;
	u8 version_supported;
	u8 connection_state;
	u16 padding;
	u32 msg_conn_id;
} __packed;
_Static_assert(sizeof(struct msg_version_response) == 16, "version response");

struct guid {
	u32 data1;
	u16 data2, data3;
	u8 data4[8];
} __packed;

struct msg_offer {
	struct msg_hdr hdr;
	struct guid type, instance;
	u64 reserved1, reserved2;
	u16 flags, mmio_megabytes;
	u8 user_defined[120];
	u16 sub_channel_index, reserved3;
	u32 child_relid;
	u8 monitor_id, monitor_allocated;
	u16 is_dedicated_interrupt;
	u32 connection_id;
} __packed;
_Static_assert(sizeof(struct msg_offer) == 196, "offer channel");

struct msg_relid { /* CLOSECHANNEL */
	struct msg_hdr hdr;
	u32 child_relid;
} __packed;

struct msg_open {
	struct msg_hdr hdr;
	u32 child_relid, open_id, ring_gpadl, target_vp, downstream_page_offset;
	u8 user_data[120];
} __packed;
_Static_assert(sizeof(struct msg_open) == 148, "open channel");

struct msg_open_result {
	struct msg_hdr hdr;
	u32 child_relid, open_id, status;
} __packed;

struct gpa_range {
	u32 byte_count;
	u32 byte_offset;
} __packed;

struct msg_gpadl_header {
	struct msg_hdr hdr;
	u32 child_relid, gpadl;
	u16 range_buflen, range_count;
	struct gpa_range range; /* our GPADLs have one range; its PFNs follow */
} __packed;
_Static_assert(sizeof(struct msg_gpadl_header) == 28, "gpadl header + one range");

struct msg_gpadl_body {
	struct msg_hdr hdr;
	u32 msg_number, gpadl; /* then PFNs */
} __packed;

struct msg_gpadl_created {
	struct msg_hdr hdr;
	u32 child_relid, gpadl, status;
} __packed;

struct msg_gpadl_teardown {
	struct msg_hdr hdr;
	u32 child_relid, gpadl;
} __packed;

struct msg_gpadl_torndown {
	struct msg_hdr hdr;
	u32 gpadl;
} __packed;

struct msg_modify { /* MODIFYCHANNEL; the response has relid and status in the same places */
	struct msg_hdr hdr;
	u32 child_relid, target_vp;
} __packed;

/* PFNs that fit one GPADL_HEADER (with one range) / one GPADL_BODY. */
#define HEADER_PFNS ((VMBUS_MSG_MAX - sizeof(struct msg_gpadl_header)) / 8)
#define BODY_PFNS   ((VMBUS_MSG_MAX - sizeof(struct msg_gpadl_body)) / 8)

/* Ring control page (struct hv_ring_buffer), the part we use. */
struct ring_ctl {
	u32 write_index;
	u32 read_index;
	u32 interrupt_mask;  /* set by the reader: do not signal me */
	u32 pending_send_sz; /* set by a blocked writer: signal me when this much is free */
	u32 reserved1[12];
	u32 feature_bits; /* bit 0: pending_send_sz is honoured */
} __packed;
#define RING_FEATURE_PENDING_SEND_SZ 1

/* Packets (struct vmpacket_descriptor; offset8/len8 in 8-byte units), then an 8-byte trailer. */
#define PKT_DATA_INBAND	    6
#define PKT_DATA_GPA_DIRECT 9
#define PKT_COMP	    11
#define PKT_FLAG_COMPLETION 1
#define PKT_DESC_SIZE	    16
#define PKT_TRAILER	    8
#define PKT_GPA_HEADER	    8 /* after the descriptor: reserved, range count */
#define ALIGN8(x)	    (((x) + 7u) & ~7u)

/* The echo VSP (vsp/echo.h): type b1c0e000-0ec0-4b48-9000-000000000001. */
static const struct guid echo_type = {0xb1c0e000, 0x0ec0, 0x4b48, {0x90, 0, 0, 0, 0, 0, 0, 0x01}};
#define ECHO_MAX_DATA 2048 /* bytes an echo carries at most */

/* ---- the client's memory (3 MiB up; a partition needs 4 MiB of RAM) ---- */

#define RING_GPA	0x300000ul
#define RING_DATA_PAGES 16		      /* per direction */
#define SEND_PAGES	(1 + RING_DATA_PAGES) /* control page + data: the downstream offset */
#define RING_PAGES	(2 * SEND_PAGES)
#define MONITOR1_GPA	(RING_GPA + RING_PAGES * PAGE_SIZE)
#define MONITOR2_GPA	(MONITOR1_GPA + PAGE_SIZE)
#define INT_PAGE_GPA	(MONITOR2_GPA + PAGE_SIZE)
#define EXTRA_GPADL_GPA 0x328000ul /* a second, unused GPADL */
#define EXTRA_PAGES	40
#define EXT_POOL_GPA	0x350000ul /* external data of GPA_DIRECT packets */
#define EXT_SLOTS	32
#define EXT_SLOT_SIZE	(4 * PAGE_SIZE) /* range 0 in pages 0-1, range 1 in pages 2-3 */
#define BASELINE_GPA	0x3d0000ul
#define BASELINE_SIZE	(RING_DATA_PAGES * PAGE_SIZE)

/* Packets of the phases: sizes, and which ask for a completion. */
#define INBAND_MIN     8
#define INBAND_MAX     2000
#define BIG_MIN	       1000
#define BIG_MAX	       2000
#define COMP_EVERY     3  /* every third packet asks for a completion (every second: big ones) */
#define TRUNCATE_EVERY 16 /* one GPA_DIRECT packet in this many is longer than an echo */
#define TRUNCATE_EXTRA 1500
#define PLAN_SEED      0x5eed
#define RELIDS_TRACKED 64 /* relids checked for duplicates among the offers */

/* Ids and numbers of the messages the host must refuse or ignore. */
#define BAD_OPEN_ID	   0xbad0 /* + n: the OPENCHANNELs that must fail */
#define BAD_VP		   7
#define NOT_VMBUS_MSG_TYPE 2 /* HvPostMessage of another type than VMBus's */
#define ONE_PAGE_BUFLEN	   (sizeof(struct gpa_range) + 8)
#define OVERLONG_MISSING   4 /* PFNs a GPADL header announces beyond those it holds */

/* Packets the host must drop (bad_packets): their transaction ids. */
#define BAD_TID_BASE	    0xbad7000000000000ul
#define PKT_DATA_XFER_PAGES 7	   /* transfer-page packets: the echo channel takes none */
#define TOO_MUCH_EXT_PAGES  17	   /* 68 KiB of external data: over the echo's 64 KiB */
#define OVERSIZE_INBAND	    3000   /* over the echo's 2048 bytes */
#define MALFORMED_LEN8	    0x4000 /* 128 KiB: beyond anything written */

#define RING_GPADL_ID	0xe1e10 /* Linux starts its GPADL handles here too */
#define EXTRA_GPADL_ID	0xe1e11
#define RING2_GPADL_ID	0xe1e12 /* the same ring pages again, for the reopened channel */
#define FLOOD_GPADL_ID	0xf10000
#define FLOOD_MAX	80 /* one-page GPADLs the flood makes at most */
#define BAD_GPADL_ID	0xe1eba
#define UNKNOWN_RELID	0x7777
#define UNKNOWN_CONN_ID 0x12345
#define BARRIER_OPEN_ID 0xba000000u
#define PFN_OUTSIDE_RAM 0xe0000ul /* 3.5 GiB */
#define BOGUS_VERSION	VERSION(255, 0)
#define OLD_VERSION	VERSION(4, 1)

/* Time limits (guest TSC). */
#define MSG_TIMEOUT_MS 2000 /* for an answer to a message */
#define QUIET_MS       5    /* no stale message for this long: the slot is clean */
#define STALL_MS       5000 /* a phase that makes no progress for this long fails */
#define RUN_LIMIT_MS   120000
#define WAIT_US	       1000 /* the x2APIC timer ends each wait */

/* Packets in flight at most (records), and the receive-ring room a window keeps free. */
#define MAX_RECORDS  1024
#define WINDOW_SLACK 4096
#define TID_BASE     0x7e57ec4000000000ul /* transaction id of packet n: TID_BASE + n */
#define MUL_GOLDEN   0x9e3779b97f4a7c15ul

static const u32 versions[] = {VERSION(5, 3), VERSION(5, 2), VERSION(5, 1), VERSION(5, 0),
			       VERSION(4, 1), VERSION(4, 0), VERSION(3, 0), VERSION(2, 4)};

/* ---- state ---- */

struct ring {
	volatile struct ring_ctl *ctl;
	u8 *data;
	u32 size;
	u32 priv; /* our index: write (send ring) or read (receive ring) */
	u32 wraps;
};

struct record { /* one packet in flight */
	u64 seq;
	u32 echo_len; /* bytes its echo and completion carry */
	bool busy, want_comp, got_echo, got_comp;
};

/* How a phase sends. */
enum kind { KIND_INBAND, KIND_GPA, KIND_BIG };

struct phase {
	const char *name;
	u32 count;
	u32 batch;   /* packets written per signalling decision */
	u32 max_out; /* packets sent and not yet echoed, at most */
	bool window; /* keep every reply due within the receive ring */
	bool fill;   /* read the receive ring only when nothing can be written */
	enum kind kind;
};

/* One packet, all derived from its number. */
struct plan {
	u32 len;      /* payload bytes (in-band), or external bytes */
	u32 echo_len; /* what the echo returns */
	bool comp;
	bool ext;
	u32 nranges, split, off[2]; /* external data: range 0 = [0, split), range 1 the rest */
	bool tail;		    /* an 8-byte in-band part besides the external data */
};

struct counters {
	u64 packets, bytes, completions, signals, host_signals, full, space_signals;
	u64 send_wraps, recv_wraps, external, truncated;
};

static struct client {
	bool failed;
	u64 hz, t_begin, deadline, limit;
	bool apic;
	u32 wait_ticks;
	u64 saved_lvt;
	u32 version, msg_conn;
	u32 relid, conn_id;
	unsigned offers;
	bool connected, open;
	u32 ring_gpadl;
	struct ring send, recv;
	u64 next_seq, echo_next, comps_due, outstanding;
	bool blocked, space_seen; /* the send ring has no room; pending_send_sz is set */
	u32 blocked_need;
	struct counters n;
	u32 barriers, refused, ignored;
	u32 bad_sent, bad_comp_wanted, bad_completed; /* bad_packets: bit k for packet k */
	u64 stream_first, stream_count;
} c;

static struct record recs[MAX_RECORDS];
static u64 stage[(3 * ECHO_MAX_DATA) / 8]; /* external data before it goes to its ranges */

/* ---- helpers ---- */

/* gcc may emit calls to these even when freestanding. */
void *memcpy(void *dst, const void *src, unsigned long n);
void *memset(void *dst, int byte, unsigned long n);

void *memcpy(void *dst, const void *src, unsigned long n)
{
	unsigned long words = n / 8, bytes = n % 8;
	void *d = dst;

	/* Eight bytes a step: emulators run each step of a REP string instruction alone. */
	asm volatile("rep movsq\n\t"
		     "mov %[bytes], %%rcx\n\t"
		     "rep movsb"
		     : "+D"(d), "+S"(src), "+c"(words)
		     : [bytes] "r"(bytes)
		     : "memory");
	return dst;
}

void *memset(void *dst, int byte, unsigned long n)
{
	void *d = dst;

	asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(byte) : "memory");
	return dst;
}

static bool guid_eq(const struct guid *a, const struct guid *b)
{
	const u8 *x = (const u8 *)a, *y = (const u8 *)b;

	for (unsigned i = 0; i < sizeof(*a); i++)
		if (x[i] != y[i])
			return false;
	return true;
}

static u64 ms_of(u64 tsc)
{
	return tsc / (c.hz / 1000 ? c.hz / 1000 : 1); /* 64-bit: no libgcc division */
}

static bool fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool fail(const char *fmt, ...)
{
	va_list ap;

	if (c.failed)
		return false;
	c.failed = true;
	print("vmbus: FAIL ");
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
	print("\n");
	return false;
}

/* Signals per packet, 3 decimals. */
static void print_ratio(const char *key, u64 num, u64 den)
{
	u64 milli = den ? num * 1000 / den : 0;

	print(" %s=%lu.%03lu", key, milli / 1000, milli % 1000);
}

static void progress(void)
{
	c.deadline = rdtsc() + c.hz / 1000 * STALL_MS;
}

static bool stalled(const char *what)
{
	u64 now = rdtsc();

	if (now > c.limit)
		return fail("%s: the run took over %u ms", what, RUN_LIMIT_MS);
	if (now > c.deadline)
		return fail("%s: no progress for %u ms", what, STALL_MS);
	return false;
}

/*
 * Wait a little: with interrupts on until the SINT2 vector (a message or a
 * channel event) or the x2APIC timer. HLT also ends the VP's slice, so the
 * hypervisor runs its deferred work.
 */
static void wait(void)
{
	if (!c.apic) {
		asm volatile("pause");
		return;
	}
	wrmsr(X2APIC_TIMER_INITIAL, c.wait_ticks);
	asm volatile("sti; hlt; cli" ::: "memory");
	wrmsr(X2APIC_TIMER_INITIAL, 0);
}

/* ---- SynIC: messages and events ---- */

static volatile struct hv_message *slot(void)
{
	return (volatile struct hv_message *)(SIMP_GPA + VMBUS_SINT * sizeof(struct hv_message));
}

/* The channel's event flag in the SINT2 part of the SIEF page: taken (cleared) if set. */
static bool event_take(void)
{
	volatile u32 *w =
	    (volatile u32 *)(SIEFP_GPA + VMBUS_SINT * HV_EVENT_FLAGS_BYTES) + c.relid / 32;
	bool was;

	asm volatile("lock btrl %2, %0" : "+m"(*w), "=@ccc"(was) : "r"(c.relid % 32) : "memory");
	return was;
}

/* Count a host signal; while blocked it is the one pending_send_sz asked for. */
static void poll_event(void)
{
	if (!event_take())
		return;
	c.n.host_signals++;
	if (c.blocked)
		c.space_seen = true;
}

/*
 * Take the message in the slot, if any (TLFS 11.8.3): copy it, free the
 * slot, then EOM if more wait. false if the slot was empty or held a
 * message that is not VMBus's (ignored).
 */
static bool msg_take(u64 *buf, u32 *size)
{
	volatile struct hv_message *m = slot();
	u32 type = m->type, n;

	if (type == HV_MESSAGE_NONE)
		return false;
	n = m->payload_size;
	if (n > VMBUS_MSG_MAX)
		n = VMBUS_MSG_MAX;
	memset(buf, 0, VMBUS_MSG_MAX);
	memcpy(buf, (const void *)m->payload, n);
	m->type = HV_MESSAGE_NONE;
	mb();
	if (m->flags & HV_MESSAGE_FLAG_PENDING)
		wrmsr(HV_MSR_EOM, 0);
	*size = n;
	return type == VMBUS_MESSAGE_TYPE;
}

static bool msg_wait(u64 *buf, u32 *size, u32 timeout_ms)
{
	u64 end = rdtsc() + c.hz / 1000 * timeout_ms;

	for (;;) {
		if (msg_take(buf, size))
			return true;
		if (rdtsc() > end)
			return false;
		wait();
	}
}

/* The next message must be of type want (and at least min bytes). */
static bool expect(u64 *buf, u32 want, u32 min, const char *what)
{
	u32 size = 0, type;

	if (!msg_wait(buf, &size, MSG_TIMEOUT_MS))
		return fail("%s: no answer within %u ms", what, MSG_TIMEOUT_MS);
	type = ((struct msg_hdr *)buf)->type;
	if (type != want)
		return fail("%s: message type %u (%u bytes) came, want type %u", what, type, size,
			    want);
	if (size < min)
		return fail("%s: message type %u of %u bytes, want at least %u", what, type, size,
			    min);
	return true;
}

/* HvPostMessage: the status (low 16 bits of RAX). */
static u64 post_raw(u32 conn, u32 type, const void *msg, u32 size)
{
	volatile struct hv_post_message_input *in =
	    (volatile struct hv_post_message_input *)HC_INPUT_GPA;
	u64 rdx = HC_INPUT_GPA;

	in->connection_id = conn;
	in->reserved = 0;
	in->message_type = type;
	in->payload_size = size;
	memset((void *)in->payload, 0, VMBUS_MSG_MAX);
	memcpy((void *)in->payload, msg, size < VMBUS_MSG_MAX ? size : VMBUS_MSG_MAX);
	return hypercall(HC_POST_MESSAGE, &rdx, 0) & HV_STATUS_MASK;
}

/* A channel message on our connection; a full queue is retried (as Linux does). */
static bool post(const void *msg, u32 size, const char *what)
{
	u64 end = rdtsc() + c.hz / 1000 * MSG_TIMEOUT_MS, st;

	for (;;) {
		st = post_raw(c.msg_conn, VMBUS_MESSAGE_TYPE, msg, size);
		if (st == HV_STATUS_SUCCESS)
			return true;
		if (st != HV_STATUS_INSUFFICIENT_BUFFERS || rdtsc() > end)
			return fail("%s: HvPostMessage to connection %u: status 0x%lx", what,
				    c.msg_conn, st);
		wait();
	}
}

static u64 signal_raw(u32 conn)
{
	u64 rdx = conn; /* flag 0: the channel's own connection (is_dedicated_interrupt) */

	return hypercall(HC_SIGNAL_EVENT | HC_FAST, &rdx, 0) & HV_STATUS_MASK;
}

static void signal_host(void)
{
	u64 st = signal_raw(c.conn_id);

	c.n.signals++;
	if (st != HV_STATUS_SUCCESS)
		fail("HvSignalEvent on connection 0x%x: status 0x%lx", c.conn_id, st);
}

/* ---- connection ---- */

/* INITIATE_CONTACT with one version: *accepted says what the host said. */
static bool initiate(u32 version, bool *accepted)
{
	u64 buf[VMBUS_MSG_MAX / 8];
	struct msg_initiate m;
	const struct msg_version_response *r = (const void *)buf;

	memset(&m, 0, sizeof(m));
	m.hdr.type = MSG_INITIATE_CONTACT;
	m.version = version;
	m.target_vcpu = 0;
	if (version >= VERSION_V5) {
		m.msg_sint = VMBUS_SINT;
		c.msg_conn = CONN_MESSAGE_4;
	} else {
		m.interrupt_page = INT_PAGE_GPA;
		c.msg_conn = CONN_MESSAGE;
	}
	m.monitor_page1 = MONITOR1_GPA;
	m.monitor_page2 = MONITOR2_GPA;
	if (!post(&m, sizeof(m), "INITIATE_CONTACT") ||
	    !expect(buf, MSG_VERSION_RESPONSE, sizeof(*r), "INITIATE_CONTACT"))
		return false;
	*accepted = r->version_supported;
	if (!*accepted)
		return true;
	if (r->connection_state)
		return fail("VERSION_RESPONSE for %u.%u: connection state %u", version >> 16,
			    version & 0xffff, r->connection_state);
	if (version >= VERSION_V5) {
		if (r->msg_conn_id != CONN_MESSAGE_4 && r->msg_conn_id != CONN_MESSAGE)
			return fail("VERSION_RESPONSE for %u.%u: message connection id %u",
				    version >> 16, version & 0xffff, r->msg_conn_id);
		c.msg_conn = r->msg_conn_id;
	}
	c.version = version;
	c.connected = true;
	return true;
}

/* Newest version first, down the list until one is accepted. */
static bool connect(void)
{
	bool accepted = false;

	for (unsigned i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		if (!initiate(versions[i], &accepted))
			return false;
		if (accepted)
			return true;
	}
	return fail("INITIATE_CONTACT: no version from %u.%u down was accepted", versions[0] >> 16,
		    versions[0] & 0xffff);
}

/* REQUESTOFFERS, then offers until ALLOFFERS_DELIVERED; the echo one's relid and connection. */
static bool request_offers(u32 *relid, u32 *conn_id)
{
	u64 buf[VMBUS_MSG_MAX / 8], relids = 0;
	const struct msg_offer *o = (const void *)buf;
	struct msg_hdr h = {MSG_REQUESTOFFERS, 0};
	u32 size, type;

	c.offers = 0;
	*relid = 0;
	if (!post(&h, sizeof(h), "REQUESTOFFERS"))
		return false;
	for (;;) {
		if (!msg_wait(buf, &size, MSG_TIMEOUT_MS))
			return fail("REQUESTOFFERS: no ALLOFFERS_DELIVERED within %u ms after %u "
				    "offers",
				    MSG_TIMEOUT_MS, c.offers);
		type = o->hdr.type;
		if (type == MSG_ALLOFFERS_DELIVERED)
			break;
		if (type != MSG_OFFERCHANNEL)
			return fail("REQUESTOFFERS: message type %u (%u bytes) among the offers",
				    type, size);
		if (size < sizeof(*o))
			return fail("offer of %u bytes, want %u", size, (u32)sizeof(*o));
		if (!o->child_relid ||
		    (o->child_relid < RELIDS_TRACKED && (relids >> o->child_relid & 1)))
			return fail("offer with relid %u: zero or offered twice", o->child_relid);
		if (o->child_relid < RELIDS_TRACKED)
			relids |= 1ul << o->child_relid;
		c.offers++;
		if (!guid_eq(&o->type, &echo_type))
			continue;
		if (*relid)
			return fail("two echo offers: relids %u and %u", *relid, o->child_relid);
		/* We signal with HvSignalEvent on the offer's own connection: no monitor pages. */
		if (o->monitor_allocated || !(o->is_dedicated_interrupt & 1) || !o->connection_id)
			return fail("echo offer: monitor_allocated %u, dedicated interrupt %u, "
				    "connection 0x%x: want 0, 1 and an id",
				    o->monitor_allocated, o->is_dedicated_interrupt,
				    o->connection_id);
		*relid = o->child_relid;
		*conn_id = o->connection_id;
	}
	if (!*relid)
		return fail("no echo offer among %u (is `vmbus = echo` in the partition's "
			    "config?)",
			    c.offers);
	return true;
}

static bool unload(void)
{
	u64 buf[VMBUS_MSG_MAX / 8];
	struct msg_hdr h = {MSG_UNLOAD, 0};

	if (!post(&h, sizeof(h), "UNLOAD") ||
	    !expect(buf, MSG_UNLOAD_RESPONSE, sizeof(struct msg_hdr), "UNLOAD"))
		return false;
	c.connected = c.open = false;
	return true;
}

/* ---- GPADLs ---- */

/* GPADL_HEADER for pages at gpa (one range), then GPADL_BODY messages for the PFNs left. */
static bool gpadl_send(u32 relid, u32 id, u64 gpa, u32 pages, u32 *bodies)
{
	u64 buf[VMBUS_MSG_MAX / 8];
	struct msg_gpadl_header *h = (void *)buf;
	struct msg_gpadl_body *b = (void *)buf;
	u64 *pfn = (u64 *)(h + 1), first = gpa >> PAGE_SHIFT;
	u32 n = pages < HEADER_PFNS ? pages : HEADER_PFNS;

	memset(buf, 0, sizeof(buf));
	h->hdr.type = MSG_GPADL_HEADER;
	h->child_relid = relid;
	h->gpadl = id;
	h->range_buflen = (u16)(sizeof(struct gpa_range) + pages * 8);
	h->range_count = 1;
	h->range.byte_count = pages * (u32)PAGE_SIZE;
	h->range.byte_offset = 0;
	for (u32 i = 0; i < n; i++)
		pfn[i] = first + i;
	if (!post(buf, sizeof(*h) + n * 8, "GPADL_HEADER"))
		return false;
	*bodies = 0;
	for (u32 done = n; done < pages; done += n) {
		n = pages - done < BODY_PFNS ? pages - done : BODY_PFNS;
		memset(buf, 0, sizeof(buf));
		b->hdr.type = MSG_GPADL_BODY;
		b->msg_number = 0; /* as Linux: the host goes by order */
		b->gpadl = id;
		pfn = (u64 *)(b + 1);
		for (u32 i = 0; i < n; i++)
			pfn[i] = first + done + i;
		if (!post(buf, sizeof(*b) + n * 8, "GPADL_BODY"))
			return false;
		(*bodies)++;
	}
	return true;
}

/* GPADL_CREATED for (relid, id): its status must be 0 (ok) or not (refused). */
static bool expect_created(u32 relid, u32 id, bool ok, const char *what)
{
	u64 buf[VMBUS_MSG_MAX / 8];
	const struct msg_gpadl_created *r = (const void *)buf;

	if (!expect(buf, MSG_GPADL_CREATED, sizeof(*r), what))
		return false;
	if (r->child_relid != relid || r->gpadl != id)
		return fail("%s: GPADL_CREATED for relid %u GPADL 0x%x, want %u 0x%x", what,
			    r->child_relid, r->gpadl, relid, id);
	if (ok ? r->status != 0 : r->status == 0)
		return fail("%s: GPADL_CREATED status 0x%x, want %s", what, r->status,
			    ok ? "0" : "a failure");
	return true;
}

static bool gpadl_create(u32 id, u64 gpa, u32 pages, u32 *bodies)
{
	return gpadl_send(c.relid, id, gpa, pages, bodies) &&
	       expect_created(c.relid, id, true, "GPADL_HEADER");
}

static bool gpadl_teardown(u32 id)
{
	u64 buf[VMBUS_MSG_MAX / 8];
	const struct msg_gpadl_torndown *r = (const void *)buf;
	struct msg_gpadl_teardown t = {{MSG_GPADL_TEARDOWN, 0}, c.relid, id};

	if (!post(&t, sizeof(t), "GPADL_TEARDOWN") ||
	    !expect(buf, MSG_GPADL_TORNDOWN, sizeof(*r), "GPADL_TEARDOWN"))
		return false;
	if (r->gpadl != id)
		return fail("GPADL_TORNDOWN for GPADL 0x%x, want 0x%x", r->gpadl, id);
	return true;
}

/* ---- open and close ---- */

static void open_msg(struct msg_open *m, u32 relid, u32 open_id, u32 gpadl, u32 downstream)
{
	memset(m, 0, sizeof(*m));
	m->hdr.type = MSG_OPENCHANNEL;
	m->child_relid = relid;
	m->open_id = open_id;
	m->ring_gpadl = gpadl;
	m->target_vp = 0;
	m->downstream_page_offset = downstream;
}

/* OPENCHANNEL_RESULT for (relid, open_id): status 0 (ok) or a failure. */
static bool expect_open_result(u32 relid, u32 open_id, bool ok, const char *what)
{
	u64 buf[VMBUS_MSG_MAX / 8];
	const struct msg_open_result *r = (const void *)buf;

	if (!expect(buf, MSG_OPENCHANNEL_RESULT, sizeof(*r), what))
		return false;
	if (r->child_relid != relid || r->open_id != open_id)
		return fail("%s: OPENCHANNEL_RESULT for relid %u open id 0x%x, want %u 0x%x", what,
			    r->child_relid, r->open_id, relid, open_id);
	if (ok ? r->status != 0 : r->status == 0)
		return fail("%s: OPENCHANNEL_RESULT status 0x%x, want %s", what, r->status,
			    ok ? "0" : "a failure");
	return true;
}

static void ring_setup(struct ring *r, u64 gpa)
{
	r->ctl = (volatile struct ring_ctl *)gpa;
	r->data = (u8 *)(gpa + PAGE_SIZE);
	r->size = RING_DATA_PAGES * (u32)PAGE_SIZE;
	r->priv = 0;
	r->wraps = 0;
	r->ctl->feature_bits = RING_FEATURE_PENDING_SEND_SZ;
}

/* OPENCHANNEL over c.ring_gpadl; fresh: new rings, else they go on from where they are. */
static bool channel_open(bool fresh)
{
	struct msg_open m;

	if (fresh) {
		memset((void *)RING_GPA, 0, RING_PAGES * PAGE_SIZE);
		ring_setup(&c.send, RING_GPA);
		ring_setup(&c.recv, RING_GPA + SEND_PAGES * PAGE_SIZE);
	}
	open_msg(&m, c.relid, c.relid, c.ring_gpadl, SEND_PAGES);
	if (!post(&m, sizeof(m), "OPENCHANNEL") ||
	    !expect_open_result(c.relid, c.relid, true, "OPENCHANNEL"))
		return false;
	c.open = true;
	return true;
}

static bool channel_close(void)
{
	struct msg_relid m = {{MSG_CLOSECHANNEL, 0}, c.relid};

	if (!post(&m, sizeof(m), "CLOSECHANNEL"))
		return false;
	c.open = false;
	return true;
}

/* ---- packets ---- */

static u64 mix(u64 x)
{
	x *= MUL_GOLDEN;
	return x ^ x >> 29;
}

/* Word k of packet seq's data: its transaction id first, then a pattern. */
static u64 data_word(u64 seq, u32 k)
{
	return k ? mix(seq << 16 | k) : TID_BASE + seq;
}

/* The same, cut to len bytes of data: the bytes after them are zero. */
static u64 want_word(u64 seq, u32 k, u32 len)
{
	u32 at = k * 8;

	if (at >= len)
		return 0;
	if (len - at >= 8)
		return data_word(seq, k);
	return data_word(seq, k) & ((1ul << 8 * (len - at)) - 1);
}

static void plan(u64 seq, enum kind kind, struct plan *p)
{
	u64 h = mix(seq ^ PLAN_SEED); /* its bits pick sizes and offsets */

	memset(p, 0, sizeof(*p));
	switch (kind) {
	case KIND_INBAND:
		p->len = INBAND_MIN + (u32)(h % (INBAND_MAX - INBAND_MIN + 1));
		p->comp = seq % COMP_EVERY == 0;
		break;
	case KIND_BIG:
		p->len = BIG_MIN + (u32)(h % (BIG_MAX - BIG_MIN + 1));
		p->comp = seq % 2 == 0;
		break;
	case KIND_GPA:
		p->ext = true;
		/* Some longer than an echo carries: it returns the first ECHO_MAX_DATA bytes. */
		p->len = seq % TRUNCATE_EVERY == 5 ? ECHO_MAX_DATA + 1 + (u32)(h % TRUNCATE_EXTRA)
						   : 8 + (u32)(h % (ECHO_MAX_DATA - 8 + 1));
		p->nranges = seq & 1 ? 2 : 1;
		p->split = p->nranges == 2 ? 1 + (u32)((h >> 20) % (p->len - 1)) : p->len;
		p->off[0] = (u32)(h >> 32) % PAGE_SIZE;
		p->off[1] = (u32)(h >> 44) % PAGE_SIZE;
		p->tail = seq & 2;
		p->comp = seq % COMP_EVERY == 0;
		break;
	}
	p->echo_len = p->len < ECHO_MAX_DATA ? p->len : ECHO_MAX_DATA;
}

/* The bytes of one echo or completion in the receive ring. */
static u32 reply_size(u32 echo_len)
{
	return PKT_DESC_SIZE + ALIGN8(echo_len) + PKT_TRAILER;
}

static u32 used(const struct ring *r, u32 read, u32 write)
{
	return write >= read ? write - read : r->size - read + write;
}

static bool index_bad(const struct ring *r, u32 index)
{
	return index >= r->size || index % 8;
}

/* Room for total bytes: a writer needs strictly more free bytes than it writes. */
static bool send_room(u32 total)
{
	u32 read = c.send.ctl->read_index;

	if (index_bad(&c.send, read))
		return fail("send ring: the host's read index 0x%x is out of range", read);
	return c.send.size - used(&c.send, read, c.send.priv) > total;
}

static void put(struct ring *r, u32 *pos, u64 w)
{
	*(u64 *)(r->data + *pos) = w;
	*pos += 8;
	if (*pos == r->size)
		*pos = 0;
}

static u64 get(const struct ring *r, u32 pos)
{
	return *(const volatile u64 *)(r->data + pos % r->size);
}

static u32 range_pages(u32 off, u32 bytes)
{
	return (u32)((off + bytes + PAGE_SIZE - 1) / PAGE_SIZE);
}

/* Packet seq's external data into its slot: range 0 in pages 0-1, range 1 in pages 2-3. */
static void ext_fill(u64 seq, const struct plan *p, u64 base[2])
{
	u8 *slot = (u8 *)(EXT_POOL_GPA + (seq % EXT_SLOTS) * EXT_SLOT_SIZE);
	const u8 *src = (const u8 *)stage;

	for (u32 k = 0; k * 8 < p->len; k++)
		stage[k] = want_word(seq, k, p->len);
	base[0] = (u64)slot + p->off[0];
	memcpy((void *)base[0], src, p->split);
	if (p->nranges == 2) {
		base[1] = (u64)slot + 2 * PAGE_SIZE + p->off[1];
		memcpy((void *)base[1], src + p->split, p->len - p->split);
	}
}

/*
 * Write packet seq at our write index (not yet published). false: no room
 * (*need: the bytes it needs, trailer included).
 */
static bool packet_write(u64 seq, const struct plan *p, u32 *need)
{
	u32 hdr = PKT_DESC_SIZE, data = ALIGN8(p->len), pos = c.send.priv, start = pos, total;
	u32 bytes[2] = {p->split, p->len - p->split};
	u64 base[2] = {0, 0};

	if (p->ext) {
		hdr += PKT_GPA_HEADER;
		for (u32 r = 0; r < p->nranges; r++)
			hdr += 8 + 8 * range_pages(p->off[r], bytes[r]);
		data = p->tail ? 8 : 0;
	}
	total = hdr + data + PKT_TRAILER;
	*need = total;
	if (!send_room(total))
		return false;
	put(&c.send, &pos,
	    (u64)(p->ext ? PKT_DATA_GPA_DIRECT : PKT_DATA_INBAND) | (u64)(hdr / 8) << 16 |
		(u64)((hdr + data) / 8) << 32 | (u64)(p->comp ? PKT_FLAG_COMPLETION : 0) << 48);
	put(&c.send, &pos, TID_BASE + seq);
	if (p->ext) {
		ext_fill(seq, p, base);
		put(&c.send, &pos, (u64)p->nranges << 32); /* reserved, range count */
		for (u32 r = 0; r < p->nranges; r++) {
			u32 off = (u32)(base[r] & (PAGE_SIZE - 1));

			put(&c.send, &pos, bytes[r] | (u64)off << 32);
			for (u32 i = 0; i < range_pages(off, bytes[r]); i++)
				put(&c.send, &pos, (base[r] >> PAGE_SHIFT) + i);
		}
		if (p->tail)
			put(&c.send, &pos, TID_BASE + seq);
	} else {
		for (u32 k = 0; k * 8 < data; k++)
			put(&c.send, &pos, want_word(seq, k, p->len));
	}
	put(&c.send, &pos, (u64)start << 32); /* trailer: where the packet starts */
	if (start + total >= c.send.size)
		c.send.wraps++;
	c.send.priv = pos;
	return true;
}

/* Make the batch from start visible; signal if the host had seen the ring empty (Linux's rule). */
static void send_publish(u32 start)
{
	mb();
	c.send.ctl->write_index = c.send.priv;
	mb();
	if (!c.send.ctl->interrupt_mask && c.send.ctl->read_index == start)
		signal_host();
}

/* Data of packet seq at pos in the receive ring: dlen bytes = echo_len, zero-padded. */
static bool check_data(const char *what, u64 seq, u32 pos, u32 dlen, u32 echo_len)
{
	if (dlen != ALIGN8(echo_len))
		return fail("%s of packet %lu: %u data bytes, want %u", what, seq, dlen,
			    ALIGN8(echo_len));
	for (u32 k = 0; k * 8 < dlen; k++) {
		u64 got = get(&c.recv, pos + k * 8), want = want_word(seq, k, echo_len);

		if (got != want)
			return fail("%s of packet %lu: bytes %u-%u are 0x%016lx, want 0x%016lx",
				    what, seq, k * 8, k * 8 + 7, got, want);
	}
	return true;
}

static void record_done(struct record *r)
{
	if (r->got_echo && (!r->want_comp || r->got_comp))
		r->busy = false;
}

/* One packet from the host: an echo (in order) or a completion (by transaction id). */
/* A reply to one of bad_packets: at most an empty completion, for one that asked. */
static bool bad_reply(u32 type, u64 tid, u64 tag, bool *mine)
{
	u64 k = tid - BAD_TID_BASE;

	*mine = false;
	if (type == PKT_DATA_INBAND && tag - BAD_TID_BASE < 32 &&
	    (c.bad_sent >> (tag - BAD_TID_BASE) & 1))
		return fail("the host echoed bad packet %lu", tag - BAD_TID_BASE);
	if (type != PKT_COMP || k >= 32 || !(c.bad_sent >> k & 1))
		return true;
	*mine = true;
	if (!(c.bad_comp_wanted >> k & 1))
		return fail("a completion for bad packet %lu, which asked for none or had one", k);
	c.bad_comp_wanted &= ~(1u << k);
	c.bad_completed++;
	return true;
}

static bool reply(u32 type, u32 flags, u64 tid, u32 pos, u32 dlen)
{
	struct record *r;
	bool mine;
	u64 seq;

	if (c.bad_sent && (!bad_reply(type, tid, dlen >= 8 ? get(&c.recv, pos) : 0, &mine) || mine))
		return !c.failed;
	if (type == PKT_DATA_INBAND) {
		seq = dlen >= 8 ? get(&c.recv, pos) - TID_BASE : ~0ul;
		if (c.echo_next >= c.next_seq)
			return fail("echo (tag 0x%lx) with no packet outstanding", seq + TID_BASE);
		if (seq != c.echo_next)
			return fail("echo of packet %lu came, want %lu (lost or out of order)", seq,
				    c.echo_next);
		if (flags & PKT_FLAG_COMPLETION)
			return fail("echo of packet %lu asks for a completion", seq);
		r = &recs[seq % MAX_RECORDS];
		if (!r->busy || r->seq != seq || r->got_echo)
			return fail("echo of packet %lu: its record is gone", seq);
		if (!check_data("echo", seq, pos, dlen, r->echo_len))
			return false;
		r->got_echo = true;
		c.echo_next++;
	} else if (type == PKT_COMP) {
		seq = tid - TID_BASE;
		r = &recs[seq % MAX_RECORDS];
		if (seq >= c.next_seq || !r->busy || r->seq != seq || !r->want_comp || r->got_comp)
			return fail("completion with transaction id 0x%lx: no such packet waits "
				    "for one",
				    tid);
		if (!check_data("completion", seq, pos, dlen, r->echo_len))
			return false;
		r->got_comp = true;
		c.comps_due--;
		c.n.completions++;
	} else {
		return fail("packet of type %u (flags 0x%x, transaction id 0x%lx) from the host",
			    type, flags, tid);
	}
	c.outstanding -= reply_size(r->echo_len);
	record_done(r);
	return true;
}

/*
 * Read and check every packet waiting in the receive ring; then publish
 * the read index and, if the host waits for room (pending_send_sz) and we
 * just made it, signal (Linux hv_pkt_iter_close). Returns packets read.
 */
static u32 recv_drain(void)
{
	u32 n = 0, bytes = 0, write, avail, pending, free_now;

	while (!c.failed) {
		u32 pos = c.recv.priv, len, off, type, flags;
		u64 w0, tid, trailer;

		write = c.recv.ctl->write_index;
		if (index_bad(&c.recv, write)) {
			fail("receive ring: the host's write index 0x%x is out of range", write);
			break;
		}
		avail = used(&c.recv, pos, write);
		if (!avail)
			break;
		mb(); /* the packet's bytes after the index that covers them */
		if (avail < PKT_DESC_SIZE + PKT_TRAILER) {
			fail("receive ring: %u bytes at 0x%x, less than a packet", avail, pos);
			break;
		}
		w0 = get(&c.recv, pos);
		tid = get(&c.recv, pos + 8);
		type = (u16)w0;
		off = (u32)(u16)(w0 >> 16) * 8;
		len = (u32)(u16)(w0 >> 32) * 8;
		flags = (u16)(w0 >> 48);
		if (len < PKT_DESC_SIZE || off < PKT_DESC_SIZE || off > len ||
		    len + PKT_TRAILER > avail) {
			fail("receive ring at 0x%x: type %u offset %u length %u, %u bytes there",
			     pos, type, off, len, avail);
			break;
		}
		trailer = get(&c.recv, pos + len);
		if (trailer >> 32 != pos) {
			fail("receive ring at 0x%x: trailer 0x%lx, want 0x%x in its upper half",
			     pos, trailer, pos);
			break;
		}
		if (!reply(type, flags, tid, (pos + off) % c.recv.size, len - off))
			break;
		if (pos + len + PKT_TRAILER >= c.recv.size)
			c.recv.wraps++;
		c.recv.priv = (pos + len + PKT_TRAILER) % c.recv.size;
		bytes += len + PKT_TRAILER;
		n++;
	}
	if (!n)
		return 0;
	mb();
	c.recv.ctl->read_index = c.recv.priv;
	mb();
	pending = c.recv.ctl->pending_send_sz;
	if (pending && !c.failed) {
		free_now = c.recv.size - used(&c.recv, c.recv.priv, c.recv.ctl->write_index);
		if (free_now > pending && free_now - bytes <= pending)
			signal_host();
	}
	return n;
}

/* Nothing to do: wait for the host. While replies are due, let it interrupt us for them. */
static void idle(const struct phase *ph)
{
	bool unmask = !ph->fill && c.outstanding;

	if (unmask) {
		c.recv.ctl->interrupt_mask = 0;
		mb();
		if (used(&c.recv, c.recv.priv, c.recv.ctl->write_index)) {
			c.recv.ctl->interrupt_mask = 1;
			return;
		}
	}
	wait();
	c.recv.ctl->interrupt_mask = 1;
}

/* After a write found no room: ask for a signal, unless room came meanwhile. */
static void block(u32 need)
{
	c.send.ctl->pending_send_sz = need;
	mb();
	if (event_take()) /* from here on a signal means room (see phase_run) */
		c.n.host_signals++;
	if (send_room(need)) {
		c.send.ctl->pending_send_sz = 0;
		return;
	}
	c.blocked = true;
	c.blocked_need = need;
	c.space_seen = false;
	c.n.full++;
}

/* Room came: the host must have signalled, as the pending_send_sz we set asked. */
static bool unblock(void)
{
	poll_event();
	if (!c.space_seen)
		return fail("send ring: %u bytes free again, more than pending_send_sz %u, but the "
			    "host did not signal",
			    c.send.size - used(&c.send, c.send.ctl->read_index, c.send.priv),
			    c.blocked_need);
	c.n.space_signals++;
	c.send.ctl->pending_send_sz = 0;
	c.blocked = false;
	return true;
}

static bool phase_run(const struct phase *ph)
{
	u64 end = c.next_seq + ph->count, t0 = rdtsc();
	struct counters before = c.n;
	struct plan p;
	u32 need = 0;

	before.send_wraps = c.send.wraps;
	before.recv_wraps = c.recv.wraps;
	c.recv.ctl->interrupt_mask = 1; /* we read when we are ready */
	progress();
	while (!c.failed && (c.echo_next < end || c.comps_due)) {
		u32 wrote = 0, got = 0, start = c.send.priv;
		bool no_room = false;

		while (c.next_seq < end && wrote < ph->batch && !c.failed) {
			u64 seq = c.next_seq;
			struct record *r = &recs[seq % MAX_RECORDS];

			if (seq - c.echo_next >= ph->max_out || r->busy)
				break;
			plan(seq, ph->kind, &p);
			if (ph->window &&
			    c.outstanding + reply_size(p.echo_len) * (p.comp ? 2 : 1) >
				c.recv.size - WINDOW_SLACK)
				break;
			if (c.blocked)
				poll_event();
			if (!packet_write(seq, &p, &need)) {
				no_room = true;
				break;
			}
			if (c.blocked && !unblock())
				break;
			*r = (struct record){seq, p.echo_len, true, p.comp, false, false};
			c.outstanding += reply_size(p.echo_len) * (p.comp ? 2 : 1);
			c.comps_due += p.comp;
			c.n.packets++;
			c.n.bytes += p.len;
			c.n.external += p.ext;
			c.n.truncated += p.len > p.echo_len;
			c.next_seq++;
			wrote++;
		}
		if (wrote)
			send_publish(start);
		if (no_room && !c.blocked && !c.failed)
			block(need);
		poll_event();
		if (!ph->fill || !wrote)
			got = recv_drain();
		if (c.failed)
			break;
		if (wrote || got)
			progress();
		else if (!stalled(ph->name))
			idle(ph);
	}
	c.recv.ctl->interrupt_mask = 0;
	if (c.failed)
		return false;
	t0 = rdtsc() - t0;
	print("vmbus: %s packets=%lu bytes=%lu completions=%lu signals=%lu", ph->name,
	      c.n.packets - before.packets, c.n.bytes - before.bytes,
	      c.n.completions - before.completions, c.n.signals - before.signals);
	print_ratio("spp", c.n.signals - before.signals, c.n.packets - before.packets);
	print(" host_signals=%lu wraps=%u/%u full=%lu space_signals=%lu",
	      c.n.host_signals - before.host_signals, c.send.wraps - (u32)before.send_wraps,
	      c.recv.wraps - (u32)before.recv_wraps, c.n.full - before.full,
	      c.n.space_signals - before.space_signals);
	if (ph->kind == KIND_GPA)
		print(" external=%lu truncated=%lu", c.n.external - before.external,
		      c.n.truncated - before.truncated);
	print(" ms=%lu per_s=%lu\n", ms_of(t0),
	      t0 ? (c.n.packets - before.packets) * c.hz / t0 : 0);
	return true;
}

static const struct phase stream = {"stream", 2000, 32, 512, true, false, KIND_INBAND};
static const struct phase gpa_direct = {"gpa-direct", 256, 8, EXT_SLOTS, true, false, KIND_GPA};
static const struct phase fill = {"full", 400, 1, 512, false, true, KIND_BIG};
static const struct phase after = {"after", 200, 16, 512, true, false, KIND_INBAND};
static const struct phase again = {"reopen", 200, 32, 512, true, false, KIND_INBAND};

/* ---- messages the host must refuse or ignore ---- */

/*
 * A message with a known answer: whatever came before it had none if that
 * answer comes next. From 5.3 a MODIFYCHANNEL to VP 0 (answered, and quiet
 * in the host's log); before, an OPENCHANNEL of an unknown relid (refused).
 */
static bool barrier(const char *after_what)
{
	u64 buf[VMBUS_MSG_MAX / 8];
	const struct msg_hdr *h = (const void *)buf;
	const struct msg_open_result *r = (const void *)buf;
	const struct msg_modify *mr = (const void *)buf;
	u32 open_id = BARRIER_OPEN_ID + c.barriers++, size;
	struct msg_modify mod = {{MSG_MODIFYCHANNEL, 0}, c.relid, 0};
	struct msg_open m;
	bool modify = c.version >= VERSION_V5_3;

	open_msg(&m, UNKNOWN_RELID, open_id, RING_GPADL_ID, SEND_PAGES);
	if (!(modify ? post(&mod, sizeof(mod), after_what) : post(&m, sizeof(m), after_what)))
		return false;
	if (!msg_wait(buf, &size, MSG_TIMEOUT_MS))
		return fail("%s: no answer to the %s after it", after_what,
			    modify ? "MODIFYCHANNEL" : "OPENCHANNEL");
	if (modify ? h->type != MSG_MODIFYCHANNEL_RESPONSE || mr->child_relid != c.relid
		   : h->type != MSG_OPENCHANNEL_RESULT || r->open_id != open_id)
		return fail("%s: answered with message type %u (%u bytes), want no answer",
			    after_what, h->type, size);
	if (modify ? mr->target_vp != 0 : r->status == 0)
		return fail("%s: then %s status 0x%x", after_what,
			    modify ? "MODIFYCHANNEL to VP 0 got"
				   : "OPENCHANNEL of an unknown relid got",
			    modify ? mr->target_vp : r->status);
	c.ignored++;
	return true;
}

/* A message the host must drop without an answer. */
static bool ignored(const void *msg, u32 size, const char *what)
{
	return post(msg, size, what) && barrier(what);
}

/* An HvPostMessage the hypervisor must refuse with status want. */
static bool post_refused(u32 conn, u32 type, u32 size, u64 want, const char *what)
{
	u64 msg[VMBUS_MSG_MAX / 8] = {MSG_REQUESTOFFERS};
	u64 st = post_raw(conn, type, msg, size);

	if (st != want)
		return fail("%s: HvPostMessage status 0x%lx, want 0x%lx", what, st, want);
	c.refused++;
	return true;
}

static bool gpadl_refused(u32 relid, u32 id, const void *msg, u32 size, const char *what)
{
	if (!post(msg, size, what) || !expect_created(relid, id, false, what))
		return false;
	c.refused++;
	return true;
}

static bool bad_gpadls(void)
{
	u64 buf[VMBUS_MSG_MAX / 8];
	struct msg_gpadl_header *h = (void *)buf;
	struct msg_gpadl_body *b = (void *)buf;
	u64 *pfn = (u64 *)(h + 1);
	u32 bodies;

	/* A GPADL for a relid nobody offered. */
	memset(buf, 0, sizeof(buf));
	*h = (struct msg_gpadl_header){
	    {MSG_GPADL_HEADER, 0}, UNKNOWN_RELID, BAD_GPADL_ID, ONE_PAGE_BUFLEN, 1, {PAGE_SIZE, 0}};
	pfn[0] = EXTRA_GPADL_GPA >> PAGE_SHIFT;
	if (!gpadl_refused(UNKNOWN_RELID, BAD_GPADL_ID, buf, sizeof(*h) + 8,
			   "GPADL_HEADER for an unknown relid"))
		return false;
	/* The ring's GPADL id again. */
	h->child_relid = c.relid;
	h->gpadl = c.ring_gpadl;
	if (!gpadl_refused(c.relid, c.ring_gpadl, buf, sizeof(*h) + 8,
			   "GPADL_HEADER with an id in use"))
		return false;
	/* A page outside the partition's RAM. */
	h->gpadl = BAD_GPADL_ID;
	pfn[0] = PFN_OUTSIDE_RAM;
	if (!gpadl_refused(c.relid, BAD_GPADL_ID, buf, sizeof(*h) + 8,
			   "GPADL_HEADER with a PFN outside RAM"))
		return false;
	/* No ranges. */
	pfn[0] = EXTRA_GPADL_GPA >> PAGE_SHIFT;
	h->range_count = 0;
	if (!gpadl_refused(c.relid, BAD_GPADL_ID, buf, sizeof(*h) + 8,
			   "GPADL_HEADER with no ranges"))
		return false;
	/* More PFNs than range_buflen announces (2 announced, 3 sent). */
	h->range_count = 1;
	h->range_buflen = 8 + 2 * 8;
	h->range.byte_count = 2 * PAGE_SIZE;
	pfn[1] = pfn[0] + 1;
	pfn[2] = pfn[0] + 2;
	if (!gpadl_refused(c.relid, BAD_GPADL_ID, buf, sizeof(*h) + 3 * 8,
			   "GPADL_HEADER with PFNs beyond its range_buflen"))
		return false;
	/* A body with more PFNs than are left to come. */
	h->range_buflen = (u16)(sizeof(struct gpa_range) + (HEADER_PFNS + OVERLONG_MISSING) * 8);
	h->range.byte_count = (HEADER_PFNS + OVERLONG_MISSING) * (u32)PAGE_SIZE;
	for (u32 i = 0; i < HEADER_PFNS; i++)
		pfn[i] = (EXTRA_GPADL_GPA >> PAGE_SHIFT) + i;
	if (!post(buf, sizeof(*h) + HEADER_PFNS * 8, "GPADL_HEADER of an overlong GPADL"))
		return false;
	memset(buf, 0, sizeof(buf));
	*b = (struct msg_gpadl_body){{MSG_GPADL_BODY, 0}, 0, BAD_GPADL_ID};
	pfn = (u64 *)(b + 1);
	for (u32 i = 0; i < 2 * OVERLONG_MISSING; i++)
		pfn[i] = (EXTRA_GPADL_GPA >> PAGE_SHIFT) + HEADER_PFNS + i;
	if (!gpadl_refused(c.relid, BAD_GPADL_ID, buf, sizeof(*b) + 2 * OVERLONG_MISSING * 8,
			   "GPADL_BODY with more PFNs than announced"))
		return false;
	/* A body and a teardown for GPADLs that do not exist: no answer. */
	pfn[0] = EXTRA_GPADL_GPA >> PAGE_SHIFT;
	if (!ignored(buf, sizeof(*b) + 8, "GPADL_BODY for an unknown GPADL"))
		return false;
	{
		struct msg_gpadl_teardown t = {{MSG_GPADL_TEARDOWN, 0}, c.relid, BAD_GPADL_ID};

		if (!ignored(&t, sizeof(t), "GPADL_TEARDOWN of an unknown GPADL"))
			return false;
	}
	/* And a good one (header and body) made and torn down while the channel is open. */
	return gpadl_create(EXTRA_GPADL_ID, EXTRA_GPADL_GPA, EXTRA_PAGES, &bodies) &&
	       gpadl_teardown(EXTRA_GPADL_ID);
}

static bool bad_messages(void)
{
	u64 buf[VMBUS_MSG_MAX / 8], st;
	struct msg_open m;
	struct msg_modify mod;

	/* OPENCHANNEL for a relid nobody offered, and again for the channel that is open. */
	open_msg(&m, UNKNOWN_RELID, BAD_OPEN_ID, RING_GPADL_ID, SEND_PAGES);
	if (!post(&m, sizeof(m), "OPENCHANNEL of an unknown relid") ||
	    !expect_open_result(UNKNOWN_RELID, BAD_OPEN_ID, false,
				"OPENCHANNEL of an unknown relid"))
		return false;
	c.refused++;
	open_msg(&m, c.relid, BAD_OPEN_ID + 1, c.ring_gpadl, SEND_PAGES);
	if (!post(&m, sizeof(m), "OPENCHANNEL of the open channel") ||
	    !expect_open_result(c.relid, BAD_OPEN_ID + 1, false, "OPENCHANNEL of the open channel"))
		return false;
	c.refused++;
	if (!bad_gpadls())
		return false;
	/* No answer to: CLOSECHANNEL of an unknown relid, unknown and host-only types,
	 * truncated messages. */
	{
		struct msg_relid close = {{MSG_CLOSECHANNEL, 0}, UNKNOWN_RELID};
		struct msg_hdr unknown = {MSG_UNKNOWN_TYPE, 0};

		if (!ignored(&close, sizeof(close), "CLOSECHANNEL of an unknown relid") ||
		    !ignored(&unknown, sizeof(unknown), "a message of unknown type"))
			return false;
	}
	memset(buf, 0, sizeof(buf));
	((struct msg_offer *)buf)->hdr.type = MSG_OFFERCHANNEL;
	((struct msg_offer *)buf)->child_relid = c.relid;
	if (!ignored(buf, sizeof(struct msg_offer), "an OFFERCHANNEL from the guest"))
		return false;
	open_msg(&m, c.relid, BAD_OPEN_ID + 2, c.ring_gpadl, SEND_PAGES);
	if (!ignored(&m, 12, "a truncated OPENCHANNEL") ||
	    !ignored(&m, 4, "a message shorter than its header"))
		return false;
	/* Refused by the hypercall itself. */
	if (!post_refused(c.msg_conn, NOT_VMBUS_MSG_TYPE, sizeof(struct msg_hdr),
			  HV_STATUS_INVALID_PARAMETER, "HvPostMessage of another message type") ||
	    !post_refused(c.msg_conn, VMBUS_MESSAGE_TYPE, HV_MESSAGE_PAYLOAD_MAX + 1,
			  HV_STATUS_INVALID_PARAMETER, "HvPostMessage of 241 bytes") ||
	    !post_refused(UNKNOWN_CONN_ID, VMBUS_MESSAGE_TYPE, sizeof(struct msg_hdr),
			  HV_STATUS_INVALID_CONNECTION_ID,
			  "HvPostMessage to an unknown connection"))
		return false;
	st = signal_raw(c.conn_id + 31);
	if (st != HV_STATUS_INVALID_CONNECTION_ID)
		return fail("HvSignalEvent on connection 0x%x (no channel): status 0x%lx, want "
			    "0x%x",
			    c.conn_id + 31, st, HV_STATUS_INVALID_CONNECTION_ID);
	c.refused++;
	/* MODIFYCHANNEL (answered from 5.3): to a VP that does not exist, then to VP 0. */
	if (c.version >= VERSION_V5_3) {
		for (u32 vp = BAD_VP;; vp = 0) {
			const struct msg_modify *r = (const void *)buf;

			mod = (struct msg_modify){{MSG_MODIFYCHANNEL, 0}, c.relid, vp};
			if (!post(&mod, sizeof(mod), "MODIFYCHANNEL") ||
			    !expect(buf, MSG_MODIFYCHANNEL_RESPONSE, sizeof(*r), "MODIFYCHANNEL"))
				return false;
			/* The response has relid and status where the request has relid and VP. */
			if (r->child_relid != c.relid || (vp ? !r->target_vp : r->target_vp != 0))
				return fail("MODIFYCHANNEL to VP %u: response relid %u status 0x%x",
					    vp, r->child_relid, r->target_vp);
			if (!vp)
				break;
			c.refused++;
		}
	}
	print("vmbus: bad messages ok refused=%u ignored=%u\n", c.refused, c.ignored);
	return true;
}

/* ---- packets the host must drop, and a ring it must stop reading ---- */

static u64 desc_word(u32 type, u32 off8, u32 len8, u32 flags)
{
	return (u64)type | (u64)off8 << 16 | (u64)len8 << 32 | (u64)flags << 48;
}

/* Write a packet given as words (trailer not included) and publish it. */
static bool raw_write(const u64 *w, u32 n, const char *what)
{
	u32 start = c.send.priv, pos = start, total = n * 8 + PKT_TRAILER;

	if (!send_room(total))
		return c.failed ? false : fail("%s: no room in the send ring", what);
	for (u32 i = 0; i < n; i++)
		put(&c.send, &pos, w[i]);
	put(&c.send, &pos, (u64)start << 32);
	if (start + total >= c.send.size)
		c.send.wraps++;
	c.send.priv = pos;
	send_publish(start);
	return true;
}

/* Drain the receive ring for a few milliseconds. */
static bool drain_quiet(void)
{
	u64 end = rdtsc() + c.hz / 1000 * QUIET_MS;

	while (rdtsc() < end && !c.failed)
		if (!recv_drain())
			wait();
	return !c.failed;
}

/*
 * Packets the host must drop (each a log line there), all but one asking
 * for a completion: GPA_DIRECT with a PFN outside RAM, with no ranges, with
 * an offset past its page, with more external data than the channel takes;
 * in-band data over the channel's maximum; a transfer-page packet; a
 * completion for a transaction the host never started. None may be echoed;
 * an (empty) completion is allowed. The `after` phase then shows the
 * channel goes on.
 */
static bool bad_packets(void)
{
	static u64 w[2 + OVERSIZE_INBAND / 8];
	u32 k = 0, n;
	u64 pfn = EXT_POOL_GPA >> PAGE_SHIFT;

	c.bad_sent = c.bad_comp_wanted = c.bad_completed = 0;
#define BAD(words, comp, what)                                                                     \
	do {                                                                                       \
		w[1] = BAD_TID_BASE + k;                                                           \
		c.bad_sent |= 1u << k;                                                             \
		c.bad_comp_wanted |= (comp) ? 1u << k : 0;                                         \
		if (!raw_write(w, (words), what))                                                  \
			return false;                                                              \
		k++;                                                                               \
	} while (0)
	/* GPA_DIRECT: descriptor, (reserved, range count), then ranges with their PFNs. */
	w[0] = desc_word(PKT_DATA_GPA_DIRECT, 5, 5, PKT_FLAG_COMPLETION);
	w[2] = 1ul << 32;
	w[3] = PAGE_SIZE;
	w[4] = PFN_OUTSIDE_RAM;
	BAD(5, true, "GPA_DIRECT with a PFN outside RAM");
	w[0] = desc_word(PKT_DATA_GPA_DIRECT, 3, 3, PKT_FLAG_COMPLETION);
	w[2] = 0;
	BAD(3, true, "GPA_DIRECT with no ranges");
	w[0] = desc_word(PKT_DATA_GPA_DIRECT, 5, 5, PKT_FLAG_COMPLETION);
	w[2] = 1ul << 32;
	w[3] = 8 | PAGE_SIZE << 32;
	w[4] = pfn;
	BAD(5, true, "GPA_DIRECT with an offset past its page");
	n = 4 + TOO_MUCH_EXT_PAGES;
	w[0] = desc_word(PKT_DATA_GPA_DIRECT, n, n, PKT_FLAG_COMPLETION);
	w[3] = TOO_MUCH_EXT_PAGES * PAGE_SIZE;
	for (u32 i = 0; i < TOO_MUCH_EXT_PAGES; i++)
		w[4 + i] = pfn + i;
	BAD(n, true, "GPA_DIRECT with too much external data");
	n = 2 + OVERSIZE_INBAND / 8;
	w[0] = desc_word(PKT_DATA_INBAND, 2, n, PKT_FLAG_COMPLETION);
	for (u32 i = 2; i < n; i++)
		w[i] = BAD_TID_BASE + k; /* an echo of it would carry its tag */
	BAD(n, true, "in-band data over the channel's maximum");
	w[0] = desc_word(PKT_DATA_XFER_PAGES, 2, 3, PKT_FLAG_COMPLETION);
	w[2] = 0;
	BAD(3, true, "a transfer-page packet");
	w[0] = desc_word(PKT_COMP, 2, 3, 0);
	BAD(3, false, "a completion for no transaction");
#undef BAD
	if (!drain_quiet())
		return false;
	for (n = 0; c.bad_comp_wanted; c.bad_comp_wanted &= c.bad_comp_wanted - 1)
		n++;
	print("vmbus: bad packets ok dropped=%u completed=%u uncompleted=%u\n", k, c.bad_completed,
	      n);
	c.bad_sent = 0;
	return true;
}

/*
 * A packet whose length runs past what was written: the host must stop
 * reading the ring (the channel's state shows `error`) and hurt nobody; a
 * packet after it gets no echo. Closing the channel ends it.
 */
static bool broken_ring(void)
{
	u64 w[3] = {desc_word(PKT_DATA_INBAND, 2, MALFORMED_LEN8, 0), BAD_TID_BASE, 0};
	u32 at = c.send.priv, read;

	c.bad_sent = 1; /* an echo of either would carry BAD_TID_BASE */
	if (!raw_write(w, 3, "a malformed packet"))
		return false;
	w[0] = desc_word(PKT_DATA_INBAND, 2, 3, PKT_FLAG_COMPLETION);
	if (!raw_write(w, 3, "a packet after it") || !drain_quiet())
		return false;
	signal_host(); /* again: the host must still not read */
	if (!drain_quiet())
		return false;
	read = c.send.ctl->read_index;
	if (read != at)
		return fail("malformed packet at 0x%x: the host read on to 0x%x", at, read);
	c.bad_sent = 0;
	print("vmbus: broken ring ok stopped_at=0x%x\n", at);
	return true;
}

/* ---- the message queues, and a channel closed and opened again ---- */

static void gpadl_one_page(u64 *buf, u32 id)
{
	struct msg_gpadl_header *h = (void *)buf;

	memset(buf, 0, VMBUS_MSG_MAX);
	*h = (struct msg_gpadl_header){{MSG_GPADL_HEADER, 0}, c.relid, id,
				       ONE_PAGE_BUFLEN,	      1,       {PAGE_SIZE, 0}};
	*(u64 *)(h + 1) = EXTRA_GPADL_GPA >> PAGE_SHIFT;
}

/*
 * Messages faster than we read the answers: one-page GPADLs posted with the
 * slot left full until HvPostMessage says the queue is (INSUFFICIENT_BUFFERS),
 * then every GPADL_CREATED must come, in order; more GPADLs one by one until
 * the host refuses one (its per-channel limit) or FLOOD_MAX; then the
 * teardowns the same way, retrying a refused post after taking one answer.
 */
static bool flood(void)
{
	u64 buf[VMBUS_MSG_MAX / 8], st = 0;
	const struct msg_gpadl_torndown *t = (const void *)buf;
	u32 posted = 0, made, answered = 0, busy = 0;

	for (; posted < FLOOD_MAX; posted++) {
		gpadl_one_page(buf, FLOOD_GPADL_ID + posted);
		st = post_raw(c.msg_conn, VMBUS_MESSAGE_TYPE, buf,
			      sizeof(struct msg_gpadl_header) + 8);
		if (st == HV_STATUS_INSUFFICIENT_BUFFERS)
			break;
		if (st != HV_STATUS_SUCCESS)
			return fail("flood: GPADL_HEADER %u: HvPostMessage status 0x%lx", posted,
				    st);
	}
	busy = posted;
	for (u32 i = 0; i < posted; i++)
		if (!expect_created(c.relid, FLOOD_GPADL_ID + i, true, "flood: GPADL_HEADER"))
			return false;
	for (made = posted; made < FLOOD_MAX; made++) {
		struct msg_gpadl_created *r = (void *)buf;

		gpadl_one_page(buf, FLOOD_GPADL_ID + made);
		if (!post(buf, sizeof(struct msg_gpadl_header) + 8, "GPADL_HEADER") ||
		    !expect(buf, MSG_GPADL_CREATED, sizeof(*r), "GPADL_HEADER"))
			return false;
		if (r->gpadl != FLOOD_GPADL_ID + made)
			return fail("GPADL_CREATED for 0x%x, want 0x%x", r->gpadl,
				    FLOOD_GPADL_ID + made);
		if (r->status)
			break; /* the host's limit */
	}
	for (u32 i = 0; i < made; i++) {
		struct msg_gpadl_teardown td = {
		    {MSG_GPADL_TEARDOWN, 0}, c.relid, FLOOD_GPADL_ID + i};

		while ((st = post_raw(c.msg_conn, VMBUS_MESSAGE_TYPE, &td, sizeof(td))) ==
		       HV_STATUS_INSUFFICIENT_BUFFERS) {
			if (answered == i)
				return fail("flood: GPADL_TEARDOWN refused with nothing to answer");
			if (!expect(buf, MSG_GPADL_TORNDOWN, sizeof(*t), "flood: GPADL_TEARDOWN"))
				return false;
			if (t->gpadl != FLOOD_GPADL_ID + answered)
				return fail("flood: GPADL_TORNDOWN for 0x%x, want 0x%x", t->gpadl,
					    FLOOD_GPADL_ID + answered);
			answered++;
		}
		if (st != HV_STATUS_SUCCESS)
			return fail("flood: GPADL_TEARDOWN %u: HvPostMessage status 0x%lx", i, st);
	}
	for (; answered < made; answered++) {
		if (!expect(buf, MSG_GPADL_TORNDOWN, sizeof(*t), "flood: GPADL_TEARDOWN"))
			return false;
		if (t->gpadl != FLOOD_GPADL_ID + answered)
			return fail("flood: GPADL_TORNDOWN for 0x%x, want 0x%x", t->gpadl,
				    FLOOD_GPADL_ID + answered);
	}
	if (busy == FLOOD_MAX)
		print("vmbus: flood posted=%u busy=none gpadls=%u torn_down=%u ok\n", posted, made,
		      answered);
	else
		print("vmbus: flood posted=%u busy=%u gpadls=%u torn_down=%u ok\n", posted,
		      busy + 1, made, answered);
	return true;
}

/*
 * The ring GPADL torn down while the channel is open: the answer waits for
 * the close. The channel then opens again over a new GPADL of the same
 * pages (after refusals: the old GPADL, rings split outside it), its rings
 * going on from the indices where they stopped.
 */
static bool reopen(void)
{
	u64 buf[VMBUS_MSG_MAX / 8];
	const struct msg_gpadl_torndown *t = (const void *)buf;
	struct msg_gpadl_teardown td = {{MSG_GPADL_TEARDOWN, 0}, c.relid, c.ring_gpadl};
	u32 old = c.ring_gpadl, bodies = 0;
	static const u32 bad_splits[] = {0, 1, RING_PAGES - 1, RING_PAGES + 5};
	struct msg_open m;

	if (!post(&td, sizeof(td), "GPADL_TEARDOWN of the open ring") ||
	    !barrier("GPADL_TEARDOWN of the open ring") || !channel_close() ||
	    !expect(buf, MSG_GPADL_TORNDOWN, sizeof(*t), "CLOSECHANNEL after GPADL_TEARDOWN"))
		return false;
	if (t->gpadl != old)
		return fail("GPADL_TORNDOWN for 0x%x, want 0x%x", t->gpadl, old);
	open_msg(&m, c.relid, BAD_OPEN_ID + 3, old, SEND_PAGES);
	if (!post(&m, sizeof(m), "OPENCHANNEL over a torn-down GPADL") ||
	    !expect_open_result(c.relid, BAD_OPEN_ID + 3, false,
				"OPENCHANNEL over a torn-down GPADL"))
		return false;
	c.ring_gpadl = RING2_GPADL_ID;
	if (!gpadl_create(c.ring_gpadl, RING_GPA, RING_PAGES, &bodies))
		return false;
	for (u32 i = 0; i < sizeof(bad_splits) / sizeof(bad_splits[0]); i++) {
		open_msg(&m, c.relid, BAD_OPEN_ID + 4 + i, c.ring_gpadl, bad_splits[i]);
		if (!post(&m, sizeof(m), "OPENCHANNEL with a bad ring split") ||
		    !expect_open_result(c.relid, BAD_OPEN_ID + 4 + i, false,
					"OPENCHANNEL with a bad ring split"))
			return false;
	}
	if (!channel_open(false))
		return false;
	print("vmbus: reopen gpadl=0x%x send_index=0x%x recv_index=0x%x ok\n", c.ring_gpadl,
	      c.send.priv, c.recv.priv);
	return true;
}

/* After UNLOAD: a message before contact has no answer, an unknown version is refused,
 * and an older protocol (4.1, connection id 1) connects and unloads again. */
static bool reconnect(void)
{
	struct msg_hdr h = {MSG_REQUESTOFFERS, 0};
	bool accepted = true;
	u32 relid = 0, conn = 0;

	if (!post(&h, sizeof(h), "REQUESTOFFERS before INITIATE_CONTACT") ||
	    !initiate(BOGUS_VERSION, &accepted))
		return false;
	if (accepted)
		return fail("INITIATE_CONTACT: version %u.%u accepted", BOGUS_VERSION >> 16,
			    BOGUS_VERSION & 0xffff);
	if (!initiate(OLD_VERSION, &accepted))
		return false;
	if (!accepted)
		return fail("INITIATE_CONTACT: version %u.%u refused", OLD_VERSION >> 16,
			    OLD_VERSION & 0xffff);
	if (!request_offers(&relid, &conn))
		return false;
	if (relid != c.relid || conn != c.conn_id)
		return fail("reconnected: echo relid %u connection 0x%x, was %u 0x%x", relid, conn,
			    c.relid, c.conn_id);
	if (!unload())
		return false;
	print("vmbus: reconnect refused=%u.%u version=%u.%u connection=%u offers=%u unload ok\n",
	      BOGUS_VERSION >> 16, BOGUS_VERSION & 0xffff, OLD_VERSION >> 16, OLD_VERSION & 0xffff,
	      c.msg_conn, c.offers);
	return true;
}

/*
 * The baseline: the stream's packets generated, copied out into a ring-sized
 * buffer and back, and checked, as the client does with echoes, with no
 * VMBus in between.
 */
static void baseline(void)
{
	u8 *ring = (u8 *)BASELINE_GPA;
	u64 t0 = rdtsc(), bytes = 0, bad = 0;
	u32 at = 0;
	struct plan p;

	for (u64 seq = c.stream_first; seq < c.stream_first + c.stream_count; seq++) {
		u32 n;

		plan(seq, KIND_INBAND, &p);
		n = ALIGN8(p.len);
		for (u32 k = 0; k * 8 < n; k++)
			stage[k] = want_word(seq, k, p.len);
		if (at + n > BASELINE_SIZE)
			at = 0;
		memcpy(ring + at, stage, n);
		for (u32 copies = p.comp ? 2 : 1; copies--;) {
			memcpy(stage, ring + at, n);
			for (u32 k = 0; k * 8 < n; k++)
				bad += stage[k] != want_word(seq, k, p.len);
		}
		at += n;
		bytes += p.len;
	}
	t0 = rdtsc() - t0;
	print("vmbus: baseline memcpy packets=%lu bytes=%lu ms=%lu per_s=%lu%s\n", c.stream_count,
	      bytes, ms_of(t0), t0 ? c.stream_count * c.hz / t0 : 0, bad ? " MISMATCH" : "");
}

/* ---- the command ---- */

static bool setup(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE), apic_hz = 0, id = 0;
	u32 need = HV_PRIV_SYNIC | HV_PRIV_HYPERCALL | HV_PRIV_FREQUENCY;
	u32 size;
	u64 buf[VMBUS_MSG_MAX / 8], quiet;

	if (!hyperv || (hv_feat[0] & need) != need ||
	    (hv_feat[1] & (HV_PRIV_POST_MESSAGES | HV_PRIV_SIGNAL_EVENTS)) !=
		(HV_PRIV_POST_MESSAGES | HV_PRIV_SIGNAL_EVENTS))
		return fail("no Hyper-V SynIC, hypercalls and frequency MSRs (0x40000003 "
			    "eax=0x%x ebx=0x%x)",
			    hv_feat[0], hv_feat[1]);
	if (!rdmsr_safe(HV_MSR_TSC_FREQUENCY, &c.hz) || !c.hz)
		return fail("TSC_FREQUENCY reads 0 or #GP");
	c.t_begin = rdtsc();
	c.limit = c.t_begin + c.hz / 1000 * RUN_LIMIT_MS;
	/* Hypercalls need a guest OS id (the hv checks set one; a skipped check did not). */
	if (rdmsr_safe(HV_MSR_GUEST_OS_ID, &id) && !id)
		wrmsr_safe(HV_MSR_GUEST_OS_ID, TESTGUEST_OS_ID);
	memset((void *)SIEFP_GPA, 0, PAGE_SIZE);
	if (!wrmsr_safe(HV_MSR_SCONTROL, HV_MSR_ENABLE) ||
	    !wrmsr_safe(HV_MSR_SIEFP, SIEFP_GPA | HV_MSR_ENABLE) ||
	    !wrmsr_safe(HV_MSR_SIMP, SIMP_GPA | HV_MSR_ENABLE) ||
	    !wrmsr_safe(HV_MSR_SINT0 + VMBUS_SINT, VEC_VMBUS))
		return fail("SynIC set-up: #GP");
	/* Waits end by the x2APIC timer (one-shot), if there is an x2APIC. */
	c.apic = (base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD) &&
		 rdmsr_safe(HV_MSR_APIC_FREQUENCY, &apic_hz) && apic_hz;
	if (c.apic) {
		c.wait_ticks = (u32)(apic_hz / (1000000 / WAIT_US));
		if (!c.wait_ticks)
			c.wait_ticks = 1;
		c.saved_lvt = rdmsr(X2APIC_LVT_TIMER);
		wrmsr(X2APIC_SVR, SVR_ENABLE_SPURIOUS);
		wrmsr(X2APIC_TIMER_DIVIDE, DIVIDE_BY_1);
		wrmsr(X2APIC_TIMER_INITIAL, 0);
		wrmsr(X2APIC_LVT_TIMER, VEC_TIMER);
	}
	/* Whatever an earlier run left in the slot goes. */
	quiet = rdtsc() + c.hz / 1000 * QUIET_MS;
	while (rdtsc() < quiet)
		if (msg_take(buf, &size))
			quiet = rdtsc() + c.hz / 1000 * QUIET_MS;
	return true;
}

static void teardown_synic(void)
{
	wrmsr_safe(HV_MSR_SINT0 + VMBUS_SINT, HV_SINT_MASKED);
	if (c.apic) {
		wrmsr(X2APIC_TIMER_INITIAL, 0);
		wrmsr(X2APIC_LVT_TIMER, c.saved_lvt | LVT_MASKED);
	}
	/* An interrupt raised before the mask is taken now rather than at the next STI. */
	asm volatile("sti; nop; cli" ::: "memory");
}

static bool open_all(void)
{
	u32 bodies = 0;

	if (!connect() || !request_offers(&c.relid, &c.conn_id))
		return false;
	print("vmbus: version %u.%u offers=%u echo relid=%u connection=0x%x\n", c.version >> 16,
	      c.version & 0xffff, c.offers, c.relid, c.conn_id);
	c.ring_gpadl = RING_GPADL_ID;
	if (!gpadl_create(c.ring_gpadl, RING_GPA, RING_PAGES, &bodies) || !channel_open(true))
		return false;
	print("vmbus: open relid=%u gpadl=0x%x pages=%u bodies=%u send=%u recv=%u\n", c.relid,
	      c.ring_gpadl, RING_PAGES, bodies, c.send.size, c.recv.size);
	return true;
}

void vmbus_client(bool leave_open)
{
	bool ok;

	print("cmd: vmbus%s\n", leave_open ? " (leave open)" : "");
	memset(&c, 0, sizeof(c));
	memset(recs, 0, sizeof(recs));
	ok = setup() && open_all();
	c.stream_first = c.next_seq;
	c.stream_count = stream.count;
	ok = ok && phase_run(&stream) && phase_run(&gpa_direct) && phase_run(&fill) &&
	     bad_messages() && flood() && bad_packets() && phase_run(&after) && reopen() &&
	     phase_run(&again);
	if (ok && !leave_open) {
		ok = broken_ring() && channel_close() && gpadl_teardown(c.ring_gpadl) && unload();
		if (ok)
			print("vmbus: close teardown unload ok\n");
		ok = ok && reconnect();
	}
	if (ok) {
		u64 t = rdtsc() - c.t_begin;

		print("vmbus: echo ok packets=%lu bytes=%lu completions=%lu external=%lu "
		      "wraps=%u full=%lu signals=%lu",
		      c.n.packets, c.n.bytes, c.n.completions, c.n.external,
		      c.send.wraps + c.recv.wraps, c.n.full, c.n.signals);
		print_ratio("spp", c.n.signals, c.n.packets);
		print(" host_signals=%lu ms=%lu\n", c.n.host_signals, ms_of(t));
		if (leave_open)
			print("vmbus: channel left open relid=%u\n", c.relid);
		else
			baseline();
	} else if (c.connected && c.hz) {
		/* Best effort: leave the host with nothing open. */
		struct msg_hdr h = {MSG_UNLOAD, 0};
		u64 buf[VMBUS_MSG_MAX / 8];
		u32 size;

		if (post_raw(c.msg_conn, VMBUS_MESSAGE_TYPE, &h, sizeof(h)) == HV_STATUS_SUCCESS)
			while (msg_wait(buf, &size, 200) &&
			       ((struct msg_hdr *)buf)->type != MSG_UNLOAD_RESPONSE)
				;
	}
	if (c.hz)
		teardown_synic();
}

/* ---- hostile cases (README "Hostile commands") ---- */

#define USER_CALLS	      2	       /* VMCALL and VMMCALL */
#define HOSTILE_GPADL_ID      0x4e5700 /* + n: the headers that never get a body */
#define HOSTILE_HEADERS	      64       /* 64 x 64 KiB announced: 4 MiB of PFN lists */
#define HOSTILE_BUFLEN	      0xfff8   /* the most a u16 range_buflen holds, 8-aligned */
#define HOSTILE_PACKETS	      20000    /* packets asking for a completion, never read back */
#define HOSTILE_PKT_WORDS     8	       /* descriptor, transaction id, 40 bytes of data, trailer */
#define HOSTILE_TID	      0x4e57000000000000ul
#define HC_BULKHEAD_ECHO_USER 0x0fff		   /* Bulkhead's test call: RDX := ~RDX */
#define HC_ECHO_INPUT_USER    0x0123456789abcdeful /* RDX into it */

/* What the CPL-3 code saw, for each encoding: the echo call and an INITIATE_CONTACT. */
static struct {
	bool echo_ud[USER_CALLS], post_ud[USER_CALLS];
	u64 echo_rdx[USER_CALLS], echo_status[USER_CALLS], post_status[USER_CALLS];
} user_seen;

/* At CPL 3: no I/O, no printing, only the two hypercalls with each encoding. */
static void user_hypercalls(void)
{
	for (u32 i = 0; i < USER_CALLS; i++) {
		u64 rdx = HC_ECHO_INPUT_USER;

		user_seen.echo_status[i] =
		    hypercall_insn(i, HC_BULKHEAD_ECHO_USER, &rdx, 0, &user_seen.echo_ud[i]);
		user_seen.echo_rdx[i] = rdx;
		rdx = HC_INPUT_GPA;
		user_seen.post_status[i] =
		    hypercall_insn(i, HC_POST_MESSAGE, &rdx, 0, &user_seen.post_ud[i]);
	}
	user_exit();
}

/*
 * Hypercalls from user mode (TLFS 3.2: CPL 0 only): the echo call and an HvPostMessage
 * of INITIATE_CONTACT to the VMBus, with VMCALL and with VMMCALL, each must raise #UD
 * and change nothing: RDX as it was, no VERSION_RESPONSE. The same INITIATE_CONTACT
 * from CPL 0 then gets its answer (so the call would have had an effect), and UNLOAD.
 */
void vmbus_user_hypercalls(void)
{
	volatile struct hv_post_message_input *in =
	    (volatile struct hv_post_message_input *)HC_INPUT_GPA;
	struct msg_initiate m;
	u64 buf[VMBUS_MSG_MAX / 8], quiet;
	u32 size, ud = 0, messages = 0;
	bool accepted = false, unchanged = true;

	print("cmd: user-mode hypercalls\n");
	memset(&c, 0, sizeof(c));
	memset(&user_seen, 0, sizeof(user_seen));
	if (!setup())
		goto out;
	memset(&m, 0, sizeof(m));
	m.hdr.type = MSG_INITIATE_CONTACT;
	m.version = VERSION_V5_3;
	m.msg_sint = VMBUS_SINT;
	m.monitor_page1 = MONITOR1_GPA;
	m.monitor_page2 = MONITOR2_GPA;
	in->connection_id = CONN_MESSAGE_4;
	in->reserved = 0;
	in->message_type = VMBUS_MESSAGE_TYPE;
	in->payload_size = sizeof(m);
	memset((void *)in->payload, 0, VMBUS_MSG_MAX);
	memcpy((void *)in->payload, &m, sizeof(m));
	user_run(user_hypercalls);
	for (u32 i = 0; i < USER_CALLS; i++) {
		ud += user_seen.echo_ud[i] + user_seen.post_ud[i];
		unchanged = unchanged && user_seen.echo_rdx[i] == HC_ECHO_INPUT_USER &&
			    user_seen.echo_status[i] == HC_NO_STATUS &&
			    user_seen.post_status[i] == HC_NO_STATUS;
	}
	/* Nothing may answer the INITIATE_CONTACTs. */
	quiet = rdtsc() + c.hz / 1000 * MSG_TIMEOUT_MS / 4;
	while (rdtsc() < quiet)
		if (msg_take(buf, &size))
			messages++;
		else
			wait();
	print("hostile: user-mode hypercalls ud=%u/%u unchanged=%u messages=%u\n", ud,
	      2 * USER_CALLS, unchanged, messages);
	/* From CPL 0 the same message is served. */
	if (!initiate(VERSION_V5_3, &accepted))
		goto out;
	print("hostile: kernel-mode INITIATE_CONTACT answered accepted=%u\n", accepted);
	if (accepted && !unload())
		goto out;
	if (ud == 2 * USER_CALLS && unchanged && !messages && accepted)
		print("hostile: user-mode hypercalls ok\n");
	else
		print("hostile: user-mode hypercalls FAIL\n");
out:
	if (c.hz)
		teardown_synic();
}

/* Connected, with the echo channel's relid: what the GPADL and ring cases start from. */
static bool hostile_connect(void)
{
	memset(&c, 0, sizeof(c));
	memset(recs, 0, sizeof(recs));
	return setup() && connect() && request_offers(&c.relid, &c.conn_id);
}

/* A refusal of GPADL id among the answers waiting: GPADL_CREATED with a failure status. */
static bool headers_answered(u32 id, u32 *answers)
{
	u64 buf[VMBUS_MSG_MAX / 8];
	const struct msg_gpadl_created *r = (const void *)buf;
	bool refused = false;
	u32 size;

	while (msg_take(buf, &size)) {
		(*answers)++;
		if (r->hdr.type == MSG_GPADL_CREATED && r->gpadl == id && r->status)
			refused = true;
	}
	return refused;
}

/*
 * GPADL_HEADERs that announce many PFNs and hold none, and never a GPADL_BODY: each
 * would have the host keep room for them. range_buflen starts at 0xfff8 (8190 PFNs, the
 * most a header can announce) and halves each time the host refuses one, down to one
 * PFN, so that whatever room a host has for them is taken; at most HOSTILE_HEADERS. The
 * partition stays connected with the headers pending (no UNLOAD).
 */
void vmbus_gpadl_headers(void)
{
	u64 buf[VMBUS_MSG_MAX / 8], announced = 0;
	struct msg_gpadl_header h;
	u32 posted = 0, busy = 0, refused = 0, answers = 0, size, buflen = HOSTILE_BUFLEN;

	print("cmd: gpadl headers without bodies\n");
	if (!hostile_connect())
		goto out;
	for (u32 n = 0; n < HOSTILE_HEADERS && buflen >= 2 * sizeof(u64);) {
		u64 st;

		memset(&h, 0, sizeof(h));
		h.hdr.type = MSG_GPADL_HEADER;
		h.child_relid = c.relid;
		h.gpadl = HOSTILE_GPADL_ID + n;
		h.range_buflen = (u16)buflen;
		h.range_count = 1;
		h.range.byte_count = (buflen - sizeof(struct gpa_range)) / 8 * (u32)PAGE_SIZE;
		st = post_raw(c.msg_conn, VMBUS_MESSAGE_TYPE, &h, sizeof(h));
		if (st == HV_STATUS_INSUFFICIENT_BUFFERS && busy < HOSTILE_HEADERS) {
			busy++;
			wait();
			continue;
		}
		n++;
		if (st != HV_STATUS_SUCCESS) {
			refused++;
			break;
		}
		posted++;
		wait(); /* the host answers a refusal at once; give it the chance */
		if (headers_answered(h.gpadl, &answers)) {
			refused++;
			buflen = (buflen / 2) & ~7u; /* a multiple of 8, as the host wants */
		} else {
			announced += buflen;
		}
	}
	while (msg_wait(buf, &size, MSG_TIMEOUT_MS / 4))
		answers++;
	print("hostile: gpadl headers posted=%u busy=%u refused=%u answers=%u pending_bytes=%lu\n",
	      posted, busy, refused, answers, announced);
out:
	if (c.hz)
		teardown_synic();
}

/*
 * The echo channel opened, then in-band packets asking for a completion written as long
 * as the send ring has room, while the receive ring (echoes and completions) is never
 * read: the host can send nothing back. Ends after HOSTILE_PACKETS or when the host has
 * not read for STALL_MS; the channel stays open.
 */
void vmbus_ring_never_drained(void)
{
	u64 w[HOSTILE_PKT_WORDS - 1];
	u32 packets = 0, signals = 0;
	bool stalled_out = false;

	print("cmd: ring never drained\n");
	if (!hostile_connect())
		goto out;
	c.ring_gpadl = RING_GPADL_ID;
	{
		u32 bodies;

		if (!gpadl_create(c.ring_gpadl, RING_GPA, RING_PAGES, &bodies) ||
		    !channel_open(true))
			goto out;
	}
	progress();
	while (packets < HOSTILE_PACKETS) {
		w[0] = desc_word(PKT_DATA_INBAND, 2, HOSTILE_PKT_WORDS - 1, PKT_FLAG_COMPLETION);
		w[1] = HOSTILE_TID + packets;
		for (u32 k = 2; k < HOSTILE_PKT_WORDS - 1; k++)
			w[k] = mix(packets << 8 | k);
		if (send_room((HOSTILE_PKT_WORDS - 1) * 8 + PKT_TRAILER)) {
			u32 start = c.send.priv, pos = start;

			for (u32 k = 0; k < HOSTILE_PKT_WORDS - 1; k++)
				put(&c.send, &pos, w[k]);
			put(&c.send, &pos, (u64)start << 32);
			c.send.priv = pos;
			mb();
			c.send.ctl->write_index = pos;
			mb();
			packets++;
			progress();
			continue;
		}
		if (c.failed)
			goto out;
		signal_raw(c.conn_id);
		signals++;
		if (rdtsc() > c.deadline) {
			stalled_out = true;
			break;
		}
		wait();
	}
	signal_raw(c.conn_id);
	print("hostile: ring never drained packets=%u signals=%u stalled=%u recv_used=%u\n",
	      packets, signals, stalled_out,
	      used(&c.recv, c.recv.ctl->read_index, c.recv.ctl->write_index));
out:
	if (c.hz)
		teardown_synic();
}
