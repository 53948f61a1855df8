/*
 * The Hyper-V synthetic interface of a partition (hv.h): CPUID leaves
 * (TLFS 2.4), synthetic MSRs (TLFS 3.13 hypercall page, 7.8 VP index, 12.1
 * and 12.7 reference time, 12.8 frequencies, 7.8.7 VP assist page, 2.4.4
 * crash MSRs), and the hypercall dispatcher (TLFS 3.7, 11.10).
 */
#include "hv.h"
#include "arch.h"
#include "con.h"
#include "part.h"

#include <string.h>

#define HV_VERSION_MAJOR 10 /* what 0x40000002 reports: the interface level we follow */
#define HV_BUILD	 1
#define CRASH_MSG_MAX	 512 /* bytes of a guest's crash message printed on the console */
#define CRASH_MSG_PIECE	 256
#define INSN_RET	 0xc3

/* ---- guest memory and interrupts for the SynIC ---- */

static void *hv_page(void *ctx, u64 gpa)
{
	if (gpa & ~PAGE_MASK)
		return NULL;
	return part_gpa_to_hva(ctx, gpa, PAGE_SIZE);
}

static void hv_raise(void *ctx, u8 vector)
{
	struct partition *p = ctx;

	vlapic_set_irq(&p->lapic, vector, false);
}

void hv_init(struct partition *p, u64 now)
{
	struct hv *hv = &p->hv;
	const struct synic_env env = {hv_page, hv_raise, p};

	/* Connections belong to the partition's devices and survive a reset. */
	hv->guest_os_id = hv->hypercall = hv->ref_tsc = hv->vp_assist = 0;
	memset(hv->crash, 0, sizeof(hv->crash));
	hv->crash_ctl = 0;
	hv->crash_reports = 0;
	hv->hypercalls = 0;
	hv_clock_init(&hv->clock, arch_tsc_hz(), now);
	synic_init(&hv->synic, &env);
}

/* ---- CPUID (TLFS 2.4) ---- */

void hv_cpuid(u32 leaf, u32 out[4])
{
	memset(out, 0, 4 * sizeof(u32));
	switch (leaf) {
	case HV_CPUID_VENDOR:
		out[0] = HV_CPUID_LAST;
		memcpy(&out[1], "Microsoft Hv", 12);
		break;
	case HV_CPUID_INTERFACE:
		out[0] = HV_INTERFACE_SIGNATURE;
		break;
	case HV_CPUID_VERSION:
		out[0] = HV_BUILD;
		out[1] = HV_VERSION_MAJOR << 16;
		break;
	case HV_CPUID_FEATURES:
		/* Only what is implemented; never CpuManagement (EBX bit 12): we are not the root.
		 */
		out[0] = HV_PRIV_TIME_REF_COUNT | HV_PRIV_SYNIC | HV_PRIV_SYNTIMERS |
			 HV_PRIV_HYPERCALL | HV_PRIV_VP_INDEX | HV_PRIV_REFERENCE_TSC |
			 HV_PRIV_FREQUENCY;
		out[1] = HV_PRIV_POST_MESSAGES | HV_PRIV_SIGNAL_EVENTS;
		out[3] = HV_FEATURE_FREQUENCY_REGS | HV_FEATURE_GUEST_CRASH_MSRS |
			 HV_FEATURE_DIRECT_STIMERS;
		break;
	case HV_CPUID_HINTS:
		out[0] = HV_HINT_RELAXED_TIMING | HV_HINT_DEPRECATE_AUTO_EOI;
		out[1] = HV_SPINLOCK_NEVER_NOTIFY;
		break;
	case HV_CPUID_LIMITS:
		out[0] = 1; /* virtual processors */
		out[1] = 1; /* logical processors */
		break;
	}
}

/* ---- MSRs ---- */

static bool is_synic_msr(u32 index)
{
	return index >= HV_MSR_SCONTROL && index <= HV_MSR_STIMER3_COUNT;
}

static u64 ref_now(const struct hv *hv)
{
	return hv_clock_ref(&hv->clock, arch_rdtsc());
}

/* The page an enable+GPA MSR value names, if it is enabled and guest RAM. */
static void *msr_page(struct partition *p, u64 val)
{
	return hv_page(p, val & HV_MSR_GPA_MASK);
}

static bool set_hypercall(struct partition *p, u64 val)
{
	struct hv *hv = &p->hv;
	u8 *page;

	if (hv->hypercall & HV_HYPERCALL_LOCKED)
		return true; /* locked: writes are ignored (TLFS 3.13) */
	/* The page stays disabled until the guest has said who it is (TLFS 3.13). */
	if (!hv->guest_os_id)
		val &= ~HV_MSR_ENABLE;
	if (val & HV_MSR_ENABLE) {
		page = msr_page(p, val);
		if (!page)
			return false;
		memcpy(page, vp_ops->hypercall_insn, 3);
		page[3] = INSN_RET;
	}
	hv->hypercall = val & (HV_MSR_GPA_MASK | HV_MSR_ENABLE | HV_HYPERCALL_LOCKED);
	return true;
}

