/*
 * The virtual switch (vsp/vswitch/) on the host, with the small door fake of
 * test_vsw_fake.c and fake NICs as endpoints: learning, aging, flooding,
 * isolation of switches, queue bounds and the per-sender share (measured),
 * extensions in order and their drops, a port's runtime state saved and
 * restored (SUCCESS, error, PENDING, unknown GUID), the state parser, the
 * console lines and the configuration's errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_vsw_fake.h"

#define BUDGET (1u << 20)

static const u8 mac_a[6] = {0x00, 0x15, 0x5d, 0x00, 0x00, 0x00};
static const u8 mac_b[6] = {0x00, 0x15, 0x5d, 0x00, 0x01, 0x00};
static const u8 mac_c[6] = {0x00, 0x15, 0x5d, 0x00, 0x02, 0x00};
static const u8 bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const u8 mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
static struct fake_nic a, b, c;

static const char *cfg_base = "[partition alpha]\nmemory = 16M\nimage = a.bin\n"
			      "[partition beta]\nmemory = 16M\nimage = b.bin\n";

static void boot(const char *switches)
{
	char text[2048], err[CFG_ERR_MAX];

	snprintf(text, sizeof(text), "%s%s", cfg_base, switches);
	if (fake_boot(text, err, sizeof(err)))
		fail_msg("boot: %s", err);
}

/* A frame dst <- src with a 2-byte type and n payload bytes (the type's low byte repeated). */
static u32 frame(u8 *buf, const u8 *dst, const u8 *src, u16 type, u32 n)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = type >> 8;
	buf[13] = type & 0xff;
	memset(buf + 14, type & 0xff, n);
	return 14 + n;
}

static vmb_status send(struct fake_nic *from, const u8 *dst, u16 type)
{
	u8 buf[VSW_FRAME_MAX];
	u32 len = frame(buf, dst,
			vsw_port_id(from->port) == 0   ? mac_a
			: vsw_port_id(from->port) == 1 ? mac_b
						       : mac_c,
			type, 46);

	return vsw_send(from->port, buf, len);
}

/* Take every frame queued for n; how many. */
static unsigned drain(struct fake_nic *n)
{
	unsigned k = 0;
	u32 len;

	while (vsw_port_peek(n->port, &len)) {
		vsw_port_pop(n->port);
		k++;
	}
	return k;
}

/* How many frames were queued for n (taking them). */
static unsigned queued(struct fake_nic *n)
{
	return drain(n);
}

static void three_nics(const char *sw)
{
	fake_nic_attach(&a, sw, "alpha", 0, mac_a, BUDGET);
	fake_nic_attach(&b, sw, "beta", 0, mac_b, BUDGET);
	fake_nic_attach(&c, sw, "gamma", 0, mac_c, BUDGET);
}

static int setup(void **state)
{
	fake_now_ns = 1000;
	fake_console_clear();
	boot("[switch lan]\n");
	three_nics("lan");
	return 0;
}

static int teardown(void **state)
{
	vsw_port_detach(a.port);
	vsw_port_detach(b.port);
	vsw_port_detach(c.port);
	assert_int_equal(a.held + b.held + c.held, 0); /* every frame given back to its sender */
	return 0;
}

static void test_unknown_unicast_floods_then_learned_goes_to_one(void **state)
{
	assert_int_equal(send(&a, mac_b, 0x0800), VMB_STATUS_SUCCESS);
	assert_int_equal(queued(&b), 1);
	assert_int_equal(queued(&c), 1); /* B unknown yet: flooded */
	assert_int_equal(queued(&a), 0); /* never back to the sender */
	send(&b, mac_a, 0x0800);	 /* A was learned from its frame */
	assert_int_equal(queued(&a), 1);
	assert_int_equal(queued(&c), 0);
	send(&a, mac_b, 0x0800); /* and B from its reply */
	assert_int_equal(queued(&b), 1);
	assert_int_equal(queued(&c), 0);
	assert_int_equal(a.allocs, 2); /* one copy per frame, however many ports get it */
}

static void test_broadcast_and_multicast_flood(void **state)
{
	send(&b, mac_a, 0x0800); /* A and C learn nothing from this; B is learned */
	drain(&a), drain(&c);
	send(&a, bcast, 0x0806);
	assert_int_equal(queued(&b), 1);
	assert_int_equal(queued(&c), 1);
	send(&a, mcast, 0x0800);
	assert_int_equal(queued(&b), 1);
	assert_int_equal(queued(&c), 1);
	assert_int_equal(queued(&a), 0);
}

static void test_a_learned_address_ages(void **state)
{
	vsw_port_detach(a.port);
	vsw_port_detach(b.port);
	vsw_port_detach(c.port);
	boot("[switch lan]\nage = 10\n");
	three_nics("lan");
	send(&a, mac_b, 0x0800);
	drain(&b), drain(&c);
	fake_now_ns += 9ull * 1000000000;
	send(&b, mac_a, 0x0800); /* still known: A only */
	assert_int_equal(queued(&a), 1);
	assert_int_equal(queued(&c), 0);
	fake_now_ns += 2ull * 1000000000; /* 11 s since A was heard */
	send(&b, mac_a, 0x0800);
	assert_int_equal(queued(&a), 1);
	assert_int_equal(queued(&c), 1); /* forgotten: flooded again */
}

