/*
 * Partitions: a name, guest-physical memory (EPT/NPT-mapped host frames,
 * never shared), one VP, a virtual UART, and a state the scheduler obeys.
 */
#ifndef BULKHEAD_PART_H
#define BULKHEAD_PART_H

#include "types.h"
#include "pt.h"
#include "vp.h"
#include "config.h"
#include "hv.h"
#include "uart.h"
#include "vioapic.h"
#include "vlapic.h"
#include "pool.h"

#define PART_MAX CFG_MAX_PARTITIONS

/* The 64K below 1M also appear below 4G, for the reset vector. */
#define BIOS_ALIAS_GPA	0xf0000ull
#define RESET_ALIAS_GPA 0xffff0000ull
#define BIOS_ALIAS_SIZE 0x10000ull

enum part_state {
	PART_RUNNING,
	PART_PAUSED,  /* by the console; resume continues it */
	PART_STOPPED, /* by the hypervisor (fault) or killed; reset restarts it */
	PART_HALTED,  /* the VP executed HLT with nothing to wake it */
};

struct partition {
	unsigned id;
	char name[CFG_NAME_MAX + 1];
	enum part_state state;
	char stop_reason[96];

	u64 mem_size;
	u64 *frames;	/* host frame of each guest page [0, mem_size) */
	u64 *host_seen; /* bitmap: pages the hypervisor has had a pointer into (snap.c) */
	struct pt gpt;	/* EPT or NPT */
	u64 gpt_gen;	/* bumped on every mapping change; VPs flush when it moves */

	/* What reset needs: the image and where it goes. */
	const void *image; /* flat binary, or vmlinux */
	u64 image_size;
	u64 load;
	struct vp_reset reset;
	/* Linux partitions (`kernel =`): PVH boot with ACPI tables (part_linux.c). */
	bool is_linux;
	const void *initrd;
	u64 initrd_size;
	char cmdline[CFG_CMDLINE_MAX + 1];
	u16 pm1_cnt, pm1_en;
	const struct cfg_partition *cfg; /* its configuration, for the extensions' keys */
	void *vmbus; /* the partition's VMBus server (vmbus/), if its config asks for one */
	/* What the hypervisor allocates on the partition's behalf (`device_memory`). */
	struct pool pool;
	u64 pool_warned_tsc; /* when `device memory exhausted` was last printed; 0: not since reset
			      */

	struct vp vp;
	bool idle; /* HLT with interrupts on: waits for one (not a state the console shows) */
	struct vlapic lapic;
	struct vioapic ioapic;
	struct hv hv;
	struct uart uart;
	u64 run_us; /* time spent running guest code (with the exits in its slices) */
	/* Host work done for it between slices (sched.c): counted here and taken from its
	 * next slice (owed_us). */
	u64 host_us, owed_us;
	u64 slices;
};

extern struct partition partitions[PART_MAX];
extern unsigned nr_partitions;

const char *part_state_name(enum part_state s);
struct partition *part_find(const char *name);
/* image: the flat image or the vmlinux; initrd may be NULL. */
int part_create(struct partition *p, const struct cfg_partition *c, const void *image,
		u64 image_size, const void *initrd, u64 initrd_size, char *err, size_t errlen);
/* main.c: a file the loader brought, by its name in the config; NULL (*size 0) if absent. */
const void *boot_file_data(const char *name, u64 *size);
/* Back to the state right after creation: memory zeroed, image reloaded. */
int part_reset(struct partition *p);
void part_stop(struct partition *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* part_linux.c: load vmlinux, initrd, ACPI tables and the PVH start state. */
int part_linux_boot(struct partition *p, char *err, size_t errlen);
/* The ACPI PM1a ports of a Linux partition; false if port is not one. */
bool part_pm_io(struct partition *p, u16 port, bool in, u32 *val);
/* snap.c: a write fault on guest RAM write-protected for a snapshot; true if it was one. */
bool snap_write_fault(struct partition *p, u64 gpa);
/* Pages of a bitmap with a bit per guest page. */
u64 part_bitmap_pages(const struct partition *p);
/*
 * Host address of guest-physical gpa (len bytes, all inside one page), or
 * NULL. The page is marked as one the hypervisor may write at any time
 * (host_seen): every restore copies it back.
 */
void *part_gpa_to_hva(struct partition *p, u64 gpa, u64 len);
/* The same, unmarked: for reads, and for writes while the partition boots (a reset makes
 * every snapshot copy all of memory back). */
void *part_gpa_peek(struct partition *p, u64 gpa, u64 len);

#endif
