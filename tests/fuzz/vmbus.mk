# VMBus server fuzzers: channel messages, ring reads, GPADL messages, saved channel streams.
FUZZ_VMBUS_SRCS := vmbus/bus.c vmbus/channel.c vmbus/gpadl.c vmbus/kmcl.c vmbus/packet.c \
	vmbus/ring.c vmbus/save.c vmbus/snap.c kernel/snap_state.c kernel/pool.c \
	tests/fuzz/fuzz_vmbus_host.c tests/fuzz/fuzz_opts.c

FUZZERS += fuzz_vmbus_channel
fuzz_vmbus_channel_SRCS := $(FUZZ_VMBUS_SRCS)
FUZZERS += fuzz_vmbus_ring
fuzz_vmbus_ring_SRCS := $(FUZZ_VMBUS_SRCS)
FUZZERS += fuzz_vmbus_gpadl
fuzz_vmbus_gpadl_SRCS := $(FUZZ_VMBUS_SRCS)
FUZZERS += fuzz_vmbus_save
fuzz_vmbus_save_SRCS := $(FUZZ_VMBUS_SRCS)
FUZZERS += fuzz_vmbus_snap
fuzz_vmbus_snap_SRCS := $(FUZZ_VMBUS_SRCS)
