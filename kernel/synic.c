/*
 * SynIC and synthetic timers (synic.h). TLFS 11.4 (SIMP/SIEFP), 11.8
 * (message slots, MessagePending and EOM), 11.9 (event flags), 12.2-12.4
 * (timer registers, periodic and one-shot, direct mode, expiration message).
 */
#include "synic.h"
#include "snap_state.h"

#include <stdio.h>
#include <string.h>

#define MSG_HEADER_SIZE 16

static bool enabled(u64 msr)
{
	return msr & HV_MSR_ENABLE;
}

void synic_init(struct synic *s, const struct synic_env *env)
{
	memset(s, 0, sizeof(*s));
	s->env = *env;
	for (unsigned i = 0; i < HV_SINT_COUNT; i++)
		s->sint[i] = HV_SINT_MASKED; /* TLFS 11.11: SINTs are masked at reset */
}

/* Host address of an enabled overlay page (SIMP/SIEFP), or NULL. */
static u8 *overlay(const struct synic *s, u64 msr)
{
	if (!enabled(s->scontrol) || !enabled(msr))
		return NULL;
	return s->env.page(s->env.ctx, msr & HV_MSR_GPA_MASK);
}

static void raise_sint(struct synic *s, unsigned sint)
{
	u64 v = s->sint[sint];

	if (enabled(s->scontrol) && !(v & HV_SINT_MASKED))
		s->env.raise(s->env.ctx, v & HV_SINT_VECTOR_MASK);
}

static struct hv_message *slot(const struct synic *s, unsigned sint)
{
	u8 *simp = overlay(s, s->simp);

	if (!simp || (s->sint[sint] & HV_SINT_MASKED))
		return NULL;
	return (struct hv_message *)(simp + sint * HV_MESSAGE_SIZE);
}

/*
 * Into the slot if it is free, with MessagePending if more wait (the guest
 * then writes EOM when it has freed the slot). A busy slot gets
 * MessagePending set instead, so that the guest's EOM comes.
 */
static bool deliver(struct synic *s, unsigned sint, const struct hv_message *m, bool more)
{
	struct hv_message *dst = slot(s, sint);

	if (!dst)
		return false;
	if (dst->type != HV_MESSAGE_NONE) {
		dst->flags |= HV_MESSAGE_FLAG_PENDING;
		return false;
	}
	memcpy((u8 *)dst + sizeof(dst->type), (const u8 *)m + sizeof(m->type),
	       MSG_HEADER_SIZE - sizeof(m->type) + m->payload_size);
	dst->flags = more ? HV_MESSAGE_FLAG_PENDING : 0;
	dst->type = m->type; /* last: the type makes the slot the guest's */
	s->posted++;
	raise_sint(s, sint);
	return true;
}

static void flush_queue(struct synic *s, unsigned sint)
{
	struct synic_queue *q = &s->queue[sint];

	while (q->count && deliver(s, sint, &q->msg[q->head], q->count > 1)) {
		q->head = (q->head + 1) % SYNIC_QUEUE_LEN;
		q->count--;
	}
}

int synic_post(struct synic *s, unsigned sint, const struct hv_message *m)
{
	struct synic_queue *q;

	if (sint >= HV_SINT_COUNT || m->payload_size > HV_MESSAGE_PAYLOAD_MAX)
		return HV_STATUS_INVALID_PARAMETER;
	q = &s->queue[sint];
	if (!q->count && deliver(s, sint, m, false))
		return HV_STATUS_SUCCESS;
	if (q->count == SYNIC_QUEUE_LEN)
		return HV_STATUS_INSUFFICIENT_BUFFERS;
	q->msg[(q->head + q->count++) % SYNIC_QUEUE_LEN] = *m;
	return HV_STATUS_SUCCESS;
}

int synic_signal(struct synic *s, unsigned sint, unsigned flag)
{
	u8 *sief, *byte;

	if (sint >= HV_SINT_COUNT || flag >= HV_EVENT_FLAGS_COUNT)
		return HV_STATUS_INVALID_PARAMETER;
	sief = overlay(s, s->siefp);
	if (!sief)
		return HV_STATUS_SUCCESS; /* no event page: the event is lost, as on Hyper-V */
	byte = sief + sint * HV_EVENT_FLAGS_BYTES + flag / 8;
	if (*byte & (1u << (flag % 8)))
		return HV_STATUS_SUCCESS; /* already signalled: one interrupt covers both */
	*byte |= (u8)(1u << (flag % 8));
	raise_sint(s, sint);
	return HV_STATUS_SUCCESS;
}

