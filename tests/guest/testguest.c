/*
 * Test guest, long-mode part: COM1 output, an IDT that reports exceptions
 * (or skips ones a check expects), the boot self-checks, and the tick loop
 * that obeys one-byte commands from COM1. start.S gets here in 64-bit mode
 * with interrupts off; only the hv-stimer check and the 'i' command turn
 * them on, each for its own test, and turn them off again.
 */
#include "guest.h"

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
#define HC_BULKHEAD_ECHO 0x0fff /* RDX := ~RDX */
#define HC_UNKNOWN	 0x0ffe
#define HC_ECHO_INPUT	 0x123456789abcdef0ul

/* Exception vectors (SDM Vol.3A 7.15 "Exception and Interrupt Reference"), instruction lengths. */
#define EXC_UD	      6
#define EXC_GP	      13
#define EXC_PF	      14
#define NO_FAULT      0xffffffffu
#define RDMSR_LEN     2 /* 0f 32 */
#define WRMSR_LEN     2 /* 0f 30 */
#define HYPERCALL_LEN 3 /* 0f 01 c1 / 0f 01 d9 */

/* Vectors and x2APIC registers: guest.h. */
#define IRQ_TEST_COUNT	20
#define IRQ_TEST_PERIOD 1000000 /* timer ticks between interrupts */

#define SEL_CODE64	   0x10 /* start.S's GDT */
#define IDT_INTERRUPT_GATE 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define IDT_USER_GATE	   0xee /* present, DPL 3, 64-bit interrupt gate */

/* Far above any test partition's RAM, inside the identity map. */
#define OUTSIDE_RAM_GPA 0xe0000000ul

/*
 * The Hyper-V synthetic interface (Microsoft's Hypervisor Top Level
 * Functional Specification, TLFS 6.0; section numbers in comments). The hv-*
 * checks run only where leaf 0x40000000 says "Microsoft Hv".
 */
#define HV_SIGNATURE	  "Microsoft Hv"
#define LEAF_HV_INTERFACE 0x40000001u
#define LEAF_HV_FEATURES  0x40000003u
#define LEAF_HV_LIMITS	  0x40000005u /* Linux reads up to here at least (TLFS 2.4) */
#define HV_INTERFACE_HV1  0x31237648u /* "Hv#1" */
/* 0x40000003 EAX and EBX privileges: guest.h. EDX: other features. */
#define HV_FEATURE_CRASH_MSRS	 (1u << 10)
#define HV_FEATURE_DIRECT_STIMER (1u << 19)

/* Synthetic MSRs beyond guest.h's (TLFS appendix "Synthetic MSRs"). */
#define HV_MSR_STIMER0_CONFIG 0x400000b0
#define HV_MSR_STIMER0_COUNT  0x400000b1
#define HV_MSR_CRASH_P0	      0x40000100 /* P0-P4 at HV_MSR_CRASH_P0 + n */
#define HV_MSR_CRASH_CTL      0x40000105
#define HV_CRASH_PARAMS	      5

/* SynIC (TLFS 11.11): vectors 0-15 are no interrupts: #GP. */
#define HV_SVERSION	   1
#define HV_SINT_BAD_VECTOR 5
/* Synthetic timer configuration (TLFS 12.2). */
#define HV_STIMER_ENABLE       (1ul << 0)
#define HV_STIMER_DIRECT       (1ul << 12)
#define HV_STIMER_VECTOR_SHIFT 4
#define HV_STIMER_SINT_SHIFT   16
/* Crash MSRs (TLFS 2.4.4); CRASH_P(n) is what the 'p' command reports in Pn. */
#define HV_CRASH_CTL_NOTIFY  (1ul << 63)
#define HV_CRASH_CTL_MESSAGE (1ul << 62) /* P3 = GPA of a message, P4 = its length */
#define CRASH_P(n)	     (0x7e57c0de00000000ul + (n))

/* Hypercall codes and statuses: guest.h. */
#define HC_RESERVED_BIT	      (1ul << 27) /* in 31:27, which must be zero */
#define UNKNOWN_CONNECTION_ID 0x12345
#define TEST_MESSAGE_TYPE     1 /* any type below the hypervisor's 0x80000000 */
#define TEST_MESSAGE_SIZE     8

/* SynIC messages (TLFS 11.8.2): one 256-byte slot per SINT in the SIMP page. */
#define HV_MESSAGE_TIMER_EXPIRED 0x80000010u
#define HV_TIMER_MESSAGE_SIZE	 24    /* timer index, reserved, expiration, delivery (TLFS 12.3) */
#define SINT_STIMER		 2     /* the SINT the hv-stimer check's timer posts to */
#define STIMER_DELAY		 10000 /* 1 ms in 100 ns units */
#define STIMER_WATCHDOG_DIV	 4     /* the x2APIC watchdog gives up after 1/4 s */
#define STIMER_MAX_WAKES	 100

/* Timing checks: about 3 ms of compute(); tries per TSC/TIME_REF_COUNT sample. */
#define REF_COUNT_ROUNDS  10000
#define TIME_SAMPLE_TRIES 4
#define HV_REF_HZ	  10000000ul /* reference time counts 100 ns units (TLFS 12.1) */
#define TSC_PAGE_MAX_LAG  10000	     /* 1 ms: TSC page time to the TIME_REF_COUNT read after */

/* Pages the hv-* checks hand to the hypervisor: guest.h. */
#define HC_MISALIGNED 4 /* bytes past HC_INPUT_GPA: not 8-byte aligned */

/* TLFS 12.7.2 HV_REFERENCE_TSC_PAGE, its first fields. */
struct hv_tsc_page {
	u32 sequence; /* 0: not valid */
	u32 reserved;
	u64 scale; /* reference time = ((tsc * scale) >> 64) + offset */
	s64 offset;
} __packed;

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

void vprint(const char *fmt, va_list ap)
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

void print(const char *fmt, ...)
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

