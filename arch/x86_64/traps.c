/*
 * Host exceptions and interrupts: report and halt, acknowledge the timer, or
 * count a host NMI (a watchdog, a platform error report, or one an exit held
 * back until STGI) and carry on.
 */
#include "arch/x86_64/desc.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/apic.h"
#include "kernel/arch.h"
#include "kernel/log.h"

extern char __image_start[], __image_end[];

#define NMI_REPORT_US 10000000ull /* at most one NMI line per 10 s */

static u64 nmi_count, nmi_reported, nmi_last_report_us;

static const char *const exc_names[] = {
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound",
    "#UD invalid opcode",
    "#NM no FPU",
    "#DF double fault",
    "coprocessor",
    "#TS invalid TSS",
    "#NP not present",
    "#SS stack fault",
    "#GP general protection",
    "#PF page fault",
    "reserved",
    "#MF x87 error",
    "#AC alignment",
    "#MC machine check",
    "#XM SIMD error",
    "#VE virtualization",
    "#CP control protection",
};

static bool in_image(u64 a)
{
	return a >= (u64)__image_start && a < (u64)__image_end;
}

void backtrace(u64 rbp)
{
	kprintf("backtrace:\n");
	for (int depth = 0; depth < 32 && rbp && IS_ALIGNED(rbp, 8) && in_image(rbp); depth++) {
		u64 *frame = (u64 *)rbp;
		u64 ret = frame[1];

		if (!in_image(ret))
			break;
		kprintf("  [%d] 0x%016llx\n", depth, (unsigned long long)ret);
		rbp = frame[0];
	}
}

void arch_backtrace_here(void)
{
	backtrace((u64)__builtin_frame_address(0));
}

static void dump_frame(const struct trap_frame *f)
{
	const char *name = f->vector < ARRAY_SIZE(exc_names) ? exc_names[f->vector] : "interrupt";

	kprintf("\nhypervisor exception: vector %llu (%s) error 0x%llx\n",
		(unsigned long long)f->vector, name, (unsigned long long)f->error);
	kprintf("rip=%016llx cs=%04llx rflags=%016llx rsp=%016llx ss=%04llx cr2=%016llx\n",
		(unsigned long long)f->rip, (unsigned long long)f->cs,
		(unsigned long long)f->rflags, (unsigned long long)f->rsp,
		(unsigned long long)f->ss, (unsigned long long)read_cr2());
	kprintf("rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n", (unsigned long long)f->rax,
		(unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	kprintf("rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx\n", (unsigned long long)f->rsi,
		(unsigned long long)f->rdi, (unsigned long long)f->rbp, (unsigned long long)f->r8);
	kprintf("r9 =%016llx r10=%016llx r11=%016llx r12=%016llx\n", (unsigned long long)f->r9,
		(unsigned long long)f->r10, (unsigned long long)f->r11, (unsigned long long)f->r12);
	kprintf("r13=%016llx r14=%016llx r15=%016llx\n", (unsigned long long)f->r13,
		(unsigned long long)f->r14, (unsigned long long)f->r15);
	if (in_image(f->rip))
		kprintf("  [-] 0x%016llx (faulting instruction)\n", (unsigned long long)f->rip);
	backtrace(f->rbp);
}

/* Nothing of ours raises an NMI: say so, rarely, and go on with whatever it interrupted. */
static void host_nmi(void)
{
	u64 now = arch_time_us();

	nmi_count++;
	if (nmi_reported && now - nmi_last_report_us < NMI_REPORT_US)
		return;
	kprintf("bulkhead: host NMI (%llu so far), ignored\n", (unsigned long long)nmi_count);
	nmi_reported = nmi_count;
	nmi_last_report_us = now;
}

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector == VEC_TIMER) {
		lapic_timer_fired();
		lapic_eoi();
		return;
	}
	if (f->vector == VEC_SPURIOUS)
		return;
	if (f->vector == VEC_NMI) {
		host_nmi();
		return;
	}
	dump_frame(f);
	kprintf("hypervisor halted\n");
	serial_flush();
	arch_halt();
}
