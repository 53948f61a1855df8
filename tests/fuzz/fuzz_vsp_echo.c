/*
 * libFuzzer: the echo VSP (vsp/echo.c) as hostile guests and a hostile
 * snapshot image drive it, through the fake VMBus library of
 * tests/unit/test_vsp_fake.c (as fuzz_vsp_ic.c does for the IC channels).
 * Two partitions each have an echo channel; the fake's packet table is the
 * allocator both buses share, capped (FAKE_MAX_PACKETS), and allocation can
 * be made to fail outright, so exhaustion reaches echo's error paths.
 *
 *   u8 mode | ops: { u8 op, ... }
 *
 *   op & 7: 0 a guest packet (u8 flags, u16 len, len bytes; op bit 3: the sibling's)
 *           1 ring room for sends and completions (u8: 0xff unlimited)
 *           2 allocation fails from now on (op bit 3) or works again
 *           3 a pass of the door (deferred work) | 4 save the channel's packets and
 *           restore them, as a snapshot does | 5 a hostile saved VSP part handed to
 *           restore_packet (u8 len, bytes) | 6 the guest closes and reopens the channel
 *           7 the console's `echo P`
 *
 * guest packet flags: bit 0 external data (ranges from the input; bit 2 one range
 * that fails to read), bit 1 completion requested.
 *
 * The fake aborts at any breach of the library's rules (a packet neither
 * completed, failed nor deferred; used after it is gone; ...). Checks (after
 * every few steps, each save or restore, and at the end): the packets echo holds are exactly the
 * channel's in-use ones and at most ECHO_QUEUE_DEPTH; an echo sent at once carries the payload
 * (in-band, truncated to ECHO_MAX_DATA); a refused restore keeps nothing; a save restores into the
 * same number of packets; and once the ring has room and allocation works, a pass drains everything
 * and delivery runs again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test_vsp_fake.h"
#include "vsp/echo.h"

#define MAX_OPS	 64
#define NR_PARTS 2

static const struct vmb_guid echo_type = ECHO_TYPE_GUID;
static const char *const names[NR_PARTS] = {"fuzz", "sibling"};
static struct vsp *inst[NR_PARTS];
static struct vmb_channel *ch[NR_PARTS];
static u8 ext_bytes[3][ECHO_MAX_DATA];
static const u8 *cur, *end;

static void fail(int line)
{
	fprintf(stderr, "fuzz_vsp_echo.c:%d: check failed\n", line);
	abort();
}
#define check(ok) ((ok) ? (void)0 : fail(__LINE__))

static u64 take(unsigned n)
{
	u64 v = 0;

	for (unsigned i = 0; i < n && cur < end; i++)
		v |= (u64)*cur++ << (8 * i);
	return v;
}

/*
 * Bus and VSP creation, in one place: today the fake's buses and the host's
 * calloc; the lead moves this onto the per-partition pools when merging the
 * budget work (issue 11, "Budgets").
 */
static void create_buses(void)
{
	char err[128];

	fake_reset();
	for (unsigned i = 0; i < NR_PARTS; i++) {
		inst[i] = fake_vsp_create("echo", names[i], err, sizeof(err));
		check(inst[i] != NULL);
		ch[i] = fake_channel(vsp_bus(inst[i]), &echo_type);
		check(ch[i] != NULL);
	}
	for (unsigned r = 0; r < 3; r++)
		for (unsigned i = 0; i < ECHO_MAX_DATA; i++)
			ext_bytes[r][i] = (u8)(i * 7 + r);
}

static void check_channel(unsigned i)
{
	unsigned queued = echo_queued(inst[i]);

	check(queued <= ECHO_QUEUE_DEPTH);
	check(fake_in_use(ch[i]) == queued);
}

static void guest_packet(unsigned i)
{
	static u8 buf[FAKE_MAX_DATA];
	struct fake_ext ext = {0};
	u8 flags = (u8)take(1);
	u32 len = (u32)take(2) % (FAKE_MAX_DATA + 1), avail = (u32)(end - cur);
	bool at_once = !echo_queued(inst[i]) && fake_ring_room == FAKE_RING_UNLIMITED &&
		       !fake_alloc_fails && !fake_paused(ch[i]) && fake_is_open(ch[i]);
	unsigned sent = fake_count(ch[i], FAKE_SENT);
	const struct fake_record *r;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, cur, MIN(len, avail));
	cur += MIN(len, avail);
	if (fake_guest_queued(ch[i]) >= 16)
		return; /* the fake's queue holds 32; a real ring would be full too */
	if (flags & 1) {
		ext.nr_ranges = 1 + (flags >> 4) % FAKE_MAX_RANGES;
		for (unsigned k = 0; k < ext.nr_ranges; k++) {
			ext.data[k] = ext_bytes[k % 3];
			ext.len[k] = (u32)take(2) % (ECHO_MAX_DATA + 1);
		}
		if (flags & 4)
			ext.data[ext.nr_ranges - 1] = NULL;
	}
	if (fake_nr_sent > FAKE_MAX_SENT - 16)
		fake_nr_sent = 0; /* keep the record from filling up */
	sent = fake_count(ch[i], FAKE_SENT);
	fake_guest_send(ch[i], buf, len,
			(flags & 1 ? VMB_PACKET_EXTERNAL_DATA : 0) |
			    (flags & 2 ? VMB_PACKET_COMPLETION_REQUESTED : 0),
			flags & 1 ? &ext : NULL);
	if (!at_once || (flags & 1) || len > ECHO_MAX_DATA)
		return;
	/* A packet with room for it everywhere is echoed at once, byte for byte. */
	r = fake_record(ch[i], FAKE_SENT, sent);
	check(r && r->len == len && !memcmp(r->data, buf, len));
}

