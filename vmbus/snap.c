/*
 * A whole bus in a partition snapshot (kernel/snap.c, DESIGN.md
 * "Snapshots"): the connection, the control messages still waiting for a
 * free SynIC slot, and every channel through the KMCL save API (save.c):
 * paused, saved in chunks, started again. Restore disconnects the bus as
 * the guest's memory goes back, then rebuilds each channel with
 * vmb_channel_restore_from_buffer, which kicks both ring directions once.
 */
#include "vmbus/bus.h"
#include "vmbus/save.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_CHUNK 1024 /* first buffer; doubled while more remains, grown for a big piece */

struct vmbus_snap_channel {
	u8 *buf;
	u32 size;
	bool was_paused; /* by its VSP: stays paused */
};

struct vmbus_snap {
	u32 version;
	u8 msg_sint;
	bool offers_requested;
	u64 zombies;
	unsigned nr_msgs;
	struct vmbus_queued_msg *msgs;
	unsigned nr_channels;
	struct vmbus_snap_channel ch[VMBUS_MAX_CHANNELS];
};

void vmbus_snap_drop(void *state)
{
	struct vmbus_snap *s = state;

	if (!s)
		return;
	for (unsigned i = 0; i < s->nr_channels; i++)
		free(s->ch[i].buf);
	free(s->msgs);
	free(s);
}

/* The channel's stream, whole, into out (malloc'd). */
static vmb_status save_stream(struct vmb_channel *ch, struct vmbus_snap_channel *out)
{
	u32 cap = SNAP_CHUNK, len = 0, filled, required;
	vmb_status st = vmb_channel_save_begin(ch);
	u8 *buf = NULL;

	if (st != VMB_STATUS_SUCCESS)
		return st;
	for (;;) {
		u8 *grown = realloc(buf, cap);

		if (!grown) {
			st = VMB_STATUS_INSUFFICIENT_RESOURCES;
			break;
		}
		buf = grown;
		st = vmb_channel_save_continue(ch, buf + len, cap - len, &filled, &required);
		if (st == VMB_STATUS_BUFFER_TOO_SMALL) {
			cap = len + MAX(required, SNAP_CHUNK);
			continue;
		}
		len += filled;
		if (st != VMB_STATUS_BUFFER_OVERFLOW)
			break;
		cap *= 2; /* len <= cap: at least cap bytes more */
	}
	vmb_channel_save_end(ch);
	if (st != VMB_STATUS_SUCCESS) {
		free(buf);
		return st;
	}
	out->buf = buf;
	out->size = len;
	return VMB_STATUS_SUCCESS;
}

void *vmbus_snap_save(struct vmb_bus *bus, char *err, size_t errlen)
{
	struct vmbus_snap *s = calloc(1, sizeof(*s));

	if (!s)
		goto oom;
	s->version = bus->version;
	s->msg_sint = bus->msg_sint;
	s->offers_requested = bus->offers_requested;
	s->zombies = bus->zombies;
	if (bus->q_count) {
		s->msgs = calloc(bus->q_count, sizeof(*s->msgs));
		if (!s->msgs)
			goto oom;
		for (unsigned i = 0; i < bus->q_count; i++)
			s->msgs[i] = bus->queue[(bus->q_head + i) % VMBUS_MSG_QUEUE];
		s->nr_msgs = bus->q_count;
	}
	for (unsigned i = 0; i < bus->nr_channels; i++) {
		struct vmb_channel *ch = bus->channels[i];
		struct vmbus_snap_channel *c = &s->ch[i];
		bool quiet = !ch->enabled && ch->offer == OFFER_NONE; /* never offered: no pause */
		vmb_status st;

		c->was_paused = ch->paused;
		if (!quiet)
			vmb_channel_pause(ch);
		st = save_stream(ch, c);
		if (!quiet && !c->was_paused)
			vmb_channel_start(ch);
		if (st != VMB_STATUS_SUCCESS) {
			snprintf(err, errlen, "vmbus: channel %u (%s) not saved: status 0x%x",
				 ch->relid, ch->name[0] ? ch->name : "-", st);
			s->nr_channels = i;
			vmbus_snap_drop(s);
			return NULL;
		}
		s->nr_channels = i + 1;
	}
	return s;
oom:
	vmbus_snap_drop(s);
	snprintf(err, errlen, "vmbus: out of memory");
	return NULL;
}

int vmbus_snap_restore(struct vmb_bus *bus, const void *state, char *err, size_t errlen)
{
	const struct vmbus_snap *s = state;

	if (!s || s->nr_channels != bus->nr_channels) {
		snprintf(err, errlen, "vmbus: the snapshot has %u channels, the bus %u",
			 s ? s->nr_channels : 0, bus->nr_channels);
		return -1;
	}
	/* What the guest held goes with its memory; nothing is written to that memory. */
	vmbus_disconnect(bus);
	for (unsigned i = 0; i < s->nr_channels; i++) {
		struct vmb_channel *ch = bus->channels[i];
		const struct vmbus_snap_channel *c = &s->ch[i];
		vmb_status st = vmb_channel_restore_from_buffer(ch, c->buf, c->size);

		if (st != VMB_STATUS_SUCCESS) {
			snprintf(err, errlen, "vmbus: channel %u (%s) not restored: status 0x%x",
				 ch->relid, ch->name[0] ? ch->name : "-", st);
			vmbus_disconnect(bus);
			return -1;
		}
		if (!c->was_paused && (ch->enabled || ch->offer != OFFER_NONE))
			vmb_channel_start(ch);
	}
	bus->version = s->version;
	bus->msg_sint = s->msg_sint;
	bus->offers_requested = s->offers_requested;
	bus->zombies = s->zombies;
	bus->q_head = 0;
	bus->q_count = s->nr_msgs;
	for (unsigned i = 0; i < s->nr_msgs; i++)
		bus->queue[i] = s->msgs[i];
	vmbus_flush_queue(bus);
	return 0;
}
