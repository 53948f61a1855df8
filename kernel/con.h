/* The serial console shell on COM1 and the routing of guest UART output. */
#ifndef BULKHEAD_CON_H
#define BULKHEAD_CON_H

#include "types.h"

struct partition;

void con_init(void);
/* Read and act on whatever the user typed. Never blocks. */
void con_poll(void);
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A byte the partition wrote to its UART. */
void con_guest_output(struct partition *p, u8 c);
/* Print a partial line the partition left in its UART line buffer. */
void con_flush_guest_line(struct partition *p);
/* The partition a command's only argument names, or NULL after printing the error. */
struct partition *con_arg_partition(int argc, char **argv, const char *usage);
/* Run one command line (also used by tests). */
void con_execute(char *line);

#endif
