UNIT_TESTS += test_config
test_config_SRCS := kernel/config.c vmbus/cfg.c
