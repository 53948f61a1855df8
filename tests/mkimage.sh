#!/usr/bin/env bash
# tests/mkimage.sh ESPDIR IMG ISO: boot media made from an ESP tree (mkesp.sh).
#   IMG: a GPT disk with one EFI system partition (FAT32), for `dd` to a USB
#        stick and a real machine.
#   ISO: an El Torito CD whose EFI boot image (no emulation) is a FAT image
#        of the ESP; OVMF mounts that image, so the loader finds every file.
#        This is what Bochs boots.
# Pass "-" for IMG or ISO to skip it.
set -euo pipefail

if [[ $# -ne 3 ]]; then
	echo "usage: $0 ESPDIR IMG|- ISO|-" >&2
	exit 2
fi
esp=$1
img=$2
iso=$3
[[ -f $esp/EFI/BOOT/BOOTX64.EFI ]] || {
	echo "mkimage: error: $esp is not an ESP tree (no EFI/BOOT/BOOTX64.EFI)" >&2
	exit 1
}
export PATH=$PATH:/usr/sbin:/sbin
export MTOOLS_SKIP_CHECK=1

ESP_TYPE=C12A7328-F81F-11D2-BA4B-00A0C93EC93B # UEFI 2.10 5.3.3, EFI System Partition
MIB=1048576
SECTOR=512
FAT32_MIN_MIB=64 # FAT32 needs 65525+ clusters; firmware expects FAT32 on disks

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Size in MiB for the tree: its data, a slack of 1/8 + 1 MiB for FAT and dirs.
esp_mib() {
	local kib files
	kib=$(du -sk --apparent-size "$esp" | cut -f1)
	files=$(find "$esp" | wc -l)
	echo $(((kib + kib / 8 + files * 4 + 1024 + 1023) / 1024))
}

# mkfat FILE MIB [MKFS_OPTS]: a FAT file system of MIB MiB holding the ESP tree.
mkfat() {
	local file=$1 mib=$2
	shift 2
	rm -f "$file"
	truncate -s $((mib * MIB)) "$file"
	mkfs.vfat "$@" -S $SECTOR -n BULKHEAD "$file" >/dev/null
	mcopy -s -Q -i "$file" "$esp"/* ::/
}

if [[ $img != - ]]; then
	mib=$(esp_mib)
	((mib >= FAT32_MIN_MIB)) || mib=$FAT32_MIN_MIB
	mkfat "$tmp/part.img" "$mib" -F 32
	# 1 MiB before the partition (protective MBR, GPT), 1 MiB after (backup GPT).
	rm -f "$img"
	truncate -s $(((mib + 2) * MIB)) "$img"
	sfdisk --quiet --no-reread --no-tell-kernel "$img" <<-EOF
		label: gpt
		start=$((MIB / SECTOR)), size=$((mib * MIB / SECTOR)), type=$ESP_TYPE, name="EFI system partition"
	EOF
	dd if="$tmp/part.img" of="$img" bs=$MIB seek=1 conv=notrunc status=none
	echo "mkimage: $img (GPT, ${mib} MiB FAT32 ESP)"
fi

if [[ $iso != - ]]; then
	# FAT12/16 is enough inside the CD; mkfs.vfat picks by size.
	mkdir -p "$tmp/iso"
	mkfat "$tmp/iso/efiboot.img" "$(esp_mib)"
	rm -f "$iso"
	if ! log=$(xorriso -as mkisofs -quiet -V BULKHEAD -o "$iso" \
		-e efiboot.img -no-emul-boot "$tmp/iso" 2>&1) || [[ ! -s $iso ]]; then
		echo "$log" >&2
		echo "mkimage: error: xorriso did not write $iso" >&2
		exit 1
	fi
	echo "mkimage: $iso (El Torito, EFI boot image of $(esp_mib) MiB)"
fi