/* Flags signalled while the SINT was masked interrupt once it is unmasked. */
static void pending_events(struct synic *s, unsigned sint)
{
	const u64 *flags = (const u64 *)overlay(s, s->siefp);

	if (!flags || (s->sint[sint] & HV_SINT_MASKED))
		return;
	flags += sint * HV_EVENT_FLAGS_BYTES / sizeof(u64);
	for (unsigned i = 0; i < HV_EVENT_FLAGS_BYTES / sizeof(u64); i++) {
		if (flags[i]) {
			raise_sint(s, sint);
			return;
		}
	}
}

bool synic_auto_eoi(const struct synic *s, u8 vector)
{
	for (unsigned i = 0; i < HV_SINT_COUNT; i++)
		if (!(s->sint[i] & HV_SINT_MASKED) && (s->sint[i] & HV_SINT_AUTO_EOI) &&
		    (s->sint[i] & HV_SINT_VECTOR_MASK) == vector)
			return true;
	return false;
}

/* ---- synthetic timers ---- */

static unsigned timer_sint(const struct stimer *t)
{
	return (t->config >> HV_STIMER_SINT_SHIFT) & HV_STIMER_SINT_MASK;
}

/* Post the expiration message of a timer that is due; it waits while the slot is busy. */
static void timer_message(struct synic *s, unsigned index, u64 now)
{
	struct stimer *t = &s->timer[index];
	struct hv_message m = {.type = HV_MESSAGE_TIMER_EXPIRED,
			       .payload_size = sizeof(struct hv_timer_message)};
	struct hv_timer_message tm = {
	    .timer_index = index, .expiration_time = t->due_time, .delivery_time = now};

	if (!t->message_due || s->queue[timer_sint(t)].count)
		return;
	memcpy(m.payload, &tm, sizeof(tm));
	if (deliver(s, timer_sint(t), &m, false))
		t->message_due = false;
}

/* a + b, or ~0 (never) if that does not fit: reference time does not wrap in practice. */
static u64 add_sat(u64 a, u64 b)
{
	return a > ~0ull - b ? ~0ull : a + b;
}

/* (Re)compute whether a timer runs and when it expires (TLFS 12.2, 12.4). */
static void timer_arm(struct stimer *t, u64 now)
{
	t->armed = false;
	if (!(t->config & HV_STIMER_ENABLE))
		return;
	/* A zero count, or SINTx 0 for a message-mode timer, disables the timer (TLFS 12.2). */
	if (!t->count || (!(t->config & HV_STIMER_DIRECT) && !timer_sint(t))) {
		t->config &= ~HV_STIMER_ENABLE;
		return;
	}
	t->armed = true;
	t->deadline = t->config & HV_STIMER_PERIODIC ? add_sat(now, t->count) : t->count;
}

static void timer_expire(struct synic *s, unsigned index, u64 now)
{
	struct stimer *t = &s->timer[index];

	t->expirations++;
	if (t->config & HV_STIMER_DIRECT) {
		s->env.raise(s->env.ctx,
			     (t->config >> HV_STIMER_VECTOR_SHIFT) & HV_STIMER_VECTOR_MASK);
	} else {
		t->message_due = true;
		t->due_time = t->deadline;
		timer_message(s, index, now);
	}
	if (!(t->config & HV_STIMER_PERIODIC)) {
		t->armed = false;
		t->config &= ~HV_STIMER_ENABLE;
		return;
	}
	/* Periods missed while the VP was not scheduled merge into this expiration. */
	t->deadline = add_sat(t->deadline, t->count);
	if (t->deadline <= now)
		t->deadline = add_sat(now, t->count - (now - t->deadline) % t->count);
}

void synic_tick(struct synic *s, u64 now)
{
	for (unsigned i = 0; i < HV_STIMER_COUNT; i++)
		if (s->timer[i].armed && now >= s->timer[i].deadline)
			timer_expire(s, i, now);
}

