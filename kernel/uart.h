/* Virtual 16550 UART of a partition, with its interrupt line (RX data and THR empty). */
#ifndef BULKHEAD_UART_H
#define BULKHEAD_UART_H

#include "types.h"

#define UART_COM1_BASE 0x3f8
#define UART_PORTS     8
#define UART_RX_SIZE   256
#define UART_LINE_MAX  200
#define UART_OUT_SIZE  8192 /* transmitted bytes waiting for the console (a power of two) */

struct uart {
	u8 ier, lcr, mcr, scr, dll, dlm, fcr;
	u8 rx[UART_RX_SIZE];
	unsigned rx_head, rx_tail;   /* free-running; rx_tail - rx_head bytes queued */
	void (*tx)(void *ctx, u8 c); /* where transmitted bytes go */
	void *tx_ctx;
	void (*irq)(void *ctx, bool level); /* the interrupt line, on every change */
	bool thr_ipending; /* THR-empty interrupt pending (cleared by reading IIR or writing THR) */
	bool irq_level;
	u64 tx_bytes;
	/* Line assembly for the console's "[NAME] " prefix. */
	char line[UART_LINE_MAX];
	unsigned line_len;
	/*
	 * The console's queue of transmitted bytes (con.c): filled inside the guest's exits,
	 * written to the host serial port between slices. out_tail - out_head bytes wait;
	 * bytes that found it full are counted, not kept.
	 */
	u8 out[UART_OUT_SIZE];
	unsigned out_head, out_tail;
	u64 out_dropped;
};

/* tx and irq (which may be NULL) get ctx. */
void uart_init(struct uart *u, void (*tx)(void *ctx, u8 c), void (*irq)(void *ctx, bool level),
	       void *ctx);
/* Port access at offset 0..7 from the base; *val in/out. */
void uart_io(struct uart *u, unsigned offset, bool in, u8 *val);
/* Queue a byte for the guest to read; false if the FIFO is full. */
bool uart_rx_push(struct uart *u, u8 c);
/* Saved state (snap_state.h): out, and back in after checking every field (-1 with a
 * reason: nothing changed). The output counters and line assembly are the console's. */
struct uart_saved;
void uart_save(const struct uart *u, struct uart_saved *r);
int uart_load(struct uart *u, const struct uart_saved *r, char *err, size_t errlen);

#endif
