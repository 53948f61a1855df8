/*
 * The parser of a port's saved runtime state (vswitch.h, "The saved
 * format"). Its bytes come from a snapshot, which may be an image from
 * disk: every field is checked before any segment is handed out.
 */
#include "vsp/vswitch/vswitch.h"

#include <string.h>

static u16 get_u16(const u8 *b)
{
	return (u16)(b[0] | b[1] << 8);
}

static u32 get_u32(const u8 *b)
{
	return get_u16(b) | (u32)get_u16(b + 2) << 16;
}

/* Walk the segments; with seg NULL only check. */
static vmb_status walk(const u8 *b, u32 total, u32 head_size, unsigned nr,
		       int (*seg)(void *, const struct vmb_guid *, const void *, u32), void *ctx)
{
	struct vmb_guid seen[VSW_MAX_SEGMENTS];
	u32 at = head_size;

	for (unsigned i = 0; i < nr; i++) {
		struct vmb_guid g;
		u32 len, padded;

		if (total - at < sizeof(struct vsw_saved_segment))
			return VMB_STATUS_DATA_ERROR;
		memcpy(&g, b + at, sizeof(g));
		len = get_u32(b + at + 16);
		if (get_u32(b + at + 20) != 0 || len > VSW_BLOB_MAX)
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
				if (!memcmp(&seen[k], &g, sizeof(g)))
					return VMB_STATUS_DATA_ERROR; /* one segment per provider */
			seen[i] = g;
		} else if (seg(ctx, &g, b + at, len)) {
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
	const u8 *b = buf;
	u32 total, head_size;
	unsigned nr;
	vmb_status st;

	if (!buf || size < sizeof(struct vsw_saved_head))
		return VMB_STATUS_INVALID_PARAMETER;
	if (get_u32(b) != VSW_SAVED_MAGIC)
		return VMB_STATUS_DATA_ERROR;
	if (get_u16(b + 4) != VSW_SAVED_VERSION)
		return VMB_STATUS_REVISION_MISMATCH;
	head_size = get_u16(b + 6);
	total = get_u32(b + 8);
	nr = get_u16(b + 12);
	if (head_size < sizeof(struct vsw_saved_head) || head_size > total || total > size ||
	    get_u16(b + 14) != 0 || nr > VSW_MAX_SEGMENTS || head_size % 8)
		return VMB_STATUS_DATA_ERROR;
	st = walk(b, total, head_size, nr, NULL, NULL);
	if (st != VMB_STATUS_SUCCESS || !seg)
		return st;
	return walk(b, total, head_size, nr, seg, ctx);
}
