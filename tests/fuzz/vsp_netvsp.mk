# netvsp's NVSP and RNDIS parsing and its saved state, through the VSP fake (fuzz_netvsp.h).
NETVSP_FUZZ_SRCS := vsp/netvsp/netvsp.c vsp/netvsp/rndis.c vsp/netvsp/save.c kernel/pool.c \
	vsp/vswitch/vswitch.c vsp/vswitch/state.c \
	tests/unit/test_vsp_fake.c tests/fuzz/fuzz_opts.c
FUZZERS += fuzz_vsp_netvsp_nvsp fuzz_vsp_netvsp_rndis fuzz_vsp_netvsp_saved
fuzz_vsp_netvsp_nvsp_SRCS := $(NETVSP_FUZZ_SRCS)
fuzz_vsp_netvsp_rndis_SRCS := $(NETVSP_FUZZ_SRCS)
fuzz_vsp_netvsp_saved_SRCS := $(NETVSP_FUZZ_SRCS)
