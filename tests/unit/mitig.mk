# Which speculation mitigations a CPU gets (kernel/mitig.c), from fake CPUID and MSR values.
UNIT_TESTS += test_mitig
test_mitig_SRCS := kernel/mitig.c
