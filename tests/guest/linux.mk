# Linux test guest (tests/guest/linux/README.md), included by the top-level
# Makefile: Debian's kernel package + a busybox initramfs, nothing compiled.
#   build/linux/vmlinux          uncompressed kernel ELF (PVH entry note)
#   build/linux/initrd.cpio.gz   busybox, /init, the Hyper-V modules
#   build/linux/bzImage          the package's compressed kernel, for reference
# The two .deb files are downloaded once into build/linux/debs/.

LINUX_SRC := tests/guest/linux
LINUX_OUT := $(BUILD)/linux
# Modules put into the initramfs; their dependencies are added automatically.
# sd_mod turns SCSI disks found by hv_storvsc into /dev/sd*.
LINUX_MODULES ?= hv_vmbus hv_utils hv_storvsc hv_netvsc hv_sock uio_hv_generic sd_mod

GUESTS += $(LINUX_OUT)/vmlinux $(LINUX_OUT)/initrd.cpio.gz $(LINUX_OUT)/bzImage

.PHONY: linux-guest
linux-guest: $(LINUX_OUT)/vmlinux $(LINUX_OUT)/initrd.cpio.gz $(LINUX_OUT)/bzImage

# packages.txt is written last by fetch.sh and stands for the download
# cache, the unpacked packages (pkg/) and kernel-release.
$(LINUX_OUT)/packages.txt: $(LINUX_SRC)/fetch.sh
	@mkdir -p $(dir $@)
	@echo "  FETCH   linux-image-amd64 busybox-static"
	$(Q)$(LINUX_SRC)/fetch.sh $(LINUX_OUT)

$(LINUX_OUT)/bzImage: $(LINUX_OUT)/packages.txt
	@echo "  CP      $@"
	$(Q)cp $(LINUX_OUT)/pkg/kernel/boot/vmlinuz-$$(cat $(LINUX_OUT)/kernel-release) $@

$(LINUX_OUT)/vmlinux: $(LINUX_OUT)/bzImage $(LINUX_SRC)/extract-vmlinux.sh
	@echo "  VMLINUX $@"
	$(Q)$(LINUX_SRC)/extract-vmlinux.sh $< $@

$(LINUX_OUT)/initrd.cpio.gz: $(LINUX_OUT)/packages.txt $(LINUX_OUT)/vmlinux \
		$(LINUX_SRC)/mkinitrd.sh $(LINUX_SRC)/init $(LINUX_SRC)/profile tests/guest/linux.mk
	@echo "  INITRD  $@"
	$(Q)$(LINUX_SRC)/mkinitrd.sh $(LINUX_OUT) $(LINUX_SRC)/init $(LINUX_SRC)/profile \
		$(LINUX_OUT)/vmlinux $@ \
		$(LINUX_MODULES)
