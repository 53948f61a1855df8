/*
 * Test guest, long-mode part: COM1 output, an IDT that reports exceptions
 * (or skips ones a check expects), the boot self-checks, and the tick loop
 * that obeys one-byte commands from COM1. start.S gets here in 64-bit mode
 * with interrupts off; only the 'i' command turns them on, for its test.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define __packed   __attribute__((packed))
#define __noreturn __attribute__((noreturn))

/* 16550 UART at COM1 (PC16550D data sheet, section 8). */
#define COM1		 0x3f8
#define UART_DATA	 0 /* RBR/THR; DLL when LCR.DLAB */
#define UART_IER	 1 /* DLM when LCR.DLAB */
#define UART_FCR	 2
#define UART_LCR	 3
#define UART_MCR	 4
#define UART_LSR	 5
#define LCR_DLAB	 0x80
#define LCR_8N1		 0x03
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS	 0x03
#define LSR_DR		 0x01
#define LSR_THRE	 0x20
#define LSR_TEMT	 0x40
#define DIVISOR_115200	 1

/* QEMU's isa-debug-exit port; Bulkhead stops the partition on a write. */
#define DEBUG_EXIT_PORT 0xf4

/* CPUID (SDM Vol.2A, CPUID; APM Vol.3, E.3). */
#define CPUID_ECX	   2
#define L1_ECX_HYPERVISOR  (1u << 31)
#define LEAF_HV_VENDOR	   0x40000000u /* EAX = highest hypervisor leaf */
#define LEAF_HV_VENDOR_MAX 0x4000ffffu

/* MSRs (SDM Vol.4, table 2-2); 0x12345678 is implemented nowhere. */
#define MSR_IA32_TSC 0x10
#define MSR_BOGUS    0x12345678

/* Hypercalls: TLFS 3.6 (RCX = control, code in bits 15:0; RAX = status). */
#define HC_BULKHEAD_ECHO		 0x0fff /* RDX := ~RDX */
#define HC_UNKNOWN			 0x0ffe
#define HV_STATUS_SUCCESS		 0
#define HV_STATUS_INVALID_HYPERCALL_CODE 2
#define HC_ECHO_INPUT			 0x123456789abcdef0ul
#define HC_NO_STATUS			 0xbadbadbadbadbadbul /* RAX before the call */

/* Exception vectors (SDM Vol.3A 7.15 "Exception and Interrupt Reference"), instruction lengths. */
#define EXC_UD	      6
#define EXC_GP	      13
#define EXC_PF	      14
#define NR_EXC	      32
#define NO_FAULT      0xffffffffu
#define RDMSR_LEN     2 /* 0f 32 */
#define WRMSR_LEN     2 /* 0f 30 */
#define HYPERCALL_LEN 3 /* 0f 01 c1 / 0f 01 d9 */

#define NR_VECTORS	   34 /* exceptions, then the 'i' test's timer vector */
#define VEC_TIMER	   32

/* x2APIC (SDM Vol.3A 11.12, table 11-6 "x2APIC MSRs"; figure 11-8 LVT; 11.5.4 timer). */
#define MSR_IA32_APIC_BASE   0x1b
#define APIC_BASE_EXTD	     (1u << 10)
#define APIC_BASE_EN	     (1u << 11)
#define X2APIC_EOI	     0x80b
#define X2APIC_SVR	     0x80f
#define X2APIC_LVT_TIMER     0x832
#define X2APIC_TIMER_INITIAL 0x838
#define X2APIC_TIMER_CURRENT 0x839
#define X2APIC_TIMER_DIVIDE  0x83e
#define SVR_ENABLE_SPURIOUS  0x1ff /* enabled, spurious vector 0xff */
#define LVT_PERIODIC	     (1u << 17)
#define LVT_MASKED	     (1u << 16)
#define DIVIDE_BY_1	     0xb
#define IRQ_TEST_COUNT	     20
#define IRQ_TEST_PERIOD	     1000000 /* timer ticks between interrupts */

#define SEL_CODE64	   0x10 /* start.S's GDT */
#define IDT_INTERRUPT_GATE 0x8e /* present, DPL 0, 64-bit interrupt gate */

/* Far above any test partition's RAM, inside the identity map. */
#define OUTSIDE_RAM_GPA 0xe0000000ul

/*
 * Timing: fixed amounts of work, no timers. A tick is TICK_POLLS * POLL_ROUNDS
 * rounds of compute(), ~0.5 s under bare QEMU TCG; COM1 is polled every
 * POLL_ROUNDS rounds (~10 ms), so polling costs few exits. The 'l' benchmark
 * is BENCH_LOOP_ROUNDS rounds, ~2.5 s.
 */
