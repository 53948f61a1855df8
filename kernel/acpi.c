/*
 * Builds the ACPI tables a partition's guest reads at boot: RSDP -> XSDT ->
 * {FADT -> {DSDT, FACS}, MADT}. Layouts follow ACPI 6.3 chapter 5 (section
 * numbers below are the same in 6.0 to 6.5). A full, not hardware-reduced
 * FADT, so that Linux powers off through PM1a_CNT and \_S5.
 */
#include <string.h>

#include "acpi.h"

#define ACPI_OEM_ID	   "BLKHD "
#define ACPI_OEM_TABLE_ID  "BULKHEAD"
#define ACPI_OEM_REV	   1
#define ACPI_CREATOR_ID	   "BLKH"
#define ACPI_CREATOR_REV   1
#define ACPI_HYPERVISOR_ID "BULKHEAD" /* FADT Hypervisor Vendor Identity, 8 bytes */

/* Root System Description Pointer, ACPI 2.0+ form (5.2.5.3). */
struct acpi_rsdp {
	char signature[8];
	u8 checksum; /* of the first 20 bytes (the ACPI 1.0 part) */
	char oem_id[6];
	u8 revision;
	u32 rsdt_address; /* 0: no RSDT, revision 2 readers use the XSDT */
	u32 length;
	u64 xsdt_address;
	u8 ext_checksum; /* of all 36 bytes */
	u8 reserved[3];
} __packed;
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
_Static_assert(offsetof(struct acpi_rsdp, length) == 20, "RSDP 1.0 part is 20 bytes");
#define ACPI_RSDP_V1_LEN   20
#define ACPI_RSDP_REVISION 2
#define ACPI_RSDP_ALIGN	   16

/* Extended System Description Table (5.2.8): 64-bit table pointers. */
#define ACPI_XSDT_ENTRIES  2 /* FADT, MADT */
#define ACPI_XSDT_REVISION 1
struct acpi_xsdt {
	struct acpi_header hdr;
	u64 entry[ACPI_XSDT_ENTRIES];
} __packed;
_Static_assert(sizeof(struct acpi_xsdt) == 36 + 8 * ACPI_XSDT_ENTRIES, "XSDT");

/* Generic Address Structure (5.2.3.2). */
struct acpi_gas {
	u8 space_id;
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;
	u64 address;
} __packed;
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS");
#define ACPI_GAS_SPACE_IO  1
#define ACPI_GAS_ACCESS_16 2

/* Fixed ACPI Description Table, revision 6 (5.2.9). */
struct acpi_fadt {
	struct acpi_header hdr;
	u32 firmware_ctrl; /* 32-bit pointers stay 0: the X_ fields are used */
	u32 dsdt;
	u8 reserved0;
	u8 preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable;
	u8 acpi_disable;
	u8 s4bios_req;
	u8 pstate_cnt;
	u32 pm1a_evt_blk;
	u32 pm1b_evt_blk;
	u32 pm1a_cnt_blk;
	u32 pm1b_cnt_blk;
	u32 pm2_cnt_blk;
	u32 pm_tmr_blk;
	u32 gpe0_blk;
	u32 gpe1_blk;
	u8 pm1_evt_len;
	u8 pm1_cnt_len;
	u8 pm2_cnt_len;
	u8 pm_tmr_len;
	u8 gpe0_blk_len;
	u8 gpe1_blk_len;
	u8 gpe1_base;
	u8 cst_cnt;
	u16 p_lvl2_lat;
	u16 p_lvl3_lat;
	u16 flush_size;
	u16 flush_stride;
	u8 duty_offset;
	u8 duty_width;
	u8 day_alrm;
	u8 mon_alrm;
	u8 century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	struct acpi_gas reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_version;
	u64 x_firmware_ctrl;
	u64 x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	u64 hypervisor_vendor_id;
} __packed;
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6");
_Static_assert(offsetof(struct acpi_fadt, sci_int) == 46, "FADT SCI_INT");
_Static_assert(offsetof(struct acpi_fadt, pm1a_evt_blk) == 56, "FADT PM1a_EVT_BLK");
_Static_assert(offsetof(struct acpi_fadt, pm1_evt_len) == 88, "FADT PM1_EVT_LEN");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT IAPC_BOOT_ARCH");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT Flags");
_Static_assert(offsetof(struct acpi_fadt, x_firmware_ctrl) == 132, "FADT X_FIRMWARE_CTRL");
_Static_assert(offsetof(struct acpi_fadt, x_pm1a_evt_blk) == 148, "FADT X_PM1a_EVT_BLK");
_Static_assert(offsetof(struct acpi_fadt, hypervisor_vendor_id) == 268, "FADT vendor id");
#define ACPI_FADT_REVISION 6
#define ACPI_FADT_MINOR	   3

