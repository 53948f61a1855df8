/*
 * The serial console (kernel/con.c) on the host: command parsing and every
 * error line through con_execute, the built-in commands' output, commands
 * added through CON_COMMAND and CON_SOURCE (kernel/ext.h), line editing and
 * `console P` through con_poll, and the "[NAME] " routing of guest output.
 * Its world (partitions, part_*, vp_ops, the serial port) is faked in
 * test_con_fake.c; the LAPIC and UART are the real ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/con.h"
#include "kernel/ext.h"
#include "kernel/part.h"
#include "tests/unit/test_con_fake.h"

#define PROMPT	   "bulkhead> "
#define MSR_SVR	   0x80f /* x2APIC spurious-interrupt vector register (SDM Vol.3 11.12.1.2) */
#define SVR_ENABLE 0x100 /* APIC software enable (SDM Vol.3 11.9) */

/* ---- commands added the two ways a layer above can (ext.h) ---- */

static unsigned ext_calls;
static const char *ext_called; /* which added command ran last */
static int ext_argc;
static char ext_argv[8][32];

static void record(const char *which, int argc, char **argv)
{
	ext_calls++;
	ext_called = which;
	ext_argc = argc;
	for (int i = 0; i < argc && i < 8; i++)
		snprintf(ext_argv[i], sizeof(ext_argv[i]), "%s", argv[i]);
}

static void cmd_probe(int argc, char **argv)
{
	record("probe", argc, argv);
}

static void cmd_alpha(int argc, char **argv)
{
	record("alpha", argc, argv);
}

static void cmd_beta(int argc, char **argv)
{
	record("beta", argc, argv);
}

CON_COMMAND(probe_cmd) = {"probe", cmd_probe, "probe A B C        a test command"};

static const struct con_command source_table[] = {
    {"alpha", cmd_alpha, "alpha P            from a command source"},
    {"beta", cmd_beta, "beta               also from the source"},
};

static const struct con_command *source_get(unsigned i)
{
	return i < ARRAY_SIZE(source_table) ? &source_table[i] : NULL;
}

CON_SOURCE(test_source) = {source_get};

/* ---- helpers ---- */

static int setup(void **state)
{
	fake_con_reset();
	con_init();
	assert_string_equal(fake_out, "bulkhead: console ready, type 'help'\n" PROMPT);
	fake_out_clear();
	ext_calls = 0;
	ext_called = NULL;
	ext_argc = 0;
	return 0;
}

/* Run one command line (con_execute writes into it, as strtok does). */
static void run(const char *text)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", text);
	fake_out_clear();
	con_execute(buf);
}

static void expect(const char *text, const char *out)
{
	run(text);
	assert_string_equal(fake_out, out);
}

static void type(const char *keys)
{
	fake_type(keys, strlen(keys));
	con_poll();
}

/* ---- parsing ---- */

static void test_blank_lines_do_nothing(void **state)
{
	expect("", "");
	expect("   \t \r", "");
	assert_int_equal(ext_calls, 0);
}

static void test_unknown_command(void **state)
{
	expect("frobnicate a b", "error: unknown command 'frobnicate' (try 'help')\n");
	/* Commands match whole words, case and all. */
	expect("lis", "error: unknown command 'lis' (try 'help')\n");
	expect("LIST", "error: unknown command 'LIST' (try 'help')\n");
	/* A long word is cut to 32 characters in the message. */
	expect("abcdefghijklmnopqrstuvwxyz0123456789",
	       "error: unknown command 'abcdefghijklmnopqrstuvwxyz012345' (try 'help')\n");
}

static void test_arguments_split_and_counted(void **state)
{
	/* Up to five words, split at spaces, tabs and CRs. */
	expect("  probe\tone  two\rthree four", "");
	assert_int_equal(ext_calls, 1);
	assert_string_equal(ext_called, "probe");
	assert_int_equal(ext_argc, 5);
	assert_string_equal(ext_argv[0], "probe");
	assert_string_equal(ext_argv[1], "one");
	assert_string_equal(ext_argv[2], "two");
	assert_string_equal(ext_argv[3], "three");
	assert_string_equal(ext_argv[4], "four");

	/* A sixth is refused before any command runs, known or not. */
	expect("probe a b c d e", "error: too many arguments\n");
	expect("nosuch a b c d e", "error: too many arguments\n");
	assert_int_equal(ext_calls, 1);
}

