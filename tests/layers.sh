#!/usr/bin/env bash
# The layer rules (issue 10 item 5), checked on every #include and on names:
#   vsp/    includes only vmbus/kmcl.h, vmbus/vsp.h, kernel/types.h, vsp/
#           headers and C library headers;
#   vmbus/  includes nothing of vsp/;
#   kernel/ includes nothing of vmbus/, vsp/ or arch/, and names no VMX/SVM
#           identifier (vmx_, svm_, vmcs_, vmcb_): the vendor is arch/'s;
#   arch/   includes nothing of vmbus/ or vsp/, and of kernel/ only the
#           headers that declare what arch/ and kernel/ share (ARCH_KERNEL);
#   boot/   includes nothing of kernel/ but kernel/boot_info.h;
#   inside vmbus/, the files depend one way (vmbus/bus.h lists the layers);
#   vmbus/ and vsp/ objects call no C heap function (malloc, free, ...): what
#   they allocate comes from the partition's pool (kernel/pool.h).
# An include is judged by the file it resolves to, as the compiler finds it:
# the including file's folder first, then -I. and -Ikernel (the Makefile's).
# On a built tree (build/k) the same boundary is checked on the objects:
# arch/ calls kernel/ only through ARCH_CALLS, and kernel/, vmbus/ and vsp/
# call arch/ only through arch_*() and ARCH_PROVIDES (kernel/arch.h, vp.h,
# palloc.h declare them).
# Prints one line per violation; exit 1 if there is any.
set -uo pipefail
cd "$(dirname "$0")/.."

# What arch/ may include of kernel/: the interface kernel/ offers arch/
# (arch.h, vp.h and what vp.h uses, pt.h), the shared facts and wire formats
# (types.h, x86.h, boot_info.h, acpi.h) and the two services arch/ calls
# (log.h: kprintf/panic, palloc.h: frames for VMCS/VMCB and host tables).
ARCH_KERNEL="kernel/arch.h kernel/vp.h kernel/pt.h kernel/types.h kernel/x86.h \
kernel/boot_info.h kernel/acpi.h kernel/log.h kernel/palloc.h"
ARCH_CALLS="kmain kprintf panic palloc_alloc palloc_alloc_contig palloc_free pt_format_ept \
pt_format_npt"
ARCH_PROVIDES="vp_probe serial_init serial_write serial_getc serial_flush phys_to_virt"
VSP_ALLOWED="vmbus/kmcl.h vmbus/vsp.h kernel/types.h"
# C11 standard headers (ISO/IEC 9899:2011, 7.1.2).
C_HEADERS="assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h \
locale.h math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h \
stdio.h stdlib.h stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h"

violations=0
violation() {
	echo "$1"
	violations=$((violations + 1))
}

in_list() { # word list...
	local w=$1
	shift
	for x in $*; do
		[[ $x == "$w" ]] && return 0
	done
	return 1
}

# Repository path an include resolves to, or the name itself (system or generated header).
resolve() { # including-file name quoted(0/1)
	local dir name=$2
	dir=$(dirname "$1")
	if [[ $3 == 1 && -f $dir/$name ]]; then
		realpath --relative-to=. "$dir/$name"
	elif [[ -f $name ]]; then
		realpath --relative-to=. "$name"
	elif [[ -f kernel/$name ]]; then
		echo "kernel/$name"
	else
		echo "$name"
	fi
}

