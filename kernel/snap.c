/*
 * Snapshots of a partition in memory slots (DESIGN.md "Snapshots"): guest
 * RAM, the VP (registers, x87/SSE, pending event), the platform devices
 * (local APIC, IOAPIC, UART, the Hyper-V state with SynIC and timers, ACPI
 * PM1) and, through the extension hooks (ext.h), the VMBus server with
 * every channel. Taken and restored between exits, from the console.
 *
 * Time is not rewound: the guest's TSC and reference time run on from the
 * host's, so after a restore the guest sees the time between snapshot and
 * restore as time it did not run (timers due meanwhile expire at once).
 */
#include "arch.h"
#include "con.h"
#include "ext.h"
#include "palloc.h"
#include "part.h"
#include "sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_SLOTS   4
#define SNAP_EXT_MAX 4 /* extensions with snapshot hooks */

struct snap {
	u64 pages;	  /* guest pages, as p->mem_size */
	u64 *copy;	  /* the host frame holding each page's copy */
	u64 copy_pages;	  /* pages of the copy array itself */
	u64 taken_us;	  /* arch_time_us() when taken */
	enum part_state state;
	bool idle;
	struct vp_state vp;
	u8 fpu[VP_FPU_SIZE] __aligned(16);
	struct vlapic lapic;
	struct vioapic ioapic;
	struct hv hv;
	struct uart uart;
	u16 pm1_cnt, pm1_en;
	void *ext[SNAP_EXT_MAX]; /* each extension's state, in for_each_part_ext order */
};

static struct snap *slots[PART_MAX][SNAP_SLOTS];

static u64 snap_struct_pages(void)
{
	return ALIGN_UP(sizeof(struct snap), PAGE_SIZE) >> PAGE_SHIFT;
}

static void snap_free(struct snap *s)
{
	unsigned e = 0;

	if (!s)
		return;
	for_each_part_ext(x) {
		if (x->snap_save && e < SNAP_EXT_MAX) {
			if (s->ext[e] && x->snap_drop)
				x->snap_drop(s->ext[e]);
			e++;
		}
	}
	if (s->copy) {
		for (u64 i = 0; i < s->pages; i++)
			if (s->copy[i])
				palloc_free(s->copy[i]);
		palloc_free_contig((u64)s->copy, s->copy_pages);
	}
	palloc_free_contig((u64)s, snap_struct_pages());
}

static int snap_ext_save(struct partition *p, struct snap *s, char *err, size_t errlen)
{
	unsigned e = 0;

	for_each_part_ext(x) {
		if (!x->snap_save)
			continue;
		if (e == SNAP_EXT_MAX) {
			snprintf(err, errlen, "too many devices with state (%s)", x->name);
			return -1;
		}
		err[0] = 0;
		s->ext[e] = x->snap_save(p, err, errlen);
		if (!s->ext[e] && err[0])
			return -1;
		e++;
	}
	return 0;
}

/* A new snapshot of p, or NULL with a reason. */
static struct snap *snap_take(struct partition *p, char *err, size_t errlen)
{
	u64 pages = p->mem_size >> PAGE_SHIFT;
	u64 need = pages + snap_struct_pages() + (ALIGN_UP(pages * sizeof(u64), PAGE_SIZE) >> PAGE_SHIFT);
	struct snap *s;