#define TICK_POLLS	  50
#define POLL_ROUNDS	  32000
#define BENCH_LOOP_ROUNDS 8000000
#define BENCH_CPUID_COUNT 100000
#define COMPUTE_SEED	  0x9e3779b97f4a7c15ul
#define COMPUTE_DIVISOR	  0xffffffffffffffc5ul /* 2^64 - 59, the largest 64-bit prime */

/* ---- port I/O and COM1 ---- */

static inline void outb(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void uart_init(void)
{
	outb(COM1 + UART_IER, 0); /* polled: no interrupts */
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, DIVISOR_115200);
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1 + UART_MCR, MCR_DTR_RTS);
}

static void uart_putc(char c)
{
	while (!(inb(COM1 + UART_LSR) & LSR_THRE))
		;
	outb(COM1 + UART_DATA, (u8)c);
}

/* The next received byte, or -1 when none is waiting. */
static int uart_poll(void)
{
	if (!(inb(COM1 + UART_LSR) & LSR_DR))
		return -1;
	return inb(COM1 + UART_DATA);
}

/* Wait until the last byte has left the shift register (before ending the VM). */
static void uart_drain(void)
{
	while (!(inb(COM1 + UART_LSR) & LSR_TEMT))
		;
}

/* ---- printing: a printf subset (%c %s %u %lu %x %lx, '0' and width) ---- */

static void put(char c)
{
	if (c == '\n')
		uart_putc('\r');
	uart_putc(c);
}

static void put_num(u64 v, unsigned base, int width, char pad)
{
	char buf[20];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		put(pad);
	while (n)
		put(buf[--n]);
}

static void vprint(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		char pad = ' ';
		int width = 0;
		bool is_long = false;

		if (*fmt != '%') {
			put(*fmt);
			continue;
		}
		if (*++fmt == '0')
			pad = *fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + *fmt++ - '0';
		if (*fmt == 'l') {
			is_long = true;
			fmt++;
		}
		switch (*fmt) {
		case 'c':
			put((char)va_arg(ap, int));
			break;
		case 's':
			for (const char *s = va_arg(ap, const char *); *s; s++)
				put(*s);
			break;
		case 'u':
		case 'x':
			put_num(is_long ? va_arg(ap, u64) : va_arg(ap, u32), *fmt == 'u' ? 10 : 16,
				width, pad);
			break;
		case '\0':
			return;
		default:
			put(*fmt);
		}
	}
}

__attribute__((format(printf, 1, 2))) static void print(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
}

/* ---- CPU helpers ---- */

static __noreturn void halt_forever(void)
{
	for (;;)
		asm volatile("cli; hlt");
}

static void cpuid(u32 leaf, u32 r[4])
{
	asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

/*
 * Registers only: no memory access, no exits. Each round is xorshift64 plus
 * one 128-by-64-bit DIV, which QEMU TCG emulates with a slow helper (~0.3 us)
 * but Bochs counts as one instruction, so the same count takes comparable
 * time on both emulators. Returns a checksum of all rounds.
 */
static u64 compute(u64 rounds)
{
	u64 x = COMPUTE_SEED, sum = 0, t;

	asm volatile("1:\n\t"
		     "mov %[x], %[t]\n\t"
		     "shl $13, %[t]\n\t"
		     "xor %[t], %[x]\n\t"
		     "mov %[x], %[t]\n\t"
		     "shr $7, %[t]\n\t"
		     "xor %[t], %[x]\n\t"
		     "mov %[x], %[t]\n\t"
		     "shl $17, %[t]\n\t"
		     "xor %[t], %[x]\n\t"
		     "mov %[x], %%rax\n\t"
		     "mov %[x], %%rdx\n\t"
		     "shr $1, %%rdx\n\t" /* RDX < divisor: no #DE */
		     "div %[d]\n\t"
		     "add %%rax, %[sum]\n\t"
		     "xor %%rdx, %[x]\n\t"
		     "dec %[n]\n\t"
		     "jnz 1b"
		     : [x] "+r"(x), [sum] "+r"(sum), [t] "=&r"(t), [n] "+r"(rounds)
		     : [d] "r"(COMPUTE_DIVISOR)
		     : "rax", "rdx", "cc");
	return sum ^ x;
}

/* ---- exceptions ---- */

struct trap_frame { /* pushed by start.S, lowest address first */
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp,
	    ss; /* pushed by the CPU (SDM Vol.3A 7.14.2 "64-Bit Mode Stack Frame") */
};

/* SDM Vol.3A 7.14.1 "64-Bit Mode IDT": a 16-byte gate. */
struct idt_gate {
	u16 offset_lo;
	u16 selector;
	u8 ist;
	u8 type;
	u16 offset_mid;
	u32 offset_hi;
	u32 reserved;
} __packed;
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate is 16 bytes");

struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;

extern const u8 trap_stubs[]; /* start.S: one 16-byte stub per vector */
static struct idt_gate idt[NR_VECTORS] __attribute__((aligned(16)));
static volatile u32 timer_irqs;

static inline void wrmsr(u32 index, u64 val)
{
	asm volatile("wrmsr" : : "c"(index), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (u64)hi << 32 | lo;
}

static inline u64 rdmsr(u32 index)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index) : "memory");
	return (u64)hi << 32 | lo;
}

