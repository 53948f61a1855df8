/* Partition life cycle: memory, image loading, reset and stop. */
#include "part.h"
#include "sched.h"
#include "arch.h"
#include "con.h"
#include "ext.h"
#include "irq.h"
#include "log.h"
#include "palloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define HUGE_SIZE   (2ull << 20)
#define HUGE_FRAMES (HUGE_SIZE / PAGE_SIZE)

struct partition partitions[PART_MAX];
unsigned nr_partitions;

const char *part_state_name(enum part_state s)
{
	static const char *const names[] = {"running", "paused", "stopped", "halted"};

	return s < ARRAY_SIZE(names) ? names[s] : "?";
}

struct partition *part_find(const char *name)
{
	for (unsigned i = 0; i < nr_partitions; i++)
		if (!strcmp(partitions[i].name, name))
			return &partitions[i];
	return NULL;
}

void *part_gpa_peek(struct partition *p, u64 gpa, u64 len)
{
	if (gpa >= p->mem_size || len > PAGE_SIZE - (gpa & ~PAGE_MASK))
		return NULL;
	return (u8 *)phys_to_virt(p->frames[gpa >> PAGE_SHIFT]) + (gpa & ~PAGE_MASK);
}

void *part_gpa_to_hva(struct partition *p, u64 gpa, u64 len)
{
	void *hva = part_gpa_peek(p, gpa, len);
	u64 page = gpa >> PAGE_SHIFT;

	/* The pointer may be kept (a ring) and written any time: snapshots copy this page. */
	if (hva)
		p->host_seen[page / 64] |= 1ull << (page % 64);
	return hva;
}

/* vp_guest.read: guest memory for arch/ (instruction fetch, PDPTEs); unmarked, as a read. */
static int part_read_guest(void *ctx, u64 gpa, void *buf, unsigned len)
{
	const void *src = part_gpa_peek(ctx, gpa, len);

	if (!src)
		return -1;
	memcpy(buf, src, len);
	return 0;
}

u64 part_bitmap_pages(const struct partition *p)
{
	return ALIGN_UP(ALIGN_UP(p->mem_size >> PAGE_SHIFT, 64) / 8, PAGE_SIZE) >> PAGE_SHIFT;
}

/* One line per 10 s at most (and once per reset): a guest could make this happen all the time. */
#define POOL_WARN_EVERY_S 10

static void part_pool_exhausted(struct pool *pool, size_t want, void *ctx)
{
	struct partition *p = ctx;
	u64 now = arch_rdtsc();

	if (p->pool_warned_tsc && now - p->pool_warned_tsc < POOL_WARN_EVERY_S * arch_tsc_hz())
		return;
	p->pool_warned_tsc = now ? now : 1;
	con_printf("partition %s: device memory exhausted (used %llu of %llu bytes)\n", p->name,
		   (unsigned long long)pool->used, (unsigned long long)pool->size);
}

static void part_free_memory(struct partition *p)
{
	u64 pages = p->mem_size >> PAGE_SHIFT;

	pool_release(&p->pool);

	if (p->gpt.root)
		pt_destroy(&p->gpt);
	if (!p->frames)
		return;
	for (u64 i = 0; i < pages; i++)
		if (p->frames[i])
			palloc_free(p->frames[i]);
	palloc_free_contig((u64)p->frames, ALIGN_UP(pages * sizeof(u64), PAGE_SIZE) >> PAGE_SHIFT);
	p->frames = NULL;
	if (p->host_seen)
		palloc_free_contig((u64)p->host_seen, part_bitmap_pages(p));
	p->host_seen = NULL;
}

