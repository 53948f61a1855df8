/*
 * ACPI tables of a guest partition: RSDP, XSDT, FADT, FACS and MADT built
 * here, and the DSDT compiled from kernel/acpi/dsdt.asl by iasl at build time.
 * Also the PM1 register bits that the emulated PM1a ports must honour.
 */
#ifndef BULKHEAD_ACPI_H
#define BULKHEAD_ACPI_H

#include "types.h"

/*
 * APIC ids and processor UIDs are 0..nr_cpus-1 in one-byte MADT fields; the
 * I/O APIC takes id nr_cpus, and 0xff is the xAPIC broadcast id.
 */
#define ACPI_MAX_CPUS 254

/* One page holds the tables for any valid nr_cpus (the unit test checks). */
#define ACPI_TABLES_SIZE PAGE_SIZE

/* Register block lengths the FADT declares (PM1a_EVT: status, then enable). */
#define ACPI_PM1_EVT_LEN 4
#define ACPI_PM1_CNT_LEN 2

/*
 * PM1 control register bits (ACPI 6.0, 4.8.3.2.1). There is no SMI_CMD port,
 * so the platform is always in ACPI mode: PM1a_CNT must read back with SCI_EN
 * set. Linux powers off by writing SLP_TYP = ACPI_S5_SLP_TYP, then the same
 * with SLP_EN set (acpi_hw_legacy_sleep).
 */
#define ACPI_PM1_CNT_SCI_EN	   (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK  (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN	   (1u << 13)

/* SLP_TYPa of the DSDT's \_S5 package (kernel/acpi/dsdt.asl; the unit test checks). */
#define ACPI_S5_SLP_TYP 5

/* System description table header (ACPI 6.3, 5.2.6): the guest's tables and the firmware's. */
struct acpi_header {
	char signature[4];
	u32 length; /* of the whole table, header included */
	u8 revision;
	u8 checksum; /* all bytes of the table sum to 0 */
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	char creator_id[4];
	u32 creator_revision;
} __packed;
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI table header");

struct acpi_params {
	u32 nr_cpus;	   /* 1..ACPI_MAX_CPUS */
	u64 lapic_base;	   /* local APIC MMIO base, below 4 GiB (0xfee00000) */
	u64 ioapic_base;   /* I/O APIC MMIO base, below 4 GiB (0xfec00000), GSI base 0 */
	u16 pm1a_evt_port; /* PM1a event block, ACPI_PM1_EVT_LEN bytes; not 0 */
	u16 pm1a_cnt_port; /* PM1a control block, ACPI_PM1_CNT_LEN bytes; not 0 */
	u8 sci_irq;	   /* ISA IRQ of the SCI (9): not 0 or 2, which the timer uses */
};

/*
 * Build the tables into buf (size bytes), which the guest sees at gpa
 * (16-byte aligned). The VMBus device is always in the DSDT. Returns 0 and
 * sets *rsdp_gpa (= gpa), or -1 if p is invalid or size is too small; buf is
 * untouched then. The guest's memory map should mark the range reserved or
 * ACPI NVS (the FACS lives there), not ACPI reclaimable.
 */
int acpi_build(void *buf, u64 size, u64 gpa, const struct acpi_params *p, u64 *rsdp_gpa);

/* The compiled DSDT (build/acpi/dsdt.aml), linked in by kernel/acpi.mk. */
extern const u8 acpi_dsdt_aml[];
extern const u64 acpi_dsdt_aml_len;

#endif