/* A check arms this to survive one fault: the handler skips the instruction. */
static volatile u32 fault_expected = NO_FAULT;
static volatile u32 fault_skip_len;
static volatile u32 fault_seen = NO_FAULT;

static void fault_arm(u32 vector, u32 insn_len)
{
	fault_seen = NO_FAULT;
	fault_skip_len = insn_len;
	fault_expected = vector;
}

/* Disarms; returns the vector that was taken, or NO_FAULT. */
static u32 fault_disarm(void)
{
	fault_expected = NO_FAULT;
	return fault_seen;
}

void trap(struct trap_frame *f);
void trap(struct trap_frame *f)
{
	if (f->vector == VEC_TIMER) {
		timer_irqs++;
		wrmsr(X2APIC_EOI, 0);
		return;
	}
	if (f->vector == fault_expected) {
		fault_expected = NO_FAULT;
		fault_seen = (u32)f->vector;
		f->rip += fault_skip_len;
		return;
	}
	print("exception %lu at RIP=0x%lx error=0x%lx", f->vector, f->rip, f->error);
	if (f->vector == EXC_PF) {
		u64 cr2;

		asm volatile("mov %%cr2, %0" : "=r"(cr2));
		print(" cr2=0x%lx", cr2);
	}
	print("\n");
	uart_drain();
	halt_forever();
}

static void idt_init(void)
{
	struct desc_ptr p = {sizeof(idt) - 1, (u64)idt};

	for (unsigned v = 0; v < NR_VECTORS; v++) {
		u64 a = (u64)&trap_stubs[16 * v];

		idt[v] = (struct idt_gate){.offset_lo = (u16)a,
					   .selector = SEL_CODE64,
					   .type = IDT_INTERRUPT_GATE,
					   .offset_mid = (u16)(a >> 16),
					   .offset_hi = (u32)(a >> 32)};
	}
	asm volatile("lidt %0" : : "m"(p));
}

/* ---- MSRs and hypercalls that may fault ---- */

static bool rdmsr_safe(u32 index, u64 *val)
{
	u32 lo = 0, hi = 0;

	fault_arm(EXC_GP, RDMSR_LEN);
	asm volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(index) : "memory");
	*val = (u64)hi << 32 | lo;
	return fault_disarm() == NO_FAULT;
}

