UNIT_TESTS += test_boot
test_boot_SRCS := boot/elf.c boot/scan.c
