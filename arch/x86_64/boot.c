/* First C code of the hypervisor: take the CPU over from the firmware. */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/desc.h"
#include "arch/x86_64/power.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/log.h"
#include "kernel/vp.h"

#include <string.h>

extern char __bss_start[], __bss_end[];

static void fpu_setup(void);

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
	fpu_setup();
	paging_init(highest_address(bi));
	lapic_init();
	time_calibrate();
	power_init(bi->rsdp);
	kprintf("bulkhead: cpu ready, tsc %llu MHz\n",
		(unsigned long long)(arch_tsc_hz() / 1000000));
	kmain(bi);
}

/*
 * Partitions get x87 and SSE only (CPUID hides XSAVE/AVX), switched with
 * FXSAVE/FXRSTOR. XCR0 is cut to x87|SSE so a guest that ignores CPUID
 * cannot reach AVX state that is not switched (SDM Vol.1 13.3).
 */
static void fpu_setup(void)
{
	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	if (read_cr4() & CR4_OSXSAVE)
		asm volatile("xsetbv" ::"c"(0), "a"(XCR0_X87 | XCR0_SSE), "d"(0));
}

void arch_fpu_init(void *area)
{
	struct fxsave_hdr {
		u16 fcw, fsw;
		u8 ftw, reserved;
		u16 fop;
		u64 fip, fdp;
		u32 mxcsr, mxcsr_mask;
	} __packed *fx = area;

	memset(area, 0, VP_FPU_SIZE);
	fx->fcw = 0x37f;    /* FNINIT state (SDM Vol.1 8.1.5) */
	fx->mxcsr = 0x1f80; /* power-on MXCSR (SDM Vol.1 10.2.3) */
}

void arch_fpu_save(void *area)
{
	asm volatile("fxsave64 %0" : "=m"(*(u8(*)[VP_FPU_SIZE])area));
}

void arch_fpu_restore(const void *area)
{
	asm volatile("fxrstor64 %0" ::"m"(*(const u8(*)[VP_FPU_SIZE])area));
}

void arch_irq_disable(void)
{
	irq_disable();
}

/* STI's shadow covers HLT, so a timer that fires before the HLT still wakes it (SDM Vol.2, STI). */
void arch_idle(u64 us)
{
	lapic_timer_arm(MAX(us, 1));
	asm volatile("sti; hlt; cli" ::: "memory");
	lapic_timer_arm(0);
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
