# VT-x control-register exits and PDPTE loads. fuzz_cr.c includes arch/x86_64/vmx_cr.c
# itself, behind a fake VMCS, so only the shared options are linked; a change to it rebuilds
# the harness.
FUZZERS += fuzz_cr
fuzz_cr_SRCS := tests/fuzz/fuzz_opts.c
$(BUILD)/fuzz/fuzz_cr: arch/x86_64/vmx_cr.c arch/x86_64/vmx.h arch/x86_64/cpu.h
