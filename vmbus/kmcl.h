/*
 * The VMBus server library: Bulkhead's equivalent of Windows' Kernel Mode
 * Client Library (vmbuskernelmodeclientlibapi.h), in C with snake_case names
 * (VmbChannelEnable -> vmb_channel_enable). The contract is
 * docs/kmcl.md; VSPs (vsp/) use this header and nothing deeper.
 *
 * Everything runs on the hypervisor's one CPU: callbacks are called from
 * the VMBus server while it handles a guest's message or signal, or from a
 * VSP's own call into the library. A callback may call back into the
 * library (complete, send) but must not free its own channel.
 */
#ifndef BULKHEAD_KMCL_H
#define BULKHEAD_KMCL_H

#include "kernel/types.h"

/* NTSTATUS values, so saved streams and logs are unambiguous (docs/kmcl.md). */
#define VMB_STATUS_SUCCESS		    0x00000000
#define VMB_STATUS_PENDING		    0x00000103
#define VMB_STATUS_BUFFER_OVERFLOW	    0x80000005
#define VMB_STATUS_MORE_PROCESSING_REQUIRED 0xC0000016
#define VMB_STATUS_BUFFER_TOO_SMALL	    0xC0000023
#define VMB_STATUS_INVALID_PARAMETER	    0xC000000D
#define VMB_STATUS_INVALID_DEVICE_STATE	    0xC0000184
#define VMB_STATUS_INSUFFICIENT_RESOURCES   0xC000009A
#define VMB_STATUS_REVISION_MISMATCH	    0xC0000059
#define VMB_STATUS_DATA_ERROR		    0xC000003E
#define VMB_STATUS_NO_MORE_ENTRIES	    0x8000001A /* STATUS_NO_MORE_ENTRIES, MS-ERREF 2.3.1 */
typedef u32 vmb_status;

/* A GUID as it travels on VMBus: little-endian fields (RFC 4122 layout of Windows' GUID). */
struct vmb_guid {
	u32 data1;
	u16 data2, data3;
	u8 data4[8];
} __packed;
_Static_assert(sizeof(struct vmb_guid) == 16, "GUID");
/* VMB_GUID(0x57164f39, 0x9115, 0x4e78, 0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d) */
#define VMB_GUID(d1, d2, d3, a, b, c, d, e, f, g, h)                                               \
	((struct vmb_guid){(d1), (d2), (d3), {(a), (b), (c), (d), (e), (f), (g), (h)}})

struct vmb_bus; /* the VMBus of one partition */
struct vmb_channel;
struct vmb_packet;

/* ---- channel set-up (before enable; afterwards INVALID_DEVICE_STATE) ---- */

vmb_status vmb_channel_allocate(struct vmb_bus *bus, struct vmb_channel **channel);
/* Frees a channel that is not enabled (disable it first). */
void vmb_channel_cleanup(struct vmb_channel *channel);

vmb_status vmb_server_channel_init_set_vmbus_handle(struct vmb_channel *channel,
						    struct vmb_bus *bus);
/* The offer's interface type and instance; (type, instance) is unique per partition. */
vmb_status vmb_server_channel_init_set_target_interface_id(struct vmb_channel *channel,
							   const struct vmb_guid *type,
							   const struct vmb_guid *instance);
vmb_status vmb_server_channel_init_set_target_vtl(struct vmb_channel *channel, u8 vtl);
/* Offer flags (VMBUS_CHANNEL_* of the offer message), e.g. named-pipe mode. */
vmb_status vmb_server_channel_init_set_flags(struct vmb_channel *channel, u16 offer_flags);
vmb_status vmb_server_channel_init_set_mmio_megabytes(struct vmb_channel *channel, u16 megabytes);

