"""make bench: figures as ratios against a baseline measured in the same run.

- exits/s: the test guest runs CPUID 100000 times (each one a VM exit and
  entry) under Bulkhead; printed per back end.
- compute ratio: the guest's pure-register loop under Bulkhead divided by
  the same loop with the same guest booted directly as the emulator's
  firmware (no hypervisor), per back end.
"""
import os
import subprocess
import sys
import tempfile
import time

import pexpect

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "system"))
from conftest import BUILD, ESCAPE, Machine, ROOT, guest_partition  # noqa: E402

ROM = os.path.join(BUILD, "guest", "testguest-rom.bin")


def timed(con, key, start, done, timeout):
    con.send(key)
    con.expect(start, timeout=timeout)
    t0 = time.monotonic()
    con.expect(done, timeout=timeout)
    return time.monotonic() - t0


def under_bulkhead(backend):
    m = Machine(backend, guest_partition("bench", memory="16M"))
    try:
        m.boot()
        m.expect(r"\[bench\] tick 1", timeout=300)
        m.command("console bench", expect="attached to bench")
        cpuid = timed(m.con, "b", "bench cpuid start", "bench cpuid done", 600)
        loop = timed(m.con, "l", "bench loop start", "bench loop done", 600)
        m.send(ESCAPE)
        return cpuid, loop
    finally:
        m.close()


def bare(backend):
    """The same guest as the emulator's firmware: no hypervisor at all."""
    if backend == "qemu":
        con = pexpect.spawn("qemu-system-x86_64", ["-accel", "tcg", "-machine", "q35",
                            "-cpu", "max", "-m", "64", "-nodefaults", "-display", "none",
                            "-serial", "stdio", "-bios", ROM], encoding="latin-1")
    else:
        con = pexpect.spawn(os.path.join(ROOT, "tests", "run.sh"), ["bochs-rom", ROM],
                            encoding="latin-1")
    try:
        con.expect("tick 1", timeout=300)
        return timed(con, "l", "bench loop start", "bench loop done", 600)
    finally:
        con.terminate(force=True)


def main():
    backends = [b for b in os.environ.get("BACKENDS", "qemu,bochs").split(",") if b]
    for backend in backends:
        print(f"bench[{backend}]: booting ...", flush=True)
        cpuid, loop = under_bulkhead(backend)
        base = bare(backend)
        print(f"bench[{backend}]: cpuid exits/s = {100000 / cpuid:.0f} "
              f"(100000 CPUID exits in {cpuid:.2f} s)")
        print(f"bench[{backend}]: compute loop under Bulkhead / bare = {loop / base:.3f} "
              f"({loop:.2f} s vs {base:.2f} s)", flush=True)


if __name__ == "__main__":
    main()
