UNIT_TESTS += test_part
# Partitions with the real page allocator, page tables and UART over identity-mapped fake
# memory; the VP, interrupts, Hyper-V and console are faked in the test.
test_part_SRCS := kernel/part.c kernel/pool.c kernel/pool_frames.c kernel/palloc.c kernel/pt.c kernel/uart.c tests/unit/fake_ident.c
