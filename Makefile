# Bulkhead top-level build. `make` builds the hypervisor, loader and test
# guests; `make run` boots the demo in QEMU; `make test` runs every test.

BUILD := build
CC := gcc
HOST_CC := gcc
CLANG := clang
CONFIG ?= tests/guest/demo.cfg
BACKEND ?= qemu

V ?= 0
ifeq ($(V),0)
Q := @
else
Q :=
endif

GCC_INC := $(shell $(CC) -print-file-name=include)

# newlib (libc for the hypervisor): defines NEWLIB_LIBC, NEWLIB_INC and the rule
# that builds them once per machine.
-include kernel/libc/newlib.mk

KERNEL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-ffreestanding -fno-stack-protector -mno-red-zone -mgeneral-regs-only \
	-fno-pic -fno-pie -mcmodel=kernel -fno-omit-frame-pointer -fno-builtin-printf \
	-mindirect-branch=thunk -mindirect-branch-register \
	-nostdinc -isystem $(NEWLIB_INC) -isystem $(GCC_INC) -DNO_FLOATING_POINT \
	-I. -Ikernel -MMD -MP
KERNEL_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=4096 -T linker.ld

KERNEL_SRCS := $(wildcard kernel/*.c) $(wildcard kernel/libc/*.c) \
	$(wildcard arch/x86_64/*.c) $(wildcard vmbus/*.c) $(wildcard vsp/*.c) $(wildcard vsp/*/*.c)
KERNEL_ASMS := $(wildcard arch/x86_64/*.S)
KERNEL_OBJS := $(patsubst %.c,$(BUILD)/k/%.o,$(KERNEL_SRCS)) \
	$(patsubst %.S,$(BUILD)/k/%.o,$(KERNEL_ASMS))
# Generated parts of the image (e.g. compiled ACPI tables): fragments add
# objects to KERNEL_GEN_OBJS with their own rules.
KERNEL_GEN_OBJS :=
include $(wildcard kernel/*.mk)

# GNU-EFI loader (docs/platforms.md, "GNU-EFI 3.0.15").
EFI_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -fpic -fshort-wchar -ffreestanding \
	-fno-stack-protector -mno-red-zone -mgeneral-regs-only -DGNU_EFI_USE_MS_ABI \
	-maccumulate-outgoing-args -I/usr/include/efi -I/usr/include/efi/x86_64 -I. -MMD -MP
EFI_LDS := /usr/lib/elf_x86_64_efi.lds
EFI_CRT0 := /usr/lib/crt0-efi-x86_64.o
BOOT_OBJS := $(patsubst %.c,$(BUILD)/efi/%.o,$(wildcard boot/*.c))

.PHONY: all deps run image test unit system fuzz bench format format-check clean
all: $(BUILD)/bulkhead.elf $(BUILD)/BOOTX64.EFI guests

$(BUILD)/k/%.o: %.c $(NEWLIB_LIBC)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KERNEL_CFLAGS) -c $< -o $@

$(BUILD)/k/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(KERNEL_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(BUILD)/bulkhead.elf: $(KERNEL_OBJS) $(KERNEL_GEN_OBJS) linker.ld $(NEWLIB_LIBC)
	@echo "  LD      $@"
	$(Q)$(CC) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(KERNEL_GEN_OBJS) $(NEWLIB_LIBC) -lgcc

$(BUILD)/efi/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (efi)"
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

$(BUILD)/bootx64.so: $(BOOT_OBJS)
	$(Q)ld -nostdlib -znocombreloc -shared -Bsymbolic --no-undefined -T $(EFI_LDS) $(EFI_CRT0) \
		$(BOOT_OBJS) -o $@ -L/usr/lib -lefi -lgnuefi

$(BUILD)/BOOTX64.EFI: $(BUILD)/bootx64.so
	@echo "  EFI     $@"
	$(Q)objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
		-j .rel.* -j .rela.* -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@

# Test guests (tests/guest/guest.mk adds to GUESTS).
GUESTS :=
include $(wildcard tests/guest/*.mk)
guests: $(GUESTS)

deps:
	@tests/deps.sh

# ESP for a configuration: the config plus every file it names.
esp: all
	@tests/mkesp.sh $(BUILD)/esp $(CONFIG)

run: deps all
	@tests/mkesp.sh $(BUILD)/esp $(CONFIG)
	@tests/run.sh $(BACKEND) $(BUILD)/esp

image: all
	@tests/mkesp.sh $(BUILD)/esp $(CONFIG)
	@tests/mkimage.sh $(BUILD)/esp $(BUILD)/bulkhead.img $(BUILD)/bulkhead.iso

# ---- tests ----
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -I. -Ikernel \
	-fsanitize=address,undefined -fno-omit-frame-pointer
UNIT_TESTS :=
include $(wildcard tests/unit/*.mk)
UNIT_BINS := $(addprefix $(BUILD)/unit/,$(UNIT_TESTS))

$(BUILD)/unit/%: tests/unit/%.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -o $@ $< $($*_SRCS) -lcmocka

# Test binaries depend on their sources (declared in tests/*/*.mk) and on every header.
TEST_HDRS := $(shell find kernel vmbus vsp arch boot tests -name '*.h')
$(foreach t,$(UNIT_TESTS),$(eval $(BUILD)/unit/$(t): $($(t)_SRCS) $(TEST_HDRS)))

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

system: deps all
	@tests/system/run.sh

test: deps
	@tests/test.sh

FUZZERS :=
include $(wildcard tests/fuzz/*.mk)
FUZZ_BINS := $(addprefix $(BUILD)/fuzz/,$(FUZZERS))
# Each harness runs FUZZ_RUNS executions, or FUZZ_SECONDS if that comes first.
FUZZ_SECONDS ?= 180
FUZZ_RUNS ?= 1000000

$(BUILD)/fuzz/%: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ikernel -o $@ $< $($*_SRCS)
$(foreach t,$(FUZZERS),$(eval $(BUILD)/fuzz/$(t): $($(t)_SRCS) $(TEST_HDRS)))

fuzz: $(FUZZ_BINS)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_RUNS) $(FUZZ_BINS)

bench: deps all
	@tests/bench/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# Fails, naming them, when files differ from what `make format` would write.
format-check:
	@bad=$$(for f in $$(git ls-files '*.c' '*.h'); do \
		clang-format "$$f" | cmp -s - "$$f" || echo "$$f"; done); \
	if [ -n "$$bad" ]; then echo "format: not as clang-format writes them (make format):" $$bad; \
		exit 1; fi; echo "format: every C file is as clang-format writes it"

clean:
	rm -rf $(BUILD)

-include $(KERNEL_OBJS:.o=.d) $(BOOT_OBJS:.o=.d)
