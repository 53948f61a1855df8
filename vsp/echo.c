/*
 * The echo VSP (protocol in echo.h): one channel per partition that sends
 * every guest packet back, for testing the VMBus server and guest clients.
 *
 * Flow control: the echo and the completion both need room in the
 * host->guest ring. When either is refused with INSUFFICIENT_RESOURCES the
 * guest packet is deferred (vmb_channel_packet_defer) with a copy of its
 * bytes and a note of what is still owed (echo, or only the completion),
 * and packet delivery is paused so that later packets stay in the guest's
 * ring, in order. The queue drains from processing_complete and from the
 * door's work pass (vsp_defer, vmbus/vsp.h), which resumes delivery once
 * it is empty.
 * Deferred packets are in use, so a channel save carries them
 * (echo_save_packet / echo_check_packet / echo_restore_packet), and the
 * instance saves whether it had paused delivery (echo_save / echo_restore),
 * which the restore keeps paused for echo to start again.
 *
 * Library rules relied on (vmbus/kmcl.h): a successful vmb_packet_send
 * consumes the packet, a failed one leaves it to us to free; a
 * vmb_channel_packet_complete that returns INSUFFICIENT_RESOURCES leaves the
 * guest packet in use, to be completed again (a completion merely waiting
 * for ring space is queued by the library and returns SUCCESS).
 */
#include "vsp/echo.h"
#include "vmbus/vsp.h"

#include <stdio.h>
#include <string.h>

struct echo_entry {
	struct vmb_packet *packet; /* the guest's, deferred */
	u32 flags;		   /* its VMB_PACKET_* */
	bool echoed;		   /* the echo went out; only the completion is owed */
	u32 len;
	u8 data[ECHO_MAX_DATA];
};

/* The instance (vsp_state); the channel's context points to it. */
struct echo_dev {
	struct vsp *vsp;
	struct vmb_channel *channel;
	bool open;
	bool paused; /* by us, while entries wait */
	bool drop_logged;
	unsigned head, count; /* the queue, oldest first */
	struct echo_entry q[ECHO_QUEUE_DEPTH];
	struct echo_stats stats;
};

static struct echo_dev *echo_of_channel(struct vmb_channel *channel)
{
	return *(struct echo_dev **)vmb_channel_get_pointer(channel);
}

void echo_get_stats(struct vsp *v, struct echo_stats *out)
{
	const struct echo_dev *d = vsp_state(v);

	*out = d->stats;
}

unsigned echo_queued(struct vsp *v)
{
	const struct echo_dev *d = vsp_state(v);

	return d->count;
}

static struct echo_entry *echo_slot(struct echo_dev *d, unsigned i)
{
	return &d->q[(d->head + i) % ECHO_QUEUE_DEPTH];
}

/* ---- one packet ---- */

static vmb_status echo_send(struct echo_dev *d, const u8 *data, u32 len)
{
	struct vmb_packet *out;
	vmb_status st = vmb_packet_allocate(d->channel, &out);

	if (st != VMB_STATUS_SUCCESS)
		return st;
	st = vmb_packet_send(out, data, len, NULL, 0);
	if (st != VMB_STATUS_SUCCESS)
		vmb_packet_free(out);
	return st;
}

/* Do what the entry still owes. false: the ring is full, try again later. */
static bool echo_finish(struct echo_dev *d, struct echo_entry *e)
{
	vmb_status st;

	if (!e->echoed) {
		st = echo_send(d, e->data, e->len);
		if (st == VMB_STATUS_INSUFFICIENT_RESOURCES)
			return false;
		if (st != VMB_STATUS_SUCCESS)
			d->stats.errors++; /* cannot be echoed: still complete it */
		e->echoed = true;
	}
	st = vmb_channel_packet_complete(e->packet, e->data, e->len);
	if (st == VMB_STATUS_INSUFFICIENT_RESOURCES)
		return false;
	if (st != VMB_STATUS_SUCCESS)
		d->stats.errors++;
	else if (e->flags & VMB_PACKET_COMPLETION_REQUESTED)
		d->stats.completions++;
	return true;
}

/* The bytes to echo: the in-band payload, or the guest memory the packet describes. */
static int echo_copy(struct echo_dev *d, struct echo_entry *e, struct vmb_packet *packet,
		     const void *buffer, u32 len)
{
	struct vmb_external_data ext;
	bool truncated = false;
	u32 n = 0;

	if (!(e->flags & VMB_PACKET_EXTERNAL_DATA)) {
		truncated = len > ECHO_MAX_DATA;
		n = MIN(len, ECHO_MAX_DATA);
		memcpy(e->data, buffer, n);
	} else {
		if (vmb_packet_get_external_data(packet, &ext) != VMB_STATUS_SUCCESS)
			return -1;
		d->stats.external++;
		for (u32 r = 0; r < ext.nr_ranges && !truncated; r++) {
			u32 want = ext.ranges[r].byte_count;
			u32 take = MIN(want, ECHO_MAX_DATA - n);

			truncated = take < want;
			if (take && vmb_packet_read_external(packet, r, 0, e->data + n, take) !=
					VMB_STATUS_SUCCESS)
				return -1;
			n += take;
		}
	}
	e->len = n;
	if (truncated)
		d->stats.truncated++;
	return 0;
}

