/* 16550 register model (PC16550D data sheet, section 8). */
#include "uart.h"

#include <string.h>

#define REG_DATA 0 /* RBR/THR, DLL when DLAB */
#define REG_IER 1 /* DLM when DLAB */
#define REG_IIR 2 /* FCR on write */
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6
#define REG_SCR 7

#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_NONE 0x01
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80
#define MCR_LOOP 0x10

void uart_init(struct uart *u, void (*tx)(void *ctx, u8 c), void *ctx)
{
	memset(u, 0, sizeof(*u));
	u->tx = tx;
	u->tx_ctx = ctx;
	u->dll = 1; /* 115200 baud */
}

static bool rx_empty(const struct uart *u)
{
	return u->rx_tail == u->rx_head;
}

bool uart_rx_push(struct uart *u, u8 c)
{
	if (u->rx_tail - u->rx_head >= UART_RX_SIZE)
		return false;
	u->rx[u->rx_tail++ % UART_RX_SIZE] = c;
	return true;
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
		return IIR_NONE | ((u->fcr & FCR_ENABLE) ? IIR_FIFO : 0);
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
		break;
	case REG_IER:
		if (dlab)
			u->dlm = v;
		else
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
}