	if (palloc_free_count() < need) {
		snprintf(err, errlen, "out of memory: %llu pages needed, %llu free",
			 (unsigned long long)need, (unsigned long long)palloc_free_count());
		return NULL;
	}
	s = (struct snap *)palloc_alloc_contig(snap_struct_pages(), PAGE_SIZE);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->pages = pages;
	s->copy_pages = ALIGN_UP(pages * sizeof(u64), PAGE_SIZE) >> PAGE_SHIFT;
	s->copy = (u64 *)palloc_alloc_contig(s->copy_pages, PAGE_SIZE);
	if (!s->copy) {
		s->copy_pages = 0;
		goto oom;
	}
	memset(s->copy, 0, s->copy_pages << PAGE_SHIFT);
	for (u64 i = 0; i < pages; i++) {
		s->copy[i] = palloc_alloc();
		if (!s->copy[i])
			goto oom;
		memcpy(phys_to_virt(s->copy[i]), phys_to_virt(p->frames[i]), PAGE_SIZE);
	}
	if (snap_ext_save(p, s, err, errlen)) {
		snap_free(s);
		return NULL;
	}
	vp_ops->vp_save(&p->vp, &s->vp);
	sched_fpu_flush(p);
	memcpy(s->fpu, p->vp.fpu, sizeof(s->fpu));
	s->state = p->state;
	s->idle = p->idle;
	s->lapic = p->lapic;
	s->ioapic = p->ioapic;
	s->hv = p->hv;
	s->uart = p->uart;
	s->pm1_cnt = p->pm1_cnt;
	s->pm1_en = p->pm1_en;
	s->taken_us = arch_time_us();
	return s;
oom:
	snap_free(s);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/* p as it was when s was taken. */
static int snap_put_back(struct partition *p, const struct snap *s, char *err, size_t errlen)
{
	unsigned e = 0;
	struct uart now = p->uart;

	if (s->pages != p->mem_size >> PAGE_SHIFT) {
		snprintf(err, errlen, "the snapshot has %llu pages, the partition %llu",
			 (unsigned long long)s->pages,
			 (unsigned long long)(p->mem_size >> PAGE_SHIFT));
		return -1;
	}
	for (u64 i = 0; i < s->pages; i++)
		memcpy(phys_to_virt(p->frames[i]), phys_to_virt(s->copy[i]), PAGE_SIZE);
	p->gpt_gen++; /* the guest's cached translations are of other page tables */
	vp_ops->vp_load(&p->vp, &s->vp);
	memcpy(p->vp.fpu, s->fpu, sizeof(p->vp.fpu));
	sched_fpu_drop(p);
	p->lapic = s->lapic;
	p->ioapic = s->ioapic;
	p->hv = s->hv;
	p->uart = s->uart;
	/* What the console shows of the guest's output goes on where it is. */
	memcpy(p->uart.line, now.line, sizeof(now.line));
	p->uart.line_len = now.line_len;
	p->uart.tx_bytes = now.tx_bytes;
	p->pm1_cnt = s->pm1_cnt;
	p->pm1_en = s->pm1_en;
	p->idle = s->idle;
	p->stop_reason[0] = 0;
	for_each_part_ext(x) {
		if (!x->snap_save)
			continue;
		if (x->snap_restore && x->snap_restore(p, s->ext[e], err, errlen)) {
			part_stop(p, "restore failed: %s", err);
			return -1;
		}
		e++;
	}
	p->state = s->state;
	return 0;
}

/* ---- console ---- */

/* "P [SLOT]": the partition and slot, or NULL after an error line. */
static struct partition *snap_args(int argc, char **argv, const char *usage, unsigned *slot)
{
	struct partition *p;
	char *end;

