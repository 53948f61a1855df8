/* VT-x exit decode: raw exit information (SDM Vol.3C 28.2, appendix C) to struct vm_exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86_64/vmx.h"
#include "kernel/vp.h"

static struct vm_exit decode(u32 reason, u64 qual, u64 gpa, u32 len, u32 intr)
{
	struct vmx_exit_info x = {
	    .reason = reason, .qual = qual, .gpa = gpa, .insn_len = len, .intr_info = intr};
	struct vm_exit e;

	memset(&e, 0xcc, sizeof(e)); /* decode must set every field it reports */
	vmx_decode_exit(&x, &e);
	return e;
}

static void test_fixed_length_exits_keep_length(void **state)
{
	struct vm_exit e = decode(EXIT_REASON_CPUID, 0, 0, 2, 0);

	assert_int_equal(e.reason, EXIT_CPUID);
	assert_int_equal(e.insn_len, 2);
	e = decode(EXIT_REASON_VMCALL, 0, 0, 3, 0);
	assert_int_equal(e.reason, EXIT_HYPERCALL);
	assert_int_equal(e.insn_len, 3);
	assert_int_equal(decode(EXIT_REASON_HLT, 0, 0, 1, 0).reason, EXIT_HLT);
	assert_int_equal(decode(EXIT_REASON_RDMSR, 0, 0, 2, 0).reason, EXIT_MSR_READ);
	assert_int_equal(decode(EXIT_REASON_WRMSR, 0, 0, 2, 0).reason, EXIT_MSR_WRITE);
}

/* A VMCALL exit says where it came from: CPL is SS.DPL, protected mode is CR0.PE (TLFS 3.2). */
static void test_vmcall_privilege(void **state)
{
	struct vmx_exit_info x = {
	    .reason = EXIT_REASON_VMCALL, .insn_len = 3, .cr0 = 0x80000011, .ss_ar = 0xc093};
	struct vm_exit e;

	vmx_decode_exit(&x, &e);
	assert_int_equal(e.hypercall.cpl, 0);
	assert_true(e.hypercall.protected_mode);
	x.ss_ar = 0xc0f3; /* DPL 3 */
	vmx_decode_exit(&x, &e);
	assert_int_equal(e.hypercall.cpl, 3);
	x.ss_ar = 0x93;
	x.cr0 = 0x10; /* real mode */
	vmx_decode_exit(&x, &e);
	assert_false(e.hypercall.protected_mode);
}

static void test_io_qualification(void **state)
{
	/* OUT DX, AL to 0x3f8: size-1 = 0, direction out (SDM table 28-5). */
	struct vm_exit e = decode(EXIT_REASON_IO, 0x3f8ull << IO_QUAL_PORT_SHIFT, 0, 1, 0);

	assert_int_equal(e.reason, EXIT_IO);
	assert_int_equal(e.io.port, 0x3f8);
	assert_int_equal(e.io.size, 1);
	assert_false(e.io.in);
	assert_false(e.io.string);
	/* REP INSD from 0xf4: size 4, in, string, rep. */
	e = decode(EXIT_REASON_IO,
		   (0xf4ull << IO_QUAL_PORT_SHIFT) | 3 | IO_QUAL_IN | IO_QUAL_STRING | IO_QUAL_REP,
		   0, 2, 0);
	assert_int_equal(e.io.port, 0xf4);
	assert_int_equal(e.io.size, 4);
	assert_true(e.io.in && e.io.string && e.io.rep);
	assert_int_equal(e.insn_len, 2);
}

static void test_ept_violation_access_kinds(void **state)
{
	struct vm_exit e = decode(EXIT_REASON_EPT_VIOLATION, EPT_QUAL_WRITE, 0xe0000000, 0, 0);

	assert_int_equal(e.reason, EXIT_MEM_FAULT);
	assert_int_equal(e.mem.gpa, 0xe0000000);
	assert_int_equal(e.mem.access, MEM_WRITE);
	e = decode(EXIT_REASON_EPT_VIOLATION, EPT_QUAL_READ | EPT_QUAL_FETCH, 0x1234, 0, 0);
	assert_int_equal(e.mem.access, MEM_READ | MEM_EXEC);
	assert_int_equal(e.mem.gpa, 0x1234);
}

static void test_host_events_and_faults(void **state)
{
	assert_int_equal(decode(EXIT_REASON_EXT_INTR, 0, 0, 0, 0).reason, EXIT_INTR);
	assert_int_equal(
	    decode(EXIT_REASON_EXCEPTION_NMI, 0, 0, 0, INTR_INFO_VALID | INTR_TYPE_NMI | 2).reason,
	    EXIT_INTR);
	/* An exception exit is never asked for: it is reported, not swallowed. */
	assert_int_equal(decode(EXIT_REASON_EXCEPTION_NMI, 0, 0, 0,
				INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | 14)
			     .reason,
			 EXIT_UNHANDLED);
	assert_int_equal(decode(EXIT_REASON_TRIPLE_FAULT, 0, 0, 0, 0).reason, EXIT_TRIPLE_FAULT);
	assert_int_equal(decode(EXIT_REASON_PREEMPT_TIMER, 0, 0, 0, 0).reason, EXIT_PREEMPT);
}

static void test_entry_failure_and_unknown(void **state)
{
	struct vm_exit e =
	    decode(EXIT_REASON_ENTRY_FAIL | EXIT_REASON_INVALID_GUEST_STATE, 0, 0, 0, 0);

	assert_int_equal(e.reason, EXIT_INVALID);
	assert_int_equal(e.raw, EXIT_REASON_ENTRY_FAIL | EXIT_REASON_INVALID_GUEST_STATE);
	e = decode(EXIT_REASON_EPT_MISCONFIG, 0, 0xabc000, 0, 0);
	assert_int_equal(e.reason, EXIT_UNHANDLED);
	assert_int_equal(e.qual, 0xabc000); /* the GPA is what a bug report needs */
	assert_int_equal(decode(0xfff0, 0, 0, 0, 0).reason, EXIT_UNHANDLED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vmcall_privilege),
	    cmocka_unit_test(test_fixed_length_exits_keep_length),
	    cmocka_unit_test(test_io_qualification),
	    cmocka_unit_test(test_ept_violation_access_kinds),
	    cmocka_unit_test(test_host_events_and_faults),
	    cmocka_unit_test(test_entry_failure_and_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
