#!/usr/bin/env bash
# Build the Linux test guest's initramfs from what fetch.sh unpacked.
#
#   mkinitrd.sh OUT INIT PROFILE VMLINUX INITRD MODULE...
#
# OUT is build/linux (pkg/kernel, pkg/busybox and kernel-release from
# fetch.sh), INIT the /init script, PROFILE its shell's /etc/profile, VMLINUX the extracted kernel (its export
# table checks that the module set is complete), INITRD the .cpio.gz to
# write. The tree is staged in OUT/initrd/:
#   /init                       INIT
#   /bin/busybox                from busybox-static, plus one relative symlink
#                               per applet where `busybox --list-full` puts it
#   /etc/profile                PROFILE; /etc/passwd and /etc/group for root
#   /dev /proc /sys /tmp        mount points (and /dev/console, see below)
#   /lib/modules/RELEASE/       MODULE... and everything they depend on
#                               (modinfo -F depends, recursively), as plain
#                               .ko, with depmod's index files
# The archive is reproducible: names sorted, owner 0:0, every mtime
# SOURCE_DATE_EPOCH (default 0), inode numbers renumbered, gzip -n.
set -euo pipefail

prog=mkinitrd.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
trap 'echo "$prog: error: line $LINENO: $BASH_COMMAND failed" >&2' ERR