/* FADT fixed feature flags (5.2.9, "Fixed ACPI Description Table Fixed Feature Flags"). */
#define ACPI_FADT_WBINVD     (1u << 0)
#define ACPI_FADT_PROC_C1    (1u << 2) /* C1 (HLT) works on every processor */
#define ACPI_FADT_PWR_BUTTON (1u << 4) /* 1: no fixed-feature power button */
#define ACPI_FADT_SLP_BUTTON (1u << 5) /* 1: no fixed-feature sleep button */
#define ACPI_FADT_FIX_RTC    (1u << 6) /* 1: no RTC wake status in fixed registers */

/* IA-PC boot architecture flags (5.2.9.3). */
#define ACPI_IAPC_LEGACY_DEVICES       (1u << 0) /* COM1 is an ISA device not in the namespace */
#define ACPI_IAPC_VGA_NOT_PRESENT      (1u << 2)
#define ACPI_IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)
/* 8042 (bit 1) clear: Linux then skips i8042 probing. MSI Not Supported (bit 3) clear. */

/* Latencies above these mean "C2 / C3 not supported" (5.2.9). */
#define ACPI_FADT_NO_C2_LAT 101
#define ACPI_FADT_NO_C3_LAT 1001

/* Firmware ACPI Control Structure (5.2.10): no checksum, 64-byte aligned. */
struct acpi_facs {
	char signature[4];
	u32 length;
	u32 hardware_signature;
	u32 firmware_waking_vector;
	u32 global_lock;
	u32 flags;
	u64 x_firmware_waking_vector;
	u8 version;
	u8 reserved0[3];
	u32 ospm_flags;
	u8 reserved1[24];
} __packed;
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");
#define ACPI_FACS_VERSION 2
#define ACPI_FACS_ALIGN	  64

/* Multiple APIC Description Table (5.2.12), followed by its entries. */
struct acpi_madt {
	struct acpi_header hdr;
	u32 lapic_address;
	u32 flags; /* PCAT_COMPAT (bit 0) clear: no dual 8259 to mask */
} __packed;
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");
#define ACPI_MADT_REVISION 5

/* Processor Local APIC structure (5.2.12.2). */
struct acpi_madt_lapic {
	u8 type;
	u8 length;
	u8 processor_uid;
	u8 apic_id;
	u32 flags;
} __packed;
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT local APIC");
#define ACPI_MADT_TYPE_LAPIC	0
#define ACPI_MADT_LAPIC_ENABLED (1u << 0)

/* I/O APIC structure (5.2.12.3). */
struct acpi_madt_ioapic {
	u8 type;
	u8 length;
	u8 ioapic_id;
	u8 reserved;
	u32 address;
	u32 gsi_base;
} __packed;
_Static_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT I/O APIC");
#define ACPI_MADT_TYPE_IOAPIC 1

