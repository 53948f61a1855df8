UNIT_TESTS += test_synic
test_synic_SRCS := kernel/synic.c kernel/hv_time.c
