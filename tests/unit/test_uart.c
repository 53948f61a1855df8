/* The virtual 16550: registers, divisor latch, receive FIFO, loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/uart.h"

static char out[64];
static unsigned out_len;

static void tx(void *ctx, u8 c)
{
	out[out_len++] = (char)c;
}

static u8 rd(struct uart *u, unsigned reg)
{
	u8 v = 0;

	uart_io(u, reg, true, &v);
	return v;
}

static void wr(struct uart *u, unsigned reg, u8 v)
{
	uart_io(u, reg, false, &v);
}

static void test_transmit_and_lsr(void **state)
{
	struct uart u;

	out_len = 0;
	uart_init(&u, tx, NULL, NULL);
	assert_int_equal(rd(&u, 5) & 0x61, 0x60); /* THRE|TEMT, no data */
	wr(&u, 0, 'h');
	wr(&u, 0, 'i');
	assert_int_equal(out_len, 2);
	assert_memory_equal(out, "hi", 2);
	assert_int_equal(u.tx_bytes, 2);
}

static void test_divisor_latch(void **state)
{
	struct uart u;

	out_len = 0;
	uart_init(&u, tx, NULL, NULL);
	wr(&u, 3, 0x80); /* DLAB */
	wr(&u, 0, 12);
	wr(&u, 1, 0);
	assert_int_equal(out_len, 0); /* divisor writes are not data */
	assert_int_equal(rd(&u, 0), 12);
	wr(&u, 3, 0x03);
	assert_int_equal(rd(&u, 3), 0x03);
	wr(&u, 1, 0xff);
	assert_int_equal(rd(&u, 1), 0x0f); /* IER keeps its 4 defined bits */
}

static void test_receive_fifo(void **state)
{
	struct uart u;

	uart_init(&u, tx, NULL, NULL);
	for (unsigned i = 0; i < UART_RX_SIZE; i++)
		assert_true(uart_rx_push(&u, (u8)i));
	assert_false(uart_rx_push(&u, 0xaa)); /* full */
	assert_true(rd(&u, 5) & 0x01);
	for (unsigned i = 0; i < UART_RX_SIZE; i++)
		assert_int_equal(rd(&u, 0), (u8)i);
	assert_false(rd(&u, 5) & 0x01);
	assert_int_equal(rd(&u, 0), 0); /* empty reads 0 */
}

static void test_loopback_and_bad_offset(void **state)
{
	struct uart u;

	out_len = 0;
	uart_init(&u, tx, NULL, NULL);
	wr(&u, 4, 0x10); /* MCR loop */
	wr(&u, 0, 'x');
	assert_int_equal(out_len, 0);
	assert_int_equal(rd(&u, 0), 'x');
	u8 v = 0x55;
	uart_io(&u, 8, true, &v); /* outside the 8 registers: untouched */
	assert_int_equal(v, 0x55);
}

static unsigned rises;
static bool line;

static void irq(void *ctx, bool level)
{
	if (level && !line)
		rises++;
	line = level;
}

static void test_interrupts(void **state)
{
	struct uart u;

	rises = 0;
	line = false;
	uart_init(&u, tx, irq, NULL);
	assert_true(uart_rx_push(&u, 'a'));
	assert_false(line); /* IER 0: polled */
	wr(&u, 1, 0x01);    /* receive-data interrupt */
	assert_true(line);
	assert_int_equal(rd(&u, 2) & 0x0f, 0x04); /* IIR: received data */
	assert_int_equal(rd(&u, 0), 'a');
	assert_false(line);
	assert_int_equal(rd(&u, 2) & 0x0f, 0x01); /* nothing pending */
	/* THR empty: raised on enabling, acknowledged by reading IIR. */
	wr(&u, 1, 0x03);
	assert_true(line);
	assert_int_equal(rd(&u, 2) & 0x0f, 0x02);
	assert_false(line);
	/* Each byte sent is a new edge (the driver's next transmit interrupt). */
	unsigned before = rises;
	wr(&u, 0, 'x');
	wr(&u, 0, 'y');
	assert_true(line);
	assert_int_equal(rises, before + 2);
	assert_int_equal(rd(&u, 2) & 0x0f, 0x02);
	/* Received data outranks THR empty (data sheet table 4). */
	wr(&u, 0, 'z');
	assert_true(uart_rx_push(&u, 'b'));
	assert_int_equal(rd(&u, 2) & 0x0f, 0x04);
	wr(&u, 1, 0);
	assert_false(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transmit_and_lsr), cmocka_unit_test(test_divisor_latch),
	    cmocka_unit_test(test_receive_fifo),     cmocka_unit_test(test_loopback_and_bad_offset),
	    cmocka_unit_test(test_interrupts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
