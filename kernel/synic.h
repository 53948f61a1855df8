/*
 * The synthetic interrupt controller of a VP (TLFS chapter 11): SCONTROL,
 * SIMP, SIEFP, EOM and the sixteen SINTs; message delivery into the SIMP
 * slots with a queue per SINT and the message-pending/EOM protocol; event
 * flags in the SIEF page. And the four synthetic timers that post into it
 * (TLFS chapter 12). Pure logic: guest pages and interrupts come through
 * the callbacks in struct synic_env.
 */
#ifndef BULKHEAD_SYNIC_H
#define BULKHEAD_SYNIC_H

#include "hv_defs.h"

#define SYNIC_QUEUE_LEN 8 /* messages waiting per SINT beyond the one in the slot */

struct synic_env {
	/* Host address of the guest page at gpa (page aligned, inside RAM), or NULL. */
	void *(*page)(void *ctx, u64 gpa);
	/* Raise a fixed interrupt at the VP's local APIC. */
	void (*raise)(void *ctx, u8 vector);
	void *ctx;
};

struct synic_queue {
	struct hv_message msg[SYNIC_QUEUE_LEN];
	unsigned head, count;
};

struct stimer {
	u64 config, count;
	bool armed;	  /* enabled with a deadline */
	u64 deadline;	  /* reference time of the next expiration */
	bool message_due; /* expired, its message not yet in the slot */
	u64 due_time;	  /* the expiration that message reports */
	u64 expirations;
};

struct synic {
	u64 scontrol, simp, siefp;
	u64 sint[HV_SINT_COUNT];
	struct synic_queue queue[HV_SINT_COUNT];
	struct stimer timer[HV_STIMER_COUNT];
	struct synic_env env;
	u64 posted, eoms; /* counters for `info` and tests */
};

void synic_init(struct synic *s, const struct synic_env *env);
/* The SynIC and stimer MSRs; now is the reference time. false: #GP. */
bool synic_msr_read(struct synic *s, u32 msr, u64 now, u64 *val);
bool synic_msr_write(struct synic *s, u32 msr, u64 now, u64 val);
/* Queue or deliver a message to SINT sint. HV_STATUS_SUCCESS or _INSUFFICIENT_BUFFERS. */
int synic_post(struct synic *s, unsigned sint, const struct hv_message *m);
/* Set event flag `flag` of SINT sint; interrupts if it was clear. An HV_STATUS. */
int synic_signal(struct synic *s, unsigned sint, unsigned flag);
/* Expire timers due by reference time now. */
void synic_tick(struct synic *s, u64 now);
/* Reference time of the next timer expiration, or ~0. */
u64 synic_next_deadline(const struct synic *s);
/* Is vector a SINT with auto-EOI (the hypervisor EOIs it on delivery)? */
bool synic_auto_eoi(const struct synic *s, u8 vector);
/* Saved state with the timers (snap_state.h): out, and back in after checking every field
 * (-1 with a reason: nothing changed). env stays the running one. */
struct synic_saved;
void synic_save(const struct synic *s, struct synic_saved *r);
int synic_load(struct synic *s, const struct synic_saved *r, char *err, size_t errlen);

#endif
