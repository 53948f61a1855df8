#!/usr/bin/env bash
# `make deps`: install every Debian package Bulkhead needs to build, run and
# test. Fast when everything is there already: nothing touches apt then.
set -euo pipefail

# The one list of the project's packages. Keep it sorted by purpose.
PACKAGES=(
	# build: hypervisor, UEFI loader, test guests
	build-essential gcc make binutils gnu-efi newlib-source
	# emulators and firmware: QEMU + OVMF (AMD-V), Bochs + OVMF (VT-x)
	qemu-system-x86 ovmf bochs bochsbios vgabios bochs-term
	# ESP trees and boot images: FAT (mtools, dosfstools), GPT (sfdisk), ISO
	mtools dosfstools fdisk xorriso
	# tests: unit (cmocka), system (pytest + pexpect), fuzzers (clang)
	libcmocka-dev python3 python3-pytest python3-pytest-timeout python3-pexpect
	clang libclang-rt-14-dev
	# make format and its check in make test
	clang-format
	# test guests: ACPI tables, Linux initramfs, unshare for private ports
	acpica-tools kmod cpio busybox-static util-linux xz-utils
)

# One dpkg-query for all: a package is present when its status is "ii".
declare -A installed=()
while read -r name status; do
	[[ $status == ii* ]] && installed[${name%%:*}]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for p in "${PACKAGES[@]}"; do
	[[ -n ${installed[$p]:-} ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "deps: all present"
	exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
	if ! command -v sudo >/dev/null; then
		echo "deps: error: need root (or sudo) to install: ${missing[*]}" >&2
		exit 1
	fi
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "deps: done"
