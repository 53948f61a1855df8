UNIT_TESTS += test_vswitch
test_vswitch_SRCS := vsp/vswitch/vswitch.c vsp/vswitch/state.c vsp/vswitch/portstats.c \
	vsp/vswitch/firewall.c vsp/vswitch/cmd.c kernel/config.c tests/unit/test_vsw_fake.c
