# FPU ownership of the scheduler (kernel/sched.c); the CPU's x87/SSE registers are faked.
UNIT_TESTS += test_sched_fpu
test_sched_fpu_SRCS := kernel/sched.c
