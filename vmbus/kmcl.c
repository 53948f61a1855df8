/*
 * The channel API for VSPs (kmcl.h, docs/kmcl.md): allocation and the
 * init-time setters (refused once the channel is enabled), enable (offer) and
 * disable (rescind), pause and start, and VSP mappings of the guest's GPADLs.
 * Packets are packet.c's; the protocol with the guest is channel.c's.
 */
#include "vmbus/packet.h"
#include "vmbus/save.h"

#include <stdio.h>
#include <string.h>

#define CONTEXT_SIZE_MAX (64u << 10)

static bool guid_equal(const struct vmb_guid *a, const struct vmb_guid *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Another channel of bus with the same (type, instance). */
static bool duplicate(const struct vmb_bus *bus, const struct vmb_channel *ch,
		      const struct vmb_guid *type, const struct vmb_guid *instance)
{
	for (unsigned i = 0; i < bus->nr_channels; i++) {
		const struct vmb_channel *o = bus->channels[i];

		if (o != ch && o->has_id && guid_equal(&o->type, type) &&
		    guid_equal(&o->instance, instance))
			return true;
	}
	return false;
}

static void bus_remove(struct vmb_bus *bus, struct vmb_channel *ch)
{
	for (unsigned i = 0; i < bus->nr_channels; i++) {
		if (bus->channels[i] == ch) {
			memmove(&bus->channels[i], &bus->channels[i + 1],
				(bus->nr_channels - i - 1) * sizeof(bus->channels[0]));
			bus->nr_channels--;
			return;
		}
	}
}

vmb_status vmb_channel_allocate(struct vmb_bus *bus, struct vmb_channel **channel)
{
	struct vmb_channel *ch;

	if (!bus || !channel)
		return VMB_STATUS_INVALID_PARAMETER;
	if (bus->nr_channels == VMBUS_MAX_CHANNELS)
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	ch = pool_zalloc(bus->host.pool, sizeof(*ch));
	if (!ch)
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	ch->bus = bus;
	ch->max_packet = VMBUS_DEFAULT_MAX_PACKET;
	bus->channels[bus->nr_channels++] = ch;
	*channel = ch;
	return VMB_STATUS_SUCCESS;
}

void vmb_channel_cleanup(struct vmb_channel *channel)
{
	struct vmb_channel *ch = channel;
	struct vmb_bus *bus;

	if (!ch)
		return;
	bus = ch->bus;
	/* Still in the guest's hands: let go of everything, keep the relid until it is released. */
	vmbus_channel_close(ch, false);
	vmbus_rescind(ch);
	if (ch->offer == OFFER_RESCINDING)
		bus->zombies |= 1ull << ch->relid;
	vmbus_channel_free_gpadls(ch);
	if (ch->relid)
		bus->relids[ch->relid] = NULL;
	vmbus_packets_free_idle(ch);
	vmbus_save_discard(ch);
	bus_remove(bus, ch);
	pool_free(bus->host.pool, ch->context);
	pool_free(bus->host.pool, ch);
}

/* ---- set-up, before enable ---- */

#define SETUP_CHECK(ch)                                                                            \
	do {                                                                                       \
		if (!(ch))                                                                         \
			return VMB_STATUS_INVALID_PARAMETER;                                       \
		if ((ch)->enabled || (ch)->offer != OFFER_NONE)                                    \
			return VMB_STATUS_INVALID_DEVICE_STATE;                                    \
	} while (0)

vmb_status vmb_server_channel_init_set_vmbus_handle(struct vmb_channel *channel,
						    struct vmb_bus *bus)
{
	SETUP_CHECK(channel);
	if (!bus)
		return VMB_STATUS_INVALID_PARAMETER;
	if (bus == channel->bus)
		return VMB_STATUS_SUCCESS;
	if (bus->nr_channels == VMBUS_MAX_CHANNELS)
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	if (channel->has_id && duplicate(bus, channel, &channel->type, &channel->instance))
		return VMB_STATUS_INVALID_PARAMETER;
	bus_remove(channel->bus, channel);
	channel->bus = bus;
	bus->channels[bus->nr_channels++] = channel;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_server_channel_init_set_target_interface_id(struct vmb_channel *channel,
							   const struct vmb_guid *type,
							   const struct vmb_guid *instance)
{
	SETUP_CHECK(channel);
	if (!type || !instance)
		return VMB_STATUS_INVALID_PARAMETER;
	if (duplicate(channel->bus, channel, type, instance))
		return VMB_STATUS_INVALID_PARAMETER;
	channel->type = *type;
	channel->instance = *instance;
	channel->has_id = true;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_server_channel_init_set_target_vtl(struct vmb_channel *channel, u8 vtl)
{
	SETUP_CHECK(channel);
	if (vtl) /* partitions have VTL 0 only */
		return VMB_STATUS_INVALID_PARAMETER;
	channel->vtl = vtl;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_server_channel_init_set_flags(struct vmb_channel *channel, u16 offer_flags)
{
	SETUP_CHECK(channel);
	channel->offer_flags = offer_flags;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_server_channel_init_set_mmio_megabytes(struct vmb_channel *channel, u16 megabytes)
{
	SETUP_CHECK(channel);
	channel->mmio_megabytes = megabytes;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_init_set_friendly_name(struct vmb_channel *channel, const char *name)
{
	SETUP_CHECK(channel);
	if (!name)
		return VMB_STATUS_INVALID_PARAMETER;
	strncpy(channel->name, name, VMBUS_FRIENDLY_MAX);
	channel->name[VMBUS_FRIENDLY_MAX] = 0;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_init_set_flags(struct vmb_channel *channel, u32 flags)
{
	SETUP_CHECK(channel);
	if (flags != VMB_CHANNEL_FLAG_NONE)
		return VMB_STATUS_INVALID_PARAMETER; /* none defined yet */
	channel->flags = flags;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_init_set_maximum_packet_size(struct vmb_channel *channel, u32 bytes)
{
	SETUP_CHECK(channel);
	if (!bytes || bytes > VMBUS_LIMIT_MAX_PACKET)
		return VMB_STATUS_INVALID_PARAMETER;
	channel->max_packet = bytes;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_init_set_maximum_external_data(struct vmb_channel *channel, u32 bytes)
{
	SETUP_CHECK(channel);
	if (bytes > VMBUS_LIMIT_MAX_EXTERNAL)
		return VMB_STATUS_INVALID_PARAMETER;
	channel->max_external = bytes;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_init_set_client_context_size(struct vmb_channel *channel, u32 bytes)
{
	void *ctx = NULL;

	SETUP_CHECK(channel);
	if (bytes > CONTEXT_SIZE_MAX)
		return VMB_STATUS_INVALID_PARAMETER;
	if (bytes) {
		ctx = pool_zalloc(channel->bus->host.pool, bytes);
		if (!ctx)
			return VMB_STATUS_INSUFFICIENT_RESOURCES;
	}
	pool_free(channel->bus->host.pool, channel->context);
	channel->context = ctx;
	channel->context_size = bytes;
	return VMB_STATUS_SUCCESS;
}

void *vmb_channel_get_pointer(struct vmb_channel *channel)
{
	return channel ? channel->context : NULL;
}

vmb_status
vmb_channel_init_set_process_packet_callbacks(struct vmb_channel *channel,
					      vmb_process_packet_fn process_packet,
					      vmb_processing_complete_fn processing_complete)
{
	SETUP_CHECK(channel);
	channel->process_packet = process_packet;
	channel->processing_complete = processing_complete;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_init_set_state_change_callbacks(struct vmb_channel *channel,
						       const struct vmb_state_callbacks *callbacks)
{
	SETUP_CHECK(channel);
	if (callbacks)
		channel->state_cb = *callbacks;
	else
		memset(&channel->state_cb, 0, sizeof(channel->state_cb));
	return VMB_STATUS_SUCCESS;
}

vmb_status
vmb_server_channel_init_set_save_restore_packet_callbacks(struct vmb_channel *channel,
							  vmb_save_packet_fn save_packet,
							  vmb_restore_packet_fn restore_packet)
{
	SETUP_CHECK(channel);
	channel->save_packet = save_packet;
	channel->restore_packet = restore_packet;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_server_channel_init_set_check_packet_callback(struct vmb_channel *channel,
							     vmb_check_packet_fn check_packet)
{
	SETUP_CHECK(channel);
	channel->check_packet = check_packet;
	return VMB_STATUS_SUCCESS;
}

/* ---- buses ---- */

struct vmb_bus *vmbus_create(const struct vmbus_host *host, const char *name)
{
	struct vmb_bus *bus = pool_zalloc(host->pool, sizeof(*bus));

	if (!bus)
		return NULL;
	bus->queue = pool_alloc(host->pool, VMBUS_MSG_QUEUE * sizeof(*bus->queue));
	if (!bus->queue) {
		pool_free(host->pool, bus);
		return NULL;
	}
	bus->host = *host;
	bus->gpadl_budget.pool = host->pool;
	bus->up = &vmbus_packet_upcalls;
	snprintf(bus->name, sizeof(bus->name), "%s", name ? name : "");
	bus->msg_sint = VMBUS_SINT;
	return bus;
}

void vmbus_destroy(struct vmb_bus *bus)
{
	if (!bus)
		return;
	vmbus_disconnect(bus);
	while (bus->nr_channels)
		vmb_channel_cleanup(bus->channels[bus->nr_channels - 1]);
	pool_free(bus->host.pool, bus->queue);
	pool_free(bus->host.pool, bus);
}

/* ---- running ---- */

vmb_status vmb_channel_enable(struct vmb_channel *channel)
{
	struct vmb_channel *ch = channel;
	u32 relid;

	SETUP_CHECK(ch);
	if (!ch->has_id)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	if (duplicate(ch->bus, ch, &ch->type, &ch->instance))
		return VMB_STATUS_INVALID_PARAMETER;
	relid = vmbus_free_relid(ch->bus);
	if (!relid)
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	ch->relid = relid;
	ch->bus->relids[relid] = ch;
	ch->enabled = true;
	vmbus_offer(ch);
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_disable(struct vmb_channel *channel)
{
	struct vmb_channel *ch = channel;

	if (!ch)
		return VMB_STATUS_INVALID_PARAMETER;
	if (!ch->enabled)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	ch->enabled = false;
	if (ch->offer == OFFER_SENT) {
		/* Disabled for good once the guest's RELID_RELEASED comes (channel.c). */
		vmbus_rescind(ch);
		return VMB_STATUS_SUCCESS;
	}
	ch->bus->relids[ch->relid] = NULL;
	ch->relid = 0;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_pause(struct vmb_channel *channel)
{
	if (!channel)
		return VMB_STATUS_INVALID_PARAMETER;
	if (!channel->enabled && channel->offer == OFFER_NONE)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	if (channel->paused)
		return VMB_STATUS_SUCCESS;
	channel->paused = true;
	if (channel->open && channel->state_cb.suspended)
		channel->state_cb.suspended(channel);
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_start(struct vmb_channel *channel)
{
	if (!channel)
		return VMB_STATUS_INVALID_PARAMETER;
	if (!channel->enabled && channel->offer == OFFER_NONE)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	if (!channel->paused)
		return VMB_STATUS_SUCCESS;
	channel->paused = false;
	if (!channel->open)
		return VMB_STATUS_SUCCESS;
	if (channel->state_cb.started)
		channel->state_cb.started(channel);
	if (channel->state_cb.post_started)
		channel->state_cb.post_started(channel);
	/* Catch up on what the guest wrote meanwhile. */
	vmbus_channel_service(channel);
	return VMB_STATUS_SUCCESS;
}

void vmb_channel_get_interface_instance(struct vmb_channel *channel, struct vmb_guid *type,
					struct vmb_guid *instance)
{
	if (type)
		*type = channel->type;
	if (instance)
		*instance = channel->instance;
}

/* ---- GPADL mappings ---- */

vmb_status vmb_channel_map_gpadl(struct vmb_channel *channel, u32 gpadl_id,
				 struct vmb_gpadl_mapping **mapping)
{
	struct gpadl *g;

	if (!channel || !mapping)
		return VMB_STATUS_INVALID_PARAMETER;
	if (channel->offer != OFFER_SENT)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	g = vmbus_find_gpadl(channel, gpadl_id);
	if (!g || !g->ready || g->teardown_pending)
		return VMB_STATUS_INVALID_PARAMETER;
	*mapping = gpadl_map(g, &channel->bus->host, channel);
	return *mapping ? VMB_STATUS_SUCCESS : VMB_STATUS_INSUFFICIENT_RESOURCES;
}

bool vmb_gpadl_mapping_overlaps_ring(struct vmb_channel *channel,
				     const struct vmb_gpadl_mapping *mapping)
{
	const struct gpadl *g = mapping ? gpadl_mapping_gpadl(mapping) : NULL;

	if (!channel || !g || !channel->ring_gpadl)
		return false;
	return g == channel->ring_gpadl || gpadl_shares_page(g, channel->ring_gpadl);
}

void vmb_channel_unmap_gpadl(struct vmb_channel *channel, struct vmb_gpadl_mapping *mapping)
{
	struct vmb_channel *owner;
	struct gpadl *g;

	if (!mapping)
		return;
	owner = gpadl_mapping_channel(mapping);
	g = gpadl_unmap(mapping);
	if (g)
		vmbus_gpadl_released(owner, g);
}
