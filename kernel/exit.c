/* VM exit dispatch (docs/architecture.md: exit -> vm_exit -> handler in kernel/). */
#include "exit.h"
#include "arch.h"
#include "part.h"

#include "x86.h"

static void skip(struct vp *vp, const struct vm_exit *e)
{
	vp->regs.rip += e->insn_len;
}

static void handle_cpuid(struct vp *vp, const struct vm_exit *e)
{
	u32 out[4];
	u64 *r = vp->regs.gpr;

	cpuid_emulate((u32)r[REG_RAX], (u32)r[REG_RCX], out);
	r[REG_RAX] = out[0];
	r[REG_RBX] = out[1];
	r[REG_RCX] = out[2];
	r[REG_RDX] = out[3];
	skip(vp, e);
}

static void handle_msr(struct vp *vp, const struct vm_exit *e)
{
	u64 *r = vp->regs.gpr;
	u32 index = (u32)r[REG_RCX];
	u64 val;

	if (e->reason == EXIT_MSR_READ) {
		if (!msr_read(vp, index, &val))
			goto gp;
		r[REG_RAX] = (u32)val;
		r[REG_RDX] = val >> 32;
	} else {
		val = (r[REG_RDX] << 32) | (u32)r[REG_RAX];
		if (!msr_write(vp, index, val))
			goto gp;
	}
	skip(vp, e);
	return;
gp:
	vp_ops->vp_inject_exception(vp, EXC_GP, true, 0);
}

/* The I/O APIC's registers are 32 bits wide; other sizes read 0 and write nothing. */
static void ioapic_access(void *ctx, u64 gpa, unsigned size, bool write, u64 *val)
{
	struct partition *p = ctx;
	u32 v = (u32)*val;

	if (size != sizeof(u32)) {
		if (!write)
			*val = 0;
		return;
	}
	vioapic_mmio(&p->ioapic, gpa - VIOAPIC_BASE, write, &v);
	if (!write)
		*val = v;
}

/* A fault on a device page is an access to emulate. Returns true if it was one. */
static bool handle_mmio(struct vp *vp, const struct vm_exit *e)
{
	struct partition *p = vp->part;
	char why[128];

	if (e->mem.gpa < VIOAPIC_BASE || e->mem.gpa >= VIOAPIC_BASE + VIOAPIC_SIZE)
		return false;
	if (arch_mmio_emulate(vp, e->mem.gpa, ioapic_access, p, why, sizeof(why)))
		part_stop(p, "MMIO at gpa=0x%llx not emulated: %s", (unsigned long long)e->mem.gpa,
			  why);
	return true;
}

static const char *access_name(unsigned a)
{
	if (a & MEM_EXEC)
		return "exec";
	return a & MEM_WRITE ? "write" : "read";
}

bool exit_handle(struct vp *vp, const struct vm_exit *e)
{
	struct partition *p = vp->part;

	switch (e->reason) {
	case EXIT_CPUID:
		handle_cpuid(vp, e);
		return false;
	case EXIT_IO:
		io_emulate(vp, e);
		return p->state != PART_RUNNING;
	case EXIT_MSR_READ:
	case EXIT_MSR_WRITE:
		handle_msr(vp, e);
		return false;
	case EXIT_HYPERCALL:
		/*
		 * TLFS 3.2 (hypercall interface): only CPL 0 in protected mode (not
		 * virtual-8086) may call; elsewhere the instruction raises #UD, as on
		 * hardware without a hypervisor, and nothing else happens.
		 */
		if (!e->hypercall.protected_mode || e->hypercall.cpl ||
		    (vp->regs.rflags & RFLAGS_VM)) {
			vp_ops->vp_inject_exception(vp, EXC_UD, false, 0);
			return false;
		}
		hypercall_dispatch(vp);
		skip(vp, e);
		return false;
	case EXIT_HLT:
		skip(vp, e);
		if (vp->regs.rflags & RFLAGS_IF) {
			p->idle = true; /* until an interrupt (irq_tick) */
			return true;
		}
		/* Interrupts off: nothing can wake the VP; it stays halted until reset. */
		p->state = PART_HALTED;
		return true;
	case EXIT_MEM_FAULT:
		if ((e->mem.access & MEM_WRITE) && snap_write_fault(p, e->mem.gpa))
			return false; /* a first write since a snapshot */
		if (handle_mmio(vp, e))
			return p->state != PART_RUNNING;
		part_stop(p, "memory fault gpa=0x%llx access=%s", (unsigned long long)e->mem.gpa,
			  access_name(e->mem.access));
		return true;
	case EXIT_TRIPLE_FAULT:
		part_stop(p, "triple fault");
		return true;
	case EXIT_INVALID:
		part_stop(p, "invalid guest state (exit 0x%llx, info 0x%llx)",
			  (unsigned long long)e->raw, (unsigned long long)e->qual);
		return true;
	case EXIT_UNHANDLED:
		part_stop(p, "unhandled exit 0x%llx (info 0x%llx) at rip=0x%llx",
			  (unsigned long long)e->raw, (unsigned long long)e->qual,
			  (unsigned long long)vp->regs.rip);
		return true;
	case EXIT_INTR:
	case EXIT_PREEMPT:
		return true;
	case EXIT_NONE:
	case EXIT_IRQ_WINDOW: /* the scheduler injects before the next entry */
		return false;
	}
	return false;
}
