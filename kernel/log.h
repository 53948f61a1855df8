/* Console output for the hypervisor: formatted printing and panic(). */
#ifndef BULKHEAD_LOG_H
#define BULKHEAD_LOG_H

#include "types.h"
#include <stdarg.h>

/* Print to COM1 ("\n" becomes "\r\n"). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
/* Called before each print (not from inside itself): the console writes out the guest
 * output it queued first, so the hypervisor's lines keep their place among the guests'. */
void log_set_before_print(void (*fn)(void));
/* Broken hypervisor invariant: print, backtrace, halt. */
__noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