static void test_usage_errors(void **state)
{
	static const char *const cmds[] = {"info",  "regs", "pause",  "resume",
					   "reset", "kill", "console"};
	char line[64], want[96];

	fake_add_partition("a", PART_RUNNING);
	for (unsigned i = 0; i < ARRAY_SIZE(cmds); i++) {
		snprintf(want, sizeof(want), "error: usage: %s PARTITION\n", cmds[i]);
		expect(cmds[i], want);
		snprintf(line, sizeof(line), "%s a a", cmds[i]);
		expect(line, want);
	}
	assert_int_equal(fake_resets, 0);
	assert_int_equal(fake_stops, 0);
	assert_int_equal(partitions[0].state, PART_RUNNING);
}

static void test_no_partition_named(void **state)
{
	static const char *const cmds[] = {"info",  "regs", "pause",  "resume",
					   "reset", "kill", "console"};
	char line[64];

	fake_add_partition("a", PART_RUNNING);
	for (unsigned i = 0; i < ARRAY_SIZE(cmds); i++) {
		snprintf(line, sizeof(line), "%s b", cmds[i]);
		expect(line, "error: no partition named 'b' (see 'list')\n");
		/* Names match exactly. */
		snprintf(line, sizeof(line), "%s A", cmds[i]);
		expect(line, "error: no partition named 'A' (see 'list')\n");
	}
	assert_int_equal(fake_resets, 0);
	assert_int_equal(fake_stops, 0);
	/* `console b` did not attach: lines of a are still shown. */
	fake_out_clear();
	con_guest_output(&partitions[0], 'x');
	con_guest_output(&partitions[0], '\n');
	assert_string_equal(fake_out, "[a] x\n");
}

/* ---- partition states ---- */

static void test_pause_and_resume(void **state)
{
	struct partition *a = fake_add_partition("a", PART_RUNNING);
	struct partition *h = fake_add_partition("h", PART_HALTED);

	expect("pause a", "partition a paused\n");
	assert_int_equal(a->state, PART_PAUSED);
	expect("pause a", "error: partition a is paused, not running\n");
	expect("resume a", "partition a resumed\n");
	assert_int_equal(a->state, PART_RUNNING);
	expect("resume a", "error: partition a is running, not paused\n");
	assert_int_equal(a->state, PART_RUNNING);

	/* A VP waiting in HLT can be paused too; resuming it makes it run. */
	expect("resume h", "error: partition h is halted, not paused\n");
	expect("pause h", "partition h paused\n");
	expect("resume h", "partition h resumed\n");
	assert_int_equal(h->state, PART_RUNNING);
}

static void test_stopped_partition(void **state)
{
	struct partition *s = fake_add_partition("s", PART_STOPPED);

	expect("pause s", "error: partition s is stopped, not running\n");
	expect("resume s", "error: partition s is stopped, not paused (use 'reset')\n");
	expect("kill s", "error: partition s is already stopped\n");
	assert_int_equal(s->state, PART_STOPPED);
	assert_int_equal(fake_stops, 0);
	/* reset is what restarts it. */
	expect("reset s", "partition s reset\n");
	assert_int_equal(fake_resets, 1);
	assert_ptr_equal(fake_last_reset, s);
}

static void test_kill(void **state)
{
	fake_add_partition("a", PART_RUNNING);
	struct partition *b = fake_add_partition("b", PART_PAUSED);

	run("kill b");
	assert_int_equal(fake_stops, 1);
	assert_ptr_equal(fake_last_stop, b);
	assert_string_equal(fake_stop_reason, "killed from the console");
	assert_int_equal(partitions[0].state, PART_RUNNING);
}

static void test_reset_prints_the_guest_line_first(void **state)
{
	fake_add_partition("a", PART_RUNNING);
	struct partition *b = fake_add_partition("b", PART_STOPPED);

	con_guest_output(b, 'o');
	con_guest_output(b, 'k');
	expect("reset b", "[b] ok\npartition b reset\n");
	assert_int_equal(fake_resets, 1);
	assert_ptr_equal(fake_last_reset, b);
	/* The line was printed once: the next line starts empty. */
	fake_out_clear();
	con_guest_output(b, '!');
	con_guest_output(b, '\n');
	assert_string_equal(fake_out, "[b] !\n");
}

