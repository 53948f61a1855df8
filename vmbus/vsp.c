/*
 * The VSP door (vmbus/vsp.h): a partition's VSP instances, the services
 * they get, and their console commands. The orders vsp.h states are kept
 * here and nowhere else.
 */
#include "vmbus/part.h"
#include "vmbus/vmbus.h"
#include "kernel/arch.h"
#include "kernel/con.h"
#include "kernel/ext.h"
#include "kernel/log.h"
#include "kernel/part.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define KNOWN_MAX	 96
#define VSP_COMMANDS_MAX 32 /* console commands of all VSPs (6 today); the rest are not shown */

extern const struct vsp_type __start_vsp_types[] __attribute__((weak));
extern const struct vsp_type __stop_vsp_types[] __attribute__((weak));
extern const struct vsp_module __start_vsp_mods[] __attribute__((weak));
extern const struct vsp_module __stop_vsp_mods[] __attribute__((weak));
extern const struct vsp_command __start_vsp_cmds[] __attribute__((weak));
extern const struct vsp_command __stop_vsp_cmds[] __attribute__((weak));

/* A vsp_alloc block: the header, then the caller's bytes. */
struct vsp_block {
	struct vsp_block *next, **prev;
	size_t size;
	u8 data[] __aligned(16);
};

/* ---- the instance ---- */

void *vsp_state(struct vsp *v)
{
	return v->state;
}

struct vmb_bus *vsp_bus(struct vsp *v)
{
	return v->owner->bus;
}

const char *vsp_partition_name(const struct vsp *v)
{
	return v->owner->part->name;
}

unsigned vsp_partition_index(const struct vsp *v)
{
	return v->owner->part->id;
}

/* ---- memory ---- */

void *vsp_alloc(struct vsp *v, size_t size)
{
	struct vmbus_part *vp = v->owner;
	struct vsp_block *b;

	if (size > VSP_MEM_MAX || vp->vsp_bytes + size > VSP_MEM_MAX)
		return NULL;
	b = pool_zalloc(&vp->part->pool, sizeof(*b) + size);
	if (!b)
		return NULL;
	b->size = size;
	b->next = v->blocks;
	b->prev = &v->blocks;
	if (v->blocks)
		v->blocks->prev = &b->next;
	v->blocks = b;
	vp->vsp_bytes += size;
	return b->data;
}

void vsp_free(struct vsp *v, void *ptr)
{
	struct vsp_block *b;

	if (!ptr)
		return;
	b = (struct vsp_block *)((u8 *)ptr - offsetof(struct vsp_block, data));
	*b->prev = b->next;
	if (b->next)
		b->next->prev = b->prev;
	v->owner->vsp_bytes -= b->size;
	pool_free(&v->owner->part->pool, b);
}

/* ---- time and work ---- */

u64 vsp_now_ns(void)
{
	u64 tsc = arch_rdtsc(), hz = arch_tsc_hz();

	/* Without 128-bit math: (tsc % hz) * 10^9 fits while hz < 18 GHz. */
	return tsc / hz * 1000000000ull + tsc % hz * 1000000000ull / hz;
}

u64 vsp_ref_time(const struct vsp *v)
{
	return hv_clock_ref(&v->owner->part->hv.clock, arch_rdtsc());
}

void vsp_timer_at(struct vsp *v, u64 at_ns)
{
	v->timer_on = true;
	v->timer_at_ns = at_ns;
}

void vsp_defer(struct vsp *v)
{
	v->deferred = true;
}

enum vsp_run_state vsp_run_state(const struct vsp *v)
{
	switch (v->owner->part->state) {
	case PART_RUNNING:
		return VSP_RUNNING;
	case PART_PAUSED:
		return VSP_PAUSED;
	case PART_STOPPED:
		return VSP_STOPPED;
	case PART_HALTED:
		return VSP_HALTED;
	}
	return VSP_STOPPED;
}

/* ---- messages ---- */

void vsp_log(const struct vsp *v, const char *fmt, ...)
{
	va_list ap;

	kprintf("%s: partition %s: ", v->type->name, vsp_partition_name(v));
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
}

void vsp_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap); /* what con_printf does */
	va_end(ap);
}

/* ---- configuration and files ---- */

const char *vsp_config(const struct vsp *v, const char *key)
{
	const struct cfg_partition *c = v->owner->part->cfg;
	const struct cfg_value *val = c ? cfg_get(&c->values, key) : NULL;

	return val ? val->text : NULL;
}

