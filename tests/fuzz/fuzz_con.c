/*
 * libFuzzer: the serial console (kernel/con.c): command lines through
 * con_execute, keys through con_poll (line editing, `console P` and Ctrl-]),
 * and guest UART output routed to the terminal, with the world of
 * tests/unit/test_con_fake.c (two partitions; real LAPIC and UART).
 *
 *   u8 states (2 bits per partition) | ops...
 *
 *   op % 4: 0 a command line (u8 len, bytes) | 1 keys typed (u8 len, bytes)
 *           2 guest output (u8 len, bytes; op bit 2: the second partition)
 *           3 a built-in command (u8 pick) with argument bytes (u8 len, bytes)
 *
 * Checks: a command's error lines are whole, short lines; what a guest writes
 * reaches the terminal only as printable text (no escape sequences) unless
 * the terminal is attached to that guest; keys typed while attached reach
 * only that guest's UART; `halt` stops every partition before powering off.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/con.h"
#include "kernel/part.h"
#include "tests/unit/test_con_fake.h"

#define MAX_OPS	 48
#define LINE_MAX 200
#define KEY_ESC	 0x1d /* Ctrl-] */

static const char *const names[2] = {"linux", "p2"};
static const u8 *cur, *end;
static jmp_buf off;

static void check(bool ok)
{
	if (!ok)
		abort();
}

static u64 take(unsigned n)
{
	u64 v = 0;

	for (unsigned i = 0; i < n && cur < end; i++)
		v |= (u64)*cur++ << (8 * i);
	return v;
}

/* Up to max bytes of the input into buf, NUL-terminated; returns the length. */
static size_t take_text(char *buf, size_t max)
{
	size_t len = (size_t)take(1), avail = (size_t)(end - cur);

	len = MIN(MIN(len, max), avail);
	memcpy(buf, cur, len);
	buf[len] = 0;
	cur += len;
	return len;
}

/* The console's output is lines; error lines are short ones. */
static void check_output(void)
{
	const char *s = fake_out;

	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		if (!strncmp(s, "error: ", 7))
			check(nl && len < LINE_MAX);
		s += len + (nl != NULL);
	}
}

static void check_guest_text(size_t from)
{
	for (size_t i = from; i < fake_out_len; i++) {
		u8 c = (u8)fake_out[i];

		check((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\r' || c == '\t');
	}
}

static bool attached_to(struct partition *p)
{
	unsigned before;

	/* Probe: a key typed now goes to p's UART only if the terminal is p's (the guest
	 * has read what it had, so the FIFO has room). */
	p->uart.rx_head = p->uart.rx_tail;
	before = p->uart.rx_tail;
	fake_type("a", 1);
	con_poll();
	return p->uart.rx_tail != before;
}

static void guest_output(unsigned i)
{
	struct partition *p = &partitions[i];
	char buf[256];
	size_t len = take_text(buf, sizeof(buf) - 1), from = fake_out_len;
	bool attached = attached_to(p);

	from = fake_out_len;
	for (size_t k = 0; k < len; k++)
		con_guest_output(p, (u8)buf[k]);
	if (!attached)
		check_guest_text(from);
}

static void keys(void)
{
	char buf[256];
	size_t len = take_text(buf, sizeof(buf) - 1);
	unsigned before[2] = {partitions[0].uart.rx_tail, partitions[1].uart.rx_tail};

	fake_type(buf, len);
	con_poll();
	/* Without a Ctrl-] among them, the keys went to one partition at most. */
	if (!memchr(buf, KEY_ESC, len))
		check(partitions[0].uart.rx_tail == before[0] ||
		      partitions[1].uart.rx_tail == before[1]);
}

static void builtin(void)
{
	static const char *const cmds[] = {"help",	 "list",    "info",	 "regs",    "pause",
					   "resume",	 "reset",   "kill",	 "console", "halt",
					   "info linux", "regs p2", "console p2"};
	char arg[64], line[128];

	snprintf(line, sizeof(line), "%s ", cmds[take(1) % ARRAY_SIZE(cmds)]);
	take_text(arg, sizeof(arg) - 1);
	strncat(line, arg, sizeof(line) - strlen(line) - 1);
	con_execute(line);
}

static void step(u8 op)
{
	char buf[256];

	switch (op % 4) {
	case 0:
		take_text(buf, sizeof(buf) - 1);
		con_execute(buf);
		break;
	case 1:
		keys();
		break;
	case 2:
		guest_output((op >> 2) & 1);
		break;
	case 3:
		builtin();
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static jmp_buf *volatile armed;
	unsigned n;

	if (!size)
		return 0;
	fake_con_reset();
	for (unsigned i = 0; i < 2; i++)
		fake_add_partition(names[i], (enum part_state)((data[0] >> (2 * i)) & 3));
	cur = data + 1;
	end = data + size;
	con_init();
	fake_type((const char[]){KEY_ESC}, 1); /* not attached: the key is dropped */
	con_poll();
	armed = &off;
	fake_poweroff_jmp = armed;
	for (n = 0; n < MAX_OPS && cur < end; n++) {
		if (setjmp(off)) {
			/* `halt`: every partition stopped first, then the power went off. */
			for (unsigned i = 0; i < nr_partitions; i++)
				check(partitions[i].state != PART_RUNNING);
			break;
		}
		u8 op = *cur++;

		fake_out_clear();
		step(op);
		if (op % 4 == 0 || op % 4 == 3)
			check_output(); /* typed keys echo as they come: not whole lines */
	}
	return 0;
}
