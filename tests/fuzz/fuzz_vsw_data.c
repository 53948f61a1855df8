/*
 * libFuzzer: the virtual switch's data path (vsp/vswitch/vswitch.c) driven
 * by hostile senders: frames of any length and content from four ports of
 * a small switch with both extensions, beside a second switch, with pulls,
 * link changes, firewall rules, the clock moving on, detaches and
 * attaches (a frame's source is the port's own MAC or refused). Input: ops of { u8 op, u8 arg, u16
 * len } and len bytes for a send. The checks: sends answer one of their documented statuses, no
 * port ever has more queued than the switch's queue, no frame reaches the other switch, what each
 * sender holds stays within its share of the queues, and at the end every byte is back with its
 * sender.
 */
#include <stdint.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "tests/unit/test_vsw_fake.h"

#define NR_NICS	 4
#define QUEUE	 8
#define MAX_OPS	 256
#define FRAME_HD 64 /* at least the switch's header on each frame */

static struct fake_nic nics[NR_NICS], other;
static bool attached[NR_NICS];

static unsigned pull_all(struct fake_nic *n, unsigned max)
{
	unsigned k = 0;
	u32 len;

	while (k < max && vsw_port_peek(n->port, &len)) {
		check(len >= VSW_FRAME_MIN && len <= VSW_FRAME_MAX);
		vsw_port_pop(n->port);
		k++;
	}
	return k;
}

static void attach(unsigned i)
{
	u8 mac[6] = {0x00, 0x15, 0x5d, 0x00, (u8)i, 0x00};

	fake_nic_attach(&nics[i], "lan", "p", i, mac, 1 << 20);
	attached[i] = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char text[] = "[partition alpha]\nmemory = 16M\nimage = a.bin\n"
				   "[switch lan]\nextensions = portstats, firewall\nqueue = 8\n"
				   "ports = 4\nage = 2\n[switch dmz]\n";
	static bool booted;
	static u8 frame[VSW_FRAME_MAX + 64];
	char err[CFG_ERR_MAX];
	const u8 other_mac[6] = {0x00, 0x15, 0x5d, 0x00, 0x09, 0x00};

	if (!booted) {
		check(!fake_boot(text, err, sizeof(err)));
		booted = true;
	}
	cur = data;
	end = data + size;
	fake_console_clear();
	for (unsigned i = 0; i < NR_NICS; i++)
		attach(i);
	fake_nic_attach(&other, "dmz", "q", 0, other_mac, 1 << 20);

	for (unsigned n = 0; n < MAX_OPS && cur < end; n++) {
		unsigned op = (unsigned)take(1), arg = (unsigned)take(1), len = (unsigned)take(2);
		struct fake_nic *nic = &nics[arg % NR_NICS];
		bool on = attached[arg % NR_NICS];

		switch (op % 8) {
		case 0:
		case 1:
		case 2: { /* a send: the bytes follow; a short input is zero-filled */
			vmb_status st;

			len %= sizeof(frame);
			for (unsigned i = 0; i < len; i++)
				frame[i] = (u8)take(1);
			if (op & 0x80) /* aim at a neighbour's address */
				memcpy(frame, (u8[6]){0x00, 0x15, 0x5d, 0x00, (u8)(op >> 3 & 3), 0},
				       len >= 6 ? 6 : len);
			if (op & 0x40 && len >= 12) /* from its own address */
				memcpy(frame + 6,
				       (u8[6]){0x00, 0x15, 0x5d, 0x00, (u8)(arg % NR_NICS), 0}, 6);
			if (!on)
				break;
			st = vsw_send(nic->port, frame, len);
			check(st == VMB_STATUS_SUCCESS || st == VMB_STATUS_INVALID_PARAMETER ||
			      st == VMB_STATUS_INVALID_DEVICE_STATE ||
			      st == VMB_STATUS_INSUFFICIENT_RESOURCES);
			check((len >= VSW_FRAME_MIN && len <= VSW_FRAME_MAX) ||
			      st != VMB_STATUS_SUCCESS);
			break;
		}
		case 3:
			if (on)
				pull_all(nic, len % 4 + 1);
			break;
		case 4:
			if (on)
				vsw_port_set_link(nic->port, len & 1);
			break;
		case 5:
			if (on && (len & 1)) {
				u8 mac[6] = {0x00, 0x15, 0x5d, 0x00, (u8)(len >> 1 & 3), 0};

				vsw_firewall_allow(vsw_find("lan"), vsw_port_id(nic->port), mac);
			} else if (on) {
				vsw_firewall_clear(vsw_find("lan"), vsw_port_id(nic->port));
			}
			break;
		case 6:
			fake_now_ns += (u64)len * 10000000; /* up to ~11 min: ages addresses */
			break;
		case 7:
			if (on) {
				vsw_port_detach(nic->port);
				attached[arg % NR_NICS] = false;
				check(nic->held == 0);
			} else {
				attach(arg % NR_NICS);
			}
			break;
		}
		for (unsigned i = 0; i < NR_NICS; i++)
			check(nics[i].held <= (size_t)NR_NICS * QUEUE * (VSW_FRAME_MAX + FRAME_HD));
		check(!vsw_port_peek(other.port, &(u32){0})); /* nothing crosses */
	}
	for (unsigned i = 0; i < NR_NICS; i++) {
		if (!attached[i])
			continue;
		check(pull_all(&nics[i], 1000) <= QUEUE);
		vsw_port_detach(nics[i].port);
		attached[i] = false;
	}
	for (unsigned i = 0; i < NR_NICS; i++)
		check(nics[i].held == 0);
	vsw_port_detach(other.port);
	check(other.held == 0);
	return 0;
}