static void test_halt_stops_what_runs_and_powers_off(void **state)
{
	jmp_buf off;
	struct partition *a = fake_add_partition("a", PART_RUNNING);

	fake_add_partition("s", PART_STOPPED);
	struct partition *p = fake_add_partition("p", PART_PAUSED);

	fake_poweroff_jmp = &off;
	if (!setjmp(off)) {
		run("halt");
		fail_msg("halt returned");
	}
	assert_string_equal(fake_out, "bulkhead: powering off\n");
	/* The stopped one is left alone; the other two stop, the last one last. */
	assert_int_equal(fake_stops, 2);
	assert_ptr_equal(fake_last_stop, p);
	assert_string_equal(fake_stop_reason, "machine halted from the console");
	assert_int_equal(a->state, PART_STOPPED);
}

/* ---- help and added commands ---- */

static void test_help_lists_every_command(void **state)
{
	static const char *const builtin[] = {"help",	"list",	 "info", "regs",    "pause",
					      "resume", "reset", "kill", "console", "halt"};
	const char *at;
	unsigned lines = 0;

	run("help");
	for (const char *c = fake_out; *c; c++)
		lines += *c == '\n';
	assert_int_equal(lines, ARRAY_SIZE(builtin) + 1 + ARRAY_SIZE(source_table));
	/* The built-in commands first, in their order, each line "  NAME ...". */
	at = fake_out;
	for (unsigned i = 0; i < ARRAY_SIZE(builtin); i++) {
		char want[32];

		snprintf(want, sizeof(want), "  %s ", builtin[i]);
		assert_memory_equal(at, want, strlen(want));
		at = strchr(at, '\n') + 1;
	}
	/* Then the CON_COMMAND set, then the sources, with their help as given. */
	assert_string_equal(at, "  probe A B C        a test command\n"
				"  alpha P            from a command source\n"
				"  beta               also from the source\n");
	assert_int_equal(ext_calls, 0);
}

static void test_added_commands_run(void **state)
{
	expect("alpha x", "");
	assert_string_equal(ext_called, "alpha");
	assert_int_equal(ext_argc, 2);
	assert_string_equal(ext_argv[1], "x");
	/* The last entry of a source is found too. */
	expect("beta", "");
	assert_string_equal(ext_called, "beta");
	assert_int_equal(ext_argc, 1);
	expect("probe", "");
	assert_string_equal(ext_called, "probe");
	assert_int_equal(ext_calls, 3);
	/* A prefix of one is no command. */
	expect("alph", "error: unknown command 'alph' (try 'help')\n");
	assert_int_equal(ext_calls, 3);
}

/* ---- list, info, regs ---- */

static void test_list(void **state)
{
	expect("list", "no partitions\n");

	struct partition *a = fake_add_partition("alpha", PART_RUNNING);
	struct partition *b = fake_add_partition("b-2", PART_STOPPED);

	a->mem_size = 64ull << 20;
	a->vp.exits = 12345;
	b->mem_size = 0x11000;
	expect("list", "partition id=0 name=alpha state=running memory=65536K vps=1 exits=12345\n"
		       "partition id=1 name=b-2 state=stopped memory=68K vps=1 exits=0\n");
	b->state = PART_PAUSED;
	expect("list", "partition id=0 name=alpha state=running memory=65536K vps=1 exits=12345\n"
		       "partition id=1 name=b-2 state=paused memory=68K vps=1 exits=0\n");
}

