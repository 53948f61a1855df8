"""VMBus devices of Bulkhead's own VSPs seen by a stock Linux guest: Debian's
hv_vmbus finds the channels `vmbus = ic, echo` offers, with exactly the
GUIDs the VSPs set; hv_utils binds the Integration Components, answers
heartbeats, takes the host's time and shuts the guest down when asked from
the console, also after a partition reset."""
import os
import re
import time

import pytest

from conftest import BUILD, ESCAPE, LINUX_CMDLINE, backends, linux_shell

# Linux under Bochs takes many minutes; it runs when asked (LINUX_BACKENDS=qemu,bochs).
LINUX_BACKENDS = [b for b in os.environ.get("LINUX_BACKENDS", "qemu").split(",")
                  if b in backends()]
BOOT_TIMEOUT = {"qemu": 240, "bochs": 1800}
MODULE_TIMEOUT = {"qemu": 180, "bochs": 1200}  # Linux waits for ever on an unanswered message
# Bounds for what the guest and the IC services do on their own time (heartbeats every 1 s).
IC_TIMEOUT = {"qemu": 180, "bochs": 1200}

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(BUILD, "linux", "vmlinux")),
                                reason="build/linux/vmlinux not built (make guests)")

# device_id (instance) -> (class_id (interface type), driver that binds it)
DEVICES = {
    "fd149e91-82e0-4a7d-afa6-2a4166cbd7c0": ("57164f39-9115-4e78-ab55-382f3bd5422d", "hv_utils"),
    "b6650ff7-33bc-4840-8048-e0676786f393": ("0e0b6031-5213-4934-818b-38d90ced39db", "hv_utils"),
    "2dd1ce17-079e-403c-b352-a1921ee207ee": ("9527e630-d0ae-497b-adce-e80ab0175caf", "hv_utils"),
    # echo: a Bulkhead test device no Linux driver claims
    "b1c0e000-0ec0-4b48-9000-000000000101": ("b1c0e000-0ec0-4b48-9000-000000000001", ""),
}
HEARTBEAT = re.compile(r"heartbeat partition=linux seq=(\d+) age_ms=(-?\d+) state=(\w+)")
HOST_DATE = re.compile(r"date partition=linux unix=(\d+)\.\d+ timesync=(\w+)")


def config():
    return ("[partition linux]\nmemory = 256M\nkernel = linux/vmlinux\n"
            f"initrd = linux/initrd.cpio.gz\ncmdline = {LINUX_CMDLINE}\nvmbus = ic, echo\n")


def boot(machine_factory, backend):
    m = machine_factory(backend, config(), mem="1G")
    m.expect(r"partition linux started: 256 MiB", timeout=300)
    m.boot()
    m.expect(r"\[linux\] bulkhead-linux: init ready", timeout=BOOT_TIMEOUT[backend])
    return m


def shell(m, command, timeout=60):
    """Run a command in the attached guest shell; everything it printed."""
    return linux_shell(m, command, timeout)


def attach(m):
    m.command("console linux", expect="attached to linux")


def detach(m):
    m.send(ESCAPE)
    m.expect("detached from linux")


def load_drivers(m, backend):
    attach(m)
    out = shell(m, "modprobe hv_vmbus && modprobe hv_utils && echo loaded", MODULE_TIMEOUT[backend])
    assert "loaded" in out, out
    # hv_utils negotiates each IC channel after it opened it, on its own time: wait until
    # it reported all three (the heartbeat, shutdown and timesync lines).
    shell(m, "until [ $(dmesg | grep -c 'IC version') -ge 3 ]; do sleep 1; done",
          IC_TIMEOUT[backend])


def host(m, command, pattern, timeout=60):
    return m.command(command, expect=pattern, timeout=timeout)


def heartbeat_until(m, backend, ok):
    """`heartbeat linux` again until ok(match) holds (the host sends one a second and the
    guest answers on its own time), or IC_TIMEOUT; the last reading either way."""
    deadline = time.time() + IC_TIMEOUT[backend]
    hb = host(m, "heartbeat linux", HEARTBEAT)
    while not ok(hb) and time.time() < deadline:
        time.sleep(1)
        hb = host(m, "heartbeat linux", HEARTBEAT)
    return hb