extern const u8 trap_stubs[];		       /* start.S: one 16-byte stub per vector */
void user_call(void (*fn)(void), void *stack); /* start.S: fn at CPL 3 */
void user_return(void);			       /* start.S: VEC_USER_RETURN's gate */
static struct idt_gate idt[NR_VECTORS] __attribute__((aligned(16)));
volatile u32 irqs[NR_VECTORS]; /* interrupts taken, per vector */
/*
 * The irq test's limit: its timer is stopped in the handler of the last interrupt it asks for.
 * One more can still arrive when the next period ran out while that handler was in service (a
 * busy host, the partition descheduled); it is counted apart (irq_late), not as the test's.
 */
static volatile u32 irq_limit, irq_late;

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

/* What the SINT_STIMER interrupt found in its SIMP slot, and when the hv-stimer vectors came. */
static volatile struct hv_message *simp;
static volatile u32 sint_type, sint_size, sint_timer;
static volatile u64 sint_expiration, sint_delivery, irq_ref_time;

/* Like a guest's SynIC handler: copy the message, free the slot, EOM (TLFS 11.8). */
static void sint_take_message(void)
{
	volatile struct hv_message *m = &simp[SINT_STIMER];

	sint_type = m->type;
	sint_size = m->payload_size;
	sint_timer = (u32)m->payload[0];
	sint_expiration = m->payload[1];
	sint_delivery = m->payload[2];
	m->type = HV_MESSAGE_NONE;
	wrmsr(HV_MSR_EOM, 0);
}

static void irq(u32 vector)
{
	if (vector == VEC_TIMER && irq_limit && irqs[vector] >= irq_limit)
		irq_late++;
	else if (++irqs[vector] == irq_limit && vector == VEC_TIMER)
		wrmsr(X2APIC_TIMER_INITIAL, 0);
	if (vector == VEC_SINT || vector == VEC_DIRECT)
		irq_ref_time = rdmsr(HV_MSR_TIME_REF_COUNT);
	if (vector == VEC_SINT && simp)
		sint_take_message();
	wrmsr(X2APIC_EOI, 0);
}

void trap(struct trap_frame *f);
void trap(struct trap_frame *f)
{
	if (f->vector >= NR_EXC && f->vector < NR_VECTORS) {
		irq((u32)f->vector);
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
		u64 a = v < NR_STUBS ? (u64)&trap_stubs[16 * v] : (u64)user_return;

		idt[v] = (struct idt_gate){.offset_lo = (u16)a,
					   .selector = SEL_CODE64,
					   .type = IDT_INTERRUPT_GATE,
					   .offset_mid = (u16)(a >> 16),
					   .offset_hi = (u32)(a >> 32)};
	}
	/* User mode may INT to this one (its DPL is 3), to no other. */
	idt[VEC_USER_RETURN].type = IDT_USER_GATE;
	asm volatile("lidt %0" : : "m"(p));
}

/* ---- MSRs and hypercalls that may fault ---- */

bool rdmsr_safe(u32 index, u64 *val)
{
	u32 lo = 0, hi = 0;

	fault_arm(EXC_GP, RDMSR_LEN);
	asm volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(index) : "memory");
	*val = (u64)hi << 32 | lo;
	return fault_disarm() == NO_FAULT;
}

bool wrmsr_safe(u32 index, u64 val)
{
	fault_arm(EXC_GP, WRMSR_LEN);
	asm volatile("wrmsr" : : "c"(index), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
	return fault_disarm() == NO_FAULT;
}

static bool use_vmmcall; /* AMD-V wants VMMCALL, VT-x wants VMCALL */

/*
 * TLFS register convention: RCX control, RDX input (a GPA or, fast, a value),
 * R8 output GPA; status in RAX. A #UD (no hypervisor answers) leaves RAX as
 * HC_NO_STATUS.
 */
u64 hypercall_insn(bool vmmcall, u64 control, u64 *rdx, u64 output, bool *ud)
{
	register u64 r8 asm("r8") = output;
	u64 status = HC_NO_STATUS;

	fault_arm(EXC_UD, HYPERCALL_LEN);
	if (vmmcall)
		asm volatile("vmmcall"
			     : "+a"(status), "+c"(control), "+d"(*rdx), "+r"(r8)
			     :
			     : "r9", "r10", "r11", "memory");
	else
		asm volatile("vmcall"
			     : "+a"(status), "+c"(control), "+d"(*rdx), "+r"(r8)
			     :
			     : "r9", "r10", "r11", "memory");
	*ud = fault_disarm() == EXC_UD;
	return status;
}

u64 hypercall(u64 control, u64 *rdx, u64 output)
{
	bool ud;

	return hypercall_insn(use_vmmcall, control, rdx, output, &ud);
}

/* ---- user mode: CPL 3 code and a TSS for the way back (SDM Vol.3A 8.7 "Task Management
 * in 64-bit Mode") ---- */

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base; /* past the limit: no I/O bitmap, every port faults at CPL 3 */
} __packed;
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes");

#define SEL_TSS	     0x30 /* start.S's GDT */
#define TSS_TYPE_64  0x89 /* present, DPL 0, 64-bit available TSS */
#define USER_STACK   4096
#define KERNEL_STACK 4096

extern u64 gdt[];
static struct tss64 tss __attribute__((aligned(16)));
static u8 user_stack[USER_STACK] __attribute__((aligned(16)));
static u8 kernel_int_stack[KERNEL_STACK] __attribute__((aligned(16)));
static bool tss_loaded;

