UNIT_TESTS += test_vsp_ic
test_vsp_ic_SRCS := vsp/ic.c vsp/ic_heartbeat.c vsp/ic_shutdown.c \
	vsp/ic_timesync.c kernel/hv_time.c tests/unit/test_vsp_fake.c