static bool set_ref_tsc(struct partition *p, u64 val)
{
	struct hv *hv = &p->hv;
	struct hv_tsc_page *page;

	if (val & HV_MSR_ENABLE) {
		page = msr_page(p, val);
		if (!page)
			return false;
		page->scale = hv->clock.scale;
		page->offset = hv->clock.offset;
		page->sequence = 1; /* valid: 0 would send the guest to TIME_REF_COUNT */
	}
	hv->ref_tsc = val & (HV_MSR_GPA_MASK | HV_MSR_ENABLE);
	return true;
}

static bool set_vp_assist(struct partition *p, u64 val)
{
	if ((val & HV_MSR_ENABLE) && !msr_page(p, val))
		return false;
	p->hv.vp_assist = val & (HV_MSR_GPA_MASK | HV_MSR_ENABLE);
	return true;
}

static void print_crash_message(struct partition *p, u64 gpa, u64 len)
{
	char text[CRASH_MSG_MAX + 1];
	unsigned n = 0;

	for (u64 i = 0; i < MIN(len, (u64)CRASH_MSG_MAX); i++) {
		const u8 *c = part_gpa_peek(p, gpa + i, 1);

		if (!c)
			break;
		text[n++] = *c == '\n' ? '|' : (*c >= 0x20 && *c < 0x7f) ? (char)*c : '?';
	}
	text[n] = 0;
	/* In pieces: one print is at most 511 bytes (log.c), and a cut line loses its "\n". */
	con_printf("partition %s crash message: ", p->name);
	for (unsigned at = 0; at < n; at += CRASH_MSG_PIECE)
		con_printf("%.*s", CRASH_MSG_PIECE, text + at);
	con_printf("\n");
}

/*
 * The guest reports its own crash (TLFS 2.4.4 guest crash MSRs); Linux does on panic.
 * Printed once per reset: the report is ~600 bytes of console output inside the exit, and
 * a guest writing CRASH_CTL in a loop would otherwise stretch its slices by that much each
 * time. Later ones are counted (`info P`, crash_reports).
 */
static void crash_notify(struct partition *p, u64 ctl)
{
	const u64 *c = p->hv.crash;

	if (p->hv.crash_reports++)
		return;
	con_flush_guest_line(p);
	con_printf("partition %s crashed: P0=0x%llx P1=0x%llx P2=0x%llx P3=0x%llx P4=0x%llx\n",
		   p->name, (unsigned long long)c[0], (unsigned long long)c[1],
		   (unsigned long long)c[2], (unsigned long long)c[3], (unsigned long long)c[4]);
	if (ctl & HV_CRASH_CTL_MESSAGE)
		print_crash_message(p, c[3], c[4]);
}

bool hv_msr_read(struct vp *vp, u32 index, u64 *val, bool *ok)
{
	struct hv *hv = &vp->part->hv;

	*ok = true;
	switch (index) {
	case HV_MSR_GUEST_OS_ID:
		*val = hv->guest_os_id;
		return true;
	case HV_MSR_HYPERCALL:
		*val = hv->hypercall;
		return true;
	case HV_MSR_VP_INDEX:
		*val = vp->index;
		return true;
	case HV_MSR_TIME_REF_COUNT:
		*val = ref_now(hv);
		return true;
	case HV_MSR_REFERENCE_TSC:
		*val = hv->ref_tsc;
		return true;
	case HV_MSR_TSC_FREQUENCY:
		*val = arch_tsc_hz();
		return true;
	case HV_MSR_APIC_FREQUENCY:
		*val = VLAPIC_BUS_HZ;
		return true;
	case HV_MSR_VP_ASSIST_PAGE:
		*val = hv->vp_assist;
		return true;
	case HV_MSR_CRASH_CTL:
		*val = HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_MESSAGE; /* what we support */
		return true;
	}
	if (index >= HV_MSR_CRASH_P0 && index <= HV_MSR_CRASH_P4) {
		*val = hv->crash[index - HV_MSR_CRASH_P0];
		return true;
	}
	if (is_synic_msr(index)) {
		*ok = synic_msr_read(&hv->synic, index, ref_now(hv), val);
		return true;
	}
	return false;
}

bool hv_msr_write(struct vp *vp, u32 index, u64 val, bool *ok)
{
	struct partition *p = vp->part;
	struct hv *hv = &p->hv;

	*ok = true;
	switch (index) {
	case HV_MSR_GUEST_OS_ID:
		hv->guest_os_id = val;
		if (!val)
			hv->hypercall &= ~HV_MSR_ENABLE;
		return true;
	case HV_MSR_HYPERCALL:
		*ok = set_hypercall(p, val);
		return true;
	case HV_MSR_REFERENCE_TSC:
		*ok = set_ref_tsc(p, val);
		return true;
	case HV_MSR_VP_ASSIST_PAGE:
		*ok = set_vp_assist(p, val);
		return true;
	case HV_MSR_CRASH_CTL:
		if (val & HV_CRASH_CTL_NOTIFY)
			crash_notify(p, val);
		return true;
	case HV_MSR_VP_INDEX:
	case HV_MSR_TIME_REF_COUNT:
	case HV_MSR_TSC_FREQUENCY:
	case HV_MSR_APIC_FREQUENCY:
		*ok = false; /* read-only */
		return true;
	}
	if (index >= HV_MSR_CRASH_P0 && index <= HV_MSR_CRASH_P4) {
		hv->crash[index - HV_MSR_CRASH_P0] = val;
		return true;
	}
	if (is_synic_msr(index)) {
		*ok = synic_msr_write(&hv->synic, index, ref_now(hv), val);
		return true;
	}
	return false;
}