/* Interrupt Source Override structure (5.2.12.5), flags are MPS INTI flags. */
struct acpi_madt_iso {
	u8 type;
	u8 length;
	u8 bus;	   /* 0: ISA */
	u8 source; /* ISA IRQ */
	u32 gsi;
	u16 flags;
} __packed;
_Static_assert(sizeof(struct acpi_madt_iso) == 10, "MADT interrupt source override");
#define ACPI_MADT_TYPE_ISO    2
#define ACPI_MADT_ISO_BUS_ISA 0
#define ACPI_MPS_CONFORMS     0x0 /* polarity and trigger of the bus (ISA: edge, high) */
#define ACPI_MPS_ACTIVE_HIGH  0x1
#define ACPI_MPS_LEVEL	      (0x3 << 2)
#define ACPI_MADT_ISO_COUNT   2 /* IRQ 0 -> GSI 2, SCI */
#define ACPI_PIT_IRQ	      0
#define ACPI_PIT_GSI	      2
#define ACPI_ISA_IRQS	      16

#define ACPI_TABLE_ALIGN 8

/* Where each table goes, as offsets from the start of the buffer. */
struct acpi_layout {
	u64 rsdp, xsdt, fadt, facs, madt, dsdt, end;
	u32 madt_len;
};

static u8 acpi_checksum(const void *p, u64 len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return (u8)-sum;
}

/* Reserve len bytes at the next GPA aligned to align; returns the offset. */
static u64 acpi_place(u64 gpa, u64 *cur, u64 len, u64 align)
{
	u64 off = ALIGN_UP(gpa + *cur, align) - gpa;

	*cur = off + len;
	return off;
}

static void acpi_plan(u64 gpa, u32 nr_cpus, struct acpi_layout *l)
{
	u64 cur = 0;

	l->madt_len = sizeof(struct acpi_madt) + nr_cpus * sizeof(struct acpi_madt_lapic) +
		      sizeof(struct acpi_madt_ioapic) +
		      ACPI_MADT_ISO_COUNT * sizeof(struct acpi_madt_iso);
	l->rsdp = acpi_place(gpa, &cur, sizeof(struct acpi_rsdp), ACPI_RSDP_ALIGN);
	l->xsdt = acpi_place(gpa, &cur, sizeof(struct acpi_xsdt), ACPI_TABLE_ALIGN);
	l->fadt = acpi_place(gpa, &cur, sizeof(struct acpi_fadt), ACPI_TABLE_ALIGN);
	l->facs = acpi_place(gpa, &cur, sizeof(struct acpi_facs), ACPI_FACS_ALIGN);
	l->madt = acpi_place(gpa, &cur, l->madt_len, ACPI_TABLE_ALIGN);
	l->dsdt = acpi_place(gpa, &cur, acpi_dsdt_aml_len, ACPI_TABLE_ALIGN);
	l->end = cur;
}

static bool acpi_params_valid(const struct acpi_params *p)
{
	if (p->nr_cpus == 0 || p->nr_cpus > ACPI_MAX_CPUS)
		return false;
	/* The MADT holds 32-bit addresses (no Local APIC Address Override). */
	if (p->lapic_base > UINT32_MAX || p->ioapic_base > UINT32_MAX)
		return false;
	if (p->pm1a_evt_port == 0 || p->pm1a_cnt_port == 0)
		return false;
	return p->sci_irq < ACPI_ISA_IRQS && p->sci_irq != ACPI_PIT_IRQ &&
	       p->sci_irq != ACPI_PIT_GSI;
}

/* iasl wrote the DSDT; a table that does not describe itself is a build bug. */
static bool acpi_dsdt_valid(void)
{
	struct acpi_header h;

	if (acpi_dsdt_aml_len < sizeof(h))
		return false;
	memcpy(&h, acpi_dsdt_aml, sizeof(h));
	return memcmp(h.signature, "DSDT", 4) == 0 && h.length == acpi_dsdt_aml_len;
}

