/*
 * Booting Linux in a partition through PVH (kernel/pvh.h): the vmlinux
 * segments, the initrd high in RAM, ACPI tables and the start info in the
 * reserved area below 1 MiB, and the VP in 32-bit protected mode at the
 * kernel's PVH entry. Also the ACPI PM1a registers that power it off.
 *
 * Guest-physical layout:
 *   [0, 0x9f000)            RAM
 *   [0x9f000, 0x100000)     reserved: start info + memory map + command line
 *                           at 0x9f000, ACPI tables at 0xe0000
 *   [0x100000, memory)      RAM: the kernel at its p_paddr (16 MiB for
 *                           Debian's), the initrd at the top
 *   0xfec00000, 0xfee00000  I/O APIC, local APIC (x2APIC: MSRs only)
 */
#include "part.h"
#include "acpi.h"
#include "pvh.h"

#include <stdio.h>
#include <string.h>

#define ACPI_TABLES_GPA 0xe0000ull
#define PM1A_EVT_PORT	0x600
#define PM1A_CNT_PORT	(PM1A_EVT_PORT + ACPI_PM1_EVT_LEN)
#define PM1_EN_OFFSET	2 /* PM1 enable follows the 2-byte status register (ACPI 6.3, 4.8.3.1) */
#define SCI_IRQ		9

/* Copy into (or zero) guest memory page by page; the range was checked by pvh_parse. */
static int guest_write(void *ctx, u64 gpa, const void *src, u64 len)
{
	struct partition *p = ctx;

	for (u64 off = 0; off < len;) {
		u64 chunk = MIN(PAGE_SIZE - ((gpa + off) & ~PAGE_MASK), len - off);
		u8 *dst = part_gpa_peek(p, gpa + off, chunk);

		if (!dst)
			return -1;
		if (src)
			memcpy(dst, (const u8 *)src + off, chunk);
		else
			memset(dst, 0, chunk);
		off += chunk;
	}
	return 0;
}

static int load_acpi(struct partition *p, u64 *rsdp, char *err, size_t errlen)
{
	const struct acpi_params ap = {
	    .nr_cpus = 1,
	    .lapic_base = VLAPIC_BASE_ADDR,
	    .ioapic_base = VIOAPIC_BASE,
	    .pm1a_evt_port = PM1A_EVT_PORT,
	    .pm1a_cnt_port = PM1A_CNT_PORT,
	    .sci_irq = SCI_IRQ,
	};
	void *buf = part_gpa_peek(p, ACPI_TABLES_GPA, ACPI_TABLES_SIZE);

	if (!buf || acpi_build(buf, ACPI_TABLES_SIZE, ACPI_TABLES_GPA, &ap, rsdp)) {
		snprintf(err, errlen, "cannot build the ACPI tables");
		return -1;
	}
	return 0;
}

int part_linux_boot(struct partition *p, char *err, size_t errlen)
{
	struct pvh_kernel k;
	struct pvh_layout l = {
	    .mem_size = p->mem_size,
	    .start_info_gpa = PVH_START_INFO_GPA,
	    .cmdline = p->cmdline,
	    .nr_reserved = 1,
	    .reserved = {{PVH_LOW_RESERVED_BASE, PVH_LOW_RESERVED_END - PVH_LOW_RESERVED_BASE,
			  PVH_MEMMAP_RESERVED}},
	};
	struct vp_regs regs;
	struct vp_sregs sregs;
	void *info = part_gpa_peek(p, PVH_START_INFO_GPA, PVH_START_INFO_SIZE);

	if (pvh_parse(p->image, p->image_size, p->mem_size, &k, err, errlen))
		return -1;
	if (pvh_load(p->image, p->image_size, &k, guest_write, p)) {
		snprintf(err, errlen, "vmlinux: cannot load its segments");
		return -1;
	}
	if (p->initrd_size) {
		l.initrd_size = p->initrd_size;
		if (pvh_place_initrd(&k, &l, &l.initrd_gpa, err, errlen) ||
		    guest_write(p, l.initrd_gpa, p->initrd, p->initrd_size))
			return -1;
	}
	if (load_acpi(p, &l.rsdp_gpa, err, errlen))
		return -1;
	if (!info || pvh_build_start_info(info, PVH_START_INFO_SIZE, &k, &l, err, errlen) < 0)
		return -1;
	pvh_entry_state(&k, PVH_START_INFO_GPA, &regs, &sregs);
	p->vp.regs = regs;
	vp_ops->vp_set_sregs(&p->vp, &sregs);
	return 0;
}

/* ---- ACPI PM1a event and control blocks (ACPI 6.3, 4.8.3.1 and 4.8.3.2) ---- */

bool part_pm_io(struct partition *p, u16 port, bool in, u32 *val)
{
	if (!p->is_linux || port < PM1A_EVT_PORT || port >= PM1A_CNT_PORT + ACPI_PM1_CNT_LEN)
		return false;
	if (port == PM1A_EVT_PORT + PM1_EN_OFFSET) {
		/* Enable bits are kept (ACPICA checks GBL_EN reads back); no event ever fires. */
		if (in)
			*val = p->pm1_en;
		else
			p->pm1_en = (u16)*val;
		return true;
	}
	if (port != PM1A_CNT_PORT) {
		if (in)
			*val = 0; /* PM1 status: no fixed event is ever pending */
		return true;
	}
	if (in) {
		/* SMI_CMD is 0 in the FADT: ACPI mode is always on, SCI_EN reads as 1. */
		*val = p->pm1_cnt | ACPI_PM1_CNT_SCI_EN;
		return true;
	}
	p->pm1_cnt = *val & ACPI_PM1_CNT_SLP_TYP_MASK;
	if ((*val & ACPI_PM1_CNT_SLP_EN) &&
	    ((*val & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT) == ACPI_S5_SLP_TYP)
		part_stop(p, "powered off (ACPI S5)");
	return true;
}
