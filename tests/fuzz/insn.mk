FUZZERS += fuzz_insn
fuzz_insn_SRCS := arch/x86_64/insn.c
