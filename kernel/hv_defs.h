/*
 * Architectural numbers of the Hyper-V synthetic interface, from Microsoft's
 * Hypervisor Top Level Functional Specification (TLFS 6.0; section numbers
 * in comments) and, where the TLFS is silent, Linux's include/hyperv/hvgdk*.h
 * names. Wire structures that live in guest memory are declared here once.
 */
#ifndef BULKHEAD_HV_DEFS_H
#define BULKHEAD_HV_DEFS_H

#include "types.h"

/* CPUID leaves (TLFS 2.4). */
#define HV_CPUID_VENDOR	       0x40000000u
#define HV_CPUID_INTERFACE     0x40000001u
#define HV_CPUID_VERSION       0x40000002u
#define HV_CPUID_FEATURES      0x40000003u
#define HV_CPUID_HINTS	       0x40000004u
#define HV_CPUID_LIMITS	       0x40000005u
#define HV_CPUID_HW_FEATURES   0x40000006u
#define HV_CPUID_LAST	       0x4000000au
#define HV_INTERFACE_SIGNATURE 0x31237648u /* "Hv#1" */

/* 0x40000003 EAX: partition privileges, low half (TLFS 2.4.4, HV_PARTITION_PRIVILEGE_MASK). */
#define HV_PRIV_TIME_REF_COUNT (1u << 1)
#define HV_PRIV_SYNIC	       (1u << 2)
#define HV_PRIV_SYNTIMERS      (1u << 3)
#define HV_PRIV_HYPERCALL      (1u << 5)
#define HV_PRIV_VP_INDEX       (1u << 6)
#define HV_PRIV_REFERENCE_TSC  (1u << 9)
#define HV_PRIV_FREQUENCY      (1u << 11)
/* EBX: high half. CpuManagement (bit 12) would make Linux think it is the root partition. */
#define HV_PRIV_POST_MESSAGES (1u << 4)
#define HV_PRIV_SIGNAL_EVENTS (1u << 5)
/* EDX: other features. */
#define HV_FEATURE_FREQUENCY_REGS   (1u << 8)
#define HV_FEATURE_GUEST_CRASH_MSRS (1u << 10)
#define HV_FEATURE_DIRECT_STIMERS   (1u << 19)
/* 0x40000004 EAX: recommendations (TLFS 2.4.5). */
#define HV_HINT_RELAXED_TIMING	   (1u << 5)
#define HV_HINT_DEPRECATE_AUTO_EOI (1u << 9)
#define HV_SPINLOCK_NEVER_NOTIFY   0xffffffffu

/* Synthetic MSRs (TLFS appendix "Synthetic MSRs"). */
#define HV_MSR_GUEST_OS_ID    0x40000000u
#define HV_MSR_HYPERCALL      0x40000001u
#define HV_MSR_VP_INDEX	      0x40000002u
#define HV_MSR_TIME_REF_COUNT 0x40000020u
#define HV_MSR_REFERENCE_TSC  0x40000021u
#define HV_MSR_TSC_FREQUENCY  0x40000022u
#define HV_MSR_APIC_FREQUENCY 0x40000023u
#define HV_MSR_VP_ASSIST_PAGE 0x40000073u
#define HV_MSR_SCONTROL	      0x40000080u
#define HV_MSR_SVERSION	      0x40000081u
#define HV_MSR_SIEFP	      0x40000082u
#define HV_MSR_SIMP	      0x40000083u
#define HV_MSR_EOM	      0x40000084u
#define HV_MSR_SINT0	      0x40000090u
#define HV_MSR_SINT15	      0x4000009fu
#define HV_MSR_STIMER0_CONFIG 0x400000b0u /* config and count of timer n at +2n, +2n+1 */
#define HV_MSR_STIMER3_COUNT  0x400000b7u
#define HV_MSR_CRASH_P0	      0x40000100u
#define HV_MSR_CRASH_P4	      0x40000104u
#define HV_MSR_CRASH_CTL      0x40000105u

/* Hypercall and overlay-page MSR layout: enable bit and a GPA in 63:12 (TLFS 3.13, 12.7.1). */
#define HV_MSR_ENABLE	     1ull
#define HV_HYPERCALL_LOCKED  (1ull << 1)
#define HV_MSR_GPA_MASK	     0xfffffffffffff000ull
#define HV_SVERSION	     1
#define HV_SINT_VECTOR_MASK  0xffull
#define HV_SINT_MASKED	     (1ull << 16)
#define HV_SINT_AUTO_EOI     (1ull << 17)
#define HV_SINT_POLLING	     (1ull << 18)
#define HV_SINT_BITS	     (HV_SINT_VECTOR_MASK | HV_SINT_MASKED | HV_SINT_AUTO_EOI | HV_SINT_POLLING)
#define HV_SINT_COUNT	     16
#define HV_CRASH_CTL_NOTIFY  (1ull << 63)
#define HV_CRASH_CTL_MESSAGE (1ull << 62) /* P3 = GPA of a message, P4 = its length */

