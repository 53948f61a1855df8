/* Exit decoding (SVM) and the vendor-neutral exit handlers, on the host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86_64/svm.h"
#include "kernel/arch.h"
#include "kernel/exit.h"
#include "kernel/mitig.h"
#include "kernel/part.h"

/* ---- doubles for what the handlers call outside the units under test ---- */
static struct partition part;
static char tx_buf[256];
static unsigned tx_len;
static int injected_vector = -1;
static unsigned ibpbs, l1d_flushes;

void part_stop(struct partition *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->stop_reason, sizeof(p->stop_reason), fmt, ap);
	va_end(ap);
	p->state = PART_STOPPED;
}

void arch_cpuid(u32 leaf, u32 sub, u32 out[4])
{
	out[0] = out[1] = out[2] = out[3] = 0xffffffffu; /* every feature, to see the filter */
}

u64 arch_rdtsc(void)
{
	return 12345;
}

void arch_ibpb(void)
{
	ibpbs++;
}

void arch_l1d_flush(void)
{
	l1d_flushes++;
}

u64 arch_tsc_hz(void)
{
	return 1000000000;
}

/* Guest memory: one page at GPA 0x1000, nothing else. */
static u8 guest_page[4096] __attribute__((aligned(4096)));

void *part_gpa_to_hva(struct partition *p, u64 gpa, u64 len)
{
	if (gpa < 0x1000 || gpa + len > 0x2000)
		return NULL;
	return guest_page + (gpa - 0x1000);
}

/* Snapshots do not matter here: reads and writes see the same memory. */
void *part_gpa_peek(struct partition *p, u64 gpa, u64 len)
{
	return part_gpa_to_hva(p, gpa, len);
}

void con_printf(const char *fmt, ...)
{
}

void con_flush_guest_line(struct partition *p)
{
}

bool part_pm_io(struct partition *p, u16 port, bool in, u32 *val)
{
	return false;
}

/* No snapshot in these tests: no write is a tracked one. */
bool snap_write_fault(struct partition *p, u64 gpa)
{
	return false;
}

int arch_mmio_emulate(struct vp *vp, u64 gpa, arch_mmio_fn fn, void *ctx, char *why, size_t whylen)
{
	snprintf(why, whylen, "not in this test");
	return -1;
}

static void inject(struct vp *vp, u8 vector, bool has_error, u32 error)
{
	injected_vector = vector;
}

static bool no_vendor_msrs(struct vp *vp, u32 index, u64 *val, bool write)
{
	return false;
}

static const struct vp_ops test_ops = {
    .name = "test",
    .vp_inject_exception = inject,
    .vp_msr = no_vendor_msrs,
};
const struct vp_ops *vp_ops = &test_ops;

static void tx(void *ctx, u8 c)
{
	tx_buf[tx_len++ % sizeof(tx_buf)] = (char)c;
}

static int setup(void **state)
{
	memset(&part, 0, sizeof(part));
	memset(guest_page, 0, sizeof(guest_page));
	snprintf(part.name, sizeof(part.name), "t");
	part.vp.part = &part;
	part.mem_size = 0x2000;
	vlapic_init(&part.lapic, 0, arch_tsc_hz(), NULL, NULL);
	hv_init(&part, 0);
	uart_init(&part.uart, tx, NULL, NULL);
	tx_len = 0;
	injected_vector = -1;
	ibpbs = l1d_flushes = 0;
	memset(&mitig, 0, sizeof(mitig)); /* a CPU without speculation controls */
	return 0;
}

/* ---- SVM decode ---- */

