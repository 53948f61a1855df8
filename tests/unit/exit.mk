UNIT_TESTS += test_exit
test_exit_SRCS := kernel/exit.c kernel/io.c kernel/msr.c kernel/cpuid.c kernel/hv.c \
	kernel/hv_hypercall.c kernel/hv_time.c kernel/synic.c kernel/uart.c kernel/vlapic.c \
	kernel/vioapic.c kernel/mitig.c arch/x86_64/svm_decode.c
UNIT_TESTS += test_uart
test_uart_SRCS := kernel/uart.c
