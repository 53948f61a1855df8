UNIT_TESTS += test_pool
test_pool_SRCS := kernel/pool.c kernel/palloc.c tests/unit/fake_phys.c
