# The exit path on a fake machine (fuzz_exit_env.c): everything kernel/exit.c calls is real.
FUZZ_EXIT_SRCS := kernel/exit.c kernel/io.c kernel/msr.c kernel/cpuid.c kernel/mitig.c kernel/hv.c \
	kernel/hv_hypercall.c kernel/hv_time.c kernel/synic.c kernel/uart.c kernel/vlapic.c \
	kernel/vioapic.c kernel/part_linux.c kernel/pvh.c kernel/acpi.c $(BUILD)/acpi/dsdt_aml.o \
	arch/x86_64/mmio.c arch/x86_64/gwalk.c arch/x86_64/insn.c tests/fuzz/fuzz_exit_env.c \
	tests/fuzz/fuzz_opts.c
# MMIO: fault -> dispatch -> fetch through the guest's page tables -> decode -> apply.
FUZZERS += fuzz_mmio
fuzz_mmio_SRCS := $(FUZZ_EXIT_SRCS)
# Port I/O: UART, ACPI PM1a, the debug-exit and CMOS ports, everything else.
FUZZERS += fuzz_pio
fuzz_pio_SRCS := $(FUZZ_EXIT_SRCS)