/* Back guest RAM with host frames, 2 MiB at a time where the allocator can. */
static int part_alloc_memory(struct partition *p)
{
	u64 pages = p->mem_size >> PAGE_SHIFT;
	u64 array_pages = ALIGN_UP(pages * sizeof(u64), PAGE_SIZE) >> PAGE_SHIFT;

	p->frames = (u64 *)palloc_alloc_contig(array_pages, PAGE_SIZE);
	if (!p->frames)
		return -1;
	memset(p->frames, 0, array_pages << PAGE_SHIFT);
	p->host_seen = (u64 *)palloc_alloc_contig(part_bitmap_pages(p), PAGE_SIZE);
	if (!p->host_seen)
		return -1;
	memset(p->host_seen, 0, part_bitmap_pages(p) << PAGE_SHIFT);
	if (pt_init(&p->gpt, vp_ops->gpt_format))
		return -1;
	for (u64 gpa = 0; gpa < p->mem_size;) {
		u64 huge = 0;

		if (IS_ALIGNED(gpa, HUGE_SIZE) && p->mem_size - gpa >= HUGE_SIZE)
			huge = palloc_alloc_contig(HUGE_FRAMES, HUGE_SIZE);
		if (huge) {
			for (u64 i = 0; i < HUGE_FRAMES; i++)
				p->frames[(gpa >> PAGE_SHIFT) + i] = huge + i * PAGE_SIZE;
			if (pt_map(&p->gpt, gpa, huge, HUGE_SIZE, PT_R | PT_W | PT_X, false))
				return -1;
			gpa += HUGE_SIZE;
			continue;
		}
		u64 frame = palloc_alloc();
		if (!frame)
			return -1;
		p->frames[gpa >> PAGE_SHIFT] = frame;
		if (pt_map(&p->gpt, gpa, frame, PAGE_SIZE, PT_R | PT_W | PT_X, true))
			return -1;
		gpa += PAGE_SIZE;
	}
	if (p->mem_size >= BIOS_ALIAS_GPA + BIOS_ALIAS_SIZE) {
		for (u64 off = 0; off < BIOS_ALIAS_SIZE; off += PAGE_SIZE)
			if (pt_map(&p->gpt, RESET_ALIAS_GPA + off,
				   p->frames[(BIOS_ALIAS_GPA + off) >> PAGE_SHIFT], PAGE_SIZE,
				   PT_R | PT_W | PT_X, true))
				return -1;
	}
	p->gpt_gen++;
	return 0;
}

static void part_load_image(struct partition *p)
{
	for (u64 off = 0; off < p->image_size;) {
		u64 gpa = p->load + off;
		u64 chunk = MIN(PAGE_SIZE - (gpa & ~PAGE_MASK), p->image_size - off);

		memcpy(part_gpa_peek(p, gpa, chunk), (const u8 *)p->image + off, chunk);
		off += chunk;
	}
}

/* config.c refuses RAM that would cover the MMIO range: the I/O APIC is its lowest page. */
_Static_assert(CFG_RAM_END == VIOAPIC_BASE && VIOAPIC_BASE < VLAPIC_BASE_ADDR &&
		   VLAPIC_BASE_ADDR < RESET_ALIAS_GPA,
	       "guest RAM ends below the I/O APIC, the local APIC and the reset alias");

static void part_uart_tx(void *ctx, u8 c)
{
	con_guest_queue(ctx, c);
}

static void part_uart_irq(void *ctx, bool level)
{
	irq_set_line(ctx, IRQ_COM1, level);
}

/* Memory cleared, images loaded, the VP at its first instruction. */
static int part_boot(struct partition *p, char *err, size_t errlen)
{
	for (u64 i = 0; i < p->mem_size >> PAGE_SHIFT; i++)
		memset(phys_to_virt(p->frames[i]), 0, PAGE_SIZE);
	vp_ops->vp_reset(&p->vp, &p->reset);
	p->pm1_cnt = p->pm1_en = 0;
	if (p->is_linux)
		return part_linux_boot(p, err, errlen);
	part_load_image(p);
	return 0;
}

/* Boot the images and bring the devices to their reset state. */
static int part_start(struct partition *p, char *err, size_t errlen)
{
	if (part_boot(p, err, errlen))
		return -1;
	irq_init(p);
	hv_init(p, arch_rdtsc());
	p->idle = false;
	con_drain_guest(p, UART_OUT_SIZE); /* what it wrote before the reset, as it was */
	uart_init(&p->uart, part_uart_tx, part_uart_irq, p);
	arch_fpu_init(p->vp.fpu);
	sched_fpu_load(p);
	for_each_part_ext(x) if (x->reset) x->reset(p);
	p->stop_reason[0] = 0;
	p->pool_warned_tsc = 0;
	p->state = PART_RUNNING;
	return 0;
}

int part_reset(struct partition *p)
{
	char err[CFG_ERR_MAX];

	/* The same images booted at creation, so only a bug makes this fail. */
	if (part_start(p, err, sizeof(err))) {
		part_stop(p, "reset failed: %s", err);
		return -1;
	}
	return 0;
}

