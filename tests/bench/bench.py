"""make bench: figures as ratios against a baseline measured in the same run.

Measurements (BENCH_ONLY, default "guest,echo,linux,network", selects some):
guest (boot to console, cpuid exits, mitigations, compute loop), echo,
linux (Linux boot to shell) and network, described below.

Per back end (BACKENDS, default "qemu,bochs"; QEMU = AMD-V/SVM under TCG,
Bochs = VT-x):

- boot to console: the test-guest configuration under Bulkhead, from the
  emulator's start and from the loader's `bulkhead: loader: starting
  hypervisor` to `bulkhead: console ready`. No baseline: it is the
  hypervisor's own start-up (OVMF is in the first figure only).
- cpuid exits/s: the test guest runs CPUID 100000 times (each one a VM exit
  and entry) under Bulkhead.
- exit round trip with and without the speculation mitigations
  (docs/security.md): the same CPUID run in a partition with
  `mitigations = off` (no IBPB, L1D flush, VERW or RSB fill around its
  entries), booted in the same run; the ratio is the time per exit with
  them over the time without. The emulators offer few speculation
  controls: the boot line `bulkhead: mitigations ...` printed with the
  figure says which were on.
- compute loop: the guest's pure-register loop under Bulkhead divided by the
  same loop with the same guest booted directly as the emulator's firmware
  (no hypervisor at all).
- vmbus echo: the test guest's VMBus client (its `v` command,
  tests/guest/README.md) streams 2000 in-band packets of 8..2000 bytes
  through the echo VSP (`vmbus = echo`) and checks every echo and
  completion: round trips per second and HvSignalEvent calls per packet
  (target <= 0.05 while streaming with the receive ring's interrupt
  masked), in the guest's own TSC time. Baseline, measured by the same
  guest in the same run: the same bytes generated, copied out and back and
  checked with no VMBus (its `baseline memcpy` line); the ratio is
  Bulkhead's time over the baseline's.
- Linux boot to shell (BENCH_LINUX_BACKENDS, default "qemu"; Bochs takes
  minutes): Debian's kernel and the busybox initramfs of tests/guest/linux/
  until its init prints `bulkhead-linux: init ready` (and then the shell
  must answer a command), under Bulkhead (a 256 MiB partition, the emulator
  with MEM=1G) divided by the same kernel, initramfs and command line booted
  directly by the emulator (bare-qemu.sh, 256 MiB). Two ratios: the
  headline, which the target is checked against, from `partition linux
  started` (Bulkhead) or the emulator's start (bare) to the banner: the
  Linux boot itself; and the whole machine from the emulator's start on
  both sides (OVMF, the loader and the hypervisor's boot count on
  Bulkhead's side, nothing on the bare side: a fixed ~3 s that makes this
  ratio follow the machine's load). The
  kernel's own timestamp at `Run /init` is printed for both as a
  cross-check; under QEMU TCG the guest's TSC follows the host's clock, so
  it is not free of host noise either.
  Bochs has no direct kernel boot: its bare baseline is the Bochs BIOS with
  an option ROM of ours (pvhrom.S) that reads the kernel and initramfs from
  a disk image and enters the kernel through its PVH note, as QEMU's -kernel
  does; there the headline's bare side starts at the ROM's `pvhrom:
  entering Linux`, after the disk reads that QEMU's fw_cfg does not need.
  Bochs's CPU model lacks MSRs that Linux reads unguarded; they are
  defined for the bare run (BOCHS_MSRS).
- network (the back ends of BENCH_LINUX_BACKENDS; docs/netvsp.md,
  "Figures"): two Linux partitions of 192 MiB (the emulator with MEM=1G),
  alpha 10.0.0.1 and beta 10.0.0.2, each `nic = lan` on `[switch lan]`,
  eth0 brought up as tests/system/test_network.py does. Three figures,
  each against a baseline inside the same guests: the ping round trip
  alpha -> beta over the switch against alpha's loopback (busybox `ping -c
  50 -i 0.2`, its avg rtt as the guest reports it; ratio switch /
  loopback), and the same ping against the echo VSP's round trip measured
  earlier in the run (when `echo` runs too: ratio ping / echo); 16 MiB
  from beta to alpha through busybox nc over the switch
  against the same transfer over 127.0.0.1 inside beta (timed by busybox
  `time` in the client, 10 ms resolution; size and md5 checked; ratio
  switch time / loopback time, which is loopback throughput / switch
  throughput); and the copies: 2 copies of each frame in the hypervisor,
  counted from the code (NET_COPIES), with the frames, average bytes per
  frame and drops the `switch lan` counters show for the switch transfer
  (ratio bytes copied / payload bytes delivered). One boot serves every
  run: BENCH_REPEAT repeats the measurements inside it (a boot of two
  Linux guests takes longer than the measurements, and none of them
  depends on the boot), so the medians are over runs of one boot, whose
  own variation they do not sample.

Every measurement is repeated BENCH_REPEAT times (default 2), the runs of
Bulkhead and of its baseline interleaved (the network's in one boot); the
figures are medians. Time stamps are taken when the console output
arrives, chunk by chunk.

Exit status: 0 when every measurement ran, whatever the figures; 1 when one
failed (timeout, crash, unexpected output; the console's last lines are
printed), 2 for a bad setting. BENCH_KEEP=1 keeps the console logs (they
are kept anyway after a failure). Run with Debian's /usr/bin/python3.
"""
import bisect
import itertools
import os
import pty
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import tty

import pexpect
import pexpect.fdpexpect

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "system"))
from conftest import (BUILD, ESCAPE, PROMPT, Machine, ROOT, _KERNEL_LINE,  # noqa: E402
                      guest_partition, linux_partition)

ROM = os.path.join(BUILD, "guest", "testguest-rom.bin")
LINUX_DIR = os.path.join(BUILD, "linux")
VMLINUX = os.path.join(LINUX_DIR, "vmlinux")
INITRD = os.path.join(LINUX_DIR, "initrd.cpio.gz")
BARE_QEMU = os.path.join(ROOT, "tests", "guest", "linux", "bare-qemu.sh")

# The configuration; the bare boots use the same command line and
# the same guest memory.
# quiet: a boot log over the serial port costs ~4 port exits a character under
# Bulkhead; pci=noearly: QEMU's CPU model is an AMD family 0xf, for which Linux
# probes 256 PCI buses for an AGP GART, 33k config-port exits. Both sides boot
# with the same line.
LINUX_CMDLINE_EXTRA = "quiet pci=noearly"  # after bare-qemu.sh's defaults (its LINUX_APPEND)
LINUX_CMDLINE = ("console=ttyS0 tsc=reliable no_timer_check nokaslr mitigations=off panic=-1 "
                 + LINUX_CMDLINE_EXTRA)
LINUX_MEM_MIB = 256
LINUX_HOST_MEM = "1G"
LINUX_CONFIG = (f"[partition linux]\nmemory = {LINUX_MEM_MIB}M\nkernel = linux/vmlinux\n"
                f"initrd = linux/initrd.cpio.gz\ncmdline = {LINUX_CMDLINE}\n")
LINUX_TARGET = 1.5