static void acpi_header_init(struct acpi_header *h, const char *sig, u32 len, u8 rev)
{
	memcpy(h->signature, sig, sizeof(h->signature));
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, sizeof(h->oem_id));
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, sizeof(h->oem_table_id));
	h->oem_revision = ACPI_OEM_REV;
	memcpy(h->creator_id, ACPI_CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = ACPI_CREATOR_REV;
}

/* Last step of every table with a header: its body is complete. */
static void acpi_header_seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = acpi_checksum(h, h->length);
}

static void acpi_build_rsdp(struct acpi_rsdp *r, u64 xsdt_gpa)
{
	memcpy(r->signature, "RSD PTR ", sizeof(r->signature));
	memcpy(r->oem_id, ACPI_OEM_ID, sizeof(r->oem_id));
	r->revision = ACPI_RSDP_REVISION;
	r->length = sizeof(*r);
	r->xsdt_address = xsdt_gpa;
	r->checksum = acpi_checksum(r, ACPI_RSDP_V1_LEN);
	r->ext_checksum = acpi_checksum(r, sizeof(*r));
}

static void acpi_build_xsdt(struct acpi_xsdt *x, u64 fadt_gpa, u64 madt_gpa)
{
	acpi_header_init(&x->hdr, "XSDT", sizeof(*x), ACPI_XSDT_REVISION);
	x->entry[0] = fadt_gpa;
	x->entry[1] = madt_gpa;
	acpi_header_seal(&x->hdr);
}

static struct acpi_gas acpi_gas_io(u16 port, u8 len)
{
	struct acpi_gas g = {
	    .space_id = ACPI_GAS_SPACE_IO,
	    .bit_width = len * 8,
	    .access_size = ACPI_GAS_ACCESS_16,
	    .address = port,
	};
	return g;
}

static void acpi_build_fadt(struct acpi_fadt *f, const struct acpi_params *p, u64 dsdt_gpa,
			    u64 facs_gpa)
{
	acpi_header_init(&f->hdr, "FACP", sizeof(*f), ACPI_FADT_REVISION);
	f->minor_version = ACPI_FADT_MINOR;
	f->x_firmware_ctrl = facs_gpa;
	f->x_dsdt = dsdt_gpa;
	f->sci_int = p->sci_irq;
	/*
	 * smi_cmd = 0: no legacy (SMI) mode to leave, the platform is always
	 * in ACPI mode, so whoever emulates PM1a_CNT must read SCI_EN as 1.
	 */
	f->pm1a_evt_blk = p->pm1a_evt_port;
	f->pm1a_cnt_blk = p->pm1a_cnt_port;
	f->pm1_evt_len = ACPI_PM1_EVT_LEN;
	f->pm1_cnt_len = ACPI_PM1_CNT_LEN;
	f->x_pm1a_evt_blk = acpi_gas_io(p->pm1a_evt_port, ACPI_PM1_EVT_LEN);
	f->x_pm1a_cnt_blk = acpi_gas_io(p->pm1a_cnt_port, ACPI_PM1_CNT_LEN);
	/* No PM timer (pm_tmr_len 0: the guest times with the Hyper-V clocks), no GPE blocks. */
	f->p_lvl2_lat = ACPI_FADT_NO_C2_LAT;
	f->p_lvl3_lat = ACPI_FADT_NO_C3_LAT;
	f->iapc_boot_arch =
	    ACPI_IAPC_LEGACY_DEVICES | ACPI_IAPC_VGA_NOT_PRESENT | ACPI_IAPC_CMOS_RTC_NOT_PRESENT;
	f->flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_PWR_BUTTON |
		   ACPI_FADT_SLP_BUTTON | ACPI_FADT_FIX_RTC;
	memcpy(&f->hypervisor_vendor_id, ACPI_HYPERVISOR_ID, sizeof(f->hypervisor_vendor_id));
	acpi_header_seal(&f->hdr);
}