/* ---- hypercalls ---- */

static u32 port_count(const struct hv_port *port)
{
	return port->count ? port->count : 1;
}

static const struct hv_port *find_port(const struct hv *hv, u32 conn_id)
{
	for (unsigned i = 0; i < hv->nr_ports; i++)
		if (conn_id - hv->ports[i].conn_id < port_count(&hv->ports[i]))
			return &hv->ports[i];
	return NULL;
}

static bool ports_overlap(const struct hv_port *a, const struct hv_port *b)
{
	return a->conn_id - b->conn_id < port_count(b) || b->conn_id - a->conn_id < port_count(a);
}

int hv_port_add(struct partition *p, const struct hv_port *port)
{
	struct hv *hv = &p->hv;

	if (hv->nr_ports == HV_MAX_PORTS || port->conn_id + (u64)port_count(port) > 1ull << 32)
		return -1;
	for (unsigned i = 0; i < hv->nr_ports; i++)
		if (ports_overlap(&hv->ports[i], port))
			return -1;
	hv->ports[hv->nr_ports++] = *port;
	return 0;
}

/* Copy a slow call's input out of guest memory, once (TLFS 3.7: aligned, within a page). */
static int read_input(struct partition *p, u64 gpa, void *buf, u64 len)
{
	const void *src;

	if (gpa & 7)
		return HV_STATUS_INVALID_ALIGNMENT;
	if ((gpa & ~PAGE_MASK) + len > PAGE_SIZE)
		return HV_STATUS_INVALID_ALIGNMENT;
	src = part_gpa_peek(p, gpa, len);
	if (!src)
		return HV_STATUS_INVALID_PARAMETER;
	memcpy(buf, src, len);
	return HV_STATUS_SUCCESS;
}

static int post_message(struct partition *p, const struct hv_call *c, u64 gpa)
{
	struct hv_post_message_input in;
	const struct hv_port *port;
	int st;

	if (c->fast || c->rep_count || c->rep_start || c->varhead)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	st = read_input(p, gpa, &in, sizeof(in));
	if (st == HV_STATUS_SUCCESS)
		st = hv_post_message_check(&in);
	if (st != HV_STATUS_SUCCESS)
		return st;
	port = find_port(&p->hv, in.connection_id);
	if (!port || !port->post)
		return HV_STATUS_INVALID_CONNECTION_ID;
	return port->post(port->ctx, in.connection_id, in.message_type, in.payload,
			  in.payload_size);
}

static int signal_event(struct partition *p, const struct hv_call *c, u64 rdx)
{
	const struct hv_port *port;
	u64 input = rdx;
	u32 conn_id;
	u16 flag;
	int st;

	if (c->rep_count || c->rep_start || c->varhead)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (!c->fast) {
		st = read_input(p, rdx, &input, sizeof(input));
		if (st != HV_STATUS_SUCCESS)
			return st;
	}
	st = hv_signal_event_decode(input, &conn_id, &flag);
	if (st != HV_STATUS_SUCCESS)
		return st;
	port = find_port(&p->hv, conn_id);
	if (!port || !port->signal)
		return HV_STATUS_INVALID_CONNECTION_ID;
	return port->signal(port->ctx, conn_id, flag);
}

void hypercall_dispatch(struct vp *vp)
{
	u64 *r = vp->regs.gpr;
	struct hv_call c;
	int st = hv_call_decode(r[REG_RCX], &c);

	vp->part->hv.hypercalls++;
	if (st == HV_STATUS_SUCCESS) {
		switch (c.code) {
		case HV_HC_BULKHEAD_ECHO:
			r[REG_RDX] = ~r[REG_RDX];
			break;
		case HV_HC_POST_MESSAGE:
			st = post_message(vp->part, &c, r[REG_RDX]);
			break;
		case HV_HC_SIGNAL_EVENT:
			st = signal_event(vp->part, &c, r[REG_RDX]);
			break;
		default:
			st = HV_STATUS_INVALID_HYPERCALL_CODE;
			break;
		}
	}
	r[REG_RAX] = (u64)st; /* no rep calls: reps completed (bits 43:32) stay 0 */
}

/* ---- timers ---- */

void hv_tick(struct partition *p, u64 now)
{
	synic_tick(&p->hv.synic, hv_clock_ref(&p->hv.clock, now));
}

u64 hv_next_deadline(const struct partition *p)
{
	u64 ref = synic_next_deadline(&p->hv.synic);

	return ref == ~0ull ? ~0ull : hv_clock_tsc(&p->hv.clock, ref);
}
