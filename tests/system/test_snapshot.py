"""Snapshots of a running partition in memory slots (kernel/snap.c), on both
back ends: the test guest's tick count goes back to where it was; a
register-only computation snapshotted half-way finishes twice with the same
result; a guest that spun, faulted or was killed after a snapshot comes back
running; interrupts work after a restore; a neighbour is untouched; bad
requests get `error: ` lines and change nothing; a VMBus channel the test
guest left open comes back open after its client closed and unloaded it.
(Linux with hv_utils across a snapshot: test_vmbus.py.)"""
import re

import pytest

from conftest import ESCAPE, backends, console_log, guest_partition, ticks

ALL_BACKENDS = pytest.mark.parametrize("backend", backends())
# Seconds: the guest ticks every ~0.5 s under QEMU, ~1.1 s under Bochs (bare).
WAIT = {"qemu": 60, "bochs": 300}
LOOP_X = "56998eacc4ba9c2e"  # what the 'l' loop computes (tests/guest/README.md)



def last_tick(m, name):
    """The next tick `name` prints (or printed, unread yet)."""
    return int(m.expect(rf"\[{name}\] tick (\d+)", timeout=WAIT[m.backend]).group(1))


def type_to(m, name, keys, answer):
    """Type keys on name's serial port and wait for its answer (unprefixed while attached)."""
    m.command(f"console {name}", expect=f"attached to {name}")
    m.send(keys)
    m.expect(answer, timeout=WAIT[m.backend])
    m.send(ESCAPE)
    m.expect(f"detached from {name}")


def snapshot(m, name, slot=None):
    arg = f" {slot}" if slot is not None else ""
    return m.command(f"snapshot {name}{arg}",
                     expect=rf"snapshot partition={name} slot=(\d+) pages=(\d+) state=(\S+) "
                            r"ms=(\d+)\r*\n", timeout=WAIT[m.backend])


def restore(m, name, slot=None):
    arg = f" {slot}" if slot is not None else ""
    return m.command(f"restore {name}{arg}",
                     expect=rf"restored partition={name} slot=(\d+) pages=(\d+) copied=(\d+) "
                            r"state=(\S+) ms=(\d+)\r*\n", timeout=WAIT[m.backend])


def tick_before(m, name, line):
    """The last tick partition name printed before the console's line (a snapshot's or a
    restore's answer): what the guest itself reports about where it was. Guest lines are
    printed whole the moment they end, console answers when the command is done, in one
    order; so the guest was past that tick and before the next when line was printed."""
    log = console_log(m)
    t = ticks(log[:log.rfind(line)], name)
    assert t, (name, line, log[-2000:])
    return t[-1]


def check_went_back(text, at):
    """text, the console after a restore, shows alpha going on from the snapshot taken
    after its tick `at`: the next tick is at + 1, then one by one. (If the snapshot or the
    restore fell while alpha had half a line out, the console joins that half with the
    rest, and the first whole tick is at + 2; the first alpha line is no tick line then.)"""
    a = ticks(text, "alpha")
    lines = re.findall(r"\[alpha\] ([^\r\n]*)", text)
    joined = bool(lines) and not re.fullmatch(r"tick \d+", lines[0])
    assert a and (a[0] == at + 1 or (joined and a[0] == at + 2)), (at, a, lines[:3], text[-2000:])
    assert a == list(range(a[0], a[0] + len(a))), a  # and on from there, one by one


def boot_two(machine_factory, backend):
    m = machine_factory(backend, guest_partition("alpha") + guest_partition("beta"))
    m.boot()
    m.expect_all([rf"\[{n}\] selftest: \d+ ok, 0 failed" for n in ("alpha", "beta")],
                 timeout=WAIT[backend])
    return m


