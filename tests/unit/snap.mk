# Partition snapshot records (kernel/snap_state.h) and each device's save/load.
UNIT_TESTS += test_snap
test_snap_SRCS := kernel/snap_state.c kernel/hv_save.c kernel/hv_time.c kernel/synic.c \
	kernel/uart.c kernel/vlapic.c kernel/vioapic.c
