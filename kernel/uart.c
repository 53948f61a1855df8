/* 16550 register model (PC16550D data sheet, section 8). */
#include "uart.h"
#include "snap_state.h"

#include <stdio.h>
#include <string.h>

#define REG_DATA 0 /* RBR/THR, DLL when DLAB */
#define REG_IER	 1 /* DLM when DLAB */
#define REG_IIR	 2 /* FCR on write */
#define REG_LCR	 3
#define REG_MCR	 4
#define REG_LSR	 5
#define REG_MSR	 6
#define REG_SCR	 7

#define LCR_DLAB   0x80
#define LSR_DR	   0x01
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define IIR_NONE   0x01
#define IIR_THRE   0x02
#define IIR_RDA	   0x04
#define IIR_FIFO   0xc0
#define IER_RDI	   0x01
#define IER_THRI   0x02
#define FCR_ENABLE 0x01
#define MSR_CTS	   0x10
#define MSR_DSR	   0x20
#define MSR_DCD	   0x80
#define MCR_LOOP   0x10

void uart_init(struct uart *u, void (*tx)(void *ctx, u8 c), void (*irq)(void *ctx, bool level),
	       void *ctx)
{
	memset(u, 0, sizeof(*u));
	u->tx = tx;
	u->irq = irq;
	u->tx_ctx = ctx;
	u->dll = 1; /* 115200 baud */
}

static bool rx_empty(const struct uart *u)
{
	return u->rx_tail == u->rx_head;
}

/*
 * The interrupt output (data sheet table 3, "Interrupt Control Functions"):
 * received data and THR empty, each when enabled in the IER. Like most
 * emulated 16550s it is not gated by MCR.OUT2.
 */
static void update_irq(struct uart *u)
{
	bool level =
	    ((u->ier & IER_RDI) && !rx_empty(u)) || ((u->ier & IER_THRI) && u->thr_ipending);

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->irq)
		u->irq(u->tx_ctx, level);
}

bool uart_rx_push(struct uart *u, u8 c)
{
	if (u->rx_tail - u->rx_head >= UART_RX_SIZE)
		return false;
	u->rx[u->rx_tail++ % UART_RX_SIZE] = c;
	update_irq(u);
	return true;
}

/* IIR: the highest-priority pending interrupt; reading it acknowledges THR empty. */
static u8 read_iir(struct uart *u)
{
	u8 fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((u->ier & IER_RDI) && !rx_empty(u))
		return IIR_RDA | fifo;
	if ((u->ier & IER_THRI) && u->thr_ipending) {
		u->thr_ipending = false;
		return IIR_THRE | fifo;
	}
	return IIR_NONE | fifo;
}

static u8 uart_read(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_DATA:
		if (dlab)
			return u->dll;
		return rx_empty(u) ? 0 : u->rx[u->rx_head++ % UART_RX_SIZE];
	case REG_IER:
		return dlab ? u->dlm : u->ier;
	case REG_IIR:
		return read_iir(u);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		return LSR_THRE | LSR_TEMT | (rx_empty(u) ? 0 : LSR_DR);
	case REG_MSR:
		return MSR_CTS | MSR_DSR | MSR_DCD;
	default:
		return u->scr;
	}
}

static void uart_write(struct uart *u, unsigned reg, u8 v)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_DATA:
		if (dlab) {
			u->dll = v;
		} else if (u->mcr & MCR_LOOP) {
			uart_rx_push(u, v);
		} else {
			u->tx_bytes++;
			u->tx(u->tx_ctx, v);
		}
		/* Sent at once: the THR is empty again, which is a new interrupt. */
		if (!dlab) {
			u->thr_ipending = false;
			update_irq(u);
			u->thr_ipending = true;
		}
		break;
	case REG_IER:
		if (dlab) {
			u->dlm = v;
			break;
		}
		/* Enabling the THR-empty interrupt with the THR empty raises it (as a 16550 does).
		 */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_ipending = true;
		u->ier = v & 0x0f;
		break;
	case REG_IIR:
		u->fcr = v;
		break;
	case REG_LCR:
		u->lcr = v;
		break;
	case REG_MCR:
		u->mcr = v & 0x1f;
		break;
	case REG_SCR:
		u->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

void uart_io(struct uart *u, unsigned offset, bool in, u8 *val)
{
	if (offset >= UART_PORTS)
		return;
	if (in)
		*val = uart_read(u, offset);
	else
		uart_write(u, offset, *val);
	update_irq(u);
}

/* ---- saved state (snap_state.h) ---- */

void uart_save(const struct uart *u, struct uart_saved *r)
{
	_Static_assert(UART_RX_SIZE == sizeof(r->rx), "UART record: FIFO size");
	memset(r, 0, sizeof(*r));
	r->ier = u->ier;
	r->lcr = u->lcr;
	r->mcr = u->mcr;
	r->scr = u->scr;
	r->dll = u->dll;
	r->dlm = u->dlm;
	r->fcr = u->fcr;
	r->flags = (u->thr_ipending ? SNAP_UART_THR_IPENDING : 0) |
		   (u->irq_level ? SNAP_UART_IRQ_LEVEL : 0);
	r->rx_count = (u16)(u->rx_tail - u->rx_head);
	for (unsigned i = 0; i < r->rx_count; i++)
		r->rx[i] = u->rx[(u->rx_head + i) % UART_RX_SIZE];
}

int uart_load(struct uart *u, const struct uart_saved *r, char *err, size_t errlen)
{
	if ((r->ier & ~0x0fu) || (r->mcr & ~0x1fu) ||
	    (r->flags & ~(SNAP_UART_THR_IPENDING | SNAP_UART_IRQ_LEVEL)) ||
	    r->rx_count > UART_RX_SIZE || r->reserved) {
		snprintf(err, errlen, "UART record: a register out of range");
		return -1;
	}
	/* Where the bytes go, the interrupt line and the console's line stay the running ones. */
	u->ier = r->ier;
	u->lcr = r->lcr;
	u->mcr = r->mcr;
	u->scr = r->scr;
	u->dll = r->dll;
	u->dlm = r->dlm;
	u->fcr = r->fcr;
	u->thr_ipending = r->flags & SNAP_UART_THR_IPENDING;
	u->irq_level = r->flags & SNAP_UART_IRQ_LEVEL;
	memcpy(u->rx, r->rx, r->rx_count);
	u->rx_head = 0;
	u->rx_tail = r->rx_count;
	return 0;
}
