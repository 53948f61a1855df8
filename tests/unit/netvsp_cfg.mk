UNIT_TESTS += test_netvsp_cfg
test_netvsp_cfg_SRCS := kernel/config.c vsp/netvsp/netvsp.c vsp/netvsp/rndis.c vsp/netvsp/save.c kernel/pool.c \
	vsp/vswitch/vswitch.c vsp/vswitch/state.c \
	tests/unit/test_vsp_fake.c
