# The synthetic MSRs and the hypercall dispatcher (kernel/hv.c) with what lies under them.
FUZZERS += fuzz_hv
fuzz_hv_SRCS := kernel/hv.c kernel/hv_hypercall.c kernel/hv_save.c kernel/hv_time.c \
	kernel/synic.c kernel/vlapic.c kernel/snap_state.c tests/fuzz/fuzz_opts.c
