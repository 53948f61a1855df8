# The console's command parser, line editing and guest output (test_con's world).
FUZZERS += fuzz_con
fuzz_con_SRCS := kernel/con.c kernel/vlapic.c kernel/uart.c tests/unit/test_con_fake.c \
	tests/fuzz/fuzz_opts.c
