/*
 * A whole bus in a partition snapshot (kernel/snap.c, docs/architecture.md
 * "Snapshots"), as records (vmbus/save.h, "A whole bus"): the connection,
 * the control messages still waiting for a free SynIC slot, and every
 * channel through the KMCL save API (save.c): paused, saved in chunks,
 * started again. Restore reads and checks the records, pairs every saved
 * channel with the bus's by (type, instance) and checks every channel's
 * stream (vmbus_snap_check, also run on each new snapshot) before it
 * changes anything; then it disconnects the bus as the guest's memory goes back
 * and rebuilds each channel with vmb_channel_restore_from_buffer, which
 * kicks both ring directions once.
 */
#include "vmbus/bus.h"
#include "vmbus/save.h"

#include <stdio.h>
#include <string.h>

#define SNAP_CHUNK 1024 /* first buffer; doubled while more remains, grown for a big piece */

static const u32 bus_sizes[] = {sizeof(struct vmbus_saved_bus)};
static const u32 msg_sizes[] = {sizeof(struct vmbus_saved_msg)};
static const u32 channel_sizes[] = {sizeof(struct vmbus_saved_bus_channel)};
static const struct snap_rec_type rec_bus = {VMBUS_TAG_BUS, "VMBus", 1, 0, bus_sizes, NULL};
static const struct snap_rec_type rec_msg = {VMBUS_TAG_MSG, "VMBus message", 1, 0, msg_sizes, NULL};
static const struct snap_rec_type rec_channel = {
    VMBUS_TAG_CHANNEL, "VMBus channel", 1, 0, channel_sizes, NULL};

void vmbus_snap_drop(void *state)
{
	struct vmbus_snap *s = state;

	if (s)
		pool_free(s->pool, s);
}

/* The channel's stream, whole (from the bus's pool). */
static vmb_status save_stream(struct vmb_channel *ch, u8 **out, u32 *size)
{
	u32 cap = SNAP_CHUNK, len = 0, filled, required;
	vmb_status st = vmb_channel_save_begin(ch);
	u8 *buf = NULL;

	if (st != VMB_STATUS_SUCCESS)
		return st;
	for (;;) {
		u8 *grown = pool_realloc(vmbus_pool(ch->bus), buf, cap);

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
		pool_free(vmbus_pool(ch->bus), buf);
		return st;
	}
	*out = buf;
	*size = len;
	return VMB_STATUS_SUCCESS;
}

/* Each channel's stream, with the VSP's pause as it was. */
struct saved_channel {
	u8 *stream;
	u32 size;
	bool was_paused;
};

static void *assemble(const struct vmb_bus *bus, const struct saved_channel *c)
{
	const u32 hdr = sizeof(struct snap_rec_header);
	struct vmbus_saved_bus b = {bus->version,
				    bus->msg_sint,
				    bus->offers_requested ? VMBUS_SAVED_BUS_OFFERS_REQUESTED : 0,
				    0,
				    bus->zombies,
				    bus->q_count,
				    bus->nr_channels};
	u32 cap = hdr + sizeof(b) + bus->q_count * (hdr + (u32)sizeof(struct vmbus_saved_msg));
	struct vmbus_snap *s;
	bool fail = false;

	for (unsigned i = 0; i < bus->nr_channels; i++)
		cap += hdr + (u32)sizeof(struct vmbus_saved_bus_channel) + c[i].size;
	s = pool_alloc(vmbus_pool(bus), sizeof(*s) + cap);
	if (!s)
		return NULL;
	s->pool = vmbus_pool(bus);
	s->len = 0;
	fail |= snap_rec_put(s->buf, cap, &s->len, &rec_bus, &b) != 0;
	for (unsigned i = 0; i < bus->q_count; i++) {
		const struct vmbus_queued_msg *q = &bus->queue[(bus->q_head + i) % VMBUS_MSG_QUEUE];
		struct vmbus_saved_msg m;

		memset(&m, 0, sizeof(m));
		m.size = q->size;
		memcpy(m.data, q->data, MIN(q->size, sizeof(m.data)));
		fail |= snap_rec_put(s->buf, cap, &s->len, &rec_msg, &m) != 0;
	}
	for (unsigned i = 0; i < bus->nr_channels; i++) {
		const struct vmb_channel *ch = bus->channels[i];
		struct vmbus_saved_bus_channel e = {
		    ch->type, ch->instance, c[i].was_paused ? VMBUS_SAVED_CHANNEL_WAS_PAUSED : 0,
		    c[i].size};

		fail |= snap_rec_put(s->buf, cap, &s->len, &rec_channel, &e) != 0;
		if (!fail) {
			memcpy(s->buf + s->len, c[i].stream, c[i].size);
			s->len += c[i].size;
		}
	}
	if (fail) { /* the sizes above are wrong */
		pool_free(vmbus_pool(bus), s);
		return NULL;
	}
	return s;
}

