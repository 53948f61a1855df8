UNIT_TESTS += test_hv
test_hv_SRCS := kernel/hv.c kernel/hv_hypercall.c kernel/hv_time.c kernel/synic.c kernel/vlapic.c
