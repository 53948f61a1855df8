/*
 * Serial console: a line-oriented shell, guest output prefixed "[NAME] ",
 * and `console P`, which connects the terminal to one partition's UART
 * until the user types Ctrl-] (docs/architecture.md, "Serial console").
 */
#include "con.h"
#include "arch.h"
#include "ext.h"
#include "log.h"
#include "part.h"
#include "sched.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CON_LINE_MAX  128
#define CON_MAX_ARGS  5	   /* `firewall SWITCH PORT allow MAC` */
#define KEY_ESCAPE    0x1d /* Ctrl-] leaves `console P` */
#define KEY_BACKSPACE 0x08
#define KEY_DELETE    0x7f
#define PROMPT	      "bulkhead> "

static char line[CON_LINE_MAX];
static unsigned line_len;
static struct partition *attached;
static u64 hidden_lines; /* guest lines not shown while attached */

static void drain_all(void);

void con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void con_init(void)
{
	line_len = 0;
	attached = NULL;
	log_set_before_print(drain_all);
	con_printf("bulkhead: console ready, type 'help'\n" PROMPT);
}

static void flush_line(struct partition *p)
{
	struct uart *u = &p->uart;

	if (!u->line_len)
		return;
	if (attached)
		hidden_lines++;
	else
		con_printf("[%s] %.*s\n", p->name, (int)u->line_len, u->line);
	u->line_len = 0;
}

void con_guest_output(struct partition *p, u8 c)
{
	struct uart *u = &p->uart;

	if (attached == p) {
		serial_write((const char *)&c, 1);
		return;
	}
	if (c == '\n') {
		if (u->line_len && u->line[u->line_len - 1] == '\r')
			u->line_len--;
		if (!u->line_len) {
			if (!attached)
				con_printf("[%s] \n", p->name);
			return;
		}
		flush_line(p);
		return;
	}
	if (u->line_len == sizeof(u->line))
		flush_line(p);
	u->line[u->line_len++] = (c >= 0x20 && c < 0x7f) || c == '\r' || c == '\t' ? (char)c : '?';
}

_Static_assert((UART_OUT_SIZE & (UART_OUT_SIZE - 1)) == 0, "the queue's indexes wrap");

void con_guest_queue(struct partition *p, u8 c)
{
	struct uart *u = &p->uart;

	if (u->out_tail - u->out_head >= UART_OUT_SIZE) {
		u->out_dropped++;
		return;
	}
	u->out[u->out_tail++ % UART_OUT_SIZE] = c;
}

static bool draining; /* the lines printed now are the guests' own */

bool con_drain_guest(struct partition *p, unsigned max)
{
	struct uart *u = &p->uart;
	bool was = draining;

	draining = true;
	for (unsigned n = 0; n < max && u->out_head != u->out_tail; n++)
		con_guest_output(p, u->out[u->out_head++ % UART_OUT_SIZE]);
	draining = was;
	return u->out_head != u->out_tail;
}

/*
 * Before a line of the hypervisor's (log.h): what every partition queued until now, so
 * that the order on the terminal is the order things happened, also in the middle of a
 * guest's line under `console P`. A guest can make the hypervisor print only at the rate
 * its log lines allow (rate-limited), so this does not bring back printing in its exits.
 */
static void drain_all(void)
{
	if (draining)
		return;
	for (unsigned i = 0; i < nr_partitions; i++)
		con_drain_guest(&partitions[i], UART_OUT_SIZE);
}

void con_flush_guest_line(struct partition *p)
{
	con_drain_guest(p, UART_OUT_SIZE);
	flush_line(p);
}

/* ---- commands ---- */

struct partition *con_arg_partition(int argc, char **argv, const char *usage)
{
	struct partition *p;

	if (argc != 2) {
		con_printf("error: usage: %s\n", usage);
		return NULL;
	}
	p = part_find(argv[1]);
	if (!p)
		con_printf("error: no partition named '%s' (see 'list')\n", argv[1]);
	return p;
}

static void cmd_help(int argc, char **argv);

static void cmd_list(int argc, char **argv)
{
	if (!nr_partitions)
		con_printf("no partitions\n");
	for (unsigned i = 0; i < nr_partitions; i++) {
		struct partition *p = &partitions[i];

		con_printf("partition id=%u name=%s state=%s memory=%lluK vps=1 exits=%llu\n",
			   p->id, p->name, part_state_name(p->state),
			   (unsigned long long)(p->mem_size >> 10),
			   (unsigned long long)p->vp.exits);
	}
}

