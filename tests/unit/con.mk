UNIT_TESTS += test_con
# The console with the real LAPIC (info) and UART (console P); the rest is faked.
test_con_SRCS := kernel/con.c kernel/vlapic.c kernel/uart.c tests/unit/test_con_fake.c
