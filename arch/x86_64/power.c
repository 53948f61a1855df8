/*
 * Power-off through the firmware's ACPI tables: RSDP -> XSDT -> FADT gives
 * PM1a_CNT; the DSDT's \_S5 package gives SLP_TYPa (ACPI 6.4, 5.2 and 7.4.2).
 */
#include "arch/x86_64/power.h"
#include "arch/x86_64/cpu.h"
#include "kernel/arch.h"
#include "kernel/acpi.h" /* struct acpi_header, PM1 control bits */
#include "kernel/log.h"

#include <string.h>

#define BOCHS_SHUTDOWN_PORT 0x8900 /* Bochs's own power-off port */
/*
 * Without ACPI tables (OVMF under Bochs builds none) fall back to the PIIX4
 * PM block where OVMF places it, 0xb000: PM1a_CNT at +4, S5 type 0 on the
 * i440fx machines (measured under Bochs 2.7 + OVMF 2022.11).
 */
#define PIIX4_PM1A_CNT	 0xb004
#define PIIX4_SLP_TYP_S5 0
#define AML_PACKAGE_OP	 0x12
#define AML_BYTE_PREFIX	 0x0a

/* FADT fields we read (ACPI 6.4, table 5.9). */
#define FADT_DSDT     40
#define FADT_PM1A_CNT 64
#define FADT_X_DSDT   140

static u16 pm1a_cnt;
static int slp_typ = -1;

static const struct acpi_header *find_table(u64 rsdp, const char *sig)
{
	const u8 *r = (const u8 *)rsdp;

	if (!rsdp || memcmp(r, "RSD PTR ", 8) || r[15] < 2)
		return NULL;
	const struct acpi_header *xsdt = (const void *)*(const u64 *)(r + 24);
	if (!xsdt || memcmp(xsdt->signature, "XSDT", 4))
		return NULL;
	unsigned n = (xsdt->length - sizeof(*xsdt)) / 8;
	const u8 *entries = (const u8 *)(xsdt + 1);
	for (unsigned i = 0; i < n; i++) {
		const struct acpi_header *t;
		memcpy(&t, entries + 8 * i, 8);
		if (t && !memcmp(t->signature, sig, 4))
			return t;
	}
	return NULL;
}

/* Find "_S5_" Package in AML and return its first element (SLP_TYPa). */
static int find_s5(const struct acpi_header *dsdt)
{
	const u8 *p = (const u8 *)dsdt, *end = p + dsdt->length;

	for (p += sizeof(*dsdt); p + 8 < end; p++) {
		if (memcmp(p, "_S5_", 4) || p[4] != AML_PACKAGE_OP)
			continue;
		const u8 *q = p + 5;
		q += 1 + (*q >> 6); /* PkgLength: lead byte bits 7:6 count extra bytes */
		q++;		    /* NumElements */
		if (q >= end)
			return -1;
		if (*q == AML_BYTE_PREFIX)
			return q + 1 < end ? q[1] : -1;
		return *q <= 1 ? *q : -1; /* ZeroOp / OneOp */
	}
	return -1;
}

void power_init(u64 rsdp)
{
	const struct acpi_header *fadt = find_table(rsdp, "FACP");

	if (!fadt)
		return;
	const u8 *f = (const u8 *)fadt;
	u64 dsdt = 0;
	if (fadt->length >= FADT_X_DSDT + 8)
		memcpy(&dsdt, f + FADT_X_DSDT, 8);
	if (!dsdt)
		dsdt = *(const u32 *)(f + FADT_DSDT);
	pm1a_cnt = (u16) * (const u32 *)(f + FADT_PM1A_CNT);
	if (dsdt)
		slp_typ = find_s5((const struct acpi_header *)dsdt);
}

void arch_poweroff(void)
{
	serial_flush();
	irq_disable();
	if (pm1a_cnt && slp_typ >= 0)
		outw(pm1a_cnt,
		     (u16)((slp_typ << ACPI_PM1_CNT_SLP_TYP_SHIFT) | ACPI_PM1_CNT_SLP_EN));
	else
		outw(PIIX4_PM1A_CNT,
		     (PIIX4_SLP_TYP_S5 << ACPI_PM1_CNT_SLP_TYP_SHIFT) | ACPI_PM1_CNT_SLP_EN);
	for (const char *s = "Shutdown"; *s; s++)
		outb(BOCHS_SHUTDOWN_PORT, (u8)*s);
	kprintf("bulkhead: power-off failed; halted\n");
	serial_flush();
	cpu_halt_forever();
}