static void test_svm_decode_ioio(void **state)
{
	struct vmcb v = {0};
	struct vm_exit e;

	v.c.exit_code = SVM_EXIT_IOIO;
	/* OUT DX, AL to 0x3f8: type 0 (out), SZ8 (bit 4), port in 31:16. */
	v.c.exit_info1 = (0x3f8ull << 16) | (1u << 4);
	v.s.rip = 0x1000;
	v.c.exit_info2 = 0x1001;
	svm_decode_exit(&v, &e);
	assert_int_equal(e.reason, EXIT_IO);
	assert_int_equal(e.io.port, 0x3f8);
	assert_int_equal(e.io.size, 1);
	assert_false(e.io.in);
	assert_false(e.io.string);
	assert_int_equal(e.insn_len, 1);

	/* REP INSW from 0x1f0 with a 2-byte instruction (prefix). */
	v.c.exit_info1 = (0x1f0ull << 16) | (1u << 5) | SVM_IOIO_IN | SVM_IOIO_STR | SVM_IOIO_REP;
	v.c.exit_info2 = 0x1002;
	svm_decode_exit(&v, &e);
	assert_int_equal(e.io.size, 2);
	assert_true(e.io.in && e.io.string && e.io.rep);
	assert_int_equal(e.insn_len, 2);
}

static void test_svm_decode_npf_and_others(void **state)
{
	struct vmcb v = {0};
	struct vm_exit e;

	v.c.exit_code = SVM_EXIT_NPF;
	v.c.exit_info1 = SVM_NPF_WRITE | 1;
	v.c.exit_info2 = 0xe0000000;
	svm_decode_exit(&v, &e);
	assert_int_equal(e.reason, EXIT_MEM_FAULT);
	assert_int_equal(e.mem.gpa, 0xe0000000);
	assert_int_equal(e.mem.access, MEM_WRITE);
	v.c.exit_info1 = SVM_NPF_FETCH;
	svm_decode_exit(&v, &e);
	assert_int_equal(e.mem.access, MEM_EXEC);
	v.c.exit_info1 = 0;
	svm_decode_exit(&v, &e);
	assert_int_equal(e.mem.access, MEM_READ);

	struct {
		u64 code, info1;
		enum vm_exit_reason reason;
		u8 len;
	} cases[] = {
	    {SVM_EXIT_CPUID, 0, EXIT_CPUID, 2},
	    {SVM_EXIT_HLT, 0, EXIT_HLT, 1},
	    {SVM_EXIT_MSR, 0, EXIT_MSR_READ, 2},
	    {SVM_EXIT_MSR, 1, EXIT_MSR_WRITE, 2},
	    {SVM_EXIT_VMMCALL, 0, EXIT_HYPERCALL, 3},
	    {SVM_EXIT_SHUTDOWN, 0, EXIT_TRIPLE_FAULT, 0},
	    {SVM_EXIT_INTR, 0, EXIT_INTR, 0},
	    /* Host events: the CPU takes them at STGI, the partition carries on (APM 15.17). */
	    {SVM_EXIT_NMI, 0, EXIT_INTR, 0},
	    {SVM_EXIT_SMI, 0, EXIT_INTR, 0},
	    {SVM_EXIT_INVALID, 0, EXIT_INVALID, 0},
	    {0x8f, 0, EXIT_UNHANDLED, 0},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&v, 0, sizeof(v));
		v.c.exit_code = cases[i].code;
		v.c.exit_info1 = cases[i].info1;
		svm_decode_exit(&v, &e);
		assert_int_equal(e.reason, cases[i].reason);
		assert_int_equal(e.insn_len, cases[i].len);
		assert_int_equal(e.raw, cases[i].code);
	}
}