static void test_info(void **state)
{
	struct partition *p = fake_add_partition("g", PART_HALTED);
	const char *head;

	fake_add_partition("other", PART_RUNNING);
	p->mem_size = 2ull << 20;
	p->load = 0x7c00;
	p->image_size = 512;
	p->reset = (struct vp_reset){0x07c0, 0x7c00, 0};
	p->vp.exits = 9;
	p->vp.exits_by_reason[EXIT_HLT] = 2;
	p->vp.exits_by_reason[EXIT_IO] = 7;
	p->slices = 3;
	p->run_us = 4999;
	p->host_us = 2001;
	p->uart.tx_bytes = 42;
	p->uart.out_dropped = 5;
	p->hv.crash_reports = 6;
	snprintf(p->stop_reason, sizeof(p->stop_reason), "why not");
	p->idle = true;
	p->vp.regs.rflags = 0x202;
	fake_vp_state.shadow = true;
	fake_vp_state.event = 0x80000021;
	/* Vector 0x30 waits in the IRR of an enabled LAPIC. */
	assert_true(vlapic_msr_write(&p->lapic, MSR_SVR, 0, SVR_ENABLE | 0xff));
	vlapic_set_irq(&p->lapic, 0x30, false);

	run("info g");
	head = "info id=0 name=g state=halted memory=2048K load=0x7c00 image_size=512 "
	       "entry_cs=0x7c0 entry_ip=0x0 exits=9 slices=3 run_ms=4 host_ms=2 uart_tx=42 "
	       "uart_dropped=5 crash_reports=6 backend=fake reason=\"why not\"\n"
	       "exits io=7 hlt=2\n"
	       "irq idle=1 rflags_if=1 shadow=1 event=0x80000021 pending=48 lapic irr=48 isr=-1 ";
	assert_memory_equal(fake_out, head, strlen(head));
	/* The rest of the irq line is the LAPIC's own description: one line. */
	assert_ptr_equal(strchr(fake_out + strlen(head), '\n'), fake_out + fake_out_len - 1);

	/* Nothing waiting, interrupts off, no exits counted. */
	memset(&fake_vp_state, 0, sizeof(fake_vp_state));
	run("info other");
	assert_non_null(strstr(fake_out, "\nexits\nirq idle=0 rflags_if=0 shadow=0 event=0x0 "
					 "pending=-1 lapic irr=-1 isr=-1 "));
}

static void test_regs(void **state)
{
	struct partition *p = fake_add_partition("r", PART_PAUSED);

	for (unsigned i = 0; i < VP_NR_GPRS; i++)
		p->vp.regs.gpr[i] = 0x1111111111111111ull * (i % 16);
	p->vp.regs.rip = 0xfff0;
	p->vp.regs.rflags = 0x2;
	fake_sregs.cr0 = 0x60000010;
	fake_sregs.efer = 0x500;
	fake_sregs.cs = (struct vp_seg){0xf000, 0x9b, 0xffff, 0xffff0000};
	fake_sregs.gdt_base = 0x1000;
	fake_sregs.gdt_limit = 0x27;
	fake_sregs.idt_limit = 0x3ff;

	run("regs r");
	assert_non_null(strstr(fake_out, "vp=0 rip=000000000000fff0 rflags=0000000000000002\n"
					 "rax=0000000000000000 rcx=1111111111111111 "
					 "rdx=2222222222222222 rbx=3333333333333333\n"));
	assert_non_null(strstr(fake_out, "r12=cccccccccccccccc r13=dddddddddddddddd "
					 "r14=eeeeeeeeeeeeeeee r15=ffffffffffffffff\n"));
	assert_non_null(strstr(fake_out, "cr0=0000000060000010 cr2=0000000000000000 "
					 "cr3=0000000000000000 cr4=0000000000000000 "
					 "efer=0000000000000500\n"));
	assert_non_null(strstr(fake_out, "cs=f000 base=00000000ffff0000 limit=0000ffff attr=009b\n"
					 "ds=0000 "));
	assert_non_null(strstr(fake_out, "\ngdtr base=0000000000001000 limit=0027 "
					 "idtr base=0000000000000000 limit=03ff\n"));
}

/* ---- the shell on the serial port, and guest output ---- */

static void test_line_editing(void **state)
{
	fake_add_partition("a", PART_RUNNING);
	/* Echo, a backspace and a DEL erase, control characters ignored, Enter runs it. */
	type("lisx\b\x7f\x01st\r");
	assert_string_equal(fake_out,
			    "lisx\b \b\b \bst\n"
			    "partition id=0 name=a state=running memory=0K vps=1 exits=0\n" PROMPT);
	/* Backspace on an empty line prints nothing; an empty line gives a new prompt. */
	fake_out_clear();
	type("\b\n");
	assert_string_equal(fake_out, "\n" PROMPT);
}

