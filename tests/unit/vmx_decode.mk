UNIT_TESTS += test_vmx_decode
test_vmx_decode_SRCS := arch/x86_64/vmx_decode.c
