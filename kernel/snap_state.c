/*
 * Device records of a snapshot (snap_state.h): the record framing with its
 * growth rule, and the records of the VP, the partition and PM1, which
 * have no pure device file of their own. Pure: unit tests and fuzzing.
 */
#include "snap_state.h"
#include "acpi.h"
#include "part.h"

#include <stdio.h>
#include <string.h>

#define CRC32_POLY 0xedb88320u /* IEEE 802.3, reflected */

u32 snap_crc32(const void *p, u32 n)
{
	const u8 *b = p;
	u32 c = ~0u;

	for (u32 i = 0; i < n; i++) {
		c ^= b[i];
		for (unsigned k = 0; k < 8; k++)
			c = (c >> 1) ^ (CRC32_POLY & (0u - (c & 1)));
	}
	return ~c;
}

/* ---- the record types ---- */

static const u32 part_sizes[] = {sizeof(struct part_saved)};
static const u32 vp_sizes[] = {SNAP_VP_SIZE_1_0, sizeof(struct vp_saved)};
static const u32 lapic_sizes[] = {sizeof(struct vlapic_saved)};
static const u32 ioapic_sizes[] = {sizeof(struct vioapic_saved)};
static const u32 hv_sizes[] = {sizeof(struct hv_saved)};
static const u32 synic_sizes[] = {sizeof(struct synic_saved)};
static const u32 uart_sizes[] = {SNAP_UART_SIZE_1_0, sizeof(struct uart_saved)};
static const u32 pm1_sizes[] = {sizeof(struct pm1_saved)};

/* An older UART record has no FIFO: it comes back empty (rx_count 0, zeros). */
const struct snap_rec_type snap_rec_part = {SNAP_TAG_PART, "partition", 1, 0, part_sizes, NULL};
/* An older VP record has no SPEC_CTRL: 0, as after a reset. */
const struct snap_rec_type snap_rec_vp = {SNAP_TAG_VP, "VP", 1, 1, vp_sizes, NULL};
const struct snap_rec_type snap_rec_lapic = {SNAP_TAG_LAPIC, "LAPIC", 1, 0, lapic_sizes, NULL};
const struct snap_rec_type snap_rec_ioapic = {SNAP_TAG_IOAPIC, "IOAPIC", 1, 0, ioapic_sizes, NULL};
const struct snap_rec_type snap_rec_hv = {SNAP_TAG_HV, "Hyper-V", 1, 0, hv_sizes, NULL};
const struct snap_rec_type snap_rec_synic = {SNAP_TAG_SYNIC, "SynIC", 1, 0, synic_sizes, NULL};
const struct snap_rec_type snap_rec_uart = {SNAP_TAG_UART, "UART", 1, 1, uart_sizes, NULL};
const struct snap_rec_type snap_rec_pm1 = {SNAP_TAG_PM1, "PM1", 1, 0, pm1_sizes, NULL};

/* ---- framing ---- */

int snap_rec_put(u8 *buf, u32 cap, u32 *len, const struct snap_rec_type *t, const void *body)
{
	u32 size = t->sizes[t->minor];
	struct snap_rec_header h = {t->tag, t->major, t->minor, size, snap_crc32(body, size)};

	if (*len > cap || cap - *len < sizeof(h) + size)
		return -1;
	memcpy(buf + *len, &h, sizeof(h));
	memcpy(buf + *len + sizeof(h), body, size);
	*len += (u32)sizeof(h) + size;
	return 0;
}

int snap_rec_read(const struct snap_rec_type *t, const struct snap_rec_header *h, const void *body,
		  void *out, char *err, size_t errlen)
{
	u32 have = t->sizes[t->minor];

	if (h->major != t->major) {
		snprintf(err, errlen, "%s record version %u.%u: this build reads %u.x only",
			 t->name, h->major, h->minor, t->major);
		return -1;
	}
	if (h->minor <= t->minor ? h->length != t->sizes[h->minor] : h->length < have) {
		snprintf(err, errlen,
			 "%s record version %u.%u: %u bytes, not a size of that version", t->name,
			 h->major, h->minor, h->length);
		return -1;
	}
	if (snap_crc32(body, h->length) != h->crc) {
		snprintf(err, errlen, "%s record: checksum mismatch", t->name);
		return -1;
	}
	if (t->defaults)
		t->defaults(out);
	else
		memset(out, 0, have);
	memcpy(out, body, MIN(h->length, have)); /* a newer minor's tail is ignored */
	return 0;
}

