#!/usr/bin/env bash
# build-newlib.sh: builds the hypervisor's libc, a trimmed, integer-only newlib
# for the freestanding x86-64 kernel target, and installs it atomically as
# OUTDIR/include + OUTDIR/lib/libc.a. Called by kernel/libc/newlib.mk, which
# names OUTDIR after a hash of this script, so any change here means a rebuild.
#
# usage: build-newlib.sh TARBALL VERSION OUTDIR     (CC from the environment)
#
# Why a trimmed build with our own compile loop rather than newlib's configure:
# the hypervisor never touches SSE/x87 state, so everything is built with
# -mgeneral-regs-only, which newlib's float code (dtoa, strtod, libm) cannot
# take. We build only the integer parts we use and check the result.
set -euo pipefail
export LC_ALL=C

if [[ $# -ne 3 ]]; then
	echo "usage: $0 TARBALL VERSION OUTDIR" >&2
	exit 2
fi
tarball=$1
version=$2
out=$3
CC=${CC:-gcc}
AR=${AR:-ar}
OBJDUMP=${OBJDUMP:-objdump}
NM=${NM:-nm}

if [[ ! -f $tarball ]]; then
	echo "newlib: error: $tarball is missing (package newlib-source): run \`make deps\`" >&2
	exit 1
fi

# ---- the recipe: flags and file list -------------------------------------------------

# The kernel's code-generation flags (Makefile KERNEL_CFLAGS) plus newlib's own for
# an x86_64-elf target (configure.host: -fno-builtin -DMISSING_SYSCALL_NAMES
# -DHAVE_INIT_FINI). Frame pointers keep panic backtraces walkable through libc.
# shellcheck disable=SC2054 # the comma belongs to -Wa,
CFLAGS=(-ffreestanding -fno-stack-protector -mno-red-zone -mgeneral-regs-only
	-fno-pic -fno-pie -mcmodel=kernel -O2 -DNO_FLOATING_POINT
	-fno-omit-frame-pointer -fno-builtin -DMISSING_SYSCALL_NAMES -DHAVE_INIT_FINI
	-D_I386MACH_NEED_SOTYPE_FUNCTION -Wa,--noexecstack -w)

# newlib.h as configure would write it for --target=x86_64-elf
# --enable-newlib-io-long-long --enable-newlib-io-c99-formats
# --enable-newlib-nano-malloc --disable-newlib-mb --disable-newlib-wide-orient.
# _HAVE_LONG_DOUBLE is left out on purpose: nothing here handles long double.
NEWLIB_H='/* newlib.h: written by kernel/libc/build-newlib.sh (Bulkhead). */
#ifndef __NEWLIB_H__
#define __NEWLIB_H__ 1
#include <_newlib_version.h>
#define _WANT_IO_C99_FORMATS 1
#define _WANT_IO_LONG_LONG 1
#define _REENT_CHECK_VERIFY 1
#define _MB_LEN_MAX 1
#define HAVE_INITFINI_ARRAY 1
#define _ATEXIT_DYNAMIC_ALLOC 1
#define _HAVE_CC_INHIBIT_LOOP_TO_LIBCALL 1
#define _FVWRITE_IN_STREAMIO 1
#define _FSEEK_OPTIMIZATION 1
#define _UNBUF_STREAM_OPT 1
#define _NANO_MALLOC 1
#endif /* !__NEWLIB_H__ */'

# Sources, relative to newlib/libc. "OBJ SRC [FLAGS...]" builds SRC into OBJ.o;
# a bare "SRC" builds SRC into its basename. Directories listed in WHOLE_DIRS are
# taken entirely, minus SKIP.
WHOLE_DIRS=(string ctype)
# Globs. memcpy.c and memset.c give way to machine/x86_64/*.S, as in newlib; the
# wide case mappings (tow*, wcs*casecmp) need towctrans_l.c, which needs the
# multibyte (_MB_CAPABLE) build, and jp2uc.c is empty without it.
SKIP=(string/memcpy.c string/memset.c 'ctype/tow*.c' 'string/wcs*casecmp*.c' ctype/jp2uc.c)
SOURCES='
machine/x86_64/memcpy.S
machine/x86_64/memset.S
machine/x86_64/setjmp.S

errno/errno.c
reent/impure.c
reent/reent.c
reent/getreent.c
reent/closer.c
reent/fstatr.c
reent/isattyr.c
reent/lseekr.c
reent/readr.c
reent/sbrkr.c
reent/signalr.c
reent/writer.c
signal/signal.c
signal/raise.c
misc/ffs.c
locale/locale.c
locale/localeconv.c
locale/lctype.c
locale/lnumeric.c

stdlib/abs.c
stdlib/labs.c
stdlib/llabs.c
stdlib/imaxabs.c
stdlib/div.c
stdlib/ldiv.c
stdlib/lldiv.c
stdlib/imaxdiv.c
stdlib/atoi.c
stdlib/atol.c
stdlib/atoll.c
stdlib/strtol.c
stdlib/strtoul.c
stdlib/strtoll.c
stdlib/strtoull.c
stdlib/strtoimax.c
stdlib/strtoumax.c
stdlib/itoa.c
stdlib/utoa.c
search/qsort.c
search/qsort_r.c
search/bsearch.c
stdlib/rand.c
stdlib/rand_r.c
stdlib/abort.c
stdlib/assert.c
stdlib/mlock.c
stdlib/mbtowc_r.c
stdlib/wctomb_r.c
stdlib/wcrtomb.c
stdlib/wcsrtombs.c
stdlib/wcsnrtombs.c
stdlib/mbrtowc.c
stdlib/malloc.c
stdlib/calloc.c
stdlib/realloc.c
stdlib/reallocf.c
stdlib/reallocarray.c
stdlib/malign.c
stdlib/valloc.c
stdlib/msize.c
stdlib/mstats.c
nano-mallocr      stdlib/nano-mallocr.c -DINTERNAL_NEWLIB -DDEFINE_MALLOC
nano-freer        stdlib/nano-mallocr.c -DINTERNAL_NEWLIB -DDEFINE_FREE
nano-reallocr     stdlib/nano-mallocr.c -DINTERNAL_NEWLIB -DDEFINE_REALLOC
nano-callocr      stdlib/nano-mallocr.c -DINTERNAL_NEWLIB -DDEFINE_CALLOC
nano-cfreer       stdlib/nano-mallocr.c -DINTERNAL_NEWLIB -DDEFINE_CFREE
nano-malignr      stdlib/nano-mallocr.c -DINTERNAL_NEWLIB -DDEFINE_MEMALIGN
nano-vallocr      stdlib/nano-mallocr.c -DINTERNAL_NEWLIB -DDEFINE_VALLOC
nano-pvallocr     stdlib/nano-mallocr.c -DINTERNAL_NEWLIB -DDEFINE_PVALLOC
nano-mallinfor    stdlib/nano-mallocr.c -DINTERNAL_NEWLIB -DDEFINE_MALLINFO
nano-mallstatsr   stdlib/nano-mallocr.c -DINTERNAL_NEWLIB -DDEFINE_MALLOC_STATS
nano-msizer       stdlib/nano-mallocr.c -DINTERNAL_NEWLIB -DDEFINE_MALLOC_USABLE_SIZE
nano-malloptr     stdlib/nano-mallocr.c -DINTERNAL_NEWLIB -DDEFINE_MALLOPT

vfprintf          stdio/vfprintf.c
vfiprintf         stdio/vfprintf.c -DINTEGER_ONLY
svfprintf         stdio/vfprintf.c -DSTRING_ONLY
svfiprintf        stdio/vfprintf.c -DINTEGER_ONLY -DSTRING_ONLY
svfscanf          stdio/vfscanf.c -DSTRING_ONLY
svfiscanf         stdio/vfscanf.c -DINTEGER_ONLY -DSTRING_ONLY
stdio/sscanf.c
stdio/vsscanf.c
stdio/siscanf.c
stdio/vsiscanf.c
stdio/sccl.c
stdio/ungetc.c
stdio/printf.c
stdio/vprintf.c
stdio/fprintf.c
stdio/snprintf.c
stdio/vsnprintf.c
stdio/sprintf.c
stdio/vsprintf.c
stdio/asprintf.c
stdio/vasprintf.c
stdio/iprintf.c
stdio/viprintf.c
stdio/fiprintf.c
stdio/siprintf.c
stdio/vsiprintf.c
stdio/sniprintf.c
stdio/vsniprintf.c
stdio/puts.c
stdio/putchar.c
stdio/putc.c
stdio/fputc.c
stdio/fputs.c
stdio/fwrite.c
stdio/fflush.c
stdio/fclose.c
stdio/fvwrite.c
stdio/fwalk.c
stdio/findfp.c
stdio/stdio.c
stdio/makebuf.c
stdio/wsetup.c
stdio/wbuf.c
stdio/setvbuf.c
stdio/setbuf.c
stdio/fileno.c
stdio/ferror.c
stdio/clearerr.c
stdio/flags.c
'

# The syscalls newlib calls by their plain names (MISSING_SYSCALL_NAMES); the
# hypervisor provides them in kernel/libc/syscalls.c. Any other undefined symbol
# left in libc.a fails the build.
SYSCALLS=(write read close fstat isatty lseek sbrk kill getpid _exit)

# Any x87/MMX/SSE/AVX register or instruction in libc.a fails the build.
FP_REGS='%([xyz]mm[0-9]+|mm[0-7]|st([(][0-7][)])?)([^0-9a-z]|$)'
FP_INSNS='^(f[a-z0-9]+|(fx|x)(save|rstor)[a-z0-9]*|v?(ld|st)mxcsr|f?emms)$'

# ---- build -------------------------------------------------------------------------------

mkdir -p "$(dirname "$out")"
# Concurrent makes on one machine build once: the others wait, then find it done.
if command -v flock >/dev/null; then
	exec 9>"$out.lock"
	flock 9
	if [[ -f $out/lib/libc.a ]]; then
		echo "newlib: built meanwhile in $out"
		exit 0
	fi
fi

start=$(date +%s%N)
echo "newlib: building newlib $version, trimmed and integer-only (cached in $out)"

work=$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-newlib.XXXXXX")
stage=$out.tmp.$$
cleanup() { rm -rf "$work" "$stage"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

tar -xJf "$tarball" -C "$work"
top=$work/newlib-salsa
if [[ ! -d $top/newlib/libc ]]; then
	echo "newlib: error: $tarball has no newlib-salsa/newlib/libc" >&2
	exit 1
fi
found=$(sed -n "s/^PACKAGE_VERSION='\(.*\)'$/\1/p" "$top/newlib/configure")
if [[ $found != "$version" ]]; then
	echo "newlib: error: $tarball holds newlib $found, expected $version" >&2
	exit 1
fi
libc=$top/newlib/libc

# Headers, laid out as newlib's install-data-local does for machine_dir=x86_64.
inc=$stage/include
mkdir -p "$inc" "$stage/lib"
cp -R "$libc/include/." "$inc/"
cp "$libc/machine/x86_64/sys/"*.h "$inc/sys/"
rm -f "$inc/rpc/types.h" "$inc/rpc/xdr.h"
rmdir "$inc/rpc" 2>/dev/null || true
printf '%s\n' "$NEWLIB_H" >"$inc/newlib.h"
IFS=. read -r major minor patch <<<"$version"
cat >"$inc/_newlib_version.h" <<EOF
/* _newlib_version.h: written by kernel/libc/build-newlib.sh (Bulkhead). */
#ifndef _NEWLIB_VERSION_H__
#define _NEWLIB_VERSION_H__ 1
#define _NEWLIB_VERSION "$version"
#define __NEWLIB__ $major
#define __NEWLIB_MINOR__ $minor
#define __NEWLIB_PATCHLEVEL__ $patch
#endif /* !_NEWLIB_VERSION_H__ */
EOF

# One job per line: "OBJ SRC FLAGS...".
jobs=$work/jobs
: >"$jobs"
for d in "${WHOLE_DIRS[@]}"; do
	for f in "$libc/$d/"*.c; do
		rel=$d/${f##*/}
		for pat in "${SKIP[@]}"; do
			# shellcheck disable=SC2053 # $pat is a glob
			[[ $rel == $pat ]] && continue 2
		done
		echo "${d}_$(basename "$rel" .c) $rel" >>"$jobs"
	done
done
while read -r first rest; do
	[[ -z $first ]] && continue
	if [[ $first == */* ]]; then
		base=${first##*/}
		line="${first%%/*}_${base%.*} $first $rest"
	else
		line="$first $rest"
	fi
	echo "${line%"${line##*[! ]}"}" >>"$jobs" # no trailing blank: xargs -L joins on it
done <<<"$SOURCES"

mkdir -p "$work/obj"
export CC libc work
gcc_inc=$("$CC" -print-file-name=include)
CFLAGS_STR="${CFLAGS[*]} -nostdinc -isystem $inc -isystem $gcc_inc"
export CFLAGS_STR
compile_one() {
	local obj=$1 src=$2
	shift 2
	# shellcheck disable=SC2086 # CFLAGS_STR is a word list
	if ! "$CC" $CFLAGS_STR -I "$libc/${src%/*}" "$@" -c "$libc/$src" -o "$work/obj/$obj.o" 2>"$work/obj/$obj.log"; then
		echo "newlib: error: compiling $src $* failed:" >&2
		head -20 "$work/obj/$obj.log" >&2
		return 255 # stops xargs
	fi
}
export -f compile_one
njobs=$(nproc 2>/dev/null || echo 2)
if ! xargs -P "$njobs" -L 1 bash -c 'compile_one "$@"' _ <"$jobs"; then
	echo "newlib: error: build failed" >&2
	exit 1
fi

lib=$stage/lib/libc.a
objs=("$work"/obj/*.o)
"$AR" rcs "$lib" "${objs[@]}"

# ---- checks ------------------------------------------------------------------------------

fp=$("$OBJDUMP" -d --no-show-raw-insn "$lib" |
	awk -F'\t' -v regs="$FP_REGS" -v insns="$FP_INSNS" '
		/^[^ \t].*:$/ { where = $0 }
		NF >= 2 && $1 ~ /^ *[0-9a-f]+:$/ {
			split($2, w, " ")
			if (w[1] ~ insns || $2 ~ regs)
				print "  " where " " $2
		}')
if [[ -n $fp ]]; then
	echo "newlib: error: libc.a uses x87/SSE registers (the hypervisor must not):" >&2
	head -20 <<<"$fp" >&2
	exit 1
fi

defined=$("$NM" -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u)
undefined=$("$NM" -g --undefined-only "$lib" 2>/dev/null | awk 'NF == 2 { print $2 }' | sort -u)
missing=$(comm -23 <(echo "$undefined") <(echo "$defined") |
	grep -vxF -f <(printf '%s\n' "${SYSCALLS[@]}") || true)
if [[ -n $missing ]]; then
	echo "newlib: error: libc.a needs symbols nothing provides (symbol: members):" >&2
	"$NM" -A -g --undefined-only "$lib" 2>/dev/null | awk -v m="$missing" '
		BEGIN { n = split(m, a, "\n"); for (i = 1; i <= n; i++) want[a[i]] = 1 }
		want[$NF] { split($1, p, ":"); users[$NF] = users[$NF] " " p[2] }
		END { for (s in users) print "  " s ":" users[s] }' >&2
	exit 1
fi

# ---- install -----------------------------------------------------------------------------

# Atomic: a concurrent build that finished first wins, and ours is dropped.
if ! mv -T "$stage" "$out" 2>/dev/null; then
	if [[ ! -f $out/lib/libc.a ]]; then
		echo "newlib: error: cannot install into $out" >&2
		exit 1
	fi
fi

ms=$((($(date +%s%N) - start) / 1000000))
printf 'newlib: done in %d.%d s: %d objects, libc.a %d KiB, no x87/SSE instructions\n' \
	$((ms / 1000)) $((ms % 1000 / 100)) "${#objs[@]}" $(($(stat -c %s "$out/lib/libc.a") / 1024))
