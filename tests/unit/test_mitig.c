/* The speculation-mitigation decisions (kernel/mitig.c) for CPUs of every kind, faked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/mitig.h"
#include "kernel/vp.h"
#include "kernel/x86.h"

#define ALL_SPEC_CTRL (SPEC_CTRL_IBRS | SPEC_CTRL_STIBP | SPEC_CTRL_SSBD)
#define INTEL_CONTROLS                                                                             \
	(CPUID7_EDX_IBRS_IBPB | CPUID7_EDX_STIBP | CPUID7_EDX_SSBD | CPUID7_EDX_MD_CLEAR)

static struct mitig decide(struct mitig_cpu c)
{
	struct mitig m;

	memset(&m, 0xa5, sizeof(m)); /* every field must be written */
	mitig_decide(&c, &m);
	return m;
}

/* An emulator: no controls at all. Only the RSB fill, which needs none. */
static void test_nothing_offered(void **state)
{
	struct mitig m = decide((struct mitig_cpu){0});
	char line[96];

	assert_int_equal(m.on, VP_MITIG_RSB);
	assert_int_equal(m.spec_ctrl_bits, 0);
	assert_int_equal(m.host_spec_ctrl, 0);
	assert_false(m.pred_cmd || m.flush_cmd || m.arch_caps);
	assert_int_equal(m.l7_edx | m.lx8_ebx, 0);
	mitig_describe(m.on, line, sizeof(line));
	assert_string_equal(line, "ibpb=off l1d=off verw=off rsb=on spec_ctrl=off");
}

/* Skylake-era Intel with microcode: no ARCH_CAPABILITIES, so L1TF-affected: flush, no VERW. */
static void test_old_intel_flushes_l1d(void **state)
{
	struct mitig m =
	    decide((struct mitig_cpu){.l7_edx = INTEL_CONTROLS | CPUID7_EDX_L1D_FLUSH});
	char line[96];

	assert_int_equal(m.on,
			 VP_MITIG_IBPB | VP_MITIG_L1D_FLUSH | VP_MITIG_RSB | VP_MITIG_SPEC_CTRL);
	assert_int_equal(m.spec_ctrl_bits, ALL_SPEC_CTRL);
	assert_int_equal(m.host_spec_ctrl, 0); /* no enhanced IBRS */
	assert_true(m.pred_cmd && m.flush_cmd);
	assert_false(m.arch_caps);
	assert_int_equal(m.l7_edx, CPUID7_EDX_IBRS_IBPB | CPUID7_EDX_STIBP | CPUID7_EDX_SSBD |
				       CPUID7_EDX_L1D_FLUSH);
	mitig_describe(m.on, line, sizeof(line));
	assert_string_equal(line, "ibpb=on l1d=on verw=off rsb=on spec_ctrl=on");
}

/* L1TF-affected without the flush command (old microcode): VERW at least, for MDS. */
static void test_no_flush_command_falls_back_to_verw(void **state)
{
	struct mitig m = decide((struct mitig_cpu){.l7_edx = INTEL_CONTROLS});

	assert_true(m.on & VP_MITIG_VERW);
	assert_false(m.on & VP_MITIG_L1D_FLUSH);
	assert_false(m.flush_cmd);
}

/* Cascade Lake: not L1TF- or MDS-affected, but TSX without TAA_NO: VERW; enhanced IBRS. */
static void test_taa_needs_verw(void **state)
{
	u64 caps = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL | ARCH_CAP_MDS_NO;
	struct mitig m = decide((struct mitig_cpu){
	    .l7_ebx = CPUID7_EBX_RTM,
	    .l7_edx = INTEL_CONTROLS | CPUID7_EDX_L1D_FLUSH | CPUID7_EDX_ARCH_CAP,
	    .arch_caps = caps,
	});

	assert_int_equal(m.on, VP_MITIG_IBPB | VP_MITIG_VERW | VP_MITIG_RSB | VP_MITIG_SPEC_CTRL);
	assert_int_equal(m.host_spec_ctrl, SPEC_CTRL_IBRS);
	assert_true(m.arch_caps);
	assert_int_equal(m.guest_arch_caps, caps & ~ARCH_CAP_SKIP_L1DFL);

	/* The same part with TSX off (no RTM): nothing to clear. */
	m = decide((struct mitig_cpu){
	    .l7_edx = INTEL_CONTROLS | CPUID7_EDX_L1D_FLUSH | CPUID7_EDX_ARCH_CAP,
	    .arch_caps = caps,
	});
	assert_false(m.on & (VP_MITIG_VERW | VP_MITIG_L1D_FLUSH));
}

