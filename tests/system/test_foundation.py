"""Foundation behaviour a user sees on the console, on both back ends:
partitions side by side, console commands, containment of bad guests,
and clear errors for bad configurations."""

import pytest

from conftest import BOOT_TIMEOUT, ESCAPE, backends, guest_partition, ticks

TWO = guest_partition("alpha") + guest_partition("beta")
ALL_BACKENDS = pytest.mark.parametrize("backend", backends())
QEMU_ONLY = pytest.mark.parametrize("backend", [b for b in backends() if b == "qemu"])



def boot_two(machine_factory, backend, extra=""):
    m = machine_factory(backend, TWO + extra)
    m.boot()
    return m


def attach_and_send(m, name, key, then=None):
    """Type key on name's serial port and come back; then: what that must print.
    With then, the detach waits for it: a guest line the detach fell into would
    be shown in two pieces (the first raw, the rest as "[NAME] ..."), and match
    nothing."""
    m.command(f"console {name}", expect=f"attached to {name}")
    m.send(key)
    if then:
        m.expect(then)
    m.send(ESCAPE)
    m.expect(f"detached from {name}")


@ALL_BACKENDS
@pytest.mark.timeout(600)
def test_two_partitions_run_side_by_side(machine_factory, backend):
    m = boot_two(machine_factory, backend)
    m.expect_all([rf"\[{name}\] selftest: \d+ ok, 0 failed" for name in ("alpha", "beta")],
                 timeout=120)
    # Until both printed three ticks (not for so many seconds: the machine is shared).
    text = m.ticks_until({"alpha": 3, "beta": 3})
    a, b = ticks(text, "alpha"), ticks(text, "beta")
    assert len(a) >= 2 and len(b) >= 2, text[-2000:]
    # Interleaved: some beta tick falls between two alpha ticks.
    lines = [l for l in text.splitlines() if " tick " in l]
    first_a = next(i for i, l in enumerate(lines) if "[alpha]" in l)
    last_a = max(i for i, l in enumerate(lines) if "[alpha]" in l)
    assert any("[beta]" in l for l in lines[first_a:last_a]), lines


@ALL_BACKENDS
@pytest.mark.timeout(600)
def test_memory_fault_stops_only_that_partition(machine_factory, backend):
    m = boot_two(machine_factory, backend)
    m.expect(r"\[alpha\] tick 1", timeout=120)
    attach_and_send(m, "alpha", "m",
                    then=r"partition alpha stopped: memory fault gpa=0xe0000000 access=write")
    text = m.ticks_until({"beta": 2})
    assert len(ticks(text, "beta")) >= 2, text[-2000:]
    assert not ticks(text, "alpha")
    assert m.list_states() == {"alpha": "stopped", "beta": "running"}


@ALL_BACKENDS
@pytest.mark.timeout(600)
def test_triple_fault_stops_only_that_partition(machine_factory, backend):
    m = boot_two(machine_factory, backend)
    m.expect(r"\[beta\] tick 1", timeout=120)
    attach_and_send(m, "beta", "t", then=r"partition beta stopped: triple fault")
    text = m.ticks_until({"alpha": 2})
    assert len(ticks(text, "alpha")) >= 2, text[-2000:]


@ALL_BACKENDS
@pytest.mark.timeout(600)
def test_spinning_guest_does_not_starve_the_other(machine_factory, backend):
    m = boot_two(machine_factory, backend)
    m.expect(r"\[alpha\] tick 1", timeout=120)
    attach_and_send(m, "alpha", "c")
    text = m.ticks_until({"beta": 2})
    assert len(ticks(text, "beta")) >= 2, text[-2000:]
    assert m.list_states()["alpha"] == "running"


@ALL_BACKENDS
@pytest.mark.timeout(600)
def test_timer_interrupts_wake_a_halted_guest(machine_factory, backend):
    """The guest halts with interrupts on and its x2APIC timer wakes it 20 times;
    the other partition keeps running meanwhile, and so does it afterwards."""
    m = boot_two(machine_factory, backend)
    m.expect(r"\[alpha\] tick 1", timeout=120)
    attach_and_send(m, "alpha", "i",
                    then=r"irq: 20 timer interrupts, \d+ TSC cycles each, count read \d+ of 1000000")
    text = m.ticks_until({"alpha": 1, "beta": 1})
    assert ticks(text, "alpha") and ticks(text, "beta"), text[-2000:]
    assert m.list_states() == {"alpha": "running", "beta": "running"}


