/* The fake machine of fuzz_exit_env.h: doubles for what kernel/exit.c and its callees need. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/vendor.h"
#include "kernel/arch.h"
#include "kernel/x86.h"
#include "kernel/con.h"
#include "tests/fuzz/fuzz_exit_env.h"

struct partition fx_part;
u8 *fx_ram[FX_PAGES];
u32 fx_absent;
struct vp_sregs fx_sregs;
int fx_injected = -1;
u64 fx_tx_bytes, fx_irq_changes;
u64 fx_tsc;

static void *page_of(u64 gpa, u64 len)
{
	u64 page = gpa >> PAGE_SHIFT;

	if (gpa >= fx_part.mem_size || len > PAGE_SIZE - (gpa & ~PAGE_MASK) || page >= FX_PAGES ||
	    (fx_absent >> page & 1))
		return NULL;
	return fx_ram[page] + (gpa & ~PAGE_MASK);
}

void *part_gpa_to_hva(struct partition *p, u64 gpa, u64 len)
{
	if (p != &fx_part)
		__builtin_trap();
	return page_of(gpa, len);
}

void *part_gpa_peek(struct partition *p, u64 gpa, u64 len)
{
	return part_gpa_to_hva(p, gpa, len);
}

void part_stop(struct partition *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->stop_reason, sizeof(p->stop_reason), fmt, ap);
	va_end(ap);
	p->state = PART_STOPPED;
}

/* No snapshot is being taken: no write fault is a tracked one. */
bool snap_write_fault(struct partition *p, u64 gpa)
{
	return false;
}

void arch_cpuid(u32 leaf, u32 sub, u32 out[4])
{
	out[0] = out[1] = out[2] = out[3] = 0xffffffffu;
}

/* The speculation barriers a guest may ask for (MSR writes): nothing to model. */
void arch_ibpb(void)
{
}

void arch_l1d_flush(void)
{
}

u64 arch_rdtsc(void)
{
	return fx_tsc;
}

u64 arch_tsc_hz(void)
{
	return FX_TSC_HZ;
}

void con_printf(const char *fmt, ...)
{
}

void con_flush_guest_line(struct partition *p)
{
}

static void get_sregs(struct vp *vp, struct vp_sregs *s)
{
	*s = fx_sregs;
}

static void inject(struct vp *vp, u8 vector, bool has_error, u32 error)
{
	fx_injected = vector;
}

static bool no_vendor_msrs(struct vp *vp, u32 index, u64 *val, bool write)
{
	return false;
}

static const u8 vmcall[3] = {0x0f, 0x01, 0xc1};
static const struct vp_ops fx_ops = {
    .name = "fake",
    .hypercall_insn = vmcall,
    .vp_get_sregs = get_sregs,
    .vp_inject_exception = inject,
    .vp_msr = no_vendor_msrs,
};
const struct vp_ops *vp_ops = &fx_ops;
const struct vp_ops *vendor_ops = &fx_ops;

/* vp_guest.read: one page at most, like kernel/part.c's. */
static int guest_read(void *ctx, u64 gpa, void *buf, unsigned len)
{
	const void *src = page_of(gpa, len);

	if (ctx != &fx_part)
		__builtin_trap();
	if (!src)
		return -1;
	memcpy(buf, src, len);
	return 0;
}

static void tx(void *ctx, u8 c)
{
	fx_tx_bytes++;
}

static void uart_irq(void *ctx, bool level)
{
	fx_irq_changes++;
	vioapic_set_pin(&fx_part.ioapic, 4, level); /* COM1 is ISA IRQ 4 */
}

static void eoi_level(void *ctx, u8 vector)
{
	vioapic_eoi(ctx, vector);
}

void fx_reset(bool is_linux)
{
	if (!fx_ram[0])
		for (unsigned i = 0; i < FX_PAGES; i++)
			fx_ram[i] = malloc(PAGE_SIZE);
	for (unsigned i = 0; i < FX_PAGES; i++)
		memset(fx_ram[i], 0, PAGE_SIZE);
	memset(&fx_part, 0, sizeof(fx_part));
	snprintf(fx_part.name, sizeof(fx_part.name), "fuzz");
	fx_part.state = PART_RUNNING;
	fx_part.is_linux = is_linux;
	fx_part.mem_size = FX_PAGES * PAGE_SIZE;
	fx_part.vp.part = &fx_part;
	fx_part.vp.guest.read = guest_read;
	fx_part.vp.guest.read_ctx = &fx_part;
	fx_part.vp.regs.rflags = RFLAGS_RESERVED1;
	fx_absent = 0;
	fx_injected = -1;
	fx_tx_bytes = fx_irq_changes = 0;
	fx_tsc = 1000000;
	memset(&fx_sregs, 0, sizeof(fx_sregs));
	vlapic_init(&fx_part.lapic, 0, FX_TSC_HZ, eoi_level, &fx_part.ioapic);
	vioapic_init(&fx_part.ioapic, 1, &fx_part.lapic);
	hv_init(&fx_part, fx_tsc);
	uart_init(&fx_part.uart, tx, uart_irq, &fx_part);
}