# The VMBus client's run (tests/guest/vmbus_client.c): its stream phase and its baseline.
ECHO_CONFIG = guest_partition("bench", memory="16M").replace("\n\n", "\nvmbus = echo\n\n")
ECHO_STREAM = (r"vmbus: stream packets=(\d+) bytes=(\d+) completions=\d+ signals=(\d+) "
               r"[^\r\n]* ms=(\d+) per_s=(\d+)\r*\n")
ECHO_OK = r"vmbus: echo ok [^\r\n]*\r*\n"
ECHO_BASELINE = r"vmbus: baseline memcpy packets=(\d+) bytes=(\d+) ms=(\d+) per_s=(\d+)(\S*)\r*\n"
ECHO_FAIL = [r"vmbus: FAIL [^\r\n]*\r*\n"]
SPP_TARGET = 0.05

# The exit round trip without the speculation mitigations: the partition key (docs/security.md).
UNMITIGATED_CONFIG = guest_partition("bench", memory="16M").replace(
    "\n\n", "\nmitigations = off\n\n")
MITIGATIONS = r"bulkhead: mitigations ([^\r\n]*?)\r*\n"

# The network figures: two Linux partitions on one switch (tests/system/test_network.py's
# lan), the emulator with LINUX_HOST_MEM; default MACs 00:15:5d:00:PP:00.
NET_GUESTS = {"alpha": "10.0.0.1", "beta": "10.0.0.2"}
NET_CONFIG = "".join(linux_partition(name, "192M", LINUX_CMDLINE).rstrip("\n") + "\nnic = lan\n\n"
                     for name in NET_GUESTS) + "[switch lan]\n"
NET_PINGS = 50
NET_BYTES = 16 << 20
NET_PING = (r"(\d+) packets transmitted, (\d+) packets received[^\n]*\n[\s\S]*?"
            r"round-trip min/avg/max = [\d.]+/([\d.]+)/[\d.]+ ms")
NET_PORT = (r"port id=\d+ partition=(\S+) nic=0 [^\n]*? rx_packets=(\d+) tx_packets=(\d+) "
            r"rx_bytes=(\d+) tx_bytes=(\d+) drops=(\d+)")
NET_COUNTERS = ("rx", "tx", "rx_bytes", "tx_bytes", "drops")
NET_STEPS = itertools.count(1)
# Copies of a frame's bytes in the hypervisor, from the code (docs/netvsp.md, "The data
# path"): vsw_send_from (vswitch.c) has netvsp's fill (netvsp.c tx_read) read the frame from
# the guest's send section or pages into a queue entry of the sender's memory; rx_frame /
# announce (netvsp.c) write it into a receive section of the receiver's buffer. A frame the
# switch drops (the receiver's queue full) was copied once. RNDIS headers are not counted.
NET_COPIES = 2

# Seconds. Measured on the 2-core machine under load: QEMU reaches the
# console in ~4 s, Linux's banner ~8 s later (~4-6 s bare); Bochs ~30 s and
# ~65 s. The budgets are several times that, so only a hang trips them.
TIMEOUTS = {
    "qemu": {"console": 120, "tick": 60, "bench": 120, "linux": 240, "shell": 60,
             "net_boot": 600, "net": 600},
    "bochs": {"console": 400, "tick": 180, "bench": 600, "linux": 900, "shell": 180,
              "net_boot": 3600, "net": 3600},
}

BANNER = r"bulkhead-linux: init ready (\S+?)\r*\n"
RUN_INIT = r"\[\s*(\d+\.\d+)\] Run /init as init process"
KERNEL_CMDLINE = r"\] Command line: ([^\r\n]*)"
# The answer also carries /proc/cmdline: with `quiet` the boot log does not.
SHELL_PROBE = ("echo bench-$((6*7)) \"$(cat /proc/cmdline)\"\r", r"bench-42 ([^\r\n]*)\r*\n")

# Output that ends a run early (whole lines: a pattern may match text that
# has only partly arrived, so a variable part must reach the line's end).
# The hypervisor's own lines start a line; a guest's start with "[NAME] ".
HV_FAIL = [r"(?m)^panic: [^\r\n]*\r*\n", r"(?m)^partition \S+ stopped: [^\r\n]*\r*\n",
           r"(?m)^error: [^\r\n]*\r*\n"]
LINUX_FAIL = [r"Kernel panic[^\r\n]*\r*\n"]
# Kernel messages that do not stop the boot but say something is off: counted
# and the first one shown with the run's figures.
LINUX_COMPLAINTS = r"(?:BUG|Oops|WARNING|unchecked MSR access error)[^\r\n]*"


class BenchError(Exception):
    pass


def note(text):
    print(text, flush=True)


# ---- console with arrival times ----

class Stamps:
    """pexpect's logfile_read: keeps what was read and when each chunk came."""

    def __init__(self, t0, log=None):
        self.t0 = t0
        self.log = log
        self.chunks = []
        self.ends = []   # cumulative length after each chunk
        self.times = []  # time.monotonic() when it was read
        self.length = 0
        self._text = ""

    def write(self, s):
        now = time.monotonic()
        if self.log:
            self.log.write(s)
        if not s:
            return
        self.chunks.append(s)
        self.length += len(s)
        self.ends.append(self.length)
        self.times.append(now)

    def flush(self):
        if self.log:
            self.log.flush()

    def text(self):
        if len(self._text) != self.length:
            self._text = "".join(self.chunks)
        return self._text

    def arrival(self, offset):
        """Seconds from t0 until the character at offset was read."""
        return self.times[bisect.bisect_right(self.ends, offset)] - self.t0

    def tail(self, lines=25):
        text = self.text().replace("\r", "")
        return "\n".join("    " + ln for ln in text.split("\n")[-lines:])


class Console:
    """One emulator's COM1: wait for patterns, know when each one arrived."""

    def __init__(self, label, con, stamps, slow_keys=False, alive=None):
        self.label = label
        self.con = con
        self.stamps = stamps
        self.slow_keys = slow_keys
        # A pty we hold never reports EOF: alive() tells whether the emulator runs.
        self.alive = alive
        self.cursor = 0  # stream offset after the last pattern waited for

    def send(self, text):
        for ch in text:
            self.con.send(ch)
            if self.slow_keys:
                time.sleep(0.01)

    def wait(self, what, pattern, timeout, fail=()):
        """Wait for pattern; returns (seconds since the emulator's start, match).

        A fail pattern, the emulator's exit or the timeout raise BenchError
        with the console's last lines."""
        pats = [pattern] + list(fail)
        deadline = time.monotonic() + timeout
        while True:
            step = max(0.05, min(2.0, deadline - time.monotonic()))
            i = self.con.expect(pats + [pexpect.EOF, pexpect.TIMEOUT], timeout=step)
            if i != len(pats) + 1 or time.monotonic() >= deadline:
                break
            if self.alive and not self.alive():
                i = len(pats)
                break
        if i == len(pats):
            why = "the emulator exited"
        elif i == len(pats) + 1:
            why = f"not seen within {timeout:.0f} s"
        elif i > 0:
            why = f"the console showed {self.con.match.group(0).strip()!r}"
        else:
            why = None
        if why:
            raise BenchError(f"{self.label}: waiting for {what}: {why}; console tail:\n"
                             f"{self.stamps.tail()}")
        m = re.compile(pattern).search(self.stamps.text(), self.cursor)
        if not m:  # cannot happen: pexpect matched the same stream
            raise BenchError(f"{self.label}: {what}: matched but not found in the log")
        self.cursor = m.end()
        return self.stamps.arrival(m.end() - 1), m

    def find(self, pattern):
        """The first match anywhere in what was read so far, or None."""
        return re.compile(pattern).search(self.stamps.text())


