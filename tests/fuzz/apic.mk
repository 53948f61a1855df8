# The virtual x2APIC and I/O APIC registers, timer and EOI (snap_state.c: their save/load).
FUZZERS += fuzz_apic
fuzz_apic_SRCS := kernel/vlapic.c kernel/vioapic.c kernel/snap_state.c tests/fuzz/fuzz_opts.c
