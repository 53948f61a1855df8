/*
 * The virtual switch's configuration ([switch NAME] sections), its boot
 * (a VSP_MODULE: the switches are made once the configuration is parsed)
 * and its console commands, `switch NAME` and `firewall ...`
 * (docs/vswitch.md).
 */
#include "vsp/vswitch/vswitch.h"

#include <stdio.h>
#include <string.h>

#define SECTION "switch"

/* The extensions `extensions =` may name, in no particular order. */
static const struct {
	const char *name;
	const struct vsw_ext_ops *ops;
	void *(*ctx)(unsigned switch_index);
} known_ext[] = {
    {"portstats", &vsw_portstats_ops, vsw_portstats_ctx},
    {"firewall", &vsw_firewall_ops, vsw_firewall_ctx},
};

static int find_known(const char *name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(known_ext); i++)
		if (!strcmp(known_ext[i].name, name))
			return (int)i;
	return -1;
}

/* ---- configuration ---- */

static int check_extensions(const struct cfg_value *v, char *err, size_t errlen)
{
	if (v->nr_items > VSW_MAX_EXT) {
		snprintf(err, errlen, "names more than %d extensions", VSW_MAX_EXT);
		return -1;
	}
	for (unsigned i = 0; i < v->nr_items; i++) {
		if (find_known(v->items[i]) < 0) {
			snprintf(err, errlen, "unknown extension '%s' (known: portstats, firewall)",
				 v->items[i]);
			return -1;
		}
	}
	return 0;
}

/* A decimal number in [lo, hi]: 0, or -1. */
static int parse_number(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > hi)
			return -1;
	}
	if (v < lo)
		return -1;
	*out = (unsigned)v;
	return 0;
}

#define RANGE_CHECK(fn, lo, hi)                                                                    \
	static int fn(const struct cfg_value *v, char *err, size_t errlen)                         \
	{                                                                                          \
		unsigned n;                                                                        \
		if (parse_number(v->text, (lo), (hi), &n)) {                                       \
			snprintf(err, errlen, "'%s' is not a number from %u to %u", v->text,       \
				 (unsigned)(lo), (unsigned)(hi));                                  \
			return -1;                                                                 \
		}                                                                                  \
		return 0;                                                                          \
	}
RANGE_CHECK(check_ports, 1, VSW_MAX_PORTS)
RANGE_CHECK(check_queue, 1, VSW_QUEUE_MAX)
RANGE_CHECK(check_age, 1, 86400)

CFG_KEY(extensions_key) = {
    .k = CFG_KEY_HEAD(CFG_KEY_LIST, SECTION, "extensions"),
    .noun = "extension",
    .example = "portstats, firewall",
    .check = check_extensions,
};
CFG_KEY(ports_key) = {.k = CFG_KEY_HEAD(0, SECTION, "ports"), .check = check_ports};
CFG_KEY(queue_key) = {.k = CFG_KEY_HEAD(0, SECTION, "queue"), .check = check_queue};
CFG_KEY(age_key) = {.k = CFG_KEY_HEAD(0, SECTION, "age"), .check = check_age};

static unsigned number_or(const char *name, const char *key, unsigned lo, unsigned hi,
			  unsigned dflt)
{
	const struct cfg_value *v = vsp_section_value(SECTION, name, key);
	unsigned n;

	return v && !parse_number(v->text, lo, hi, &n) ? n : dflt;
}

/* ---- boot ---- */

int vsw_boot(char *err, size_t errlen)
{
	const char *name;

	for (unsigned i = 0; (name = vsp_section_name(SECTION, i)); i++) {
		const struct cfg_value *ext = vsp_section_value(SECTION, name, "extensions");
		unsigned ports = number_or(name, "ports", 1, VSW_MAX_PORTS, VSW_PORTS_DEFAULT);
		unsigned queue = number_or(name, "queue", 1, VSW_QUEUE_MAX, VSW_QUEUE_DEFAULT);
		unsigned age = number_or(name, "age", 1, 86400, VSW_AGE_DEFAULT_S);
		struct vsw *sw = vsw_make(name, ports, queue, age * 1000000000ull);

		if (!sw) {
			snprintf(err, errlen, "switch %s: more than %d switches", name,
				 VSW_MAX_SWITCHES);
			return -1;
		}
		for (unsigned k = 0; ext && k < ext->nr_items; k++) {
			int x = find_known(ext->items[k]);

			if (x < 0 || vsw_ext_register(sw, known_ext[x].ops,
						      known_ext[x].ctx(vsw_index(sw)))) {
				snprintf(err, errlen, "switch %s: extension '%s' cannot be added",
					 name, ext->items[k]);
				return -1;
			}
			/* A fresh start for each of its ports. */
			for (u32 p = 0; known_ext[x].ops->port_reset && p < VSW_MAX_PORTS; p++)
				known_ext[x].ops->port_reset(known_ext[x].ctx(vsw_index(sw)), sw,
							     p);
		}
	}
	return 0;
}

VSP_MODULE(vswitch_module) = {.name = "vswitch", .boot = vsw_boot};

/* ---- console ---- */

static const char *state_name(enum vsw_port_state s)
{
	switch (s) {
	case VSW_PORT_UP:
		return "up";
	case VSW_PORT_RESTORING:
		return "restoring";
	case VSW_PORT_DOWN:
		break;
	}
	return "down";
}

