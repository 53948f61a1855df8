/* GDT, TSS and IDT of the boot CPU (SDM Vol.3 3.4, 7.7, 6.14). */
#include "arch/x86_64/desc.h"
#include "arch/x86_64/cpu.h"

#include <string.h>

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;
_Static_assert(sizeof(struct tss64) == 104, "TSS layout (SDM 7.7)");

struct idt_gate {
	u16 off_lo;
	u16 sel;
	u8 ist;
	u8 type_attr;
	u16 off_mid;
	u32 off_hi;
	u32 reserved;
} __packed;
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout (SDM 6.14.1)");

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define IST_FAULT      1    /* #DF and #MC run on their own stack */

static u64 gdt[5] __aligned(16);
static struct tss64 tss __aligned(16);
static struct idt_gate idt[256] __aligned(16);
static u8 fault_stack[16384] __aligned(16);

/* The entry stubs of entry.S, one per vector handled. */
extern char trap_stub_0[], trap_stub_1[], trap_stub_2[], trap_stub_3[], trap_stub_4[],
    trap_stub_5[], trap_stub_6[], trap_stub_7[], trap_stub_8[], trap_stub_9[], trap_stub_10[],
    trap_stub_11[], trap_stub_12[], trap_stub_13[], trap_stub_14[], trap_stub_15[], trap_stub_16[],
    trap_stub_17[], trap_stub_18[], trap_stub_19[], trap_stub_20[], trap_stub_21[], trap_stub_32[],
    trap_stub_255[];

static void set_gate(unsigned vec, void *stub, u8 ist)
{
	u64 off = (u64)stub;

	idt[vec] = (struct idt_gate){
	    .off_lo = off & 0xffff,
	    .sel = GDT_KERNEL_CS,
	    .ist = ist,
	    .type_attr = GATE_INTERRUPT,
	    .off_mid = (off >> 16) & 0xffff,
	    .off_hi = off >> 32,
	};
}

static void gdt_init(void)
{
	u64 base = (u64)&tss, limit = sizeof(tss) - 1;

	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffull; /* 64-bit code, DPL 0 */
	gdt[2] = 0x00cf93000000ffffull; /* data, DPL 0 */
	/* 16-byte available 64-bit TSS descriptor (SDM 7.2.3). */
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 ((limit >> 16) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;

	tss.ist[IST_FAULT - 1] = (u64)(fault_stack + sizeof(fault_stack));
	tss.iomap_base = sizeof(tss);

	struct desc_ptr p = {sizeof(gdt) - 1, (u64)gdt};
	asm volatile("lgdt %0\n\t"
		     "pushq %1\n\t"
		     "lea 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:\n\t"
		     "mov %2, %%ax\n\t"
		     "mov %%ax, %%ds\n\t"
		     "mov %%ax, %%es\n\t"
		     "mov %%ax, %%ss\n\t"
		     "xor %%eax, %%eax\n\t"
		     "mov %%ax, %%fs\n\t"
		     "mov %%ax, %%gs\n\t"
		     "mov %3, %%ax\n\t"
		     "ltr %%ax"
		     :
		     : "m"(p), "i"(GDT_KERNEL_CS), "i"(GDT_KERNEL_DS), "i"(GDT_TSS)
		     : "rax", "memory");
}

static void idt_init(void)
{
	void *stubs[22] = {trap_stub_0,	 trap_stub_1,  trap_stub_2,  trap_stub_3,  trap_stub_4,
			   trap_stub_5,	 trap_stub_6,  trap_stub_7,  trap_stub_8,  trap_stub_9,
			   trap_stub_10, trap_stub_11, trap_stub_12, trap_stub_13, trap_stub_14,
			   trap_stub_15, trap_stub_16, trap_stub_17, trap_stub_18, trap_stub_19,
			   trap_stub_20, trap_stub_21};

	memset(idt, 0, sizeof(idt));
	for (unsigned v = 0; v < ARRAY_SIZE(stubs); v++)
		set_gate(v, stubs[v], v == EXC_DF || v == 18 ? IST_FAULT : 0);
	set_gate(VEC_TIMER, trap_stub_32, 0);
	set_gate(VEC_SPURIOUS, trap_stub_255, 0);

	struct desc_ptr p = {sizeof(idt) - 1, (u64)idt};
	asm volatile("lidt %0" ::"m"(p));
}

void desc_init(void)
{
	gdt_init();
	idt_init();
}