static void test_no_frame_crosses_between_switches(void **state)
{
	struct fake_nic d, e;
	u8 mac_d[6] = {0x00, 0x15, 0x5d, 0x00, 0x03, 0x00};

	vsw_port_detach(a.port);
	vsw_port_detach(b.port);
	vsw_port_detach(c.port);
	boot("[switch lan]\n[switch dmz]\n");
	three_nics("lan");
	fake_nic_attach(&d, "dmz", "delta", 0, mac_d, BUDGET);
	fake_nic_attach(&e, "dmz", "eps", 0, mac_d, BUDGET);
	send(&a, bcast, 0x0806);
	send(&a, mac_d, 0x0800);
	assert_int_equal(queued(&b), 2); /* flooded on lan only */
	drain(&c);
	assert_int_equal(queued(&d), 0);
	assert_int_equal(queued(&e), 0);
	vsw_send(d.port, (u8[60]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x15, 0x5d, 0, 3, 0},
		 60);
	assert_int_equal(queued(&e), 1);
	assert_int_equal(queued(&a) + queued(&b) + queued(&c), 0);
	vsw_port_detach(d.port);
	vsw_port_detach(e.port);
	assert_int_equal(d.held + e.held, 0);
}

static void test_bad_lengths_and_down_ports_are_drops(void **state)
{
	u8 buf[VSW_FRAME_MAX + 1] = {0};

	assert_int_equal(vsw_send(a.port, buf, 13), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vsw_send(a.port, buf, VSW_FRAME_MAX + 1), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vsw_port_counters(a.port)->drops, 2);
	assert_int_equal(vsw_port_counters(a.port)->tx_packets, 0);
	vsw_port_set_link(a.port, false);
	assert_int_equal(vsw_port_state(a.port), VSW_PORT_DOWN);
	assert_int_equal(send(&a, bcast, 0x0806), VMB_STATUS_INVALID_DEVICE_STATE);
	send(&b, bcast, 0x0806); /* a down port gets nothing */
	assert_int_equal(queued(&a), 0);
	assert_int_equal(queued(&c), 1);
	vsw_port_set_link(a.port, true);
	assert_int_equal(send(&a, bcast, 0x0806), VMB_STATUS_SUCCESS);
}

static void test_a_port_sends_only_from_its_own_address(void **state)
{
	u8 buf[60];

	send(&b, bcast, 0x0806); /* B learned on port 1 */
	drain(&a), drain(&c);
	assert_int_equal(vsw_send(a.port, buf, frame(buf, bcast, mac_b, 0x0806, 46)),
			 VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vsw_port_counters(a.port)->drops, 1);
	assert_int_equal(vsw_port_counters(a.port)->tx_packets, 0);
	assert_int_equal(queued(&c), 0);
	send(&c, mac_b, 0x0800); /* B's address still leads to B */
	assert_int_equal(queued(&b), 1);
	assert_int_equal(queued(&a), 0);
	/* A new address for A, as its VSP allowed: the old one is refused now. */
	vsw_port_set_mac(a.port, (u8[6]){0x00, 0x15, 0x5d, 0x00, 0x00, 0x42});
	assert_int_equal(send(&a, bcast, 0x0806), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(
	    vsw_send(a.port, buf,
		     frame(buf, bcast, (u8[6]){0x00, 0x15, 0x5d, 0x00, 0x00, 0x42}, 0x0806, 46)),
	    VMB_STATUS_SUCCESS);
	assert_int_equal(queued(&b), 1);
}

/* A frame the sender's VSP copies in place (vsw_send_from): read once, judged by the copy. */
struct filler {
	const u8 *frame;
	vmb_status status;
	unsigned calls;
};

static vmb_status fill(void *ctx, void *dst, u32 len)
{
	struct filler *f = ctx;

	f->calls++;
	memcpy(dst, f->frame, len);
	return f->status;
}

static void test_a_frame_filled_in_place(void **state)
{
	u8 buf[VSW_FRAME_MAX];
	struct filler f = {buf, VMB_STATUS_SUCCESS, 0};
	u32 len = frame(buf, bcast, mac_a, 0x0806, 46);
	const u8 *got;
	u32 got_len;

	assert_int_equal(vsw_send_from(a.port, len, fill, &f), VMB_STATUS_SUCCESS);
	assert_int_equal(f.calls, 1);
	got = vsw_port_peek(b.port, &got_len);
	assert_non_null(got);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, buf, len);
	assert_int_equal(drain(&b), 1);
	assert_int_equal(drain(&c), 1);
	/* The copy failed (the guest's memory went away): its status, a drop, memory back. */
	f.status = VMB_STATUS_INVALID_PARAMETER;
	assert_int_equal(vsw_send_from(a.port, len, fill, &f), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vsw_port_counters(a.port)->drops, 1);
	assert_int_equal(a.held, 0);
	assert_int_equal(queued(&b), 0);
	/* The source is checked in the switch's copy. */
	f.status = VMB_STATUS_SUCCESS;
	frame(buf, bcast, mac_b, 0x0806, 46);
	assert_int_equal(vsw_send_from(a.port, len, fill, &f), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vsw_port_counters(a.port)->drops, 2);
	assert_int_equal(vsw_port_counters(a.port)->tx_packets, 1);
	assert_int_equal(a.held, 0);
	assert_int_equal(queued(&c), 0);
	/* Lengths and a down port are refused before anything is copied. */
	assert_int_equal(vsw_send_from(a.port, 13, fill, &f), VMB_STATUS_INVALID_PARAMETER);
	vsw_port_set_link(a.port, false);
	assert_int_equal(vsw_send_from(a.port, len, fill, &f), VMB_STATUS_INVALID_DEVICE_STATE);
	assert_int_equal(f.calls, 3);
}

