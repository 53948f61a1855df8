/*
 * What the test guest's C files share: types, CPU helpers, the Hyper-V
 * numbers they both use (TLFS 6.0), the interrupt vectors of start.S, and
 * the services testguest.c offers the others (printing, hypercalls, MSRs
 * that may fault, interrupt counts). Freestanding: no libc.
 */
#ifndef TESTGUEST_GUEST_H
#define TESTGUEST_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
typedef unsigned __int128 u128;

#define __packed   __attribute__((packed))
#define __noreturn __attribute__((noreturn))

#define PAGE_SIZE  0x1000ul
#define PAGE_SHIFT 12

/*
 * Exceptions 0-31, then the interrupts (start.S has one stub each): the
 * x2APIC timer ('i' test, hv-stimer's watchdog, the VMBus client's wake-up),
 * the SynIC vector of the hv-stimer check, the direct-mode synthetic timer's
 * vector (hv-stimer), and the VMBus client's SINT.
 */
#define NR_EXC	   32
#define NR_STUBS   37 /* vectors with a stub in start.S */
#define VEC_TIMER  32
#define VEC_SINT   34
#define VEC_DIRECT 35
#define VEC_VMBUS  36
/* INT from CPL 3 back to the kernel: its gate is start.S's user_return, not a stub. */
#define VEC_USER_RETURN 37
#define NR_VECTORS	38

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

/* 0x40000003 EAX: partition privileges (TLFS 2.4.4). */
#define HV_PRIV_TIME_REF_COUNT (1u << 1)
#define HV_PRIV_SYNIC	       (1u << 2)
#define HV_PRIV_SYNTIMERS      (1u << 3)
#define HV_PRIV_HYPERCALL      (1u << 5) /* guest OS id and hypercall MSRs */
#define HV_PRIV_VP_INDEX       (1u << 6)
#define HV_PRIV_REFERENCE_TSC  (1u << 9)
#define HV_PRIV_FREQUENCY      (1u << 11)
/* EBX: the high half. CpuManagement belongs to the root partition only. */
#define HV_PRIV_POST_MESSAGES  (1u << 4)
#define HV_PRIV_SIGNAL_EVENTS  (1u << 5)
#define HV_PRIV_CPU_MANAGEMENT (1u << 12)

/* Synthetic MSRs (TLFS appendix "Synthetic MSRs"). */
#define HV_MSR_GUEST_OS_ID    0x40000000
#define HV_MSR_HYPERCALL      0x40000001
#define HV_MSR_VP_INDEX	      0x40000002
#define HV_MSR_TIME_REF_COUNT 0x40000020
#define HV_MSR_REFERENCE_TSC  0x40000021
#define HV_MSR_TSC_FREQUENCY  0x40000022
#define HV_MSR_APIC_FREQUENCY 0x40000023
#define HV_MSR_SCONTROL	      0x40000080
#define HV_MSR_SVERSION	      0x40000081
#define HV_MSR_SIEFP	      0x40000082
#define HV_MSR_SIMP	      0x40000083
#define HV_MSR_EOM	      0x40000084
#define HV_MSR_SINT0	      0x40000090 /* SINTn at HV_MSR_SINT0 + n */

/* Guest OS identity (TLFS "Reporting the Guest OS Identity"): open source, type 0x7e, build 1. */
#define TESTGUEST_OS_ID 0xfe00000000000001ul
/* Bit 0 of the hypercall, reference TSC page, SCONTROL, SIMP and SIEFP MSRs. */
#define HV_MSR_ENABLE 1ul
/* SynIC (TLFS 11.11): SINTs are masked at reset. */
#define HV_SINT_MASKED (1ul << 16)

/* Hypercalls (TLFS 3.7, 11.10) and their status codes (TLFS appendix). */
#define HC_POST_MESSAGE			  0x005c
#define HC_SIGNAL_EVENT			  0x005d
#define HC_FAST				  (1ul << 16)
#define HV_STATUS_SUCCESS		  0
#define HV_STATUS_INVALID_HYPERCALL_CODE  2
#define HV_STATUS_INVALID_HYPERCALL_INPUT 3
#define HV_STATUS_INVALID_ALIGNMENT	  4
#define HV_STATUS_INVALID_PARAMETER	  5
#define HV_STATUS_INVALID_CONNECTION_ID	  0x12
#define HV_STATUS_INSUFFICIENT_BUFFERS	  0x13
#define HV_STATUS_MASK			  0xffff
#define HV_MESSAGE_PAYLOAD_MAX		  240
#define HV_SIGNAL_FLAG_SHIFT		  32   /* HvSignalEvent input: flag number in 47:32 */
#define HV_EVENT_FLAGS_COUNT		  2048 /* flags per SINT (TLFS 11.9) */
#define HV_EVENT_FLAGS_BYTES		  (HV_EVENT_FLAGS_COUNT / 8)