const void *vsp_file(const struct vsp *v, const char *key, u64 *size)
{
	const struct cfg_partition *c = v->owner->part->cfg;
	const struct cfg_value *val = c ? cfg_get(&c->values, key) : NULL;

	*size = 0;
	if (!val || !(val->key->k.flags & BOOT_CFG_KEY_FILE))
		return NULL;
	return boot_file_data(val->text, size);
}

/* ---- hypervisor-wide modules ---- */

static const struct cfg *boot_cfg; /* the parsed configuration, from vsp_boot_all on */

int vsp_boot_all(const struct cfg *cfg, char *err, size_t errlen)
{
	char why[CFG_ERR_MAX];

	boot_cfg = cfg;
	for (const struct vsp_module *m = __start_vsp_mods; m < __stop_vsp_mods; m++) {
		why[0] = 0;
		if (m->boot && m->boot(why, sizeof(why))) {
			snprintf(err, errlen, "%s: %s", m->name, why[0] ? why : "failed");
			return -1;
		}
	}
	return 0;
}

static const struct cfg_section *find_section(const char *word, const char *name)
{
	for (unsigned i = 0; boot_cfg && i < boot_cfg->nr_sections; i++)
		if (!strcmp(boot_cfg->sections[i].word, word) &&
		    !strcmp(boot_cfg->sections[i].name, name))
			return &boot_cfg->sections[i];
	return NULL;
}

const char *vsp_section_name(const char *word, unsigned i)
{
	for (unsigned k = 0; boot_cfg && k < boot_cfg->nr_sections; k++)
		if (!strcmp(boot_cfg->sections[k].word, word) && !i--)
			return boot_cfg->sections[k].name;
	return NULL;
}

const struct cfg_value *vsp_section_value(const char *word, const char *name, const char *key)
{
	const struct cfg_section *s = find_section(word, name);

	return s ? cfg_get(&s->values, key) : NULL;
}

/* ---- instances of a partition ---- */

