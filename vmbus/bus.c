/*
 * The VMBus of a partition (vmbus.h): creation and reset, the entry points
 * the guest's HvPostMessage / HvSignalEvent reach, the queue of host ->
 * guest messages that wait while the guest's SynIC queue is full, the
 * rate-limited log, and what the console shows.
 */
#include "vmbus/bus.h"
#include "kernel/hv_defs.h"
#include "kernel/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LOG_LINE_MAX 160

void vmbus_reset(struct vmb_bus *bus)
{
	vmbus_disconnect(bus);
	bus->logged = bus->suppressed = 0;
}

const char *vmbus_name(const struct vmb_bus *bus)
{
	return bus->name;
}

u32 vmbus_version(const struct vmb_bus *bus)
{
	return bus->version;
}

unsigned vmbus_message_sint(const struct vmb_bus *bus)
{
	return bus->msg_sint;
}

void vmbus_log(struct vmb_bus *bus, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	if (bus->logged >= VMBUS_LOG_BURST && ++bus->suppressed % VMBUS_LOG_EVERY)
		return;
	bus->logged++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (bus->logged > VMBUS_LOG_BURST)
		kprintf("vmbus %s: %s (%llu similar lines suppressed)\n", bus->name, line,
			(unsigned long long)bus->suppressed);
	else
		kprintf("vmbus %s: %s\n", bus->name, line);
}

struct vmb_channel *vmbus_relid_channel(const struct vmb_bus *bus, u32 relid)
{
	return relid && relid <= VMBUS_MAX_CHANNELS ? bus->relids[relid] : NULL;
}

/* ---- host -> guest messages ---- */

/* Hand a message to the SynIC: false if it must wait (the guest's queue is full). */
static bool post(struct vmb_bus *bus, const void *msg, u32 size)
{
	int st = bus->host.post(bus->host.ctx, msg, size);

	if (st == HV_STATUS_INSUFFICIENT_BUFFERS)
		return false;
	if (st != HV_STATUS_SUCCESS)
		vmbus_log(bus, "message type %u not delivered: status 0x%x",
			  ((const struct vmbus_msg_header *)msg)->type, st);
	return true;
}

void vmbus_flush_queue(struct vmb_bus *bus)
{
	while (bus->q_count) {
		const struct vmbus_queued_msg *m = &bus->queue[bus->q_head];

		if (!post(bus, m->data, m->size))
			return; /* still full: vmbus_poll tries again */
		bus->q_head = (bus->q_head + 1) % VMBUS_MSG_QUEUE;
		bus->q_count--;
	}
}

void vmbus_send(struct vmb_bus *bus, const void *msg, u32 size)
{
	struct vmbus_queued_msg *m;

	vmbus_flush_queue(bus);
	if (!bus->q_count && post(bus, msg, size))
		return;
	if (bus->q_count == VMBUS_MSG_QUEUE) {
		/* vmbus_guest_post keeps room for every answer a message can cause. */
		vmbus_log(bus, "message queue full: message type %u dropped",
			  ((const struct vmbus_msg_header *)msg)->type);
		return;
	}
	m = &bus->queue[(bus->q_head + bus->q_count++) % VMBUS_MSG_QUEUE];
	m->size = size;
	memset(m->data, 0, sizeof(m->data));
	memcpy(m->data, msg, size);
}

/* ---- guest -> host ---- */

int vmbus_guest_post(struct vmb_bus *bus, u32 conn_id, u32 type, const void *payload, u32 size)
{
	u64 msg[VMBUS_MSG_MAX / sizeof(u64)];

	if (conn_id != VMBUS_CONN_MESSAGE && conn_id != VMBUS_CONN_MESSAGE_4)
		return HV_STATUS_INVALID_CONNECTION_ID;
	if (type != VMBUS_HV_MESSAGE_TYPE) {
		vmbus_log(bus, "HvPostMessage of type %u dropped (VMBus uses type %u)", type,
			  VMBUS_HV_MESSAGE_TYPE);
		return HV_STATUS_INVALID_PARAMETER;
	}
	if (size > sizeof(msg))
		return HV_STATUS_INVALID_PARAMETER;
	/* One message can cause an answer per channel and one more: keep room for them all. */
	vmbus_flush_queue(bus);
	if (VMBUS_MSG_QUEUE - bus->q_count < VMBUS_MAX_CHANNELS + 2)
		return HV_STATUS_INSUFFICIENT_BUFFERS; /* Linux retries */
	/* The guest's payload was copied out of its page by the caller; this copy is ours. */
	memset(msg, 0, sizeof(msg));
	memcpy(msg, payload, size);
	vmbus_handle_message(bus, msg, size);
	return HV_STATUS_SUCCESS;
}

/* ---- the console's view ---- */

unsigned vmbus_nr_channels(const struct vmb_bus *bus)
{
	return bus->nr_channels;
}

static const char *channel_state(const struct vmb_channel *ch)
{
	if (ch->offer == OFFER_RESCINDING)
		return "rescinded";
	if (ch->open)
		return ch->broken ? "error" : ch->paused ? "paused" : "open";
	if (ch->offer == OFFER_SENT)
		return "offered";
	return ch->enabled ? "enabled" : "disabled";
}

int vmbus_channel_info(const struct vmb_bus *bus, unsigned index, struct vmbus_channel_info *out)
{
	const struct vmb_channel *ch;

	if (index >= bus->nr_channels)
		return -1;
	ch = bus->channels[index];
	memset(out, 0, sizeof(*out));
	out->relid = ch->relid;
	out->type = ch->type;
	out->instance = ch->instance;
	out->state = channel_state(ch);
	out->name = ch->name;
	if (ch->open) {
		out->in_used = ring_used(&ch->in);
		out->in_size = ch->in.size;
		out->out_used = ring_used(&ch->out);
		out->out_size = ch->out.size;
	}
	out->packets_in = ch->packets_in;
	out->packets_out = ch->packets_out;
	return 0;
}
