"""A stock Linux guest under Bulkhead: Debian's own kernel, booted through PVH,
finds a Hyper-V partition (synthetic CPUID/MSRs, reference TSC page,
synthetic timers), gives a shell on its serial console, and powers the
partition off, while a test-guest partition beside it keeps running."""
import os
import re

import pytest

from conftest import BUILD, ESCAPE, backends, guest_partition, linux_partition, linux_shell

# Linux under Bochs takes 3-4 minutes a test: the boot test runs there every time (VT-x
# with a second partition beside Linux), the others when asked, LINUX_BACKENDS=qemu,bochs.
LINUX_BACKENDS = [b for b in os.environ.get("LINUX_BACKENDS", "qemu").split(",")
                  if b in backends()]
BOOT_BACKENDS = sorted(set(LINUX_BACKENDS) | set(backends()))
BOOT_TIMEOUT = {"qemu": 240, "bochs": 600}
PROMPT = "~ # "

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(BUILD, "linux", "vmlinux")),
                                reason="build/linux/vmlinux not built (make guests)")



def boot_linux(machine_factory, backend, extra=""):
    m = machine_factory(backend, linux_partition() + extra, mem="1G")
    m.expect(r"partition linux started: 256 MiB, Linux linux/vmlinux", timeout=300)
    m.boot()
    m.expect(r"\[linux\] bulkhead-linux: init ready", timeout=BOOT_TIMEOUT[backend])
    return m


def shell(m, command, expect, timeout=60):
    """Run a command on the attached Linux console; the match of expect in its output."""
    out = linux_shell(m, command, timeout)
    found = re.search(expect, out)
    assert found, (command, expect, out)
    return found


@pytest.mark.parametrize("backend", BOOT_BACKENDS)
@pytest.mark.timeout(1200)
def test_linux_boots_as_a_hyperv_guest(machine_factory, backend):
    m = boot_linux(machine_factory, backend, guest_partition("alpha"))
    m.command("console linux", expect="attached to linux")
    shell(m, "dmesg | grep -i hyper", r"Hypervisor detected: Microsoft Hyper-V")
    shell(m, "cat /sys/devices/system/clocksource/clocksource0/current_clocksource",
          r"hyperv_clocksource_tsc_page")
    shell(m, "cat /sys/devices/system/clockevents/clockevent0/current_device",
          r"Hyper-V clockevent")
    # The synthetic timer really interrupts: its counter moves while we sleep.
    first = int(shell(m, "grep stimer0 /proc/interrupts", r"HVS:\s+(\d+)\s").group(1))
    shell(m, "sleep 1; echo slept", r"slept")
    second = int(shell(m, "grep stimer0 /proc/interrupts", r"HVS:\s+(\d+)\s").group(1))
    assert second > first
    m.send(ESCAPE)
    m.expect("detached from linux")
    m.ticks_until({"alpha": 2})  # the test guest beside it ticks on


@pytest.mark.parametrize("backend", LINUX_BACKENDS)
@pytest.mark.timeout(900)
def test_linux_poweroff_stops_only_its_partition(machine_factory, backend):
    m = boot_linux(machine_factory, backend, guest_partition("alpha"))
    m.command("console linux", expect="attached to linux")
    shell(m, "echo hello from $(uname -r)", r"hello from 6\.1\.\d+")
    m.send("poweroff\r")
    m.expect_all(["reboot: Power down", "partition linux stopped: powered off \\(ACPI S5\\)"])
    m.send(ESCAPE)
    m.expect("detached from linux")
    m.ticks_until({"alpha": 2})
    assert m.list_states() == {"linux": "stopped", "alpha": "running"}


@pytest.mark.parametrize("backend", LINUX_BACKENDS)
@pytest.mark.timeout(900)
def test_linux_partition_resets_and_boots_again(machine_factory, backend):
    m = boot_linux(machine_factory, backend)
    m.command("reset linux", expect="partition linux reset")
    m.expect(r"\[linux\] bulkhead-linux: init ready", timeout=BOOT_TIMEOUT[backend])


@pytest.mark.parametrize("backend", [b for b in backends() if b == "qemu"])
@pytest.mark.timeout(300)
def test_bad_vmlinux_is_refused_with_a_clear_error(machine_factory, backend):
    cfg = ("[partition linux]\nmemory = 256M\nkernel = testguest.bin\n\n" +
           guest_partition("alpha"))
    m = machine_factory(backend, cfg)
    m.expect(r"error: bulkhead.cfg:1: partition linux not started: vmlinux: ", timeout=90)
    m.boot()
    m.expect(r"\[alpha\] tick", timeout=120)
    assert m.list_states() == {"alpha": "running"}


@pytest.mark.parametrize("backend", [b for b in backends() if b == "qemu"])
@pytest.mark.timeout(300)
def test_too_little_memory_for_the_kernel_is_refused(machine_factory, backend):
    m = machine_factory(backend, linux_partition(memory="32M"), mem="1G")
    m.expect(r"error: bulkhead.cfg:1: partition linux not started: vmlinux: .*outside guest memory",
             timeout=120)
    m.boot()
    m.command("list", expect="no partitions")
