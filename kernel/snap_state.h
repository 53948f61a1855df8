/*
 * The saved state of a partition's devices, one record per device
 * (kernel/snap.c keeps a snapshot's devices as these records; export and
 * import will write and read the same bytes). Little-endian, packed, fixed
 * width, no pointers or callbacks: what a device is wired to (its interrupt
 * line, the console, the VSPs' connections) belongs to the running
 * partition and is never saved.
 *
 * A snapshot's devices are a sequence of records, each a struct
 * snap_rec_header and `length` bytes of body. Every tag appears once; a
 * record with a tag this build does not know is refused (it would be a
 * device the restore loses).
 *
 * Growth rule (every record type, snap_rec_read implements it):
 *  - A body only grows at its end. Each append bumps the type's minor
 *    version and adds the new body size to its sizes[] table; a field is
 *    never removed, moved, resized or given another meaning.
 *  - A reader takes a record of its own major version and an older minor
 *    when its length is exactly sizes[minor]; the fields appended since
 *    take the type's defaults (`defaults`, else zero).
 *  - A record of the same major and a newer minor is read as far as this
 *    build knows (length at least the newest size known here) and the rest
 *    is ignored. So an appended field must be one an older build may lose;
 *    a field that may not be lost needs a new major version.
 *  - Any other major version is refused with an error naming both.
 * A body whose fields the device's load function refuses is refused too:
 * restore changes nothing unless every record is good.
 *
 * Host TSC values (LAPIC timer, reference clock) are the host's own: a
 * snapshot is restored on the machine that took it. Export must rebase them.
 */
#ifndef BULKHEAD_SNAP_STATE_H
#define BULKHEAD_SNAP_STATE_H

#include "hv_defs.h"
#include "types.h"

#define SNAP_TAG(a, b, c, d) ((u32)(a) | (u32)(b) << 8 | (u32)(c) << 16 | (u32)(d) << 24)

struct snap_rec_header {
	u32 tag;    /* SNAP_TAG_* */
	u16 major;  /* of the body's layout */
	u16 minor;  /* fields appended within the major */
	u32 length; /* of the body that follows */
	u32 crc;    /* CRC-32 (IEEE 802.3) of the body */
} __packed;
_Static_assert(sizeof(struct snap_rec_header) == 16, "record header");

#define SNAP_REC_MAX_BODY (64u << 10) /* larger is corrupt */

/* A record type as this build writes and reads it. */
struct snap_rec_type {
	u32 tag;
	const char *name; /* in error lines */
	u16 major, minor; /* what this build writes */
	const u32 *sizes; /* body size of minor 0 .. minor */
	/* The current layout, filled with what a record of an older minor lacks. NULL: zero. */
	void (*defaults)(void *body);
};

/* ---- the records ---- */

/* The partition itself: its run state (the enum translated to these constants) and idleness. */
#define SNAP_TAG_PART	  SNAP_TAG('P', 'A', 'R', 'T')
#define SNAP_PART_RUNNING 1
#define SNAP_PART_PAUSED  2
#define SNAP_PART_STOPPED 3
#define SNAP_PART_HALTED  4
struct part_saved {
	u32 state; /* SNAP_PART_* */
	u8 idle;   /* 0 or 1 */
	u8 reserved[3];
} __packed;
_Static_assert(sizeof(struct part_saved) == 8, "saved partition");

/*
 * The VP: struct vp_state (vp.h) and the x87/SSE image. 1.1 appends
 * SPEC_CTRL (1.0: 0, the reset value); DR0-3 are the guest's own on both
 * back ends (before, SVM saved zeros).
 */
#define SNAP_TAG_VP SNAP_TAG('V', 'P', ' ', ' ')
struct vp_saved_seg {
	u16 sel, attr; /* attr in VMX access-rights layout, as struct vp_seg */
	u32 limit;
	u64 base;
} __packed;
_Static_assert(sizeof(struct vp_saved_seg) == 16, "saved segment");
struct vp_saved {
	u64 gpr[16]; /* enum vp_reg order: RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15 */
	u64 rip, rflags;
	struct vp_saved_seg es, cs, ss, ds, fs, gs, ldtr, tr;
	u64 gdt_base, idt_base;
	u32 gdt_limit, idt_limit;
	u64 cr0, cr2, cr3, cr4, efer;
	u64 kernel_gs_base, star, lstar, cstar, sfmask;
	u64 sysenter_cs, sysenter_esp, sysenter_eip, pat, tsc_aux;
	u64 dr[4], dr6, dr7, cr8;
	u32 event, event_error, event_insn_len; /* as struct vp_state */
	u8 shadow;				/* 0 or 1 */
	u8 reserved[3];
	u8 fpu[512]; /* FXSAVE image (SDM Vol.1 10.5.1) */
	/* 1.1 */
	u64 spec_ctrl; /* IA32_SPEC_CTRL: IBRS, STIBP, SSBD (SDM Vol.4 2.1) */
} __packed;
#define SNAP_VP_SIZE_1_0 1000
_Static_assert(sizeof(struct vp_saved) == 1008, "saved VP");

/* The local APIC (vlapic.h); timer times are host TSC. */
#define SNAP_TAG_LAPIC SNAP_TAG('L', 'A', 'P', 'C')
struct vlapic_saved {
	u32 id, tpr, svr, esr, icr_low, icr_high;
	u32 lvt[7]; /* enum vlapic_lvt order */
	u32 timer_initial, timer_divide_reg;
	u32 reserved;
	u64 irr[4], isr[4], tmr[4];
	u64 timer_start, timer_deadline, timer_fired;
	u8 timer_running; /* 0 or 1 */
	u8 reserved2[7];
} __packed;
_Static_assert(sizeof(struct vlapic_saved) == 192, "saved LAPIC");

