UNIT_TESTS += test_vsp_ic
test_vsp_ic_SRCS := vsp/ic/ic.c vsp/ic/heartbeat.c vsp/ic/shutdown.c \
	vsp/ic/timesync.c kernel/hv_time.c kernel/pool.c tests/unit/test_vsp_fake.c
UNIT_TESTS += test_vsp_door
test_vsp_door_SRCS := vmbus/vsp.c kernel/pool.c kernel/config.c kernel/hv_time.c