static void test_counters(void **state)
{
	const struct vsw_counters *ca = vsw_port_counters(a.port), *cb = vsw_port_counters(b.port);

	send(&a, bcast, 0x0806);
	send(&a, bcast, 0x0806);
	assert_int_equal(ca->tx_packets, 2);
	assert_int_equal(ca->tx_bytes, 120);
	assert_int_equal(cb->rx_packets, 2);
	assert_int_equal(cb->rx_bytes, 120);
	assert_int_equal(ca->rx_packets, 0);
}

static void test_pull_keeps_a_frame_until_popped_and_kicks(void **state)
{
	const u8 *f;
	u32 len;

	assert_int_equal(b.kicks, 0);
	send(&a, mac_b, 0x0801);
	send(&a, mac_b, 0x0802);
	assert_int_equal(b.kicks, 1); /* only when its queue was empty */
	f = vsw_port_peek(b.port, &len);
	assert_non_null(f);
	assert_int_equal(len, 60);
	assert_int_equal(f[13], 0x01);
	assert_ptr_equal(vsw_port_peek(b.port, &len), f); /* "no room now": still there */
	vsw_port_pop(b.port);
	f = vsw_port_peek(b.port, &len);
	assert_int_equal(f[13], 0x02);
	vsw_port_pop(b.port);
	assert_null(vsw_port_peek(b.port, &len));
	vsw_port_pop(b.port); /* popping an empty queue does nothing */
}

static void test_queue_is_bounded_and_memory_charged_to_sender(void **state)
{
	size_t most = 0;

	send(&c, mac_a, 0x0800); /* C learned */
	drain(&a), drain(&b);
	for (int i = 0; i < 1000; i++) {
		send(&a, mac_c, 0x0800);
		most = MAX(most, a.held);
	}
	/* C's queue: 32 frames by default, of which A, one of two senders, may hold 16. */
	assert_int_equal(vsw_port_counters(c.port)->rx_packets, 16);
	assert_int_equal(vsw_port_counters(c.port)->drops, 1000 - 16);
	assert_true(most <= 16 * (60 + 64)); /* bounded, and A's own */
	assert_int_equal(b.held + c.held, 0);
	assert_int_equal(drain(&c), 16);
	assert_int_equal(a.held, 0);
}

static void test_sender_memory_exhausted_is_its_drop(void **state)
{
	a.budget = 100; /* less than one frame and its header */
	assert_int_equal(send(&a, bcast, 0x0806), VMB_STATUS_INSUFFICIENT_RESOURCES);
	assert_int_equal(vsw_port_counters(a.port)->drops, 1);
	assert_int_equal(queued(&b), 0);
}

static void test_a_flooding_sender_does_not_starve_another(void **state)
{
	unsigned got_b = 0, got_a = 0, sent_b = 0;

	/* A sends 50 frames per round, B one, to C, which takes 4 per round. */
	send(&c, bcast, 0x0806);
	drain(&a), drain(&b);
	for (int round = 0; round < 100; round++) {
		const u8 *f;
		u32 len;

		for (int i = 0; i < 50; i++)
			send(&a, mac_c, 0x0a00);
		send(&b, mac_c, 0x0b00);
		sent_b++;
		for (int i = 0; i < 4 && (f = vsw_port_peek(c.port, &len)); i++) {
			if (!memcmp(f + 6, mac_b, 6))
				got_b++;
			else
				got_a++;
			vsw_port_pop(c.port);
		}
	}
	while (vsw_port_peek(c.port, &(u32){0})) {
		const u8 *f = vsw_port_peek(c.port, &(u32){0});

		if (!memcmp(f + 6, mac_b, 6))
			got_b++;
		vsw_port_pop(c.port);
	}
	print_message("fairness: B delivered %u of %u, A %u of 5000 in the rounds\n", got_b, sent_b,
		      got_a);
	assert_int_equal(got_b, sent_b); /* B loses nothing to A's flood */
	assert_true(got_a >= 300);	 /* and A gets the rest of C's drain rate */
}

static void test_detach_frees_its_frames_everywhere(void **state)
{
	send(&a, bcast, 0x0806);
	send(&a, bcast, 0x0806);
	send(&b, bcast, 0x0806);
	assert_true(a.held > 0);
	vsw_port_detach(a.port);
	assert_int_equal(a.held, 0);
	assert_int_equal(queued(&c), 1); /* B's frame stays */
	fake_nic_attach(&a, "lan", "alpha", 0, mac_a, BUDGET);
	assert_int_equal(vsw_port_id(a.port), 0); /* the lowest free id */
}

/* ---- extensions ---- */

static char order[64];

static bool ext1_frame(void *ctx, struct vsw *sw, u32 src, u32 dst, const u8 *f, u32 len)
{
	strcat(order, "1");
	return f[13] != 0x01; /* drops type 0x..01 */
}

