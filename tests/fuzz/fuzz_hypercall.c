/*
 * libFuzzer: hypercall input (kernel/hv_hypercall.c: control word,
 * HvPostMessage input page, HvSignalEvent input) and the SynIC it feeds
 * (kernel/synic.c), on arbitrary bytes. Input layout:
 *
 *   u64 control | u64 rdx | 256-byte HvPostMessage input page | u8 mode | ops...
 *
 * The parsers run on the first three; the checked message is posted and the
 * decoded event signalled into a SynIC whose SIMP and SIEF pages are two fake
 * guest pages between guard bytes; then each op byte (with its argument bytes)
 * acts as the guest (MSR writes, freeing slots, EOM, consuming flags) or as
 * the host (posts, signals, time passing). After every step the invariants
 * below must hold.
 */
#include <stdint.h>
#include <string.h>

#include "kernel/hv.h"

#define SIMP_GPA   0x1000ull
#define SIEF_GPA   0x2000ull
#define HOLE_GPA   0x7000ull /* not guest RAM: the page callback refuses it */
#define GUARD	   64
#define GUARD_BYTE 0xa5

/* mode bits */
#define MODE_ENABLE  0x01 /* start with the SynIC, both pages and every SINT on */
#define MODE_OVERLAP 0x02 /* SIMP and SIEFP may name the same page (a guest mistake) */
#define MODE_SINT(m) ((m) >> 4)

#define MAX_OPS 512 /* per input: keeps each run short */

/* Periods beyond this wrap the 64-bit deadline (see tests/unit/test_synic.c, known bug). */
#define SANE_COUNT (1ull << 62)

struct header {
	u64 control;
	u64 rdx;
	struct hv_post_message_input page;
	u8 mode;
} __packed;

static struct {
	u8 g0[GUARD];
	u8 simp[PAGE_SIZE];
	u8 g1[GUARD];
	u8 sief[PAGE_SIZE];
	u8 g2[GUARD];
} mem;

static struct synic syn;
static u64 raises;

static const u8 *in_cur, *in_end;
static bool overlap;
static u64 now;

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static void *fake_page(void *ctx, u64 gpa)
{
	check(ctx == &syn);
	check(!(gpa & ~PAGE_MASK));
	if (gpa == SIMP_GPA)
		return mem.simp;
	if (gpa == SIEF_GPA)
		return mem.sief;
	return NULL;
}

static void fake_raise(void *ctx, u8 vector)
{
	check(ctx == &syn);
	raises++;
}

/* Next n argument bytes, little endian; zeros once the input is used up. */
static u64 take(unsigned n)
{
	u64 v = 0;

	for (unsigned i = 0; i < n && in_cur < in_end; i++)
		v |= (u64)*in_cur++ << (8 * i);
	return v;
}

static bool guards_intact(void)
{
	for (unsigned i = 0; i < GUARD; i++)
		if (mem.g0[i] != GUARD_BYTE || mem.g1[i] != GUARD_BYTE || mem.g2[i] != GUARD_BYTE)
			return false;
	return true;
}

static bool on(u64 msr)
{
	return msr & HV_MSR_ENABLE;
}

/* Host address the guest would see at an overlay MSR's GPA, or NULL. */
static u8 *guest_view(u64 msr)
{
	return fake_page(&syn, msr & HV_MSR_GPA_MASK);
}

static bool is_status(int st, const int *set, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (st == set[i])
			return true;
	return false;
}

/* ---- the parsers ---- */

