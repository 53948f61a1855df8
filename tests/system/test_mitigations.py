"""Speculation mitigations a user sees (docs/security.md): the boot line that
says what is on, and the per-partition `mitigations = off` opt-out, on both
back ends."""

import os

import pytest

from conftest import (BOOT_TIMEOUT, BUILD, ESCAPE, backends, guest_partition, linux_partition,
                      linux_shell, ticks)

ALL_BACKENDS = pytest.mark.parametrize("backend", backends())
QEMU_ONLY = pytest.mark.parametrize("backend", [b for b in backends() if b == "qemu"])
LINE = (r"bulkhead: mitigations ibpb=(on|off) l1d=(on|off) verw=(on|off) rsb=on "
        r"spec_ctrl=(on|off)\s")


@ALL_BACKENDS
@pytest.mark.timeout(600)
def test_mitigations_line_and_a_partition_without_them(machine_factory, backend):
    off = guest_partition("beta").replace("\n\n", "\nmitigations = off\n\n")
    m = machine_factory(backend, guest_partition("alpha") + off)
    m.expect(r"bulkhead: using (vmx|svm)", timeout=BOOT_TIMEOUT[backend])
    m.expect(LINE, timeout=60)
    m.boot()
    m.expect_all([rf"\[{name}\] selftest: \d+ ok, 0 failed" for name in ("alpha", "beta")],
                 timeout=120)
    text = m.ticks_until({"alpha": 2, "beta": 2})
    assert len(ticks(text, "alpha")) >= 1 and len(ticks(text, "beta")) >= 1, text[-2000:]


@QEMU_ONLY
@pytest.mark.timeout(300)
def test_bad_mitigations_value_is_reported(machine_factory, backend):
    cfg = "[partition alpha]\nmemory = 16M\nimage = testguest.bin\nmitigations = maybe\n"
    m = machine_factory(backend, cfg)
    m.expect(r"error: bulkhead.cfg:4: mitigations: 'maybe' is neither on nor off",
             timeout=BOOT_TIMEOUT[backend])
    m.boot()
    m.command("list", expect="no partitions")


LINUX_BACKENDS = [b for b in os.environ.get("LINUX_BACKENDS", "qemu").split(",")
                  if b in backends()]


@pytest.mark.skipif(not os.path.exists(os.path.join(BUILD, "linux", "vmlinux")),
                    reason="build/linux/vmlinux not built (make guests)")
@pytest.mark.parametrize("backend", LINUX_BACKENDS)
@pytest.mark.timeout(900)
def test_linux_sees_the_speculation_controls_offered(machine_factory, backend):
    """The CPU flags Linux derives from CPUID follow the boot line (the host's controls,
    nothing more), and its use of them raises no unchecked-MSR complaint."""
    m = machine_factory(backend, linux_partition(), mem="1G")
    found = m.expect(r"bulkhead: mitigations ibpb=(on|off) l1d=(on|off) verw=(on|off) rsb=on "
                     r"spec_ctrl=(on|off)\s", timeout=300)
    ibpb, spec_ctrl = found.group(1) == "on", found.group(4) == "on"
    m.boot()
    m.expect(r"\[linux\] bulkhead-linux: init ready", timeout=600)
    m.command("console linux", expect="attached to linux")
    flags = set(linux_shell(m, "grep -m1 '^flags' /proc/cpuinfo").split())
    assert ("ibpb" in flags) == ibpb, sorted(flags)
    assert bool(flags & {"ibrs", "stibp", "ssbd"}) == spec_ctrl, sorted(flags)
    assert "pku" not in flags and "ospke" not in flags, sorted(flags)
    out = linux_shell(m, "grep . /sys/devices/system/cpu/vulnerabilities/*")
    assert "spectre_v2:" in out, out
    out = linux_shell(m, "dmesg | grep -c 'unchecked MSR access' || true")
    assert out.split()[-1] == "0", out
    m.send(ESCAPE)
    m.expect("detached from linux")
