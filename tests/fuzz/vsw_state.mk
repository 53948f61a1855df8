# A port's saved runtime state (the segment parser and the extensions' blobs) through the
# virtual switch, on its small door fake.
FUZZERS += fuzz_vsw_state
fuzz_vsw_state_SRCS := vsp/vswitch/vswitch.c vsp/vswitch/state.c vsp/vswitch/portstats.c \
	vsp/vswitch/firewall.c vsp/vswitch/cmd.c kernel/config.c tests/unit/test_vsw_fake.c \
	tests/fuzz/fuzz_opts.c
# The data path: hostile frames, pulls, links, rules, aging, detaches.
FUZZERS += fuzz_vsw_data
fuzz_vsw_data_SRCS := $(fuzz_vsw_state_SRCS)
