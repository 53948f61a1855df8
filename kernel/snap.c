/*
 * Snapshots of a partition in memory slots (docs/architecture.md "Snapshots"): guest
 * RAM, the VP (registers, x87/SSE, pending event), the platform devices
 * (local APIC, IOAPIC, UART, the Hyper-V state with SynIC and timers, ACPI
 * PM1) and, through the extension hooks (ext.h), the VMBus server with
 * every channel. Taken and restored between exits, from the console. The
 * VP and the devices are kept as saved-state records (snap_state.h, with
 * its growth rule), the bytes export will write; a restore reads and checks
 * every record of every layer before it changes anything, and a new
 * snapshot is checked the same way so that none is kept that a restore
 * would refuse.
 *
 * Restores copy back only what changed since the snapshot (docs/architecture.md): the
 * first snapshot write-protects guest RAM in the EPT/NPT, each first write
 * to a page after that faults once, marks the page dirty in every slot and
 * makes it writable again; pages the hypervisor itself has pointers into
 * (rings, SynIC pages: part.c host_seen) are always copied, and a reset or
 * a failure to protect makes a slot copy everything.
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
#include "snap_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_SLOTS   4
#define SNAP_EXT_MAX 4 /* extensions with snapshot hooks */

/* The device records (snap_state.h) of a snapshot, headers included. */
#define SNAP_DEV_MAX                                                                               \
	(8 * sizeof(struct snap_rec_header) + sizeof(struct part_saved) +                          \
	 sizeof(struct vp_saved) + sizeof(struct vlapic_saved) + sizeof(struct vioapic_saved) +    \
	 sizeof(struct hv_saved) + sizeof(struct synic_saved) + sizeof(struct uart_saved) +        \
	 sizeof(struct pm1_saved))

struct snap {
	u64 pages;	       /* guest pages, as p->mem_size */
	u64 *dirty;	       /* bitmap: pages written since it was taken (or last restored) */
	bool all_dirty;	       /* every page may differ: a reset, or tracking failed */
	u64 *copy;	       /* the host frame holding each page's copy */
	u64 copy_pages;	       /* pages of the copy array itself */
	u64 taken_us;	       /* arch_time_us() when taken */
	enum part_state state; /* for the console; the partition record has it too */
	u32 dev_len;
	u8 dev[SNAP_DEV_MAX];	 /* the VP, the platform devices and the partition, as records */
	void *ext[SNAP_EXT_MAX]; /* each extension's state, in for_each_part_ext order */
};

static struct snap *slots[PART_MAX][SNAP_SLOTS];

/* Write tracking of a partition, on from its first snapshot. */
struct snap_track {
	bool on;
	u64 *writable; /* bitmap: pages mapped writable again since the last protect */
};
static struct snap_track tracks[PART_MAX];

static bool bm_test(const u64 *bm, u64 i)
{
	return bm[i / 64] >> (i % 64) & 1;
}

static void bm_set(u64 *bm, u64 i)
{
	bm[i / 64] |= 1ull << (i % 64);
}

static u64 *bm_alloc(const struct partition *p)
{
	u64 *bm = (u64 *)palloc_alloc_contig(part_bitmap_pages(p), PAGE_SIZE);

	if (bm)
		memset(bm, 0, part_bitmap_pages(p) << PAGE_SHIFT);
	return bm;
}

/* Map guest page i (and its reset-vector alias) writable or read-only. */
static int page_map(struct partition *p, u64 i, bool writable)
{
	unsigned prot = PT_R | PT_X | (writable ? PT_W : 0);
	u64 gpa = i << PAGE_SHIFT;

	if (pt_map(&p->gpt, gpa, p->frames[i], PAGE_SIZE, prot, true))
		return -1;
	if (gpa >= BIOS_ALIAS_GPA && gpa < BIOS_ALIAS_GPA + BIOS_ALIAS_SIZE &&
	    p->mem_size >= BIOS_ALIAS_GPA + BIOS_ALIAS_SIZE)
		return pt_map(&p->gpt, RESET_ALIAS_GPA + (gpa - BIOS_ALIAS_GPA), p->frames[i],
			      PAGE_SIZE, prot, true);
	return 0;
}

static void all_slots_dirty(struct partition *p)
{
	for (unsigned k = 0; k < SNAP_SLOTS; k++)
		if (slots[p->id][k])
			slots[p->id][k]->all_dirty = true;
}

/*
 * Writes from now on are tracked: every page (the first time) or every page
 * made writable since, read-only again. A failure leaves tracking off, and
 * every slot copies all of memory back.
 */