/* Ice Lake and later: every _NO bit: neither flush nor VERW. */
static void test_unaffected_intel(void **state)
{
	struct mitig m = decide((struct mitig_cpu){
	    .l7_ebx = CPUID7_EBX_RTM,
	    .l7_edx = INTEL_CONTROLS | CPUID7_EDX_L1D_FLUSH | CPUID7_EDX_ARCH_CAP,
	    .arch_caps = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_MDS_NO | ARCH_CAP_TAA_NO,
	});

	assert_int_equal(m.on, VP_MITIG_IBPB | VP_MITIG_RSB | VP_MITIG_SPEC_CTRL);
}

/* SKIP_L1DFL_VMENTRY (a hypervisor below us flushes): no flush of our own. */
static void test_skip_l1d_flush(void **state)
{
	struct mitig m = decide((struct mitig_cpu){
	    .l7_edx = INTEL_CONTROLS | CPUID7_EDX_L1D_FLUSH | CPUID7_EDX_ARCH_CAP,
	    .arch_caps = ARCH_CAP_SKIP_L1DFL | ARCH_CAP_MDS_NO,
	});

	assert_false(m.on & (VP_MITIG_L1D_FLUSH | VP_MITIG_VERW));
}

/* ARCH_CAPABILITIES bits count only where CPUID lists the MSR. */
static void test_arch_caps_need_cpuid(void **state)
{
	struct mitig m = decide((struct mitig_cpu){
	    .l7_edx = INTEL_CONTROLS | CPUID7_EDX_L1D_FLUSH,
	    .arch_caps = ARCH_CAP_RDCL_NO | ARCH_CAP_MDS_NO | ARCH_CAP_IBRS_ALL,
	});

	assert_true(m.on & VP_MITIG_L1D_FLUSH);
	assert_false(m.arch_caps);
	assert_int_equal(m.guest_arch_caps, 0);
	assert_int_equal(m.host_spec_ctrl, 0);
}

/* AMD Zen 2: controls in Fn8000_0008 EBX, no L1TF or MDS whatever the bits say. */
static void test_amd(void **state)
{
	struct mitig m = decide((struct mitig_cpu){
	    .lx8_ebx = CPUIDX8_EBX_IBPB | CPUIDX8_EBX_IBRS | CPUIDX8_EBX_STIBP | CPUIDX8_EBX_SSBD |
		       (1u << 25) /* VIRT_SSBD: its MSR is not offered */,
	    .unaffected_vendor = true,
	});

	assert_int_equal(m.on, VP_MITIG_IBPB | VP_MITIG_RSB | VP_MITIG_SPEC_CTRL);
	assert_int_equal(m.spec_ctrl_bits, ALL_SPEC_CTRL);
	assert_true(m.pred_cmd);
	assert_int_equal(m.lx8_ebx, CPUIDX8_EBX_IBPB | CPUIDX8_EBX_IBRS | CPUIDX8_EBX_STIBP |
					CPUIDX8_EBX_SSBD);
	assert_int_equal(m.l7_edx, 0);

	/* IBPB alone (early Zen microcode): the barrier, but no SPEC_CTRL. */
	m = decide((struct mitig_cpu){.lx8_ebx = CPUIDX8_EBX_IBPB, .unaffected_vendor = true});
	assert_int_equal(m.on, VP_MITIG_IBPB | VP_MITIG_RSB);
	assert_int_equal(m.spec_ctrl_bits, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nothing_offered),
	    cmocka_unit_test(test_old_intel_flushes_l1d),
	    cmocka_unit_test(test_no_flush_command_falls_back_to_verw),
	    cmocka_unit_test(test_taa_needs_verw),
	    cmocka_unit_test(test_unaffected_intel),
	    cmocka_unit_test(test_skip_l1d_flush),
	    cmocka_unit_test(test_arch_caps_need_cpuid),
	    cmocka_unit_test(test_amd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
