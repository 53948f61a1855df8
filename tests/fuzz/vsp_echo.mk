# The echo VSP, its restore parser included, through the VSP fake (two partitions).
FUZZERS += fuzz_vsp_echo
fuzz_vsp_echo_SRCS := vsp/echo.c kernel/pool.c tests/unit/test_vsp_fake.c tests/fuzz/fuzz_opts.c
