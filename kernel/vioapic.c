/* Virtual I/O APIC (82093AA data sheet: 3.1 registers, 3.2.4 redirection table). */
#include "vioapic.h"
#include "vlapic.h"
#include "snap_state.h"

#include <stdio.h>
#include <string.h>

#define REG_SEL	      0x00
#define REG_WIN	      0x10
#define IOAPIC_ID     0x00
#define IOAPIC_VER    0x01
#define IOAPIC_ARB    0x02
#define IOAPIC_REDIR0 0x10
#define VERSION_VALUE (0x11u | ((VIOAPIC_PINS - 1u) << 16)) /* version 0x11, max entry */
#define ID_SHIFT      24

/* Redirection entry bits (data sheet 3.2.4). */
#define RTE_VECTOR_MASK	    0xffull
#define RTE_MODE_SHIFT	    8
#define RTE_MODE_MASK	    7ull
#define RTE_MODE_FIXED	    0
#define RTE_MODE_LOWEST	    1
#define RTE_DELIVERY_STATUS (1ull << 12)
#define RTE_POLARITY_LOW    (1ull << 13)
#define RTE_REMOTE_IRR	    (1ull << 14)
#define RTE_LEVEL	    (1ull << 15)
#define RTE_MASKED	    (1ull << 16)
#define RTE_DEST_SHIFT	    56
/* Bits the guest may write: all but delivery status and Remote IRR. */
#define RTE_WRITABLE (~(RTE_DELIVERY_STATUS | RTE_REMOTE_IRR))

void vioapic_init(struct vioapic *io, u32 id, struct vlapic *lapic)
{
	memset(io, 0, sizeof(*io));
	io->id = id;
	io->lapic = lapic;
	for (unsigned i = 0; i < VIOAPIC_PINS; i++)
		io->redir[i] = RTE_MASKED;
}

/* Send pin's interrupt if it is unmasked, fixed/lowest-priority, and (level) not in service. */
static void deliver(struct vioapic *io, unsigned pin)
{
	u64 *rte = &io->redir[pin];
	u64 mode = (*rte >> RTE_MODE_SHIFT) & RTE_MODE_MASK;

	if (*rte & RTE_MASKED || (mode != RTE_MODE_FIXED && mode != RTE_MODE_LOWEST))
		return;
	if (*rte & RTE_LEVEL) {
		if (*rte & RTE_REMOTE_IRR)
			return;
		*rte |= RTE_REMOTE_IRR;
	}
	io->delivered++;
	vlapic_set_irq(io->lapic, *rte & RTE_VECTOR_MASK, *rte & RTE_LEVEL);
}

/* The pin's input as the redirection entry sees it (active low inverts it). */
static bool asserted(const struct vioapic *io, unsigned pin)
{
	bool line = io->level & (1u << pin);

	return io->redir[pin] & RTE_POLARITY_LOW ? !line : line;
}

void vioapic_set_pin(struct vioapic *io, unsigned pin, bool level)
{
	bool was;

	if (pin >= VIOAPIC_PINS)
		return;
	was = asserted(io, pin);
	if (level)
		io->level |= 1u << pin;
	else
		io->level &= ~(1u << pin);
	if (!asserted(io, pin))
		return;
	if ((io->redir[pin] & RTE_LEVEL) || !was)
		deliver(io, pin);
}

void vioapic_eoi(struct vioapic *io, u8 vector)
{
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
		u64 *rte = &io->redir[pin];

		if ((*rte & RTE_VECTOR_MASK) != vector || !(*rte & RTE_REMOTE_IRR))
			continue;
		*rte &= ~RTE_REMOTE_IRR;
		if (asserted(io, pin))
			deliver(io, pin);
	}
}

static u32 read_reg(const struct vioapic *io, u32 sel)
{
	unsigned pin = (sel - IOAPIC_REDIR0) / 2;

	switch (sel) {
	case IOAPIC_ID:
		return io->id << ID_SHIFT;
	case IOAPIC_VER:
		return VERSION_VALUE;
	case IOAPIC_ARB:
		return io->id << ID_SHIFT;
	}
	if (sel < IOAPIC_REDIR0 || pin >= VIOAPIC_PINS)
		return 0;
	return (u32)(io->redir[pin] >> (sel % 2 ? 32 : 0));
}

static void write_reg(struct vioapic *io, u32 sel, u32 val)
{
	unsigned pin = (sel - IOAPIC_REDIR0) / 2;
	u64 *rte, v;

	if (sel == IOAPIC_ID) {
		io->id = (val >> ID_SHIFT) & 0xf;
		return;
	}
	if (sel < IOAPIC_REDIR0 || pin >= VIOAPIC_PINS)
		return; /* version and arbitration are read-only */
	rte = &io->redir[pin];
	v = sel % 2 ? ((u64)val << 32) | (u32)*rte : (*rte & ~0xffffffffull) | val;
	*rte = (v & RTE_WRITABLE) | (*rte & RTE_REMOTE_IRR);
	if (!(*rte & RTE_LEVEL))
		*rte &= ~RTE_REMOTE_IRR;
	/* Unmasking a level pin that is still asserted delivers it now. */
	if ((*rte & RTE_LEVEL) && asserted(io, pin))
		deliver(io, pin);
}

void vioapic_mmio(struct vioapic *io, u64 off, bool write, u32 *val)
{
	switch (off) {
	case REG_SEL:
		if (write)
			io->sel = *val & 0xff;
		else
			*val = io->sel;
		return;
	case REG_WIN:
		if (write)
			write_reg(io, io->sel, *val);
		else
			*val = read_reg(io, io->sel);
		return;
	}
	if (!write)
		*val = 0;
}

/* ---- saved state (snap_state.h) ---- */

void vioapic_save(const struct vioapic *io, struct vioapic_saved *r)
{
	_Static_assert(VIOAPIC_PINS == ARRAY_SIZE(r->redir), "IOAPIC record: pins");
	memset(r, 0, sizeof(*r));
	r->id = io->id;
	r->sel = io->sel;
	memcpy(r->redir, io->redir, sizeof(r->redir));
	r->level = io->level;
	r->delivered = io->delivered;
}

int vioapic_load(struct vioapic *io, const struct vioapic_saved *r, char *err, size_t errlen)
{
	bool bad = r->id > 0xf || r->sel > 0xff || r->level >> VIOAPIC_PINS || r->reserved;

	/* Remote IRR is set on level-triggered pins only (write_reg clears it on the others). */
	for (unsigned i = 0; i < VIOAPIC_PINS && !bad; i++)
		bad = (r->redir[i] & RTE_REMOTE_IRR) && !(r->redir[i] & RTE_LEVEL);
	if (bad) {
		snprintf(err, errlen, "IOAPIC record: a register out of range");
		return -1;
	}
	io->id = r->id;
	io->sel = r->sel;
	memcpy(io->redir, r->redir, sizeof(io->redir));
	io->level = r->level;
	io->delivered = r->delivered;
	return 0;
}