/* MOV to CRn as the CR4-write intercept decodes it: no decode assists (APM Vol.2 15.11). */
static void test_svm_decode_mov_to_cr(void **state)
{
	struct {
		u8 bytes[6];
		unsigned n;
		bool long_mode;
		unsigned len, cr, gpr;
	} cases[] = {
	    {{0x0f, 0x22, 0xe0}, 3, false, 3, 4, REG_RAX},	 /* mov %eax, %cr4 */
	    {{0x0f, 0x22, 0x20}, 3, false, 3, 4, REG_RAX},	 /* mod bits ignored */
	    {{0x41, 0x0f, 0x22, 0xe5}, 4, true, 4, 4, REG_R13},	 /* REX.B */
	    {{0x44, 0x0f, 0x22, 0xc0}, 4, true, 4, 8, REG_RAX},	 /* REX.R: CR8 */
	    {{0xf0, 0x0f, 0x22, 0xc1}, 4, false, 4, 8, REG_RCX}, /* LOCK: CR8 (AltMovCr8) */
	    {{0x66, 0x2e, 0x0f, 0x22, 0xe3}, 5, false, 5, 4, REG_RBX},
	    {{0x41, 0x0f, 0x22, 0xe0}, 4, false, 0, 0, 0}, /* outside 64-bit mode 0x41 is INC */
	    {{0x0f, 0x20, 0xe0}, 3, true, 0, 0, 0},	   /* MOV from CR4 */
	    {{0x0f, 0x22}, 2, true, 0, 0, 0},		   /* truncated */
	    {{0x48}, 1, true, 0, 0, 0},
	    {{0}, 0, true, 0, 0, 0},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned cr = 99, gpr = 99;
		unsigned len =
		    svm_decode_mov_to_cr(cases[i].bytes, cases[i].n, cases[i].long_mode, &cr, &gpr);

		assert_int_equal(len, cases[i].len);
		if (!len)
			continue;
		assert_int_equal(cr, cases[i].cr);
		assert_int_equal(gpr, cases[i].gpr);
	}
	/* Fifteen prefixes leave no room for the opcode: never read past 15 bytes. */
	u8 many[20];
	memset(many, 0x66, sizeof(many));
	many[15] = 0x0f, many[16] = 0x22, many[17] = 0xe0;
	unsigned cr, gpr;
	assert_int_equal(svm_decode_mov_to_cr(many, sizeof(many), true, &cr, &gpr), 0);
}

/* What a MOV to CR4 may set on SVM: never PKE (PKRU is not switched), nor the other refused. */
static void test_svm_cr4_write_checks(void **state)
{
	struct vp_sregs lm = {.cr0 = 0x80050033, .cr3 = 0x1000, .cr4 = 0x6f0, .efer = 0xd01};
	struct vp_sregs pm = {.cr0 = 0x11, .cr4 = 0};

	assert_false(svm_cr4_write_faults(0, &lm, 0x6f0));
	assert_false(svm_cr4_write_faults(0, &lm, 0x6f0 & ~CR4_PGE)); /* a global flush */
	assert_true(svm_cr4_write_faults(0, &lm, 0x6f0 | CR4_PKE));
	assert_true(svm_cr4_write_faults(0, &pm, CR4_PKE));
	assert_true(svm_cr4_write_faults(0, &lm, 0x6f0 | CR4_OSXSAVE));
	assert_true(svm_cr4_write_faults(0, &lm, 0x6f0 | CR4_CET));
	assert_true(svm_cr4_write_faults(0, &lm, 0x6f0 | (1ull << 32)));
	assert_true(svm_cr4_write_faults(3, &lm, 0x6f0));	     /* CPL 3 */
	assert_true(svm_cr4_write_faults(0, &lm, 0x6f0 & ~CR4_PAE)); /* PAE off in long mode */
	assert_true(svm_cr4_write_faults(0, &lm, 0x6f0 | CR4_LA57));
	assert_false(svm_cr4_write_faults(0, &lm, 0x6f0 | CR4_PCIDE));
	lm.cr3 = 0x1001; /* PCIDE needs CR3[11:0] = 0 */
	assert_true(svm_cr4_write_faults(0, &lm, 0x6f0 | CR4_PCIDE));
	assert_true(svm_cr4_write_faults(0, &pm, CR4_PCIDE)); /* and IA-32e mode */
	assert_false(svm_cr4_write_faults(0, &pm, CR4_PAE | CR4_PSE));
}