static void acpi_build_facs(struct acpi_facs *f)
{
	memcpy(f->signature, "FACS", sizeof(f->signature));
	f->length = sizeof(*f);
	f->version = ACPI_FACS_VERSION;
}

static u8 *acpi_madt_lapic(u8 *e, u8 uid, u8 apic_id)
{
	struct acpi_madt_lapic *l = (void *)e;

	l->type = ACPI_MADT_TYPE_LAPIC;
	l->length = sizeof(*l);
	l->processor_uid = uid;
	l->apic_id = apic_id;
	l->flags = ACPI_MADT_LAPIC_ENABLED;
	return e + sizeof(*l);
}

static u8 *acpi_madt_ioapic(u8 *e, u8 id, u32 address)
{
	struct acpi_madt_ioapic *io = (void *)e;

	io->type = ACPI_MADT_TYPE_IOAPIC;
	io->length = sizeof(*io);
	io->ioapic_id = id;
	io->address = address;
	io->gsi_base = 0;
	return e + sizeof(*io);
}

static u8 *acpi_madt_iso(u8 *e, u8 irq, u32 gsi, u16 flags)
{
	struct acpi_madt_iso *iso = (void *)e;

	iso->type = ACPI_MADT_TYPE_ISO;
	iso->length = sizeof(*iso);
	iso->bus = ACPI_MADT_ISO_BUS_ISA;
	iso->source = irq;
	iso->gsi = gsi;
	iso->flags = flags;
	return e + sizeof(*iso);
}

static void acpi_build_madt(struct acpi_madt *m, u32 len, const struct acpi_params *p)
{
	u8 *e = (u8 *)(m + 1);

	acpi_header_init(&m->hdr, "APIC", len, ACPI_MADT_REVISION);
	m->lapic_address = p->lapic_base;
	for (u32 i = 0; i < p->nr_cpus; i++)
		e = acpi_madt_lapic(e, i, i);
	e = acpi_madt_ioapic(e, p->nr_cpus, p->ioapic_base);
	/* The PIT's IRQ 0 is wired to pin 2, as on every PC with an I/O APIC. */
	e = acpi_madt_iso(e, ACPI_PIT_IRQ, ACPI_PIT_GSI, ACPI_MPS_CONFORMS);
	/*
	 * SCI: level-triggered, active-high, as PC chipsets wire it; without
	 * this entry Linux would assume active-low (acpi_sci_ioapic_setup).
	 * The I/O APIC model must treat pin sci_irq the same way.
	 */
	acpi_madt_iso(e, p->sci_irq, p->sci_irq, ACPI_MPS_LEVEL | ACPI_MPS_ACTIVE_HIGH);
	acpi_header_seal(&m->hdr);
}

int acpi_build(void *buf, u64 size, u64 gpa, const struct acpi_params *p, u64 *rsdp_gpa)
{
	struct acpi_layout l;
	u8 *b = buf;

	if (!IS_ALIGNED(gpa, ACPI_RSDP_ALIGN) || !acpi_params_valid(p) || !acpi_dsdt_valid())
		return -1;
	acpi_plan(gpa, p->nr_cpus, &l);
	if (l.end > size || gpa + l.end < gpa)
		return -1;

	memset(b, 0, l.end);
	memcpy(b + l.dsdt, acpi_dsdt_aml, acpi_dsdt_aml_len);
	acpi_build_facs((void *)(b + l.facs));
	acpi_build_madt((void *)(b + l.madt), l.madt_len, p);
	acpi_build_fadt((void *)(b + l.fadt), p, gpa + l.dsdt, gpa + l.facs);
	acpi_build_xsdt((void *)(b + l.xsdt), gpa + l.fadt, gpa + l.madt);
	acpi_build_rsdp((void *)(b + l.rsdp), gpa + l.xsdt);
	*rsdp_gpa = gpa + l.rsdp;
	return 0;
}