static void echo_drop(struct echo_dev *d, struct vmb_packet *packet, const char *why)
{
	d->stats.dropped++;
	vmb_channel_packet_fail(packet);
	if (d->drop_logged)
		return;
	d->drop_logged = true;
	vsp_log(d->vsp, "packet failed: %s", why);
}

static void echo_process_packet(struct vmb_channel *channel, struct vmb_packet *packet,
				const void *buffer, u32 len, u32 flags)
{
	struct echo_dev *d = echo_of_channel(channel);
	struct echo_entry *e;

	if (d->count == ECHO_QUEUE_DEPTH) {
		/* Only if the library still delivers while we have paused it. */
		echo_drop(d, packet, "queue full although delivery is paused");
		return;
	}
	/* Build it in the next free slot; it stays there only if it must wait. */
	e = echo_slot(d, d->count);
	e->packet = packet;
	e->flags = flags;
	e->echoed = false;
	if (echo_copy(d, e, packet, buffer, len)) {
		d->stats.errors++;
		vmb_channel_packet_fail(packet);
		return;
	}
	d->stats.packets++;
	d->stats.bytes += e->len;
	if (!d->count && echo_finish(d, e))
		return;
	/* The ring is full, or older packets wait: keep it, in order. */
	if (vmb_channel_packet_defer(packet) != VMB_STATUS_SUCCESS) {
		echo_drop(d, packet, "the library refused to defer it");
		return;
	}
	d->count++;
	d->stats.deferred++;
	if (!d->paused && vmb_channel_pause(d->channel) == VMB_STATUS_SUCCESS)
		d->paused = true;
	vsp_defer(d->vsp); /* retry from the work pass, outside this callback */
}

/* Send what waits, oldest first, until the ring is full again. */
static void echo_drain(struct echo_dev *d)
{
	while (d->count && echo_finish(d, echo_slot(d, 0))) {
		d->head = (d->head + 1) % ECHO_QUEUE_DEPTH;
		d->count--;
	}
}

static void echo_processing_complete(struct vmb_channel *channel, u32 packets)
{
	echo_drain(echo_of_channel(channel));
}

/* The work pass: retry, and resume delivery (never from inside a callback). */
static void echo_work(struct vsp *v)
{
	struct echo_dev *d = vsp_state(v);

	echo_drain(d);
	if (d->count) {
		vsp_defer(v); /* the ring is still full: try again at the next pass */
		return;
	}
	if (!d->paused)
		return;
	/* Cleared first: start delivers at once, and a packet may pause us again. */
	d->paused = false;
	if (vmb_channel_start(d->channel) != VMB_STATUS_SUCCESS) {
		d->paused = true;
		vsp_defer(v);
	}
}

/* ---- channel state ---- */

static vmb_status echo_opened(struct vmb_channel *channel)
{
	struct echo_dev *d = echo_of_channel(channel);

	d->open = true;
	d->drop_logged = false;
	return VMB_STATUS_SUCCESS;
}

static void echo_closed(struct vmb_channel *channel)
{
	struct echo_dev *d = echo_of_channel(channel);

	/* The library has dropped the in-use packets: forget them. */
	d->open = false;
	d->head = d->count = 0;
	if (d->paused) {
		d->paused = false;
		vmb_channel_start(channel); /* a reopened channel starts unpaused */
	}
}

static const struct vmb_state_callbacks echo_state_callbacks = {
    .opened = echo_opened,
    .closed = echo_closed,
};

static vmb_status echo_save_packet(struct vmb_channel *channel, struct vmb_packet *packet,
				   void *save_buf, u32 save_buf_size, u32 *bytes_needed)
{
	struct echo_dev *d = echo_of_channel(channel);
	struct echo_saved_packet s;
	const struct echo_entry *e = NULL;

	for (unsigned i = 0; i < d->count && !e; i++)
		if (echo_slot(d, i)->packet == packet)
			e = echo_slot(d, i);
	if (!e) {
		*bytes_needed = 0; /* not one of ours: nothing of our own to keep */
		return VMB_STATUS_SUCCESS;
	}
	*bytes_needed = sizeof(s) + e->len;
	if (save_buf_size < *bytes_needed)
		return VMB_STATUS_BUFFER_TOO_SMALL;
	s = (struct echo_saved_packet){ECHO_SAVE_VERSION, e->echoed ? ECHO_SAVED_ECHOED : 0, e->len,
				       e->flags};
	memcpy(save_buf, &s, sizeof(s));
	memcpy((u8 *)save_buf + sizeof(s), e->data, e->len);
	return VMB_STATUS_SUCCESS;
}