vmb_status vmb_channel_init_set_friendly_name(struct vmb_channel *channel, const char *name);
#define VMB_CHANNEL_FLAG_NONE 0u
vmb_status vmb_channel_init_set_flags(struct vmb_channel *channel, u32 flags);
/* Largest incoming packet payload the VSP accepts; larger ones are dropped and logged. */
vmb_status vmb_channel_init_set_maximum_packet_size(struct vmb_channel *channel, u32 bytes);
/* Largest external data (GPA ranges) an incoming packet may describe. */
vmb_status vmb_channel_init_set_maximum_external_data(struct vmb_channel *channel, u32 bytes);
/* Bytes of VSP context kept with the channel (zeroed), reached with vmb_channel_get_pointer. */
vmb_status vmb_channel_init_set_client_context_size(struct vmb_channel *channel, u32 bytes);
void *vmb_channel_get_pointer(struct vmb_channel *channel);

/*
 * An incoming packet: buffer/len is its in-band payload (valid during the
 * call only), flags the VMB_PACKET_* bits below. The VSP completes it (now
 * or later) with vmb_channel_packet_complete/_fail; until then it is "in
 * use" and saved with the channel.
 */
#define VMB_PACKET_COMPLETION_REQUESTED (1u << 0) /* the guest waits for a completion */
#define VMB_PACKET_EXTERNAL_DATA	(1u << 1) /* it carries GPA ranges (GPA_DIRECT packet) */
typedef void (*vmb_process_packet_fn)(struct vmb_channel *channel, struct vmb_packet *packet,
				      const void *buffer, u32 len, u32 flags);
/* After a batch of packets was handed out (the ring is empty for now). */
typedef void (*vmb_processing_complete_fn)(struct vmb_channel *channel, u32 packets);
vmb_status
vmb_channel_init_set_process_packet_callbacks(struct vmb_channel *channel,
					      vmb_process_packet_fn process_packet,
					      vmb_processing_complete_fn processing_complete);

struct vmb_state_callbacks {
	/* The guest opened the channel; its rings are mapped. Non-SUCCESS refuses the open. */
	vmb_status (*opened)(struct vmb_channel *channel);
	/* The guest closed it (or the partition reset): in-use packets are gone. */
	void (*closed)(struct vmb_channel *channel);
	void (*suspended)(struct vmb_channel *channel); /* paused */
	void (*started)(struct vmb_channel *channel);	/* running (also after open) */
	void (*post_started)(struct vmb_channel *channel);
};
vmb_status vmb_channel_init_set_state_change_callbacks(struct vmb_channel *channel,
						       const struct vmb_state_callbacks *callbacks);

/* Save/restore of the VSP's part of an in-use packet (docs/kmcl.md, "Saving a channel"). */
typedef vmb_status (*vmb_save_packet_fn)(struct vmb_channel *channel, struct vmb_packet *packet,
					 void *save_buf, u32 save_buf_size, u32 *bytes_needed);
typedef vmb_status (*vmb_restore_packet_fn)(struct vmb_channel *channel, const void *lib_buf,
					    u32 lib_buf_size, const void *save_buf,
					    u32 save_buf_size);
vmb_status
vmb_server_channel_init_set_save_restore_packet_callbacks(struct vmb_channel *channel,
							  vmb_save_packet_fn save_packet,
							  vmb_restore_packet_fn restore_packet);
/*
 * Optional: the check half of restore_packet (docs/kmcl.md, "Restoring a
 * channel"). Before a restore changes anything, every saved packet's VSP
 * part is handed here, in stream order (index from 0; save_buf_size 0 where
 * save_packet kept nothing). SUCCESS promises that restore_packet takes the
 * same bytes unless host memory runs out; anything else refuses the restore.
 * It must change nothing.
 */
typedef vmb_status (*vmb_check_packet_fn)(struct vmb_channel *channel, u32 index,
					  const void *save_buf, u32 save_buf_size);
vmb_status vmb_server_channel_init_set_check_packet_callback(struct vmb_channel *channel,
							     vmb_check_packet_fn check_packet);

/* ---- running ---- */