check_include() { # file line name quoted
	local f=$1 line=$2 name=$3 quoted=$4 target where="$1:$2: #include <$3>"
	((quoted)) && where="$1:$2: #include \"$3\""
	target=$(resolve "$f" "$name" "$quoted")
	case $f in
	vsp/*)
		if [[ $target == vsp/* ]] || in_list "$target" $VSP_ALLOWED; then
			return
		fi
		if [[ $quoted == 0 && $target == "$name" ]] && in_list "$name" $C_HEADERS; then
			return
		fi
		violation "$where: vsp/ may include only $VSP_ALLOWED, vsp/ and C library headers"
		;;
	vmbus/*)
		[[ $target == vsp/* ]] && violation "$where: vmbus/ must not include vsp/"
		;;
	kernel/*)
		case $target in
		vmbus/* | vsp/* | arch/*)
			violation "$where: kernel/ must not include ${target%%/*}/"
			;;
		esac
		;;
	arch/*)
		case $target in
		vmbus/* | vsp/*)
			violation "$where: arch/ must not include ${target%%/*}/"
			;;
		kernel/*)
			in_list "$target" $ARCH_KERNEL ||
				violation "$where: arch/ may include of kernel/ only $ARCH_KERNEL"
			;;
		esac
		;;
	boot/*)
		if [[ $target == kernel/* && $target != kernel/boot_info.h ]]; then
			violation "$where: boot/ may include of kernel/ only kernel/boot_info.h"
		fi
		;;
	esac
}

while IFS= read -r hit; do
	# FILE:LINE:#include "NAME" or <NAME>
	f=${hit%%:*}
	rest=${hit#*:}
	line=${rest%%:*}
	text=${rest#*:}
	if [[ $text =~ include[[:space:]]*\"([^\"]+)\" ]]; then
		check_include "$f" "$line" "${BASH_REMATCH[1]}" 1
	elif [[ $text =~ include[[:space:]]*\<([^\>]+)\> ]]; then
		check_include "$f" "$line" "${BASH_REMATCH[1]}" 0
	fi
done < <(grep -rnE --include='*.[chS]' '^[[:space:]]*#[[:space:]]*include' vsp vmbus kernel arch boot)

while IFS= read -r hit; do
	f=${hit%%:*}
	rest=${hit#*:}
	violation "$f:${rest%%:*}: kernel/ names VMX or SVM (the vendor code is arch/'s): ${rest#*:}"
done < <(grep -rniE --include='*.[chS]' '\b(vmx|svm|vmcs|vmcb)_' kernel)

# Global symbols defined / used by the objects of these sources (build/k, as the Makefile builds).
objects() {
	local src
	for src in $(git ls-files "$@" | grep -E '\.(c|S)$'); do
		echo "build/k/${src%.*}.o"
	done
}
symbols() { # nm-flags objects...
	local flags=$1
	shift
	nm $flags "$@" 2>/dev/null | awk 'NF >= 2 && $1 != "" {print $NF}' | sort -u
}

arch_objs=$(objects 'arch/*')
kernel_objs=$(objects 'kernel/*' 'vmbus/*' 'vsp/*')
missing=0
for o in $arch_objs $kernel_objs; do
	[[ -f $o ]] || missing=1
done
if ((missing)); then
	echo "layers.sh: build/k is not (fully) built: symbol checks skipped (make all first)"
else
	arch_def=$(symbols "--defined-only -g" $arch_objs)
	kernel_def=$(symbols "--defined-only -g" $kernel_objs)
	for sym in $(comm -12 <(symbols -u $arch_objs) <(echo "$kernel_def")); do
		in_list "$sym" $ARCH_CALLS ||
			violation "arch/ uses $sym of kernel/: not an entry point (ARCH_CALLS in tests/layers.sh)"
	done
	for sym in $(comm -12 <(symbols -u $kernel_objs) <(echo "$arch_def")); do
		[[ $sym == arch_* ]] || in_list "$sym" $ARCH_PROVIDES ||
			violation "kernel/, vmbus/ or vsp/ uses $sym of arch/: not an entry point (ARCH_PROVIDES in tests/layers.sh)"
	done
fi

# ---- inside vmbus/: the files depend one way (vmbus/bus.h states the layers) ----
# 1 ring; 2 gpadl, bus, channel; 3 packet; 4 save; 5 kmcl, snap, part, vsp, cfg.
# An object may use the symbols of its own layer and of those before it only;
# and the channel layer's sources include neither packet.h nor save.h.
declare -A VMBUS_LAYER=([ring]=1 [gpadl]=2 [bus]=2 [channel]=2 [packet]=3 [save]=4
	[kmcl]=5 [snap]=5 [part]=5 [vsp]=5 [cfg]=5)
for f in vmbus/ring.c vmbus/gpadl.c vmbus/bus.c vmbus/channel.c; do
	while IFS=: read -r line text; do
		violation "$f:$line: $text: the channel layer may not include the packet or save layer"
	done < <(grep -nE '#include +"vmbus/(packet|save)\.h"' "$f")
done
for f in vmbus/*.c; do
	n=$(basename "$f" .c)
	[[ -n ${VMBUS_LAYER[$n]:-} ]] || violation "$f: not in a vmbus/ layer (tests/layers.sh, VMBUS_LAYER)"
done
if compgen -G "build/k/vmbus/*.o" >/dev/null; then
	declare -A VMBUS_DEF=()
	for o in build/k/vmbus/*.o; do
		n=$(basename "$o" .o)
		while read -r sym; do VMBUS_DEF[$sym]=$n; done < <(nm --defined-only -g "$o" | awk '{print $3}')
	done
	for o in build/k/vmbus/*.o; do
		n=$(basename "$o" .o)
		[[ -n ${VMBUS_LAYER[$n]:-} ]] || continue
		while read -r sym; do
			d=${VMBUS_DEF[$sym]:-}
			[[ -n $d && $d != "$n" ]] || continue
			((VMBUS_LAYER[$d] <= VMBUS_LAYER[$n])) ||
				violation "vmbus/$n.c: calls $sym of vmbus/$d.c, a later layer"
		done < <(nm -u "$o" | awk '{print $2}')
	done
fi

# ---- vmbus/ and vsp/ allocate from their partition's pool only (kernel/pool.h) ----
# The C heap is the hypervisor's own: nothing a guest can grow may come from it.
HEAP_CALLS="malloc calloc realloc free reallocarray aligned_alloc memalign posix_memalign \
_malloc_r _calloc_r _realloc_r _free_r"
if compgen -G "build/k/vmbus/*.o" >/dev/null; then
	for o in build/k/vmbus/*.o $(find build/k/vsp -name '*.o' 2>/dev/null); do
		for sym in $(nm -u "$o" | awk '{print $2}'); do
			in_list "$sym" $HEAP_CALLS &&
				violation "${o#build/k/}: calls $sym: vmbus/ and vsp/ allocate from the partition's pool (kernel/pool.h)"
		done
	done
fi

if ((violations)); then
	echo "layers.sh: $violations violation(s)"
	exit 1
fi
echo "layers.sh: every layer rule holds"