/* Where the exits go: the first thing to look at when a guest is slow. */
static void print_exit_counts(const struct partition *p)
{
	static const char *const names[] = {
	    [EXIT_NONE] = "none",
	    [EXIT_CPUID] = "cpuid",
	    [EXIT_IO] = "io",
	    [EXIT_MSR_READ] = "msr_read",
	    [EXIT_MSR_WRITE] = "msr_write",
	    [EXIT_HLT] = "hlt",
	    [EXIT_HYPERCALL] = "hypercall",
	    [EXIT_MEM_FAULT] = "mem",
	    [EXIT_TRIPLE_FAULT] = "triple_fault",
	    [EXIT_INTR] = "intr",
	    [EXIT_PREEMPT] = "preempt",
	    [EXIT_IRQ_WINDOW] = "irq_window",
	    [EXIT_INVALID] = "invalid",
	    [EXIT_UNHANDLED] = "unhandled",
	};

	con_printf("exits");
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		if (p->vp.exits_by_reason[i])
			con_printf(" %s=%llu", names[i],
				   (unsigned long long)p->vp.exits_by_reason[i]);
	con_printf("\n");
}

/* Why a VP does (not) run: waiting in HLT, the interrupt controller, a queued event. */
static void print_irq_state(struct partition *p)
{
	struct vp_state st;
	char lapic[160];

	vp_ops->vp_save(&p->vp, &st);
	vlapic_describe(&p->lapic, arch_rdtsc(), lapic, sizeof(lapic));
	con_printf("irq idle=%u rflags_if=%u shadow=%u event=0x%x pending=%d %s\n", p->idle,
		   (unsigned)!!(p->vp.regs.rflags & RFLAGS_IF), st.shadow, st.event,
		   vlapic_pending(&p->lapic), lapic);
}

static void cmd_info(int argc, char **argv)
{
	struct partition *p = con_arg_partition(argc, argv, "info PARTITION");

	if (!p)
		return;
	con_printf("info id=%u name=%s state=%s memory=%lluK load=0x%llx image_size=%llu "
		   "entry_cs=0x%x entry_ip=0x%llx exits=%llu slices=%llu run_ms=%llu host_ms=%llu "
		   "uart_tx=%llu uart_dropped=%llu crash_reports=%llu backend=%s reason=\"%s\"\n",
		   p->id, p->name, part_state_name(p->state),
		   (unsigned long long)(p->mem_size >> 10), (unsigned long long)p->load,
		   (unsigned long long)p->image_size, p->reset.cs_sel,
		   (unsigned long long)p->reset.rip, (unsigned long long)p->vp.exits,
		   (unsigned long long)p->slices, (unsigned long long)(p->run_us / 1000),
		   (unsigned long long)(p->host_us / 1000), (unsigned long long)p->uart.tx_bytes,
		   (unsigned long long)p->uart.out_dropped, (unsigned long long)p->hv.crash_reports,
		   vp_ops->name, p->stop_reason);
	print_exit_counts(p);
	print_irq_state(p);
}

static void print_seg(const char *name, const struct vp_seg *s)
{
	con_printf("%s=%04x base=%016llx limit=%08x attr=%04x\n", name, s->sel,
		   (unsigned long long)s->base, s->limit, s->attr);
}

static void cmd_regs(int argc, char **argv)
{
	static const char *const names[VP_NR_GPRS] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp",
						      "rsi", "rdi", "r8",  "r9",  "r10", "r11",
						      "r12", "r13", "r14", "r15"};
	struct partition *p = con_arg_partition(argc, argv, "regs PARTITION");
	struct vp_sregs s;

	if (!p)
		return;
	vp_ops->vp_get_sregs(&p->vp, &s);
	con_printf("vp=0 rip=%016llx rflags=%016llx\n", (unsigned long long)p->vp.regs.rip,
		   (unsigned long long)p->vp.regs.rflags);
	for (unsigned i = 0; i < VP_NR_GPRS; i += 4)
		con_printf("%s=%016llx %s=%016llx %s=%016llx %s=%016llx\n", names[i],
			   (unsigned long long)p->vp.regs.gpr[i], names[i + 1],
			   (unsigned long long)p->vp.regs.gpr[i + 1], names[i + 2],
			   (unsigned long long)p->vp.regs.gpr[i + 2], names[i + 3],
			   (unsigned long long)p->vp.regs.gpr[i + 3]);
	con_printf("cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx\n",
		   (unsigned long long)s.cr0, (unsigned long long)s.cr2, (unsigned long long)s.cr3,
		   (unsigned long long)s.cr4, (unsigned long long)s.efer);
	print_seg("cs", &s.cs);
	print_seg("ds", &s.ds);
	print_seg("ss", &s.ss);
	print_seg("es", &s.es);
	print_seg("fs", &s.fs);
	print_seg("gs", &s.gs);
	print_seg("tr", &s.tr);
	con_printf("gdtr base=%016llx limit=%04x idtr base=%016llx limit=%04x\n",
		   (unsigned long long)s.gdt_base, s.gdt_limit, (unsigned long long)s.idt_base,
		   s.idt_limit);
}

static void cmd_pause(int argc, char **argv)
{
	struct partition *p = con_arg_partition(argc, argv, "pause PARTITION");

	if (!p)
		return;
	if (p->state != PART_RUNNING && p->state != PART_HALTED) {
		con_printf("error: partition %s is %s, not running\n", p->name,
			   part_state_name(p->state));
		return;
	}
	p->state = PART_PAUSED;
	con_printf("partition %s paused\n", p->name);
}