[[ $# -ge 6 ]] || die "usage: $prog OUT INIT PROFILE VMLINUX INITRD MODULE..."
out=$1
init=$2
profile=$3
vmlinux=$4
initrd=$5
shift 5
want=("$@")

for tool in cpio gzip depmod modinfo find sort objcopy readelf od awk; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -f $out/kernel-release ]] || die "$out/kernel-release missing: run fetch.sh first"
release=$(cat "$out/kernel-release")
kroot=$out/pkg/kernel
kmods=$kroot/lib/modules/$release
busybox=$out/pkg/busybox/bin/busybox
[[ -d $kmods/kernel ]] || die "$kmods/kernel missing: run fetch.sh first"
[[ -x $busybox ]] || die "$busybox missing: run fetch.sh first"
[[ -f $init ]] || die "$init: no such file"
[[ -f $profile ]] || die "$profile: no such file"
[[ -f $vmlinux ]] || die "$vmlinux: no such file"
epoch=${SOURCE_DATE_EPOCH:-0}
[[ $epoch =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH=$epoch is not a number"

umask 022
stage=$out/initrd
rm -rf -- "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,etc,lib/modules/"$release"}
chmod 1777 "$stage/tmp"

# ---- busybox and its applets ----
install -m 0755 "$busybox" "$stage/bin/busybox"
applets=$("$busybox" --list-full) || die "$busybox --list-full failed (cannot run it on this host?)"
n=0
while read -r path; do
	[[ -n $path && $path != bin/busybox ]] || continue
	if [[ $path == /* || $path == *..* ]]; then
		die "unexpected applet path '$path' from busybox --list-full"
	fi
	# Relative link to /bin/busybox: one ../ per directory level.
	if [[ $path == */* ]]; then
		dir=${path%/*}
		up=${dir//[^\/]/}
		up=../${up//\//../}
	else
		dir=.
		up=
	fi
	if [[ $dir == bin ]]; then
		target=busybox
	else
		target=${up}bin/busybox
	fi
	mkdir -p "$stage/$dir"
	ln -s "$target" "$stage/$path"
	n=$((n + 1))
done <<<"$applets"

install -m 0755 "$init" "$stage/init"
install -m 0644 "$profile" "$stage/etc/profile"
printf 'root:x:0:0:root:/:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"

# ---- kernel modules ----
# name (with - and _ equal, as modprobe treats them) -> path under kernel/
declare -A modpath=()
while IFS= read -r -d '' f; do
	rel=${f#"$kmods"/}
	base=${rel##*/}
	name=${base%%.ko*}
	modpath[${name//-/_}]=$rel
done < <(find "$kmods/kernel" -type f \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' \) -print0)
[[ ${#modpath[@]} -gt 0 ]] || die "no modules found under $kmods/kernel"

dst=$stage/lib/modules/$release
declare -A done_=()
queue=()
for m in "${want[@]}"; do queue+=("${m//-/_}"); done
copied=()
while [[ ${#queue[@]} -gt 0 ]]; do
	m=${queue[0]}
	queue=("${queue[@]:1}")
	[[ -n $m && -z ${done_[$m]:-} ]] || continue
	done_[$m]=1
	rel=${modpath[$m]:-}
	if [[ -z $rel ]]; then
		if grep -Eq "/${m//_/[-_]}\\.ko\$" "$kmods/modules.builtin" 2>/dev/null; then
			continue # built into the kernel: nothing to copy
		fi
		die "module $m is not in the kernel package ($kmods)"
	fi
	plain=${rel%.ko*}.ko
	mkdir -p "$dst/${plain%/*}"
	# Decompress: busybox modprobe loads only plain .ko files.
	case $rel in
	*.ko) cp -- "$kmods/$rel" "$dst/$plain" ;;
	*.ko.xz) xz -dc -- "$kmods/$rel" >"$dst/$plain" || die "xz -d $rel failed" ;;
	*.ko.zst) zstd -q -dc -- "$kmods/$rel" >"$dst/$plain" || die "zstd -d $rel failed (Debian package zstd)" ;;
	*.ko.gz) gzip -dc -- "$kmods/$rel" >"$dst/$plain" || die "gzip -d $rel failed" ;;
	esac
	copied+=("$m")
	deps=$(modinfo -F depends -- "$dst/$plain") || die "modinfo $plain failed"
	IFS=, read -r -a list <<<"$deps"
	for d in "${list[@]}"; do
		if [[ -n $d ]]; then queue+=("${d//-/_}"); fi
	done
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	if [[ -f $kmods/$f ]]; then cp -- "$kmods/$f" "$dst/$f"; fi
done

# depmod over the staged tree only, ignoring the host's depmod.d. Debian's
# System.map is a placeholder (the real one is in the -dbg package), so a map
# of the kernel's exports is made from vmlinux itself; with it, `depmod -e`
# reports any symbol the copied modules cannot resolve (a missing
# dependency), which is an error here.
work=$(mktemp -d)
tmp=$initrd.tmp
trap 'rm -rf -- "$work" "$tmp"' EXIT
mkdir "$work/conf"

# Address of ELF section $1 of vmlinux, in hex without 0x.
secaddr() {
	readelf -SW -- "$vmlinux" |
		awk -v s="$1" '{ for (i = 1; i < NF; i++) if ($i == s) { print $(i + 2); exit } }'
}
# Names of the symbols vmlinux exports. x86-64 entries of __ksymtab and
# __ksymtab_gpl are struct kernel_symbol { int value_offset, name_offset,
# namespace_offset; }, each offset relative to its own field; the names are
# in __ksymtab_strings, where the linker merges a name into the tail of a
# longer one ("kfree" inside "devm_kfree"), so every suffix is indexed.
kernel_exports() {
	local strs sec addr
	strs=$(secaddr __ksymtab_strings)
	[[ -n $strs ]] || die "$vmlinux has no __ksymtab_strings section (not a modular kernel?)"
	objcopy -O binary --only-section=__ksymtab_strings -- "$vmlinux" "$work/strings"
	: >"$work/offsets"
	for sec in __ksymtab __ksymtab_gpl; do
		addr=$(secaddr "$sec")
		[[ -n $addr ]] || die "$vmlinux has no $sec section"
		objcopy -O binary --only-section="$sec" -- "$vmlinux" "$work/$sec"
		od -An -v -t d4 -w12 -- "$work/$sec" |
			awk -v d="$((0x$addr - 0x$strs))" '{ print d + 12 * (NR - 1) + 4 + $2 }' >>"$work/offsets"
	done
	tr '\0' '\n' <"$work/strings" | awk -v offsets="$work/offsets" '
		{
			for (k = 0; k < length($0); k++) name[off + k] = substr($0, k + 1)
			off += length($0) + 1
		}
		END {
			while ((getline o <offsets) > 0) {
				if (!(o in name)) { print "bad __ksymtab name offset " o >"/dev/stderr"; exit 1 }
				print name[o]
			}
		}'
}
kernel_exports | awk '{ print "ffffffff81000000 R __ksymtab_" $0 }' >"$work/System.map" ||
	die "$vmlinux: cannot read its export table"
[[ -s $work/System.map ]] || die "$vmlinux exports no symbols"
if ! msgs=$(depmod -a -b "$stage" -C "$work/conf" -e -F "$work/System.map" "$release" 2>&1); then
	die "depmod failed: $msgs"
fi
if [[ -n $msgs ]]; then
	echo "$msgs" >&2
	die "depmod reported problems with the module set (see above)"
fi

# ---- archive ----
find "$stage" -exec touch -h -d "@$epoch" {} +

# newc header of one entry: name, mode (octal), rdev major, minor, inode.
newc_entry() {
	local name=$1 mode=$2 rmaj=$3 rmin=$4 ino=$5 len pad
	len=$((${#name} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
		"$ino" "$((8#$mode))" 0 0 1 "$epoch" 0 0 0 "$rmaj" "$rmin" "$len" 0 "$name"
	# header (110 bytes) + name is padded to a multiple of 4
	pad=$(((4 - (110 + len) % 4) % 4))
	head -c "$pad" /dev/zero
}

{
	(cd "$stage" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --reproducible --quiet) || die "cpio failed"
	# The kernel opens /dev/console for init before init mounts devtmpfs, so
	# the node must be in the archive. It is a second, hand-made archive (the
	# kernel unpacks concatenated ones) so that building needs no mknod/root.
	newc_entry dev/console 020600 5 1 1000000
	newc_entry 'TRAILER!!!' 0 0 0 0
} | gzip -n -9 >"$tmp"
mv -- "$tmp" "$initrd"

echo "$prog: $initrd: busybox ($n applets), ${#copied[@]} modules for $release: ${copied[*]}" >&2
