UNIT_TESTS += test_mmio
test_mmio_SRCS := arch/x86_64/mmio.c arch/x86_64/gwalk.c arch/x86_64/insn.c
