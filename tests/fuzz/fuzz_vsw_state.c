/*
 * libFuzzer: a port's saved runtime state (vsp/vswitch/state.c, the
 * portstats and firewall blobs) as a hostile snapshot image would give it,
 * on a switch with both extensions, through the door fake of
 * tests/unit/test_vsw_fake.c. The whole input is the record. The checks:
 * check and restore agree; a refused record changes nothing; an accepted
 * one leaves the port restoring at most until the next pass of the switch;
 * the port then saves a record that checks; frames still flow; and every
 * frame's memory is back with its sender at the end.
 */
#include <stdint.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "tests/unit/test_vsw_fake.h"

static const u8 mac_a[6] = {0x00, 0x15, 0x5d, 0x00, 0x00, 0x00};
static const u8 mac_b[6] = {0x00, 0x15, 0x5d, 0x00, 0x01, 0x00};
static u8 out[4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char text[] = "[partition alpha]\nmemory = 16M\nimage = a.bin\n"
				   "[switch lan]\nextensions = portstats, firewall\n";
	static bool booted;
	struct fake_nic a, b;
	u8 rules[8][6], frame[60] = {0};
	unsigned nr_rules;
	char err[CFG_ERR_MAX];
	vmb_status st;
	u32 len = 0;

	if (!booted) {
		check(!fake_boot(text, err, sizeof(err)));
		booted = true;
	}
	fake_console_clear();
	fake_nic_attach(&a, "lan", "alpha", 0, mac_a, 1 << 20);
	fake_nic_attach(&b, "lan", "beta", 0, mac_b, 1 << 20);
	vsw_firewall_allow(vsw_find("lan"), 0, mac_b);
	nr_rules = vsw_firewall_rules(vsw_find("lan"), 0, rules, 8);

	st = vsw_state_check(data, (u32)size);
	check(vsw_port_restore_begin(a.port, data, (u32)size) == st);
	if (st != VMB_STATUS_SUCCESS) {
		u8 now[8][6];

		check(vsw_port_state(a.port) == VSW_PORT_UP);
		check(vsw_firewall_rules(vsw_find("lan"), 0, now, 8) == nr_rules);
		check(!memcmp(now, rules, sizeof(rules[0]) * nr_rules));
	} else {
		check(vsw_port_state(a.port) != VSW_PORT_DOWN);
		vsw_poll(vsw_find("lan"));
		check(vsw_port_state(a.port) == VSW_PORT_UP);
		check(vsw_port_restore_status(a.port) != VMB_STATUS_PENDING);
	}
	check(vsw_port_save(a.port, out, sizeof(out), &len) == VMB_STATUS_SUCCESS);
	check(vsw_state_check(out, len) == VMB_STATUS_SUCCESS);

	memset(frame, 0xff, 6);
	memcpy(frame + 6, mac_b, 6);
	check(vsw_send(b.port, frame, sizeof(frame)) == VMB_STATUS_SUCCESS);
	vsw_port_detach(a.port);
	vsw_port_detach(b.port);
	check(a.held == 0 && b.held == 0);
	return 0;
}
