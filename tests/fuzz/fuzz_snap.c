/*
 * Partition snapshot records (kernel/snap_state.h), as export/import will
 * read them from a disk image: the record parser with its growth rule,
 * then every device's load on what it accepted. No input may crash, read
 * out of bounds or load a device a load function should have refused
 * (a record that loads must save back to what was loaded).
 */
#include "kernel/hv.h"
#include "kernel/part.h"
#include "kernel/snap_state.h"
#include "kernel/synic.h"
#include "kernel/uart.h"
#include "kernel/vioapic.h"
#include "kernel/vlapic.h"

#include <stdlib.h>
#include <string.h>

static u8 page[4096];

static void *fake_page(void *ctx, u64 gpa)
{
	return gpa == 0x5000 ? page : NULL;
}

static void fake_raise(void *ctx, u8 vector)
{
}

static struct {
	struct part_saved part;
	struct vp_saved vp;
	struct vlapic_saved lapic;
	struct vioapic_saved ioapic;
	struct hv_saved hv;
	struct synic_saved synic, synic2;
	struct uart_saved uart, uart2;
	struct pm1_saved pm1;
} r;
static struct hv hv;
static struct vlapic lapic;
static struct vioapic ioapic;
static struct uart uart;
static struct vp_state vp;
static u8 fpu[VP_FPU_SIZE];

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static const struct snap_rec_type *const types[] = {
	    &snap_rec_part, &snap_rec_vp,    &snap_rec_lapic, &snap_rec_ioapic,
	    &snap_rec_hv,   &snap_rec_synic, &snap_rec_uart,  &snap_rec_pm1};
	void *const outs[] = {&r.part, &r.vp,	 &r.lapic, &r.ioapic,
			      &r.hv,   &r.synic, &r.uart,  &r.pm1};
	const struct synic_env env = {fake_page, fake_raise, NULL};
	char err[128];
	unsigned st;
	bool idle;
	u16 cnt, en;

	if (size > (1u << 20))
		return 0;
	/* The first byte: one record of types[byte] alone, or (8 and up) all of them. */
	unsigned first = 0, n = 8;

	if (size) {
		if (data[0] < 8)
			first = data[0], n = 1;
		data++, size--;
	}
	if (snap_recs_parse(data, (u32)size, types + first, outs + first, n, err, sizeof(err)))
		return 0;
	memset(&hv, 0, sizeof(hv));
	hv_clock_init(&hv.clock, 1000000000ull, 0);
	synic_init(&hv.synic, &env);
	vlapic_init(&lapic, 0, 1000000000ull, NULL, NULL);
	vioapic_init(&ioapic, 0, &lapic);
	uart_init(&uart, NULL, NULL, NULL);
	part_state_load(&r.part, &st, &idle, err, sizeof(err));
	vp_state_load(&r.vp, &vp, fpu, err, sizeof(err));
	vlapic_load(&lapic, &r.lapic, err, sizeof(err));
	vioapic_load(&ioapic, &r.ioapic, err, sizeof(err));
	hv_load(&hv, &r.hv, err, sizeof(err));
	pm1_load(&r.pm1, &cnt, &en, err, sizeof(err));
	if ((n == 8 || first == 5) && !synic_load(&hv.synic, &r.synic, err, sizeof(err))) {
		synic_save(&hv.synic, &r.synic2);
		if (memcmp(r.synic.queued, r.synic2.queued, sizeof(r.synic.queued)))
			abort();
		synic_tick(&hv.synic, ~0ull);
	}
	if ((n == 8 || first == 6) && !uart_load(&uart, &r.uart, err, sizeof(err))) {
		uart_save(&uart, &r.uart2);
		if (memcmp(&r.uart, &r.uart2, sizeof(r.uart)))
			abort();
	}
	return 0;
}