/* SynIC messages (TLFS 11.8.2): one 256-byte slot per SINT in the SIMP page. */
#define HV_MESSAGE_NONE		0
#define HV_MESSAGE_FLAG_PENDING 0x01 /* more wait: write EOM after freeing the slot */

/*
 * Pages the hv-* checks hand to the hypervisor: free RAM at 2 MiB, identity
 * mapped. The VMBus client (vmbus_client.c) uses the SIMP, SIEFP and input
 * pages too, and its own memory from 3 MiB up.
 */
#define HYPERCALL_PAGE_GPA 0x200000ul
#define TSC_PAGE_GPA	   0x201000ul
#define SIMP_GPA	   0x202000ul
#define SIEFP_GPA	   0x203000ul
#define HC_INPUT_GPA	   0x204000ul

struct hv_message { /* TLFS 11.8.2 HV_MESSAGE */
	u32 type;
	u8 payload_size;
	u8 flags;
	u16 reserved;
	u64 sender;
	u64 payload[HV_MESSAGE_PAYLOAD_MAX / 8]; /* timer: index, expiration, delivery */
} __packed;
_Static_assert(sizeof(struct hv_message) == 256, "HV_MESSAGE is 256 bytes");

struct hv_post_message_input { /* TLFS 11.10.1 HvPostMessage */
	u32 connection_id;
	u32 reserved;
	u32 message_type;
	u32 payload_size;
	u64 payload[HV_MESSAGE_PAYLOAD_MAX / 8];
} __packed;
_Static_assert(sizeof(struct hv_post_message_input) == 256, "HvPostMessage input is 256 bytes");

/* ---- CPU helpers ---- */

static inline void wrmsr(u32 index, u64 val)
{
	asm volatile("wrmsr" : : "c"(index), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
}

static inline u64 rdmsr(u32 index)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index) : "memory");
	return (u64)hi << 32 | lo;
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (u64)hi << 32 | lo;
}

/* A full barrier: the other side of a ring sees our stores in order (and we see its). */
static inline void mb(void)
{
	asm volatile("mfence" ::: "memory");
}

/* ---- testguest.c ---- */

__attribute__((format(printf, 1, 2))) void print(const char *fmt, ...);
void vprint(const char *fmt, va_list ap);
/* RCX control, RDX input (a GPA or, fast, a value), R8 output GPA: the status (RAX). */
u64 hypercall(u64 control, u64 *rdx, u64 output);
/* The same with the encoding chosen (VMMCALL or VMCALL); *ud: it raised #UD (RAX untouched,
 * HC_NO_STATUS). Usable at CPL 3. */
#define HC_NO_STATUS 0xbadbadbadbadbadbul /* RAX before the call */
u64 hypercall_insn(bool vmmcall, u64 control, u64 *rdx, u64 output, bool *ud);
/* Run fn at CPL 3 (interrupts off, no I/O); fn ends with user_exit(). */
void user_run(void (*fn)(void));
static inline __noreturn void user_exit(void)
{
	asm volatile("int %0" : : "i"(VEC_USER_RETURN) : "memory");
	__builtin_unreachable();
}
/* false if the access raised #GP */
bool rdmsr_safe(u32 index, u64 *val);
bool wrmsr_safe(u32 index, u64 val);
/* Leaf 0x40000000 says "Microsoft Hv"; hv_feat: leaf 0x40000003 EAX, EBX, ECX, EDX. */
extern bool hyperv;
extern u32 hv_feat[4];
/* Interrupts taken, per vector (the handler EOIs the x2APIC). */
extern volatile u32 irqs[NR_VECTORS];

/* ---- vmbus_client.c: the 'v' and 'V' commands ---- */

/* Drive the echo VSP; leave_open skips the close, teardown and unload at the end. */
void vmbus_client(bool leave_open);
/* Hostile cases (the 'u', 'G' and 'R' commands; README "Hostile commands"). */
void vmbus_user_hypercalls(void);
void vmbus_gpadl_headers(void);
void vmbus_ring_never_drained(void);

#endif
