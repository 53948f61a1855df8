/*
 * A light scan of bulkhead.cfg for the files the loader must bring along:
 * the values of `image`, `kernel` and `initrd` keys. Everything else in the
 * config is the hypervisor's to parse and to report. Pure logic.
 */
#ifndef BULKHEAD_BOOT_SCAN_H
#define BULKHEAD_BOOT_SCAN_H

#include "kernel/boot_info.h" /* u8..u64, ARRAY_SIZE: the one kernel header the loader shares */

/* Called once per file key, with its value trimmed (not NUL-terminated). */
typedef void (*scan_found_fn)(void *ctx, const char *value, size_t len);

void scan_config_files(const char *text, size_t len, scan_found_fn found, void *ctx);

#endif