def channel_lines(m):
    """The output of `channels linux`, whole."""
    return m.output("channels linux", r"vmbus partition=linux ")


def guest_date(m):
    """The guest's clock, seconds since 1970 (the terminal ends lines with several CRs)."""
    return int(re.search(r"^(\d{9,})\s*$", shell(m, "date +%s"), re.M).group(1))


@pytest.mark.parametrize("backend", LINUX_BACKENDS)
@pytest.mark.timeout(900)
def test_linux_finds_the_offered_devices_and_hv_utils_binds(machine_factory, backend):
    m = boot(machine_factory, backend)
    load_drivers(m, backend)
    out = shell(m, "for d in /sys/bus/vmbus/devices/*; do echo DEV $(basename $d) "
                   "$(cat $d/class_id) $(cat $d/device_id) $(basename \"$(readlink $d/driver)\"); "
                   "done")
    found = {dev: (cls, drv) for name, cls, dev, drv in
             re.findall(r"DEV (\S+) \{(\S+)\} \{(\S+)\} ?(\S*)", out) if name == dev}
    assert found == DEVICES, out
    out = shell(m, "dmesg | grep 'IC version'")
    for line in ("Heartbeat IC version 3.0", "Shutdown IC version 3.2",
                 "TimeSync IC version 4.0"):
        assert line in out, out
    detach(m)
    host(m, "channels linux", r"vmbus partition=linux version=5\.\d+ channels=4")


@pytest.mark.parametrize("backend", LINUX_BACKENDS)
@pytest.mark.timeout(900)
def test_heartbeat_advances_and_timesync_sets_the_guest_clock(machine_factory, backend):
    m = boot(machine_factory, backend)
    host(m, "heartbeat linux", r"heartbeat partition=linux seq=0 age_ms=-1 state=closed")
    load_drivers(m, backend)
    detach(m)
    first = host(m, "heartbeat linux", HEARTBEAT)
    second = heartbeat_until(m, backend, lambda hb: hb.group(3) == "ok" and
                             int(hb.group(1)) >= int(first.group(1)) + 2)
    assert second.group(3) == "ok", second.group(0)
    assert int(second.group(1)) >= int(first.group(1)) + 2, (first.group(0), second.group(0))
    # The guest took the host's time from the first (SYNC) timesync message: its clock,
    # read between two readings of the host's, is within 10 s of both.
    host_before = int(host(m, "date linux", HOST_DATE).group(1))
    attach(m)
    guest_now = guest_date(m)
    detach(m)
    host_after = int(host(m, "date linux", HOST_DATE).group(1))
    assert host_before - 10 <= guest_now <= host_after + 10, (host_before, guest_now, host_after)
    # Setting the partition's clock steps the guest's at once: years back, so the guest's
    # clock shows when the step came (it is delivered on the guest's own time).
    host(m, "date linux 1700000000", r"date partition=linux unix=1700000000\.")
    attach(m)
    deadline = time.time() + IC_TIMEOUT[backend]
    guest_now = guest_date(m)
    while guest_now > host_before - 3600 and time.time() < deadline:
        time.sleep(1)
        guest_now = guest_date(m)
    detach(m)
    host_after = int(host(m, "date linux", HOST_DATE).group(1))
    assert 1700000000 <= guest_now <= host_after + 10, (guest_now, host_after)


def check_poweroff_cmd(m):
    """hv_utils shuts down with orderly_poweroff, which runs the kernel's poweroff_cmd;
    the test initramfs's /init points it at a power-off that acts (busybox's plain
    poweroff only signals PID 1, which /init ignores)."""
    out = shell(m, "cat /proc/sys/kernel/poweroff_cmd")
    assert "/bin/busybox poweroff -f" in out, out


@pytest.mark.parametrize("backend", LINUX_BACKENDS)
@pytest.mark.timeout(900)
def test_console_shutdown_powers_the_guest_off(machine_factory, backend):
    m = boot(machine_factory, backend)
    host(m, "shutdown linux",
         r"error: partition linux: shutdown channel is not open \(is hv_utils loaded\?\)")
    load_drivers(m, backend)
    check_poweroff_cmd(m)
    detach(m)
    host(m, "shutdown linux", r"partition linux: shutdown requested")
    m.expect_all(["hv_utils: Shutdown request received - graceful shutdown initiated",
                  "ic: partition linux: the guest accepted the shutdown request",
                  r"partition linux stopped: powered off \(ACPI S5\)"],
                 timeout=IC_TIMEOUT[backend])
    assert m.list_states() == {"linux": "stopped"}
    host(m, "shutdown linux", r"error: partition linux is stopped")