@ALL_BACKENDS
@pytest.mark.timeout(1200)
def test_restore_goes_back_in_time(machine_factory, backend):
    m = boot_two(machine_factory, backend)
    last_tick(m, "alpha")
    s = snapshot(m, "alpha")
    assert (s.group(1), s.group(2), s.group(3)) == ("0", str(16 << 8), "running"), s.group(0)
    # Where the guest was: its ticks as the console printed them around the snapshot's
    # answer, not a guess of how many ticks the command took on this machine.
    at = tick_before(m, "alpha", "snapshot partition=alpha slot=0 ")
    # Let it run well past the snapshot, then go back.
    while last_tick(m, "alpha") < at + 4:
        pass
    r = restore(m, "alpha")
    beta_before = tick_before(m, "beta", "restored partition=alpha slot=0 ")
    assert (r.group(1), r.group(2), r.group(4)) == ("0", str(16 << 8), "running"), r.group(0)
    # Only what changed is copied back: the guest writes a few pages of its 16 MiB.
    assert 0 < int(r.group(3)) < 256, r.group(0)
    text = m.ticks_until({"alpha": 3, "beta": 1})
    check_went_back(text, at)
    b = ticks(text, "beta")
    assert b and b[0] > beta_before, (beta_before, b)  # the neighbour never went back
    # The same slot restores again; the snapshot is kept.
    restore(m, "alpha")
    check_went_back(m.ticks_until({"alpha": 3}), at)
    m.command("snapshots", expect=r"snapshot partition=alpha slot=0 pages=4096 state=running "
                                  r"age_s=\d+\r*\n")
    assert m.list_states() == {"alpha": "running", "beta": "running"}


@ALL_BACKENDS
@pytest.mark.timeout(1200)
def test_a_computation_finishes_twice_the_same(machine_factory, backend):
    """The 'l' loop keeps its state in registers only: a snapshot half-way through
    must carry every register, or the second run prints another x."""
    m = boot_two(machine_factory, backend)
    type_to(m, "alpha", "l", r"bench loop start")
    # Into the loop (~5 beta ticks long with both running): one tick of the neighbour's,
    # not so many seconds of this machine's.
    m.expect(r"\[beta\] tick \d+", timeout=WAIT[backend])
    snapshot(m, "alpha", 1)
    log = console_log(m)
    taken = log.rfind("snapshot partition=alpha slot=1 ")
    assert "bench loop done" not in log[log.rfind("bench loop start", 0, taken):taken], \
        log[-2000:]  # taken inside the loop
    done = m.expect(r"\[alpha\] bench loop done x=([0-9a-f]{16})", timeout=WAIT[backend])
    assert done.group(1) == LOOP_X
    restore(m, "alpha", 1)
    again = m.expect(r"\[alpha\] bench loop (start|done x=[0-9a-f]{16})", timeout=WAIT[backend])
    # Back in the middle of the loop: it ends again (no second start) with the same x.
    assert again.group(1) == "done x=" + LOOP_X, again.group(0)
    # Interrupts after a restore: the x2APIC timer test passes.
    type_to(m, "alpha", "i", r"irq: 20 timer interrupts")
    last_tick(m, "alpha")


@ALL_BACKENDS
@pytest.mark.timeout(1200)
def test_restore_brings_back_a_spinning_faulted_or_killed_guest(machine_factory, backend):
    m = boot_two(machine_factory, backend)
    last_tick(m, "alpha")
    snapshot(m, "alpha", 2)
    type_to(m, "alpha", "c", r"cmd: spin")  # a tight loop: no ticks any more
    text = m.ticks_until({"beta": 3})  # while the neighbour ticks three times
    assert not ticks(text, "alpha"), text[-1000:]
    restore(m, "alpha", 2)
    last_tick(m, "alpha")

    type_to(m, "alpha", "t", r"partition alpha stopped: triple fault")
    assert m.list_states()["alpha"] == "stopped"
    r = restore(m, "alpha", 2)
    assert r.group(4) == "running", r.group(0)
    last_tick(m, "alpha")

    m.command("kill alpha")
    m.expect(r"partition alpha stopped", timeout=WAIT[backend])
    m.command("snapshot alpha 3", expect=r"error: partition alpha is stopped")
    restore(m, "alpha", 2)
    last_tick(m, "alpha")
    # A reset and then a restore: the snapshot, not the reset state.
    m.command("reset alpha")
    m.expect(r"\[alpha\] selftest: \d+ ok, 0 failed", timeout=WAIT[backend])
    r = restore(m, "alpha", 2)
    assert r.group(3) == r.group(2), r.group(0)  # a reset rewrote everything: all copied
    text = m.ticks_until({"alpha": 2})
    assert "selftest" not in text.split("restored partition=alpha")[-1], text[-2000:]
    assert ticks(text, "alpha"), text[-2000:]
    assert m.list_states() == {"alpha": "running", "beta": "running"}


