/*
 * The guest's ACPI tables: checksums, the RSDP -> XSDT -> FADT/MADT -> DSDT/FACS
 * links, the fields Linux reads, the compiled DSDT, and refusal of small buffers.
 * Fields are read at their ACPI 6.3 offsets, independently of kernel/acpi.c's
 * structures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/acpi.h"

#define HDR_LEN	 36
#define FADT_LEN 276
#define FACS_LEN 64
#define RSDP_LEN 36
#define PM1A_EVT 0x600
#define PM1A_CNT 0x604
#define LAPIC	 0xfee00000ull
#define IOAPIC	 0xfec00000ull
#define SCI	 9
#define TEST_GPA 0x000e0000ull
#define FILL	 0xa5

static const struct acpi_params base_params = {
    .nr_cpus = 1,
    .lapic_base = LAPIC,
    .ioapic_base = IOAPIC,
    .pm1a_evt_port = PM1A_EVT,
    .pm1a_cnt_port = PM1A_CNT,
    .sci_irq = SCI,
};

/* A buffer as the guest sees it at gpa. */
struct image {
	u8 buf[ACPI_TABLES_SIZE];
	u64 gpa;
	u64 rsdp;
};

static struct image img;

static u64 rd(const u8 *p, unsigned off, unsigned n)
{
	u64 v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (u64)p[off + i] << (8 * i);
	return v;
}

static u8 sum(const u8 *p, u64 len)
{
	u8 s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* The guest's view of [gpa, gpa + len): must lie inside the buffer. */
static const u8 *at(const struct image *im, u64 gpa, u64 len)
{
	assert_true(gpa >= im->gpa);
	assert_true(gpa + len <= im->gpa + sizeof(im->buf));
	return im->buf + (gpa - im->gpa);
}

/* A table with a standard header: signature, length, checksum. */
static const u8 *table(const struct image *im, u64 gpa, const char *sig)
{
	const u8 *t = at(im, gpa, HDR_LEN);
	u32 len = rd(t, 4, 4);

	assert_memory_equal(t, sig, 4);
	assert_true(len >= HDR_LEN);
	t = at(im, gpa, len);
	assert_int_equal(sum(t, len), 0);
	assert_memory_equal(t + 10, "BLKHD ", 6);
	return t;
}

static void build_at(struct image *im, u64 gpa, const struct acpi_params *p)
{
	memset(im->buf, FILL, sizeof(im->buf));
	im->gpa = gpa;
	im->rsdp = 0;
	assert_int_equal(acpi_build(im->buf, sizeof(im->buf), gpa, p, &im->rsdp), 0);
}

static const u8 *xsdt_entry(const struct image *im, unsigned i, const char *sig)
{
	const u8 *r = at(im, im->rsdp, RSDP_LEN);
	const u8 *x = table(im, rd(r, 24, 8), "XSDT");

	return table(im, rd(x, HDR_LEN + 8 * i, 8), sig);
}

static const u8 *fadt_of(const struct image *im)
{
	return xsdt_entry(im, 0, "FACP");
}

static const u8 *madt_of(const struct image *im)
{
	return xsdt_entry(im, 1, "APIC");
}

static const u8 *dsdt_of(const struct image *im)
{
	return table(im, rd(fadt_of(im), 140, 8), "DSDT");
}

/* One past the last byte any table uses, as an offset from im->gpa. */
static u64 used_bytes(const struct image *im)
{
	const u8 *f = fadt_of(im);
	u64 ends[] = {
	    im->rsdp + RSDP_LEN,
	    rd(at(im, im->rsdp, RSDP_LEN), 24, 8) + HDR_LEN + 16,
	    (u64)(f - im->buf) + im->gpa + FADT_LEN,
	    rd(f, 132, 8) + FACS_LEN,
	    (u64)(madt_of(im) - im->buf) + im->gpa + rd(madt_of(im), 4, 4),
	    rd(f, 140, 8) + acpi_dsdt_aml_len,
	};
	u64 end = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(ends); i++)
		end = MAX(end, ends[i]);
	return end - im->gpa;
}