/* The I/O APIC (vioapic.h). */
#define SNAP_TAG_IOAPIC SNAP_TAG('I', 'O', 'A', 'P')
struct vioapic_saved {
	u32 id, sel;
	u64 redir[24];
	u32 level; /* bit per pin */
	u32 reserved;
	u64 delivered;
} __packed;
_Static_assert(sizeof(struct vioapic_saved) == 216, "saved IOAPIC");

/* The Hyper-V partition state (hv.h) without its connections, which are the devices'. */
#define SNAP_TAG_HV SNAP_TAG('H', 'V', ' ', ' ')
struct hv_saved {
	u64 guest_os_id, hypercall, ref_tsc, vp_assist;
	u64 crash[5], crash_ctl;
	u64 clock_scale; /* struct hv_clock: reference time from the host TSC */
	s64 clock_offset;
	u64 clock_start;
	u64 hypercalls;
} __packed;
_Static_assert(sizeof(struct hv_saved) == 112, "saved Hyper-V state");

/* The SynIC with its synthetic timers (synic.h); timer times are reference time. */
#define SNAP_TAG_SYNIC SNAP_TAG('S', 'Y', 'N', 'C')
struct stimer_saved {
	u64 config, count, deadline, due_time, expirations;
	u8 armed, message_due; /* 0 or 1 */
	u8 reserved[6];
} __packed;
_Static_assert(sizeof(struct stimer_saved) == 48, "saved stimer");
#define SNAP_SYNIC_QUEUE 8 /* messages kept per SINT; SYNIC_QUEUE_LEN may not exceed it */
struct synic_saved {
	u64 scontrol, simp, siefp;
	u64 sint[HV_SINT_COUNT];
	struct stimer_saved timer[HV_STIMER_COUNT];
	u64 posted, eoms;
	u8 queued[HV_SINT_COUNT]; /* messages waiting per SINT, oldest first in queue[] */
	struct hv_message queue[HV_SINT_COUNT][SNAP_SYNIC_QUEUE];
} __packed;
_Static_assert(sizeof(struct synic_saved) == 152 + 192 + 16 + 16 + 16 * 8 * 256, "saved SynIC");

/*
 * The 16550 (uart.h). 1.0 had the registers only; 1.1 appended the receive
 * FIFO (an older record restores it empty). The console's line assembly
 * is the console's, not the device's.
 */
#define SNAP_TAG_UART	       SNAP_TAG('U', 'A', 'R', 'T')
#define SNAP_UART_THR_IPENDING (1u << 0)
#define SNAP_UART_IRQ_LEVEL    (1u << 1)
struct uart_saved {
	u8 ier, lcr, mcr, scr, dll, dlm, fcr;
	u8 flags; /* SNAP_UART_* */
	/* 1.1 */
	u16 rx_count;
	u16 reserved;
	u8 rx[256]; /* rx_count bytes queued, oldest first */
} __packed;
_Static_assert(sizeof(struct uart_saved) == 268, "saved UART");
#define SNAP_UART_SIZE_1_0 8

/* ACPI PM1a of a Linux partition (part_linux.c). */
#define SNAP_TAG_PM1 SNAP_TAG('P', 'M', '1', ' ')
struct pm1_saved {
	u16 cnt, en;
	u32 reserved;
} __packed;
_Static_assert(sizeof(struct pm1_saved) == 8, "saved PM1");

extern const struct snap_rec_type snap_rec_part, snap_rec_vp, snap_rec_lapic, snap_rec_ioapic,
    snap_rec_hv, snap_rec_synic, snap_rec_uart, snap_rec_pm1;

/* ---- records in a buffer ---- */

u32 snap_crc32(const void *p, u32 n);
/* Append t's record with body (the current layout) at *len; -1 when cap is too small. */
int snap_rec_put(u8 *buf, u32 cap, u32 *len, const struct snap_rec_type *t, const void *body);
/* Read one record's body into out (the current layout of t) through the growth rule. */
int snap_rec_read(const struct snap_rec_type *t, const struct snap_rec_header *h, const void *body,
		  void *out, char *err, size_t errlen);
/*
 * Every record of [buf, buf + len): each of types[i] exactly once, read into
 * out[i]; nothing else. 0, or -1 with a one-line reason.
 */
int snap_recs_parse(const u8 *buf, u32 len, const struct snap_rec_type *const *types,
		    void *const *out, unsigned n, char *err, size_t errlen);

/* ---- the records without a device file of their own ---- */

struct vp_state;
void vp_state_save(const struct vp_state *s, const u8 *fpu, struct vp_saved *r);
/* -1 with a reason: a field no VP can have. */
int vp_state_load(const struct vp_saved *r, struct vp_state *s, u8 *fpu, char *err, size_t errlen);
void pm1_save(u16 cnt, u16 en, struct pm1_saved *r);
int pm1_load(const struct pm1_saved *r, u16 *cnt, u16 *en, char *err, size_t errlen);
/* state is an enum part_state (part.h), which this header does not include. */
void part_state_save(unsigned state, bool idle, struct part_saved *r);
int part_state_load(const struct part_saved *r, unsigned *state, bool *idle, char *err,
		    size_t errlen);

#endif
