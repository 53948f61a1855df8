/*
 * What kernel/con.c needs around it, faked for test_con.c: the partitions
 * array and the part_* calls it makes (reset and stop are recorded, not
 * done), a vp_ops whose save and sregs come from the test, the serial port
 * (output captured together with everything con_printf prints; input from
 * a queue the test fills) and a power-off that jumps back into the test.
 */
#ifndef BULKHEAD_TEST_CON_FAKE_H
#define BULKHEAD_TEST_CON_FAKE_H

#include <setjmp.h>

#include "kernel/part.h"

#define FAKE_OUT_MAX 16384
#define FAKE_IN_MAX  256

/* Everything written to the console so far, NUL-terminated. */
extern char fake_out[FAKE_OUT_MAX];
extern size_t fake_out_len;

/* part_reset and part_stop: how often, on which partition, with which reason. */
extern unsigned fake_resets, fake_stops;
extern struct partition *fake_last_reset, *fake_last_stop;
extern char fake_stop_reason[96];

/* What the fake vp_save and vp_get_sregs hand out. */
extern struct vp_state fake_vp_state;
extern struct vp_sregs fake_sregs;

/* arch_poweroff longjmps here (with 1); it aborts when unset. */
extern jmp_buf *fake_poweroff_jmp;

/* No partitions, nothing recorded, no output, no input. */
void fake_con_reset(void);
/* Append a partition named name in state s (with a working LAPIC and UART). */
struct partition *fake_add_partition(const char *name, enum part_state s);
/* Queue what serial_getc returns next (con_poll reads it). */
void fake_type(const char *keys, size_t len);
/* Forget the output so far. */
void fake_out_clear(void);

#endif