void user_run(void (*fn)(void))
{
	if (!tss_loaded) {
		u64 base = (u64)&tss, limit = sizeof(tss) - 1;

		/* Interrupts and exceptions at CPL 3 switch to this stack (SDM 7.14.5). */
		tss.rsp[0] = (u64)(kernel_int_stack + KERNEL_STACK);
		tss.iomap_base = sizeof(tss);
		gdt[SEL_TSS / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 |
				   (u64)TSS_TYPE_64 << 40 | (limit >> 16 & 0xf) << 48 |
				   (base >> 24 & 0xff) << 56;
		gdt[SEL_TSS / 8 + 1] = base >> 32;
		asm volatile("ltr %w0" : : "r"((u16)SEL_TSS) : "memory");
		tss_loaded = true;
	}
	/* As after a CALL: RSP + 8 is 16-byte aligned at fn's first instruction. */
	user_call(fn, user_stack + USER_STACK - 8);
}

/* The same call through the hypercall page, as Linux makes it: a near CALL to the page. */
static u64 hypercall_page_call(u64 control, u64 *rdx)
{
	u64 status = HC_NO_STATUS;

	fault_arm(EXC_UD, HYPERCALL_LEN);
	asm volatile("call *%[page]"
		     : "+a"(status), "+c"(control), "+d"(*rdx)
		     : [page] "r"(HYPERCALL_PAGE_GPA)
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
static char hv_vendor[13];
bool hyperv;	/* leaf 0x40000000 says "Microsoft Hv": the hv-* checks run */
u32 hv_feat[4]; /* leaf 0x40000003 then */

static void cpu_identify(void)
{
	u32 r[4];
	char vendor[13];

	cpuid(0, r);
	cpuid_string(r[1], r[3], r[2], vendor); /* EBX, EDX, ECX */
	/* Hygon's Dhyana is an AMD design: VMMCALL there too. */
	use_vmmcall = streq(vendor, "AuthenticAMD") || streq(vendor, "HygonGenuine");
	cpuid(1, r);
	leaf1_ecx = r[CPUID_ECX];
	cpuid(LEAF_HV_VENDOR, r);
	hv_max_leaf = r[0];
	cpuid_string(r[1], r[2], r[3], hv_vendor); /* EBX, ECX, EDX */
	print("testguest: cpu %s, hypercall %s, leaf 0x%x: eax=0x%x \"%s\"\n", vendor,
	      use_vmmcall ? "vmmcall" : "vmcall", LEAF_HV_VENDOR, hv_max_leaf, hv_vendor);
	hyperv = (leaf1_ecx & L1_ECX_HYPERVISOR) && hv_max_leaf >= LEAF_HV_VENDOR &&
		 hv_max_leaf <= LEAF_HV_VENDOR_MAX && streq(hv_vendor, HV_SIGNATURE);
	if (hyperv && hv_max_leaf >= LEAF_HV_FEATURES)
		cpuid(LEAF_HV_FEATURES, hv_feat);
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
	status = hypercall(HC_BULKHEAD_ECHO, &rdx, 0);
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
	status = hypercall(HC_UNKNOWN, &rdx, 0);
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

/* ---- Hyper-V checks: one per feature of the synthetic interface ---- */

/*
 * A hv-* check runs only under "Microsoft Hv" and only if leaf 0x40000003
 * offers what it needs, as a guest would; otherwise it says why it skips.
 * A skip is no failure (bare QEMU TCG, bare Bochs), but the system tests
 * count the checks that passed, so a skip under Bulkhead shows there too.
 */
static bool hv_skip(const char *name, u32 eax, u32 ebx, u32 edx)
{
	if (!(leaf1_ecx & L1_ECX_HYPERVISOR)) {
		print("check %s skip no hypervisor\n", name);
		return true;
	}
	if (!hyperv) {
		print("check %s skip hypervisor \"%s\" is not %s\n", name, hv_vendor, HV_SIGNATURE);
		return true;
	}
	if ((hv_feat[0] & eax) == eax && (hv_feat[1] & ebx) == ebx && (hv_feat[3] & edx) == edx)
		return false;
	print("check %s skip not offered: 0x%x eax=0x%x ebx=0x%x edx=0x%x, needs 0x%x 0x%x 0x%x\n",
	      name, LEAF_HV_FEATURES, hv_feat[0], hv_feat[1], hv_feat[3], eax, ebx, edx);
	return true;
}

static void page_fill(u64 gpa, u8 byte)
{
	void *dst = (void *)gpa;
	u64 n = PAGE_SIZE;

	asm volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(byte) : "memory");
}

/* An MSR that must read back what was written. */
static bool msr_roundtrip(const char *name, u32 index, u64 val)
{
	u64 got = 0;

	if (!wrmsr_safe(index, val)) {
		check_fail(name, "wrmsr 0x%x = 0x%lx: #GP", index, val);
		return false;
	}
	if (!rdmsr_safe(index, &got) || got != val) {
		check_fail(name, "msr 0x%x reads 0x%lx after writing 0x%lx", index, got, val);
		return false;
	}
	return true;
}

/* An MSR write that must raise #GP. */
static bool msr_refuses(const char *name, u32 index, u64 val)
{
	if (!wrmsr_safe(index, val))
		return true;
	check_fail(name, "wrmsr 0x%x = 0x%lx: no #GP", index, val);
	return false;
}

static bool msr_read_ok(const char *name, u32 index, u64 *val)
{
	if (rdmsr_safe(index, val))
		return true;
	check_fail(name, "rdmsr 0x%x: #GP", index);
	return false;
}

/* TLFS 2.4: the vendor leaf, the interface signature and the features Linux requires. */
static void check_hv_cpuid(void)
{
	const char *name = "hv-cpuid";
	u32 r[4];

	if (hv_skip(name, 0, 0, 0))
		return;
	if (hv_max_leaf < LEAF_HV_LIMITS) {
		check_fail(name, "0x%x: eax=0x%x, want at least 0x%x", LEAF_HV_VENDOR, hv_max_leaf,
			   LEAF_HV_LIMITS);
		return;
	}
	cpuid(LEAF_HV_INTERFACE, r);
	if (r[0] != HV_INTERFACE_HV1) {
		check_fail(name, "0x%x: eax=0x%x, want 0x%x \"Hv#1\"", LEAF_HV_INTERFACE, r[0],
			   HV_INTERFACE_HV1);
		return;
	}
	if ((hv_feat[0] & (HV_PRIV_HYPERCALL | HV_PRIV_VP_INDEX)) !=
		(HV_PRIV_HYPERCALL | HV_PRIV_VP_INDEX) ||
	    (hv_feat[1] & HV_PRIV_CPU_MANAGEMENT)) {
		check_fail(name, "0x%x: eax=0x%x (want bits 5, 6) ebx=0x%x (want bit 12 clear)",
			   LEAF_HV_FEATURES, hv_feat[0], hv_feat[1]);
		return;
	}
	check_ok(name);
}

/* The guest says who it is first (TLFS "Reporting the Guest OS Identity"); 0 until then. */
static void check_hv_guest_os_id(void)
{
	const char *name = "hv-guest-os-id";
	u64 id = ~0ul;

	if (hv_skip(name, HV_PRIV_HYPERCALL, 0, 0))
		return;
	if (!msr_read_ok(name, HV_MSR_GUEST_OS_ID, &id))
		return;
	if (id) {
		check_fail(name, "reads 0x%lx before the guest wrote it, want 0", id);
		return;
	}
	if (msr_roundtrip(name, HV_MSR_GUEST_OS_ID, TESTGUEST_OS_ID))
		check_ok(name);
}

/* The page must hold this vendor's hypercall instruction, then RET (TLFS 3.13). */
static bool hypercall_page_valid(const char *name)
{
	static const u8 vmcall[] = {0x0f, 0x01, 0xc1, 0xc3}, vmmcall[] = {0x0f, 0x01, 0xd9, 0xc3};
	const u8 *want = use_vmmcall ? vmmcall : vmcall;
	const volatile u8 *page = (const volatile u8 *)HYPERCALL_PAGE_GPA;

	for (unsigned i = 0; i < sizeof(vmcall); i++) {
		if (page[i] != want[i]) {
			check_fail(name, "0x%lx: %02x %02x %02x %02x, want %02x %02x %02x %02x",
				   HYPERCALL_PAGE_GPA, page[0], page[1], page[2], page[3], want[0],
				   want[1], want[2], want[3]);
			return false;
		}
	}
	return true;
}

static bool hypercall_page_setup(const char *name)
{
	u64 val = 0;

	/* Without a guest OS id the page stays disabled (TLFS 3.13). */
	if (!wrmsr_safe(HV_MSR_GUEST_OS_ID, 0) ||
	    !wrmsr_safe(HV_MSR_HYPERCALL, HYPERCALL_PAGE_GPA | HV_MSR_ENABLE) ||
	    !rdmsr_safe(HV_MSR_HYPERCALL, &val) || (val & HV_MSR_ENABLE)) {
		check_fail(name, "guest OS id 0: enabling gave #GP or 0x%lx, want enable clear",
			   val);
		return false;
	}
	page_fill(HYPERCALL_PAGE_GPA, 0xcc); /* INT3: stale code would not pass */
	return msr_roundtrip(name, HV_MSR_GUEST_OS_ID, TESTGUEST_OS_ID) &&
	       msr_roundtrip(name, HV_MSR_HYPERCALL, HYPERCALL_PAGE_GPA | HV_MSR_ENABLE) &&
	       hypercall_page_valid(name);
}

static void check_hv_hypercall_page(void)
{
	const char *name = "hv-hypercall-page";
	u64 rdx = HC_ECHO_INPUT, status, val = 0;

	if (hv_skip(name, HV_PRIV_HYPERCALL, 0, 0) || !hypercall_page_setup(name))
		return;
	status = hypercall_page_call(HC_BULKHEAD_ECHO, &rdx);
	if (status != HV_STATUS_SUCCESS || rdx != ~HC_ECHO_INPUT) {
		check_fail(name, "echo through the page: status=0x%lx rdx=0x%lx", status, rdx);
		return;
	}
	/* A page outside RAM is refused, and the page stays where it was. */
	if (!msr_refuses(name, HV_MSR_HYPERCALL, OUTSIDE_RAM_GPA | HV_MSR_ENABLE) ||
	    !msr_read_ok(name, HV_MSR_HYPERCALL, &val))
		return;
	if (val != (HYPERCALL_PAGE_GPA | HV_MSR_ENABLE)) {
		check_fail(name, "after the refused write the MSR reads 0x%lx", val);
		return;
	}
	check_ok(name);
}

/* TLFS 7.8: the VP index is read-only; our one VP is 0. */
static void check_hv_vp_index(void)
{
	const char *name = "hv-vp-index";
	u64 index = ~0ul;

	if (hv_skip(name, HV_PRIV_VP_INDEX, 0, 0) || !msr_read_ok(name, HV_MSR_VP_INDEX, &index))
		return;
	if (index) {
		check_fail(name, "reads %lu, want 0", index);
		return;
	}
	if (msr_refuses(name, HV_MSR_VP_INDEX, 0))
		check_ok(name);
}

struct time_sample {
	u64 tsc, ref;
};

/* TIME_REF_COUNT and the TSC at one moment: the tightest of a few tries, TSC taken halfway. */
static bool time_sample(struct time_sample *s)
{
	u64 best = ~0ul;

	for (unsigned i = 0; i < TIME_SAMPLE_TRIES; i++) {
		u64 t0 = rdtsc(), ref, t1;

		if (!rdmsr_safe(HV_MSR_TIME_REF_COUNT, &ref))
			return false;
		t1 = rdtsc();
		if (t1 - t0 < best) {
			best = t1 - t0;
			s->tsc = t0 + best / 2;
			s->ref = ref;
		}
	}
	return true;
}

/* TLFS 12.1: 100 ns units; the TSC frequency MSR converts (TLFS 12.8). */
static void check_hv_ref_count(void)
{
	const char *name = "hv-ref-count";
	struct time_sample a, b;
	u64 hz = 0, dt, dr;
	u128 got, want;
	bool ok;

	if (hv_skip(name, HV_PRIV_TIME_REF_COUNT | HV_PRIV_FREQUENCY, 0, 0) ||
	    !msr_read_ok(name, HV_MSR_TSC_FREQUENCY, &hz))
		return;
	ok = time_sample(&a);
	compute(REF_COUNT_ROUNDS);
	if (!ok || !time_sample(&b)) {
		check_fail(name, "rdmsr 0x%x: #GP", HV_MSR_TIME_REF_COUNT);
		return;
	}
	dt = b.tsc - a.tsc;
	dr = b.ref - a.ref;
	if (b.ref <= a.ref || !hz) {
		check_fail(name, "0x%lx then 0x%lx (want an increase), TSC frequency %lu", a.ref,
			   b.ref, hz);
		return;
	}
	/* Within 20%: 10 * dr * hz against dt * 10 MHz * [8, 12]. */
	got = (u128)dr * hz * 10;
	want = (u128)dt * HV_REF_HZ;
	if (got < want * 8 || got > want * 12) {
		check_fail(name, "%lu units over %lu TSC cycles at %lu Hz, want about %lu", dr, dt,
			   hz, dt / hz * HV_REF_HZ + dt % hz * HV_REF_HZ / hz);
		return;
	}
	if (msr_refuses(name, HV_MSR_TIME_REF_COUNT, 0))
		check_ok(name);
}

static u64 tsc_page_time(u64 tsc, u64 scale, s64 offset)
{
	return (u64)(((u128)tsc * scale) >> 64) + (u64)offset;
}

/* TLFS 12.7: the page's time agrees with TIME_REF_COUNT read between two RDTSCs. */
static bool tsc_page_agrees(const char *name)
{
	const volatile struct hv_tsc_page *page = (const volatile struct hv_tsc_page *)TSC_PAGE_GPA;
	u64 scale, ref = 0, t0, t1, p0 = 0, p1 = 0;
	u32 seq;
	s64 offset;

	for (unsigned i = 0; i < TIME_SAMPLE_TRIES; i++) {
		seq = page->sequence;
		scale = page->scale;
		offset = page->offset;
		if (!seq || seq != page->sequence) {
			check_fail(name, "sequence 0x%x then 0x%x, want the same non-zero", seq,
				   page->sequence);
			return false;
		}
		t0 = rdtsc();
		if (!msr_read_ok(name, HV_MSR_TIME_REF_COUNT, &ref))
			return false;
		t1 = rdtsc();
		p0 = tsc_page_time(t0, scale, offset);
		p1 = tsc_page_time(t1, scale, offset);
		if (p0 <= ref && ref <= p1 && ref - p0 <= TSC_PAGE_MAX_LAG)
			return true;
	}
	check_fail(name, "page time 0x%lx..0x%lx, TIME_REF_COUNT 0x%lx; scale 0x%lx offset 0x%lx",
		   p0, p1, ref, page->scale, (u64)page->offset);
	return false;
}

static void check_hv_tsc_page(void)
{
	const char *name = "hv-tsc-page";

	if (hv_skip(name, HV_PRIV_TIME_REF_COUNT | HV_PRIV_REFERENCE_TSC, 0, 0))
		return;
	page_fill(TSC_PAGE_GPA, 0); /* sequence 0 until the hypervisor fills it in */
	if (msr_roundtrip(name, HV_MSR_REFERENCE_TSC, TSC_PAGE_GPA | HV_MSR_ENABLE) &&
	    tsc_page_agrees(name) &&
	    msr_refuses(name, HV_MSR_REFERENCE_TSC, OUTSIDE_RAM_GPA | HV_MSR_ENABLE))
		check_ok(name);
}

/* TLFS 12.8: read-only frequencies, so that a guest needs no calibration. */
static void check_hv_frequencies(void)
{
	const char *name = "hv-frequencies";
	u64 tsc_hz = 0, apic_hz = 0;

	if (hv_skip(name, HV_PRIV_FREQUENCY, 0, 0) ||
	    !msr_read_ok(name, HV_MSR_TSC_FREQUENCY, &tsc_hz) ||
	    !msr_read_ok(name, HV_MSR_APIC_FREQUENCY, &apic_hz))
		return;
	if (!tsc_hz || !apic_hz) {
		check_fail(name, "TSC %lu Hz, APIC %lu Hz, want both non-zero", tsc_hz, apic_hz);
		return;
	}
	if (msr_refuses(name, HV_MSR_TSC_FREQUENCY, tsc_hz) &&
	    msr_refuses(name, HV_MSR_APIC_FREQUENCY, apic_hz))
		check_ok(name);
}

/* Bad hypercalls each get their TLFS status. HvPostMessage input goes on HC_INPUT_GPA. */
struct bad_call {
	const char *what;
	u64 control, rdx;
	u32 payload_size; /* of the HvPostMessage input written first */
	u64 status;
};

static const struct bad_call bad_calls[] = {
    {"unknown call code", HC_UNKNOWN, 0, 0, HV_STATUS_INVALID_HYPERCALL_CODE},
    {"reserved control bit 27", HC_BULKHEAD_ECHO | HC_RESERVED_BIT, 0, 0,
     HV_STATUS_INVALID_HYPERCALL_INPUT},
    {"HvPostMessage input not 8-byte aligned", HC_POST_MESSAGE, HC_INPUT_GPA + HC_MISALIGNED,
     TEST_MESSAGE_SIZE, HV_STATUS_INVALID_ALIGNMENT},
    {"HvPostMessage payload_size 241", HC_POST_MESSAGE, HC_INPUT_GPA, HV_MESSAGE_PAYLOAD_MAX + 1,
     HV_STATUS_INVALID_PARAMETER},
    {"HvPostMessage to unknown connection", HC_POST_MESSAGE, HC_INPUT_GPA, TEST_MESSAGE_SIZE,
     HV_STATUS_INVALID_CONNECTION_ID},
    {"HvSignalEvent to unknown connection", HC_SIGNAL_EVENT | HC_FAST, UNKNOWN_CONNECTION_ID, 0,
     HV_STATUS_INVALID_CONNECTION_ID},
    {"HvSignalEvent flag 2048", HC_SIGNAL_EVENT | HC_FAST,
     UNKNOWN_CONNECTION_ID | (u64)HV_EVENT_FLAGS_COUNT << HV_SIGNAL_FLAG_SHIFT, 0,
     HV_STATUS_INVALID_PARAMETER},
};

static void post_message_input(u32 payload_size)
{
	volatile struct hv_post_message_input *in =
	    (volatile struct hv_post_message_input *)HC_INPUT_GPA;

	page_fill(HC_INPUT_GPA, 0);
	in->connection_id = UNKNOWN_CONNECTION_ID;
	in->message_type = TEST_MESSAGE_TYPE;
	in->payload_size = payload_size;
	in->payload[0] = HC_ECHO_INPUT;
}

static void check_hv_hypercall_errors(void)
{
	const char *name = "hv-hypercall-errors";

	if (hv_skip(name, 0, HV_PRIV_POST_MESSAGES | HV_PRIV_SIGNAL_EVENTS, 0))
		return;
	for (unsigned i = 0; i < sizeof(bad_calls) / sizeof(bad_calls[0]); i++) {
		const struct bad_call *c = &bad_calls[i];
		u64 rdx = c->rdx, status;

		post_message_input(c->payload_size);
		status = hypercall(c->control, &rdx, 0);
		if ((status & HV_STATUS_MASK) != c->status) {
			check_fail(name, "%s: rcx=0x%lx rdx=0x%lx gave rax=0x%lx, want 0x%lx",
				   c->what, c->control, c->rdx, status, c->status);
			return;
		}
	}
	check_ok(name);
}

/* TLFS 11.4, 11.11: SynIC registers; message and event pages for hv-stimer. */
static void check_hv_synic(void)
{
	const char *name = "hv-synic";
	u64 sint = 0, version = 0;

	if (hv_skip(name, HV_PRIV_SYNIC, 0, 0) || !msr_read_ok(name, HV_MSR_SINT0, &sint))
		return;
	if (!(sint & HV_SINT_MASKED)) {
		check_fail(name, "SINT0 reads 0x%lx at reset, want masked (bit 16)", sint);
		return;
	}
	page_fill(SIMP_GPA, 0); /* free slots: a guest zeroes the pages before handing them */
	page_fill(SIEFP_GPA, 0);
	if (!msr_roundtrip(name, HV_MSR_SCONTROL, HV_MSR_ENABLE) ||
	    !msr_read_ok(name, HV_MSR_SVERSION, &version))
		return;
	if (version != HV_SVERSION) {
		check_fail(name, "SVERSION reads 0x%lx, want %u", version, HV_SVERSION);
		return;
	}
	if (!msr_roundtrip(name, HV_MSR_SIEFP, SIEFP_GPA | HV_MSR_ENABLE) ||
	    !msr_roundtrip(name, HV_MSR_SIMP, SIMP_GPA | HV_MSR_ENABLE) ||
	    !msr_refuses(name, HV_MSR_SINT0, HV_SINT_BAD_VECTOR) ||
	    !msr_read_ok(name, HV_MSR_SINT0, &sint))
		return;
	if (!(sint & HV_SINT_MASKED)) {
		check_fail(name, "SINT0 reads 0x%lx after a refused write, want masked", sint);
		return;
	}
	simp = (volatile struct hv_message *)SIMP_GPA;
	check_ok(name);
}

/* The x2APIC timer, one-shot: it ends the wait if a synthetic timer never interrupts. */
static u32 watchdog_ticks;

static bool x2apic_watchdog_setup(const char *name)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE), apic_hz = 0;

	if ((base & (APIC_BASE_EN | APIC_BASE_EXTD)) != (APIC_BASE_EN | APIC_BASE_EXTD)) {
		check_fail(name, "x2APIC not enabled (IA32_APIC_BASE=0x%lx)", base);
		return false;
	}
	if (!msr_read_ok(name, HV_MSR_APIC_FREQUENCY, &apic_hz))
		return false;
	apic_hz /= STIMER_WATCHDOG_DIV;
	watchdog_ticks = apic_hz > 0xffffffffu ? 0xffffffffu : apic_hz ? (u32)apic_hz : 1;
	wrmsr(X2APIC_SVR, SVR_ENABLE_SPURIOUS);
	wrmsr(X2APIC_TIMER_DIVIDE, DIVIDE_BY_1);
	wrmsr(X2APIC_LVT_TIMER, VEC_TIMER);
	return true;
}

/* HLT with interrupts on until vector comes; false if the watchdog came first. */
static bool wait_for_irq(u32 vector)
{
	u32 watchdog = irqs[VEC_TIMER];

	wrmsr(X2APIC_TIMER_INITIAL, watchdog_ticks);
	for (unsigned i = 0; i < STIMER_MAX_WAKES && !irqs[vector] && irqs[VEC_TIMER] == watchdog;
	     i++)
		asm volatile("sti; hlt; cli" ::: "memory");
	wrmsr(X2APIC_TIMER_INITIAL, 0);
	return irqs[vector];
}

/* A one-shot timer 1 ms ahead: false (after reporting) if it cannot be armed. */
static bool stimer_start(const char *name, u64 config, u64 *deadline)
{
	u64 now;

	if (!msr_read_ok(name, HV_MSR_TIME_REF_COUNT, &now))
		return false;
	*deadline = now + STIMER_DELAY;
	/* Count first: a zero count disables the timer (TLFS 12.2). */
	if (!msr_roundtrip(name, HV_MSR_STIMER0_COUNT, *deadline))
		return false;
	/* No read-back: the timer may have expired and cleared its enable bit already. */
	if (wrmsr_safe(HV_MSR_STIMER0_CONFIG, config))
		return true;
	check_fail(name, "wrmsr 0x%x = 0x%lx: #GP", HV_MSR_STIMER0_CONFIG, config);
	return false;
}

/* TLFS 12.3-12.4: expiry posts HVMSG_TIMER_EXPIRED into the SINT's slot. */
static bool stimer_message_mode(const char *name)
{
	u64 deadline, config = ~0ul;

	irqs[VEC_SINT] = 0;
	sint_type = HV_MESSAGE_NONE;
	if (!msr_roundtrip(name, HV_MSR_SINT0 + SINT_STIMER, VEC_SINT) ||
	    !stimer_start(name, HV_STIMER_ENABLE | (u64)SINT_STIMER << HV_STIMER_SINT_SHIFT,
			  &deadline))
		return false;
	if (!wait_for_irq(VEC_SINT)) {
		check_fail(name, "SINT%u vector 0x%x did not come within 1/%u s", SINT_STIMER,
			   VEC_SINT, STIMER_WATCHDOG_DIV);
		return false;
	}
	if (sint_type != HV_MESSAGE_TIMER_EXPIRED || sint_size != HV_TIMER_MESSAGE_SIZE ||
	    sint_timer != 0 || sint_expiration != deadline || sint_delivery < deadline) {
		check_fail(name,
			   "slot %u: type 0x%x size %u timer %u expiration 0x%lx delivery 0x%lx, "
			   "want 0x%x %u 0 0x%lx",
			   SINT_STIMER, sint_type, sint_size, sint_timer, sint_expiration,
			   sint_delivery, HV_MESSAGE_TIMER_EXPIRED, HV_TIMER_MESSAGE_SIZE,
			   deadline);
		return false;
	}
	if (irq_ref_time < deadline) {
		check_fail(name, "message interrupt at 0x%lx, before the deadline 0x%lx",
			   irq_ref_time, deadline);
		return false;
	}
	if (!msr_read_ok(name, HV_MSR_STIMER0_CONFIG, &config))
		return false;
	if (config & HV_STIMER_ENABLE) {
		check_fail(name, "one-shot config reads 0x%lx after expiry, want enable clear",
			   config);
		return false;
	}
	return true;
}

/* TLFS 12.4: direct mode interrupts with the timer's own vector, no message. */
static bool stimer_direct_mode(const char *name)
{
	u64 deadline, vector = VEC_DIRECT;
	u64 config = HV_STIMER_ENABLE | HV_STIMER_DIRECT | vector << HV_STIMER_VECTOR_SHIFT;

	irqs[VEC_DIRECT] = 0;
	if (!stimer_start(name, config, &deadline))
		return false;
	if (!wait_for_irq(VEC_DIRECT)) {
		check_fail(name, "direct vector 0x%x did not come within 1/%u s", VEC_DIRECT,
			   STIMER_WATCHDOG_DIV);
		return false;
	}
	if (irq_ref_time < deadline) {
		check_fail(name, "direct interrupt at 0x%lx, before the deadline 0x%lx",
			   irq_ref_time, deadline);
		return false;
	}
	if (irqs[VEC_SINT] != 1 || simp[0].type != HV_MESSAGE_NONE ||
	    simp[SINT_STIMER].type != HV_MESSAGE_NONE) {
		check_fail(name, "direct mode sent a message: %u SINT interrupts, slots 0x%x 0x%x",
			   irqs[VEC_SINT], simp[0].type, simp[SINT_STIMER].type);
		return false;
	}
	return true;
}

static void check_hv_stimer(void)
{
	const char *name = "hv-stimer";
	bool ok;

	if (hv_skip(name, HV_PRIV_SYNIC | HV_PRIV_SYNTIMERS | HV_PRIV_TIME_REF_COUNT, 0,
		    HV_FEATURE_DIRECT_STIMER))
		return;
	if (!simp) {
		print("check %s skip needs hv-synic\n", name);
		return;
	}
	if (!x2apic_watchdog_setup(name))
		return;
	ok = stimer_message_mode(name) && stimer_direct_mode(name);
	/* Quiet again whatever happened: the rest of the guest runs with IF=0 and no timers. */
	wrmsr_safe(HV_MSR_STIMER0_CONFIG, 0);
	wrmsr_safe(HV_MSR_SINT0 + SINT_STIMER, HV_SINT_MASKED);
	wrmsr(X2APIC_TIMER_INITIAL, 0);
	wrmsr(X2APIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	if (ok)
		check_ok(name);
}

/* TLFS 2.4.4 crash MSRs: the parameters only; notifying is the 'p' command's job. */
static void check_hv_crash(void)
{
	const char *name = "hv-crash";
	u64 ctl = 0;

	if (hv_skip(name, 0, 0, HV_FEATURE_CRASH_MSRS) ||
	    !msr_read_ok(name, HV_MSR_CRASH_CTL, &ctl))
		return;
	if (!(ctl & HV_CRASH_CTL_NOTIFY)) {
		check_fail(name, "CRASH_CTL reads 0x%lx, want notify (bit 63) supported", ctl);
		return;
	}
	for (u32 i = 0; i < HV_CRASH_PARAMS; i++)
		if (!msr_roundtrip(name, HV_MSR_CRASH_P0 + i, CRASH_P(i)) ||
		    !msr_roundtrip(name, HV_MSR_CRASH_P0 + i, 0))
			return;
	check_ok(name);
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
	irqs[VEC_TIMER] = 0;
	irq_late = 0;
	irq_limit = IRQ_TEST_COUNT;
	wrmsr(X2APIC_SVR, SVR_ENABLE_SPURIOUS);
	wrmsr(X2APIC_TIMER_DIVIDE, DIVIDE_BY_1);
	wrmsr(X2APIC_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
	t0 = rdtsc();
	wrmsr(X2APIC_TIMER_INITIAL, IRQ_TEST_PERIOD);
	current = (u32)rdmsr(X2APIC_TIMER_CURRENT);
	while (irqs[VEC_TIMER] < IRQ_TEST_COUNT)
		asm volatile("sti; hlt; cli" ::: "memory");
	t1 = rdtsc();
	wrmsr(X2APIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	irq_limit = 0;
	print("irq: %u timer interrupts, %lu TSC cycles each, count read %u of %u, %u late\n",
	      irqs[VEC_TIMER], (t1 - t0) / IRQ_TEST_COUNT, current, IRQ_TEST_PERIOD, irq_late);
}

/* The guest reports a crash as Linux does on panic (TLFS 2.4.4); the hypervisor prints it. */
static void crash_report(void)
{
	print("cmd: crash report\n");
	if (!hyperv || !(hv_feat[3] & HV_FEATURE_CRASH_MSRS)) {
		print("crash: no Hyper-V crash MSRs\n");
		return;
	}
	for (u32 i = 0; i < HV_CRASH_PARAMS; i++)
		wrmsr_safe(HV_MSR_CRASH_P0 + i, CRASH_P(i));
	uart_drain(); /* our line first, then the hypervisor's report */
	if (!wrmsr_safe(HV_MSR_CRASH_CTL, HV_CRASH_CTL_NOTIFY))
		print("crash: wrmsr 0x%x: #GP\n", HV_MSR_CRASH_CTL);
	else
		print("crash: reported\n");
}

/* ---- hostile commands (README "Hostile commands") ---- */

/* What start.S saw of its real-mode VMCALL and VMMCALL (RDX in, and out where served). */
extern volatile u16 rm_ud[2];
extern volatile u32 rm_edx[2];
#define RM_ECHO_INPUT 0x5a5a1234u /* start.S */

static void real_mode_report(void)
{
	print("hostile: real-mode hypercalls ud=%u/2 edx=0x%x/0x%x %s\n", rm_ud[0], rm_edx[0],
	      rm_edx[1],
	      rm_ud[0] == 2 && rm_edx[0] == RM_ECHO_INPUT && rm_edx[1] == RM_ECHO_INPUT ? "ok"
											: "FAIL");
}

/* DR0-DR3: linear addresses (SDM Vol.3B 18.2.1), canonical; DR7 leaves them disabled. */
#define DR_PATTERN(n) (0x7e57d0000ul + 0x1000ul * (n))

static void dr_write(bool zero)
{
	u64 v[4];

	for (u32 i = 0; i < 4; i++)
		v[i] = zero ? 0 : DR_PATTERN(i);
	asm volatile("mov %0, %%db0; mov %1, %%db1; mov %2, %%db2; mov %3, %%db3"
		     :
		     : "r"(v[0]), "r"(v[1]), "r"(v[2]), "r"(v[3]));
	print("hostile: dr %s\n", zero ? "zeroed" : "written");
}

static void dr_read(void)
{
	u64 v[4];

	asm volatile("mov %%db0, %0; mov %%db1, %1; mov %%db2, %2; mov %%db3, %3"
		     : "=r"(v[0]), "=r"(v[1]), "=r"(v[2]), "=r"(v[3]));
	print("hostile: dr0=0x%lx dr1=0x%lx dr2=0x%lx dr3=0x%lx\n", v[0], v[1], v[2], v[3]);
}

/*
 * Crash notifications in a loop: a CRASH_CTL write with a 512-byte message before every
 * COM1 poll of a tick loop like the main one, for CRASH_FLOOD_TICKS ticks. Each tick is the
 * same guest work as a main-loop tick, so a sibling's ticks meanwhile measure its share.
 */
#define CRASH_FLOOD_TICKS 6
#define CRASH_MSG_LEN	  512
static char crash_msg[CRASH_MSG_LEN];

static void crash_flood(void)
{
	u64 writes = 0, failed = 0;

	print("cmd: crash flood\n");
	if (!hyperv || !(hv_feat[3] & HV_FEATURE_CRASH_MSRS)) {
		print("crashflood: no Hyper-V crash MSRs\n");
		return;
	}
	for (u32 i = 0; i < CRASH_MSG_LEN; i++)
		crash_msg[i] = (char)('a' + i % 26);
	for (u32 i = 0; i < HV_CRASH_PARAMS; i++)
		wrmsr_safe(HV_MSR_CRASH_P0 + i, CRASH_P(i));
	wrmsr_safe(HV_MSR_CRASH_P0 + 3, (u64)crash_msg);
	wrmsr_safe(HV_MSR_CRASH_P0 + 4, CRASH_MSG_LEN);
	uart_drain();
	for (u64 tick = 0; tick < CRASH_FLOOD_TICKS; tick++) {
		print("crashflood tick %lu\n", tick);
		for (unsigned i = 0; i < TICK_POLLS; i++) {
			if (wrmsr_safe(HV_MSR_CRASH_CTL,
				       HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_MESSAGE))
				writes++;
			else
				failed++;
			compute(POLL_ROUNDS);
			uart_poll();
		}
	}
	print("crashflood: done writes=%lu gp=%lu\n", writes, failed);
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
	case 'p':
		crash_report();
		break;
	case 'v':
		vmbus_client(false);
		break;
	case 'V':
		vmbus_client(true);
		break;
	case 'r':
		real_mode_report();
		break;
	case 'u':
		vmbus_user_hypercalls();
		break;
	case 'G':
		vmbus_gpadl_headers();
		break;
	case 'R':
		vmbus_ring_never_drained();
		break;
	case 'D':
		dr_write(false);
		break;
	case 'z':
		dr_write(true);
		break;
	case 'd':
		dr_read();
		break;
	case 'P':
		crash_flood();
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
	check_hv_cpuid();
	check_hv_guest_os_id();
	check_hv_hypercall_page();
	check_hv_vp_index();
	check_hv_ref_count();
	check_hv_tsc_page();
	check_hv_frequencies();
	check_hv_hypercall_errors();
	check_hv_synic();
	check_hv_stimer();
	check_hv_crash();
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
