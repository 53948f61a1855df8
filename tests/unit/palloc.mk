UNIT_TESTS += test_palloc
test_palloc_SRCS := kernel/palloc.c tests/unit/fake_phys.c