	if (argc < 2 || argc > 3) {
		con_printf("error: usage: %s\n", usage);
		return NULL;
	}
	p = part_find(argv[1]);
	if (!p) {
		con_printf("error: no partition named '%s' (see 'list')\n", argv[1]);
		return NULL;
	}
	*slot = 0;
	if (argc == 3) {
		unsigned long n = strtoul(argv[2], &end, 10);

		if (!argv[2][0] || *end || n >= SNAP_SLOTS) {
			con_printf("error: slot '%s': want 0 to %u\n", argv[2], SNAP_SLOTS - 1);
			return NULL;
		}
		*slot = (unsigned)n;
	}
	return p;
}

static void cmd_snapshot(int argc, char **argv)
{
	char err[CFG_ERR_MAX];
	unsigned slot;
	struct partition *p = snap_args(argc, argv, "snapshot PARTITION [SLOT]", &slot);
	struct snap *s;
	u64 start;

	if (!p)
		return;
	if (p->state == PART_STOPPED) {
		con_printf("error: partition %s is stopped (%s): nothing to snapshot\n", p->name,
			   p->stop_reason[0] ? p->stop_reason : "killed");
		return;
	}
	start = arch_time_us();
	s = snap_take(p, err, sizeof(err));
	if (!s) {
		con_printf("error: snapshot of %s: %s\n", p->name, err);
		return;
	}
	snap_free(slots[p->id][slot]);
	slots[p->id][slot] = s;
	con_printf("snapshot partition=%s slot=%u pages=%llu state=%s ms=%llu\n", p->name, slot,
		   (unsigned long long)s->pages, part_state_name(s->state),
		   (unsigned long long)((arch_time_us() - start) / 1000));
}

static void cmd_restore(int argc, char **argv)
{
	char err[CFG_ERR_MAX];
	unsigned slot;
	struct partition *p = snap_args(argc, argv, "restore PARTITION [SLOT]", &slot);
	struct snap *s;
	u64 start;

	if (!p)
		return;
	s = slots[p->id][slot];
	if (!s) {
		con_printf("error: partition %s has no snapshot in slot %u\n", p->name, slot);
		return;
	}
	start = arch_time_us();
	if (snap_put_back(p, s, err, sizeof(err))) {
		con_printf("error: restore of %s: %s\n", p->name, err);
		return;
	}
	con_printf("restored partition=%s slot=%u pages=%llu state=%s ms=%llu\n", p->name, slot,
		   (unsigned long long)s->pages, part_state_name(p->state),
		   (unsigned long long)((arch_time_us() - start) / 1000));
}

static void cmd_snapshots(int argc, char **argv)
{
	unsigned n = 0;

	if (argc > 2) {
		con_printf("error: usage: snapshots [PARTITION]\n");
		return;
	}
	for (unsigned i = 0; i < nr_partitions; i++) {
		struct partition *p = &partitions[i];

		if (argc == 2 && strcmp(p->name, argv[1]))
			continue;
		for (unsigned k = 0; k < SNAP_SLOTS; k++) {
			const struct snap *s = slots[i][k];

			if (!s)
				continue;
			con_printf("snapshot partition=%s slot=%u pages=%llu state=%s age_s=%llu\n",
				   p->name, k, (unsigned long long)s->pages,
				   part_state_name(s->state),
				   (unsigned long long)((arch_time_us() - s->taken_us) / 1000000));
			n++;
		}
	}
	if (argc == 2 && !part_find(argv[1]))
		con_printf("error: no partition named '%s' (see 'list')\n", argv[1]);
	else if (!n)
		con_printf("no snapshots\n");
}

static void cmd_forget(int argc, char **argv)
{
	unsigned slot;
	struct partition *p = snap_args(argc, argv, "forget PARTITION [SLOT]", &slot);

	if (!p)
		return;
	if (!slots[p->id][slot]) {
		con_printf("error: partition %s has no snapshot in slot %u\n", p->name, slot);
		return;
	}
	snap_free(slots[p->id][slot]);
	slots[p->id][slot] = NULL;
	con_printf("forgot partition=%s slot=%u free_pages=%llu\n", p->name, slot,
		   (unsigned long long)palloc_free_count());
}

CON_COMMAND(snapshot_cmd) = {"snapshot", cmd_snapshot,
			     "snapshot P [SLOT]    save P (memory, VP, devices, VMBus) in SLOT (0-3)"};
CON_COMMAND(restore_cmd) = {"restore", cmd_restore,
			    "restore P [SLOT]     put P back as it was at that snapshot"};
CON_COMMAND(snapshots_cmd) = {"snapshots", cmd_snapshots,
			      "snapshots [P]        list the snapshots taken"};
CON_COMMAND(forget_cmd) = {"forget", cmd_forget,
			   "forget P [SLOT]      drop a snapshot, freeing its memory"};
