FUZZERS += fuzz_pvh
fuzz_pvh_SRCS := kernel/pvh.c
