/*
 * Channel save and restore (kmcl.h, spec/kmcl.md "Saving a channel" and
 * "Restoring a channel"). Snapshots of VMBus state come in a later issue:
 * until then every call refuses with INVALID_DEVICE_STATE, so a snapshot of a
 * partition with VMBus channels fails cleanly instead of losing them.
 */
#include "vmbus/bus.h"

vmb_status vmb_channel_save_begin(struct vmb_channel *channel)
{
	return VMB_STATUS_INVALID_DEVICE_STATE;
}

vmb_status vmb_channel_save_continue(struct vmb_channel *channel, void *buf, u32 size,
				     u32 *bytes_filled, u32 *bytes_required)
{
	if (bytes_filled)
		*bytes_filled = 0;
	if (bytes_required)
		*bytes_required = 0;
	return VMB_STATUS_INVALID_DEVICE_STATE;
}

vmb_status vmb_channel_save_end(struct vmb_channel *channel)
{
	return VMB_STATUS_INVALID_DEVICE_STATE;
}

vmb_status vmb_channel_restore_from_buffer(struct vmb_channel *channel, const void *buf, u32 size)
{
	return VMB_STATUS_INVALID_DEVICE_STATE;
}

vmb_status vmb_packet_restore(struct vmb_packet *packet, const void *lib_buf, u32 lib_buf_size)
{
	return VMB_STATUS_INVALID_DEVICE_STATE;
}