/* A VMMCALL exit carries the VMCB's CPL and CR0.PE (APM Vol.2 15.5.1; TLFS 3.2). */
static void test_svm_vmmcall_privilege(void **state)
{
	struct vmcb v;
	struct vm_exit e;

	memset(&v, 0, sizeof(v));
	v.c.exit_code = SVM_EXIT_VMMCALL;
	v.s.cpl = 3;
	v.s.cr0 = 0x80000011;
	svm_decode_exit(&v, &e);
	assert_int_equal(e.hypercall.cpl, 3);
	assert_true(e.hypercall.protected_mode);
	v.s.cpl = 0;
	v.s.cr0 = 0x10;
	svm_decode_exit(&v, &e);
	assert_int_equal(e.hypercall.cpl, 0);
	assert_false(e.hypercall.protected_mode);
}

/* ---- handlers ---- */

static struct vm_exit io_exit(u16 port, u8 size, bool in)
{
	struct vm_exit e = {.reason = EXIT_IO, .insn_len = 1};

	e.io.port = port;
	e.io.size = size;
	e.io.in = in;
	return e;
}

static void test_io_uart_and_unknown_ports(void **state)
{
	struct vp *vp = &part.vp;
	struct vm_exit e = io_exit(0x3f8, 1, false);

	vp->regs.gpr[REG_RAX] = 'A';
	vp->regs.rip = 0x100;
	assert_false(exit_handle(vp, &e));
	assert_int_equal(tx_len, 1);
	assert_int_equal(tx_buf[0], 'A');
	assert_int_equal(vp->regs.rip, 0x101);

	e = io_exit(0x3fd, 1, true); /* LSR: transmitter empty */
	vp->regs.gpr[REG_RAX] = 0x1234567812345678ull;
	exit_handle(vp, &e);
	assert_int_equal(vp->regs.gpr[REG_RAX], 0x1234567812345660ull);

	e = io_exit(0x80, 2, true); /* nothing there: all ones, upper bits kept */
	vp->regs.gpr[REG_RAX] = 0xaaaa0000aaaa0000ull;
	exit_handle(vp, &e);
	assert_int_equal(vp->regs.gpr[REG_RAX], 0xaaaa0000aaaaffffull);

	e = io_exit(0x80, 4, true); /* 32-bit results zero-extend */
	exit_handle(vp, &e);
	assert_int_equal(vp->regs.gpr[REG_RAX], 0xffffffffull);
	assert_int_equal(part.state, PART_RUNNING);
}

static void test_io_debug_exit_and_string_io_stop(void **state)
{
	struct vm_exit e = io_exit(0xf4, 1, false);

	part.vp.regs.gpr[REG_RAX] = 3;
	assert_true(exit_handle(&part.vp, &e));
	assert_int_equal(part.state, PART_STOPPED);
	assert_string_equal(part.stop_reason, "guest exit code=3");

	setup(NULL);
	e = io_exit(0x3f8, 1, false);
	e.io.string = true;
	assert_true(exit_handle(&part.vp, &e));
	assert_int_equal(part.state, PART_STOPPED);
	assert_non_null(strstr(part.stop_reason, "string I/O"));
}

static void test_hypercalls(void **state)
{
	struct vm_exit e = {.reason = EXIT_HYPERCALL, .insn_len = 3};
	u64 *r = part.vp.regs.gpr;

	e.hypercall.protected_mode = true;
	r[REG_RCX] = 0x0fff;
	r[REG_RDX] = 0x123456789abcdef0ull;
	exit_handle(&part.vp, &e);
	assert_int_equal(r[REG_RAX], 0);
	assert_int_equal(r[REG_RDX], ~0x123456789abcdef0ull);
	assert_int_equal(part.vp.regs.rip, 3);

	r[REG_RCX] = 0x0ffe;
	exit_handle(&part.vp, &e);
	assert_int_equal(r[REG_RAX], 2); /* HV_STATUS_INVALID_HYPERCALL_CODE */
}

