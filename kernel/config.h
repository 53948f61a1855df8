/*
 * bulkhead.cfg parser: INI-style sections "[partition NAME]" with key = value
 * lines (DESIGN.md, "Interfaces users and tests rely on"). Pure logic, no I/O:
 * built for the hypervisor, the host unit tests and the fuzzer alike.
 */
#ifndef BULKHEAD_CONFIG_H
#define BULKHEAD_CONFIG_H

#include "types.h"

#define CFG_MAX_PARTITIONS 8
#define CFG_NAME_MAX 16 /* 1-16 of [a-z0-9_-] */
#define CFG_PATH_MAX 63
#define CFG_CMDLINE_MAX 511
#define CFG_MAX_VSPS 8
#define CFG_VSP_NAME_MAX 15
#define CFG_ERR_MAX 160

/* A file named by a key; line says where, for "missing file" errors. */
struct cfg_path {
	char path[CFG_PATH_MAX + 1]; /* empty when the key is absent */
	unsigned line;
};

struct cfg_partition {
	char name[CFG_NAME_MAX + 1];
	unsigned line; /* line of the [partition NAME] header */
	u64 memory; /* bytes, a multiple of 4K, > 0 */
	struct cfg_path image; /* flat binary */
	u64 load; /* GPA the image is loaded at (default 0) */
	bool has_entry; /* false: start at the reset vector */
	u64 entry; /* real-mode entry: CS = entry >> 4, IP = entry & 15 */
	struct cfg_path kernel; /* Linux vmlinux (PVH) */
	struct cfg_path initrd;
	char cmdline[CFG_CMDLINE_MAX + 1];
	unsigned nr_vsps;
	char vsps[CFG_MAX_VSPS][CFG_VSP_NAME_MAX + 1]; /* "vmbus = ic, echo" */
	unsigned vmbus_line;
};

struct cfg {
	unsigned nr;
	struct cfg_partition part[CFG_MAX_PARTITIONS];
};

/*
 * Parse text[0..len) (need not be NUL-terminated). file is the name used in
 * messages. Returns 0 on success; on failure returns -1 and writes a one-line
 * message "FILE:LINE: KEY: what is wrong" (no trailing newline) into err.
 */
int cfg_parse(const char *text, size_t len, const char *file, struct cfg *out, char *err,
	      size_t errlen);

/* Parse "64M"-style sizes (K/M/G suffix or plain bytes). Returns 0 or -1. */
int cfg_parse_size(const char *s, u64 *out);

#endif