int snap_recs_parse(const u8 *buf, u32 len, const struct snap_rec_type *const *types,
		    void *const *out, unsigned n, char *err, size_t errlen)
{
	u32 seen = 0, at = 0;

	if (n > 32) {
		snprintf(err, errlen, "too many record types");
		return -1;
	}
	while (at < len) {
		struct snap_rec_header h;
		unsigned i;

		if (len - at < sizeof(h)) {
			snprintf(err, errlen, "record header cut short at byte %u", at);
			return -1;
		}
		memcpy(&h, buf + at, sizeof(h));
		at += sizeof(h);
		for (i = 0; i < n && types[i]->tag != h.tag; i++)
			;
		if (i == n) {
			snprintf(err, errlen, "unknown record 0x%08x at byte %u", h.tag,
				 at - (u32)sizeof(h));
			return -1;
		}
		if (seen & (1u << i)) {
			snprintf(err, errlen, "%s record twice", types[i]->name);
			return -1;
		}
		if (h.length > SNAP_REC_MAX_BODY || h.length > len - at) {
			snprintf(err, errlen, "%s record of %u bytes, %u left", types[i]->name,
				 h.length, len - at);
			return -1;
		}
		if (snap_rec_read(types[i], &h, buf + at, out[i], err, errlen))
			return -1;
		seen |= 1u << i;
		at += h.length;
	}
	for (unsigned i = 0; i < n; i++) {
		if (!(seen & (1u << i))) {
			snprintf(err, errlen, "no %s record", types[i]->name);
			return -1;
		}
	}
	return 0;
}

/* ---- the partition ---- */

/* enum part_state <-> SNAP_PART_*, a table each way. */
static const u32 part_state_to_saved[] = {
    [PART_RUNNING] = SNAP_PART_RUNNING,
    [PART_PAUSED] = SNAP_PART_PAUSED,
    [PART_STOPPED] = SNAP_PART_STOPPED,
    [PART_HALTED] = SNAP_PART_HALTED,
};
static const enum part_state part_state_from_saved[] = {
    [SNAP_PART_RUNNING] = PART_RUNNING,
    [SNAP_PART_PAUSED] = PART_PAUSED,
    [SNAP_PART_STOPPED] = PART_STOPPED,
    [SNAP_PART_HALTED] = PART_HALTED,
};

void part_state_save(unsigned state, bool idle, struct part_saved *r)
{
	memset(r, 0, sizeof(*r));
	r->state = state < ARRAY_SIZE(part_state_to_saved) ? part_state_to_saved[state] : 0;
	r->idle = idle;
}

int part_state_load(const struct part_saved *r, unsigned *state, bool *idle, char *err,
		    size_t errlen)
{
	if (!r->state || r->state >= ARRAY_SIZE(part_state_from_saved) || r->idle > 1 ||
	    r->reserved[0] || r->reserved[1] || r->reserved[2]) {
		snprintf(err, errlen, "partition record: state %u idle %u", r->state, r->idle);
		return -1;
	}
	*state = part_state_from_saved[r->state];
	*idle = r->idle;
	return 0;
}

/* ---- ACPI PM1a ---- */

void pm1_save(u16 cnt, u16 en, struct pm1_saved *r)
{
	*r = (struct pm1_saved){cnt, en, 0};
}