void *vmbus_snap_save(struct vmb_bus *bus, char *err, size_t errlen)
{
	struct saved_channel c[VMBUS_MAX_CHANNELS];
	unsigned done = 0;
	void *s = NULL;

	memset(c, 0, sizeof(c));
	for (; done < bus->nr_channels; done++) {
		struct vmb_channel *ch = bus->channels[done];
		bool quiet = !ch->enabled && ch->offer == OFFER_NONE; /* never offered: no pause */
		vmb_status st;

		c[done].was_paused = ch->paused;
		if (!quiet)
			vmb_channel_pause(ch);
		st = save_stream(ch, &c[done].stream, &c[done].size);
		if (!quiet && !c[done].was_paused)
			vmb_channel_start(ch);
		if (st != VMB_STATUS_SUCCESS) {
			snprintf(err, errlen, "vmbus: channel %u (%s) not saved: status 0x%x",
				 ch->relid, ch->name[0] ? ch->name : "-", st);
			goto out;
		}
	}
	s = assemble(bus, c);
	if (!s)
		snprintf(err, errlen, "vmbus: out of memory");
out:
	for (unsigned i = 0; i < done; i++)
		pool_free(vmbus_pool(bus), c[i].stream);
	return s;
}

/* ---- restore ---- */

/* The next record, of type t, into out; its end in *at. */
static int next_record(const u8 *buf, u32 len, u32 *at, const struct snap_rec_type *t, void *out,
		       char *err, size_t errlen)
{
	struct snap_rec_header h;

	if (len - *at < sizeof(h)) {
		snprintf(err, errlen, "%s record missing", t->name);
		return -1;
	}
	memcpy(&h, buf + *at, sizeof(h));
	if (h.tag != t->tag || h.length > len - *at - sizeof(h)) {
		snprintf(err, errlen, "%s record expected at byte %u", t->name, *at);
		return -1;
	}
	if (snap_rec_read(t, &h, buf + *at + sizeof(h), out, err, errlen))
		return -1;
	*at += (u32)sizeof(h) + h.length;
	return 0;
}

static void guid_text(const struct vmb_guid *g, char *out, size_t len)
{
	snprintf(out, len, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", g->data1, g->data2,
		 g->data3, g->data4[0], g->data4[1], g->data4[2], g->data4[3], g->data4[4],
		 g->data4[5], g->data4[6], g->data4[7]);
}

/* A restore checked: the bus record, the messages, and each saved channel's live match. */
struct bus_plan {
	struct vmbus_saved_bus b;
	struct vmbus_saved_msg msgs[VMBUS_MSG_QUEUE];
	struct vmb_channel *match[VMBUS_MAX_CHANNELS]; /* of saved channel i */
	const u8 *stream[VMBUS_MAX_CHANNELS];
	u32 size[VMBUS_MAX_CHANNELS];
	bool was_paused[VMBUS_MAX_CHANNELS];
};

