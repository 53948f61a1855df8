/*
 * kmain: from a prepared CPU to running partitions. Every failure here is a
 * one-line "error: " on the console, and the console is always reached.
 */
#include "arch.h"
#include "boot_info.h"
#include "con.h"
#include "ext.h"
#include "config.h"
#include "log.h"
#include "mitig.h"
#include "palloc.h"
#include "part.h"
#include "sched.h"

#include <stdio.h>
#include <string.h>

#define MAX_MANAGED_BYTES (64ull << 30)

const struct vp_ops *vp_ops;
static u8 frame_bitmap[MAX_MANAGED_BYTES / PAGE_SIZE / 8] __aligned(PAGE_SIZE);
static struct cfg config;

extern char __image_start[], __image_end[];

static const struct boot_info *boot;

static const struct boot_file *find_file(const struct boot_info *bi, const char *name)
{
	for (u32 i = 0; i < MIN(bi->nr_files, (u32)BOOT_MAX_FILES); i++)
		if (!strncmp(bi->files[i].name, name, BOOT_NAME_MAX))
			return &bi->files[i];
	return NULL;
}

static void memory_init(const struct boot_info *bi)
{
	u32 n = MIN(bi->nr_mem, (u32)BOOT_MAX_MEM);
	u64 need = palloc_bitmap_bytes(bi->mem, n);
	u64 free = palloc_init(bi->mem, n, (u64)__image_start, (u64)__image_end, frame_bitmap,
			       MIN(need, sizeof(frame_bitmap)));

	kprintf("bulkhead: %llu MiB free for partitions\n", (unsigned long long)(free >> 8));
}

static const struct boot_file *config_file(const struct boot_info *bi)
{
	const struct boot_file *f = bi->cfg_name[0] ? find_file(bi, bi->cfg_name) : NULL;

	if (!f || f->missing || !f->addr) {
		kprintf("error: bulkhead.cfg: not found on the ESP; no partitions started\n");
		return NULL;
	}
	return f;
}

const void *boot_file_data(const char *name, u64 *size)
{
	const struct boot_file *f = boot ? find_file(boot, name) : NULL;

	if (!f || f->missing || !f->addr) {
		*size = 0;
		return NULL;
	}
	*size = f->size;
	return (const void *)f->addr;
}

/* The loaded file a config key names, or NULL after saying which is missing. */
static const struct boot_file *named_file(const struct boot_info *bi, const char *cfg_name,
					  const struct cfg_partition *c, const char *path,
					  unsigned line, const char *key)
{
	const struct boot_file *f = find_file(bi, path);

	if (!f || f->missing || !f->addr) {
		kprintf("error: %s:%u: %s: file '%s' not found on the ESP; partition %s not "
			"started\n",
			cfg_name, line, key, path, c->name);
		return NULL;
	}
	return f;
}

/* Every file the partition's declared keys name is there. */
static bool declared_files_present(const struct boot_info *bi, const char *cfg_name,
				   const struct cfg_partition *c)
{
	for (unsigned i = 0; i < c->values.nr; i++) {
		const struct cfg_value *v = &c->values.v[i];

		if ((v->key->k.flags & BOOT_CFG_KEY_FILE) &&
		    !named_file(bi, cfg_name, c, v->text, v->line, v->key->k.name))
			return false;
	}
	return true;
}

static void start_partition(const struct boot_info *bi, const char *cfg_name,
			    const struct cfg_partition *c)
{
	char err[CFG_ERR_MAX];
	const struct boot_file *img, *initrd = NULL;
	bool is_linux = c->kernel.path[0];

	img = is_linux ? named_file(bi, cfg_name, c, c->kernel.path, c->kernel.line, "kernel")
		       : named_file(bi, cfg_name, c, c->image.path, c->image.line, "image");
	if (!img)
		return;
	if (is_linux && c->initrd.path[0]) {
		initrd = named_file(bi, cfg_name, c, c->initrd.path, c->initrd.line, "initrd");
		if (!initrd)
			return;
	}
	if (!declared_files_present(bi, cfg_name, c))
		return;
	struct partition *p = &partitions[nr_partitions];
	if (part_create(p, c, (const void *)img->addr, img->size,
			initrd ? (const void *)initrd->addr : NULL, initrd ? initrd->size : 0, err,
			sizeof(err))) {
		kprintf("error: %s:%u: partition %s not started: %s\n", cfg_name, c->line, c->name,
			err);
		return;
	}
	nr_partitions++;
	if (is_linux)
		kprintf(
		    "partition %s started: %llu MiB, Linux %s (%llu bytes), initrd %llu bytes\n",
		    p->name, (unsigned long long)(p->mem_size >> 20), c->kernel.path,
		    (unsigned long long)img->size, (unsigned long long)p->initrd_size);
	else
		kprintf("partition %s started: %llu MiB, image %s (%llu bytes) at 0x%llx\n",
			p->name, (unsigned long long)(p->mem_size >> 20), c->image.path,
			(unsigned long long)img->size, (unsigned long long)c->load);
}

static void partitions_init(const struct boot_info *bi)
{
	const struct boot_file *f = config_file(bi);
	char err[CFG_ERR_MAX];

	if (!f)
		return;
	if (cfg_parse((const char *)f->addr, f->size, bi->cfg_name, &config, err, sizeof(err))) {
		kprintf("error: %s; no partitions started\n", err);
		return;
	}
	for_each_part_ext(x)
	{
		if (x->boot && x->boot(&config, err, sizeof(err))) {
			kprintf("error: %s; no partitions started\n", err);
			return;
		}
	}
	for (unsigned i = 0; i < config.nr; i++)
		start_partition(bi, bi->cfg_name, &config.part[i]);
}

void kmain(struct boot_info *bi)
{
	const char *why = NULL;

	boot = bi;
	memory_init(bi);
	vp_ops = vp_probe(&why);
	if (!vp_ops) {
		kprintf("error: no usable virtualization: %s\n", why);
	} else if (vp_ops->cpu_enable()) {
		kprintf("error: cannot enable %s; no partitions started\n", vp_ops->name);
		vp_ops = NULL;
	} else {
		kprintf("bulkhead: using %s\n", vp_ops->name);
		mitig_init();
		partitions_init(bi);
	}
	con_init();
	sched_loop();
}