/* Offer the channel to the guest (now, or when it next asks for offers). */
vmb_status vmb_channel_enable(struct vmb_channel *channel);
/* Rescind it; the channel is disabled once the guest has released it. */
vmb_status vmb_channel_disable(struct vmb_channel *channel);
/* Stop / resume handing packets to the VSP (the guest may still fill the ring). */
vmb_status vmb_channel_pause(struct vmb_channel *channel);
vmb_status vmb_channel_start(struct vmb_channel *channel);

void vmb_channel_get_interface_instance(struct vmb_channel *channel, struct vmb_guid *type,
					struct vmb_guid *instance);

/* A guest buffer the guest described with a GPADL, checked page by page. */
struct vmb_gpadl_mapping;
vmb_status vmb_channel_map_gpadl(struct vmb_channel *channel, u32 gpadl_id,
				 struct vmb_gpadl_mapping **mapping);
void vmb_channel_unmap_gpadl(struct vmb_channel *channel, struct vmb_gpadl_mapping *mapping);
u64 vmb_gpadl_mapping_size(const struct vmb_gpadl_mapping *mapping);
/* Whether the mapped buffer shares a guest page with the channel's ring (false if no ring). */
bool vmb_gpadl_mapping_overlaps_ring(struct vmb_channel *channel,
				     const struct vmb_gpadl_mapping *mapping);
/* Copy from / into the mapped buffer; INVALID_PARAMETER outside it. */
vmb_status vmb_gpadl_read(const struct vmb_gpadl_mapping *mapping, u64 offset, void *buf, u64 len);
vmb_status vmb_gpadl_write(const struct vmb_gpadl_mapping *mapping, u64 offset, const void *buf,
			   u64 len);

/* ---- packets ---- */

vmb_status vmb_packet_allocate(struct vmb_channel *channel, struct vmb_packet **packet);
void vmb_packet_free(struct vmb_packet *packet);
struct vmb_channel *vmb_packet_get_channel(struct vmb_packet *packet);
/* VSP-owned bytes carried with the packet (VMB_PACKET_CONTEXT_SIZE). */
#define VMB_PACKET_CONTEXT_SIZE 64
void *vmb_packet_get_context(struct vmb_packet *packet);

/* The guest answered a packet sent with VMB_SEND_COMPLETION_REQUESTED. */
typedef void (*vmb_completion_fn)(struct vmb_packet *packet, vmb_status status, const void *reply,
				  u32 reply_len);
vmb_status vmb_packet_set_completion_routine(struct vmb_packet *packet,
					     vmb_completion_fn completion);

/* External data of a packet: guest-physical ranges (VMBus GPA_DIRECT). */
struct vmb_gpa_range {
	u32 byte_count;
	u32 byte_offset; /* into the first page */
	u32 nr_pfns;
	const u64 *pfns;
};
struct vmb_external_data {
	u32 nr_ranges;
	const struct vmb_gpa_range *ranges;
};

#define VMB_SEND_COMPLETION_REQUESTED (1u << 0)
/*
 * Send an in-band packet (with external data if ext is not NULL) to the
 * guest. Without VMB_SEND_COMPLETION_REQUESTED the packet is free again when
 * this returns; with it, it stays in use until the guest's completion
 * arrives (the completion routine runs, then the packet is freed).
 * INSUFFICIENT_RESOURCES: the ring is full; try again later.
 * That is: a successful send consumes the packet (freed now, or after its
 * completion routine, which may send it again instead); a failed send leaves
 * it to the VSP (send it again or vmb_packet_free it). If the channel closes
 * first, the completion routine runs with INVALID_DEVICE_STATE.
 */
vmb_status vmb_packet_send(struct vmb_packet *packet, const void *buffer, u32 len,
			   const struct vmb_external_data *ext, u32 flags);

