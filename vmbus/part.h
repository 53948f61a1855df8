/*
 * Inside vmbus/: one partition's VMBus, as vmbus/part.c (the partition
 * extension) and vmbus/vsp.c (the VSP door) share it. Nothing outside
 * vmbus/ includes this.
 */
#ifndef BULKHEAD_VMBUS_PART_H
#define BULKHEAD_VMBUS_PART_H

#include "vmbus/vsp.h"
#include "kernel/config.h"

struct partition;
struct vsp_block;

/*
 * Bytes a partition's VSPs may hold through vsp_alloc, beyond their state:
 * a cap inside the partition's pool (kernel/pool.h), which everything comes
 * from, so that a VSP cannot take all of it from its own bus.
 */
#define VSP_MEM_MAX (1u << 20)

struct vsp {
	const struct vsp_type *type;
	struct vmbus_part *owner;
	void *state;		  /* type->state_size bytes */
	struct vsp_block *blocks; /* what vsp_alloc gave, newest first */
	bool deferred;		  /* run `work` at the next pass */
	bool timer_on;
	u64 timer_at_ns;
};

struct vmbus_part {
	struct partition *part;
	struct vmb_bus *bus;
	u64 vsp_bytes; /* held through vsp_alloc, all instances */
	unsigned nr_vsps;
	struct vsp vsps[CFG_LIST_MAX];
};

/* vsp.c: the instances of a partition, in the orders vmbus/vsp.h states; list: `vmbus =`
 * (NULL: none), then the types whose when_key the partition sets. */
struct cfg;
/* Once at boot, after the configuration is parsed: every VSP_MODULE's boot hook. */
int vsp_boot_all(const struct cfg *cfg, char *err, size_t errlen);
int vsp_create_all(struct vmbus_part *vp, const struct cfg_value *list, char *err, size_t errlen);
/* Whether the partition gets a VMBus: `vmbus =` or a VSP's when_key is set. */
bool vsp_wanted(const struct cfg_partition *c);
void vsp_destroy_all(struct vmbus_part *vp);
void vsp_reset_all(struct vmbus_part *vp);
void vsp_work_all(struct vmbus_part *vp);
/* Snapshots: each instance's own state (vsp_type save/check/restore), as one object; check
 * changes nothing, restore checks again first. */
void *vsp_save_all(struct vmbus_part *vp, char *err, size_t errlen);
int vsp_check_all(struct vmbus_part *vp, const void *state, char *err, size_t errlen);
int vsp_restore_all(struct vmbus_part *vp, const void *state, char *err, size_t errlen);
void vsp_drop_all(void *state);

#endif
