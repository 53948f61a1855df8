/* Pick the VP back end from CPUID (SDM Vol.3 24.6; APM Vol.2 15.4). */
#include "arch/x86_64/cpu.h"
#include "kernel/vp.h"

#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_X1_ECX_SVM (1u << 2)

const struct vp_ops *vp_probe(const char **why)
{
	struct cpuid_regs r;

	cpuid(1, 0, &r);
	if (r.ecx & CPUID_1_ECX_VMX)
		return &vmx_ops;
	cpuid(0x80000000, 0, &r);
	if (r.eax >= 0x80000001) {
		cpuid(0x80000001, 0, &r);
		if (r.ecx & CPUID_X1_ECX_SVM)
			return &svm_ops;
	}
	*why = "the CPU offers neither VT-x nor AMD-V";
	return NULL;
}
