/* Console output for the hypervisor: formatted printing and panic(). */
#ifndef BULKHEAD_LOG_H
#define BULKHEAD_LOG_H

#include "types.h"
#include <stdarg.h>

/* Print to COM1 ("\n" becomes "\r\n"). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
/* Broken hypervisor invariant: print, backtrace, halt. */
__noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