int pm1_load(const struct pm1_saved *r, u16 *cnt, u16 *en, char *err, size_t errlen)
{
	/* part_pm_io keeps SLP_TYP of PM1_CNT only; PM1_EN keeps what the guest wrote. */
	if ((r->cnt & ~ACPI_PM1_CNT_SLP_TYP_MASK) || r->reserved) {
		snprintf(err, errlen, "PM1 record: PM1_CNT 0x%x", r->cnt);
		return -1;
	}
	*cnt = r->cnt;
	*en = r->en;
	return 0;
}

/* ---- the VP ---- */

/* RFLAGS: bit 1 reads as 1; 3, 5, 15 and 63:22 are reserved (SDM Vol.1 3.4.3). */
#define RFLAGS_FIXED1	(1ull << 1)
#define RFLAGS_RESERVED (~0x3fffffull | 1ull << 3 | 1ull << 5 | 1ull << 15)
/* EFER: SCE, LME, LMA, NXE, SVME, LMSLE, FFXSR, TCE (SDM Vol.4 2.2.1, APM Vol.2 3.1.7). */
#define EFER_VALID 0xfd01ull
/* Event injection: vector[7:0] type[10:8] error[11] valid[31]; 30:12 reserved (SDM 25.8.3). */
#define EVENT_RESERVED	  0x7ffff000u
#define INSN_MAX	  15	  /* bytes of an x86 instruction (SDM Vol.2 2.3.11) */
#define SEG_ATTR_RESERVED 0x0f00u /* access rights 11:8 (SDM 25.4.1) */
#define FXSAVE_MXCSR	  24	  /* offset of MXCSR in the FXSAVE image (SDM Vol.1 10.5.1) */

static void seg_save(const struct vp_seg *s, struct vp_saved_seg *r)
{
	*r = (struct vp_saved_seg){s->sel, s->attr, s->limit, s->base};
}

static void seg_load(const struct vp_saved_seg *r, struct vp_seg *s)
{
	*s = (struct vp_seg){r->sel, r->attr, r->limit, r->base};
}

void vp_state_save(const struct vp_state *s, const u8 *fpu, struct vp_saved *r)
{
	const struct vp_sregs *g = &s->sregs;

	_Static_assert(VP_NR_GPRS == 16 && VP_FPU_SIZE == sizeof(r->fpu), "VP record layout");
	memset(r, 0, sizeof(*r));
	memcpy(r->gpr, s->regs.gpr, sizeof(r->gpr));
	r->rip = s->regs.rip;
	r->rflags = s->regs.rflags;
	seg_save(&g->es, &r->es);
	seg_save(&g->cs, &r->cs);
	seg_save(&g->ss, &r->ss);
	seg_save(&g->ds, &r->ds);
	seg_save(&g->fs, &r->fs);
	seg_save(&g->gs, &r->gs);
	seg_save(&g->ldtr, &r->ldtr);
	seg_save(&g->tr, &r->tr);
	r->gdt_base = g->gdt_base;
	r->idt_base = g->idt_base;
	r->gdt_limit = g->gdt_limit;
	r->idt_limit = g->idt_limit;
	r->cr0 = g->cr0;
	r->cr2 = g->cr2;
	r->cr3 = g->cr3;
	r->cr4 = g->cr4;
	r->efer = g->efer;
	r->kernel_gs_base = s->kernel_gs_base;
	r->star = s->star;
	r->lstar = s->lstar;
	r->cstar = s->cstar;
	r->sfmask = s->sfmask;
	r->sysenter_cs = s->sysenter_cs;
	r->sysenter_esp = s->sysenter_esp;
	r->sysenter_eip = s->sysenter_eip;
	r->pat = s->pat;
	r->tsc_aux = s->tsc_aux;
	memcpy(r->dr, s->dr, sizeof(r->dr));
	r->dr6 = s->dr6;
	r->dr7 = s->dr7;
	r->cr8 = s->cr8;
	r->event = s->event;
	r->event_error = s->event_error;
	r->event_insn_len = s->event_insn_len;
	r->shadow = s->shadow;
	memcpy(r->fpu, fpu, sizeof(r->fpu));
	r->spec_ctrl = s->spec_ctrl;
}

