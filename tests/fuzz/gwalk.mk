FUZZERS += fuzz_gwalk
fuzz_gwalk_SRCS := arch/x86_64/gwalk.c
