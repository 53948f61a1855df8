# VMBus server (vmbus/): rings, GPADLs, the channel protocol and the KMCL API.
VMBUS_TEST_FAKE := tests/unit/test_vmbus_fake.c
VMBUS_CORE_SRCS := vmbus/bus.c vmbus/channel.c vmbus/gpadl.c vmbus/kmcl.c vmbus/packet.c \
	vmbus/ring.c vmbus/save.c vmbus/snap.c kernel/snap_state.c kernel/pool.c

UNIT_TESTS += test_vmbus_ring
test_vmbus_ring_SRCS := vmbus/ring.c

UNIT_TESTS += test_vmbus_gpadl
test_vmbus_gpadl_SRCS := $(VMBUS_CORE_SRCS) $(VMBUS_TEST_FAKE)

UNIT_TESTS += test_vmbus_channel
test_vmbus_channel_SRCS := $(VMBUS_CORE_SRCS) $(VMBUS_TEST_FAKE)

UNIT_TESTS += test_vmbus_kmcl
test_vmbus_kmcl_SRCS := $(VMBUS_CORE_SRCS) $(VMBUS_TEST_FAKE)

UNIT_TESTS += test_vmbus_save
test_vmbus_save_SRCS := $(VMBUS_CORE_SRCS) $(VMBUS_TEST_FAKE)

UNIT_TESTS += test_vmbus_budget
test_vmbus_budget_SRCS := $(VMBUS_CORE_SRCS) $(VMBUS_TEST_FAKE)