static bool ext2_frame(void *ctx, struct vsw *sw, u32 src, u32 dst, const u8 *f, u32 len)
{
	strcat(order, "2");
	return !(f[13] == 0x02 && dst == 2); /* drops type 0x..02 for port 2 only */
}

static const struct vsw_ext_ops ext1 = {
    .provider = VMB_GUID(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), .name = "one", .frame = ext1_frame};
static const struct vsw_ext_ops ext2 = {
    .provider = VMB_GUID(2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2), .name = "two", .frame = ext2_frame};

static void test_extensions_in_order_and_their_drops(void **state)
{
	struct vsw *sw = vsw_find("lan");

	assert_int_equal(vsw_ext_register(sw, &ext1, NULL), 0);
	assert_int_equal(vsw_ext_register(sw, &ext2, NULL), 0);
	assert_int_equal(vsw_ext_register(sw, &ext2, NULL), -1); /* one per GUID */
	send(&a, bcast, 0x0800);
	assert_string_equal(order, "1212"); /* both see it, for each of B and C, in order */
	assert_int_equal(queued(&b) + queued(&c), 2);
	order[0] = 0;
	send(&a, bcast, 0x0801);
	assert_string_equal(order, "11"); /* the first dropped it: the second never saw it */
	assert_int_equal(queued(&b) + queued(&c), 0);
	assert_int_equal(vsw_port_counters(b.port)->drops, 1);
	order[0] = 0;
	send(&a, bcast, 0x0802);
	assert_int_equal(queued(&b), 1);
	assert_int_equal(queued(&c), 0);
	assert_int_equal(vsw_port_counters(c.port)->drops, 2);
}

static void reboot_with(const char *sw)
{
	vsw_port_detach(a.port);
	vsw_port_detach(b.port);
	vsw_port_detach(c.port);
	boot(sw);
	three_nics("lan");
}

static void test_firewall_blocks_and_clear_lets_through(void **state)
{
	reboot_with("[switch lan]\nextensions = portstats, firewall\n");
	assert_string_equal(fake_command("firewall lan 2 allow 00:15:5d:00:01:00"), "");
	assert_string_equal(fake_command("firewall lan"),
			    "rule switch=lan port=2 allow=00:15:5d:00:01:00\n");
	send(&a, bcast, 0x0806);
	assert_int_equal(queued(&c), 0); /* A is not on C's list */
	assert_int_equal(queued(&b), 1); /* B's list is empty: all welcome */
	send(&b, bcast, 0x0806);
	assert_int_equal(queued(&c), 1);
	assert_int_equal(vsw_port_counters(c.port)->drops, 1);
	assert_string_equal(fake_command("firewall lan 2 clear"), "");
	assert_string_equal(fake_command("firewall lan"), "");
	send(&a, bcast, 0x0806);
	assert_int_equal(queued(&c), 1);
}

static void test_firewall_command_errors(void **state)
{
	assert_string_equal(fake_command("firewall lan"),
			    "error: switch lan has no firewall (add it to its extensions)\n");
	reboot_with("[switch lan]\nextensions = firewall\n");
	assert_string_equal(fake_command("firewall wan"), "error: no switch named 'wan'\n");
	assert_string_equal(fake_command("firewall lan 9 clear"),
			    "error: switch lan has no port '9'\n");
	assert_string_equal(fake_command("firewall lan x clear"),
			    "error: switch lan has no port 'x'\n");
	assert_string_equal(fake_command("firewall lan 1 allow 01:00:5e:00:00:01"),
			    "error: '01:00:5e:00:00:01' is not a unicast MAC address "
			    "(aa:bb:cc:dd:ee:ff)\n");
	assert_string_equal(fake_command("firewall lan 1 allow 00:15:5d:0:01:00"),
			    "error: '00:15:5d:0:01:00' is not a unicast MAC address "
			    "(aa:bb:cc:dd:ee:ff)\n");
	assert_string_equal(fake_command("firewall lan 1 deny 00:15:5d:00:01:00"),
			    "error: usage: firewall SWITCH [PORT allow MAC | PORT clear]\n");
	assert_string_equal(fake_command("firewall"),
			    "error: usage: firewall SWITCH [PORT allow MAC | PORT clear]\n");
	for (int i = 0; i < 8; i++) {
		char line[64];

		snprintf(line, sizeof(line), "firewall lan 1 allow 00:15:5d:00:09:%02x", i);
		assert_string_equal(fake_command(line), "");
	}
	assert_string_equal(fake_command("firewall lan 1 allow 00:15:5d:00:09:99"),
			    "error: switch lan port 1: its allow list is full\n");
}

static void test_switch_command_lines(void **state)
{
	reboot_with("[switch lan]\nextensions = portstats, firewall\n");
	send(&a, bcast, 0x0806);
	assert_string_equal(
	    fake_command("switch lan"),
	    "switch name=lan ports=3 extensions=portstats,firewall\n"
	    "port id=0 partition=alpha nic=0 mac=00:15:5d:00:00:00 state=up rx_packets=0 "
	    "tx_packets=1 rx_bytes=0 tx_bytes=60 drops=0\n"
	    "port id=1 partition=beta nic=0 mac=00:15:5d:00:01:00 state=up rx_packets=1 "
	    "tx_packets=0 rx_bytes=60 tx_bytes=0 drops=0\n"
	    "port id=2 partition=gamma nic=0 mac=00:15:5d:00:02:00 state=up rx_packets=1 "
	    "tx_packets=0 rx_bytes=60 tx_bytes=0 drops=0\n");
	assert_string_equal(fake_command("switch wan"), "error: no switch named 'wan'\n");
	assert_string_equal(fake_command("switch"), "error: usage: switch NAME\n");
	assert_string_equal(fake_command("switch lan x"), "error: usage: switch NAME\n");
	reboot_with("[switch lan]\n");
	vsw_port_set_link(c.port, false);
	assert_non_null(
	    strstr(fake_command("switch lan"), "switch name=lan ports=3 extensions=\n"));
	assert_non_null(strstr(fake_console, "port id=2 partition=gamma nic=0 "
					     "mac=00:15:5d:00:02:00 state=down "));
}