static void test_rsdp(void **state)
{
	build_at(&img, TEST_GPA, &base_params);
	assert_int_equal(img.rsdp, TEST_GPA);
	const u8 *r = at(&img, img.rsdp, RSDP_LEN);

	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum(r, 20), 0);       /* ACPI 1.0 checksum */
	assert_int_equal(sum(r, RSDP_LEN), 0); /* extended checksum */
	assert_memory_equal(r + 9, "BLKHD ", 6);
	assert_int_equal(r[15], 2);		  /* revision */
	assert_int_equal(rd(r, 16, 4), 0);	  /* no RSDT */
	assert_int_equal(rd(r, 20, 4), RSDP_LEN); /* length */
	u64 xsdt = rd(r, 24, 8);
	at(&img, xsdt, HDR_LEN); /* inside the buffer */
	assert_int_equal(xsdt % 8, 0);
}

static void test_xsdt_lists_fadt_and_madt(void **state)
{
	build_at(&img, TEST_GPA, &base_params);
	const u8 *x = table(&img, rd(at(&img, img.rsdp, RSDP_LEN), 24, 8), "XSDT");

	assert_int_equal(rd(x, 4, 4), HDR_LEN + 2 * 8);
	assert_int_equal(x[8], 1); /* revision */
	assert_memory_equal(x + 16, "BULKHEAD", 8);
	fadt_of(&img);
	madt_of(&img);
	/* The DSDT is reached only through the FADT. */
	dsdt_of(&img);
}

static void test_fadt(void **state)
{
	build_at(&img, TEST_GPA, &base_params);
	const u8 *f = fadt_of(&img);
	u32 flags = rd(f, 112, 4);
	u32 boot = rd(f, 109, 2);

	assert_int_equal(rd(f, 4, 4), FADT_LEN);
	assert_int_equal(f[8], 6);		  /* revision */
	assert_int_equal(f[131] & 0xf, 3);	  /* minor revision */
	assert_int_equal(rd(f, 36, 4), 0);	  /* FIRMWARE_CTRL: X_ only */
	assert_int_equal(rd(f, 40, 4), 0);	  /* DSDT: X_ only */
	assert_int_equal(rd(f, 46, 2), SCI);	  /* SCI_INT */
	assert_int_equal(rd(f, 48, 4), 0);	  /* SMI_CMD: always in ACPI mode */
	assert_int_equal(rd(f, 52, 2), 0);	  /* ACPI_ENABLE / ACPI_DISABLE */
	assert_int_equal(rd(f, 56, 4), PM1A_EVT); /* PM1a_EVT_BLK */
	assert_int_equal(rd(f, 60, 4), 0);	  /* PM1b_EVT_BLK */
	assert_int_equal(rd(f, 64, 4), PM1A_CNT); /* PM1a_CNT_BLK */
	assert_int_equal(rd(f, 68, 4), 0);	  /* PM1b_CNT_BLK */
	assert_int_equal(rd(f, 76, 4), 0);	  /* PM_TMR_BLK */
	assert_int_equal(rd(f, 80, 8), 0);	  /* GPE0/GPE1 blocks */
	assert_int_equal(f[88], ACPI_PM1_EVT_LEN);
	assert_int_equal(f[88], 4);
	assert_int_equal(f[89], ACPI_PM1_CNT_LEN);
	assert_int_equal(f[89], 2);
	assert_int_equal(f[91], 0);	  /* PM_TMR_LEN */
	assert_true(rd(f, 96, 2) > 100);  /* no C2 */
	assert_true(rd(f, 98, 2) > 1000); /* no C3 */

	/* IAPC_BOOT_ARCH (5.2.9.3). */
	assert_false(boot & (1u << 1)); /* no 8042 */
	assert_true(boot & (1u << 2));	/* VGA not present */
	assert_false(boot & (1u << 3)); /* MSI supported */
	assert_true(boot & (1u << 5));	/* CMOS RTC not present */

	/* Fixed feature flags (5.2.9). */
	assert_true(flags & (1u << 0));	  /* WBINVD */
	assert_true(flags & (1u << 4));	  /* power button: control method / none */
	assert_true(flags & (1u << 5));	  /* sleep button: control method / none */
	assert_true(flags & (1u << 6));	  /* FIX_RTC: no RTC wake status */
	assert_false(flags & (1u << 7));  /* RTC_S4 */
	assert_false(flags & (1u << 10)); /* RESET_REG_SUP */
	assert_false(flags & (1u << 20)); /* HW_REDUCED_ACPI */

	/* X_PM1a_EVT_BLK and X_PM1a_CNT_BLK: system I/O GAS, same ports. */
	assert_int_equal(f[148], 1);
	assert_int_equal(f[149], 32);
	assert_int_equal(f[150], 0);
	assert_int_equal(rd(f, 152, 8), PM1A_EVT);
	assert_int_equal(f[172], 1);
	assert_int_equal(f[173], 16);
	assert_int_equal(rd(f, 176, 8), PM1A_CNT);
	/* PM1b, PM2, PM timer, GPE blocks, sleep registers: absent. */
	for (unsigned off = 160; off < 172; off++)
		assert_int_equal(f[off], 0);
	for (unsigned off = 184; off < 268; off++)
		assert_int_equal(f[off], 0);

	/* X_FIRMWARE_CTRL -> FACS (5.2.10): no checksum, 64-byte aligned. */
	u64 facs_gpa = rd(f, 132, 8);
	const u8 *facs = at(&img, facs_gpa, FACS_LEN);
	assert_int_equal(facs_gpa % 64, 0);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(rd(facs, 4, 4), FACS_LEN);
	assert_int_equal(facs[32], 2);	      /* version */
	assert_int_equal(rd(facs, 16, 4), 0); /* global lock free */

	/* X_DSDT -> exactly the AML iasl compiled. */
	const u8 *d = dsdt_of(&img);
	assert_int_equal(rd(d, 4, 4), acpi_dsdt_aml_len);
	assert_memory_equal(d, acpi_dsdt_aml, acpi_dsdt_aml_len);
}