static void protect(struct partition *p)
{
	struct snap_track *t = &tracks[p->id];
	u64 pages = p->mem_size >> PAGE_SHIFT;
	bool first = !t->on;

	if (first) {
		t->writable = bm_alloc(p);
		if (!t->writable)
			goto fail;
	}
	for (u64 i = 0; i < pages; i++) {
		if (!first && !bm_test(t->writable, i))
			continue;
		if (page_map(p, i, false))
			goto fail;
	}
	memset(t->writable, 0, part_bitmap_pages(p) << PAGE_SHIFT);
	t->on = true;
	p->gpt_gen++;
	return;
fail:
	/* Whatever is read-only now must come back writable, untracked. */
	for (u64 i = 0; i < pages; i++)
		page_map(p, i, true);
	p->gpt_gen++;
	if (t->writable)
		palloc_free_contig((u64)t->writable, part_bitmap_pages(p));
	t->writable = NULL;
	t->on = false;
	all_slots_dirty(p);
}

bool snap_write_fault(struct partition *p, u64 gpa)
{
	struct snap_track *t = &tracks[p->id];
	u64 i;

	if (!t->on)
		return false;
	/* The alias exists only over RAM at 0xF0000 (part.c); elsewhere not RAM: no write of ours.
	 */
	if (gpa >= RESET_ALIAS_GPA && gpa < RESET_ALIAS_GPA + BIOS_ALIAS_SIZE &&
	    p->mem_size >= BIOS_ALIAS_GPA + BIOS_ALIAS_SIZE)
		gpa = BIOS_ALIAS_GPA + (gpa - RESET_ALIAS_GPA);
	if (gpa >= p->mem_size)
		return false;
	i = gpa >> PAGE_SHIFT;
	if (bm_test(t->writable, i)) {
		p->gpt_gen++; /* writable already: a stale read-only translation in the TLB */
		return true;
	}
	for (unsigned k = 0; k < SNAP_SLOTS; k++)
		if (slots[p->id][k])
			bm_set(slots[p->id][k]->dirty, i);
	bm_set(t->writable, i);
	if (page_map(p, i, true)) /* the page is split already: no allocation */
		part_stop(p, "snapshot: cannot map gpa=0x%llx writable again",
			  (unsigned long long)gpa);
	return true;
}

/* A reset rewrote all of memory behind the tracking. */
static void snap_on_reset(struct partition *p)
{
	all_slots_dirty(p);
}

PART_EXT(snap_ext) = {.name = "snap", .reset = snap_on_reset};

/* ---- device records (snap_state.h) ---- */

/* One set of records and one of devices, between exits on the one CPU: too big for a stack. */
static struct {
	struct part_saved part;
	struct vp_saved vp;
	struct vlapic_saved lapic;
	struct vioapic_saved ioapic;
	struct hv_saved hv;
	struct synic_saved synic;
	struct uart_saved uart;
	struct pm1_saved pm1;
} rec;

/* Devices as a restore rebuilds them: copies of the running ones with the records loaded. */
static struct {
	struct vp_state vp;
	u8 fpu[VP_FPU_SIZE];
	struct vlapic lapic;
	struct vioapic ioapic;
	struct hv hv;
	struct uart uart;
	u16 pm1_cnt, pm1_en;
	unsigned state;
	bool idle;
} scratch;

static const struct snap_rec_type *const rec_types[] = {
    &snap_rec_part, &snap_rec_vp,    &snap_rec_lapic, &snap_rec_ioapic,
    &snap_rec_hv,   &snap_rec_synic, &snap_rec_uart,  &snap_rec_pm1,
};
static void *const rec_bodies[] = {&rec.part, &rec.vp,	  &rec.lapic, &rec.ioapic,
				   &rec.hv,   &rec.synic, &rec.uart,  &rec.pm1};
_Static_assert(ARRAY_SIZE(rec_types) == ARRAY_SIZE(rec_bodies), "a body per record type");

/* The VP and the devices into s->dev; -1 with a reason. */
static int save_devices(struct partition *p, struct snap *s, char *err, size_t errlen)
{
	vp_ops->vp_save(&p->vp, &scratch.vp);
	sched_fpu_flush(p);
	vp_state_save(&scratch.vp, p->vp.fpu, &rec.vp);
	part_state_save(p->state, p->idle, &rec.part);
	vlapic_save(&p->lapic, &rec.lapic);
	vioapic_save(&p->ioapic, &rec.ioapic);
	hv_save(&p->hv, &rec.hv);
	synic_save(&p->hv.synic, &rec.synic);
	uart_save(&p->uart, &rec.uart);
	pm1_save(p->pm1_cnt, p->pm1_en, &rec.pm1);
	s->dev_len = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(rec_types); i++) {
		if (snap_rec_put(s->dev, sizeof(s->dev), &s->dev_len, rec_types[i],
				 rec_bodies[i])) {
			snprintf(err, errlen, "no room for the %s record", rec_types[i]->name);
			return -1; /* SNAP_DEV_MAX is wrong */
		}
	}
	s->state = p->state;
	return 0;
}

