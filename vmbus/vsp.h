/*
 * The VSP services header: the one door between a VSP (vsp/) and the rest
 * of the hypervisor. A VSP includes this header, vmbus/kmcl.h (its channels
 * and packets), kernel/types.h, its own vsp/ headers and the C library's,
 * and nothing else (tests/layers.sh checks it). docs/vsp.md describes it.
 *
 * An instance (struct vsp) is one VSP type on one partition's VMBus: made
 * when the partition is created, for each name in its `vmbus =` list, in
 * that order, then for each type whose when_key the partition sets; destroyed in the reverse order
 * when the partition goes away (or its creation fails later on). Its state lives in the door
 * (vsp_type.state_size bytes, vsp_state) and in its channels' contexts
 * (vmb_channel_init_set_client_context_size): there are no instance tables
 * in a VSP.
 *
 * Order, stated once (the door keeps it):
 *   - boot (VSP_MODULE, hypervisor-wide): once, after the configuration is
 *     parsed, before any partition is created; in link order.
 *   - create: in `vmbus =` order, then the keyed types (when_key) not
 *     listed, in link order, after the bus exists; a failure destroys
 *     the instances made before, in reverse, then the bus.
 *   - work (timers and deferred work): once per scheduler pass for each
 *     running partition, after the bus has retried what waited (full
 *     message slots, full rings), instances in `vmbus =` order.
 *   - reset: after the bus reset (every channel closed, `closed` heard).
 *   - snapshot save: after the bus and its channels were saved; check:
 *     after the bus's records and every channel's stream were checked,
 *     before anything changes (also right after a save); restore: after the
 *     bus and channels were put back (the `opened` callbacks have run); all
 *     in `vmbus =` order.
 *   - destroy: reverse order, before the bus and its channels are freed.
 *
 * Concurrency: the callbacks of one bus (this header's hooks, the kmcl.h
 * callbacks of its channels, its console commands) never run at the same
 * time as each other. Callbacks of different buses may, once the
 * hypervisor runs on several CPUs: a VSP keeps no state outside its
 * instances and channels (constant tables aside).
 */
#ifndef BULKHEAD_VSP_H
#define BULKHEAD_VSP_H

#include "vmbus/kmcl.h"
#include "kernel/config.h"

struct vsp; /* one VSP type on one partition's bus */

struct vsp_type {
	const char *name; /* as the configuration's `vmbus =` list names it: "ic", "echo" */
	u32 state_size;	  /* bytes of per-instance state (zeroed), vsp_state */
	/*
	 * Optional: a partition key (the VSP's own, CFG_KEY) whose presence
	 * makes an instance without `vmbus =` naming the type: "nic" for
	 * netvsp. Such instances come after the `vmbus =` ones, in link order;
	 * a type both listed and keyed gets one instance.
	 */
	const char *when_key;
	/* Make and enable the channels: 0, or -1 with a one-line reason in err. */
	int (*create)(struct vsp *v, char *err, size_t errlen);
	/*
	 * Optional. The partition goes away: its channels are freed right after
	 * (do not clean them up); what vsp_alloc gave is freed too.
	 */
	void (*destroy)(struct vsp *v);
	/* Optional. The partition was reset: the guest has forgotten everything. */
	void (*reset)(struct vsp *v);
	/* Optional. A timer expired or work was deferred (vsp_timer_at, vsp_defer). */
	void (*work)(struct vsp *v);
	/*
	 * Optional, for state beyond the channels (which the library saves with
	 * their packets). save: size 0 first; BUFFER_TOO_SMALL with *needed set,
	 * then again with that much; SUCCESS with *needed bytes written (0:
	 * nothing to keep). check: the bytes save wrote (size 0 if it wrote
	 * none or the snapshot had none), before the restore changes anything
	 * (the channels are still as they are now, not as saved); it changes
	 * nothing, and anything but SUCCESS refuses the restore. A snapshot is
	 * checked when it is taken too, so a guest cannot make its own snapshot
	 * unrestorable. restore: the same bytes, once everything was checked
	 * and the channels are back; it must not fail for a reason check could
	 * have seen (a failure there stops the partition). The bytes come from a
	 * snapshot, which may be an image from disk: versioned and checked field
	 * by field. A VSP with restore and no check is checked by nothing.
	 */
	vmb_status (*save)(struct vsp *v, void *buf, u32 size, u32 *needed);
	vmb_status (*check)(struct vsp *v, const void *buf, u32 size);
	vmb_status (*restore)(struct vsp *v, const void *buf, u32 size);
};
#define VSP_TYPE(var)                                                                              \
	static const struct vsp_type var __attribute__((used, aligned(8), section("vsp_types")))

