FUZZERS += fuzz_vsp_ic
fuzz_vsp_ic_SRCS := vsp/ic/ic.c vsp/ic/heartbeat.c vsp/ic/shutdown.c vsp/ic/timesync.c \
	kernel/hv_time.c kernel/pool.c tests/unit/test_vsp_fake.c