/* TLFS 3.2: a hypercall outside CPL 0 of protected mode is #UD and changes nothing. */
static void test_hypercalls_only_at_cpl0_in_protected_mode(void **state)
{
	struct vm_exit e = {.reason = EXIT_HYPERCALL, .insn_len = 3};
	u64 *r = part.vp.regs.gpr;
	const struct {
		u8 cpl;
		bool pm;
		u64 rflags;
	} bad[] = {{3, true, 0}, {1, true, 0}, {0, false, 0}, {0, true, RFLAGS_VM}};

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		r[REG_RCX] = 0x0fff; /* a call that would answer */
		r[REG_RDX] = 5;
		r[REG_RAX] = 77;
		part.vp.regs.rip = 0x1000;
		part.vp.regs.rflags = 2 | bad[i].rflags;
		injected_vector = -1;
		e.hypercall.cpl = bad[i].cpl;
		e.hypercall.protected_mode = bad[i].pm;
		assert_false(exit_handle(&part.vp, &e));
		assert_int_equal(injected_vector, 6);
		assert_int_equal(part.vp.regs.rip, 0x1000); /* a fault: not skipped */
		assert_int_equal(r[REG_RAX], 77);
		assert_int_equal(r[REG_RDX], 5);
	}
	part.vp.regs.rflags = 2;
	e.hypercall.cpl = 0;
	e.hypercall.protected_mode = true;
	injected_vector = -1;
	exit_handle(&part.vp, &e);
	assert_int_equal(injected_vector, -1);
	assert_int_equal(r[REG_RAX], 0);
	assert_int_equal(part.vp.regs.rip, 0x1003);
}

static void test_msr_allow_list(void **state)
{
	struct vm_exit rd = {.reason = EXIT_MSR_READ, .insn_len = 2};
	struct vm_exit wr = {.reason = EXIT_MSR_WRITE, .insn_len = 2};
	u64 *r = part.vp.regs.gpr;

	r[REG_RCX] = 0x10; /* IA32_TSC */
	exit_handle(&part.vp, &rd);
	assert_int_equal(r[REG_RAX], 12345);
	assert_int_equal(part.vp.regs.rip, 2);
	assert_int_equal(injected_vector, -1);

	r[REG_RCX] = 0x12345678;
	exit_handle(&part.vp, &rd);
	assert_int_equal(injected_vector, 13);
	assert_int_equal(part.vp.regs.rip, 2); /* faulting instruction not skipped */

	injected_vector = -1;
	exit_handle(&part.vp, &wr);
	assert_int_equal(injected_vector, 13);
}

/* RDMSR/WRMSR of index with val (EDX:EAX): the vector injected, -1 for none. */
static int msr_op(bool write, u32 index, u64 *val)
{
	struct vm_exit e = {.reason = write ? EXIT_MSR_WRITE : EXIT_MSR_READ, .insn_len = 2};
	u64 *r = part.vp.regs.gpr;

	injected_vector = -1;
	r[REG_RCX] = index;
	r[REG_RAX] = (u32)*val;
	r[REG_RDX] = *val >> 32;
	exit_handle(&part.vp, &e);
	if (!write)
		*val = (r[REG_RDX] << 32) | (u32)r[REG_RAX];
	return injected_vector;
}

/* A fake Intel CPU with every speculation control and ARCH_CAPABILITIES (mitig_decide). */
static void host_with_spec_controls(void)
{
	const struct mitig_cpu c = {
	    .l7_edx = CPUID7_EDX_IBRS_IBPB | CPUID7_EDX_STIBP | CPUID7_EDX_L1D_FLUSH |
		      CPUID7_EDX_ARCH_CAP | CPUID7_EDX_SSBD | CPUID7_EDX_MD_CLEAR,
	    .arch_caps = ARCH_CAP_RDCL_NO | ARCH_CAP_MDS_NO | ARCH_CAP_SKIP_L1DFL,
	};

	mitig_decide(&c, &mitig);
	part.vp.guest.mitig = mitig.on;
	part.vp.guest.spec_ctrl_bits = mitig.spec_ctrl_bits;
}