static void cmd_resume(int argc, char **argv)
{
	struct partition *p = con_arg_partition(argc, argv, "resume PARTITION");

	if (!p)
		return;
	if (p->state != PART_PAUSED) {
		con_printf("error: partition %s is %s, not paused%s\n", p->name,
			   part_state_name(p->state),
			   p->state == PART_STOPPED ? " (use 'reset')" : "");
		return;
	}
	p->state = PART_RUNNING;
	con_printf("partition %s resumed\n", p->name);
}

static void cmd_reset(int argc, char **argv)
{
	struct partition *p = con_arg_partition(argc, argv, "reset PARTITION");

	if (!p)
		return;
	con_flush_guest_line(p);
	part_reset(p);
	con_printf("partition %s reset\n", p->name);
}

static void cmd_kill(int argc, char **argv)
{
	struct partition *p = con_arg_partition(argc, argv, "kill PARTITION");

	if (!p)
		return;
	if (p->state == PART_STOPPED) {
		con_printf("error: partition %s is already stopped\n", p->name);
		return;
	}
	part_stop(p, "killed from the console");
}

static void cmd_console(int argc, char **argv)
{
	struct partition *p = con_arg_partition(argc, argv, "console PARTITION");

	if (!p)
		return;
	con_flush_guest_line(p);
	con_printf("attached to %s's serial port; press Ctrl-] to return\n", p->name);
	hidden_lines = 0;
	attached = p;
}

static void cmd_halt(int argc, char **argv)
{
	for (unsigned i = 0; i < nr_partitions; i++)
		if (partitions[i].state != PART_STOPPED)
			part_stop(&partitions[i], "machine halted from the console");
	con_printf("bulkhead: powering off\n");
	arch_poweroff();
}

/* The built-in commands; vmbus/ and vsp/ add theirs through CON_COMMAND (ext.h). */
static const struct con_command commands[] = {
    {"help", cmd_help, "help                 this list"},
    {"list", cmd_list, "list                 partitions, one line each"},
    {"info", cmd_info, "info P               details of partition P"},
    {"regs", cmd_regs, "regs P               registers of P's virtual processor"},
    {"pause", cmd_pause, "pause P              stop scheduling P"},
    {"resume", cmd_resume, "resume P             schedule P again"},
    {"reset", cmd_reset, "reset P              restart P from its image"},
    {"kill", cmd_kill, "kill P               stop P for good (reset restarts it)"},
    {"console", cmd_console, "console P            attach to P's serial port (Ctrl-] returns)"},
    {"halt", cmd_halt, "halt                 stop every partition and power off"},
};

static void cmd_help(int argc, char **argv)
{
	for (unsigned i = 0; i < ARRAY_SIZE(commands); i++)
		con_printf("  %s\n", commands[i].help);
	for_each_con_command(c) con_printf("  %s\n", c->help);
	for_each_con_source(s)
	{
		const struct con_command *c;

		for (unsigned i = 0; (c = s->get(i)); i++)
			con_printf("  %s\n", c->help);
	}
}

static const struct con_command *find_command(const char *name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	for_each_con_command(c) if (!strcmp(name, c->name)) return c;
	for_each_con_source(s)
	{
		const struct con_command *c;

		for (unsigned i = 0; (c = s->get(i)); i++)
			if (!strcmp(name, c->name))
				return c;
	}
	return NULL;
}

void con_execute(char *text)
{
	char *argv[CON_MAX_ARGS + 1];
	int argc = 0;

	for (char *tok = strtok(text, " \t\r"); tok; tok = strtok(NULL, " \t\r")) {
		if (argc == CON_MAX_ARGS) {
			con_printf("error: too many arguments\n");
			return;
		}
		argv[argc++] = tok;
	}
	if (!argc)
		return;
	const struct con_command *cmd = find_command(argv[0]);
	if (cmd) {
		cmd->fn(argc, argv);
		return;
	}
	con_printf("error: unknown command '%.32s' (try 'help')\n", argv[0]);
}

static void con_detach(void)
{
	struct partition *p = attached;

	attached = NULL;
	con_printf("\ndetached from %s", p->name);
	if (hidden_lines)
		con_printf(" (%llu lines of other partitions not shown)",
			   (unsigned long long)hidden_lines);
	con_printf("\n" PROMPT);
}

static void con_key(u8 c)
{
	if (attached) {
		if (c == KEY_ESCAPE)
			con_detach();
		else
			uart_rx_push(&attached->uart, c);
		return;
	}
	if (c == '\r' || c == '\n') {
		con_printf("\n");
		line[line_len] = 0;
		line_len = 0;
		con_execute(line);
		if (!attached)
			con_printf(PROMPT);
		return;
	}
	if (c == KEY_BACKSPACE || c == KEY_DELETE) {
		if (line_len) {
			line_len--;
			con_printf("\b \b");
		}
		return;
	}
	if (c < 0x20 || c >= 0x7f || line_len == CON_LINE_MAX - 1)
		return;
	line[line_len++] = (char)c;
	serial_write((const char *)&c, 1);
}

void con_poll(void)
{
	int c;

	while ((c = serial_getc()) >= 0)
		con_key((u8)c);
}