struct madt_count {
	unsigned lapics, ioapics, isos;
};

/* Walk the MADT's entries, checking each against the expected layout. */
static struct madt_count check_madt(const struct image *im, u32 nr_cpus)
{
	const u8 *m = madt_of(im);
	u32 len = rd(m, 4, 4);
	struct madt_count c = {0};

	assert_int_equal(m[8], 5); /* revision */
	assert_int_equal(rd(m, 36, 4), LAPIC);
	assert_int_equal(rd(m, 40, 4), 0); /* PCAT_COMPAT clear */
	for (u32 off = 44; off < len;) {
		const u8 *e = m + off;

		assert_true(off + 2 <= len);
		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0: /* Processor Local APIC (5.2.12.2) */
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], c.lapics); /* UID */
			assert_int_equal(e[3], c.lapics); /* APIC id */
			assert_int_equal(rd(e, 4, 4), 1); /* enabled */
			c.lapics++;
			break;
		case 1: /* I/O APIC (5.2.12.3) */
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], nr_cpus); /* id differs from every APIC id */
			assert_int_equal(rd(e, 4, 4), IOAPIC);
			assert_int_equal(rd(e, 8, 4), 0); /* GSI base */
			c.ioapics++;
			break;
		case 2: /* Interrupt Source Override (5.2.12.5) */
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0); /* ISA */
			if (e[3] == 0) {
				assert_int_equal(rd(e, 4, 4), 2);
				assert_int_equal(rd(e, 8, 2), 0); /* conforms to ISA */
			} else {
				assert_int_equal(e[3], SCI);
				assert_int_equal(rd(e, 4, 4), SCI);
				/* active high (01), level (11 << 2) */
				assert_int_equal(rd(e, 8, 2), 0x0d);
			}
			c.isos++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
		off += e[1];
	}
	return c;
}