/*
 * A saved VSP part, checked field by field (it may come from an image): *ours
 * false for an empty one, a packet echo kept nothing for (a completion the
 * library holds until the ring has room). Echo's packets are the channel's
 * incoming ones, which a stream carries first: at most ECHO_QUEUE_DEPTH.
 */
static vmb_status echo_parse_saved(u32 index, const void *save_buf, u32 save_buf_size,
				   struct echo_saved_packet *s, bool *ours)
{
	const u32 known_flags = VMB_PACKET_COMPLETION_REQUESTED | VMB_PACKET_EXTERNAL_DATA;

	*ours = save_buf_size != 0;
	if (!*ours)
		return VMB_STATUS_SUCCESS;
	if (save_buf_size < sizeof(*s))
		return VMB_STATUS_DATA_ERROR;
	memcpy(s, save_buf, sizeof(*s));
	if (s->version != ECHO_SAVE_VERSION)
		return VMB_STATUS_REVISION_MISMATCH;
	if (s->len > ECHO_MAX_DATA || save_buf_size != sizeof(*s) + s->len ||
	    (s->state & ~ECHO_SAVED_KNOWN) || (s->flags & ~known_flags) ||
	    index >= ECHO_QUEUE_DEPTH)
		return VMB_STATUS_DATA_ERROR;
	return VMB_STATUS_SUCCESS;
}

static vmb_status echo_check_packet(struct vmb_channel *channel, u32 index, const void *save_buf,
				    u32 save_buf_size)
{
	struct echo_saved_packet s;
	bool ours;

	return echo_parse_saved(index, save_buf, save_buf_size, &s, &ours);
}

static vmb_status echo_restore_packet(struct vmb_channel *channel, const void *lib_buf,
				      u32 lib_buf_size, const void *save_buf, u32 save_buf_size)
{
	struct echo_dev *d = echo_of_channel(channel);
	struct echo_saved_packet s;
	struct echo_entry *e;
	struct vmb_packet *packet;
	vmb_status st;
	bool ours;

	/* In stream order: our count is never above the index check_packet saw it at. */
	st = echo_parse_saved(d->count, save_buf, save_buf_size, &s, &ours);
	if (st != VMB_STATUS_SUCCESS)
		return st;
	st = vmb_packet_allocate(channel, &packet);
	if (st != VMB_STATUS_SUCCESS)
		return st;
	st = vmb_packet_restore(packet, lib_buf, lib_buf_size);
	if (st != VMB_STATUS_SUCCESS) {
		vmb_packet_free(packet);
		return st;
	}
	if (!ours)
		return VMB_STATUS_SUCCESS; /* the library's to finish */
	e = echo_slot(d, d->count);
	e->packet = packet;
	e->flags = s.flags;
	e->echoed = s.state & ECHO_SAVED_ECHOED;
	e->len = s.len;
	memcpy(e->data, (const u8 *)save_buf + sizeof(s), s.len);
	d->count++;
	vsp_defer(d->vsp); /* it goes out from the work pass */
	return VMB_STATUS_SUCCESS;
}

/* ---- the instance's own state in a snapshot (echo.h, struct echo_saved) ---- */

static vmb_status echo_save(struct vsp *v, void *buf, u32 size, u32 *needed)
{
	const struct echo_dev *d = vsp_state(v);
	const struct echo_saved s = {ECHO_STATE_VERSION, sizeof(s),
				     d->paused ? ECHO_SAVED_PAUSED : 0, 0};

	*needed = sizeof(s);
	if (size < sizeof(s))
		return VMB_STATUS_BUFFER_TOO_SMALL;
	memcpy(buf, &s, sizeof(s));
	return VMB_STATUS_SUCCESS;
}

static vmb_status echo_parse_state(const void *buf, u32 size, struct echo_saved *s)
{
	memset(s, 0, sizeof(*s));
	if (!size)
		return VMB_STATUS_SUCCESS; /* nothing saved: not paused */
	if (size < 2 * sizeof(u32))
		return VMB_STATUS_DATA_ERROR;
	memcpy(s, buf, 2 * sizeof(u32));
	if (s->version != ECHO_STATE_VERSION)
		return VMB_STATUS_REVISION_MISMATCH;
	if (size < sizeof(*s) || s->size != size)
		return VMB_STATUS_DATA_ERROR;
	memcpy(s, buf, sizeof(*s));
	if ((s->flags & ~ECHO_SAVED_PAUSED) || s->reserved)
		return VMB_STATUS_DATA_ERROR;
	return VMB_STATUS_SUCCESS;
}

