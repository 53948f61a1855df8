/* The serial console shell on COM1 and the routing of guest UART output. */
#ifndef BULKHEAD_CON_H
#define BULKHEAD_CON_H

#include "types.h"

struct partition;

void con_init(void);
/* Read and act on whatever the user typed. Never blocks. */
void con_poll(void);
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A byte the partition wrote to its UART, shown now (prefixed lines, or `console P`). */
void con_guest_output(struct partition *p, u8 c);
/*
 * The same byte queued instead (p->uart.out; counted as dropped when full), as the guest's
 * exits do: the host serial port is written between slices (con_drain_guest), so a guest
 * does not buy time inside its exits by printing.
 */
void con_guest_queue(struct partition *p, u8 c);
/* Show up to max queued bytes of p (con_guest_output); true if some are left. */
bool con_drain_guest(struct partition *p, unsigned max);
/* Show everything p queued, then the partial line it left in its UART line buffer. */
void con_flush_guest_line(struct partition *p);
/* The partition a command's only argument names, or NULL after printing the error. */
struct partition *con_arg_partition(int argc, char **argv, const char *usage);
/* Run one command line (also used by tests). */
void con_execute(char *line);

#endif