u64 synic_next_deadline(const struct synic *s)
{
	u64 next = ~0ull;

	for (unsigned i = 0; i < HV_STIMER_COUNT; i++)
		if (s->timer[i].armed)
			next = MIN(next, s->timer[i].deadline);
	return next;
}

static bool timer_write(struct synic *s, unsigned index, bool is_count, u64 now, u64 val)
{
	struct stimer *t = &s->timer[index];

	if (is_count) {
		t->count = val;
		if (!val)
			t->config &= ~HV_STIMER_ENABLE;
		else if (t->config & HV_STIMER_AUTO_ENABLE)
			t->config |= HV_STIMER_ENABLE;
	} else {
		if (val & ~HV_STIMER_BITS)
			return false;
		t->config = val;
		if (!(val & HV_STIMER_ENABLE))
			t->message_due = false;
	}
	timer_arm(t, now);
	return true;
}

/* ---- MSRs ---- */

static bool page_ok(const struct synic *s, u64 val)
{
	return !enabled(val) || s->env.page(s->env.ctx, val & HV_MSR_GPA_MASK);
}

static void retry_all(struct synic *s, u64 now)
{
	for (unsigned i = 0; i < HV_SINT_COUNT; i++)
		flush_queue(s, i);
	for (unsigned i = 0; i < HV_STIMER_COUNT; i++)
		timer_message(s, i, now);
}

bool synic_msr_read(struct synic *s, u32 msr, u64 now, u64 *val)
{
	switch (msr) {
	case HV_MSR_SCONTROL:
		*val = s->scontrol;
		return true;
	case HV_MSR_SVERSION:
		*val = HV_SVERSION;
		return true;
	case HV_MSR_SIEFP:
		*val = s->siefp;
		return true;
	case HV_MSR_SIMP:
		*val = s->simp;
		return true;
	case HV_MSR_EOM:
		*val = 0;
		return true;
	}
	if (msr >= HV_MSR_SINT0 && msr <= HV_MSR_SINT15) {
		*val = s->sint[msr - HV_MSR_SINT0];
		return true;
	}
	if (msr >= HV_MSR_STIMER0_CONFIG && msr <= HV_MSR_STIMER3_COUNT) {
		const struct stimer *t = &s->timer[(msr - HV_MSR_STIMER0_CONFIG) / 2];

		*val = (msr - HV_MSR_STIMER0_CONFIG) % 2 ? t->count : t->config;
		return true;
	}
	return false;
}

bool synic_msr_write(struct synic *s, u32 msr, u64 now, u64 val)
{
	switch (msr) {
	case HV_MSR_SCONTROL:
		s->scontrol = val & HV_MSR_ENABLE;
		retry_all(s, now);
		return true;
	case HV_MSR_SVERSION:
		return false;
	case HV_MSR_SIEFP:
	case HV_MSR_SIMP:
		/* Only guest RAM can hold the page: anything else is refused with #GP. */
		if (!page_ok(s, val) || (val & ~(HV_MSR_GPA_MASK | HV_MSR_ENABLE)))
			return false;
		*(msr == HV_MSR_SIMP ? &s->simp : &s->siefp) = val;
		retry_all(s, now);
		return true;
	case HV_MSR_EOM:
		s->eoms++;
		retry_all(s, now);
		return true;
	}
	if (msr >= HV_MSR_SINT0 && msr <= HV_MSR_SINT15) {
		u64 vector = val & HV_SINT_VECTOR_MASK;

		/* Vectors 0-15 are not interrupts (TLFS 11.11: #GP). */
		if ((val & ~HV_SINT_BITS) || (!(val & HV_SINT_MASKED) && vector < 16))
			return false;
		bool unmasking =
		    (s->sint[msr - HV_MSR_SINT0] & HV_SINT_MASKED) && !(val & HV_SINT_MASKED);

		s->sint[msr - HV_MSR_SINT0] = val;
		retry_all(s, now);
		if (unmasking)
			pending_events(s, msr - HV_MSR_SINT0);
		return true;
	}
	if (msr >= HV_MSR_STIMER0_CONFIG && msr <= HV_MSR_STIMER3_COUNT)
		return timer_write(s, (msr - HV_MSR_STIMER0_CONFIG) / 2,
				   (msr - HV_MSR_STIMER0_CONFIG) % 2, now, val);
	return false;
}