/*
 * A packet that points into a buffer the guest gave the VSP (VMBus
 * DATA_USING_XFER_PAGES, hyperv.h struct vmtransfer_page_packet_header):
 * pageset_id names the buffer in the VSP's protocol (netvsc's receive
 * buffer id), each range is bytes [byte_offset, byte_offset + byte_count)
 * of it, which the VSP has written before; buffer/len is the in-band
 * payload after the ranges. The rules of vmb_packet_send otherwise.
 */
struct vmb_transfer_range {
	u32 byte_count;
	u32 byte_offset;
};
#define VMB_MAX_TRANSFER_RANGES 64
vmb_status vmb_packet_send_transfer_pages(struct vmb_packet *packet, u16 pageset_id,
					  const struct vmb_transfer_range *ranges, u32 nr_ranges,
					  const void *buffer, u32 len, u32 flags);

/*
 * Finish an incoming packet: the reply goes back to the guest in a
 * completion packet if the guest asked for one. The packet is freed.
 * (A completion the ring has no room for waits inside the library and goes
 * out, in order, as the guest makes room; only INSUFFICIENT_RESOURCES, out
 * of host memory, leaves the packet in use for another try.)
 */
vmb_status vmb_channel_packet_complete(struct vmb_packet *packet, const void *reply, u32 len);
vmb_status vmb_channel_packet_fail(struct vmb_packet *packet);
/* The VSP keeps the packet past the callback and completes it later. */
vmb_status vmb_channel_packet_defer(struct vmb_packet *packet);
/* Read an incoming packet's external data: bytes [offset, offset + len) of range `range`. */
vmb_status vmb_packet_read_external(struct vmb_packet *packet, u32 range, u32 offset, void *buf,
				    u32 len);
vmb_status vmb_packet_write_external(struct vmb_packet *packet, u32 range, u32 offset,
				     const void *buf, u32 len);
vmb_status vmb_packet_get_external_data(struct vmb_packet *packet, struct vmb_external_data *ext);

/*
 * ---- save and restore (docs/kmcl.md; implemented with snapshots) ----
 *
 * The stream is vmbus/save.h's. save_begin wants a paused channel (or one
 * the guest never had) and asks save_packet about every packet in use then.
 * restore_from_buffer wants a channel the guest does not hold: freshly made
 * (and enabled), or after vmbus_reset. It checks the whole stream before it
 * changes anything; an open channel comes back open and paused (the VSP
 * hears `opened`, and `started` when it starts it), its relid as saved
 * (another channel the guest does not know moves aside), then each packet
 * through restore_packet; the check covers each packet's VSP part through
 * check_packet. Every packet goes to restore_packet, one whose VSP part is
 * empty (save_packet kept nothing) with save_buf_size 0: the VSP restores
 * the library's part alone and must not refuse it. A VSP without
 * restore_packet gets its packets back without state of its own. A
 * restored packet waiting for the guest's completion takes
 * vmb_packet_set_completion_routine again. save_begin refuses a stream a
 * reader would refuse for its size or its number of records.
 */

vmb_status vmb_channel_save_begin(struct vmb_channel *channel);
vmb_status vmb_channel_save_continue(struct vmb_channel *channel, void *buf, u32 size,
				     u32 *bytes_filled, u32 *bytes_required);
vmb_status vmb_channel_save_end(struct vmb_channel *channel);
vmb_status vmb_channel_restore_from_buffer(struct vmb_channel *channel, const void *buf, u32 size);
/* Rebuild the library's part of a saved packet inside restore_packet. */
vmb_status vmb_packet_restore(struct vmb_packet *packet, const void *lib_buf, u32 lib_buf_size);
/*
 * Inside `opened` or restore_packet of a restore: the next GPADL mapping the
 * channel's VSP held when it was saved, mapped again (the VSP owns it as if
 * it had called vmb_channel_map_gpadl), or NO_MORE_ENTRIES. The ones the
 * VSP does not take are unmapped when the restore ends.
 */
vmb_status vmb_channel_restored_mapping(struct vmb_channel *channel, u32 *gpadl_id,
					struct vmb_gpadl_mapping **mapping);

#endif