static void test_line_is_bounded(void **state)
{
	char keys[200];

	/* 127 characters fit in the line; the rest are dropped, not echoed. */
	memset(keys, 'x', sizeof(keys));
	fake_type(keys, sizeof(keys));
	con_poll();
	assert_int_equal(fake_out_len, 127);
	type("\r");
	assert_non_null(strstr(fake_out,
			       "error: unknown command 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' "
			       "(try 'help')\n" PROMPT));
}

static void test_console_attach_and_detach(void **state)
{
	struct partition *a = fake_add_partition("a", PART_RUNNING);
	struct partition *b = fake_add_partition("b", PART_RUNNING);
	u8 val;

	con_guest_output(b, 'h');
	type("console b\r");
	assert_string_equal(fake_out, "console b\n[b] h\n"
				      "attached to b's serial port; press Ctrl-] to return\n");
	/* b's bytes go straight through; a's lines are counted, not shown. */
	fake_out_clear();
	con_guest_output(b, 'X');
	con_guest_output(b, '\n');
	con_guest_output(a, 'a');
	con_guest_output(a, '\n');
	con_guest_output(a, '\n');
	assert_string_equal(fake_out, "X\n");
	/* Keys go to b's UART, not to the shell. */
	fake_out_clear();
	type("ls\r");
	assert_string_equal(fake_out, "");
	for (const char *k = "ls\r"; *k; k++) {
		uart_io(&b->uart, 5, true, &val); /* LSR: data ready */
		assert_true(val & 1);
		uart_io(&b->uart, 0, true, &val);
		assert_int_equal(val, *k);
	}
	assert_int_equal(ext_calls, 0);
	/* Ctrl-] returns, telling how many lines were not shown. */
	type("\x1d");
	assert_string_equal(fake_out,
			    "\ndetached from b (1 lines of other partitions not shown)\n" PROMPT);
	fake_out_clear();
	con_guest_output(b, 'Y');
	con_guest_output(b, '\n');
	assert_string_equal(fake_out, "[b] Y\n");
	/* A second visit with nothing hidden says nothing about other lines. */
	type("console b\r\x1d");
	assert_non_null(strstr(fake_out, "\ndetached from b\n" PROMPT));
}

static void test_guest_lines_are_prefixed(void **state)
{
	struct partition *a = fake_add_partition("a", PART_RUNNING);

	for (const char *c = "one\r\n\n\tt\x01o\x80\n"; *c; c++)
		con_guest_output(a, (u8)*c);
	assert_string_equal(fake_out, "[a] one\n[a] \n[a] \tt?o?\n");
	/* A line longer than the UART's buffer comes out in pieces. */
	fake_out_clear();
	for (unsigned i = 0; i < UART_LINE_MAX + 3; i++)
		con_guest_output(a, 'z');
	con_guest_output(a, '\n');
	assert_int_equal(fake_out_len, 2 * strlen("[a] \n") + UART_LINE_MAX + 3);
	assert_int_equal(strchr(fake_out, '\n') - fake_out, strlen("[a] ") + UART_LINE_MAX);
}

/*
 * What the guest's exits write is queued (con_guest_queue) and reaches the serial port
 * only when the scheduler drains it between slices, at most max bytes a time; the queue is
 * bounded and counts what it drops.
 */