static void test_madt(void **state)
{
	struct acpi_params p = base_params;
	struct madt_count c;

	build_at(&img, TEST_GPA, &p);
	c = check_madt(&img, 1);
	assert_int_equal(c.lapics, 1);
	assert_int_equal(c.ioapics, 1);
	assert_int_equal(c.isos, 2);

	p.nr_cpus = 4;
	build_at(&img, TEST_GPA, &p);
	c = check_madt(&img, 4);
	assert_int_equal(c.lapics, 4);
	assert_int_equal(rd(madt_of(&img), 4, 4), 44 + 4 * 8 + 12 + 2 * 10);
}

static void test_max_cpus_fit_in_tables_size(void **state)
{
	struct acpi_params p = base_params;

	p.nr_cpus = ACPI_MAX_CPUS;
	build_at(&img, TEST_GPA, &p);
	assert_int_equal(check_madt(&img, ACPI_MAX_CPUS).lapics, ACPI_MAX_CPUS);
	assert_true(used_bytes(&img) <= ACPI_TABLES_SIZE);
}

/* Find name in the AML; returns its offset, or fails. */
static u32 find(const u8 *aml, u32 len, const void *name, u32 n)
{
	for (u32 i = 0; i + n <= len; i++)
		if (memcmp(aml + i, name, n) == 0)
			return i;
	fail_msg("%.*s not in the DSDT", (int)n, (const char *)name);
	return 0;
}

static void test_dsdt_s5_matches_header(void **state)
{
	build_at(&img, TEST_GPA, &base_params);
	const u8 *d = dsdt_of(&img);
	u32 len = rd(d, 4, 4);
	u32 i = find(d, len, "_S5_", 4) + 4;

	/* Package (4) { SLP_TYPa, SLP_TYPb, ... }: PackageOp, PkgLength, count, BytePrefix n. */
	assert_true(i + 7 <= len);
	assert_int_equal(d[i], 0x12);
	assert_int_equal(d[i + 2], 4);
	assert_int_equal(d[i + 3], 0x0a);
	assert_int_equal(d[i + 4], ACPI_S5_SLP_TYP);
	assert_int_equal(d[i + 5], 0x0a);
	assert_int_equal(d[i + 6], ACPI_S5_SLP_TYP);
	/* The value fits the 3-bit SLP_TYP field. */
	assert_int_equal(
	    (ACPI_S5_SLP_TYP << ACPI_PM1_CNT_SLP_TYP_SHIFT) & ~ACPI_PM1_CNT_SLP_TYP_MASK, 0);
}

static void test_dsdt_vmbus_device(void **state)
{
	build_at(&img, TEST_GPA, &base_params);
	const u8 *d = dsdt_of(&img);
	u32 len = rd(d, 4, 4);
	bool irq = false, window = false;

	find(d, len, "VMBS", 4);
	find(d, len, "_HID", 4);
	find(d, len, "_UID", 4);
	find(d, len, "_STA", 4);
	/* _HID returns the string (StringPrefix "VMBUS" NUL). */
	find(d, len, "\x0dVMBUS", 7);

	/* _CRS: Name (_CRS, Buffer (n) { descriptors }): BufferOp, 1-byte PkgLength, BytePrefix n.
	 */
	u32 i = find(d, len, "_CRS", 4) + 4;
	assert_int_equal(d[i], 0x11);
	assert_true(d[i + 1] < 0x40);
	assert_int_equal(d[i + 2], 0x0a);
	const u8 *r = d + i + 4, *end = r + d[i + 3];
	assert_true(end <= d + len);
	for (;;) {
		assert_true(r < end);
		if (r[0] & 0x80) { /* large descriptor (6.4.3) */
			u16 n = rd(r, 1, 2);
			/* An Extended IRQ would be taken as the ARM64 interrupt. */
			assert_int_not_equal(r[0], 0x89);
			if (r[0] == 0x87) {		   /* DWord address space (6.4.3.5.2) */
				assert_int_equal(r[3], 0); /* memory range */
				assert_int_equal(rd(r, 10, 4), 0xf8000000);
				assert_int_equal(rd(r, 14, 4), 0xfbffffff);
				assert_int_equal(rd(r, 22, 4), 64 << 20);
				/* Not RAM, not the I/O APIC or local APIC pages. */
				assert_true(rd(r, 14, 4) < IOAPIC);
				window = true;
			}
			r += 3 + n;
			continue;
		}
		if ((r[0] >> 3) == 0xf) /* end tag */
			break;
		if ((r[0] >> 3) == 0x4) { /* IRQ (6.4.2.1) */
			assert_int_equal(rd(r, 1, 2), 1u << 5);
			irq = true;
		}
		r += 1 + (r[0] & 7);
	}
	assert_true(irq);
	assert_true(window);
}

