/* Interrupt routing of a partition: devices -> vioapic -> vlapic -> VP (irq.h). */
#include "irq.h"
#include "arch.h"
#include "part.h"

static void eoi_level(void *ctx, u8 vector)
{
	vioapic_eoi(ctx, vector);
}

void irq_init(struct partition *p)
{
	vlapic_init(&p->lapic, p->vp.index, arch_tsc_hz(), eoi_level, &p->ioapic);
	/* The I/O APIC's id follows the CPUs' APIC ids (one VP: id 1), as the MADT says. */
	vioapic_init(&p->ioapic, 1, &p->lapic);
}

void irq_set_line(struct partition *p, unsigned gsi, bool level)
{
	vioapic_set_pin(&p->ioapic, gsi, level);
}

void irq_tick(struct partition *p, u64 now)
{
	hv_tick(p, now);
	vlapic_tick(&p->lapic, now);
	if (p->idle && vlapic_pending(&p->lapic) >= 0)
		p->idle = false;
}

u64 irq_next_deadline(const struct partition *p)
{
	return MIN(vlapic_deadline(&p->lapic), hv_next_deadline(p));
}

void irq_deliver(struct partition *p)
{
	struct vp *vp = &p->vp;
	int vector = vlapic_pending(&p->lapic);

	if (vector < 0) {
		vp_ops->vp_irq_window(vp, false);
		return;
	}
	if (!vp_ops->vp_irq_ready(vp)) {
		vp_ops->vp_irq_window(vp, true);
		return;
	}
	/*
	 * An interrupt taken just before a HLT would return to that HLT, and a
	 * guest that did `sti; hlt` waits for ever: the exit can come between
	 * the two with the STI shadow not reported (seen under QEMU's SVM).
	 * Executing the HLT first is always right: with an interrupt to take it
	 * ends at once, and the interrupt returns after it (SDM Vol.3 6.8.3).
	 */
	if (arch_at_hlt(vp))
		vp->regs.rip++;
	vlapic_accept(&p->lapic, (u8)vector);
	if (synic_auto_eoi(&p->hv.synic, (u8)vector))
		vlapic_auto_eoi(&p->lapic, (u8)vector);
	vp_ops->vp_inject_irq(vp, (u8)vector);
	vp_ops->vp_irq_window(vp, false);
}
