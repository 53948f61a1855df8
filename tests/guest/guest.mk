# Test guest (tests/guest/README.md), included by the top-level Makefile.
# One image, two packagings:
#   testguest.bin      flat, load = entry = 0x8000 (real mode, CS=0x0800 IP=0)
#   testguest-rom.bin  64 KiB firmware for 0xf0000: a reset stub that copies
#                      testguest.bin to 0x8000 and enters it the same way.

GUEST_SRC := tests/guest
GUEST_OUT := $(BUILD)/guest
GUEST_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -nostdlib \
	-fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
	-fcf-protection=none -fno-asynchronous-unwind-tables -fno-strict-aliasing
GUEST_LDFLAGS := -nostdlib -static --fatal-warnings --no-warn-rwx-segments --build-id=none

GUESTS += $(GUEST_OUT)/testguest.bin $(GUEST_OUT)/testguest-rom.bin

$(GUEST_OUT)/start.o: $(GUEST_SRC)/start.S $(GUEST_SRC)/guest.mk
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

GUEST_OBJS := $(GUEST_OUT)/start.o $(GUEST_OUT)/testguest.o $(GUEST_OUT)/vmbus_client.o

$(GUEST_OUT)/%.o: $(GUEST_SRC)/%.c $(GUEST_SRC)/guest.h $(GUEST_SRC)/guest.mk
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OUT)/testguest.elf: $(GUEST_OBJS) $(GUEST_SRC)/testguest.ld
	@echo "  LD      $@"
	$(Q)ld $(GUEST_LDFLAGS) -T $(GUEST_SRC)/testguest.ld -o $@ $(GUEST_OBJS)

$(GUEST_OUT)/testguest.bin: $(GUEST_OUT)/testguest.elf
	@echo "  OBJCOPY $@"
	$(Q)objcopy -O binary $< $@

$(GUEST_OUT)/rom.o: $(GUEST_SRC)/rom.S $(GUEST_OUT)/testguest.bin $(GUEST_SRC)/guest.mk
	@echo "  AS      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -Wa,-I$(GUEST_OUT) -c $< -o $@

$(GUEST_OUT)/testguest-rom.elf: $(GUEST_OUT)/rom.o $(GUEST_SRC)/rom.ld
	@echo "  LD      $@"
	$(Q)ld $(GUEST_LDFLAGS) -T $(GUEST_SRC)/rom.ld -o $@ $<

$(GUEST_OUT)/testguest-rom.bin: $(GUEST_OUT)/testguest-rom.elf
	@echo "  OBJCOPY $@"
	$(Q)objcopy -O binary $< $@
	$(Q)test $$(stat -c %s $@) -eq 65536 || { echo "$@: not 64 KiB" >&2; rm -f $@; exit 1; }