static void test_too_small_buffer_untouched(void **state)
{
	build_at(&img, TEST_GPA, &base_params);
	u64 need = used_bytes(&img);

	for (u64 size = 0; size <= need; size++) {
		/* Exactly size bytes, so ASan catches a write past the end. */
		u8 *b = malloc(size ? size : 1);
		u64 rsdp = 0x1234;

		assert_non_null(b);
		memset(b, FILL, size);
		int rc = acpi_build(b, size, TEST_GPA, &base_params, &rsdp);
		if (size < need) {
			assert_int_equal(rc, -1);
			assert_int_equal(rsdp, 0x1234);
			for (u64 j = 0; j < size; j++)
				assert_int_equal(b[j], FILL);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(rsdp, TEST_GPA);
			assert_memory_equal(b, img.buf, size);
		}
		free(b);
	}
}

static void test_invalid_params_refused(void **state)
{
	struct acpi_params bad[9];
	u64 rsdp = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
		bad[i] = base_params;
	bad[0].nr_cpus = 0;
	bad[1].nr_cpus = ACPI_MAX_CPUS + 1;
	bad[2].lapic_base = 1ull << 32;
	bad[3].ioapic_base = 1ull << 32;
	bad[4].pm1a_evt_port = 0;
	bad[5].pm1a_cnt_port = 0;
	bad[6].sci_irq = 0;
	bad[7].sci_irq = 2;
	bad[8].sci_irq = 16;
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(img.buf, FILL, sizeof(img.buf));
		assert_int_equal(acpi_build(img.buf, sizeof(img.buf), TEST_GPA, &bad[i], &rsdp),
				 -1);
		for (unsigned j = 0; j < sizeof(img.buf); j++)
			assert_int_equal(img.buf[j], FILL);
	}
	/* The RSDP must be 16-byte aligned. */
	assert_int_equal(acpi_build(img.buf, sizeof(img.buf), TEST_GPA + 8, &base_params, &rsdp),
			 -1);
	assert_int_equal(rsdp, 0);
}

static void test_pointers_follow_gpa(void **state)
{
	/* 16- but not 64-byte aligned, above 4 GiB: 64-bit pointers, FACS still aligned. */
	u64 gpa = (5ull << 32) + 0x10;

	build_at(&img, gpa, &base_params);
	assert_int_equal(img.rsdp, gpa);
	const u8 *f = fadt_of(&img);
	assert_int_equal(rd(f, 132, 8) % 64, 0);
	at(&img, rd(f, 132, 8), FACS_LEN);
	assert_memory_equal(dsdt_of(&img), acpi_dsdt_aml, acpi_dsdt_aml_len);
	check_madt(&img, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rsdp),
	    cmocka_unit_test(test_xsdt_lists_fadt_and_madt),
	    cmocka_unit_test(test_fadt),
	    cmocka_unit_test(test_madt),
	    cmocka_unit_test(test_max_cpus_fit_in_tables_size),
	    cmocka_unit_test(test_dsdt_s5_matches_header),
	    cmocka_unit_test(test_dsdt_vmbus_device),
	    cmocka_unit_test(test_too_small_buffer_untouched),
	    cmocka_unit_test(test_invalid_params_refused),
	    cmocka_unit_test(test_pointers_follow_gpa),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