static void test_guest_output_is_queued(void **state)
{
	struct partition *a = fake_add_partition("a", PART_RUNNING);

	for (const char *c = "one\r\ntwo\n"; *c; c++)
		con_guest_queue(a, (u8)*c);
	assert_int_equal(fake_out_len, 0);
	assert_true(con_drain_guest(a, 6)); /* "one\r\nt": one line out, more left */
	assert_string_equal(fake_out, "[a] one\n");
	assert_false(con_drain_guest(a, 100));
	assert_string_equal(fake_out, "[a] one\n[a] two\n");
	assert_false(con_drain_guest(a, 100));

	/* Full: the rest is dropped and counted, what was queued comes out whole. */
	fake_out_clear();
	for (unsigned i = 0; i < UART_OUT_SIZE + 10; i++)
		con_guest_queue(a, i % 8 == 7 ? '\n' : 'x');
	assert_int_equal(a->uart.out_dropped, 10);
	assert_false(con_drain_guest(a, UART_OUT_SIZE));
	assert_int_equal(fake_out_len, UART_OUT_SIZE / 8 * strlen("[a] xxxxxxx\n"));
	assert_int_equal(a->uart.out_head, a->uart.out_tail);
	/* Room again after the drain. */
	con_guest_queue(a, 'y');
	con_guest_queue(a, '\n');
	assert_int_equal(a->uart.out_dropped, 10);
	con_drain_guest(a, 2);
	assert_non_null(strstr(fake_out, "[a] y\n"));
}

/* A line the hypervisor prints about a partition comes after what the guest queued before. */
static void test_flush_shows_the_queue_first(void **state)
{
	struct partition *b = fake_add_partition("b", PART_STOPPED);

	for (const char *c = "last\nwor"; *c; c++)
		con_guest_queue(b, (u8)*c);
	expect("reset b", "[b] last\n[b] wor\npartition b reset\n");
	assert_int_equal(b->uart.out_head, b->uart.out_tail);
}

/* A line of the hypervisor's comes after what any partition queued before it. */
static void test_hypervisor_lines_keep_their_place(void **state)
{
	struct partition *a = fake_add_partition("a", PART_RUNNING);
	struct partition *b = fake_add_partition("b", PART_RUNNING);

	for (const char *c = "first\nhal"; *c; c++)
		con_guest_queue(a, (u8)*c);
	con_printf("vmbus a: something\n");
	assert_string_equal(fake_out, "[a] first\nvmbus a: something\n");
	/* Attached to b: its raw bytes, cut mid-line, come before the hypervisor's line. */
	expect("console b", "attached to b's serial port; press Ctrl-] to return\n");
	fake_out_clear();
	for (const char *c = "wraps=3"; *c; c++)
		con_guest_queue(b, (u8)*c);
	con_printf("vmbus b: deferred\n");
	assert_string_equal(fake_out, "wraps=3vmbus b: deferred\n");
	/* The guest's own lines do not drain the others': the scheduler's bound holds. */
	fake_out_clear();
	for (const char *c = "/4\n"; *c; c++)
		con_guest_queue(b, (u8)*c);
	for (const char *c = "f\n"; *c; c++)
		con_guest_queue(a, (u8)*c);
	assert_true(con_drain_guest(b, 1));
	assert_string_equal(fake_out, "/");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_blank_lines_do_nothing, setup),
	    cmocka_unit_test_setup(test_unknown_command, setup),
	    cmocka_unit_test_setup(test_arguments_split_and_counted, setup),
	    cmocka_unit_test_setup(test_usage_errors, setup),
	    cmocka_unit_test_setup(test_no_partition_named, setup),
	    cmocka_unit_test_setup(test_pause_and_resume, setup),
	    cmocka_unit_test_setup(test_stopped_partition, setup),
	    cmocka_unit_test_setup(test_kill, setup),
	    cmocka_unit_test_setup(test_reset_prints_the_guest_line_first, setup),
	    cmocka_unit_test_setup(test_halt_stops_what_runs_and_powers_off, setup),
	    cmocka_unit_test_setup(test_help_lists_every_command, setup),
	    cmocka_unit_test_setup(test_added_commands_run, setup),
	    cmocka_unit_test_setup(test_list, setup),
	    cmocka_unit_test_setup(test_info, setup),
	    cmocka_unit_test_setup(test_regs, setup),
	    cmocka_unit_test_setup(test_line_editing, setup),
	    cmocka_unit_test_setup(test_line_is_bounded, setup),
	    cmocka_unit_test_setup(test_console_attach_and_detach, setup),
	    cmocka_unit_test_setup(test_guest_lines_are_prefixed, setup),
	    cmocka_unit_test_setup(test_guest_output_is_queued, setup),
	    cmocka_unit_test_setup(test_flush_shows_the_queue_first, setup),
	    cmocka_unit_test_setup(test_hypervisor_lines_keep_their_place, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