/* Destroy the extensions before `end`, newest first (kernel/ext.h, "Order"). */
static void part_ext_destroy(struct partition *p, const struct part_ext *end)
{
	for (const struct part_ext *x = end; x-- > __start_part_ext;)
		if (x->destroy)
			x->destroy(p);
}

/* Create every extension; on a failure, destroy the ones made before it. */
static int part_ext_create(struct partition *p, const struct cfg_partition *c, char *err,
			   size_t errlen)
{
	for_each_part_ext(x)
	{
		if (x->create && x->create(p, c, err, errlen)) {
			part_ext_destroy(p, x);
			return -1;
		}
	}
	return 0;
}

int part_create(struct partition *p, const struct cfg_partition *c, const void *image,
		u64 image_size, const void *initrd, u64 initrd_size, char *err, size_t errlen)
{
	memset(&p->pool, 0, sizeof(p->pool)); /* part_free_memory may release it */
	p->pool_warned_tsc = 0;
	memset(p, 0, sizeof(*p));
	p->id = (unsigned)(p - partitions);
	snprintf(p->name, sizeof(p->name), "%s", c->name);
	p->mem_size = c->memory;
	p->image = image;
	p->image_size = image_size;
	p->load = c->load;
	p->is_linux = c->kernel.path[0] != 0;
	p->initrd = initrd;
	p->initrd_size = initrd ? initrd_size : 0;
	snprintf(p->cmdline, sizeof(p->cmdline), "%s", c->cmdline);
	if (p->is_linux) {
		p->reset = (struct vp_reset){RESET_CS_SEL, RESET_CS_BASE, RESET_IP};
	} else if (c->has_entry) {
		p->reset =
		    (struct vp_reset){(u16)(c->entry >> 4), c->entry & ~0xfull, c->entry & 0xf};
	} else {
		p->reset = (struct vp_reset){RESET_CS_SEL, RESET_CS_BASE, RESET_IP};
		if (p->mem_size < BIOS_ALIAS_GPA + BIOS_ALIAS_SIZE) {
			snprintf(
			    err, errlen,
			    "no `entry` and less than 1M of memory: nothing at the reset vector");
			return -1;
		}
	}
	if (!p->is_linux && (image_size > p->mem_size || p->load > p->mem_size - image_size)) {
		snprintf(err, errlen,
			 "image (%llu bytes at 0x%llx) does not fit in %llu bytes of memory",
			 (unsigned long long)image_size, (unsigned long long)p->load,
			 (unsigned long long)p->mem_size);
		return -1;
	}
	if (part_alloc_memory(p)) {
		part_free_memory(p);
		snprintf(err, errlen, "out of host memory for %llu MiB",
			 (unsigned long long)(p->mem_size >> 20));
		return -1;
	}
	/* Reserved now, so the partition never competes with another for frames later. */
	if (pool_reserve(&p->pool, c->device_memory)) {
		part_free_memory(p);
		snprintf(err, errlen, "out of host memory for %llu KiB of device memory",
			 (unsigned long long)(c->device_memory >> 10));
		return -1;
	}
	p->pool.exhausted = part_pool_exhausted;
	p->pool.ctx = p;
	p->vp.part = p;
	p->cfg = c;
	p->vp.guest = (struct vp_guest){.tag = p->id,
					.name = p->name,
					.gpt = &p->gpt,
					.gpt_gen = &p->gpt_gen,
					.read = part_read_guest,
					.read_ctx = p};
	if (vp_ops->vp_create(&p->vp)) {
		part_free_memory(p);
		snprintf(err, errlen, "cannot create its virtual processor");
		return -1;
	}
	if (part_ext_create(p, c, err, errlen)) {
		vp_ops->vp_destroy(&p->vp);
		part_free_memory(p);
		return -1;
	}
	if (part_start(p, err, errlen)) {
		part_ext_destroy(p, __stop_part_ext);
		vp_ops->vp_destroy(&p->vp);
		part_free_memory(p);
		return -1;
	}
	return 0;
}

void part_stop(struct partition *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->stop_reason, sizeof(p->stop_reason), fmt, ap);
	va_end(ap);
	p->state = PART_STOPPED;
	con_flush_guest_line(p);
	con_printf("partition %s stopped: %s\n", p->name, p->stop_reason);
}