static const struct vsp_type *find_type(const char *name)
{
	for (const struct vsp_type *t = __start_vsp_types; t < __stop_vsp_types; t++)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

static void known_types(char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (const struct vsp_type *t = __start_vsp_types; t < __stop_vsp_types; t++) {
		int n = snprintf(buf + at, len - at, "%s%s", at ? ", " : "", t->name);

		if (n < 0 || (size_t)n >= len - at)
			break;
		at += (size_t)n;
	}
	if (!at)
		snprintf(buf, len, "none");
}

static void vsp_free_instance(struct vsp *v)
{
	while (v->blocks)
		vsp_free(v, v->blocks->data);
	pool_free(&v->owner->part->pool, v->state);
	memset(v, 0, sizeof(*v));
}

static bool listed(const struct cfg_value *list, const char *name)
{
	for (unsigned i = 0; list && i < list->nr_items; i++)
		if (!strcmp(list->items[i], name))
			return true;
	return false;
}

/* A type made because the partition sets its when_key, and not already named in the list. */
static bool keyed(const struct vsp_type *t, const struct cfg_partition *c,
		  const struct cfg_value *list)
{
	return t->when_key && c && cfg_get(&c->values, t->when_key) && !listed(list, t->name);
}

bool vsp_wanted(const struct cfg_partition *c)
{
	if (cfg_get(&c->values, "vmbus"))
		return true;
	for (const struct vsp_type *t = __start_vsp_types; t < __stop_vsp_types; t++)
		if (keyed(t, c, NULL))
			return true;
	return false;
}

static int vsp_create_one(struct vmbus_part *vp, const struct vsp_type *type, char *err,
			  size_t errlen)
{
	char why[CFG_ERR_MAX];
	struct vsp *v;

	if (vp->nr_vsps == ARRAY_SIZE(vp->vsps)) {
		snprintf(err, errlen, "vmbus: more than %u VSPs", (unsigned)ARRAY_SIZE(vp->vsps));
		return -1;
	}
	v = &vp->vsps[vp->nr_vsps];
	v->type = type;
	v->owner = vp;
	v->state = pool_zalloc(&vp->part->pool, type->state_size ? type->state_size : 1);
	why[0] = 0;
	if (!v->state) {
		memset(v, 0, sizeof(*v));
		snprintf(err, errlen, "vmbus: VSP '%s': out of memory", type->name);
		return -1;
	}
	if (type->create(v, why, sizeof(why))) {
		snprintf(err, errlen, "vmbus: VSP '%s': %s", type->name, why[0] ? why : "failed");
		vsp_free_instance(v); /* its create undid itself: no destroy */
		return -1;
	}
	vp->nr_vsps++; /* made: destroy_all undoes it */
	return 0;
}

int vsp_create_all(struct vmbus_part *vp, const struct cfg_value *list, char *err, size_t errlen)
{
	char known[KNOWN_MAX];
	const struct cfg_partition *c = vp->part->cfg;
	const unsigned n = list ? MIN(list->nr_items, (unsigned)ARRAY_SIZE(vp->vsps)) : 0;

	/* Every name first: nothing is made for a list that names an unknown VSP. */
	for (unsigned i = 0; i < n; i++) {
		if (!find_type(list->items[i])) {
			known_types(known, sizeof(known));
			snprintf(err, errlen, "vmbus: unknown VSP '%s' (known: %s)", list->items[i],
				 known);
			return -1;
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (vsp_create_one(vp, find_type(list->items[i]), err, errlen))
			goto fail;
	for (const struct vsp_type *t = __start_vsp_types; t < __stop_vsp_types; t++)
		if (keyed(t, c, list) && vsp_create_one(vp, t, err, errlen))
			goto fail;
	return 0;
fail:
	vsp_destroy_all(vp);
	return -1;
}

void vsp_destroy_all(struct vmbus_part *vp)
{
	while (vp->nr_vsps) {
		struct vsp *v = &vp->vsps[--vp->nr_vsps];

		if (v->type->destroy)
			v->type->destroy(v);
		vsp_free_instance(v);
	}
}

void vsp_reset_all(struct vmbus_part *vp)
{
	for (unsigned i = 0; i < vp->nr_vsps; i++) {
		struct vsp *v = &vp->vsps[i];

		if (v->type->reset)
			v->type->reset(v);
	}
}

void vsp_work_all(struct vmbus_part *vp)
{
	u64 now = 0;

	for (unsigned i = 0; i < vp->nr_vsps; i++) {
		struct vsp *v = &vp->vsps[i];

		if (v->timer_on && !now)
			now = vsp_now_ns();
		if (v->timer_on && now >= v->timer_at_ns) {
			v->timer_on = false;
			v->deferred = true;
		}
		if (!v->deferred)
			continue;
		v->deferred = false; /* work may defer again */
		if (v->type->work)
			v->type->work(v);
	}
}

/* ---- snapshots: each instance's own state ---- */

struct vsp_saved {
	const struct vsp_type *type;
	u32 size;
	u8 *bytes;
};

struct vsp_saved_all {
	struct pool *pool; /* the partition's, which it came from */
	unsigned nr;
	struct vsp_saved s[CFG_LIST_MAX];
};

void vsp_drop_all(void *state)
{
	struct vsp_saved_all *all = state;

	if (!all)
		return;
	for (unsigned i = 0; i < all->nr; i++)
		pool_free(all->pool, all->s[i].bytes);
	pool_free(all->pool, all);
}

static int vsp_save_one(struct vsp *v, struct vsp_saved *s, char *err, size_t errlen)
{
	u32 needed = 0;
	vmb_status st;

	s->type = v->type;
	if (!v->type->save)
		return 0;
	st = v->type->save(v, NULL, 0, &needed);
	if (st == VMB_STATUS_BUFFER_TOO_SMALL && needed) {
		s->bytes = pool_alloc(&v->owner->part->pool, needed);
		if (!s->bytes) {
			snprintf(err, errlen, "%s: out of memory", v->type->name);
			return -1;
		}
		st = v->type->save(v, s->bytes, needed, &needed);
	}
	if (st != VMB_STATUS_SUCCESS) {
		snprintf(err, errlen, "%s: its state cannot be saved (status 0x%08x)",
			 v->type->name, st);
		return -1;
	}
	s->size = needed;
	return 0;
}

void *vsp_save_all(struct vmbus_part *vp, char *err, size_t errlen)
{
	struct vsp_saved_all *all = pool_zalloc(&vp->part->pool, sizeof(*all));

	if (!all) {
		snprintf(err, errlen, "vmbus: out of memory");
		return NULL;
	}
	all->pool = &vp->part->pool;
	for (; all->nr < vp->nr_vsps; all->nr++) {
		if (vsp_save_one(&vp->vsps[all->nr], &all->s[all->nr], err, errlen)) {
			all->nr++; /* its buffer, if any, is freed with the rest */
			vsp_drop_all(all);
			return NULL;
		}
	}
	return all;
}

/* Everything checked, nothing changed: the same instances, and each one's state acceptable. */
int vsp_check_all(struct vmbus_part *vp, const void *state, char *err, size_t errlen)
{
	const struct vsp_saved_all *all = state;

	if (!all || all->nr != vp->nr_vsps) {
		snprintf(err, errlen, "vmbus: the snapshot has other VSPs");
		return -1;
	}
	for (unsigned i = 0; i < all->nr; i++) {
		if (all->s[i].type != vp->vsps[i].type) {
			snprintf(err, errlen, "vmbus: the snapshot has other VSPs");
			return -1;
		}
	}
	for (unsigned i = 0; i < all->nr; i++) {
		struct vsp *v = &vp->vsps[i];
		vmb_status st;

		if (!v->type->check)
			continue;
		st = v->type->check(v, all->s[i].bytes, all->s[i].size);
		if (st != VMB_STATUS_SUCCESS) {
			snprintf(err, errlen, "%s: its saved state is refused (status 0x%08x)",
				 v->type->name, st);
			return -1;
		}
	}
	return 0;
}

/* After vsp_check_all passed and the channels are back: a failure here is not a check's. */
int vsp_restore_all(struct vmbus_part *vp, const void *state, char *err, size_t errlen)
{
	const struct vsp_saved_all *all = state;
	int rc = 0;

	if (vsp_check_all(vp, state, err, errlen))
		return -1;
	/* Every instance gets its state back even if one fails: none is left half-way. */
	for (unsigned i = 0; i < all->nr; i++) {
		struct vsp *v = &vp->vsps[i];
		vmb_status st;

		if (!v->type->restore)
			continue;
		st = v->type->restore(v, all->s[i].bytes, all->s[i].size);
		if (st != VMB_STATUS_SUCCESS && !rc) {
			snprintf(err, errlen, "%s: its saved state is refused (status 0x%08x)",
				 v->type->name, st);
			rc = -1;
		}
	}
	return rc;
}

/* ---- console commands ---- */

static const struct vsp_command *find_vsp_command(const char *name)
{
	for (const struct vsp_command *c = __start_vsp_cmds; c < __stop_vsp_cmds; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* The instance of type `name` on partition p's bus, or NULL. */
static struct vsp *vsp_of_partition(struct partition *p, const char *name)
{
	struct vmbus_part *vp = p->vmbus;

	for (unsigned i = 0; vp && i < vp->nr_vsps; i++)
		if (!strcmp(vp->vsps[i].type->name, name))
			return &vp->vsps[i];
	return NULL;
}

static void run_vsp_command(int argc, char **argv)
{
	const struct vsp_command *c = find_vsp_command(argv[0]);
	struct partition *p;
	struct vsp *v;

	if (!c)
		return;
	if (c->global) {
		if (argc < 2 || argc - 1 > c->max_args)
			con_printf("error: usage: %s\n", c->usage);
		else
			c->fn(NULL, argc, argv);
		return;
	}
	if (argc < 2 || argc - 2 > c->max_args) {
		con_printf("error: usage: %s\n", c->usage);
		return;
	}
	p = part_find(argv[1]);
	if (!p) {
		con_printf("error: no partition named '%s' (see 'list')\n", argv[1]);
		return;
	}
	v = vsp_of_partition(p, c->vsp);
	if (!v) {
		const struct vsp_type *t = find_type(c->vsp);

		/* A keyed type (netvsp's `nic =`) is made by its key, not by the vmbus list. */
		if (t && t->when_key)
			con_printf("error: partition %s has no %s (its section sets no `%s =`)\n",
				   p->name, c->device, t->when_key);
		else
			con_printf("error: partition %s has no %s (add `%s` to its vmbus list)\n",
				   p->name, c->device, c->vsp);
		return;
	}
	c->fn(v, argc, argv);
}

/* The console's view of them: a con_command each, made at the first look. */
static const struct con_command *vsp_command_get(unsigned i)
{
	static struct con_command table[VSP_COMMANDS_MAX];
	static unsigned nr;
	static bool made;

	if (!made) {
		for (const struct vsp_command *c = __start_vsp_cmds;
		     c < __stop_vsp_cmds && nr < ARRAY_SIZE(table); c++)
			table[nr++] = (struct con_command){c->name, run_vsp_command, c->help};
		made = true;
	}
	return i < nr ? &table[i] : NULL;
}

CON_SOURCE(vsp_commands) = {vsp_command_get};