/* ---- saved state (snap_state.h) ---- */

void synic_save(const struct synic *s, struct synic_saved *r)
{
	_Static_assert(SYNIC_QUEUE_LEN <= SNAP_SYNIC_QUEUE, "SynIC record: queue length");
	memset(r, 0, sizeof(*r));
	r->scontrol = s->scontrol;
	r->simp = s->simp;
	r->siefp = s->siefp;
	memcpy(r->sint, s->sint, sizeof(r->sint));
	for (unsigned i = 0; i < HV_STIMER_COUNT; i++) {
		const struct stimer *t = &s->timer[i];

		r->timer[i] = (struct stimer_saved){
		    .config = t->config,
		    .count = t->count,
		    .deadline = t->deadline,
		    .due_time = t->due_time,
		    .expirations = t->expirations,
		    .armed = t->armed,
		    .message_due = t->message_due,
		};
	}
	r->posted = s->posted;
	r->eoms = s->eoms;
	for (unsigned i = 0; i < HV_SINT_COUNT; i++) {
		const struct synic_queue *q = &s->queue[i];

		r->queued[i] = (u8)q->count;
		for (unsigned k = 0; k < q->count; k++)
			r->queue[i][k] = q->msg[(q->head + k) % SYNIC_QUEUE_LEN];
	}
}

static bool stimer_saved_ok(const struct stimer_saved *t)
{
	static const u8 zero[sizeof(t->reserved)];

	return !(t->config & ~HV_STIMER_BITS) && t->armed <= 1 && t->message_due <= 1 &&
	       (!t->armed || (t->config & HV_STIMER_ENABLE)) &&
	       !memcmp(t->reserved, zero, sizeof(zero));
}

int synic_load(struct synic *s, const struct synic_saved *r, char *err, size_t errlen)
{
	const char *bad = NULL;

	/* What synic_msr_write would have refused (the overlay pages must be guest RAM). */
	if ((r->scontrol & ~HV_MSR_ENABLE) || (r->simp & ~(HV_MSR_GPA_MASK | HV_MSR_ENABLE)) ||
	    (r->siefp & ~(HV_MSR_GPA_MASK | HV_MSR_ENABLE)) || !page_ok(s, r->simp) ||
	    !page_ok(s, r->siefp))
		bad = "SCONTROL/SIMP/SIEFP";
	for (unsigned i = 0; i < HV_SINT_COUNT && !bad; i++) {
		u64 v = r->sint[i];

		if ((v & ~HV_SINT_BITS) ||
		    (!(v & HV_SINT_MASKED) && (v & HV_SINT_VECTOR_MASK) < 16))
			bad = "SINT";
		else if (r->queued[i] > SYNIC_QUEUE_LEN)
			bad = "message queue";
		for (unsigned k = 0; k < r->queued[i] && !bad; k++)
			if (r->queue[i][k].payload_size > HV_MESSAGE_PAYLOAD_MAX)
				bad = "queued message";
	}
	for (unsigned i = 0; i < HV_STIMER_COUNT && !bad; i++)
		if (!stimer_saved_ok(&r->timer[i]))
			bad = "synthetic timer";
	if (bad) {
		snprintf(err, errlen, "SynIC record: %s out of range", bad);
		return -1;
	}
	/* The guest's pages and the interrupt line (env) are the running partition's. */
	s->scontrol = r->scontrol;
	s->simp = r->simp;
	s->siefp = r->siefp;
	memcpy(s->sint, r->sint, sizeof(s->sint));
	for (unsigned i = 0; i < HV_STIMER_COUNT; i++) {
		const struct stimer_saved *t = &r->timer[i];

		s->timer[i] = (struct stimer){
		    .config = t->config,
		    .count = t->count,
		    .armed = t->armed,
		    .deadline = t->deadline,
		    .message_due = t->message_due,
		    .due_time = t->due_time,
		    .expirations = t->expirations,
		};
	}
	s->posted = r->posted;
	s->eoms = r->eoms;
	for (unsigned i = 0; i < HV_SINT_COUNT; i++) {
		struct synic_queue *q = &s->queue[i];

		memset(q, 0, sizeof(*q));
		q->count = r->queued[i];
		memcpy(q->msg, r->queue[i], q->count * sizeof(q->msg[0]));
	}
	return 0;
}