static void save_restore(unsigned i)
{
	unsigned queued = echo_queued(inst[i]);
	int saved = fake_save(ch[i]);

	check(saved == (int)queued);
	if (fake_alloc_fails)
		return; /* a restore would fail half-way; the fake cannot undo that */
	check(fake_restore(ch[i]) == saved);
	check(echo_queued(inst[i]) == queued);
}

static void hostile_part(unsigned i)
{
	static u8 buf[sizeof(struct echo_saved_packet) + ECHO_MAX_DATA];
	u32 len = (u32)take(1), avail = (u32)(end - cur);
	unsigned queued = echo_queued(inst[i]);
	struct echo_saved_packet s;
	vmb_status st;

	/* Most parts get a plausible header, so the checks past it are reached. */
	len = MIN(len * 9, (u32)sizeof(buf));
	memset(buf, 0, sizeof(buf));
	memcpy(buf, cur, MIN(len, avail));
	cur += MIN(len, avail);
	if (len >= sizeof(s) && buf[0] & 1) {
		memcpy(&s, buf, sizeof(s));
		s.version = ECHO_SAVE_VERSION;
		s.len = len - (u32)sizeof(s);
		memcpy(buf, &s, sizeof(s));
	}
	if (!fake_is_open(ch[i]))
		return; /* restore_packet runs on an open channel only */
	/*
	 * An empty part is a packet the library holds (a completion waiting for ring
	 * room) and finishes itself; the fake's library part cannot say so, and would
	 * leave the packet in use for ever. test_vsp_echo covers that case.
	 */
	if (!len)
		return;
	st = fake_restore_one(ch[i], buf, len);
	check(st == VMB_STATUS_SUCCESS || st == VMB_STATUS_DATA_ERROR ||
	      st == VMB_STATUS_REVISION_MISMATCH || st == VMB_STATUS_INSUFFICIENT_RESOURCES);
	check(echo_queued(inst[i]) == queued + (st == VMB_STATUS_SUCCESS));
}

static void drained(unsigned i)
{
	if (fake_ring_room != FAKE_RING_UNLIMITED || fake_alloc_fails || !fake_is_open(ch[i]))
		return;
	fake_pass();
	fake_pass();
	check(echo_queued(inst[i]) == 0);
	check(!fake_paused(ch[i]));
	check(fake_guest_queued(ch[i]) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[32];
	u8 room;

	if (!inst[0])
		create_buses();
	/* Every input starts from the same state, so a crash reproduces from its input alone. */
	for (unsigned i = 0; i < NR_PARTS; i++)
		fake_close(ch[i]);
	fake_clear();
	fake_abort_on_violation = true;
	for (unsigned i = 0; i < NR_PARTS; i++)
		check(fake_open(ch[i]) == VMB_STATUS_SUCCESS);
	cur = data;
	end = data + size;
	for (unsigned n = 0; n < MAX_OPS && cur < end; n++) {
		u8 op = *cur++;
		unsigned i = (op >> 3) & 1;

		switch (op & 7) {
		case 0:
			guest_packet(i);
			break;
		case 1:
			room = (u8)take(1);
			fake_ring_room = room == 0xff ? FAKE_RING_UNLIMITED : room % 16;
			break;
		case 2:
			fake_alloc_fails = i;
			break;
		case 3:
			fake_pass();
			break;
		case 4:
			save_restore(i);
			break;
		case 5:
			hostile_part(i);
			break;
		case 6:
			fake_close(ch[i]);
			check(fake_open(ch[i]) == VMB_STATUS_SUCCESS);
			break;
		case 7:
			snprintf(line, sizeof(line), "echo %s", names[i]);
			check(strstr(fake_command(line), "echo partition=") != NULL);
			break;
		}
		if (n % 4 == 3 || (op & 7) == 4 || (op & 7) == 5)
			check_channel(i); /* not every step: fake_in_use walks the whole table */
	}
	/* The guest stops; the host has room again: everything goes out. */
	fake_ring_room = FAKE_RING_UNLIMITED;
	fake_alloc_fails = false;
	for (unsigned k = 0; k < NR_PARTS; k++) {
		check_channel(k);
		drained(k);
	}
	return 0;
}
