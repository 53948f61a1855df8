/*
 * libFuzzer: the synthetic MSRs and the hypercall dispatcher of kernel/hv.c
 * (with the parsers, reference time, SynIC and LAPIC under it), as a hostile
 * guest drives them. fuzz_hypercall covers the parsers and the SynIC alone;
 * this one goes through hv_msr_read/hv_msr_write and hypercall_dispatch, so
 * every code (known or not), fast and slow, with rep and variable-header
 * bits, reads its input from a guest memory whose pages may be missing
 * (part_gpa_peek fails, as for MMIO or a GPA beyond RAM). Each guest page is
 * its own heap block, so ASan sees any access that leaves a page.
 *
 *   u8 ram_pages (pages of RAM, 0-8) | u8 absent (bit per page: no backing) | ops...
 *
 *   op % 8: 0 MSR read (u8 pick, u8 raw) | 1 MSR write (u8 pick, u8 raw, u64 value)
 *           2 hypercall (u64 rcx, u64 rdx, u8 port status) | 3 guest writes memory
 *           (u8 page, u16 offset, u8 len, bytes) | 4 time passes (u32) | 5 CPUID leaf (u8)
 *           6 save and load back the synthetic MSRs | 7 partition reset (hv_init)
 *
 * Checks: RAX after a call holds a known status and nothing else, reps completed
 * included; the port handlers see only what the TLFS allows (a checked payload
 * size and type, an id of their own range); MSRs read back only the bits a
 * write may set; the hypercall page, once enabled, holds the call instruction.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/arch.h"
#include "kernel/con.h"
#include "kernel/hv.h"
#include "kernel/part.h"
#include "kernel/snap_state.h"
#include "tests/fuzz/fuzz_input.h"

#define MAX_PAGES 8
#define MAX_OPS	  128
#define TSC_HZ	  2450000000ull

#define CONN_POST   4u /* a port for both calls, like VMBus's */
#define CONN_RANGE  0x20u
#define RANGE_COUNT 4u
#define CONN_NONE   0x99u /* a port with neither handler */

static struct partition part;
static u8 *pages[MAX_PAGES];
static u8 absent;
static u64 tsc;
static int port_status;

/* ---- doubles for what hv.c calls outside the units under test ---- */

u64 arch_rdtsc(void)
{
	return tsc;
}

u64 arch_tsc_hz(void)
{
	return TSC_HZ;
}

/* The contract of kernel/part.c: inside RAM and inside one page; absent pages fail. */
void *part_gpa_to_hva(struct partition *p, u64 gpa, u64 len)
{
	u64 page = gpa >> PAGE_SHIFT;

	check(p == &part);
	if (gpa >= p->mem_size || len > PAGE_SIZE - (gpa & ~PAGE_MASK) || page >= MAX_PAGES ||
	    (absent >> page & 1))
		return NULL;
	return pages[page] + (gpa & ~PAGE_MASK);
}

void *part_gpa_peek(struct partition *p, u64 gpa, u64 len)
{
	return part_gpa_to_hva(p, gpa, len);
}

void con_printf(const char *fmt, ...)
{
}

void con_flush_guest_line(struct partition *p)
{
	check(p == &part);
}

static const u8 vmcall[3] = {0x0f, 0x01, 0xc1};
static const struct vp_ops fake_ops = {.name = "fake", .hypercall_insn = vmcall};
const struct vp_ops *vp_ops = &fake_ops;

/* ---- ports ---- */

static int port_post(void *ctx, u32 conn_id, u32 type, const void *payload, u32 size)
{
	const struct hv_port *port = ctx;
	u8 copy[HV_MESSAGE_PAYLOAD_MAX];

	check(conn_id - port->conn_id < (port->count ? port->count : 1));
	check(size <= HV_MESSAGE_PAYLOAD_MAX && type && !(type & HV_MESSAGE_TYPE_HYPERVISOR));
	memcpy(copy, payload, size); /* ASan: the whole payload is readable */
	return port_status;
}