/*
 * Fields the hypervisor itself would fault on (FXRSTOR of a reserved MXCSR
 * bit), that the event injection would misread, or that no CPU holds.
 * Control registers and segments the VM entry checks itself: a bad one
 * stops the partition, not the host.
 */
int vp_state_load(const struct vp_saved *r, struct vp_state *s, u8 *fpu, char *err, size_t errlen)
{
	const struct vp_saved_seg *segs[] = {&r->es, &r->cs, &r->ss,   &r->ds,
					     &r->fs, &r->gs, &r->ldtr, &r->tr};
	struct vp_sregs *g = &s->sregs;
	const char *bad = NULL;
	u32 mxcsr;

	memcpy(&mxcsr, r->fpu + FXSAVE_MXCSR, sizeof(mxcsr));
	if (!(r->rflags & RFLAGS_FIXED1) || (r->rflags & RFLAGS_RESERVED))
		bad = "RFLAGS";
	else if (r->efer & ~EFER_VALID)
		bad = "EFER";
	else if ((r->event & EVENT_RESERVED) || r->event_insn_len > INSN_MAX)
		bad = "pending event";
	else if (r->shadow > 1 || r->reserved[0] || r->reserved[1] || r->reserved[2])
		bad = "interrupt shadow";
	else if (r->cr8 > 15 || r->dr6 >> 32 || r->dr7 >> 32)
		bad = "CR8/DR6/DR7";
	else if (mxcsr >> 16)
		bad = "MXCSR";
	else if (r->spec_ctrl & ~(SPEC_CTRL_IBRS | SPEC_CTRL_STIBP | SPEC_CTRL_SSBD))
		bad = "SPEC_CTRL";
	else if (r->cr4 & CR4_PKE)
		bad = "CR4"; /* PKE is refused on both back ends */
	for (unsigned i = 0; i < ARRAY_SIZE(segs) && !bad; i++)
		if (segs[i]->attr & SEG_ATTR_RESERVED)
			bad = "segment attributes";
	if (bad) {
		snprintf(err, errlen, "VP record: %s out of range", bad);
		return -1;
	}
	memset(s, 0, sizeof(*s));
	memcpy(s->regs.gpr, r->gpr, sizeof(r->gpr));
	s->regs.rip = r->rip;
	s->regs.rflags = r->rflags;
	seg_load(&r->es, &g->es);
	seg_load(&r->cs, &g->cs);
	seg_load(&r->ss, &g->ss);
	seg_load(&r->ds, &g->ds);
	seg_load(&r->fs, &g->fs);
	seg_load(&r->gs, &g->gs);
	seg_load(&r->ldtr, &g->ldtr);
	seg_load(&r->tr, &g->tr);
	g->gdt_base = r->gdt_base;
	g->idt_base = r->idt_base;
	g->gdt_limit = r->gdt_limit;
	g->idt_limit = r->idt_limit;
	g->cr0 = r->cr0;
	g->cr2 = r->cr2;
	g->cr3 = r->cr3;
	g->cr4 = r->cr4;
	g->efer = r->efer;
	s->kernel_gs_base = r->kernel_gs_base;
	s->star = r->star;
	s->lstar = r->lstar;
	s->cstar = r->cstar;
	s->sfmask = r->sfmask;
	s->sysenter_cs = r->sysenter_cs;
	s->sysenter_esp = r->sysenter_esp;
	s->sysenter_eip = r->sysenter_eip;
	s->pat = r->pat;
	s->tsc_aux = r->tsc_aux;
	memcpy(s->dr, r->dr, sizeof(s->dr));
	s->dr6 = r->dr6;
	s->dr7 = r->dr7;
	s->cr8 = r->cr8;
	s->event = r->event;
	s->event_error = r->event_error;
	s->event_insn_len = r->event_insn_len;
	s->shadow = r->shadow;
	s->spec_ctrl = r->spec_ctrl;
	memcpy(fpu, r->fpu, sizeof(r->fpu));
	return 0;
}