@pytest.mark.parametrize("backend", LINUX_BACKENDS)
@pytest.mark.timeout(1200)
def test_ic_channels_work_again_after_a_partition_reset(machine_factory, backend):
    m = boot(machine_factory, backend)
    load_drivers(m, backend)
    detach(m)
    assert host(m, "heartbeat linux", HEARTBEAT).group(3) in ("ok", "waiting")
    m.command("reset linux", expect="partition linux reset")
    # The reset closed the channels: the guest forgot them.
    assert host(m, "heartbeat linux", HEARTBEAT).group(3) == "closed"
    m.expect(r"\[linux\] bulkhead-linux: init ready", timeout=BOOT_TIMEOUT[backend])
    load_drivers(m, backend)
    check_poweroff_cmd(m)
    detach(m)
    assert heartbeat_until(m, backend, lambda hb: hb.group(3) == "ok").group(3) == "ok"
    host(m, "shutdown linux", r"partition linux: shutdown requested")
    m.expect(r"partition linux stopped: powered off \(ACPI S5\)", timeout=IC_TIMEOUT[backend])


@pytest.mark.parametrize("backend", LINUX_BACKENDS)
@pytest.mark.timeout(1200)
def test_snapshot_and_restore_with_working_devices(machine_factory, backend):
    """The signature feature with the stock client: Linux with hv_utils bound is
    snapshotted, goes on (a file written, the clock stepped, its VMBus
    unloaded), and is restored: the file is gone, every IC channel is open
    again where it was, heartbeats advance and the guest shuts down when asked."""
    m = boot(machine_factory, backend)
    load_drivers(m, backend)
    check_poweroff_cmd(m)
    detach(m)
    before = host(m, "heartbeat linux", HEARTBEAT)
    channels = channel_lines(m)
    opened = re.findall(r"channel relid=(\d+) [^\r\n]*state=open", channels)
    assert len(opened) == 3, channels  # heartbeat, shutdown, timesync
    snap = host(m, "snapshot linux",
                r"snapshot partition=linux slot=0 pages=65536 state=running ms=(\d+)\r*\n", 600)

    attach(m)
    shell(m, "echo after-the-snapshot > /tmp/mark && sync")
    assert "after-the-snapshot" in shell(m, "cat /tmp/mark")
    # The guest lets go of its devices: the host sees the channels closed.
    shell(m, "rmmod hv_utils", MODULE_TIMEOUT[backend])
    detach(m)
    assert heartbeat_until(m, backend, lambda hb: hb.group(3) == "closed").group(3) == "closed"

    r = host(m, "restore linux",
             r"restored partition=linux slot=0 pages=65536 copied=(\d+) state=running "
             r"ms=(\d+)\r*\n", 600)
    again = channel_lines(m)
    assert re.findall(r"channel relid=(\d+) [^\r\n]*state=open", again) == opened, again
    after = heartbeat_until(m, backend, lambda hb: hb.group(3) == "ok" and
                            int(hb.group(1)) >= int(before.group(1)) + 2)
    assert after.group(3) == "ok", after.group(0)
    assert int(after.group(1)) >= int(before.group(1)) + 2, (before.group(0), after.group(0))
    attach(m)
    out = shell(m, "cat /tmp/mark 2>&1; lsmod | grep -c hv_utils")
    assert "after-the-snapshot" not in out and "No such file" in out, out
    detach(m)
    host(m, "shutdown linux", r"partition linux: shutdown requested")
    m.expect_all(["hv_utils: Shutdown request received - graceful shutdown initiated",
                  r"partition linux stopped: powered off \(ACPI S5\)"],
                 timeout=IC_TIMEOUT[backend])
    # Only the pages written since the snapshot went back, not all 256 MiB.
    assert int(r.group(1)) < 65536 // 4, r.group(0)
    print(f"snapshot of 256 MiB: {snap.group(1)} ms; restore: {r.group(1)} pages copied "
          f"in {r.group(2)} ms")
