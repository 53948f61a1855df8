/*
 * The parser of a port's saved runtime state (vswitch.h, "The saved
 * format"). Its bytes come from a snapshot, which may be an image from
 * disk: every field is checked before any segment is handed out. The
 * hypervisor and its saved formats are little-endian (x86-64): the packed
 * structures of vswitch.h are copied out, never pointed into.
 */
#include "vsp/vswitch/vswitch.h"

#include <string.h>

/* Walk the segments; with seg NULL only check. */
static vmb_status walk(const u8 *b, u32 total, u32 head_size, unsigned nr,
		       int (*seg)(void *, const struct vmb_guid *, const void *, u32), void *ctx)
{
	struct vmb_guid seen[VSW_MAX_SEGMENTS];
	u32 at = head_size;

	for (unsigned i = 0; i < nr; i++) {
		struct vsw_saved_segment sg;
		const struct vmb_guid *g = &sg.provider;
		u32 len, padded;

		if (total - at < sizeof(sg))
			return VMB_STATUS_DATA_ERROR;
		memcpy(&sg, b + at, sizeof(sg));
		len = sg.len;
		if (sg.reserved != 0 || len > VSW_BLOB_MAX)
			return VMB_STATUS_DATA_ERROR;
		at += sizeof(struct vsw_saved_segment);
		padded = (u32)ALIGN_UP(len, 8);
		if (total - at < padded)
			return VMB_STATUS_DATA_ERROR;
		for (u32 k = len; k < padded; k++)
			if (b[at + k])
				return VMB_STATUS_DATA_ERROR;
		if (!seg) {
			for (unsigned k = 0; k < i; k++)
				if (!memcmp(&seen[k], g, sizeof(*g)))
					return VMB_STATUS_DATA_ERROR; /* one segment per provider */
			seen[i] = *g;
		} else if (seg(ctx, g, b + at, len)) {
			return VMB_STATUS_SUCCESS;
		}
		at += padded;
	}
	return at == total ? VMB_STATUS_SUCCESS : VMB_STATUS_DATA_ERROR;
}

vmb_status vsw_state_parse(const void *buf, u32 size,
			   int (*seg)(void *ctx, const struct vmb_guid *provider, const void *blob,
				      u32 len),
			   void *ctx)
{
	struct vsw_saved_head h;
	vmb_status st;

	if (!buf || size < sizeof(h))
		return VMB_STATUS_INVALID_PARAMETER;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != VSW_SAVED_MAGIC)
		return VMB_STATUS_DATA_ERROR;
	if (h.version != VSW_SAVED_VERSION)
		return VMB_STATUS_REVISION_MISMATCH;
	if (h.head_size < sizeof(h) || h.head_size % 8 || h.head_size > h.total || h.total > size ||
	    h.reserved || h.nr_segments > VSW_MAX_SEGMENTS)
		return VMB_STATUS_DATA_ERROR;
	st = walk(buf, h.total, h.head_size, h.nr_segments, NULL, NULL);
	if (st != VMB_STATUS_SUCCESS || !seg)
		return st;
	return walk(buf, h.total, h.head_size, h.nr_segments, seg, ctx);
}
