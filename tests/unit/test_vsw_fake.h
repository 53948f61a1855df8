/*
 * A small fake of the door for the virtual switch (vsp/vswitch/), which
 * uses only its hypervisor-wide part: the clock, console output, the
 * configuration's sections (parsed by the real kernel/config.c) and the
 * .global console commands. Endpoints are fake NICs whose memory comes
 * from a pool of their own, so a test sees what each sender holds.
 */
#ifndef BULKHEAD_TEST_VSW_FAKE_H
#define BULKHEAD_TEST_VSW_FAKE_H

#include "vsp/vswitch/vswitch.h"

extern u64 fake_now_ns;
extern char fake_console[16384];

/* Parse text as bulkhead.cfg and make the switches (the door's boot): 0, or -1 with err. */
int fake_boot(const char *text, char *err, size_t errlen);
/* Run a console line as the door would; returns what it printed. */
const char *fake_command(const char *line);
void fake_console_clear(void);

/* A fake NIC: an endpoint with a byte budget; kicks counted. */
struct fake_nic {
	struct vsw_port *port;
	size_t budget, held; /* bytes it may hold in the switch, and holds */
	unsigned allocs, kicks;
};
/* Attach nic to switch `sw` as partition/nic/mac (link up); asserts it worked. */
void fake_nic_attach(struct fake_nic *n, const char *sw, const char *partition, u32 nic,
		     const u8 mac[6], size_t budget);
/* The same, 0 or -1 with the switch's reason in err. */
int fake_nic_try_attach(struct fake_nic *n, const char *sw, const char *partition, u32 nic,
			const u8 mac[6], size_t budget, char *err, size_t errlen);

#endif
