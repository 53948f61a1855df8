UNIT_TESTS += test_irq
# Interrupt routing over the real LAPIC, I/O APIC, SynIC and Hyper-V timers; a fake VP.
test_irq_SRCS := kernel/irq.c kernel/vlapic.c kernel/vioapic.c kernel/synic.c kernel/hv.c \
	kernel/hv_time.c kernel/hv_hypercall.c
