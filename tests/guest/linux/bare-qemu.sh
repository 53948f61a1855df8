#!/usr/bin/env bash
# Boot the Linux test guest on bare QEMU (TCG, no Bulkhead): the baseline
# that `make bench` compares against. The console is this terminal (stdio).
#
#   bare-qemu.sh [EXTRA QEMU ARGS...]
#
# Environment:
#   LINUX_APPEND  extra kernel command-line words, added after the defaults
#   LINUX_DIR     directory with vmlinux and initrd.cpio.gz (build/linux)
#   QEMU          emulator binary (qemu-system-x86_64)
#   QEMU_MEM      guest memory in MiB (256)
#   QEMU_CTRL_C   "qemu" (default): ^C on this terminal stops QEMU, as with
#                 -serial stdio; "guest": ^C goes to the guest's shell
# QEMU boots the uncompressed vmlinux through its PVH note. It exits when
# the guest powers off (`poweroff`, or `exit` from the shell) and, with
# -no-reboot and panic=-1, when the kernel panics.
set -euo pipefail

prog=bare-qemu.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
trap 'echo "$prog: error: line $LINENO: $BASH_COMMAND failed" >&2' ERR

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
dir=${LINUX_DIR:-$root/build/linux}
qemu=${QEMU:-qemu-system-x86_64}
mem=${QEMU_MEM:-256}

command -v "$qemu" >/dev/null || die "$qemu not found (Debian package qemu-system-x86)"
for f in vmlinux initrd.cpio.gz; do
	[[ -f $dir/$f ]] || die "$dir/$f missing: run 'make guests' first"
done
[[ $mem =~ ^[0-9]+$ ]] || die "QEMU_MEM=$mem is not a number of MiB"
case ${QEMU_CTRL_C:-qemu} in
qemu) serial=(-serial stdio) ;;
guest) serial=(-chardev 'stdio,id=console,signal=off' -serial chardev:console) ;;
*) die "QEMU_CTRL_C=$QEMU_CTRL_C: want qemu or guest" ;;
esac

cmdline="console=ttyS0 tsc=reliable no_timer_check nokaslr mitigations=off panic=-1"
if [[ -n ${LINUX_APPEND:-} ]]; then
	cmdline+=" $LINUX_APPEND"
fi

exec "$qemu" -accel tcg -machine q35 -cpu max -m "$mem" -nodefaults -display none \
	"${serial[@]}" -no-reboot \
	-kernel "$dir/vmlinux" -initrd "$dir/initrd.cpio.gz" -append "$cmdline" "$@"