static void test_config_errors(void **state)
{
	char text[1024], err[CFG_ERR_MAX];
	static const struct {
		const char *sw, *err;
	} cases[] = {
	    {"[switch lan]\nextensions = portstats, nat\n",
	     "bulkhead.cfg:8: extensions: unknown extension 'nat' (known: portstats, firewall)"},
	    {"[switch lan]\nextensions = firewall, firewall\n",
	     "bulkhead.cfg:8: extensions: 'firewall' is listed twice"},
	    {"[switch lan]\nports = 0\n",
	     "bulkhead.cfg:8: ports: '0' is not a number from 1 to 16"},
	    {"[switch lan]\nqueue = 65\n",
	     "bulkhead.cfg:8: queue: '65' is not a number from 1 to 64"},
	    {"[switch lan]\nage = 1x\n",
	     "bulkhead.cfg:8: age: '1x' is not a number from 1 to 86400"},
	    {"[switch lan]\ncolour = red\n", "bulkhead.cfg:8: colour: unknown key"},
	    {"[switch Lan]\n", NULL},
	    {"[switch lan]\n[switch lan]\n", NULL},
	};

	vsw_port_detach(a.port);
	vsw_port_detach(b.port);
	vsw_port_detach(c.port);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(text, sizeof(text), "%s%s", cfg_base, cases[i].sw);
		err[0] = 0;
		assert_int_equal(fake_boot(text, err, sizeof(err)), -1);
		if (cases[i].err)
			assert_string_equal(err, cases[i].err);
		assert_null(strchr(err, '\n'));
	}
	/* and the good ones are taken: sizes from the configuration */
	boot("[switch lan]\nports = 3\nqueue = 4\n");
	three_nics("lan");
	assert_int_equal(vsw_max_ports(vsw_find("lan")), 3);
	{
		struct fake_nic d;

		assert_int_equal(
		    fake_nic_try_attach(&d, "lan", "delta", 0, mac_a, BUDGET, err, sizeof(err)),
		    -1);
		assert_string_equal(err, "switch lan: all of its 3 ports are in use");
		assert_int_equal(
		    fake_nic_try_attach(&d, "wan", "delta", 0, mac_a, BUDGET, err, sizeof(err)),
		    -1);
		assert_string_equal(err, "no switch named 'wan'");
	}
	send(&a, mac_c, 0x0800);
	for (int i = 0; i < 10; i++)
		send(&b, mac_c, 0x0800);
	assert_int_equal(drain(&c), 3); /* queue 4: A one, B its share of 2 (then full) */
}

/* ---- runtime state ---- */

static u8 saved[4096];
static u32 saved_len;

static void save_port(struct vsw_port *p)
{
	u32 needed = 0;

	assert_int_equal(vsw_port_save(p, NULL, 0, &needed), VMB_STATUS_BUFFER_TOO_SMALL);
	assert_true(needed <= sizeof(saved));
	assert_int_equal(vsw_port_save(p, saved, sizeof(saved), &saved_len), VMB_STATUS_SUCCESS);
	assert_int_equal(saved_len, needed);
	assert_int_equal(vsw_state_check(saved, saved_len), VMB_STATUS_SUCCESS);
}

static void test_save_restore_counters_and_rules_through_pending(void **state)
{
	reboot_with("[switch lan]\nextensions = portstats, firewall\n");
	fake_command("firewall lan 2 allow 00:15:5d:00:01:00");
	send(&a, bcast, 0x0806);
	send(&b, bcast, 0x0806);
	drain(&c);
	save_port(c.port); /* rx 1, drops 1, one rule */
	/* After the snapshot: more traffic, other rules. */
	fake_command("firewall lan 2 clear");
	fake_command("firewall lan 2 allow 00:15:5d:00:00:00");
	send(&a, bcast, 0x0806);
	drain(&c);
	assert_int_equal(vsw_port_counters(c.port)->rx_packets, 2);
	c.kicks = 0;
	fake_console_clear();
	assert_int_equal(vsw_port_restore_begin(c.port, saved, saved_len), VMB_STATUS_SUCCESS);
	assert_string_equal(fake_console,
			    "vswitch: switch lan port 2: restoring, 1 extension pending\n");
	assert_int_equal(vsw_port_state(c.port), VSW_PORT_RESTORING); /* the firewall: PENDING */
	assert_int_equal(vsw_port_restore_status(c.port), VMB_STATUS_PENDING);
	assert_true(c.kicks >= 1); /* vsw_defer kicked the endpoints */
	assert_string_equal(fake_command("switch lan") + 0, fake_console);
	assert_non_null(strstr(fake_console,
			       "port id=2 partition=gamma nic=0 "
			       "mac=00:15:5d:00:02:00 state=restoring rx_packets=1 "));
	send(&b, bcast, 0x0806); /* a restoring port takes no frames */
	assert_null(vsw_port_peek(c.port, &(u32){0}));
	assert_int_equal(vsw_port_restore_begin(c.port, saved, saved_len),
			 VMB_STATUS_INVALID_DEVICE_STATE);
	fake_console_clear();
	vsw_poll(vsw_find("lan")); /* the later pass: the firewall completes */
	assert_string_equal(
	    fake_console,
	    "vswitch: switch lan port 2: runtime state restored (status 0x00000000)\n");
	assert_int_equal(vsw_port_state(c.port), VSW_PORT_UP);
	assert_int_equal(vsw_port_restore_status(c.port), VMB_STATUS_SUCCESS);
	assert_string_equal(fake_command("firewall lan"),
			    "rule switch=lan port=2 allow=00:15:5d:00:01:00\n");
	assert_int_equal(vsw_port_counters(c.port)->rx_packets, 1);
	assert_int_equal(vsw_port_counters(c.port)->drops, 1);
	send(&a, bcast, 0x0806);
	assert_int_equal(queued(&c), 0); /* the snapshot's rule holds */
}