/* Every record read and checked into scratch; the partition is not touched. */
static int load_devices(struct partition *p, const struct snap *s, char *err, size_t errlen)
{
	if (snap_recs_parse(s->dev, s->dev_len, rec_types, rec_bodies, ARRAY_SIZE(rec_types), err,
			    errlen))
		return -1;
	scratch.lapic = p->lapic;
	scratch.ioapic = p->ioapic;
	scratch.hv = p->hv;
	scratch.uart = p->uart;
	if (part_state_load(&rec.part, &scratch.state, &scratch.idle, err, errlen) ||
	    vp_state_load(&rec.vp, &scratch.vp, scratch.fpu, err, errlen) ||
	    vlapic_load(&scratch.lapic, &rec.lapic, err, errlen) ||
	    vioapic_load(&scratch.ioapic, &rec.ioapic, err, errlen) ||
	    hv_load(&scratch.hv, &rec.hv, err, errlen) ||
	    synic_load(&scratch.hv.synic, &rec.synic, err, errlen) ||
	    uart_load(&scratch.uart, &rec.uart, err, errlen) ||
	    pm1_load(&rec.pm1, &scratch.pm1_cnt, &scratch.pm1_en, err, errlen))
		return -1;
	return 0;
}

static u64 snap_struct_pages(void)
{
	return ALIGN_UP(sizeof(struct snap), PAGE_SIZE) >> PAGE_SHIFT;
}

