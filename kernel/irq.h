/*
 * Interrupts of a partition: device lines into its I/O APIC, timers into its
 * local APIC, and from there into the VP through the vendor-neutral inject
 * and interrupt-window calls. Also the partition's notion of "next event".
 */
#ifndef BULKHEAD_IRQ_H
#define BULKHEAD_IRQ_H

#include "types.h"

struct partition;

/* ISA interrupt lines of the platform (GSI = ISA IRQ: no overrides but IRQ 0). */
#define IRQ_COM1 4

void irq_init(struct partition *p);
/* Drive a device's interrupt line. */
void irq_set_line(struct partition *p, unsigned gsi, bool level);
/* Fire what expired by host TSC now; wakes an idle VP that has something to take. */
void irq_tick(struct partition *p, u64 now);
/* Host TSC of the partition's next timer event, or ~0. */
u64 irq_next_deadline(const struct partition *p);
/* Before each entry: inject the highest pending interrupt, or ask for a window. */
void irq_deliver(struct partition *p);

#endif
