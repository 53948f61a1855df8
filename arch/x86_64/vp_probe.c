/* Pick the VP back end from CPUID (SDM Vol.3 24.6; APM Vol.2 15.4). */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/vendor.h"

const struct vp_ops *vendor_ops;

static const struct vp_ops *probe(const char **why)
{
	struct cpuid_regs r;

	cpuid(CPUID_FEATURES, 0, &r);
	if (r.ecx & CPUID_1_ECX_VMX)
		return &vmx_ops;
	cpuid(CPUID_EXT_MAX, 0, &r);
	if (r.eax >= CPUID_EXT_FEATURES) {
		cpuid(CPUID_EXT_FEATURES, 0, &r);
		if (r.ecx & CPUID_X1_ECX_SVM)
			return &svm_ops;
	}
	*why = "the CPU offers neither VT-x nor AMD-V";
	return NULL;
}

const struct vp_ops *vp_probe(const char **why)
{
	vendor_ops = probe(why);
	return vendor_ops;
}