static int port_signal(void *ctx, u32 conn_id, unsigned flag)
{
	const struct hv_port *port = ctx;

	check(conn_id - port->conn_id < (port->count ? port->count : 1));
	check(flag < HV_EVENT_FLAGS_COUNT); /* TLFS 11.10.2: a flag of the SIEF page */
	return port_status;
}

static struct hv_port ports[3];

static void add_ports(void)
{
	ports[0] = (struct hv_port){CONN_POST, port_post, port_signal, &ports[0], 1};
	ports[1] = (struct hv_port){CONN_RANGE, NULL, port_signal, &ports[1], RANGE_COUNT};
	ports[2] = (struct hv_port){CONN_NONE, NULL, NULL, &ports[2], 1};
	part.hv.nr_ports = 0;
	for (unsigned i = 0; i < 3; i++)
		check(hv_port_add(&part, &ports[i]) == 0);
	check(hv_port_add(&part, &ports[0]) == -1); /* the same ids twice */
}

/* ---- the guest ---- */

static const u32 msrs[] = {
    HV_MSR_GUEST_OS_ID,	  HV_MSR_HYPERCALL,	HV_MSR_VP_INDEX,       HV_MSR_TIME_REF_COUNT,
    HV_MSR_REFERENCE_TSC, HV_MSR_TSC_FREQUENCY, HV_MSR_APIC_FREQUENCY, HV_MSR_VP_ASSIST_PAGE,
    HV_MSR_SCONTROL,	  HV_MSR_SVERSION,	HV_MSR_SIEFP,	       HV_MSR_SIMP,
    HV_MSR_EOM,		  HV_MSR_SINT0,		HV_MSR_SINT15,	       HV_MSR_STIMER0_CONFIG,
    HV_MSR_STIMER3_COUNT, HV_MSR_CRASH_P0,	HV_MSR_CRASH_P4,       HV_MSR_CRASH_CTL,
};

/* A synthetic MSR from the table, or any index near the range (pick bit 7). */
static u32 pick_msr(void)
{
	u8 pick = (u8)take(1), raw = (u8)take(1);

	if (pick & 0x80)
		return 0x40000000u + (u32)((pick & 1) << 8) + raw;
	return msrs[pick % ARRAY_SIZE(msrs)];
}

static void msr_read(void)
{
	u32 index = pick_msr();
	u64 val = 0;
	bool ok;

	if (!hv_msr_read(&part.vp, index, &val, &ok) || !ok)
		return;
	switch (index) {
	case HV_MSR_HYPERCALL:
		check(!(val & ~(HV_MSR_GPA_MASK | HV_MSR_ENABLE | HV_HYPERCALL_LOCKED)));
		break;
	case HV_MSR_REFERENCE_TSC:
	case HV_MSR_VP_ASSIST_PAGE:
		check(!(val & ~(HV_MSR_GPA_MASK | HV_MSR_ENABLE)));
		break;
	case HV_MSR_VP_INDEX:
		check(val == part.vp.index);
		break;
	}
}

static void msr_write(void)
{
	u32 index = pick_msr();
	u64 val = take(8);
	bool ok;
	u8 *page;

	if (!hv_msr_write(&part.vp, index, val, &ok) || !ok || index != HV_MSR_HYPERCALL)
		return;
	if (!(part.hv.hypercall & HV_MSR_ENABLE) || (part.hv.hypercall & HV_HYPERCALL_LOCKED))
		return;
	page = part_gpa_peek(&part, part.hv.hypercall & HV_MSR_GPA_MASK, 4);
	check(page && !memcmp(page, vmcall, 3) && page[3] == 0xc3);
}