static vmb_status bad_restore(void *nctx, void *comp, enum vsw_event ev, struct vsw *sw, u32 port,
			      const void *blob, u32 len)
{
	return VMB_STATUS_DATA_ERROR;
}

static void *late_comp;
static void *late_ctx;
static u32 late_port;
static char late_blob[16];

static vmb_status late_restore(void *nctx, void *comp, enum vsw_event ev, struct vsw *sw, u32 port,
			       const void *blob, u32 len)
{
	late_comp = comp;
	late_ctx = nctx;
	late_port = port;
	assert_int_equal(ev, VSW_EVENT_RESTORE);
	assert_true(len < sizeof(late_blob));
	memcpy(late_blob, blob, len);
	return VMB_STATUS_PENDING;
}

static vmb_status word_save(void *ctx, struct vsw *sw, u32 port, void *blob, u32 room, u32 *len)
{
	memcpy(blob, "hello", 5);
	*len = 5;
	return VMB_STATUS_SUCCESS;
}

static const struct vsw_ext_ops bad_ext = {.provider = VMB_GUID(3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3),
					   .name = "bad",
					   .save = word_save,
					   .restore = bad_restore};
static const struct vsw_ext_ops late_ext = {.provider = VMB_GUID(4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4),
					    .name = "late",
					    .save = word_save,
					    .restore = late_restore};

static void test_restore_error_is_kept_and_the_port_comes_up(void **state)
{
	struct vsw *sw = vsw_find("lan");

	vsw_ext_register(sw, &vsw_portstats_ops, NULL);
	vsw_ext_register(sw, &bad_ext, NULL);
	save_port(b.port);
	assert_int_equal(vsw_port_restore_begin(b.port, saved, saved_len), VMB_STATUS_SUCCESS);
	assert_int_equal(vsw_port_state(b.port), VSW_PORT_UP);
	assert_int_equal(vsw_port_restore_status(b.port), VMB_STATUS_DATA_ERROR);
	assert_string_equal(fake_console,
			    "vswitch: switch lan port 1: extension bad refused its "
			    "runtime state (status 0xc000003e)\n"
			    "vswitch: switch lan port 1: runtime state restored (status "
			    "0xc000003e)\n");
}

static void test_pending_until_notify_complete(void **state)
{
	struct vsw *sw = vsw_find("lan");
	int ctx;

	vsw_ext_register(sw, &late_ext, &ctx);
	save_port(a.port);
	assert_int_equal(vsw_port_restore_begin(a.port, saved, saved_len), VMB_STATUS_SUCCESS);
	assert_int_equal(vsw_port_state(a.port), VSW_PORT_RESTORING);
	assert_ptr_equal(late_ctx, &ctx); /* the notify context given at subscription */
	assert_int_equal(late_port, 0);
	assert_memory_equal(late_blob, "hello", 5);
	vsw_notify_complete(sw, &ctx, VMB_STATUS_SUCCESS); /* not a completion: ignored */
	vsw_notify_complete(vsw_find("lan"), (u8 *)late_comp + 1, VMB_STATUS_SUCCESS);
	assert_int_equal(vsw_port_state(a.port), VSW_PORT_RESTORING);
	vsw_port_set_link(a.port, false); /* link changes while restoring: remembered */
	assert_int_equal(vsw_port_state(a.port), VSW_PORT_RESTORING);
	vsw_port_set_link(a.port, true);
	vsw_notify_complete(sw, late_comp, VMB_STATUS_SUCCESS);
	assert_int_equal(vsw_port_state(a.port), VSW_PORT_UP);
	assert_int_equal(vsw_port_restore_status(a.port), VMB_STATUS_SUCCESS);
	vsw_notify_complete(sw, late_comp, VMB_STATUS_DATA_ERROR); /* twice: ignored */
	assert_int_equal(vsw_port_restore_status(a.port), VMB_STATUS_SUCCESS);
}

