UNIT_TESTS += test_vsp_echo
test_vsp_echo_SRCS := vsp/echo.c kernel/pool.c tests/unit/test_vsp_fake.c
