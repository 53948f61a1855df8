/*
 * Extension points: how layers above the kernel (vmbus/, vsp/) hook in
 * without the kernel naming them (docs/architecture.md: dependencies go one way, upward
 * calls are callbacks registered at init). Each is a linker set: a module
 * declares a const entry in a named section; the kernel walks the section.
 */
#ifndef BULKHEAD_EXT_H
#define BULKHEAD_EXT_H

#include "types.h"

struct partition;
struct cfg_partition;
struct cfg;

/* Per-partition devices beyond the built-in platform (e.g. the VMBus server). */
struct part_ext {
	const char *name;
	/*
	 * Optional: once at boot, after the configuration is parsed and before
	 * any partition is created (hypervisor-wide devices such as virtual
	 * switches): 0, or -1 with a one-line reason (no partition is started).
	 */
	int (*boot)(const struct cfg *cfg, char *err, size_t errlen);
	/* At creation, after memory: 0, or -1 with a one-line reason (the partition is not
	 * started). */
	int (*create)(struct partition *p, const struct cfg_partition *c, char *err, size_t errlen);
	/* Undo create (optional): the partition's creation failed later on, or it goes away. */
	void (*destroy)(struct partition *p);
	/* The partition was reset (memory cleared, VP at its first instruction). */
	void (*reset)(struct partition *p);
	/* Between slices: deferred work. */
	void (*poll)(struct partition *p);
	/*
	 * Snapshots (kernel/snap.c), between exits: save returns the device's
	 * state as an object it owns (NULL with a one-line reason in err: no
	 * snapshot); check looks at all of one against the partition as it is
	 * now and changes nothing (-1 with a reason: the snapshot is refused,
	 * when it is taken or before a restore changes anything); restore puts
	 * one back after guest memory and the VP, and must not fail for any
	 * reason check could see (-1 with a reason stops the partition); drop
	 * frees one. Optional; check goes with restore.
	 */
	void *(*snap_save)(struct partition *p, char *err, size_t errlen);
	int (*snap_check)(struct partition *p, const void *state, char *err, size_t errlen);
	int (*snap_restore)(struct partition *p, const void *state, char *err, size_t errlen);
	void (*snap_drop)(void *state);
};
#define PART_EXT(var)                                                                              \
	static const struct part_ext var __attribute__((used, aligned(8), section("part_ext")))

/*
 * Order: the extensions run in link order (the Makefile's source order:
 * kernel/, then vmbus/, then vsp/), create and every other hook alike;
 * destroy runs in the reverse order, only for extensions whose create
 * succeeded. The VMBus extension orders its VSPs itself (vmbus/vsp.h).
 */

/* Console commands beyond the built-in ones. */
struct con_command {
	const char *name;
	void (*fn)(int argc, char **argv);
	const char *help; /* "name ARGS   what it does", as `help` prints it */
};
#define CON_COMMAND(var)                                                                           \
	static const struct con_command var __attribute__((used, aligned(8), section("con_cmds")))

/*
 * Commands a layer above keeps in a table of its own (the VSP door,
 * vmbus/vsp.c): get returns the i-th, or NULL after the last.
 */
struct con_source {
	const struct con_command *(*get)(unsigned i);
};
#define CON_SOURCE(var)                                                                            \
	static const struct con_source var __attribute__((used, aligned(8), section("con_srcs")))

/* The sets, bounded by the symbols the linker provides for C-named sections. */
extern const struct part_ext __start_part_ext[] __attribute__((weak));
extern const struct part_ext __stop_part_ext[] __attribute__((weak));
extern const struct con_command __start_con_cmds[] __attribute__((weak));
extern const struct con_command __stop_con_cmds[] __attribute__((weak));
extern const struct con_source __start_con_srcs[] __attribute__((weak));
extern const struct con_source __stop_con_srcs[] __attribute__((weak));

#define for_each_part_ext(e)                                                                       \
	for (const struct part_ext *e = __start_part_ext; e < __stop_part_ext; e++)
#define for_each_con_command(c)                                                                    \
	for (const struct con_command *c = __start_con_cmds; c < __stop_con_cmds; c++)
#define for_each_con_source(s)                                                                     \
	for (const struct con_source *s = __start_con_srcs; s < __stop_con_srcs; s++)

#endif