static void test_detach_while_pending_forgets_the_completion(void **state)
{
	struct vsw *sw = vsw_find("lan");

	vsw_ext_register(sw, &late_ext, NULL);
	save_port(a.port);
	vsw_port_restore_begin(a.port, saved, saved_len);
	vsw_port_detach(a.port);
	vsw_notify_complete(sw, late_comp, VMB_STATUS_SUCCESS); /* nothing to complete */
	fake_nic_attach(&a, "lan", "alpha", 0, mac_a, BUDGET);
	assert_int_equal(vsw_port_state(a.port), VSW_PORT_UP);
}

static void test_unknown_guid_is_reported_and_skipped(void **state)
{
	reboot_with("[switch lan]\nextensions = portstats, firewall\n");
	send(&a, bcast, 0x0806);
	save_port(a.port);
	reboot_with("[switch lan]\nextensions = portstats\n"); /* no firewall now */
	fake_console_clear();
	assert_int_equal(vsw_port_restore_begin(a.port, saved, saved_len), VMB_STATUS_SUCCESS);
	assert_int_equal(vsw_port_state(a.port), VSW_PORT_UP);
	assert_int_equal(vsw_port_restore_status(a.port), VMB_STATUS_SUCCESS);
	assert_int_equal(vsw_port_counters(a.port)->tx_packets, 1); /* portstats' came back */
	assert_string_equal(fake_console,
			    "vswitch: switch lan port 0: runtime state of provider "
			    "{2b9e4d17-8a63-4f05-b17c-3e029d64a85f} has no extension to take "
			    "it; skipped\n"
			    "vswitch: switch lan port 0: runtime state restored (status "
			    "0x00000000)\n");
}

static void test_portstats_refuses_a_bad_blob(void **state)
{
	struct vsw *sw = vsw_find("lan");
	u8 *blob;

	vsw_ext_register(sw, &vsw_portstats_ops, NULL);
	save_port(a.port);
	blob = saved + sizeof(struct vsw_saved_head) + sizeof(struct vsw_saved_segment);
	blob[0] = 2; /* its version */
	assert_int_equal(vsw_port_restore_begin(a.port, saved, saved_len), VMB_STATUS_SUCCESS);
	assert_int_equal(vsw_port_restore_status(a.port), VMB_STATUS_REVISION_MISMATCH);
	blob[0] = 1;
	blob[4] = 40; /* its size no longer its length */
	vsw_port_restore_begin(a.port, saved, saved_len);
	assert_int_equal(vsw_port_restore_status(a.port), VMB_STATUS_DATA_ERROR);
}

static void test_state_parser_checks_every_field(void **state)
{
	u8 r[256];

	reboot_with("[switch lan]\nextensions = portstats, firewall\n");
	fake_command("firewall lan 0 allow 00:15:5d:00:01:00");
	save_port(a.port);
	assert_int_equal(saved_len, 16 + 24 + 48 + 24 + 16);
	assert_int_equal(vsw_state_check(saved, saved_len + 8), VMB_STATUS_SUCCESS); /* room */
	assert_int_equal(vsw_state_check(saved, saved_len - 1), VMB_STATUS_DATA_ERROR);
	assert_int_equal(vsw_state_check(saved, 15), VMB_STATUS_INVALID_PARAMETER);
	assert_int_equal(vsw_state_check(NULL, 0), VMB_STATUS_INVALID_PARAMETER);
#define MUTATE(off, val, want)                                                                     \
	do {                                                                                       \
		memcpy(r, saved, saved_len);                                                       \
		r[off] = (val);                                                                    \
		assert_int_equal(vsw_state_check(r, saved_len), want);                             \
		assert_int_equal(vsw_port_restore_begin(a.port, r, saved_len), want);              \
	} while (0)
	MUTATE(0, 'x', VMB_STATUS_DATA_ERROR);		      /* magic */
	MUTATE(4, 2, VMB_STATUS_REVISION_MISMATCH);	      /* version */
	MUTATE(6, 8, VMB_STATUS_DATA_ERROR);		      /* a head shorter than this build's */
	MUTATE(8, saved_len + 8, VMB_STATUS_DATA_ERROR);      /* total past the bytes */
	MUTATE(8, saved_len - 8, VMB_STATUS_DATA_ERROR);      /* total cutting a segment */
	MUTATE(12, 3, VMB_STATUS_DATA_ERROR);		      /* more segments than there are */
	MUTATE(12, 1, VMB_STATUS_DATA_ERROR);		      /* fewer: bytes left over */
	MUTATE(12, 9, VMB_STATUS_DATA_ERROR);		      /* more than VSW_MAX_SEGMENTS */
	MUTATE(14, 1, VMB_STATUS_DATA_ERROR);		      /* reserved */
	MUTATE(16 + 17, 0x10, VMB_STATUS_DATA_ERROR);	      /* blob longer than VSW_BLOB_MAX */
	MUTATE(16 + 16, 49, VMB_STATUS_DATA_ERROR);	      /* a length off the padding */
	MUTATE(16 + 20, 1, VMB_STATUS_DATA_ERROR);	      /* segment reserved */
	MUTATE(16 + 24 + 48 + 16, 12, VMB_STATUS_DATA_ERROR); /* padding not zero: 12 of 16 */
	memcpy(r, saved, saved_len);
	memcpy(r + 16 + 24 + 48, r + 16, 16); /* the same provider twice */
	assert_int_equal(vsw_state_check(r, saved_len), VMB_STATUS_DATA_ERROR);
	/* Nothing changed by the refusals. */
	assert_int_equal(vsw_port_state(a.port), VSW_PORT_UP);
	assert_string_equal(fake_command("firewall lan"),
			    "rule switch=lan port=0 allow=00:15:5d:00:01:00\n");
	/* A longer head of the same version is read for what this build knows. */
	memset(r, 0, sizeof(r));
	memcpy(r, saved, 16);
	r[6] = 24;
	r[8] = (u8)(saved_len + 8);
	memcpy(r + 24, saved + 16, saved_len - 16);
	assert_int_equal(vsw_state_check(r, saved_len + 8), VMB_STATUS_SUCCESS);
}