static void run_parsers(const struct header *h, struct hv_message *msg, bool *have_msg, u16 *flag,
			bool *have_flag)
{
	static const int call_st[] = {HV_STATUS_SUCCESS, HV_STATUS_INVALID_HYPERCALL_INPUT};
	static const int input_st[] = {HV_STATUS_SUCCESS, HV_STATUS_INVALID_PARAMETER};
	const struct hv_post_message_input *in = &h->page;
	struct hv_call c;
	u64 slow_input;
	u32 conn;
	int st;

	st = hv_call_decode(h->control, &c);
	check(is_status(st, call_st, 2));
	check(c.code == (h->control & HV_HC_CODE_MASK));
	check(c.fast == !!(h->control & HV_HC_FAST));
	check(c.varhead == ((h->control >> HV_HC_VARHEAD_SHIFT) & HV_HC_VARHEAD_MASK));
	check(c.rep_count == ((h->control >> HV_HC_REP_COUNT_SHIFT) & HV_HC_REP_COUNT_MASK));
	check(c.rep_start == ((h->control >> HV_HC_REP_START_SHIFT) & HV_HC_REP_START_MASK));
	/* Reserved bits 31:27, 47:44, 63:60 decide the status, nothing else does. */
	check((st == HV_STATUS_SUCCESS) == !(h->control & 0xf000f000f8000000ull));

	st = hv_post_message_check(in);
	check(is_status(st, input_st, 2));
	*have_msg = st == HV_STATUS_SUCCESS;
	if (*have_msg) {
		check(in->payload_size <= HV_MESSAGE_PAYLOAD_MAX);
		check(in->message_type != HV_MESSAGE_NONE);
		check(!(in->message_type & HV_MESSAGE_TYPE_HYPERVISOR));
		memset(msg, 0, sizeof(*msg));
		msg->type = in->message_type;
		msg->payload_size = (u8)in->payload_size;
		msg->sender = in->connection_id;
		memcpy(msg->payload, in->payload, in->payload_size);
	} else {
		check(in->payload_size > HV_MESSAGE_PAYLOAD_MAX ||
		      in->message_type == HV_MESSAGE_NONE ||
		      (in->message_type & HV_MESSAGE_TYPE_HYPERVISOR));
	}

	/* Fast (RDX) and slow (the first 8 bytes of the input page) HvSignalEvent. */
	memcpy(&slow_input, in, sizeof(slow_input));
	for (unsigned i = 0; i < 2; i++) {
		u64 input = i ? slow_input : h->rdx;
		u16 f;

		st = hv_signal_event_decode(input, &conn, &f);
		check(is_status(st, input_st, 2));
		check(conn == (u32)input);
		check(f == ((input >> HV_SIGNAL_FLAG_SHIFT) & HV_SIGNAL_FLAG_MASK));
		check((st == HV_STATUS_SUCCESS) ==
		      (!(input >> HV_SIGNAL_RESERVED_SHIFT) && f < HV_EVENT_FLAGS_COUNT));
		if (i == 0) {
			*flag = f;
			*have_flag = st == HV_STATUS_SUCCESS;
		}
	}
}

/* ---- the SynIC ---- */

static int post(unsigned sint, const struct hv_message *m)
{
	static const int post_st[] = {HV_STATUS_SUCCESS, HV_STATUS_INVALID_PARAMETER,
				      HV_STATUS_INSUFFICIENT_BUFFERS};
	unsigned before = sint < HV_SINT_COUNT ? syn.queue[sint].count : 0;
	int st = synic_post(&syn, sint, m);

	check(is_status(st, post_st, 3));
	check((st == HV_STATUS_INVALID_PARAMETER) ==
	      (sint >= HV_SINT_COUNT || m->payload_size > HV_MESSAGE_PAYLOAD_MAX));
	if (st == HV_STATUS_INSUFFICIENT_BUFFERS)
		check(before == SYNIC_QUEUE_LEN && syn.queue[sint].count == SYNIC_QUEUE_LEN);
	return st;
}

static void signal_event(unsigned sint, unsigned flag)
{
	int st = synic_signal(&syn, sint, flag);

	check(st == HV_STATUS_SUCCESS || st == HV_STATUS_INVALID_PARAMETER);
	check((st == HV_STATUS_INVALID_PARAMETER) ==
	      (sint >= HV_SINT_COUNT || flag >= HV_EVENT_FLAGS_COUNT));
	if (st == HV_STATUS_SUCCESS && on(syn.scontrol) && on(syn.siefp) && guest_view(syn.siefp))
		check(guest_view(syn.siefp)[sint * HV_EVENT_FLAGS_BYTES + flag / 8] &
		      (1u << (flag % 8)));
}

/* The SynIC MSRs, and a few indexes it must refuse (holes, and one outside its range). */
static const u32 refused[] = {0x40000085, 0x400000a0, 0x400000b8, 0x40000000};
#define NR_MSR_CHOICES (5 + HV_SINT_COUNT + 2 * HV_STIMER_COUNT + ARRAY_SIZE(refused))

static u32 pick_msr(u64 b)
{
	static const u32 first[] = {HV_MSR_SCONTROL, HV_MSR_SVERSION, HV_MSR_SIEFP, HV_MSR_SIMP,
				    HV_MSR_EOM};

	b %= NR_MSR_CHOICES;
	if (b < 5)
		return first[b];
	b -= 5;
	if (b < HV_SINT_COUNT)
		return HV_MSR_SINT0 + (u32)b;
	b -= HV_SINT_COUNT;
	if (b < 2 * HV_STIMER_COUNT)
		return HV_MSR_STIMER0_CONFIG + (u32)b;
	return refused[b - 2 * HV_STIMER_COUNT];
}

