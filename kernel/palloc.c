/*
 * Physical page allocator: one bit per 4K frame (1 = free), built from the
 * UEFI memory map. Single CPU, no locking. Allocation is next-fit from a
 * cursor so repeated small allocations do not rescan the low frames.
 */
#include "palloc.h"
#include "boot_info.h"

#include <string.h>

#define LOW_RESERVED (1ull << 20) /* real-mode area, left to firmware leftovers */
#define WORD_BITS    64

static u64 *bits;
static u64 nr_frames; /* frames the bitmap covers */
static u64 free_frames, total_frames;
static u64 cursor; /* next frame to look at */

/* Memory the firmware no longer needs after ExitBootServices (UEFI 2.10 7.2). */
static bool mem_type_free(u32 type)
{
	return type == BOOT_MEM_CONVENTIONAL || type == BOOT_MEM_BS_CODE ||
	       type == BOOT_MEM_BS_DATA;
}

static bool frame_is_free(u64 f)
{
	return bits[f / WORD_BITS] & (1ull << (f % WORD_BITS));
}

static void frame_set(u64 f, bool free)
{
	if (free)
		bits[f / WORD_BITS] |= 1ull << (f % WORD_BITS);
	else
		bits[f / WORD_BITS] &= ~(1ull << (f % WORD_BITS));
}

u64 palloc_bitmap_bytes(const struct boot_mem_range *map, unsigned n)
{
	u64 top = 0;

	for (unsigned i = 0; i < n; i++)
		if (mem_type_free(map[i].type))
			top = MAX(top, map[i].base + (map[i].pages << PAGE_SHIFT));
	return ALIGN_UP(top >> PAGE_SHIFT, WORD_BITS) / 8;
}

u64 palloc_init(const struct boot_mem_range *map, unsigned n, u64 reserve_lo, u64 reserve_hi,
		void *bitmap, u64 bitmap_bytes)
{
	bits = bitmap;
	nr_frames = bitmap_bytes / 8 * WORD_BITS;
	free_frames = 0;
	cursor = 0;
	memset(bitmap, 0, bitmap_bytes / 8 * 8);
	for (unsigned i = 0; i < n; i++) {
		u64 first = map[i].base >> PAGE_SHIFT;
		u64 end = first + map[i].pages;

		if (!mem_type_free(map[i].type) || map[i].pages > (~0ull >> PAGE_SHIFT) - first)
			continue;
		for (u64 f = first; f < MIN(end, nr_frames); f++) {
			u64 pa = f << PAGE_SHIFT;

			if (pa < LOW_RESERVED || (pa >= reserve_lo && pa < reserve_hi) ||
			    frame_is_free(f))
				continue;
			frame_set(f, true);
			free_frames++;
		}
	}
	total_frames = free_frames;
	return free_frames;
}

/* First frame >= from that is free, or nr_frames. Skips whole empty words. */
static u64 next_free(u64 from)
{
	for (u64 f = from; f < nr_frames;) {
		if (f % WORD_BITS == 0 && !bits[f / WORD_BITS]) {
			f += WORD_BITS;
			continue;
		}
		if (frame_is_free(f))
			return f;
		f++;
	}
	return nr_frames;
}

static void zero_frames(u64 first, u64 count)
{
	for (u64 i = 0; i < count; i++)
		memset(phys_to_virt((first + i) << PAGE_SHIFT), 0, PAGE_SIZE);
}

u64 palloc_alloc(void)
{
	u64 f = next_free(cursor);

	if (f == nr_frames)
		f = next_free(0);
	if (f == nr_frames)
		return 0;
	frame_set(f, false);
	free_frames--;
	cursor = f + 1;
	zero_frames(f, 1);
	return f << PAGE_SHIFT;
}

/* Is [first, first+count) all free? On failure *resume is where to look next. */
static bool run_is_free(u64 first, u64 count, u64 *resume)
{
	for (u64 i = 0; i < count; i++) {
		if (!frame_is_free(first + i)) {
			*resume = first + i + 1;
			return false;
		}
	}
	return true;
}

u64 palloc_alloc_contig(u64 count, u64 align)
{
	u64 step = MAX(align >> PAGE_SHIFT, 1);

	if (!count || count > nr_frames || (step & (step - 1)))
		return 0;
	for (u64 f = 0; f + count <= nr_frames;) {
		u64 resume;

		f = ALIGN_UP(next_free(f), step);
		if (f + count > nr_frames)
			break;
		if (!run_is_free(f, count, &resume)) {
			f = resume;
			continue;
		}
		for (u64 i = 0; i < count; i++)
			frame_set(f + i, false);
		free_frames -= count;
		zero_frames(f, count);
		return f << PAGE_SHIFT;
	}
	return 0;
}

void palloc_free(u64 pa)
{
	palloc_free_contig(pa, 1);
}

/* A frame that is free already stays free: the counts stay right after a double free. */
void palloc_free_contig(u64 pa, u64 count)
{
	u64 first = pa >> PAGE_SHIFT;

	for (u64 f = first; f < first + count && f < nr_frames; f++) {
		if (frame_is_free(f))
			continue;
		frame_set(f, true);
		free_frames++;
	}
}

u64 palloc_free_count(void)
{
	return free_frames;
}

u64 palloc_total_count(void)
{
	return total_frames;
}