/* ---- the instance ---- */

void *vsp_state(struct vsp *v);
struct vmb_bus *vsp_bus(struct vsp *v);
/* The partition's name, for messages. */
const char *vsp_partition_name(const struct vsp *v);
/* The partition's index among the configuration's partitions, from 0. */
unsigned vsp_partition_index(const struct vsp *v);

/* ---- memory: charged to the partition ---- */

/* Zeroed; NULL when the partition's allocation is used up. Freed at destroy if not before. */
void *vsp_alloc(struct vsp *v, size_t size);
void vsp_free(struct vsp *v, void *ptr);

/* ---- time and work ---- */

/* Host time since the hypervisor started, in ns (monotonic). */
u64 vsp_now_ns(void);
/* The guest's reference time now, in 100 ns units (TLFS 12.4, the partition reference counter). */
u64 vsp_ref_time(const struct vsp *v);
/* Call `work` once the host time reaches at_ns (one timer per instance: a later call moves it). */
void vsp_timer_at(struct vsp *v, u64 at_ns);
/* Call `work` at the next pass, outside the current callback. */
void vsp_defer(struct vsp *v);

enum vsp_run_state {
	VSP_RUNNING,
	VSP_PAUSED,  /* by the console */
	VSP_STOPPED, /* faulted or killed: its channels stay as they are until a reset */
	VSP_HALTED,
};
enum vsp_run_state vsp_run_state(const struct vsp *v);

/* ---- messages ---- */

/* A line on the hypervisor log: "TYPE: partition NAME: " then fmt. */
void vsp_log(const struct vsp *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Output of a console command (no prefix). */
void vsp_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Console commands on one VSP of one partition: `NAME PARTITION [ARGS]`.
 * A hypervisor-wide command (.global, a VSP_MODULE's: `switch NAME`) names
 * no partition: the door checks only that it has 1 to max_args arguments
 * and calls fn with v NULL and argv[1] its first argument (.vsp and
 * .device unused).
 * The door checks the count of arguments (usage), finds the partition (or
 * prints "error: no partition named 'P' (see 'list')") and its instance of
 * the VSP type (or "error: partition P has no DEVICE (add `VSP` to its
 * vmbus list)"), then calls fn with argv[1] the partition's name.
 */
struct vsp_command {
	const char *name;
	const char *vsp;    /* the vsp_type name */
	const char *device; /* "IC channels": for the error above */
	const char *usage;  /* "date PARTITION [SECONDS]" */
	int max_args;	    /* after the partition's name (.global: in all) */
	void (*fn)(struct vsp *v, int argc, char **argv);
	const char *help; /* "name ARGS   what it does", as `help` prints it */
	bool global;	  /* hypervisor-wide: no partition, v is NULL */
};
#define VSP_COMMAND(var)                                                                           \
	static const struct vsp_command var __attribute__((used, aligned(8), section("vsp_cmds")))

/* ---- hypervisor-wide modules ---- */

/*
 * A module that is no partition's (the virtual switch, vsp/vswitch/): its
 * state is its own, bounded by what the configuration says, and it is
 * reached by VSPs through its own header. Its configuration is sections of
 * its own ("[switch NAME]", CFG_KEY with that section word), its console
 * commands are .global ones.
 */
struct vsp_module {
	const char *name; /* "vswitch", for messages */
	/*
	 * Once at boot, after the configuration is parsed and before any
	 * partition is created: 0, or -1 with a one-line reason in err (then no
	 * partition starts).
	 */
	int (*boot)(char *err, size_t errlen);
};
#define VSP_MODULE(var)                                                                            \
	static const struct vsp_module var __attribute__((used, aligned(8), section("vsp_mods")))

/* The name of the i-th section [WORD NAME] of the configuration (file order), or NULL. */
const char *vsp_section_name(const char *word, unsigned i);
/* The value of a declared key in [WORD NAME], or NULL if the key is not set there. */
const struct cfg_value *vsp_section_value(const char *word, const char *name, const char *key);

/* ---- files the loader brought ---- */

/*
 * A VSP's own configuration keys are declared with CFG_KEY (kernel/config.h
 * through vsp.h; BOOT_CFG_KEY_FILE for a key that names a file, which the
 * loader then brings and the partition does not start without). The bytes
 * of the file the partition's key names, or NULL (*size 0) if the key is
 * not set or names no file.
 */
const void *vsp_file(const struct vsp *v, const char *key, u64 *size);
/* The text of the partition's key, or NULL if it is not set. */
const char *vsp_config(const struct vsp *v, const char *key);

#endif