/* Synthetic timer config (TLFS 12.2). */
#define HV_STIMER_COUNT	       4
#define HV_STIMER_ENABLE       (1ull << 0)
#define HV_STIMER_PERIODIC     (1ull << 1)
#define HV_STIMER_LAZY	       (1ull << 2)
#define HV_STIMER_AUTO_ENABLE  (1ull << 3)
#define HV_STIMER_VECTOR_SHIFT 4
#define HV_STIMER_VECTOR_MASK  0xffull
#define HV_STIMER_DIRECT       (1ull << 12)
#define HV_STIMER_SINT_SHIFT   16
#define HV_STIMER_SINT_MASK    0xfull
#define HV_STIMER_BITS	       0xf1fffull

/* Hypercall input (TLFS 3.7): RCX control, result in RAX. */
#define HV_HC_CODE_MASK	      0xffffull
#define HV_HC_FAST	      (1ull << 16)
#define HV_HC_VARHEAD_SHIFT   17
#define HV_HC_VARHEAD_MASK    0x3ffull
#define HV_HC_REP_COUNT_SHIFT 32
#define HV_HC_REP_COUNT_MASK  0xfffull
#define HV_HC_REP_START_SHIFT 48
#define HV_HC_REP_START_MASK  0xfffull
#define HV_HC_POST_MESSAGE    0x005c
#define HV_HC_SIGNAL_EVENT    0x005d
#define HV_HC_BULKHEAD_ECHO   0x0fff /* Bulkhead's own test call: RDX := ~RDX */

/* Hypercall status codes (TLFS appendix "Hypercall Status Codes"). */
#define HV_STATUS_SUCCESS		  0x0000
#define HV_STATUS_INVALID_HYPERCALL_CODE  0x0002
#define HV_STATUS_INVALID_HYPERCALL_INPUT 0x0003
#define HV_STATUS_INVALID_ALIGNMENT	  0x0004
#define HV_STATUS_INVALID_PARAMETER	  0x0005
#define HV_STATUS_ACCESS_DENIED		  0x0006
#define HV_STATUS_INVALID_CONNECTION_ID	  0x0012
#define HV_STATUS_INSUFFICIENT_BUFFERS	  0x0013

/* SynIC messages (TLFS 11.8): 256-byte slots, one per SINT, in the SIMP page. */
#define HV_MESSAGE_SIZE		   256
#define HV_MESSAGE_PAYLOAD_MAX	   240
#define HV_MESSAGE_NONE		   0x00000000u
#define HV_MESSAGE_TIMER_EXPIRED   0x80000010u
#define HV_MESSAGE_TYPE_HYPERVISOR 0x80000000u /* types with this bit are the hypervisor's */
#define HV_MESSAGE_FLAG_PENDING	   0x01

struct hv_message {
	u32 type;
	u8 payload_size;
	u8 flags;
	u16 reserved;
	u64 sender; /* port or origination id */
	u64 payload[HV_MESSAGE_PAYLOAD_MAX / 8];
} __packed;
_Static_assert(sizeof(struct hv_message) == HV_MESSAGE_SIZE, "TLFS 11.8.2 HV_MESSAGE");

/* Timer expiration message payload (TLFS 12.3). */
struct hv_timer_message {
	u32 timer_index;
	u32 reserved;
	u64 expiration_time; /* when it was due, 100 ns reference time */
	u64 delivery_time;   /* when it was delivered */
} __packed;
_Static_assert(sizeof(struct hv_timer_message) == 24, "TLFS 12.3 timer message payload");

/* HvPostMessage input (TLFS 11.10.1): read once from the guest's input page. */
struct hv_post_message_input {
	u32 connection_id;
	u32 reserved;
	u32 message_type;
	u32 payload_size;
	u64 payload[HV_MESSAGE_PAYLOAD_MAX / 8];
} __packed;
_Static_assert(sizeof(struct hv_post_message_input) == 256, "TLFS 11.10.1 input");

/* HvSignalEvent fast input in RDX (TLFS 11.10.2): connection id, flag number, zeros. */
#define HV_SIGNAL_FLAG_SHIFT	 32
#define HV_SIGNAL_FLAG_MASK	 0xffffull
#define HV_SIGNAL_RESERVED_SHIFT 48

/* Event flags (TLFS 11.9): the SIEF page holds 2048 flag bits per SINT. */
#define HV_EVENT_FLAGS_BYTES 256
#define HV_EVENT_FLAGS_COUNT (HV_EVENT_FLAGS_BYTES * 8)

/* Reference TSC page (TLFS 12.7.2). */
struct hv_tsc_page {
	u32 sequence; /* 0: invalid, use TIME_REF_COUNT */
	u32 reserved1;
	u64 scale;
	s64 offset;
	u64 reserved2[509];
} __packed;
_Static_assert(sizeof(struct hv_tsc_page) == PAGE_SIZE, "TLFS 12.7.2 HV_REFERENCE_TSC_PAGE");

#define HV_REF_HZ 10000000ull /* reference time counts 100 ns units (TLFS 12.1) */

#endif
