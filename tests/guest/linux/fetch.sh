#!/usr/bin/env bash
# Download (once) and unpack the two Debian packages the Linux test guest is
# made of: the real kernel package behind `linux-image-amd64` and
# `busybox-static`. Nothing is installed on the host.
#
#   fetch.sh OUT          (OUT is build/linux)
#
# Results:
#   OUT/debs/*.deb        download cache: a package already there is not
#                         downloaded again
#   OUT/pkg/kernel/       dpkg-deb -x of the kernel package
#   OUT/pkg/busybox/      dpkg-deb -x of busybox-static
#   OUT/kernel-release    e.g. 6.1.0-57-amd64 (the /lib/modules name)
#   OUT/packages.txt      "package version" per line; written last, so it is
#                         the make target that stands for all of the above
#
# LINUX_IMAGE_PKG=linux-image-6.1.0-NN-amd64 pins the kernel package instead
# of resolving the metapackage.
set -euo pipefail

prog=fetch.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
trap 'echo "$prog: error: line $LINENO: $BASH_COMMAND failed" >&2' ERR

[[ $# -eq 1 ]] || die "usage: $prog OUTDIR"
out=$1
debs=$out/debs
pkgdir=$out/pkg
meta=linux-image-amd64

for tool in apt-get apt-cache dpkg-deb; do
	command -v "$tool" >/dev/null || die "$tool not found (this needs a Debian host)"
done
export DEBIAN_FRONTEND=noninteractive

apt_opts=(-q)
if [[ $(id -u) -eq 0 ]]; then
	# apt's _apt sandbox user may not be able to write into the build tree.
	apt_opts+=(-o APT::Sandbox::User=root)
fi

# Package lists are refreshed at most once per run, and only when a lookup or
# download fails (e.g. a fresh container where `apt-get update` never ran).
updated=0
refresh_lists() {
	[[ $updated -eq 0 ]] || return 1
	updated=1
	echo "$prog: package lists missing or stale: running apt-get update" >&2
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || die "apt-get update needs root (or sudo)"
		sudo=(sudo)
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 ||
		die "apt-get update failed"
}

# Name of the versioned kernel package the metapackage depends on.
kernel_pkg() {
	{ apt-cache depends "$meta" 2>/dev/null || true; } |
		sed -n 's/^ *Depends: *\(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}

# Candidate version of a package, empty if apt knows none.
candidate() {
	{ apt-cache policy "$1" 2>/dev/null || true; } |
		sed -n 's/^ *Candidate: *//p' | { grep -v '^(none)$' || true; }
}

# The cached .deb of package $1 at version $2, if present.
cached_deb() {
	local f
	for f in "$debs/$1"_*.deb; do
		[[ -f $f ]] || continue
		if [[ $(dpkg-deb -f "$f" Package) == "$1" && $(dpkg-deb -f "$f" Version) == "$2" ]]; then
			echo "$f"
			return 0
		fi
	done
	return 1
}

# Make sure $debs holds package $1 (candidate version); sets deb_path.
# (Not run in a subshell, so `updated` sticks.)
deb_path=
fetch_deb() {
	local pkg=$1 ver f
	ver=$(candidate "$pkg")
	if [[ -z $ver ]]; then
		refresh_lists || true
		ver=$(candidate "$pkg")
		[[ -n $ver ]] || die "package $pkg not found in the apt package lists"
	fi
	if f=$(cached_deb "$pkg" "$ver"); then
		echo "$prog: cached $pkg $ver" >&2
		deb_path=$f
		return 0
	fi
	echo "$prog: downloading $pkg $ver" >&2
	if ! (cd "$debs" && apt-get "${apt_opts[@]}" download "$pkg=$ver" >&2); then
		refresh_lists || die "apt-get download $pkg=$ver failed"
		ver=$(candidate "$pkg")
		[[ -n $ver ]] || die "package $pkg not found after apt-get update"
		(cd "$debs" && apt-get "${apt_opts[@]}" download "$pkg=$ver" >&2) ||
			die "apt-get download $pkg=$ver failed"
	fi
	f=$(cached_deb "$pkg" "$ver") || die "apt-get download $pkg=$ver left no .deb in $debs"
	deb_path=$f
}

# Unpack $1 into $pkgdir/$2 unless that exact .deb is unpacked there already.
unpack() {
	local deb=$1 dest=$pkgdir/$2 id
	id=$(basename "$deb")
	if [[ -f $dest/.deb && $(cat "$dest/.deb") == "$id" ]]; then
		return 0
	fi
	echo "$prog: unpacking $id" >&2
	rm -rf -- "$dest" "$dest.tmp"
	mkdir -p "$dest.tmp"
	dpkg-deb -x "$deb" "$dest.tmp" || die "dpkg-deb -x $deb failed"
	echo "$id" >"$dest.tmp/.deb"
	mv -- "$dest.tmp" "$dest"
}

mkdir -p "$debs" "$pkgdir"

kpkg=${LINUX_IMAGE_PKG:-}
if [[ -z $kpkg ]]; then
	kpkg=$(kernel_pkg)
	if [[ -z $kpkg ]]; then
		refresh_lists || true
		kpkg=$(kernel_pkg)
	fi
	[[ -n $kpkg ]] || die "cannot resolve $meta to a linux-image-6.1.0-NN-amd64 package (apt-cache depends $meta)"
fi

fetch_deb "$kpkg"
kdeb=$deb_path
fetch_deb busybox-static
bdeb=$deb_path

# Keep the cache minimal: drop any other kernel or busybox .deb (older
# versions, an older kernel ABI).
for old in "$debs"/linux-image-*.deb "$debs"/busybox-static_*.deb; do
	if [[ -f $old && $old != "$kdeb" && $old != "$bdeb" ]]; then
		rm -f -- "$old"
	fi
done
unpack "$kdeb" kernel
unpack "$bdeb" busybox

# Sanity of what the later steps need.
shopt -s nullglob
mods=("$pkgdir"/kernel/lib/modules/*/)
[[ ${#mods[@]} -eq 1 ]] || die "expected one lib/modules/VERSION in $kpkg, found ${#mods[@]}"
release=$(basename "${mods[0]}")
[[ -f $pkgdir/kernel/boot/vmlinuz-$release ]] || die "$kpkg has no boot/vmlinuz-$release"
[[ -x $pkgdir/busybox/bin/busybox ]] || die "busybox-static has no bin/busybox"

echo "$release" >"$out/kernel-release"
{
	echo "$kpkg $(dpkg-deb -f "$kdeb" Version)"
	echo "busybox-static $(dpkg-deb -f "$bdeb" Version)"
} >"$out/packages.txt.tmp"
mv -- "$out/packages.txt.tmp" "$out/packages.txt"
echo "$prog: kernel $release ($kpkg), busybox-static ready in $pkgdir" >&2
