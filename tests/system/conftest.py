"""Boot Bulkhead in an emulator and talk to its serial console like a user.

A Machine is one emulator run: QEMU + OVMF (AMD-V, TCG) or Bochs + OVMF
(VT-x with EPT). The console is COM1; tests send commands and expect lines.
"""
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

# Boot budgets in seconds (OVMF alone takes ~3 s in QEMU, ~15 s in Bochs).
BOOT_TIMEOUT = {"qemu": 90, "bochs": 300}


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

    def command(self, line, expect=None, timeout=30):
        self.send(line + "\r")
        if expect:
            return self.expect(expect, timeout=timeout)
        return None

    def read_for(self, seconds):
        """Everything the console printed during the next `seconds`."""
        out = []
        end = time.time() + seconds
        while time.time() < end:
            try:
                out.append(self.con.read_nonblocking(4096, timeout=max(0.05, end - time.time())))
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                break
        return "".join(out)

    def list_states(self):
        self.command("list")
        text = self.read_for(1.5 if self.backend == "qemu" else 4)
        return dict(re.findall(r"partition id=\d+ name=(\S+) state=(\S+)", text))

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