static bool is_refused(u32 msr)
{
	for (unsigned i = 0; i < ARRAY_SIZE(refused); i++)
		if (msr == refused[i])
			return true;
	return false;
}

/* Overlay MSR values: a real page, the other page (overlap mode only) or no RAM. */
static u64 overlay_value(u32 msr, u64 raw)
{
	u64 own = msr == HV_MSR_SIMP ? SIMP_GPA : SIEF_GPA;
	u64 other = msr == HV_MSR_SIMP ? SIEF_GPA : SIMP_GPA;
	u64 choice = (raw >> 12) % 3;
	u64 gpa = choice == 0 ? own : choice == 1 && overlap ? other : HOLE_GPA;

	return gpa | (raw & ~HV_MSR_GPA_MASK);
}

static void msr_write(u32 msr, u64 val)
{
	bool ok;
	u64 back;

	if (msr == HV_MSR_SIMP || msr == HV_MSR_SIEFP)
		val = overlay_value(msr, val);
	ok = synic_msr_write(&syn, msr, now, val);
	if (msr == HV_MSR_SVERSION || is_refused(msr))
		check(!ok);
	if (msr >= HV_MSR_SINT0 && msr <= HV_MSR_SINT15) {
		bool valid = !(val & ~HV_SINT_BITS) &&
			     ((val & HV_SINT_MASKED) || (val & HV_SINT_VECTOR_MASK) >= 16);

		check(ok == valid);
		check(synic_msr_read(&syn, msr, now, &back));
		if (ok)
			check(back == val);
	}
	if (msr == HV_MSR_SIMP || msr == HV_MSR_SIEFP) {
		bool valid = !(val & ~(HV_MSR_GPA_MASK | HV_MSR_ENABLE)) &&
			     (!on(val) || (val & HV_MSR_GPA_MASK) != HOLE_GPA);

		check(ok == valid);
	}
	if (msr >= HV_MSR_STIMER0_CONFIG && msr <= HV_MSR_STIMER3_COUNT &&
	    !((msr - HV_MSR_STIMER0_CONFIG) & 1))
		check(ok == !(val & ~HV_STIMER_BITS));
}

/* Timers with small counts and sane config, so that they fire within an input. */
static void timer_program(unsigned i, u64 count, u64 cfg)
{
	u32 base = HV_MSR_STIMER0_CONFIG + 2 * i;

	cfg = (cfg & HV_STIMER_BITS) | HV_STIMER_ENABLE;
	if (!(cfg & HV_STIMER_PERIODIC))
		count += now; /* one-shot counts are absolute */
	check(synic_msr_write(&syn, base + 1, now, count));
	check(synic_msr_write(&syn, base, now, cfg));
}

/* ---- invariants ---- */

static u8 simp_before[PAGE_SIZE], sief_before[PAGE_SIZE];
static u64 posted_before, raises_before, expirations_before[HV_STIMER_COUNT];
static u64 sint_before[HV_SINT_COUNT];

static void snapshot(void)
{
	memcpy(sint_before, syn.sint, sizeof(sint_before));
	memcpy(simp_before, mem.simp, PAGE_SIZE);
	memcpy(sief_before, mem.sief, PAGE_SIZE);
	posted_before = syn.posted;
	raises_before = raises;
	for (unsigned i = 0; i < HV_STIMER_COUNT; i++)
		expirations_before[i] = syn.timer[i].expirations;
}

/* Event flags the last step set in SINTs that interrupt (on and unmasked). */
static u64 new_flags(void)
{
	u64 n = 0;

	if (!memcmp(sief_before, mem.sief, PAGE_SIZE) || !on(syn.scontrol))
		return 0;
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		if (!(syn.sint[i / HV_EVENT_FLAGS_BYTES] & HV_SINT_MASKED))
			n += (u64)__builtin_popcount(mem.sief[i] & ~sief_before[i]);
	return n;
}

/* One interrupt per delivered message, per newly set flag, per direct-mode expiration. */
/*
 * SINTs this step unmasked (SynIC on) whose event slot already held flags: each
 * interrupts once, so that flags signalled while it was masked are not lost.
 */
static u64 unmasked_with_flags(void)
{
	const u8 *sief = guest_view(syn.siefp); /* may be the SIMP page: the guest's choice */
	u64 n = 0;

	if (!on(syn.scontrol) || !on(syn.siefp) || !sief)
		return 0;
	for (unsigned i = 0; i < HV_SINT_COUNT; i++) {
		const u8 *slot = sief + i * HV_EVENT_FLAGS_BYTES;
		bool any = false;

		if (!(sint_before[i] & HV_SINT_MASKED) || (syn.sint[i] & HV_SINT_MASKED))
			continue;
		for (unsigned b = 0; b < HV_EVENT_FLAGS_BYTES && !any; b++)
			any = slot[b];
		n += any;
	}
	return n;
}

