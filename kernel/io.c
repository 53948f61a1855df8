/* Port I/O of a partition: its UART, the debug-exit port, ACPI PM1a, CMOS, nothing else. */
#include "exit.h"
#include "part.h"

/* Like QEMU's isa-debug-exit: a guest writes here to end itself. */
#define DEBUG_EXIT_PORT 0xf4
/* The CMOS RTC index/data pair: absent (the FADT says so), but reads give 0, not all ones,
 * so a driver polling its update-in-progress bit does not spin. */
#define CMOS_INDEX_PORT 0x70
#define CMOS_DATA_PORT	0x71

static void io_result(struct vp *vp, u8 size, u32 v)
{
	u64 *rax = &vp->regs.gpr[REG_RAX];

	if (size == 1)
		*rax = (*rax & ~0xffull) | (u8)v;
	else if (size == 2)
		*rax = (*rax & ~0xffffull) | (u16)v;
	else
		*rax = v; /* 32-bit results zero-extend (SDM Vol.1 3.4.1.1) */
}

void io_emulate(struct vp *vp, const struct vm_exit *e)
{
	struct partition *p = vp->part;
	u16 port = e->io.port;
	u32 out = (u32)vp->regs.gpr[REG_RAX];

	if (e->io.string) {
		part_stop(p, "string I/O on port 0x%x is not supported", port);
		return;
	}
	vp->regs.rip += e->insn_len;
	if (port >= UART_COM1_BASE && port < UART_COM1_BASE + UART_PORTS) {
		u8 v = (u8)out;

		uart_io(&p->uart, port - UART_COM1_BASE, e->io.in, &v);
		if (e->io.in)
			io_result(vp, e->io.size, v);
		return;
	}
	if (port == DEBUG_EXIT_PORT && !e->io.in) {
		part_stop(p, "guest exit code=%u", out & 0xff);
		return;
	}
	if (part_pm_io(p, port, e->io.in, &out)) {
		if (e->io.in)
			io_result(vp, e->io.size, out);
		return;
	}
	if (port == CMOS_INDEX_PORT || port == CMOS_DATA_PORT) {
		if (e->io.in)
			io_result(vp, e->io.size, 0);
		return;
	}
	/* Nothing decodes this port: reads float high, writes vanish (as on a PC bus). */
	if (e->io.in)
		io_result(vp, e->io.size, 0xffffffffu);
}