static struct vmb_channel *find_channel(const struct vmb_bus *bus, const struct bus_plan *pl,
					unsigned before, const struct vmbus_saved_bus_channel *e)
{
	for (unsigned i = 0; i < bus->nr_channels; i++) {
		struct vmb_channel *ch = bus->channels[i];
		bool taken = false;

		if (memcmp(&ch->type, &e->type, sizeof(e->type)) ||
		    memcmp(&ch->instance, &e->instance, sizeof(e->instance)))
			continue;
		for (unsigned k = 0; k < before; k++)
			taken |= pl->match[k] == ch;
		if (!taken)
			return ch;
	}
	return NULL;
}

static int check_bus(const struct vmb_bus *bus, const struct vmbus_snap *s, struct bus_plan *pl,
		     char *err, size_t errlen)
{
	const struct vmbus_saved_bus *b = &pl->b;
	u32 at = 0;

	if (next_record(s->buf, s->len, &at, &rec_bus, &pl->b, err, errlen))
		return -1;
	/*
	 * Relid 0 is no relid; a zombie is a relid the guest still holds. A bus that is not
	 * connected may still owe answers (a refused version, UNLOAD_RESPONSE): messages wait.
	 */
	if (!vmbus_saved_version_ok(b->version) || b->msg_sint >= HV_SINT_COUNT ||
	    (b->flags & ~VMBUS_SAVED_BUS_OFFERS_REQUESTED) || b->reserved ||
	    b->nr_msgs > VMBUS_MSG_QUEUE || b->nr_channels > VMBUS_MAX_CHANNELS ||
	    (b->zombies & 1) ||
	    (VMBUS_MAX_CHANNELS < 63 && b->zombies >> (VMBUS_MAX_CHANNELS + 1)) ||
	    (!b->version && (b->flags || b->zombies))) {
		snprintf(err, errlen, "VMBus record: a field out of range");
		return -1;
	}
	for (unsigned i = 0; i < b->nr_msgs; i++) {
		const struct vmbus_saved_msg *m = &pl->msgs[i];

		if (next_record(s->buf, s->len, &at, &rec_msg, &pl->msgs[i], err, errlen))
			return -1;
		if (m->size < sizeof(struct vmbus_msg_header) || m->size > VMBUS_MSG_MAX ||
		    m->reserved) {
			snprintf(err, errlen, "VMBus message record of %u bytes", m->size);
			return -1;
		}
	}
	for (unsigned i = 0; i < b->nr_channels; i++) {
		struct vmbus_saved_bus_channel e;
		char type[40], inst[40];

		if (next_record(s->buf, s->len, &at, &rec_channel, &e, err, errlen))
			return -1;
		if ((e.flags & ~VMBUS_SAVED_CHANNEL_WAS_PAUSED) || e.size > s->len - at) {
			snprintf(err, errlen, "VMBus channel record: a field out of range");
			return -1;
		}
		pl->match[i] = find_channel(bus, pl, i, &e);
		if (!pl->match[i]) {
			guid_text(&e.type, type, sizeof(type));
			guid_text(&e.instance, inst, sizeof(inst));
			snprintf(err, errlen,
				 "vmbus: the snapshot has a channel of type %s instance %s, the "
				 "bus none",
				 type, inst);
			return -1;
		}
		pl->stream[i] = s->buf + at;
		pl->size[i] = e.size;
		pl->was_paused[i] = e.flags & VMBUS_SAVED_CHANNEL_WAS_PAUSED;
		at += e.size;
	}
	if (at != s->len) {
		snprintf(err, errlen, "VMBus records: %u bytes after the last", s->len - at);
		return -1;
	}
	return 0;
}

/*
 * Each saved channel's stream, whole, as its restore will check it; and what
 * the streams need of the bus among themselves. The bus is disconnected
 * before the channels are rebuilt (no zombies, no version, no channel the
 * guest knows), so only the saved channels can conflict: each relid once,
 * none a zombie of the bus record, every connected one of the bus's version.
 */
