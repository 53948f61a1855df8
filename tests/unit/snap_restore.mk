# The console's snapshot and restore (kernel/snap.c) end to end: the real records and device
# save/load, the page allocator and page tables over identity-mapped fake memory; the VP, the
# FPU switch, the partition table and two extensions are faked in the test.
UNIT_TESTS += test_snap_restore
test_snap_restore_SRCS := kernel/snap.c kernel/snap_state.c kernel/hv_save.c kernel/hv_time.c \
	kernel/synic.c kernel/uart.c kernel/vlapic.c kernel/vioapic.c kernel/palloc.c kernel/pt.c \
	tests/unit/fake_ident.c
