#!/usr/bin/env bash
# Recover the uncompressed kernel ELF (vmlinux) from a bzImage whose payload
# is xz-compressed, as Debian's amd64 kernels are, and check that it can be
# booted through PVH.
#
#   extract-vmlinux.sh BZIMAGE VMLINUX
#
# The bzImage is real-mode setup code, then a small decompressor, then the
# xz stream of vmlinux. Every offset where the xz magic (fd 37 7a 58 5a 00)
# appears is tried in turn; the first that decompresses to an ELF wins. The
# result must carry the Xen ELF note type 18 (XEN_ELFNOTE_PHYS32_ENTRY), the
# PVH entry point that QEMU's -kernel and Bulkhead's `kernel =` use.
set -euo pipefail

prog=extract-vmlinux.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
trap 'echo "$prog: error: line $LINENO: $BASH_COMMAND failed" >&2' ERR

[[ $# -eq 2 ]] || die "usage: $prog BZIMAGE VMLINUX"
img=$1
out=$2
[[ -f $img ]] || die "$img: no such file"
command -v xz >/dev/null || die "xz not found (Debian package xz-utils)"
command -v readelf >/dev/null || die "readelf not found (Debian package binutils)"

tmp=$out.tmp
trap 'rm -f -- "$tmp"' EXIT

found=
# grep -b gives the byte offset of each match; -a/-U treat the image as text
# without newline translation, -o prints only the magic itself.
while IFS=: read -r offset _; do
	# --single-stream stops at the end of the first xz stream and ignores
	# whatever follows it in the image (tail then dies of SIGPIPE: its status
	# is deliberately not looked at).
	if xz -dc --single-stream <(tail -c +"$((offset + 1))" -- "$img") >"$tmp" 2>/dev/null &&
		[[ $(head -c 4 -- "$tmp" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then
		found=$offset
		break
	fi
done < <(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' -- "$img" || true)

[[ -n $found ]] || die "$img: no xz stream that decompresses to an ELF (not an xz-compressed bzImage?)"

# readelf -n lists each note as "OWNER SIZE TYPE" and then its bytes. This
# binutils prints type 18 of owner Xen as "Unknown note type: (0x00000012)";
# a newer one may name it. The descriptor is the 32-bit entry address.
notes=$(readelf -n -- "$tmp") || die "readelf -n $tmp failed"
entry=$(awk '
	hit && /description data:/ {
		sub(/.*description data: */, "")
		n = split($0, b, " ")
		if (n >= 4) printf "0x%s%s%s%s\n", b[4], b[3], b[2], b[1]
		exit
	}
	$1 == "Xen" && /\(0x00000012\)|PHYS32_ENTRY/ { hit = 1 }
' <<<"$notes")
[[ -n $entry ]] || die "$img: vmlinux at offset $found has no Xen PHYS32_ENTRY note (type 18): not PVH-bootable"

mv -- "$tmp" "$out"
trap - EXIT
echo "$prog: $out: ELF from xz stream at offset $found of $img, PVH entry $entry" >&2
