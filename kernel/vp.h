/*
 * The vendor-neutral virtual-processor interface. arch/x86_64 implements it
 * once per CPU vendor; kernel/ sees only this. arch/ picks the implementation
 * at boot from CPUID (vp_probe), and knows of a VP's partition only what
 * struct vp_guest gives it.
 */
#ifndef BULKHEAD_VP_H
#define BULKHEAD_VP_H

#include "types.h"
#include "pt.h"
#include "x86.h"

struct partition;

/* General registers in x86 encoding order (so decoders index them). */
enum vp_reg {
	REG_RAX,
	REG_RCX,
	REG_RDX,
	REG_RBX,
	REG_RSP,
	REG_RBP,
	REG_RSI,
	REG_RDI,
	REG_R8,
	REG_R9,
	REG_R10,
	REG_R11,
	REG_R12,
	REG_R13,
	REG_R14,
	REG_R15,
	VP_NR_GPRS
};

struct vp_regs {
	u64 gpr[VP_NR_GPRS];
	u64 rip;
	u64 rflags;
};

struct vp_seg {
	u16 sel;
	u16 attr; /* VMX access-rights layout: type[3:0] S[4] DPL[6:5] P[7] AVL[12] L[13] D[14]
		     G[15] */
	u32 limit;
	u64 base;
};

struct vp_sregs {
	struct vp_seg es, cs, ss, ds, fs, gs, ldtr, tr;
	u64 gdt_base, idt_base;
	u32 gdt_limit, idt_limit;
	u64 cr0, cr2, cr3, cr4, efer;
};

enum vm_exit_reason {
	EXIT_NONE, /* nothing to do (e.g. an injected event was delivered) */
	EXIT_CPUID,
	EXIT_IO,
	EXIT_MSR_READ,
	EXIT_MSR_WRITE,
	EXIT_HLT,
	EXIT_HYPERCALL,
	EXIT_MEM_FAULT, /* EPT/NPT violation or misconfiguration */
	EXIT_TRIPLE_FAULT,
	EXIT_INTR,	 /* external interrupt (host's) */
	EXIT_PREEMPT,	 /* time slice over */
	EXIT_IRQ_WINDOW, /* the guest can take an interrupt now (asked for by vp_irq_window) */
	EXIT_INVALID,	 /* VM entry failed / invalid guest state */
	EXIT_UNHANDLED,	 /* anything else: vendor code in raw */
};

/* Access kinds of an EXIT_MEM_FAULT. */
#define MEM_READ  1u
#define MEM_WRITE 2u
#define MEM_EXEC  4u

struct vm_exit {
	enum vm_exit_reason reason;
	u64 raw;     /* vendor exit code, for messages */
	u64 qual;    /* vendor qualification / exit info, for messages */
	u8 insn_len; /* length of the exiting instruction, where known */
	union {
		struct {
			u16 port;
			u8 size; /* 1, 2 or 4 */
			bool in;
			bool string;
			bool rep;
		} io;
		struct {
			u32 index;
		} msr;
		struct {
			u64 gpa;
			unsigned access; /* MEM_* */
		} mem;
		struct {
			u8 cpl;		     /* of the VMCALL / VMMCALL */
			bool protected_mode; /* CR0.PE was set */
		} hypercall;
	};
};

/* Architectural reset state: real mode with CS:IP given (SDM 10.1.1). */
struct vp_reset {
	u16 cs_sel;
	u64 cs_base;
	u64 rip;
};

#define VP_FPU_SIZE 512 /* FXSAVE image (SDM Vol.1 10.5.1) */

/*
 * Everything of a VP a snapshot keeps (kernel/snap.c), taken between exits:
 * what the guest can see or would notice losing. The x87/SSE image is the
 * kernel's (struct vp.fpu).
 */
struct vp_state {
	struct vp_regs regs;
	struct vp_sregs sregs;
	u64 kernel_gs_base, star, lstar, cstar, sfmask;
	u64 sysenter_cs, sysenter_esp, sysenter_eip, pat, tsc_aux;
	u64 dr[4], dr6, dr7;
	u64 cr8;
	bool shadow; /* the STI/MOV SS interrupt shadow is on at regs.rip */
	/* An event queued for the next entry: vector[7:0] type[10:8] error[11] valid[31], the
	 * layout SDM Vol.3 25.8.3 and APM Vol.2 15.20 share. */
	u32 event, event_error, event_insn_len;
	u64 spec_ctrl; /* IA32_SPEC_CTRL */
};

