FUZZERS += fuzz_boot
fuzz_boot_SRCS := boot/elf.c boot/scan.c
