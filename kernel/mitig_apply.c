/*
 * The speculation mitigations put to work (docs/security.md): at boot, the
 * host CPU read through arch/ and the decision printed; per partition, the
 * `mitigations` key (`on`, the default, or `off`: the partition's own
 * entries and exits go without IBPB, L1D flush, VERW and RSB fill, e.g. for
 * `make bench`'s baseline). A guest's SPEC_CTRL is its own register and is
 * switched either way.
 */
#include "arch.h"
#include "config.h"
#include "ext.h"
#include "log.h"
#include "mitig.h"
#include "part.h"

#include <stdio.h>
#include <string.h>

#define CPUID_VENDOR	   0
#define CPUID_EXT_MAX_LEAF 0x80000000u
#define CPUID_LEAF7	   7
#define CPUID_EXT_ADDR	   0x80000008u

/* Vendors none of whose parts have L1TF or MDS/TAA (their CPUID.0 EBX, EDX, ECX). */
static bool unaffected_vendor(const u32 r[4])
{
	static const char *const names[] = {"AuthenticAMD", "HygonGenuine"};
	char v[13];

	memcpy(v, &r[1], 4);
	memcpy(v + 4, &r[3], 4);
	memcpy(v + 8, &r[2], 4);
	v[12] = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(v, names[i]))
			return true;
	return false;
}

void mitig_init(void)
{
	struct mitig_cpu c = {0};
	char line[96];
	u32 r[4];

	arch_cpuid(CPUID_VENDOR, 0, r);
	c.unaffected_vendor = unaffected_vendor(r);
	if (r[0] >= CPUID_LEAF7) {
		arch_cpuid(CPUID_LEAF7, 0, r);
		c.l7_ebx = r[1];
		c.l7_edx = r[3];
	}
	arch_cpuid(CPUID_EXT_MAX_LEAF, 0, r);
	if (r[0] >= CPUID_EXT_ADDR) {
		arch_cpuid(CPUID_EXT_ADDR, 0, r);
		c.lx8_ebx = r[1];
	}
	if (c.l7_edx & CPUID7_EDX_ARCH_CAP)
		c.arch_caps = arch_arch_capabilities();
	mitig_decide(&c, &mitig);
	if (mitig.spec_ctrl_bits)
		arch_spec_ctrl_host(mitig.host_spec_ctrl);
	mitig_describe(mitig.on, line, sizeof(line));
	kprintf("bulkhead: mitigations %s\n", line);
}

static int check_on_off(const struct cfg_value *v, char *err, size_t errlen)
{
	if (!strcmp(v->text, "on") || !strcmp(v->text, "off"))
		return 0;
	snprintf(err, errlen, "'%s' is neither on nor off", v->text);
	return -1;
}

CFG_KEY(mitig_key) = {
    .k = CFG_KEY_HEAD(0, "partition", "mitigations"),
    .check = check_on_off,
};

static int mitig_part_create(struct partition *p, const struct cfg_partition *c, char *err,
			     size_t errlen)
{
	const struct cfg_value *v = cfg_get(&c->values, "mitigations");
	bool off = v && !strcmp(v->text, "off");

	p->vp.guest.mitig = off ? mitig.on & VP_MITIG_SPEC_CTRL : mitig.on;
	p->vp.guest.spec_ctrl_bits = mitig.spec_ctrl_bits;
	return 0;
}

PART_EXT(mitig_part_ext) = {
    .name = "mitigations",
    .create = mitig_part_create,
};