static void test_firewall_refuses_a_bad_blob(void **state)
{
	u8 *blob;

	reboot_with("[switch lan]\nextensions = firewall\n");
	fake_command("firewall lan 0 allow 00:15:5d:00:01:00");
	save_port(a.port);
	blob = saved + 16 + 24;
	blob[8] = 0x01; /* a group address as a source */
	vsw_port_restore_begin(a.port, saved, saved_len);
	assert_int_equal(vsw_port_state(a.port), VSW_PORT_UP); /* refused at once, not PENDING */
	assert_int_equal(vsw_port_restore_status(a.port), VMB_STATUS_DATA_ERROR);
	blob[8] = 0x00;
	blob[4] = 9; /* more rules than it keeps */
	vsw_port_restore_begin(a.port, saved, saved_len);
	assert_int_equal(vsw_port_restore_status(a.port), VMB_STATUS_DATA_ERROR);
	assert_string_equal(fake_command("firewall lan"),
			    "rule switch=lan port=0 allow=00:15:5d:00:01:00\n");
}

/*
 * The oldest record still accepted (version 1), written out by hand from the format of
 * docs/vswitch.md: portstats with rx 5, tx 6, rx_bytes 300, tx_bytes 360, drops 1; the
 * firewall allowing 00:15:5d:00:01:00.
 */
static const u8 record_v1[128] = {
    0x56, 0x53, 0x57, 0x50, 0x01, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x52, 0x3a, 0x1f, 0x6c, 0x4e, 0x0d, 0x7a, 0x4b, 0x9e, 0x21, 0x5b, 0x83, 0x47, 0xc0, 0xd2, 0x19,
    0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00,
    0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x2c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x17, 0x4d, 0x9e, 0x2b, 0x63, 0x8a, 0x05, 0x4f,
    0xb1, 0x7c, 0x3e, 0x02, 0x9d, 0x64, 0xa8, 0x5f, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x15, 0x5d, 0x00, 0x01, 0x00, 0x00, 0x00,
};

static void test_the_oldest_record_still_restores(void **state)
{
	const struct vsw_counters *k;

	reboot_with("[switch lan]\nextensions = portstats, firewall\n");
	assert_int_equal(vsw_port_restore_begin(c.port, record_v1, sizeof(record_v1)),
			 VMB_STATUS_SUCCESS);
	assert_int_equal(vsw_port_state(c.port), VSW_PORT_RESTORING);
	vsw_poll(vsw_find("lan"));
	assert_int_equal(vsw_port_state(c.port), VSW_PORT_UP);
	k = vsw_port_counters(c.port);
	assert_int_equal(k->rx_packets, 5);
	assert_int_equal(k->tx_packets, 6);
	assert_int_equal(k->rx_bytes, 300);
	assert_int_equal(k->tx_bytes, 360);
	assert_int_equal(k->drops, 1);
	assert_string_equal(fake_command("firewall lan"),
			    "rule switch=lan port=2 allow=00:15:5d:00:01:00\n");
	/* and this build writes the same bytes for the same state */
	save_port(c.port);
	assert_int_equal(saved_len, sizeof(record_v1));
	assert_memory_equal(saved, record_v1, sizeof(record_v1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_unknown_unicast_floods_then_learned_goes_to_one),
	    T(test_broadcast_and_multicast_flood),
	    T(test_a_learned_address_ages),
	    T(test_no_frame_crosses_between_switches),
	    T(test_bad_lengths_and_down_ports_are_drops),
	    T(test_a_port_sends_only_from_its_own_address),
	    T(test_a_frame_filled_in_place),
	    T(test_counters),
	    T(test_pull_keeps_a_frame_until_popped_and_kicks),
	    T(test_queue_is_bounded_and_memory_charged_to_sender),
	    T(test_sender_memory_exhausted_is_its_drop),
	    T(test_a_flooding_sender_does_not_starve_another),
	    T(test_detach_frees_its_frames_everywhere),
	    T(test_extensions_in_order_and_their_drops),
	    T(test_firewall_blocks_and_clear_lets_through),
	    T(test_firewall_command_errors),
	    T(test_switch_command_lines),
	    T(test_config_errors),
	    T(test_save_restore_counters_and_rules_through_pending),
	    T(test_restore_error_is_kept_and_the_port_comes_up),
	    T(test_pending_until_notify_complete),
	    T(test_detach_while_pending_forgets_the_completion),
	    T(test_unknown_guid_is_reported_and_skipped),
	    T(test_portstats_refuses_a_bad_blob),
	    T(test_state_parser_checks_every_field),
	    T(test_firewall_refuses_a_bad_blob),
	    T(test_the_oldest_record_still_restores),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