static int check_streams(const struct bus_plan *pl, char *err, size_t errlen)
{
	u64 relids = 0;

	for (unsigned i = 0; i < pl->b.nr_channels; i++) {
		const struct vmb_channel *ch = pl->match[i];
		struct vmbus_stream_needs n;
		vmb_status st = vmbus_save_check_stream(ch, pl->stream[i], pl->size[i], &n);

		if (st != VMB_STATUS_SUCCESS) {
			snprintf(err, errlen,
				 "vmbus: channel %u (%s): saved state refused: status 0x%x",
				 ch->relid, ch->name[0] ? ch->name : "-", st);
			return -1;
		}
		if ((n.relid && ((relids | pl->b.zombies) & (1ull << n.relid))) ||
		    (n.bus_version && n.bus_version != pl->b.version)) {
			snprintf(err, errlen,
				 "vmbus: channel %u (%s): saved relid %u or version 0x%x "
				 "does not fit the bus",
				 ch->relid, ch->name[0] ? ch->name : "-", n.relid, n.bus_version);
			return -1;
		}
		if (n.relid)
			relids |= 1ull << n.relid;
	}
	return 0;
}

/* Everything the restore of s would check; nothing changes. */
static struct bus_plan *plan_restore(const struct vmb_bus *bus, const struct vmbus_snap *s,
				     char *err, size_t errlen)
{
	struct bus_plan *pl;

	if (!s) {
		snprintf(err, errlen, "vmbus: no saved state");
		return NULL;
	}
	pl = pool_zalloc(vmbus_pool(bus), sizeof(*pl));
	if (!pl) {
		snprintf(err, errlen, "vmbus: out of memory");
		return NULL;
	}
	if (check_bus(bus, s, pl, err, errlen) || check_streams(pl, err, errlen)) {
		pool_free(vmbus_pool(bus), pl);
		return NULL;
	}
	return pl;
}

int vmbus_snap_check(const struct vmb_bus *bus, const void *state, char *err, size_t errlen)
{
	struct bus_plan *pl = plan_restore(bus, state, err, errlen);

	pool_free(vmbus_pool(bus), pl);
	return pl ? 0 : -1;
}

int vmbus_snap_restore(struct vmb_bus *bus, const void *state, char *err, size_t errlen)
{
	struct bus_plan *pl = plan_restore(bus, state, err, errlen);
	int rc = -1;

	if (!pl)
		return -1;
	/* What the guest held goes with its memory; nothing is written to that memory. */
	vmbus_disconnect(bus);
	for (unsigned i = 0; i < pl->b.nr_channels; i++) {
		struct vmb_channel *ch = pl->match[i];
		vmb_status st = vmb_channel_restore_from_buffer(ch, pl->stream[i], pl->size[i]);

		if (st != VMB_STATUS_SUCCESS) { /* checked: out of host memory */
			snprintf(err, errlen, "vmbus: channel %u (%s) not restored: status 0x%x",
				 ch->relid, ch->name[0] ? ch->name : "-", st);
			vmbus_save_discard(ch); /* a stream shorter than it said: its buffer goes */
			vmbus_disconnect(bus);
			goto out;
		}
		if (!pl->was_paused[i] && (ch->enabled || ch->offer != OFFER_NONE))
			vmb_channel_start(ch);
	}
	bus->version = pl->b.version;
	bus->msg_sint = pl->b.msg_sint;
	bus->offers_requested = pl->b.flags & VMBUS_SAVED_BUS_OFFERS_REQUESTED;
	bus->zombies = pl->b.zombies;
	bus->q_head = 0;
	bus->q_count = pl->b.nr_msgs;
	for (unsigned i = 0; i < pl->b.nr_msgs; i++) {
		bus->queue[i].size = pl->msgs[i].size;
		memcpy(bus->queue[i].data, pl->msgs[i].data, pl->msgs[i].size);
	}
	/* A channel made since the snapshot is new to the restored guest: offered now. */
	for (unsigned i = 0; i < bus->nr_channels; i++) {
		bool saved = false;

		for (unsigned k = 0; k < pl->b.nr_channels; k++)
			saved |= pl->match[k] == bus->channels[i];
		if (!saved)
			vmbus_offer(bus->channels[i]);
	}
	vmbus_flush_queue(bus);
	rc = 0;
out:
	pool_free(vmbus_pool(bus), pl);
	return rc;
}