class Bare:
    """An emulator without Bulkhead, its COM1 on a pty of ours.

    Either pexpect runs it on the pty (QEMU's -serial stdio, tests/run.sh
    bochs-rom), or, for Bochs with a COM1 device of its own, we hold a pty
    whose slave Bochs opens, as conftest's Machine does. Each runs as a
    session (process group) of its own, which stop() kills."""

    def __init__(self, run, label, backend, cmd, args, env=None, com1_pty=None):
        self.log = open(os.path.join(run.dir, label + ".log"), "w")
        self.master = self.slave = self.proc = self.child = None
        env = env or dict(os.environ)
        alive = None
        if com1_pty:
            self.master, self.slave = com1_pty
            self.out = open(os.path.join(run.dir, label + ".out"), "w")
            self.t0 = time.monotonic()
            self.proc = subprocess.Popen([cmd] + args, cwd=ROOT, env=env,
                                         stdin=subprocess.DEVNULL, stdout=self.out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
            con = pexpect.fdpexpect.fdspawn(self.master, encoding="latin-1",
                                            codec_errors="replace", timeout=30)
            alive = lambda: self.proc.poll() is None  # noqa: E731
        else:
            self.t0 = time.monotonic()
            con = self.child = pexpect.spawn(cmd, args, cwd=ROOT, env=env, encoding="latin-1",
                                             codec_errors="replace", timeout=30)
        self.stamps = Stamps(self.t0, self.log)
        con.logfile_read = self.stamps
        self.console = Console(f"{backend}: {label}", con, self.stamps, backend == "bochs", alive)

    def stop(self):
        pid = self.proc.pid if self.proc else self.child.pid
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            if self.proc:
                self.proc.wait(timeout=10)
                self.out.close()
            else:
                self.child.close(force=True)
        except Exception:
            pass
        for fd in (self.master, self.slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.log.close()


def keep_log(src, dst):
    try:
        shutil.copyfile(src, dst)
    except OSError:
        pass


# ---- Bulkhead machines (tests/system/conftest.py) ----

class BenchMachine(Machine):
    """A Machine whose console records when each chunk arrived."""

    def start(self):
        self.t0 = time.monotonic()
        super().start()
        self.stamps = Stamps(self.t0, self.log)
        self.con.logfile_read = self.stamps


class Run:
    """The logs of one `make bench` and its settings."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bulkhead-bench-")
        self.failed = False

    def machine(self, label, backend, config, host_mem=None):
        """Boot config under Bulkhead; host_mem sets tests/run.sh's MEM."""
        saved = os.environ.get("MEM")
        if host_mem:
            os.environ["MEM"] = host_mem
        try:
            m = BenchMachine(backend, config, workdir=os.path.join(self.dir, label))
        finally:
            if host_mem:
                if saved is None:
                    os.environ.pop("MEM", None)
                else:
                    os.environ["MEM"] = saved
        m.label = label
        alive = (lambda: m.proc.poll() is None) if m.proc else None
        m.console = Console(f"{backend}: {label}", m.con, m.stamps, backend == "bochs", alive)
        return m

    def close(self, m):
        """Stop a Machine, keeping its console log (Machine.close deletes its folder)."""
        m.log.flush()
        keep_log(m.log.name, os.path.join(self.dir, m.label + ".log"))
        keep_log(os.path.join(m.dir, "esp.bochs", "bochs.log"),
                 os.path.join(self.dir, m.label + ".bochs.log"))
        m.close()
        shutil.rmtree(m.dir, ignore_errors=True)  # also under KEEP_TEST_DIRS: 60+ MB each


def boot_to_console(m, t, partition):
    """Boot until the console is ready; the partition must have started.

    Returns the times from the emulator's start to the loader's last line,
    to `partition NAME started` and to `bulkhead: console ready`."""
    c = m.console
    t_loader, _ = c.wait("the loader's 'starting hypervisor'",
                         r"bulkhead: loader: starting hypervisor", t["console"], HV_FAIL[:1])
    t_part, _ = c.wait(f"'partition {partition} started'", rf"partition {partition} started",
                       t["console"], HV_FAIL)
    t_ready, _ = c.wait("'bulkhead: console ready'", r"bulkhead: console ready",
                        t["console"], HV_FAIL)
    return t_loader, t_part, t_ready


# ---- the test guest: exits and compute loop ----

def timed(c, key, start, done, timeout):
    c.send(key)
    t_start, _ = c.wait(f"{start!r}", start, timeout)
    t_done, m = c.wait(f"{done!r}", done, timeout)
    return t_done - t_start, m


def guest_under_bulkhead(run, backend, i):
    t = TIMEOUTS[backend]
    m = run.machine(f"guest-bulkhead-{i}", backend, guest_partition("bench", memory="16M"))
    try:
        c = m.console
        t_loader, _, t_ready = boot_to_console(m, t, "bench")
        c.wait("the guest's 'tick 1'", r"\[bench\] tick 1", t["tick"], HV_FAIL)
        m.send("console bench\r")
        c.wait("'attached to bench'", r"attached to bench", t["tick"], HV_FAIL)
        cpuid, done = timed(c, "b", r"bench cpuid start", r"bench cpuid done n=(\d+)\r*\n",
                            t["bench"])
        exits = int(done.group(1))
        loop, _ = timed(c, "l", r"bench loop start", r"bench loop done", t["bench"])
        m.send(ESCAPE)
        c.wait("'detached from bench'", r"detached from bench", t["tick"])
        line = c.find(MITIGATIONS)
        return {"boot": t_ready, "loader": t_ready - t_loader, "exits_per_s": exits / cpuid,
                "cpuid": cpuid, "exits": exits, "loop": loop,
                "mitigations": line.group(1) if line else "(no mitigations line)"}
    finally:
        run.close(m)


def guest_without_mitigations(run, backend, i):
    """The CPUID run of guest_under_bulkhead in a partition with `mitigations = off`."""
    t = TIMEOUTS[backend]
    m = run.machine(f"guest-unmitigated-{i}", backend, UNMITIGATED_CONFIG)
    try:
        c = m.console
        boot_to_console(m, t, "bench")
        c.wait("the guest's 'tick 1'", r"\[bench\] tick 1", t["tick"], HV_FAIL)
        m.send("console bench\r")
        c.wait("'attached to bench'", r"attached to bench", t["tick"], HV_FAIL)
        cpuid, done = timed(c, "b", r"bench cpuid start", r"bench cpuid done n=(\d+)\r*\n",
                            t["bench"])
        m.send(ESCAPE)
        c.wait("'detached from bench'", r"detached from bench", t["tick"])
        exits = int(done.group(1))
        return {"exits_per_s": exits / cpuid, "cpuid": cpuid, "exits": exits}
    finally:
        run.close(m)


def guest_bare(run, backend, i):
    """The same guest as the emulator's firmware: no hypervisor at all."""
    t = TIMEOUTS[backend]
    label = f"guest-bare-{i}"
    if backend == "qemu":
        cmd, args = "qemu-system-x86_64", [
            "-accel", "tcg", "-machine", "q35", "-cpu", "max", "-m", "64", "-nodefaults",
            "-display", "none", "-serial", "stdio", "-no-reboot", "-bios", ROM]
        env = None
    else:
        cmd, args = os.path.join(ROOT, "tests", "run.sh"), ["bochs-rom", ROM]
        env = dict(os.environ, BOCHS_DIR=os.path.join(run.dir, label + ".bochs"))
    emu = Bare(run, label, backend, cmd, args, env)
    try:
        c = emu.console
        c.wait("the guest's 'tick 1'", r"tick 1", t["tick"])
        loop, _ = timed(c, "l", r"bench loop start", r"bench loop done", t["bench"])
        return {"loop": loop}
    finally:
        emu.stop()


def echo_under_bulkhead(run, backend, i):
    """The VMBus client against the echo VSP, and its in-guest baseline."""
    t = TIMEOUTS[backend]
    m = run.machine(f"echo-bulkhead-{i}", backend, ECHO_CONFIG)
    try:
        c = m.console
        boot_to_console(m, t, "bench")
        c.wait("the guest's 'tick 1'", r"\[bench\] tick 1", t["tick"], HV_FAIL)
        m.send("console bench\r")
        c.wait("'attached to bench'", r"attached to bench", t["tick"], HV_FAIL)
        c.send("v")
        _, stream = c.wait("the client's stream figures", ECHO_STREAM, t["bench"],
                           ECHO_FAIL + HV_FAIL)
        c.wait("'vmbus: echo ok'", ECHO_OK, t["bench"], ECHO_FAIL + HV_FAIL)
        _, base = c.wait("the client's baseline", ECHO_BASELINE, t["bench"], ECHO_FAIL + HV_FAIL)
        m.send(ESCAPE)
        c.wait("'detached from bench'", r"detached from bench", t["tick"])
        packets, nbytes, signals, ms, per_s = (int(x) for x in stream.groups())
        b_packets, b_bytes, b_ms, b_per_s = (int(x) for x in base.groups()[:4])
        if base.group(5) or (b_packets, b_bytes) != (packets, nbytes) or not per_s or not b_per_s:
            raise BenchError(f"{backend}: the baseline is not of the stream's bytes: "
                             f"{stream.group(0).strip()!r} / {base.group(0).strip()!r}")
        return {"rt_per_s": float(per_s), "spp": signals / packets, "stream_ms": float(ms),
                "base_per_s": float(b_per_s), "ratio": b_per_s / per_s, "packets": packets,
                "bytes": nbytes}
    finally:
        run.close(m)


# ---- Linux ----

def linux_facts(c):
    """Kernel clock at 'Run /init', the kernel's command line and its
    complaints, from the log."""
    run_init = c.find(RUN_INIT)
    cmdline = c.find(KERNEL_CMDLINE)
    complaints = re.findall(LINUX_COMPLAINTS, c.stamps.text())
    return (float(run_init.group(1)) if run_init else None,
            cmdline.group(1).strip() if cmdline else None, complaints)


def linux_under_bulkhead(run, backend, i):
    t = TIMEOUTS[backend]
    m = run.machine(f"linux-bulkhead-{i}", backend, LINUX_CONFIG, host_mem=LINUX_HOST_MEM)
    try:
        c = m.console
        t_loader, t_started, t_ready = boot_to_console(m, t, "linux")
        t_banner, banner = c.wait("Linux's 'bulkhead-linux: init ready'", BANNER, t["linux"],
                                  HV_FAIL + LINUX_FAIL)
        # "Boot to shell": the shell must answer too. The hypervisor shows a
        # partition's output line by line, so the prompt itself never shows.
        m.send("console linux\r")
        c.wait("'attached to linux'", r"attached to linux", t["shell"], HV_FAIL)
        m.send(SHELL_PROBE[0])
        _, answer = c.wait("the shell's answer", SHELL_PROBE[1], t["shell"],
                           HV_FAIL + LINUX_FAIL)
        run_init, cmdline, complaints = linux_facts(c)
        cmdline = cmdline or answer.group(1).strip()
        return {"from_start": t_banner, "from_kernel": t_banner - t_started,
                "boot": t_ready, "loader": t_ready - t_loader, "run_init": run_init,
                "cmdline": cmdline, "release": banner.group(1), "complaints": complaints}
    finally:
        run.close(m)


def linux_bare(run, backend, i):
    t = TIMEOUTS[backend]
    label = f"linux-bare-{i}"
    if backend == "qemu":
        env = dict(os.environ, QEMU_MEM=str(LINUX_MEM_MIB), QEMU_CTRL_C="guest",
                   LINUX_APPEND=LINUX_CMDLINE_EXTRA)
        emu = Bare(run, label, backend, BARE_QEMU, [], env)
    else:
        emu = bochs_pvh_spawn(run, label)
    try:
        c = emu.console
        t_kernel = 0.0  # QEMU loads the kernel from fw_cfg at once
        if backend == "bochs":
            t_kernel, _ = c.wait("the option ROM's 'pvhrom: entering Linux'",
                                 r"pvhrom: entering Linux", t["console"],
                                 [r"pvhrom: error[^\r\n]*\r*\n"])
        t_banner, banner = c.wait("Linux's 'bulkhead-linux: init ready'", BANNER, t["linux"],
                                  LINUX_FAIL)
        c.send(SHELL_PROBE[0])
        _, answer = c.wait("the shell's answer", SHELL_PROBE[1], t["shell"], LINUX_FAIL)
        run_init, cmdline, complaints = linux_facts(c)
        cmdline = cmdline or answer.group(1).strip()
        return {"from_start": t_banner, "from_kernel": t_banner - t_kernel, "run_init": run_init,
                "cmdline": cmdline, "release": banner.group(1), "complaints": complaints}
    finally:
        emu.stop()


# ---- network: two Linux partitions on one switch ----

def net_error(m, what):
    return BenchError(f"{m.console.label}: {what}; console tail:\n{m.stamps.tail()}")


def net_shell(m, command, timeout):
    """conftest's linux_shell on the bench's Console (a failure is a BenchError): what
    command printed, between two tokens of this step alone. The console's log level stays
    at 1 (emergencies) from the first step on: a typed character costs ~30 ms here."""
    n = next(NET_STEPS)
    m.send(f"echo __start{n}_$((6*7))_; {command}; echo __done{n}_$((6*7))_\r")
    done = _KERNEL_LINE.join(re.escape(ch) for ch in f"__done{n}_42_")
    _, found = m.console.wait(f"the shell's answer to {command!r}",
                              rf"__start{n}_42_([\s\S]*?){done}", timeout, HV_FAIL + LINUX_FAIL)
    return found.group(1)


def net_sh(m, name, command, t):
    """command in partition name's shell, attaching the console to it first."""
    if m.attached != name:
        net_detach(m, t)
        m.send(f"console {name}\r")
        m.console.wait(f"'attached to {name}'", rf"attached to {name}", t["shell"], HV_FAIL)
        m.attached = name
    return net_shell(m, command, t["net"])


def net_detach(m, t):
    if m.attached:
        m.send(ESCAPE)
        m.console.wait(f"'detached from {m.attached}'", rf"detached from {m.attached}",
                       t["shell"], HV_FAIL)
        m.attached = None


def net_ports(m, t):
    """`switch lan`: {partition: {counter: value}} of its ports (NET_COUNTERS)."""
    net_detach(m, t)
    m.send("switch lan\r")
    _, found = m.console.wait("the output of 'switch lan'",
                              rf"(switch name=lan[\s\S]*?){re.escape(PROMPT)}", t["shell"],
                              HV_FAIL)
    return {p[0]: dict(zip(NET_COUNTERS, map(int, p[1:])))
            for p in re.findall(NET_PORT, found.group(1))}


def net_ping(m, name, address, t):
    """busybox ping's average round trip in ms, as the guest reports it; every ping answered."""
    out = net_sh(m, name, f"ping -c {NET_PINGS} -i 0.2 {address}", t)
    found = re.search(NET_PING, out)
    if not found or found.group(1) != found.group(2):
        raise net_error(m, f"{name}: ping {address}: not every ping answered")
    return float(found.group(3))


def net_transfer(m, server, client, address, port, t, md5):
    """NET_BYTES from server's /tmp/f to client's /tmp/r with busybox nc; seconds, timed by
    the client's busybox time. The size and the md5 must be the file's."""
    out = net_sh(m, server, f"(nc -l -p {port} -e /tmp/serve &) && sleep 1 && echo serving", t)
    if "serving" not in out:
        raise net_error(m, f"{server}: nc -l did not start")
    out = net_sh(m, client, f"rm -f /tmp/r; time -f 'nettime %e' nc {address} {port} >/tmp/r; "
                 "wc -c </tmp/r; md5sum /tmp/r", t)
    took = re.search(r"nettime (\d+\.\d+)", out)
    size = re.search(r"^\s*(\d+)\s*$", out, re.M)
    got = re.search(r"([0-9a-f]{32})  /tmp/r", out)
    if not (took and size and got) or int(size.group(1)) != NET_BYTES or got.group(1) != md5:
        raise net_error(m, f"{client}: nc {address} {port}: not {NET_BYTES} bytes with md5 {md5}")
    return float(took.group(1))


def network_under_bulkhead(run, backend, repeat):
    """One machine, two Linux partitions on [switch lan]; every run's figures in that boot."""
    t = TIMEOUTS[backend]
    m = run.machine("network-bulkhead", backend, NET_CONFIG, host_mem=LINUX_HOST_MEM)
    m.attached = None
    try:
        c = m.console
        boot_to_console(m, t, "alpha")
        up = set()
        while up != set(NET_GUESTS):
            t_up, found = c.wait("both Linux guests' 'bulkhead-linux: init ready'",
                                 r"\[(alpha|beta)\] bulkhead-linux: init ready", t["net_boot"],
                                 HV_FAIL + LINUX_FAIL)
            up.add(found.group(1))
        for name, address in NET_GUESTS.items():
            out = net_sh(m, name, "dmesg -n 1; ip link set lo up && modprobe hv_vmbus && "
                         "modprobe hv_netvsc && until [ -e /sys/class/net/eth0 ]; do sleep 1; "
                         f"done && ip addr add {address}/24 dev eth0 && ip link set eth0 up && "
                         "until [ \"$(cat /sys/class/net/eth0/operstate)\" = up ]; do sleep 1; "
                         "done && echo eth0-up", t)
            if "eth0-up" not in out:
                raise net_error(m, f"{name}: eth0 did not come up")
        out = net_sh(m, "beta", f"dd if=/dev/urandom of=/tmp/f bs=1M count={NET_BYTES >> 20} "
                     "2>/dev/null && md5sum /tmp/f && printf '#!/bin/sh\\ncat /tmp/f\\n' "
                     ">/tmp/serve && chmod +x /tmp/serve", t)
        md5 = re.search(r"([0-9a-f]{32})  /tmp/f", out)
        if not md5:
            raise net_error(m, "beta: no md5 of /tmp/f")
        md5 = md5.group(1)
        # Both neighbours learnt (ARP, the switch's table) before anything is timed.
        net_sh(m, "alpha", "ping -c 3 -i 0.2 -W 5 10.0.0.2 >/dev/null; true", t)
        runs_ = []
        for i in range(1, repeat + 1):
            r = {"ping_sw": net_ping(m, "alpha", "10.0.0.2", t),
                 "ping_lo": net_ping(m, "alpha", "127.0.0.1", t)}
            before = net_ports(m, t)
            r["tcp_sw"] = net_transfer(m, "beta", "alpha", "10.0.0.2", 5000 + 2 * i, t, md5)
            after = net_ports(m, t)
            r["tcp_lo"] = net_transfer(m, "beta", "beta", "127.0.0.1", 5001 + 2 * i, t, md5)
            if set(before) != set(NET_GUESTS) or set(after) != set(NET_GUESTS):
                raise net_error(m, f"'switch lan' lists ports {sorted(after)}")
            for name in NET_GUESTS:
                for k in NET_COUNTERS:
                    r[f"{name}_{k}"] = after[name][k] - before[name][k]
            runs_.append(r)
            note(f"bench[{backend}]:   run {i}: network: ping switch {r['ping_sw']:.3f} ms, "
                 f"loopback {r['ping_lo']:.3f} ms; {NET_BYTES >> 20} MiB switch "
                 f"{r['tcp_sw']:.2f} s, loopback {r['tcp_lo']:.2f} s; ports in the switch "
                 "transfer: " + "; ".join(f"{name} " + " ".join(
                     f"{k}={r[f'{name}_{k}']}" for k in NET_COUNTERS) for name in NET_GUESTS))
        return {"boot": t_up, "runs": runs_}
    finally:
        run.close(m)


# ---- Bochs: a bare PVH boot (the BIOS, our option ROM, preloaded images) ----

PVH_ROM_SRC = os.path.join(HERE, "pvhrom.S")
PVH_ROM_BASE = 0xD0000  # option ROM scan area of the Bochs BIOS, after the VGA BIOS
PVH_INITRD_TOP = (LINUX_MEM_MIB - 16) << 20  # clear of the BIOS's tables at the top of RAM
DISK_CYLINDER = 16 * 63 * 512  # Bochs's flat disks: a whole number of cylinders
XEN_ELFNOTE_PHYS32_ENTRY = 18


def elf_flat_image(path):
    """vmlinux as one flat image from its lowest physical load address, and its
    PVH entry (ELF note 'Xen' type 18)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise BenchError(f"{path}: not a 64-bit ELF file")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads, entry = [], None
    for n in range(phnum):
        p_type, _, off, _, paddr, filesz, memsz, _ = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + n * phentsize)
        if p_type == 1:
            loads.append((paddr, off, filesz, memsz))
        elif p_type == 4:
            pos, end = off, off + filesz
            while pos + 12 <= end:
                namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
                name = data[pos + 12:pos + 12 + namesz].rstrip(b"\0")
                desc = pos + 12 + (namesz + 3) // 4 * 4
                if name == b"Xen" and ntype == XEN_ELFNOTE_PHYS32_ENTRY:
                    entry, = struct.unpack_from("<I", data, desc)
                pos = desc + (descsz + 3) // 4 * 4
    if not loads or entry is None:
        raise BenchError(f"{path}: no PT_LOAD segments or no PVH entry note")
    base = min(p[0] for p in loads)
    end = max(p[0] + p[3] for p in loads)
    image = bytearray(end - base)
    for paddr, off, filesz, _ in loads:
        image[paddr - base:paddr - base + filesz] = data[off:off + filesz]
    return base, bytes(image), entry


def build_pvh_rom(workdir, defines):
    """Assemble pvhrom.S into a checksummed option ROM image."""
    obj = os.path.join(workdir, "pvhrom.o")
    elf = os.path.join(workdir, "pvhrom.elf")
    rom = os.path.join(workdir, "pvhrom.bin")
    cmdline = os.path.join(workdir, "cmdline.bin")
    with open(cmdline, "wb") as f:
        f.write(LINUX_CMDLINE.encode() + b"\0")
    defs = [f"-D{k}={v:#x}" for k, v in defines.items()]
    defs += [f"-DROM_BASE={PVH_ROM_BASE:#x}", f'-DCMDLINE_FILE="{cmdline}"']
    steps = [["gcc", "-c", "-nostdlib", "-ffreestanding", *defs, "-o", obj, PVH_ROM_SRC],
             ["ld", "-m", "elf_x86_64", "-nostdlib", "-N", "-e", "0", "-Ttext", "0",
              "-o", elf, obj],
             ["objcopy", "-O", "binary", "-j", ".text", elf, rom]]
    for cmd in steps:
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            raise BenchError(f"building the Bochs PVH option ROM: {' '.join(cmd)}:\n"
                             f"{r.stderr.strip()}")
    with open(rom, "rb") as f:
        image = bytearray(f.read())
    size = (len(image) + 1 + 511) // 512 * 512  # a spare last byte for the checksum
    image += b"\0" * (size - len(image))
    image[2] = size // 512
    image[-1] = (-sum(image[:-1])) & 0xFF
    with open(rom, "wb") as f:
        f.write(image)
    return rom


def bochs_pvh_prepare(run):
    """Images for the bare Bochs boot, made once per run."""
    if getattr(run, "pvh", None):
        return run.pvh
    work = os.path.join(run.dir, "bochs-pvh")
    os.makedirs(work, exist_ok=True)
    base, image, entry = elf_flat_image(VMLINUX)
    with open(INITRD, "rb") as f:
        initrd = f.read()
    initrd_addr = (PVH_INITRD_TOP - len(initrd)) & ~0xFFF
    if initrd_addr < base + len(image):
        raise BenchError("the initramfs does not fit above the kernel")
    kernel_sectors = (len(image) + 511) // 512
    disk = os.path.join(work, "disk.img")
    with open(disk, "wb") as f:
        f.write(image + b"\0" * (kernel_sectors * 512 - len(image)))
        f.write(initrd)
        size = kernel_sectors * 512 + len(initrd)
        cylinders = (size + DISK_CYLINDER - 1) // DISK_CYLINDER
        f.write(b"\0" * (cylinders * DISK_CYLINDER - size))
    rom = build_pvh_rom(work, {"PVH_ENTRY": entry, "KERNEL_ADDR": base,
                               "KERNEL_SECTORS": kernel_sectors, "INITRD_ADDR": initrd_addr,
                               "INITRD_SIZE": len(initrd), "INITRD_LBA": kernel_sectors})
    run.pvh = {"disk": disk, "cylinders": cylinders, "rom": rom}
    return run.pvh


# tests/run.sh's IA32_PLATFORM_ID (OVMF reads it; the BIOS path does not, but
# it keeps the CPU the same), and MSRs that Bochs's corei7_skylake_x lacks
# although Linux reads them without a fault handler on this CPU: a #GP there
# is a panic or a warning with a stack dump, not a different boot path.
# IA32_MISC_ENABLE (verify_cpu, before any IDT) reads "fast strings" as
# Bulkhead's does (kernel/msr.c); IA32_BIOS_SIGN_ID (early_init_intel);
# IA32_MCG_CAP/STATUS (the CPUID model has MCA: 0 banks, nothing pending).
# Writes to them are ignored.
BOCHS_MSRS = "".join(f"{line}\n" for line in [
    "# ADDRESS TYPE RESET_HI RESET_LO RSRVD_HI RSRVD_LO IGNRD_HI IGNRD_LO",
    "0x017 0 00000000 00000000 ffffffff ffffffff 00000000 00000000 # IA32_PLATFORM_ID",
    "0x08b 0 00000000 00000000 00000000 00000000 ffffffff ffffffff # IA32_BIOS_SIGN_ID",
    "0x179 0 00000000 00000000 ffffffff ffffffff 00000000 00000000 # IA32_MCG_CAP",
    "0x17a 0 00000000 00000000 00000000 00000000 ffffffff ffffffff # IA32_MCG_STATUS",
    "0x1a0 0 00000000 00000001 00000000 00000000 ffffffff ffffffff # IA32_MISC_ENABLE",
])


def bochs_pvh_spawn(run, label):
    """Bochs as tests/run.sh sets it up (same CPU, ips, chipset), with the
    Bochs BIOS instead of OVMF, and COM1 on our pty."""
    pvh = bochs_pvh_prepare(run)
    # Bochs locks a disk image with IMAGE.lock; a Bochs we killed left it.
    try:
        os.unlink(pvh["disk"] + ".lock")
    except FileNotFoundError:
        pass
    work = os.path.join(run.dir, label + ".bochs")
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, "msrs.def"), "w") as f:
        f.write(BOCHS_MSRS)
    with open(os.path.join(work, "debugger.rc"), "w") as f:
        f.write("c\nquit\n")
    ips = os.environ.get("BOCHS_IPS", "50000000")
    master, slave = pty.openpty()
    tty.setraw(slave)
    with open(os.path.join(work, "bochsrc"), "w") as f:
        f.write(f"""# Generated by tests/bench/bench.py: bare Linux through PVH
megs: {LINUX_MEM_MIB}
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
optromimage1: file={pvh['rom']}, address={PVH_ROM_BASE:#x}
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata0-master: type=disk, path="{pvh['disk']}", mode=flat, cylinders={pvh['cylinders']}, heads=16, spt=63
cpu: model=corei7_skylake_x, count=1, ips={ips}, reset_on_triple_fault=0, ignore_bad_msrs=0, msrs="{work}/msrs.def"
pci: enabled=1, chipset=i440fx
com1: enabled=1, mode=term, dev={os.ttyname(slave)}
display_library: rfb, options="timeout=0"
log: {work}/bochs.log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
""")
    netns = []
    if subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0:
        netns = ["unshare", "--net"]
    elif subprocess.run(["unshare", "--net", "--map-root-user", "true"],
                        capture_output=True).returncode == 0:
        netns = ["unshare", "--net", "--map-root-user"]
    # stdin is /dev/null, or Bochs's debugger would prompt (the rc file runs
    # the machine and quits).
    return Bare(run, label, "bochs", netns[0] if netns else "bochs",
                netns[1:] + (["bochs"] if netns else []) +
                ["-q", "-f", f"{work}/bochsrc", "-rc", f"{work}/debugger.rc"],
                com1_pty=(master, slave))


# ---- figures ----

def median(xs):
    return statistics.median(xs)


def fmt_s(x):
    return f"{x:.2f} s" if x < 10 else f"{x:.1f} s"


def runs(hv, bare):
    """How many runs a median is of."""
    return f"median of {len(hv)}" if len(hv) == len(bare) else \
        f"medians of {len(hv)} and {len(bare)} runs"


def report_guest(backend, hv, bare):
    n = len(hv)
    exits = median([r["exits_per_s"] for r in hv])
    cpuid = median([r["cpuid"] for r in hv])
    loop_hv = median([r["loop"] for r in hv])
    loop_bare = median([r["loop"] for r in bare])
    boot = median([r["boot"] for r in hv])
    loader = median([r["loader"] for r in hv])
    note(f"bench[{backend}]: boot to console: {fmt_s(boot)} from emulator start, "
         f"{fmt_s(loader)} from the loader's 'starting hypervisor' (median of {n})")
    note(f"bench[{backend}]: cpuid exits/s: {exits:.0f} ({hv[0]['exits']} CPUID exits in "
         f"{cpuid:.2f} s, median of {n})")
    note(f"bench[{backend}]: compute loop: bulkhead {fmt_s(loop_hv)}, bare {fmt_s(loop_bare)}, "
         f"ratio {loop_hv / loop_bare:.3f} ({runs(hv, bare)})")


def report_mitigations(backend, hv, unmitigated):
    with_ = median([r["exits_per_s"] for r in hv])
    without = median([r["exits_per_s"] for r in unmitigated])
    note(f"bench[{backend}]: exit round trip: {with_:.0f} cpuid exits/s with the mitigations "
         f"({hv[0]['mitigations']}), {without:.0f} without (mitigations = off), "
         f"{runs(hv, unmitigated)}; time per exit with / without: ratio {without / with_:.3f}")


def report_echo(backend, hv):
    n = len(hv)
    rt = median([r["rt_per_s"] for r in hv])
    spp = median([r["spp"] for r in hv])
    base = median([r["base_per_s"] for r in hv])
    ratio = median([r["ratio"] for r in hv])
    verdict = "met" if spp <= SPP_TARGET else "missed"
    note(f"bench[{backend}]: vmbus echo: {rt:.0f} round trips/s ({hv[0]['packets']} in-band "
         f"packets of 8..2000 bytes, {hv[0]['bytes']} bytes, a third with completions, every "
         f"one checked; guest TSC time; median of {n})")
    note(f"bench[{backend}]: vmbus echo: {spp:.3f} signals per packet (target <= "
         f"{SPP_TARGET}: {verdict}; HvSignalEvent calls / packets sent, streaming with the "
         f"receive ring's interrupt masked; median of {n})")
    note(f"bench[{backend}]: vmbus echo vs memcpy: baseline {base:.0f} packets/s (the same "
         f"bytes generated, copied out and back and checked in the guest), ratio {ratio:.2f} "
         f"(bulkhead's time / the baseline's; median of {n})")


def report_linux(backend, hv, bare):
    n = runs(hv, bare)
    k_hv, k_bare = median([r["from_kernel"] for r in hv]), median([r["from_kernel"] for r in bare])
    s_hv, s_bare = median([r["from_start"] for r in hv]), median([r["from_start"] for r in bare])
    ratio = k_hv / k_bare
    whole = s_hv / s_bare
    # The verdict goes by the Linux boot itself: partition start to shell against the
    # emulator's own direct boot. The whole-boot ratio adds OVMF's fixed ~3 s (and the
    # loader) on Bulkhead's side only, against no firmware at all on the bare side, so it
    # swings with the machine's load (1.46 loaded, 2.43 idle, same build): printed too.
    verdict = "met" if ratio <= LINUX_TARGET else "missed"
    bare_from = "emulator start" if backend == "qemu" else "the option ROM's jump"
    note(f"bench[{backend}]: linux boot to shell: bulkhead {fmt_s(k_hv)}, bare {fmt_s(k_bare)}, "
         f"ratio {ratio:.2f} (target <= {LINUX_TARGET}: {verdict}; from 'partition linux "
         f"started' resp. {bare_from} to the shell's banner; {n})")
    note(f"bench[{backend}]: linux boot to shell, whole machine: bulkhead {fmt_s(s_hv)}, "
         f"bare {fmt_s(s_bare)}, ratio {whole:.2f} (from emulator start on both sides: OVMF, "
         f"the loader and the hypervisor's boot count on Bulkhead's side only; {n})")
    i_hv = [r["run_init"] for r in hv if r["run_init"] is not None]
    i_bare = [r["run_init"] for r in bare if r["run_init"] is not None]
    if i_hv and i_bare:
        # Under Bochs a bare kernel takes the TSC's rate from CPUID (3.5 GHz
        # on corei7_skylake_x) while Bochs's TSC counts at about its ips;
        # under Bulkhead the guest's clock is the reference TSC page, scaled
        # with the rate Bulkhead measured against the PIT: not the same clock.
        caveat = ("cross-check: the kernel's own timestamp" if backend == "qemu" else
                  "not comparable on Bochs: bare, the kernel's TSC rate comes from CPUID")
        note(f"bench[{backend}]: linux kernel clock at 'Run /init': bulkhead "
             f"{median(i_hv):.2f} s, bare {median(i_bare):.2f} s, ratio "
             f"{median(i_hv) / median(i_bare):.2f} ({caveat}; {n})")
    else:
        note(f"bench[{backend}]: linux kernel clock at 'Run /init': not in the log")


def report_network(backend, runs_, echo):
    n = f"median of {len(runs_)} run{'s' if len(runs_) > 1 else ''} in one boot"
    med = {k: median([r[k] for r in runs_]) for k in runs_[0]}
    mib = NET_BYTES >> 20
    note(f"bench[{backend}]: network ping: switch alpha -> beta {med['ping_sw']:.3f} ms, "
         f"loopback in alpha {med['ping_lo']:.3f} ms (avg rtt of busybox ping -c {NET_PINGS} "
         f"-i 0.2 as the guest reports it; {n}); switch / loopback: ratio "
         f"{med['ping_sw'] / med['ping_lo']:.2f}")
    if echo:
        # The baseline for the ping: one VMBus round trip through the echo VSP,
        # measured by the test guest earlier in this run (its round trips per second).
        echo_ms = 1000.0 / median([r["rt_per_s"] for r in echo])
        note(f"bench[{backend}]: network ping vs vmbus echo: switch ping {med['ping_sw']:.3f} "
             f"ms (two VMBus hops and the switch each way, and Linux's stack), echo VSP "
             f"{echo_ms:.3f} ms a round trip (1 / its rate streaming the test guest's "
             f"packets of 8..2000 bytes, pipelined; median of {len(echo)}); ping / echo: "
             f"ratio {med['ping_sw'] / echo_ms:.2f}")
    note(f"bench[{backend}]: network tcp: {mib} MiB beta -> alpha over the switch in "
         f"{med['tcp_sw']:.2f} s ({mib / med['tcp_sw']:.2f} MiB/s), over loopback in beta in "
         f"{med['tcp_lo']:.2f} s ({mib / med['tcp_lo']:.2f} MiB/s) (busybox nc, md5 checked, "
         f"timed by the client's busybox time; {n}); loopback throughput / switch throughput "
         f"(switch time / loopback time): ratio {med['tcp_sw'] / med['tcp_lo']:.2f}")
    per_frame = med["beta_tx_bytes"] / max(med["beta_tx"], 1)
    acks = med["alpha_tx_bytes"] / max(med["alpha_tx"], 1)
    # Read out of the sender (all it sent), into the switch and into the receiver (what the
    # switch queued: rx_bytes counts a frame as it is queued for the port).
    copied = median([sum(r[f"{name}_tx_bytes"] + (NET_COPIES - 1) * r[f"{name}_rx_bytes"]
                         for name in NET_GUESTS) for r in runs_])
    note(f"bench[{backend}]: network copies: {NET_COPIES} copies of each frame in the "
         f"hypervisor (guest send section or pages -> the switch's queue "
         f"memory -> the receiver's receive section; 1 of a frame the switch drops); in the "
         f"switch transfer, by 'switch lan': beta's port sent {med['beta_tx']:.0f} frames of "
         f"{per_frame:.0f} bytes on average ({NET_COPIES} x {per_frame:.0f} = "
         f"{NET_COPIES * per_frame:.0f} bytes copied per frame), alpha's {med['alpha_tx']:.0f} "
         f"of {acks:.0f} (its ACKs); the switch's drops on alpha's port "
         f"{med['alpha_drops']:.0f}, on beta's {med['beta_drops']:.0f}; {n}; bytes copied / "
         f"payload bytes delivered: ratio {copied / NET_BYTES:.2f}")


def check_same_kernel(backend, hv, bare):
    """The ratio means something only if both sides booted the same way."""
    lines = {r["cmdline"] for r in hv + bare}
    releases = {r["release"] for r in hv + bare}
    if len(lines) != 1 or None in lines or len(releases) != 1:
        raise BenchError(f"the boots differ: kernel command lines {sorted(map(str, lines))}, "
                         f"releases {sorted(releases)}")


# ---- main ----

def env_list(name, default, allowed, what="back end"):
    items = [x.strip() for x in os.environ.get(name, default).split(",") if x.strip()]
    bad = [x for x in items if x not in allowed]
    if bad:
        print(f"bench: error: {name}: unknown {what} {', '.join(bad)} "
              f"(want {' or '.join(allowed)})", file=sys.stderr)
        sys.exit(2)
    return items


def check_files(paths):
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        print("bench: error: missing " + ", ".join(os.path.relpath(p, ROOT) for p in missing)
              + " (run make first)", file=sys.stderr)
        sys.exit(2)


def measure(run, backend, what, fn, i, results):
    """Run one measurement; on failure say so and remember it."""
    t0 = time.monotonic()
    try:
        r = fn(run, backend, i)
    except BenchError as e:
        note(f"bench[{backend}]: error: {e}")
        run.failed = True
        return False
    except (OSError, subprocess.SubprocessError, pexpect.ExceptionPexpect) as e:
        note(f"bench[{backend}]: error: {what}, run {i}: {type(e).__name__}: {e}")
        run.failed = True
        return False
    results.append(r)
    shown = ", ".join(f"{k} {v:.0f}" if v >= 1000 else f"{k} {v:.2f}"
                      for k, v in r.items() if isinstance(v, float))
    note(f"bench[{backend}]:   run {i}: {what}: {shown} ({time.monotonic() - t0:.0f} s)")
    if r.get("complaints"):
        note(f"bench[{backend}]:   run {i}: {what}: the kernel complained {len(r['complaints'])} "
             f"times, first: {r['complaints'][0].strip()!r}")
    return True


def main():
    started = time.monotonic()
    kinds = ("qemu", "bochs")
    backends = env_list("BACKENDS", "qemu,bochs", kinds)
    linux = env_list("BENCH_LINUX_BACKENDS", "qemu", kinds)
    parts = ("guest", "echo", "linux", "network")
    only = env_list("BENCH_ONLY", ",".join(parts), parts, "measurement")
    try:
        repeat = int(os.environ.get("BENCH_REPEAT", "2"))
        assert repeat >= 1
    except (ValueError, AssertionError):
        print(f"bench: error: BENCH_REPEAT={os.environ['BENCH_REPEAT']}: want a number >= 1",
              file=sys.stderr)
        sys.exit(2)
    linux = [b for b in linux if b in backends]
    need = [os.path.join(BUILD, "BOOTX64.EFI"), os.path.join(BUILD, "bulkhead.elf"), ROM,
            os.path.join(BUILD, "guest", "testguest.bin")]
    if linux and ("linux" in only or "network" in only):
        need += [VMLINUX, INITRD, BARE_QEMU]
    check_files(need)

    rounds = {p: range(1, repeat + 1) if p in only else range(0) for p in parts}
    run = Run()
    note(f"bench: back ends {','.join(backends)}; Linux on {','.join(linux) or 'none'}; "
         f"measurements {','.join(only)}; {repeat} runs each, figures are medians; "
         f"logs in {run.dir}")
    for backend in backends:
        hv, bare, unmitigated = [], [], []
        for i in rounds["guest"]:
            measure(run, backend, "test guest under bulkhead", guest_under_bulkhead, i, hv)
            measure(run, backend, "test guest bare", guest_bare, i, bare)
            measure(run, backend, "test guest without mitigations", guest_without_mitigations, i,
                    unmitigated)
        if hv and bare:
            report_guest(backend, hv, bare)
        if hv and unmitigated:
            report_mitigations(backend, hv, unmitigated)
        echo = []
        for i in rounds["echo"]:
            measure(run, backend, "vmbus echo under bulkhead", echo_under_bulkhead, i, echo)
        if echo:
            report_echo(backend, echo)
        if backend not in linux:
            continue
        hv, bare = [], []
        for i in rounds["linux"]:
            measure(run, backend, "linux under bulkhead", linux_under_bulkhead, i, hv)
            measure(run, backend, "linux bare", linux_bare, i, bare)
        if hv and bare:
            try:
                check_same_kernel(backend, hv, bare)
                report_linux(backend, hv, bare)
            except BenchError as e:
                note(f"bench[{backend}]: error: {e}")
                run.failed = True
        net = []
        if "network" in only:
            measure(run, backend, "network under bulkhead, one boot for all runs",
                    lambda r, b, _: network_under_bulkhead(r, b, repeat), 1, net)
        if net:
            report_network(backend, net[0]["runs"], echo)
    elapsed = time.monotonic() - started
    if run.failed:
        note(f"bench: FAILED (see above); logs kept in {run.dir}; {elapsed:.0f} s")
        return 1
    if os.environ.get("BENCH_KEEP"):
        note(f"bench: done in {elapsed:.0f} s; logs kept in {run.dir}")
    else:
        shutil.rmtree(run.dir, ignore_errors=True)
        note(f"bench: done in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
