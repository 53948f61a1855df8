/* kprintf and panic: the hypervisor's only way to speak is COM1. */
#include "log.h"
#include "arch.h"

#include <stdio.h>

static void (*before_print)(void);

void log_set_before_print(void (*fn)(void))
{
	before_print = fn;
}

void kvprintf(const char *fmt, va_list ap)
{
	static bool in_hook;
	char buf[512];
	int n;

	if (before_print && !in_hook) {
		in_hook = true;
		before_print();
		in_hook = false;
	}
	n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < 0)
		return;
	serial_write(buf, MIN((size_t)n, sizeof(buf) - 1));
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	arch_irq_disable();
	kprintf("\npanic: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	arch_backtrace_here();
	serial_flush();
	arch_halt();
}
