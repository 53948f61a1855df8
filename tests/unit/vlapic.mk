UNIT_TESTS += test_vlapic
test_vlapic_SRCS := kernel/vlapic.c kernel/vioapic.c