/* Speculation mitigations the back end applies around a VP's entries (kernel/mitig.c). */
#define VP_MITIG_IBPB	   (1u << 0) /* IBPB when the CPU comes to it from another partition */
#define VP_MITIG_L1D_FLUSH (1u << 1) /* IA32_FLUSH_CMD before every entry (L1TF) */
#define VP_MITIG_VERW	   (1u << 2) /* VERW just before every entry (MDS, TAA) */
#define VP_MITIG_RSB	   (1u << 3) /* the RSB filled after every exit, before any RET */
#define VP_MITIG_SPEC_CTRL (1u << 4) /* vp.spec_ctrl in the CPU while the guest runs */

/* Copy len bytes of guest-physical memory at gpa (all in one page) to buf: 0, or -1 if unmapped. */
typedef int (*vp_read_fn)(void *ctx, u64 gpa, void *buf, unsigned len);

/*
 * What arch/ may know of the partition a VP runs in. The kernel fills it in
 * before vp_create and keeps it valid while the VP exists; arch/ reads
 * nothing else of the partition (vp.part is the kernel's).
 */
struct vp_guest {
	unsigned tag;	      /* 0..PART_MAX-1, unique among partitions: tags its TLB entries */
	const char *name;     /* for messages */
	const struct pt *gpt; /* guest-physical tables (EPT or NPT, vp_ops->gpt_format) */
	const u64 *gpt_gen;   /* moves on every change to gpt: cached translations must go */
	vp_read_fn read;      /* guest memory, e.g. the instruction at RIP or PAE PDPTEs */
	void *read_ctx;
	unsigned mitig;	    /* VP_MITIG_* */
	u64 spec_ctrl_bits; /* IA32_SPEC_CTRL bits the guest may hold (SPEC_CTRL_*) */
};

struct vp {
	struct vp_regs regs; /* valid between run() calls; written back on entry */
	struct partition *part;
	struct vp_guest guest;
	unsigned index;
	u64 exits; /* exits handled, for `info` */
	u64 exits_by_reason[EXIT_UNHANDLED + 1];
	u8 fpu[VP_FPU_SIZE] __aligned(16); /* x87/SSE state while another VP runs */
	u64 spec_ctrl; /* the guest's IA32_SPEC_CTRL (msr.c), within guest.spec_ctrl_bits */
	void *arch;    /* vendor state */
	u64 arch_pa;   /* its physical address */
};

struct vp_ops {
	const char *name;		    /* "vmx" or "svm" */
	const struct pt_format *gpt_format; /* EPT or NPT entries */
	const u8 *hypercall_insn; /* VMCALL or VMMCALL, 3 bytes: what the hypercall page holds */
	/* Turn virtualization on for the boot CPU. 0 or -1 with a message. */
	int (*cpu_enable)(void);
	int (*vp_create)(struct vp *vp);
	void (*vp_destroy)(struct vp *vp);
	void (*vp_reset)(struct vp *vp, const struct vp_reset *r);
	/* Run until an exit the kernel must handle, at most slice_us. */
	void (*vp_run)(struct vp *vp, struct vm_exit *exit, u64 slice_us);
	void (*vp_get_sregs)(struct vp *vp, struct vp_sregs *s);
	/* Load every segment, descriptor table, control register and EFER (e.g. a PVH entry). */
	void (*vp_set_sregs)(struct vp *vp, const struct vp_sregs *s);
	/* Queue a hardware exception for the next entry (SDM 6.15). */
	void (*vp_inject_exception)(struct vp *vp, u8 vector, bool has_error, u32 error);
	/*
	 * Vendor-owned MSRs that exit (e.g. EFER on SVM). Returns true if the MSR
	 * is the vendor's; then *val is read or written.
	 */
	bool (*vp_msr)(struct vp *vp, u32 index, u64 *val, bool write);
	/*
	 * External interrupts from the partition's interrupt controller. ready:
	 * RFLAGS.IF is set, no STI/MOV SS shadow and no event already queued, so
	 * an interrupt injected now is taken at the next entry (SDM Vol.3 6.8.3).
	 * window: exit with EXIT_IRQ_WINDOW as soon as that becomes true.
	 */
	bool (*vp_irq_ready)(struct vp *vp);
	void (*vp_inject_irq)(struct vp *vp, u8 vector);
	void (*vp_irq_window)(struct vp *vp, bool on);
	/* Between exits: the whole VP state out, or in (a snapshot's; flushes its TLB). */
	void (*vp_save)(struct vp *vp, struct vp_state *s);
	void (*vp_load)(struct vp *vp, const struct vp_state *s);
};

/* The kernel's choice: what vp_probe returned at boot. */
extern const struct vp_ops *vp_ops;

/* arch/: the implementation for this CPU's vendor, or NULL (with a reason). */
const struct vp_ops *vp_probe(const char **why);

#endif