/* Without the host's controls the guest gets none: #GP, as on such a CPU. */
static void test_spec_msrs_absent(void **state)
{
	u64 v = 0;

	assert_int_equal(msr_op(false, MSR_IA32_SPEC_CTRL, &v), 13);
	v = 0;
	assert_int_equal(msr_op(true, MSR_IA32_SPEC_CTRL, &v), 13);
	v = PRED_CMD_IBPB;
	assert_int_equal(msr_op(true, MSR_IA32_PRED_CMD, &v), 13);
	v = FLUSH_CMD_L1D;
	assert_int_equal(msr_op(true, MSR_IA32_FLUSH_CMD, &v), 13);
	assert_int_equal(msr_op(false, MSR_IA32_ARCH_CAPABILITIES, &v), 13);
	assert_int_equal(ibpbs + l1d_flushes, 0);
}

/* SPEC_CTRL is the VP's own; PRED_CMD and FLUSH_CMD act on the CPU; bad bits are #GP. */
static void test_spec_msrs_virtualized(void **state)
{
	u64 v;

	host_with_spec_controls();
	v = SPEC_CTRL_IBRS | SPEC_CTRL_SSBD;
	assert_int_equal(msr_op(true, MSR_IA32_SPEC_CTRL, &v), -1);
	assert_int_equal(part.vp.spec_ctrl, SPEC_CTRL_IBRS | SPEC_CTRL_SSBD);
	v = 0;
	assert_int_equal(msr_op(false, MSR_IA32_SPEC_CTRL, &v), -1);
	assert_int_equal(v, SPEC_CTRL_IBRS | SPEC_CTRL_SSBD);
	v = 1ull << 7; /* not offered */
	assert_int_equal(msr_op(true, MSR_IA32_SPEC_CTRL, &v), 13);
	assert_int_equal(part.vp.spec_ctrl, SPEC_CTRL_IBRS | SPEC_CTRL_SSBD);

	v = PRED_CMD_IBPB;
	assert_int_equal(msr_op(true, MSR_IA32_PRED_CMD, &v), -1);
	assert_int_equal(ibpbs, 1);
	v = 2;
	assert_int_equal(msr_op(true, MSR_IA32_PRED_CMD, &v), 13);
	assert_int_equal(msr_op(false, MSR_IA32_PRED_CMD, &v), 13); /* write-only */
	assert_int_equal(ibpbs, 1);
	v = FLUSH_CMD_L1D;
	assert_int_equal(msr_op(true, MSR_IA32_FLUSH_CMD, &v), -1);
	assert_int_equal(l1d_flushes, 1);

	/* The CPU's own facts, less what is the hypervisor's business (SKIP_L1DFL_VMENTRY). */
	assert_int_equal(msr_op(false, MSR_IA32_ARCH_CAPABILITIES, &v), -1);
	assert_int_equal(v, ARCH_CAP_RDCL_NO | ARCH_CAP_MDS_NO);
}

/* The speculation CPUID bits are offered exactly when the host has them. */
static void test_cpuid_speculation_bits(void **state)
{
	u32 out[4];

	cpuid_emulate(7, 0, out); /* the fake host answers all ones */
	assert_int_equal(out[3] & 0xfc000000u, 0);
	assert_true(out[3] & CPUID7_EDX_MD_CLEAR); /* VERW needs no MSR: always the host's */
	cpuid_emulate(0x80000008, 0, out);
	assert_int_equal(out[1] & 0x0701f000u, 0);

	host_with_spec_controls();
	cpuid_emulate(7, 0, out);
	assert_int_equal(out[3] & 0xfc000000u, CPUID7_EDX_IBRS_IBPB | CPUID7_EDX_STIBP |
						   CPUID7_EDX_L1D_FLUSH | CPUID7_EDX_ARCH_CAP |
						   CPUID7_EDX_SSBD); /* not CORE_CAPABILITIES */
	cpuid_emulate(0x80000008, 0, out);
	assert_int_equal(out[1] & 0x0701f000u, 0); /* the fake host has no AMD bits */
}