static void snap_free(const struct partition *p, struct snap *s)
{
	unsigned e = 0;

	if (!s)
		return;
	for_each_part_ext(x)
	{
		if (x->snap_save && e < SNAP_EXT_MAX) {
			if (s->ext[e] && x->snap_drop)
				x->snap_drop(s->ext[e]);
			e++;
		}
	}
	if (s->dirty)
		palloc_free_contig((u64)s->dirty, part_bitmap_pages(p));
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

	for_each_part_ext(x)
	{
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

/*
 * Everything a restore of s would check, against p as it is now; nothing
 * changes (the device records go into scratch, which only a restore applies).
 */
static int snap_check(struct partition *p, const struct snap *s, char *err, size_t errlen)
{
	unsigned e = 0;

	if (s->pages != p->mem_size >> PAGE_SHIFT) {
		snprintf(err, errlen, "the snapshot has %llu pages, the partition %llu",
			 (unsigned long long)s->pages,
			 (unsigned long long)(p->mem_size >> PAGE_SHIFT));
		return -1;
	}
	if (load_devices(p, s, err, errlen))
		return -1;
	for_each_part_ext(x)
	{
		if (!x->snap_save)
			continue;
		if (x->snap_check && x->snap_check(p, s->ext[e], err, errlen))
			return -1;
		e++;
	}
	return 0;
}

/* A new snapshot of p, or NULL with a reason. */
static struct snap *snap_take(struct partition *p, char *err, size_t errlen)
{
	u64 pages = p->mem_size >> PAGE_SHIFT;
	u64 copy_pages = ALIGN_UP(pages * sizeof(u64), PAGE_SIZE) >> PAGE_SHIFT;
	u64 need = pages + copy_pages + snap_struct_pages() + part_bitmap_pages(p);
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
	s->copy_pages = copy_pages;
	s->copy = (u64 *)palloc_alloc_contig(copy_pages, PAGE_SIZE);
	if (!s->copy)
		goto oom;
	memset(s->copy, 0, s->copy_pages << PAGE_SHIFT);
	s->dirty = bm_alloc(p);
	if (!s->dirty)
		goto oom;
	for (u64 i = 0; i < pages; i++) {
		s->copy[i] = palloc_alloc();
		if (!s->copy[i])
			goto oom;
		memcpy(phys_to_virt(s->copy[i]), phys_to_virt(p->frames[i]), PAGE_SIZE);
	}
	/* The VP and devices of the same instant as memory: saving the VMBus restarts its
	 * channels, whose VSPs may signal the guest at once. */
	if (save_devices(p, s, err, errlen) || snap_ext_save(p, s, err, errlen)) {
		snap_free(p, s);
		return NULL;
	}
	/* A guest can fill what is saved beyond what a restore takes: refused now, not then. */
	if (snap_check(p, s, err, errlen)) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, " (it could not be restored)");
		snap_free(p, s);
		return NULL;
	}
	s->taken_us = arch_time_us();
	return s;
oom:
	snap_free(p, s);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/* Guest memory as it was when s was taken; the pages copied. */
static u64 put_back_memory(struct partition *p, struct snap *s)
{
	u64 words = ALIGN_UP(s->pages, 64) / 64, copied = 0;

	for (u64 i = 0; i < s->pages; i++) {
		if (!s->all_dirty && !bm_test(s->dirty, i) && !bm_test(p->host_seen, i))
			continue;
		memcpy(phys_to_virt(p->frames[i]), phys_to_virt(s->copy[i]), PAGE_SIZE);
		copied++;
	}
	/* What this changed, the other slots now differ in too. */
	for (unsigned k = 0; k < SNAP_SLOTS; k++) {
		struct snap *o = slots[p->id][k];

		if (!o || o == s)
			continue;
		o->all_dirty |= s->all_dirty;
		for (u64 w = 0; w < words && !o->all_dirty; w++)
			o->dirty[w] |= s->dirty[w]; /* host_seen pages are copied anyway */
	}
	memset(s->dirty, 0, words * sizeof(u64));
	s->all_dirty = false;
	protect(p); /* and a TLB flush: the guest's cached translations are of other tables */
	return copied;
}

/*
 * p as it was when s was taken. Two phases: every record of every layer is
 * checked (the devices, the VP, each extension: the VMBus bus, channels and
 * VSPs) before anything changes; then it is applied, which fails only if
 * host memory runs out (and then stops the partition).
 */
static int snap_put_back(struct partition *p, struct snap *s, u64 *copied, char *err, size_t errlen)
{
	unsigned e = 0;

	if (snap_check(p, s, err, errlen))
		return -1;
	*copied = put_back_memory(p, s);
	vp_ops->vp_load(&p->vp, &scratch.vp);
	memcpy(p->vp.fpu, scratch.fpu, sizeof(p->vp.fpu));
	sched_fpu_load(p);
	p->lapic = scratch.lapic;
	p->ioapic = scratch.ioapic;
	p->hv = scratch.hv;
	p->uart = scratch.uart;
	p->pm1_cnt = scratch.pm1_cnt;
	p->pm1_en = scratch.pm1_en;
	p->idle = scratch.idle;
	p->stop_reason[0] = 0;
	for_each_part_ext(x)
	{
		if (!x->snap_save)
			continue;
		if (x->snap_restore && x->snap_restore(p, s->ext[e], err, errlen)) {
			part_stop(p, "restore failed: %s", err);
			return -1;
		}
		e++;
	}
	p->state = (enum part_state)scratch.state;
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
	snap_free(p, slots[p->id][slot]);
	slots[p->id][slot] = s;
	protect(p); /* the new slot starts clean: writes from now on are tracked */
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
	u64 start, copied;

	if (!p)
		return;
	s = slots[p->id][slot];
	if (!s) {
		con_printf("error: partition %s has no snapshot in slot %u\n", p->name, slot);
		return;
	}
	start = arch_time_us();
	if (snap_put_back(p, s, &copied, err, sizeof(err))) {
		con_printf("error: restore of %s: %s\n", p->name, err);
		return;
	}
	con_printf("restored partition=%s slot=%u pages=%llu copied=%llu state=%s ms=%llu\n",
		   p->name, slot, (unsigned long long)s->pages, (unsigned long long)copied,
		   part_state_name(p->state),
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
	snap_free(p, slots[p->id][slot]);
	slots[p->id][slot] = NULL;
	con_printf("forgot partition=%s slot=%u free_pages=%llu\n", p->name, slot,
		   (unsigned long long)palloc_free_count());
}

CON_COMMAND(snapshot_cmd) = {
    "snapshot", cmd_snapshot,
    "snapshot P [SLOT]    save P (memory, VP, devices, VMBus) in SLOT (0-3)"};
CON_COMMAND(restore_cmd) = {"restore", cmd_restore,
			    "restore P [SLOT]     put P back as it was at that snapshot"};
CON_COMMAND(snapshots_cmd) = {"snapshots", cmd_snapshots,
			      "snapshots [P]        list the snapshots taken"};
CON_COMMAND(forget_cmd) = {"forget", cmd_forget,
			   "forget P [SLOT]      drop a snapshot, freeing its memory"};