static bool interrupts_add_up(void)
{
	u64 want = (syn.posted - posted_before) + new_flags() + unmasked_with_flags();

	for (unsigned i = 0; i < HV_STIMER_COUNT; i++)
		if (syn.timer[i].config & HV_STIMER_DIRECT)
			want += syn.timer[i].expirations - expirations_before[i];
	return raises - raises_before == want;
}

/* Enabled overlay (SCONTROL on) at the page p? */
static bool maps(u64 msr, const u8 *p)
{
	return on(syn.scontrol) && on(msr) && guest_view(msr) == p;
}

static void check_invariants(void)
{
	check(guards_intact());
	check(syn.posted >= posted_before);
	for (unsigned i = 0; i < HV_SINT_COUNT; i++) {
		check(syn.queue[i].count <= SYNIC_QUEUE_LEN);
		check(syn.queue[i].head < SYNIC_QUEUE_LEN);
		for (unsigned k = 0; k < syn.queue[i].count; k++) {
			const struct hv_message *q =
			    &syn.queue[i].msg[(syn.queue[i].head + k) % SYNIC_QUEUE_LEN];

			check(q->payload_size <= HV_MESSAGE_PAYLOAD_MAX);
		}
	}
	for (unsigned i = 0; i < HV_STIMER_COUNT; i++) {
		const struct stimer *t = &syn.timer[i];

		if (t->armed)
			check((t->config & HV_STIMER_ENABLE) && t->count);
		check(!(t->config & ~HV_STIMER_BITS));
	}
	/* A page changes only while it is an enabled overlay. */
	if (memcmp(simp_before, mem.simp, PAGE_SIZE))
		check(maps(syn.simp, mem.simp) || maps(syn.siefp, mem.simp));
	if (memcmp(sief_before, mem.sief, PAGE_SIZE))
		check(maps(syn.simp, mem.sief) || maps(syn.siefp, mem.sief));
	if (overlap)
		return;
	/* The SynIC only sets event flags; the guest clears them. */
	if (memcmp(sief_before, mem.sief, PAGE_SIZE))
		for (unsigned i = 0; i < PAGE_SIZE; i++)
			check(!(sief_before[i] & ~mem.sief[i]));
	check(interrupts_add_up());
	for (unsigned i = 0; i < HV_SINT_COUNT; i++) {
		const struct hv_message *s =
		    (const struct hv_message *)(mem.simp + i * HV_MESSAGE_SIZE);

		if (s->type == HV_MESSAGE_NONE)
			continue;
		/* Everything in a slot came from the SynIC: never more than 240 bytes. */
		check(s->payload_size <= HV_MESSAGE_PAYLOAD_MAX);
		if (s->type == HV_MESSAGE_TIMER_EXPIRED) {
			struct hv_timer_message tm;

			memcpy(&tm, s->payload, sizeof(tm));
			check(s->payload_size == sizeof(tm));
			check(tm.timer_index < HV_STIMER_COUNT);
			check(tm.expiration_time <= tm.delivery_time);
		} else {
			check(!(s->type & HV_MESSAGE_TYPE_HYPERVISOR));
		}
		/* Messages wait behind a busy slot: it must ask the guest for an EOM. */
		if (syn.queue[i].count && maps(syn.simp, mem.simp) &&
		    !(syn.sint[i] & HV_SINT_MASKED))
			check(s->flags & HV_MESSAGE_FLAG_PENDING);
	}
}

static void check_after_tick(void)
{
	u64 next = synic_next_deadline(&syn);

	for (unsigned i = 0; i < HV_STIMER_COUNT; i++) {
		const struct stimer *t = &syn.timer[i];

		if (!t->armed)
			continue;
		check(next <= t->deadline);
		/* Everything due has expired: what is still armed lies ahead. */
		if (t->count < SANE_COUNT)
			check(t->deadline > now);
	}
}

/* ---- ops ---- */

enum op {
	OP_POST,
	OP_POST_RAW,
	OP_SIGNAL,
	OP_GUEST_FREE,
	OP_EOM,
	OP_WRMSR,
	OP_RDMSR,
	OP_TICK,
	OP_GUEST_CLEAR_FLAGS,
	OP_AUTO_EOI,
	OP_TIMER,
	NR_OPS
};

