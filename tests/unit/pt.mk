UNIT_TESTS += test_pt
test_pt_SRCS := kernel/pt.c kernel/palloc.c tests/unit/fake_phys.c
