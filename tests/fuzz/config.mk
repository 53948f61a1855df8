FUZZERS += fuzz_config
fuzz_config_SRCS := kernel/config.c vmbus/cfg.c