@QEMU_ONLY
@pytest.mark.timeout(300)
def test_console_commands(machine_factory, backend):
    m = boot_two(machine_factory, backend, guest_partition("gamma", rom=True))
    m.expect(r"\[gamma\] selftest: \d+ ok, 0 failed", timeout=120)  # reset-vector start
    m.command("help", expect="console P")
    assert m.list_states() == {"alpha": "running", "beta": "running", "gamma": "running"}
    m.command("info alpha", expect=r"info id=0 name=alpha state=running memory=16384K")
    m.command("regs beta", expect=r"rip=[0-9a-f]{16}")
    m.expect(r"cs=0010 base=0000000000000000")  # long-mode code segment of the guest
    m.command("pause beta", expect="partition beta paused")
    assert m.list_states()["beta"] == "paused"
    text = m.ticks_until({"alpha": 3})  # a span of alpha's own ticks, not of seconds
    assert not ticks(text, "beta") and ticks(text, "alpha"), text
    m.command("resume beta", expect="partition beta resumed")
    m.expect(r"\[beta\] tick \d+")
    m.command("kill gamma", expect="partition gamma stopped: killed from the console")
    m.command("resume gamma", expect="error: partition gamma is stopped")
    m.command("reset gamma", expect="partition gamma reset")
    m.expect(r"\[gamma\] testguest: hello from long mode")
    m.command("frobnicate", expect="error: unknown command 'frobnicate'")
    m.command("info nosuch", expect="error: no partition named 'nosuch'")
    m.command("pause", expect="error: usage: pause PARTITION")


@QEMU_ONLY
@pytest.mark.timeout(300)
def test_halt_debug_exit_and_gp(machine_factory, backend):
    m = boot_two(machine_factory, backend, guest_partition("gamma"))
    m.expect(r"\[gamma\] tick 1", timeout=120)
    attach_and_send(m, "alpha", "h", then="cmd: halt")
    attach_and_send(m, "beta", "q", then="partition beta stopped: guest exit code=0")
    attach_and_send(m, "gamma", "g", then=r"exception 13")
    # alpha halts right after its line: wait for the state, not for a guess of how long.
    states = m.states_until(lambda s: s.get("alpha") == "halted")
    assert states["alpha"] == "halted" and states["beta"] == "stopped", states


@QEMU_ONLY
@pytest.mark.timeout(300)
def test_flooding_guest_does_not_drown_the_console(machine_factory, backend):
    m = boot_two(machine_factory, backend)
    m.expect(r"\[beta\] tick 1", timeout=120)
    attach_and_send(m, "alpha", "f")
    text = m.read_until(lambda t: "[alpha] flood" in t and ticks(t, "beta"),
                        "alpha's flood and a beta tick", 120)
    assert "[alpha] flood" in text and ticks(text, "beta"), text[-2000:]
    m.command("kill alpha", expect="partition alpha stopped", timeout=120)
    assert m.list_states()["beta"] == "running"


@ALL_BACKENDS
@pytest.mark.timeout(600)
def test_missing_image_is_reported_and_console_works(machine_factory, backend):
    cfg = guest_partition("alpha") + guest_partition("ghost", image="nosuch.bin")
    m = machine_factory(backend, cfg)
    m.expect(r"error: bulkhead.cfg:\d+: image: file 'nosuch.bin' not found",
             timeout=BOOT_TIMEOUT[backend])
    m.boot()
    m.expect(r"\[alpha\] tick", timeout=120)
    assert m.list_states() == {"alpha": "running"}


@QEMU_ONLY
@pytest.mark.timeout(300)
@pytest.mark.parametrize("cfg,message", [
    ("[partition alpha]\nmemory = 64Q\nimage = testguest.bin\n",
     r"error: bulkhead.cfg:2: memory: .64Q. is not a size"),
    ("[partition alpha]\nmemory = 16M\nimage = testguest.bin\ncolour = red\n",
     r"error: bulkhead.cfg:4: colour: "),
    ("memory = 16M\n", r"error: bulkhead.cfg:1: "),
])
def test_malformed_config_is_reported_and_console_works(machine_factory, backend, cfg, message):
    m = machine_factory(backend, cfg)
    m.expect(message, timeout=BOOT_TIMEOUT[backend])
    m.boot()
    m.command("list", expect="no partitions")


@QEMU_ONLY
@pytest.mark.timeout(300)
def test_halt_powers_off(machine_factory, backend):
    m = boot_two(machine_factory, backend)
    m.command("halt", expect="powering off")
    m.expect(__import__("pexpect").EOF, timeout=120)
