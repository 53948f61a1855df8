UNIT_TESTS += test_sched
# The scheduler alone, one round at a time on a fake clock; VPs, interrupts, the console
# and an extension are faked in the test.
test_sched_SRCS := kernel/sched.c
