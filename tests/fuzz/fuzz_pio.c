/*
 * libFuzzer: port I/O of a partition as a hostile guest does it, through the
 * kernel's dispatch (kernel/exit.c, EXIT_IO -> kernel/io.c): the 16550 UART
 * (kernel/uart.c) with its interrupt line into the I/O APIC, the ACPI PM1a
 * event and control blocks of a Linux partition (kernel/part_linux.c), the
 * debug-exit and CMOS ports and every other port; with host input arriving
 * on the UART and its state saved and loaded back in between.
 *
 *   u8 mode (bit 0: a Linux partition, with PM1) | ops...
 *
 *   op % 6: 0 IN (u8 port, u8 size) | 1 OUT (u8 port, u8 size, u32 value)
 *           2 the console pastes bytes (u8 count - 1) | 3 UART save and load back
 *           4 string or REP I/O (u8 port) | 5 the guest reads the UART dry
 *
 * A port byte below 0x80 is a UART register, 0x80-0xbf a PM1 port (0x600 up),
 * 0xc0 the debug-exit port, 0xc1/0xc2 the CMOS pair, above that any port
 * (u16 from the input). Checks: RIP moves by the instruction's length, an IN
 * changes only the bytes of its size (32 bits zero-extend), the UART's
 * interrupt line is what its registers say and is the I/O APIC's pin 4, its
 * receive FIFO never holds more than it can, the PM1 control block reads
 * SCI_EN, and only the debug port, S5 or string I/O stop the partition.
 */
#include <stdint.h>
#include <string.h>

#include "kernel/acpi.h"
#include "kernel/snap_state.h"
#include "kernel/x86.h"
#include "tests/fuzz/fuzz_exit_env.h"
#include "tests/fuzz/fuzz_input.h"

#define MAX_OPS	    256
#define INSN_LEN    2	   /* e.g. IN AL,DX with a prefix: any length the exit reports */
#define PM1_BASE    0x600u /* part_linux.c's PM1a event block; control follows */
#define PM1_CNT	    (PM1_BASE + ACPI_PM1_EVT_LEN)
#define DEBUG_PORT  0xf4u
#define CMOS_PORT   0x70u
#define COM1_IRQPIN 4
#define IER_RDI	    0x01 /* PC16550D data sheet, section 8 */
#define IER_THRI    0x02
#define UART_LSR    5
#define LSR_DR	    0x01
#define LCR_DLAB    0x80

static u16 pick_port(u8 sel)
{
	if (sel < 0x80)
		return UART_COM1_BASE + sel % UART_PORTS;
	if (sel < 0xc0)
		return PM1_BASE + sel % (ACPI_PM1_EVT_LEN + ACPI_PM1_CNT_LEN + 1);
	if (sel == 0xc0)
		return DEBUG_PORT;
	if (sel <= 0xc2)
		return CMOS_PORT + (sel - 0xc1);
	return (u16)take(2);
}

static void check_uart(void)
{
	const struct uart *u = &fx_part.uart;
	bool rx = u->rx_tail != u->rx_head;
	bool level = ((u->ier & IER_RDI) && rx) || ((u->ier & IER_THRI) && u->thr_ipending);

	check(u->rx_tail - u->rx_head <= UART_RX_SIZE);
	check(u->irq_level == level);
	check(!!(fx_part.ioapic.level >> COM1_IRQPIN & 1) == u->irq_level);
	check(u->tx_bytes == fx_tx_bytes && u->ier <= 0x0f && u->mcr <= 0x1f);
}

/* What may stop the partition: the debug port, an S5 write, string I/O. */
static bool may_stop(u16 port, bool out, bool string)
{
	return string || (out && (port == DEBUG_PORT || port == PM1_CNT));
}

static void port_io(u16 port, bool in, u8 size, u32 out, bool string)
{
	static const u8 sizes[] = {1, 2, 4};
	struct vp *vp = &fx_part.vp;
	struct vm_exit e = {.reason = EXIT_IO, .insn_len = INSN_LEN};
	u64 rax = in ? 0xa5a5a5a5a5a5a5a5ull : 0xa5a5a5a500000000ull | out, rip = vp->regs.rip,
	    keep;

	e.io.port = port;
	e.io.size = sizes[size % 3];
	e.io.in = in;
	e.io.string = string;
	e.io.rep = string && (size & 4);
	vp->regs.gpr[REG_RAX] = rax;
	exit_handle(vp, &e);
	if (fx_part.state != PART_RUNNING) {
		check(may_stop(port, !in, string) && fx_part.stop_reason[0]);
		return;
	}
	check(vp->regs.rip == rip + INSN_LEN);
	if (!in) {
		check(vp->regs.gpr[REG_RAX] == rax);
		return;
	}
	/* SDM Vol.1 3.4.1.1: 8- and 16-bit results merge, 32-bit ones zero-extend. */
	keep = e.io.size == 4 ? 0 : ~0ull << (8 * e.io.size);
	check((vp->regs.gpr[REG_RAX] & keep) == (e.io.size == 4 ? 0 : rax & keep));
	if (fx_part.is_linux && port == PM1_CNT)
		check(vp->regs.gpr[REG_RAX] & ACPI_PM1_CNT_SCI_EN);
}

/* The console user pastes n + 1 bytes: taken while the FIFO has room, refused after. */
static void paste(u8 n)
{
	struct uart *u = &fx_part.uart;

	for (unsigned i = 0; i <= n; i++) {
		bool room = u->rx_tail - u->rx_head < UART_RX_SIZE;

		check(uart_rx_push(u, (u8)(i ^ n)) == room);
	}
}

static void save_and_load(void)
{
	struct uart_saved r;
	struct uart *u = &fx_part.uart;
	unsigned queued = u->rx_tail - u->rx_head;
	char err[96];

	uart_save(u, &r);
	check(uart_load(u, &r, err, sizeof(err)) == 0);
	check(u->rx_tail - u->rx_head == queued);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 port_sel, sz;

	if (!size)
		return 0;
	fx_reset(data[0] & 1);
	cur = data + 1;
	end = data + size;
	for (unsigned n = 0; n < MAX_OPS && cur < end && fx_part.state == PART_RUNNING; n++) {
		switch (*cur++ % 6) {
		case 0:
			port_sel = (u8)take(1);
			sz = (u8)take(1);
			port_io(pick_port(port_sel), true, sz, 0, false);
			break;
		case 1:
			port_sel = (u8)take(1);
			sz = (u8)take(1);
			port_io(pick_port(port_sel), false, sz, (u32)take(4), false);
			break;
		case 2:
			paste((u8)take(1));
			break;
		case 3:
			save_and_load();
			break;
		case 4:
			port_sel = (u8)take(1);
			port_io(pick_port(port_sel), port_sel & 1, port_sel, 0, true);
			break;
		case 5:
			/* A driver's receive loop: read RBR while LSR says data is ready. */
			for (unsigned i = 0; i <= UART_RX_SIZE && !(fx_part.uart.lcr & LCR_DLAB);
			     i++) {
				port_io(UART_COM1_BASE + UART_LSR, true, 0, 0, false);
				if (!(fx_part.vp.regs.gpr[REG_RAX] & LSR_DR))
					break;
				check(i < UART_RX_SIZE); /* 256 bytes at most */
				port_io(UART_COM1_BASE, true, 0, 0, false);
			}
			break;
		}
		check_uart();
	}
	return 0;
}