static vmb_status echo_check(struct vsp *v, const void *buf, u32 size)
{
	struct echo_saved s;

	return echo_parse_state(buf, size, &s);
}

/*
 * After the channel is back (vmbus/vsp.h): the channel was saved paused and
 * stays so if echo had paused it; echo takes that pause back as its own, and
 * the work pass starts the channel once the waiting packets are out.
 */
static vmb_status echo_restore(struct vsp *v, const void *buf, u32 size)
{
	struct echo_dev *d = vsp_state(v);
	struct echo_saved s;
	vmb_status st = echo_parse_state(buf, size, &s);

	if (st != VMB_STATUS_SUCCESS)
		return st;
	/* Only ever set: a channel started by the restore may have paused us again already. */
	if (s.flags & ECHO_SAVED_PAUSED) {
		d->paused = true;
		vsp_defer(v);
	}
	return VMB_STATUS_SUCCESS;
}

/* ---- creation: `vmbus = echo` ---- */

static int echo_create(struct vsp *v, char *err, size_t errlen)
{
	static const struct vmb_guid type = ECHO_TYPE_GUID, instance = ECHO_INSTANCE_GUID;
	struct vmb_bus *bus = vsp_bus(v);
	struct echo_dev *d = vsp_state(v);
	struct vmb_channel *ch;
	vmb_status st;

	d->vsp = v;
	st = vmb_channel_allocate(bus, &ch);
	if (st != VMB_STATUS_SUCCESS) {
		snprintf(err, errlen, "echo: no channel (status 0x%08x)", st);
		return -1;
	}
	if ((st = vmb_server_channel_init_set_vmbus_handle(ch, bus)) ||
	    (st = vmb_server_channel_init_set_target_interface_id(ch, &type, &instance)) ||
	    (st = vmb_channel_init_set_friendly_name(ch, "echo")) ||
	    (st = vmb_channel_init_set_maximum_packet_size(ch, ECHO_MAX_DATA)) ||
	    (st = vmb_channel_init_set_maximum_external_data(ch, ECHO_MAX_EXTERNAL)) ||
	    (st = vmb_channel_init_set_client_context_size(ch, sizeof(d))) ||
	    (st = vmb_channel_init_set_process_packet_callbacks(ch, echo_process_packet,
								echo_processing_complete)) ||
	    (st = vmb_channel_init_set_state_change_callbacks(ch, &echo_state_callbacks)) ||
	    (st = vmb_server_channel_init_set_save_restore_packet_callbacks(ch, echo_save_packet,
									    echo_restore_packet)) ||
	    (st = vmb_server_channel_init_set_check_packet_callback(ch, echo_check_packet))) {
		vmb_channel_cleanup(ch);
		snprintf(err, errlen, "echo: channel set-up failed (status 0x%08x)", st);
		return -1;
	}
	*(struct echo_dev **)vmb_channel_get_pointer(ch) = d;
	d->channel = ch;
	st = vmb_channel_enable(ch);
	if (st != VMB_STATUS_SUCCESS) {
		vmb_channel_cleanup(ch);
		snprintf(err, errlen, "echo: offer failed (status 0x%08x)", st);
		return -1;
	}
	return 0;
}

VSP_TYPE(echo_vsp) = {
    .name = "echo",
    .state_size = sizeof(struct echo_dev),
    .create = echo_create,
    .work = echo_work,
    .save = echo_save,
    .check = echo_check,
    .restore = echo_restore,
};

/* ---- console ---- */

static void cmd_echo(struct vsp *v, int argc, char **argv)
{
	const struct echo_dev *d = vsp_state(v);
	const struct echo_stats *s = &d->stats;

	vsp_printf("echo partition=%s state=%s packets=%llu bytes=%llu completions=%llu "
		   "external=%llu truncated=%llu deferred=%llu queued=%u paused=%d errors=%llu "
		   "dropped=%llu\n",
		   argv[1], d->open ? "open" : "closed", (unsigned long long)s->packets,
		   (unsigned long long)s->bytes, (unsigned long long)s->completions,
		   (unsigned long long)s->external, (unsigned long long)s->truncated,
		   (unsigned long long)s->deferred, d->count, d->paused,
		   (unsigned long long)s->errors, (unsigned long long)s->dropped);
}

VSP_COMMAND(echo_cmd) = {
    .name = "echo",
    .vsp = "echo",
    .device = "echo channel",
    .usage = "echo PARTITION",
    .fn = cmd_echo,
    .help = "echo P               counters of P's echo device",
};
