"""Boot Bulkhead in an emulator and talk to its serial console like a user.

A Machine is one emulator run: QEMU + OVMF (AMD-V, TCG) or Bochs + OVMF
(VT-x with EPT). The console is COM1; tests send commands and expect lines.
"""
import itertools
import os
import pty
import re
import shutil
import subprocess
import tempfile
import time

import pexpect
import pexpect.fdpexpect
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
PROMPT = "bulkhead> "
ESCAPE = "\x1d"  # Ctrl-] leaves `console P`

# Boot budgets in seconds (OVMF alone takes ~3 s in QEMU, ~15 s in Bochs). Every timeout
# here is a bound on a failure, not a guess at the machine's speed: CI machines are shared.
BOOT_TIMEOUT = {"qemu": 180, "bochs": 600}
# Waiting for a few guest ticks (~0.5 s each under QEMU, ~1.1 s under Bochs when idle).
TICK_TIMEOUT = {"qemu": 180, "bochs": 900}


def backends():
    wanted = os.environ.get("BACKENDS", "qemu,bochs")
    return [b for b in wanted.split(",") if b]


class Machine:
    def __init__(self, backend, config_text, extra_files=None, workdir=None, mem=None):
        self.backend = backend
        self.mem = mem  # emulator RAM, e.g. "1G" (tests/run.sh's MEM); None: its default
        self.dir = workdir or tempfile.mkdtemp(prefix="bulkhead-test-")
        cfg_dir = os.path.join(self.dir, "cfg")
        os.makedirs(cfg_dir, exist_ok=True)
        self.cfg = os.path.join(cfg_dir, "bulkhead.cfg")
        with open(self.cfg, "w") as f:
            f.write(config_text)
        for name, data in (extra_files or {}).items():
            with open(os.path.join(cfg_dir, name), "wb") as f:
                f.write(data)
        self.esp = os.path.join(self.dir, "esp")
        subprocess.run([os.path.join(ROOT, "tests", "mkesp.sh"), self.esp, self.cfg],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        self.log = open(os.path.join(self.dir, "console.log"), "w")
        self.master = None
        self.proc = None
        self.start()

    def start(self):
        run = os.path.join(ROOT, "tests", "run.sh")
        env = dict(os.environ)
        if self.mem:
            env["MEM"] = self.mem
        if self.backend == "qemu":
            self.con = pexpect.spawn(run, ["qemu", self.esp], cwd=ROOT, encoding="latin-1",
                                     timeout=30, codec_errors="replace", env=env)
            self.con.logfile_read = self.log
            return
        # Bochs: COM1 is a pty we hold; Bochs itself talks to a log file.
        self.master, slave = pty.openpty()
        slave_name = os.ttyname(slave)
        import tty
        tty.setraw(slave)
        env["BOCHS_COM1"] = slave_name
        self.emu_log = open(os.path.join(self.dir, "bochs.out"), "w")
        self.proc = subprocess.Popen([run, "bochs", self.esp], cwd=ROOT, env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.emu_log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self._slave = slave
        self.con = pexpect.fdpexpect.fdspawn(self.master, encoding="latin-1", timeout=30,
                                             codec_errors="replace")
        self.con.logfile_read = self.log

    # ---- talking to the console ----
    def expect(self, pattern, timeout=60):
        try:
            self.con.expect(pattern, timeout=timeout)
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            tail = self.tail()
            raise AssertionError(f"did not see {pattern!r} within {timeout}s; console tail:\n{tail}") from e
        return self.con.match

    def expect_all(self, patterns, timeout=60):
        """Wait until every pattern has been seen, in any order (partitions race)."""
        pending = list(patterns)
        deadline = time.time() + timeout
        while pending:
            i = self.con.expect(pending + [pexpect.TIMEOUT, pexpect.EOF],
                                timeout=max(0.1, deadline - time.time()))
            if i >= len(pending):
                raise AssertionError(f"did not see {pending!r} within {timeout}s; "
                                     f"console tail:\n{self.tail()}")
            pending.pop(i)

    def boot(self):
        self.expect("console ready", timeout=BOOT_TIMEOUT[self.backend])

    def send(self, text):
        for ch in text:
            self.con.send(ch)
            if self.backend == "bochs":
                time.sleep(0.01)

    def command(self, line, expect=None, timeout=60):
        self.send(line + "\r")
        if expect:
            return self.expect(expect, timeout=timeout)
        return None

    def read_until(self, done, what, timeout):
        """Console output from here on until done(text) holds. The text starts with what
        pexpect read but no expect consumed yet (read_nonblocking alone would skip it), and
        all of it counts as consumed afterwards."""
        text = self.con.buffer
        self.con.buffer = ""
        deadline = time.time() + timeout
        while not done(text):
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"did not see {what} within {timeout}s; "
                                     f"console tail:\n{self.tail()}")
            try:
                text += self.con.read_nonblocking(65536, timeout=min(left, 1.0))
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                raise AssertionError(f"console closed before {what}; console tail:\n"
                                     f"{self.tail()}") from None
        return text

    def read_for(self, seconds):
        """Everything the console printed during the next `seconds` (for diagnostics only:
        a test never counts what happens within a wall-clock window)."""
        end = time.time() + seconds
        return self.read_until(lambda _: time.time() >= end, "the end", seconds + 60)

    def ticks_until(self, counts, timeout=None):
        """Console output from here on until each partition in counts ({name: n}) printed
        n ticks: a span measured in the guests' own progress, not in seconds."""
        return self.read_until(lambda t: all(len(ticks(t, n)) >= k for n, k in counts.items()),
                               f"ticks {counts}", timeout or TICK_TIMEOUT[self.backend])

    def output(self, line, first, timeout=60):
        """Run a console command; its output, from the line that matches first to the
        prompt after it. A command prints all its lines at once, with no guest line
        among them, and then the prompt."""
        self.send(line + "\r")
        return self.expect(rf"({first}[\s\S]*?){re.escape(PROMPT)}", timeout=timeout).group(1)

    def list_states(self):
        out = self.output("list", r"(?:partition id=\d+ |no partitions)")
        return dict(re.findall(r"partition id=\d+ name=(\S+) state=(\S+)", out))

    def states_until(self, ok, timeout=60):
        """`list` again until ok(states) holds (a state the guest takes a moment after the
        line that announced it), or timeout; the last states either way."""
        deadline = time.time() + timeout
        states = self.list_states()
        while not ok(states) and time.time() < deadline:
            time.sleep(0.5)
            states = self.list_states()
        return states

    def tail(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()[-3000:]

    def close(self):
        try:
            if self.backend == "qemu":
                self.con.terminate(force=True)
            elif self.proc:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=10)
        except Exception:
            pass
        for fd in (self.master, getattr(self, "_slave", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.log.close()
        if os.environ.get("KEEP_TEST_DIRS") is None:
            shutil.rmtree(self.dir, ignore_errors=True)


def console_log(m):
    """All the console printed so far (the Machine's log file)."""
    m.log.flush()
    with open(m.log.name, errors="replace") as f:
        return f.read()


def ticks(text, name):
    """The tick numbers partition `name` printed in text, in order."""
    return [int(n) for n in re.findall(r"\[%s\] tick (\d+)" % name, text)]


@pytest.fixture
def machine_factory():
    made = []

    def make(backend, config_text, **kw):
        m = Machine(backend, config_text, **kw)
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()


# pci=noearly: QEMU's CPU model is AMD family 0xf, for which Linux scans 256 PCI buses
# for an AGP GART through the config ports: 33k exits (`info P` shows them) for nothing.
LINUX_CMDLINE = "console=ttyS0 tsc=reliable no_timer_check nokaslr mitigations=off panic=-1 pci=noearly"


def linux_partition(name="linux", memory="256M", cmdline=LINUX_CMDLINE):
    """Debian's kernel and the busybox initramfs (tests/guest/linux/), booted through PVH."""
    return (f"[partition {name}]\nmemory = {memory}\nkernel = linux/vmlinux\n"
            f"initrd = linux/initrd.cpio.gz\ncmdline = {cmdline}\n\n")


def guest_partition(name, memory="16M", image="testguest.bin", rom=False):
    if rom:
        return f"[partition {name}]\nmemory = {memory}\nimage = testguest-rom.bin\nload = 0xF0000\n\n"
    return f"[partition {name}]\nmemory = {memory}\nimage = {image}\nload = 0x8000\nentry = 0x8000\n\n"


_shell_steps = itertools.count(1)
# A kernel console line (CONFIG_PRINTK_TIME: "[   12.345678] text"), as it may come between
# two bytes of what a shell command prints: the tty sends its output from interrupts, a
# FIFO's worth at a time, and a kernel message is written out in between.
_KERNEL_LINE = r"(?:\[ *\d+\.\d+\][^\n]*\n)*"


def linux_shell(m, command, timeout=60):
    """Run command in the Linux guest's shell (attached with `console P`); what it printed.

    The guest kernel writes its messages to the same console whenever they come, also in
    the middle of a line. So the step quiets the console (`dmesg -n 1`: only emergencies;
    dmesg keeps everything) and gives the level back after it, and the output is taken
    between two tokens of this step alone, matched without what follows them. The typed
    line does not contain the tokens: $((6*7)) expands only when the shell runs it. The
    level comes back while the last token may still be on its way out: a kernel line may
    cut it, and is allowed for."""
    n = next(_shell_steps)
    m.send(f"read -r __lvl __rest </proc/sys/kernel/printk; dmesg -n 1; "
           f"echo __start{n}_$((6*7))_; {command}; echo __done{n}_$((6*7))_; "
           f"dmesg -n $__lvl\r")
    done = _KERNEL_LINE.join(re.escape(c) for c in f"__done{n}_42_")
    return m.expect(rf"__start{n}_42_([\s\S]*?){done}", timeout=timeout).group(1)
