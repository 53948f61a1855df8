UNIT_TESTS += test_pool
test_pool_SRCS := kernel/pool.c kernel/pool_frames.c kernel/palloc.c tests/unit/fake_phys.c
