UNIT_TESTS += test_netvsp_save
test_netvsp_save_SRCS := vsp/netvsp/netvsp.c vsp/netvsp/rndis.c vsp/netvsp/save.c vsp/vswitch/vswitch.c vsp/vswitch/state.c vsp/vswitch/portstats.c vsp/vswitch/firewall.c kernel/pool.c tests/unit/test_vsp_fake.c
