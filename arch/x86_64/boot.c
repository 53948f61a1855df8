/* First C code of the hypervisor: take the CPU over from the firmware. */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/desc.h"
#include "arch/x86_64/power.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/log.h"

#include <string.h>

extern char __bss_start[], __bss_end[];

static u64 highest_address(const struct boot_info *bi)
{
	u64 top = 0;

	for (u32 i = 0; i < MIN(bi->nr_mem, (u32)BOOT_MAX_MEM); i++)
		top = MAX(top, bi->mem[i].base + (bi->mem[i].pages << PAGE_SHIFT));
	return top;
}

/* Called from entry.S on the boot stack. .bss was zeroed by the loader. */
void arch_boot(struct boot_info *bi)
{
	serial_init();
	kprintf("\nbulkhead: hypervisor starting\n");
	if (!bi || bi->magic != BOOT_INFO_MAGIC || bi->version != BOOT_INFO_VERSION)
		panic("boot_info from the loader has a bad magic or version");
	desc_init();
	paging_init(highest_address(bi));
	lapic_init();
	time_calibrate();
	power_init(bi->rsdp);
	kprintf("bulkhead: cpu ready, tsc %llu MHz\n", (unsigned long long)(arch_tsc_hz() / 1000000));
	kmain(bi);
}

void arch_irq_disable(void)
{
	irq_disable();
}

void arch_halt(void)
{
	cpu_halt_forever();
}

u64 arch_rdtsc(void)
{
	return rdtsc();
}

void arch_cpuid(u32 leaf, u32 sub, u32 out[4])
{
	struct cpuid_regs r;

	cpuid(leaf, sub, &r);
	out[0] = r.eax;
	out[1] = r.ebx;
	out[2] = r.ecx;
	out[3] = r.edx;
}
