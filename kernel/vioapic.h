/*
 * The virtual I/O APIC of a partition (Intel 82093AA I/O APIC data sheet,
 * sections 3.0-3.2): 24 pins, the IOREGSEL/IOWIN window at 0xfec00000, edge
 * and level triggering with Remote IRR. Interrupts go to the VP's vlapic.
 * Pure logic.
 */
#ifndef BULKHEAD_VIOAPIC_H
#define BULKHEAD_VIOAPIC_H

#include "types.h"

struct vlapic;

#define VIOAPIC_BASE 0xfec00000ull
#define VIOAPIC_SIZE 0x1000ull
#define VIOAPIC_PINS 24

struct vioapic {
	u32 id;
	u32 sel; /* IOREGSEL */
	u64 redir[VIOAPIC_PINS];
	u32 level;	      /* input line levels, bit per pin */
	struct vlapic *lapic; /* the only destination: a partition has one VP */
	u64 delivered;	      /* interrupts sent to the LAPIC, for `info` and tests */
};

void vioapic_init(struct vioapic *io, u32 id, struct vlapic *lapic);
/*
 * MMIO at offset off of the page (4-byte accesses to IOREGSEL at 0x00 and
 * IOWIN at 0x10; anything else reads 0 and is ignored).
 */
void vioapic_mmio(struct vioapic *io, u64 off, bool write, u32 *val);
/* Drive input pin to level (edge pins interrupt on a rising edge). */
void vioapic_set_pin(struct vioapic *io, unsigned pin, bool level);
/* The LAPIC's EOI for a level-triggered vector: clear Remote IRR, re-raise if still asserted. */
void vioapic_eoi(struct vioapic *io, u8 vector);
/* Saved state (snap_state.h): out, and back in after checking every field (-1 with a
 * reason: nothing changed). The LAPIC it delivers to stays the running one. */
struct vioapic_saved;
void vioapic_save(const struct vioapic *io, struct vioapic_saved *r);
int vioapic_load(struct vioapic *io, const struct vioapic_saved *r, char *err, size_t errlen);

#endif