static bool wrmsr_safe(u32 index, u64 val)
{
	fault_arm(EXC_GP, WRMSR_LEN);
	asm volatile("wrmsr" : : "c"(index), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
	return fault_disarm() == NO_FAULT;
}

static bool use_vmmcall; /* AMD-V wants VMMCALL, VT-x wants VMCALL */

/* TLFS register convention; a #UD (no hypervisor answers) leaves RAX as HC_NO_STATUS. */
static u64 hypercall(u64 control, u64 *rdx)
{
	u64 status = HC_NO_STATUS;

	fault_arm(EXC_UD, HYPERCALL_LEN);
	if (use_vmmcall)
		asm volatile("vmmcall"
			     : "+a"(status), "+c"(control), "+d"(*rdx)
			     :
			     : "r8", "r9", "r10", "r11", "memory");
	else
		asm volatile("vmcall"
			     : "+a"(status), "+c"(control), "+d"(*rdx)
			     :
			     : "r8", "r9", "r10", "r11", "memory");
	fault_disarm();
	return status;
}

/* ---- boot self-checks ---- */

static unsigned checks_ok, checks_failed;
static bool hv_present;

#define check_ok(name)                                                                             \
	do {                                                                                       \
		print("check %s ok\n", name);                                                      \
		checks_ok++;                                                                       \
	} while (0)
#define check_fail(name, fmt, ...)                                                                 \
	do {                                                                                       \
		print("check %s FAIL " fmt "\n", name, ##__VA_ARGS__);                             \
		checks_failed++;                                                                   \
	} while (0)

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Fills a 13-byte buffer with the 12 characters of registers b, c, d in that order. */
static void cpuid_string(u32 b, u32 c, u32 d, char out[13])
{
	const u32 w[3] = {b, c, d};

	for (int i = 0; i < 12; i++) {
		char ch = (char)(w[i / 4] >> 8 * (i % 4));

		out[i] = ch >= ' ' && ch <= '~' ? ch : '.';
	}
	out[12] = 0;
}

static u32 leaf1_ecx, hv_max_leaf;

static void cpu_identify(void)
{
	u32 r[4];
	char vendor[13], hv[13];

	cpuid(0, r);
	cpuid_string(r[1], r[3], r[2], vendor); /* EBX, EDX, ECX */
	/* Hygon's Dhyana is an AMD design: VMMCALL there too. */
	use_vmmcall = streq(vendor, "AuthenticAMD") || streq(vendor, "HygonGenuine");
	cpuid(1, r);
	leaf1_ecx = r[CPUID_ECX];
	cpuid(LEAF_HV_VENDOR, r);
	hv_max_leaf = r[0];
	cpuid_string(r[1], r[2], r[3], hv); /* EBX, ECX, EDX */
	print("testguest: cpu %s, hypercall %s, leaf 0x%x: eax=0x%x \"%s\"\n", vendor,
	      use_vmmcall ? "vmmcall" : "vmcall", LEAF_HV_VENDOR, hv_max_leaf, hv);
}

/*
 * A hypervisor sets CPUID.1:ECX[31] and answers leaves 0x40000000 and up
 * (TLFS 2.4). Bare QEMU TCG (-cpu max) passes too: it calls itself
 * "TCGTCGTCGTCG" there, but its VMMCALL raises #UD. Bare Bochs fails.
 */
static void check_cpuid(void)
{
	if (!(leaf1_ecx & L1_ECX_HYPERVISOR)) {
		check_fail("cpuid", "hypervisor bit clear (leaf 1 ecx=0x%x)", leaf1_ecx);
		return;
	}
	if (hv_max_leaf < LEAF_HV_VENDOR || hv_max_leaf > LEAF_HV_VENDOR_MAX) {
		check_fail("cpuid", "hypervisor bit set but no hypervisor leaves (0x%x: eax=0x%x)",
			   LEAF_HV_VENDOR, hv_max_leaf);
		return;
	}
	hv_present = true;
	check_ok("cpuid");
}

static void check_hypercall(void)
{
	u64 rdx = HC_ECHO_INPUT, status;

	if (!hv_present) {
		print("check hypercall skip no hypervisor\n");
		return;
	}
	status = hypercall(HC_BULKHEAD_ECHO, &rdx);
	if (status == HC_NO_STATUS) {
		check_fail("hypercall", "#UD on %s: nobody answers hypercalls",
			   use_vmmcall ? "vmmcall" : "vmcall");
		return;
	}
	if (status != HV_STATUS_SUCCESS || rdx != ~HC_ECHO_INPUT) {
		check_fail("hypercall", "echo status=0x%lx rdx=0x%lx", status, rdx);
		return;
	}
	rdx = 0;
	status = hypercall(HC_UNKNOWN, &rdx);
	if (status != HV_STATUS_INVALID_HYPERCALL_CODE) {
		check_fail("hypercall", "code 0x%x status=0x%lx, want 0x%x", HC_UNKNOWN, status,
			   HV_STATUS_INVALID_HYPERCALL_CODE);
		return;
	}
	check_ok("hypercall");
}

static void check_msr(void)
{
	u64 t0 = 0, t1 = 0, dummy;
	bool tsc_ok = rdmsr_safe(MSR_IA32_TSC, &t0);
	bool rd_gp, wr_gp;

	compute(1);
	tsc_ok = rdmsr_safe(MSR_IA32_TSC, &t1) && tsc_ok && t1 > t0;
	rd_gp = !rdmsr_safe(MSR_BOGUS, &dummy);
	wr_gp = !wrmsr_safe(MSR_BOGUS, 0);
	if (tsc_ok && rd_gp && wr_gp) {
		check_ok("msr");
		return;
	}
	check_fail("msr", "IA32_TSC 0x%lx then 0x%lx%s, rdmsr 0x%x %s, wrmsr 0x%x %s", t0, t1,
		   tsc_ok ? "" : " (want a faultless increase)", MSR_BOGUS,
		   rd_gp ? "#GP" : "no #GP", MSR_BOGUS, wr_gp ? "#GP" : "no #GP");
}

/* ---- commands (one byte from COM1) ---- */

static void bench_cpuid(void)
{
	print("bench cpuid start\n");
	for (u32 i = 0; i < BENCH_CPUID_COUNT; i++) {
		u32 r[4];

		cpuid(0, r);
	}
	print("bench cpuid done n=%u\n", BENCH_CPUID_COUNT);
}

static void bench_loop(void)
{
	print("bench loop start\n");
	print("bench loop done x=%lx\n", compute(BENCH_LOOP_ROUNDS));
}

static __noreturn void triple_fault(void)
{
	struct desc_ptr none = {0, 0};

	print("cmd: triple fault\n");
	uart_drain();
	/* Every vector is beyond the limit: #GP, then #DF, then shutdown. */
	asm volatile("lidt %0; int3; ud2" : : "m"(none));
	halt_forever();
}

static __noreturn void flood(void)
{
	print("cmd: flood\n");
	for (u64 n = 0;; n++)
		print("flood %lu\n", n);
}

static __noreturn void spin_forever(void)
{
	print("cmd: spin\n");
	for (;;)
		asm volatile("" ::: "memory");
}

static __noreturn void debug_exit(void)
{
	print("cmd: exit\n");
	uart_drain();
	outb(DEBUG_EXIT_PORT, 0);
	halt_forever();
}

/*
 * Interrupts: the x2APIC timer in periodic mode, taken while halted. Proves
 * that HLT with IF=1 waits for the interrupt instead of stopping the VP and
 * that delivery, the handler's EOI and re-arming work.
 */
static void irq_test(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE), t0, t1;
	u32 current;

	print("cmd: irq test\n");
	if ((base & (APIC_BASE_EN | APIC_BASE_EXTD)) != (APIC_BASE_EN | APIC_BASE_EXTD)) {
		print("irq: x2APIC not enabled (IA32_APIC_BASE=0x%lx)\n", base);
		return;
	}
	timer_irqs = 0;
	wrmsr(X2APIC_SVR, SVR_ENABLE_SPURIOUS);
	wrmsr(X2APIC_TIMER_DIVIDE, DIVIDE_BY_1);
	wrmsr(X2APIC_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
	t0 = rdtsc();
	wrmsr(X2APIC_TIMER_INITIAL, IRQ_TEST_PERIOD);
	current = (u32)rdmsr(X2APIC_TIMER_CURRENT);
	while (timer_irqs < IRQ_TEST_COUNT)
		asm volatile("sti; hlt; cli" ::: "memory");
	t1 = rdtsc();
	wrmsr(X2APIC_TIMER_INITIAL, 0);
	wrmsr(X2APIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	print("irq: %u timer interrupts, %lu TSC cycles each, count read %u of %u\n", timer_irqs,
	      (t1 - t0) / IRQ_TEST_COUNT, current, IRQ_TEST_PERIOD);
}

static void command(u8 c)
{
	switch (c) {
	case 'm':
		print("cmd: touch outside ram\n");
		uart_drain();
		*(volatile u32 *)OUTSIDE_RAM_GPA = 0xdeadbeef;
		print("touch: write to 0x%lx returned\n", OUTSIDE_RAM_GPA);
		break;
	case 't':
		triple_fault();
	case 'f':
		flood();
	case 'h':
		print("cmd: halt\n");
		uart_drain();
		halt_forever();
	case 'c':
		spin_forever();
	case 'q':
		debug_exit();
	case 'g': {
		u32 lo, hi;

		print("cmd: gp\n");
		/* Not armed: trap() reports exception 13 and halts. */
		asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_BOGUS));
		print("gp: rdmsr 0x%x returned 0x%lx, no #GP\n", MSR_BOGUS, (u64)hi << 32 | lo);
		break;
	}
	case 'b':
		bench_cpuid();
		break;
	case 'l':
		bench_loop();
		break;
	case 'i':
		irq_test();
		break;
	default:
		print("cmd: unknown 0x%02x\n", c);
	}
}

void guest_main(void);
void guest_main(void)
{
	uart_init();
	idt_init();
	print("testguest: hello from long mode\n");
	cpu_identify();
	check_cpuid();
	check_hypercall();
	check_msr();
	print("selftest: %u ok, %u failed\n", checks_ok, checks_failed);

	for (u64 tick = 0;; tick++) {
		print("tick %lu\n", tick);
		for (unsigned i = 0; i < TICK_POLLS; i++) {
			int c;

			compute(POLL_ROUNDS);
			c = uart_poll();
			if (c >= 0)
				command((u8)c);
		}
	}
}