static void hypercall(void)
{
	static const u64 known[] = {
	    HV_STATUS_SUCCESS,
	    HV_STATUS_INVALID_HYPERCALL_CODE,
	    HV_STATUS_INVALID_HYPERCALL_INPUT,
	    HV_STATUS_INVALID_ALIGNMENT,
	    HV_STATUS_INVALID_PARAMETER,
	    HV_STATUS_ACCESS_DENIED,
	    HV_STATUS_INVALID_CONNECTION_ID,
	    HV_STATUS_INSUFFICIENT_BUFFERS,
	};
	u64 *r = part.vp.regs.gpr;
	u64 rcx = take(8), rdx = take(8);
	u8 how = (u8)take(1);
	unsigned i;

	/* Steer most calls to the codes that exist, keeping the other control bits. */
	if (how & 0x80) {
		static const u16 codes[] = {HV_HC_POST_MESSAGE, HV_HC_SIGNAL_EVENT,
					    HV_HC_BULKHEAD_ECHO};

		rcx = (rcx & ~HV_HC_CODE_MASK) | codes[how % 3];
	}
	/* ... and the input to the ports' connection ids, or into RAM. */
	if (how & 0x40)
		rdx = (rdx & ~0xffffffffull) | (how & 0x20 ? CONN_RANGE + (how & 7) : CONN_POST);
	if (how & 0x10)
		rdx &= (MAX_PAGES << PAGE_SHIFT) - 1;
	port_status = how & 8 ? HV_STATUS_INSUFFICIENT_BUFFERS : HV_STATUS_SUCCESS;
	r[REG_RCX] = rcx;
	r[REG_RDX] = rdx;
	hypercall_dispatch(&part.vp);
	for (i = 0; i < ARRAY_SIZE(known) && r[REG_RAX] != known[i]; i++)
		;
	check(i < ARRAY_SIZE(known)); /* a status, no reps completed, nothing above */
	if ((rcx & HV_HC_CODE_MASK) == HV_HC_BULKHEAD_ECHO && r[REG_RAX] == HV_STATUS_SUCCESS)
		check(r[REG_RDX] == ~rdx);
	check(r[REG_RCX] == rcx);
}

static void guest_write(void)
{
	unsigned page = (unsigned)take(1) % MAX_PAGES;
	unsigned off = (unsigned)take(2) % PAGE_SIZE;
	unsigned len = (unsigned)take(1);

	while (len-- && off < PAGE_SIZE)
		pages[page][off++] = (u8)take(1);
}

static void save_and_load(void)
{
	struct hv_saved r;
	char err[96];
	u64 crash[5];

	hv_save(&part.hv, &r);
	memcpy(crash, part.hv.crash, sizeof(crash));
	check(hv_load(&part.hv, &r, err, sizeof(err)) == 0);
	check(!memcmp(crash, part.hv.crash, sizeof(crash)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u32 out[4];

	if (!pages[0])
		for (unsigned i = 0; i < MAX_PAGES; i++)
			pages[i] = malloc(PAGE_SIZE);
	if (size < 2)
		return 0;
	for (unsigned i = 0; i < MAX_PAGES; i++)
		memset(pages[i], 0, PAGE_SIZE);
	memset(&part, 0, sizeof(part));
	part.vp.part = &part;
	part.mem_size = (u64)(data[0] % (MAX_PAGES + 1)) << PAGE_SHIFT;
	absent = data[1];
	cur = data + 2;
	end = data + size;
	tsc = 1000000;
	vlapic_init(&part.lapic, 0, TSC_HZ, NULL, NULL);
	hv_init(&part, tsc);
	add_ports();
	for (unsigned n = 0; n < MAX_OPS && cur < end; n++) {
		switch (*cur++ % 8) {
		case 0:
			msr_read();
			break;
		case 1:
			msr_write();
			break;
		case 2:
			hypercall();
			break;
		case 3:
			guest_write();
			break;
		case 4:
			tsc += take(4);
			hv_tick(&part, tsc);
			break;
		case 5:
			hv_cpuid(0x40000000u + (u32)take(1), out);
			break;
		case 6:
			save_and_load();
			break;
		case 7:
			hv_init(&part, tsc);
			break;
		}
	}
	return 0;
}