static void test_cpuid_filter(void **state)
{
	u32 out[4];

	cpuid_emulate(1, 0, out);
	assert_true(out[2] & (1u << 31));  /* hypervisor present */
	assert_false(out[2] & (1u << 5));  /* no VMX */
	assert_false(out[2] & (1u << 26)); /* no XSAVE */
	cpuid_emulate(7, 0, out);
	assert_false(out[2] & (3u << 3));  /* no PKU, OSPKE: PKRU is not switched */
	assert_false(out[1] & (1u << 1));  /* no TSC_ADJUST: Linux would read the MSR */
	assert_false(out[2] & (1u << 7));  /* no CET shadow stacks ... */
	assert_false(out[3] & (1u << 20)); /* ... nor IBT: CR4.CET is refused */
	cpuid_emulate(0x80000001, 0, out);
	assert_false(out[2] & (1u << 2)); /* no SVM */
	cpuid_emulate(0x40000000, 0, out);
	assert_int_equal(out[0], 0x4000000a);
	assert_memory_equal(&out[1], "Microsoft Hv", 12);
	cpuid_emulate(0x40000001, 0, out);
	assert_int_equal(out[0], 0x31237648); /* "Hv#1" */
	cpuid_emulate(0x40000003, 0, out);
	assert_int_equal(out[0] & 0x60, 0x60); /* hypercall MSRs and VP index: Linux needs both */
	assert_false(out[1] & (1u << 12));     /* never CpuManagement: not the root partition */
	cpuid_emulate(0x400000ff, 0, out);
	assert_int_equal(out[0] | out[1] | out[2] | out[3], 0);
}

static void test_faults_and_halt(void **state)
{
	struct vm_exit e = {.reason = EXIT_MEM_FAULT};

	e.mem.gpa = 0xe0000000;
	e.mem.access = MEM_WRITE;
	assert_true(exit_handle(&part.vp, &e));
	assert_string_equal(part.stop_reason, "memory fault gpa=0xe0000000 access=write");

	setup(NULL);
	e = (struct vm_exit){.reason = EXIT_TRIPLE_FAULT};
	assert_true(exit_handle(&part.vp, &e));
	assert_string_equal(part.stop_reason, "triple fault");

	setup(NULL);
	e = (struct vm_exit){.reason = EXIT_HLT, .insn_len = 1};
	assert_true(exit_handle(&part.vp, &e));
	assert_int_equal(part.state, PART_HALTED);
	assert_int_equal(part.vp.regs.rip, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_svm_decode_ioio, setup),
	    cmocka_unit_test_setup(test_svm_decode_npf_and_others, setup),
	    cmocka_unit_test_setup(test_io_uart_and_unknown_ports, setup),
	    cmocka_unit_test_setup(test_io_debug_exit_and_string_io_stop, setup),
	    cmocka_unit_test_setup(test_hypercalls, setup),
	    cmocka_unit_test_setup(test_hypercalls_only_at_cpl0_in_protected_mode, setup),
	    cmocka_unit_test(test_svm_vmmcall_privilege),
	    cmocka_unit_test(test_svm_decode_mov_to_cr),
	    cmocka_unit_test(test_svm_cr4_write_checks),
	    cmocka_unit_test_setup(test_msr_allow_list, setup),
	    cmocka_unit_test_setup(test_cpuid_filter, setup),
	    cmocka_unit_test_setup(test_spec_msrs_absent, setup),
	    cmocka_unit_test_setup(test_spec_msrs_virtualized, setup),
	    cmocka_unit_test_setup(test_cpuid_speculation_bits, setup),
	    cmocka_unit_test_setup(test_faults_and_halt, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