static void cmd_switch(struct vsp *v, int argc, char **argv)
{
	struct vsw *sw = vsw_find(argv[1]);
	const char *names[VSW_MAX_EXT];
	unsigned nr_ext, nr_ports = 0;

	(void)v;
	(void)argc;
	if (!sw) {
		vsp_printf("error: no switch named '%s'\n", argv[1]);
		return;
	}
	for (u32 i = 0; i < vsw_max_ports(sw); i++)
		nr_ports += vsw_port_by_id(sw, i) != NULL;
	nr_ext = vsw_ext_names(sw, names, VSW_MAX_EXT);
	vsp_printf("switch name=%s ports=%u extensions=", vsw_name(sw), nr_ports);
	for (unsigned i = 0; i < nr_ext; i++)
		vsp_printf("%s%s", i ? "," : "", names[i]);
	vsp_printf("\n");
	for (u32 i = 0; i < vsw_max_ports(sw); i++) {
		struct vsw_port *p = vsw_port_by_id(sw, i);
		const struct vsw_counters *c;
		const char *part;
		const u8 *m;
		u32 nic;

		if (!p)
			continue;
		vsw_port_describe(p, &part, &nic, &m);
		c = vsw_port_counters(p);
		vsp_printf(
		    "port id=%u partition=%s nic=%u mac=%02x:%02x:%02x:%02x:%02x:%02x state=%s "
		    "rx_packets=%llu tx_packets=%llu rx_bytes=%llu tx_bytes=%llu drops=%llu\n",
		    i, part, nic, m[0], m[1], m[2], m[3], m[4], m[5], state_name(vsw_port_state(p)),
		    (unsigned long long)c->rx_packets, (unsigned long long)c->tx_packets,
		    (unsigned long long)c->rx_bytes, (unsigned long long)c->tx_bytes,
		    (unsigned long long)c->drops);
	}
}

VSP_COMMAND(switch_cmd) = {
    .name = "switch",
    .usage = "switch NAME",
    .max_args = 1,
    .fn = cmd_switch,
    .help = "switch S             ports and counters of virtual switch S",
    .global = true,
};

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "aa:bb:cc:dd:ee:ff": 0, or -1. */
static int parse_mac(const char *s, u8 mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);

		if (hi < 0 || lo < 0 || s[2] != (i == 5 ? 0 : ':'))
			return -1;
		mac[i] = (u8)(hi << 4 | lo);
		s += 3;
	}
	return 0;
}

static bool has_firewall(const struct vsw *sw)
{
	const char *names[VSW_MAX_EXT];
	unsigned n = vsw_ext_names(sw, names, VSW_MAX_EXT);

	for (unsigned i = 0; i < n; i++)
		if (!strcmp(names[i], "firewall"))
			return true;
	return false;
}

static void print_rules(struct vsw *sw, u32 port)
{
	u8 macs[16][6];
	unsigned n = vsw_firewall_rules(sw, port, macs, 16);

	for (unsigned i = 0; i < n; i++)
		vsp_printf("rule switch=%s port=%u allow=%02x:%02x:%02x:%02x:%02x:%02x\n",
			   vsw_name(sw), port, macs[i][0], macs[i][1], macs[i][2], macs[i][3],
			   macs[i][4], macs[i][5]);
}

static void cmd_firewall(struct vsp *v, int argc, char **argv)
{
	struct vsw *sw = vsw_find(argv[1]);
	unsigned port;
	u8 mac[6];

	(void)v;
	if (!sw) {
		vsp_printf("error: no switch named '%s'\n", argv[1]);
		return;
	}
	if (!has_firewall(sw)) {
		vsp_printf("error: switch %s has no firewall (add it to its extensions)\n",
			   argv[1]);
		return;
	}
	if (argc == 2) {
		for (u32 i = 0; i < vsw_max_ports(sw); i++)
			print_rules(sw, i);
		return;
	}
	if (!(argc == 4 && !strcmp(argv[3], "clear")) &&
	    !(argc == 5 && !strcmp(argv[3], "allow"))) {
		vsp_printf("error: usage: firewall SWITCH [PORT allow MAC | PORT clear]\n");
		return;
	}
	if (parse_number(argv[2], 0, vsw_max_ports(sw) - 1, &port) || !vsw_port_by_id(sw, port)) {
		vsp_printf("error: switch %s has no port '%s'\n", argv[1], argv[2]);
		return;
	}
	if (argc == 4) {
		vsw_firewall_clear(sw, port);
		return;
	}
	if (parse_mac(argv[4], mac) || (mac[0] & 1)) {
		vsp_printf("error: '%s' is not a unicast MAC address (aa:bb:cc:dd:ee:ff)\n",
			   argv[4]);
		return;
	}
	if (vsw_firewall_allow(sw, port, mac))
		vsp_printf("error: switch %s port %u: its allow list is full\n", argv[1], port);
}

VSP_COMMAND(firewall_cmd) = {
    .name = "firewall",
    .usage = "firewall SWITCH [PORT allow MAC | PORT clear]",
    .max_args = 4,
    .fn = cmd_firewall,
    .help = "firewall S [N allow MAC|N clear]  the firewall's rules on switch S",
    .global = true,
};
