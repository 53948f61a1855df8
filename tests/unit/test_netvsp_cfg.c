/*
 * netvsp's configuration keys (vsp/netvsp/netvsp.c) through the real
 * parser (kernel/config.c): `nic =` a list of switch names, `mac =` a list of
 * unicast MACs checked by netvsp's parser, with the parser's one-line errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/config.h"

#define HEAD "[partition l]\nmemory = 2M\nkernel = vmlinux\n"

static struct cfg cfg;
static char err[CFG_ERR_MAX];

static int parse(const char *text)
{
	return cfg_parse(text, strlen(text), "bulkhead.cfg", &cfg, err, sizeof(err));
}

static void test_nic_and_mac(void **state)
{
	const struct cfg_value *v;

	assert_int_equal(parse(HEAD "nic = lan, dmz\nmac = 00:15:5d:12:34:56, 02:00:00:00:00:01\n"),
			 0);
	v = cfg_get(&cfg.part[0].values, "nic");
	assert_non_null(v);
	assert_int_equal(v->nr_items, 2);
	assert_string_equal(v->items[1], "dmz");
	v = cfg_get(&cfg.part[0].values, "mac");
	assert_non_null(v);
	assert_string_equal(v->text, "00:15:5d:12:34:56, 02:00:00:00:00:01");
	assert_null(cfg_get(&cfg.part[0].values, "vmbus")); /* a NIC needs no `vmbus =` */
}

static void test_refused(void **state)
{
	assert_int_equal(parse(HEAD "nic = LAN\n"), -1);
	assert_non_null(strstr(err, "bulkhead.cfg:4: nic: 'LAN' is not a switch name"));
	assert_int_equal(parse(HEAD "nic = lan, lan\n"), -1);
	assert_non_null(strstr(err, "listed twice"));
	assert_int_equal(parse(HEAD "nic = lan\nmac = 01:15:5d:12:34:56\n"), -1);
	assert_string_equal(err, "bulkhead.cfg:5: mac: '01:15:5d:12:34:56' is a multicast MAC (a "
				 "NIC needs a unicast one)");
	assert_int_equal(parse(HEAD "nic = lan\nmac = 00:15:5d:12:34\n"), -1);
	assert_non_null(strstr(err, "bulkhead.cfg:5: mac: '00:15:5d:12:34' is not a MAC"));
	assert_int_equal(
	    parse(HEAD "nic = lan\nmac = 00:15:5d:12:34:56\nmac = 00:15:5d:12:34:57\n"), -1);
	assert_non_null(strstr(err, "set twice"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nic_and_mac),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