static void guest_free(unsigned sint, bool eom)
{
	u8 *page = on(syn.simp) ? guest_view(syn.simp) : NULL;
	struct hv_message *s;

	if (!page)
		return;
	s = (struct hv_message *)(page + sint * HV_MESSAGE_SIZE);
	s->type = HV_MESSAGE_NONE;
	snapshot(); /* the guest's own write */
	/* A Linux guest writes EOM when MessagePending is set; others may not. */
	if (eom && (s->flags & HV_MESSAGE_FLAG_PENDING))
		check(synic_msr_write(&syn, HV_MSR_EOM, now, 0));
}

static void run_op(u8 op, const struct header *h, const struct hv_message *checked, bool have_msg)
{
	struct hv_message m;
	u64 v;

	switch (op % NR_OPS) {
	case OP_POST:
		if (have_msg)
			post((unsigned)take(1) % (HV_SINT_COUNT + 2), checked);
		break;
	case OP_POST_RAW: /* any size and SINT, a guest-style type */
		m = *checked;
		m.type = (h->page.message_type & ~HV_MESSAGE_TYPE_HYPERVISOR) | 1;
		m.payload_size = (u8)take(1);
		m.sender = take(2);
		post((unsigned)take(1), &m);
		break;
	case OP_SIGNAL:
		v = take(1);
		signal_event((unsigned)v % (HV_SINT_COUNT + 2), (unsigned)take(2));
		break;
	case OP_GUEST_FREE:
		v = take(1);
		guest_free(v & 0xf, v & 0x10);
		break;
	case OP_EOM:
		check(synic_msr_write(&syn, HV_MSR_EOM, now, take(8)));
		break;
	case OP_WRMSR:
		v = take(1);
		msr_write(pick_msr(v), take(8));
		break;
	case OP_RDMSR: {
		u32 msr = pick_msr(take(1));
		bool ok = synic_msr_read(&syn, msr, now, &v);

		check(ok == !is_refused(msr));
		if (msr == HV_MSR_SVERSION)
			check(v == HV_SVERSION);
		if (msr == HV_MSR_EOM)
			check(v == 0);
		break;
	}
	case OP_TICK:
		now += take(2) * (take(1) + 1);
		synic_tick(&syn, now);
		check_after_tick();
		break;
	case OP_GUEST_CLEAR_FLAGS: {
		u8 *page = on(syn.siefp) ? guest_view(syn.siefp) : NULL;

		v = take(2) % PAGE_SIZE;
		if (page)
			page[v] &= (u8)take(1);
		snapshot();
		return;
	}
	case OP_AUTO_EOI:
		synic_auto_eoi(&syn, (u8)take(1));
		break;
	case OP_TIMER:
		v = take(1);
		timer_program(v & 3, take(2), take(3));
		break;
	}
	check_invariants();
	snapshot();
}

static void enable_all(unsigned first_sint)
{
	check(synic_msr_write(&syn, HV_MSR_SCONTROL, now, HV_MSR_ENABLE));
	check(synic_msr_write(&syn, HV_MSR_SIMP, now, SIMP_GPA | HV_MSR_ENABLE));
	check(synic_msr_write(&syn, HV_MSR_SIEFP, now, SIEF_GPA | HV_MSR_ENABLE));
	for (unsigned i = 0; i < HV_SINT_COUNT; i++)
		check(synic_msr_write(&syn, HV_MSR_SINT0 + (first_sint + i) % HV_SINT_COUNT, now,
				      0x30 + i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct synic_env env = {fake_page, fake_raise, &syn};
	struct header h;
	struct hv_message msg;
	bool have_msg, have_flag;
	u16 flag;
	unsigned sint;

	memset(&h, 0, sizeof(h));
	memcpy(&h, data, MIN(size, sizeof(h)));
	in_cur = data + MIN(size, sizeof(h));
	in_end = data + size;
	overlap = h.mode & MODE_OVERLAP;
	sint = MODE_SINT(h.mode);
	now = 0;
	raises = 0;

	run_parsers(&h, &msg, &have_msg, &flag, &have_flag);

	memset(&mem, GUARD_BYTE, sizeof(mem));
	memset(mem.simp, 0, PAGE_SIZE);
	memset(mem.sief, 0, PAGE_SIZE);
	synic_init(&syn, &env);
	if (h.mode & MODE_ENABLE)
		enable_all(sint);
	snapshot();
	if (have_msg) {
		post(sint, &msg);
		check_invariants();
		snapshot();
	}
	if (have_flag) {
		signal_event(sint, flag);
		check_invariants();
		snapshot();
	}
	for (unsigned n = 0; n < MAX_OPS && in_cur < in_end; n++)
		run_op(*in_cur++, &h, &msg, have_msg);
	return 0;
}
