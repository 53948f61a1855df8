UNIT_TESTS += test_exit
test_exit_SRCS := kernel/exit.c kernel/io.c kernel/msr.c kernel/cpuid.c kernel/hypercall.c \
	kernel/uart.c kernel/vlapic.c arch/x86_64/svm_decode.c
UNIT_TESTS += test_uart
test_uart_SRCS := kernel/uart.c
