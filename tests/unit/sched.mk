# FPU ownership of the scheduler (kernel/sched.c); the CPU's x87/SSE registers are faked.
UNIT_TESTS += test_sched
test_sched_SRCS := kernel/sched.c
