#!/usr/bin/env bash
# tests/mkesp.sh OUTDIR CONFIG: (re)create OUTDIR as an ESP tree for CONFIG:
#   EFI/BOOT/BOOTX64.EFI, bulkhead.elf, bulkhead.cfg (= CONFIG), and every file
#   CONFIG names in an image/kernel/initrd key, at the same relative path.
# A named file is looked up beside CONFIG, then in build/guest/, then build/.
# One that is not found is left out with a warning: the hypervisor must report
# it itself (tests rely on that). BULKHEAD_EFI / BULKHEAD_ELF override the
# loader and hypervisor taken from build/ (for tests of the loader itself).
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 OUTDIR CONFIG" >&2
	exit 2
fi
out=$1
cfg=$2
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
efi=${BULKHEAD_EFI:-$build/BOOTX64.EFI}
elf=${BULKHEAD_ELF:-$build/bulkhead.elf}

die() {
	echo "mkesp: error: $*" >&2
	exit 1
}

for f in "$efi" "$elf" "$cfg"; do
	[[ -f $f ]] || die "$f not found (run make first?)"
done
# Only ever delete something that looks like an ESP tree we made.
if [[ -e $out && -n $(ls -A "$out" 2>/dev/null) && ! -f $out/EFI/BOOT/BOOTX64.EFI ]]; then
	die "$out exists and is not an ESP tree; not deleting it"
fi
rm -rf "$out"
mkdir -p "$out/EFI/BOOT"
cp "$efi" "$out/EFI/BOOT/BOOTX64.EFI"
cp "$elf" "$out/bulkhead.elf"
cp "$cfg" "$out/bulkhead.cfg"

# The same light scan as the loader (boot/scan.c): `key = value`, `#` comments.
trim() {
	local s=$1
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

cfgdir=$(dirname "$cfg")
while IFS= read -r line || [[ -n $line ]]; do
	line=${line%%#*}
	[[ $line == *=* ]] || continue
	key=$(trim "${line%%=*}")
	val=$(trim "${line#*=}")
	case $key in
	image | kernel | initrd) ;;
	*) continue ;;
	esac
	[[ -n $val && ! -e $out/$val ]] || continue
	if [[ $val == /* || /$val/ == */../* ]]; then
		echo "mkesp: warning: $key = $val: not a path inside the ESP; left out" >&2
		continue
	fi
	src=
	for dir in "$cfgdir" "$build/guest" "$build"; do
		if [[ -f $dir/$val ]]; then
			src=$dir/$val
			break
		fi
	done
	if [[ -z $src ]]; then
		echo "mkesp: warning: $key = $val: not found beside $cfg, in $build/guest or $build" >&2
		continue
	fi
	mkdir -p "$out/$(dirname "$val")"
	cp "$src" "$out/$val"
done <"$cfg"
echo "mkesp: $out ready"
