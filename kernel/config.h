/*
 * bulkhead.cfg parser: INI-style sections "[partition NAME]" with key = value
 * lines (docs/architecture.md, "Interfaces users and tests rely on"). Pure logic, no I/O:
 * built for the hypervisor, the host unit tests and the fuzzer alike.
 *
 * The partition's own keys (memory, image, load, entry, kernel, initrd,
 * cmdline, device_memory) are the parser's. Every other key belongs to the extension that
 * uses it and is declared there with CFG_KEY: its section word ("partition"
 * for a partition's key, or a section of the extension's own, such as
 * "[switch NAME]"), its name and its kind. The parser checks the value by
 * its kind (and the key's own check) and keeps it in the section's values;
 * the extension reads it with cfg_get. The loader reads the same
 * declarations out of the hypervisor image to learn which keys name files
 * (kernel/boot_info.h).
 */
#ifndef BULKHEAD_CONFIG_H
#define BULKHEAD_CONFIG_H

#include "types.h"
#include "boot_info.h"

/*
 * Where guest RAM (GPA 0 to `memory`, no hole) must end: the I/O APIC page (0xfec00000,
 * 82093AA datasheet 3.0), below the local APIC (0xfee00000) and the reset vector's alias
 * (0xffff0000). A bigger `memory` is refused (docs/architecture.md, "Configuration").
 */
#define CFG_RAM_END 0xfec00000ull

#define CFG_MAX_PARTITIONS 8
#define CFG_NAME_MAX	   16 /* 1-16 of [a-z0-9_-] */
#define CFG_PATH_MAX	   63
#define CFG_CMDLINE_MAX	   511
#define CFG_ERR_MAX	   160
#define CFG_VALUE_MAX	   127 /* a declared key's value */
#define CFG_LIST_MAX	   8   /* names in a list value */
#define CFG_ITEM_MAX	   15  /* characters of one of them */
#define CFG_MAX_VALUES	   8   /* declared keys set in one section */
#define CFG_MAX_SECTIONS   8   /* extension sections ([switch NAME] ...) in all */
/* device_memory when the config does not say: see docs/architecture.md for what it holds. */
#define CFG_DEVICE_MEMORY_DEFAULT (4ull << 20)

/* Kinds of a declared key, beside BOOT_CFG_KEY_FILE (a path, as `image` takes). */
#define CFG_KEY_LIST	0x2u /* a list of distinct names: "ic, echo" */
#define CFG_KEY_BUILTIN 0x4u /* parsed by config.c itself; declared for the loader's sake */

struct cfg_value;

/* A key an extension owns. Keep it BOOT_CFG_KEY_SIZE bytes: the loader steps by that. */
struct cfg_key_decl {
	struct boot_cfg_key k;
	const char *noun;    /* CFG_KEY_LIST: what each name is ("VSP"), for messages */
	const char *example; /* CFG_KEY_LIST: a good value ("ic, echo"), for messages */
	/* Optional, after the kind's own checks: 0, or -1 with what is wrong in err. */
	int (*check)(const struct cfg_value *v, char *err, size_t errlen);
};
_Static_assert(sizeof(struct cfg_key_decl) == BOOT_CFG_KEY_SIZE, "cfg_key_decl size");
#define CFG_KEY(var)                                                                               \
	static const struct cfg_key_decl var                                                       \
	    __attribute__((used, aligned(BOOT_CFG_KEY_SIZE), section("cfg_keys")))
#define CFG_KEY_HEAD(flags, section, name)                                                         \
	{                                                                                          \
		BOOT_CFG_KEY_MAGIC, (flags), section, name                                         \
	}

extern const struct cfg_key_decl __start_cfg_keys[] __attribute__((weak));
extern const struct cfg_key_decl __stop_cfg_keys[] __attribute__((weak));

/* A declared key's value in one section. */
struct cfg_value {
	const struct cfg_key_decl *key;
	unsigned line;
	char text[CFG_VALUE_MAX + 1]; /* trimmed */
	unsigned nr_items;	      /* CFG_KEY_LIST: the names, in order */
	char items[CFG_LIST_MAX][CFG_ITEM_MAX + 1];
};

struct cfg_values {
	unsigned nr;
	struct cfg_value v[CFG_MAX_VALUES];
};

/* A file named by a key; line says where, for "missing file" errors. */
struct cfg_path {
	char path[CFG_PATH_MAX + 1]; /* empty when the key is absent */
	unsigned line;
};

struct cfg_partition {
	char name[CFG_NAME_MAX + 1];
	unsigned line;		/* line of the [partition NAME] header */
	u64 memory;		/* bytes, a multiple of 4K, > 0 */
	u64 device_memory;	/* the partition's pool (kernel/pool.h), bytes as memory */
	struct cfg_path image;	/* flat binary */
	u64 load;		/* GPA the image is loaded at (default 0) */
	bool has_entry;		/* false: start at the reset vector */
	u64 entry;		/* real-mode entry: CS = entry >> 4, IP = entry & 15 */
	struct cfg_path kernel; /* Linux vmlinux (PVH) */
	struct cfg_path initrd;
	char cmdline[CFG_CMDLINE_MAX + 1];
	struct cfg_values values; /* declared keys ("vmbus = ic, echo") */
};

/* A section an extension declared keys for: "[switch lan]". */
struct cfg_section {
	char word[BOOT_CFG_WORD_MAX + 1];
	char name[CFG_NAME_MAX + 1];
	unsigned line;
	struct cfg_values values;
};

struct cfg {
	unsigned nr;
	struct cfg_partition part[CFG_MAX_PARTITIONS];
	unsigned nr_sections;
	struct cfg_section sections[CFG_MAX_SECTIONS];
};

/*
 * Parse text[0..len) (need not be NUL-terminated). file is the name used in
 * messages. Returns 0 on success; on failure returns -1 and writes a one-line
 * message "FILE:LINE: KEY: what is wrong" (no trailing newline) into err.
 */
int cfg_parse(const char *text, size_t len, const char *file, struct cfg *out, char *err,
	      size_t errlen);

/* The value of the declared key `key` among vs, or NULL if it is not set. */
const struct cfg_value *cfg_get(const struct cfg_values *vs, const char *key);

/* Parse "64M"-style sizes (K/M/G suffix or plain bytes). Returns 0 or -1. */
int cfg_parse_size(const char *s, u64 *out);

#endif
