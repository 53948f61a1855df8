UNIT_TESTS += test_pvh
test_pvh_SRCS := kernel/pvh.c
