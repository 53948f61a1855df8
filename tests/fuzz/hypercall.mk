FUZZERS += fuzz_hypercall
fuzz_hypercall_SRCS := kernel/hv_hypercall.c kernel/synic.c