@ALL_BACKENDS
@pytest.mark.timeout(600)
def test_bad_requests(machine_factory, backend):
    m = boot_two(machine_factory, backend)
    m.command("restore alpha", expect=r"error: partition alpha has no snapshot in slot 0")
    m.command("restore alpha 9", expect=r"error: slot '9': want 0 to 3")
    m.command("snapshot alpha x", expect=r"error: slot 'x': want 0 to 3")
    m.command("snapshot nosuch", expect=r"error: no partition named 'nosuch'")
    m.command("snapshot", expect=r"error: usage: snapshot PARTITION \[SLOT\]")
    m.command("forget alpha 1", expect=r"error: partition alpha has no snapshot in slot 1")
    m.command("snapshots", expect=r"no snapshots")
    # A snapshot's memory comes back when it is forgotten.
    free = r"forgot partition=alpha slot=1 free_pages=(\d+)\r*\n"
    snapshot(m, "alpha", 1)
    first = int(m.command("forget alpha 1", expect=free).group(1))
    snapshot(m, "alpha", 1)
    second = int(m.command("forget alpha 1", expect=free).group(1))
    assert first == second, (first, second)
    m.command("snapshots alpha", expect=r"no snapshots")
    assert m.list_states() == {"alpha": "running", "beta": "running"}


@pytest.mark.parametrize("backend", [b for b in backends() if b == "qemu"])
@pytest.mark.timeout(900)
def test_vmbus_channel_comes_back_open(machine_factory, backend):
    """The test guest's VMBus client leaves the echo channel open; after a snapshot it
    closes everything and unloads; the restore brings the connection and the open
    channel back, and the client's next full run works."""
    from test_echo_client import check_run, run_client
    m = machine_factory(backend, guest_partition("alpha").replace("\n\n", "\nvmbus = echo\n\n")
                        + guest_partition("beta"))
    m.boot()
    m.expect_all([rf"\[{n}\] selftest: \d+ ok, 0 failed" for n in ("alpha", "beta")],
                 timeout=WAIT[backend])
    relid, _ = check_run(run_client(m, "alpha", "V", r"vmbus: channel left open relid=\d+"),
                         offers=1)
    open_line = rf"channel relid={relid} [^\r\n]*state=open name=echo "
    m.command("channels alpha", expect=r"vmbus partition=alpha version=5\.3 channels=1")
    m.expect(open_line)
    snapshot(m, "alpha")
    run_client(m, "alpha", "v", r"vmbus: baseline memcpy [^\r\n]*\r*\n")
    m.command("channels alpha", expect=r"vmbus partition=alpha version=none channels=1")
    restore(m, "alpha")
    m.command("channels alpha", expect=r"vmbus partition=alpha version=5\.3 channels=1")
    m.expect(open_line)
    m.command("echo alpha", expect=r"echo partition=alpha state=open ")
    check_run(run_client(m, "alpha", "v", r"vmbus: baseline memcpy [^\r\n]*\r*\n"), offers=1)
    assert m.list_states() == {"alpha": "running", "beta": "running"}
