"""The test guest's own VMBus client (tests/guest/vmbus_client.c, the 'v' and
'V' commands) against the echo VSP, on both back ends: it connects, opens the
echo channel over a GPADL that needs a GPADL_BODY, streams thousands of
in-band and GPA_DIRECT packets through a small ring (wrapping it, filling
it, waking on pending_send_sz), checks every echo and completion byte for
byte, sends messages and packets the host must refuse or drop, floods the
message queue, closes and reopens the channel, breaks a ring, then closes,
tears the GPADL down and unloads. The console's `channels P` and `echo P`
agree with the guest, a partition without a VMBus gets a clean refusal, and
the other partitions run on meanwhile."""
import re

import pytest

from conftest import ESCAPE, backends, guest_partition, console_log, ticks

ALL_BACKENDS = pytest.mark.parametrize("backend", backends())
QEMU_ONLY = pytest.mark.parametrize("backend", [b for b in backends() if b == "qemu"])

ECHO_TYPE = "b1c0e000-0ec0-4b48-9000-000000000001"
ECHO_INSTANCE = "b1c0e000-0ec0-4b48-9000-000000000101"
# What one run of the client sends (vmbus_client.c: the phases' packet counts).
PHASES = {"stream": 2000, "gpa-direct": 256, "full": 400, "after": 200, "reopen": 200}
PACKETS = sum(PHASES.values())
# Seconds for one run of the client: ~0.5 s of guest time under QEMU, ~3 s under Bochs,
# but the machine is shared.
RUN_TIMEOUT = {"qemu": 120, "bochs": 900}
SELFTEST_TIMEOUT = {"qemu": 120, "bochs": 400}
VERDICT = r"vmbus: (?:echo ok|FAIL)[^\r\n]*\r*\n"




def fields(line):
    return dict(re.findall(r"([\w-]+)=(\S+)", line))


def diagnose(m, name):
    """What the console says about a partition whose client never finished: where its VP
    is (a halt with interrupts on that nothing wakes shows as a steady exit count and RIP)."""
    m.send(ESCAPE)
    out = [m.read_for(2)]
    for cmd in (f"info {name}", f"regs {name}", f"channels {name}", f"info {name}"):
        m.command(cmd)
        out.append(m.read_for(2 if m.backend == "qemu" else 6))
    return "console after the time-out:\n" + "".join(out)[-6000:]


def run_client(m, name, key, last):
    """Type key on name's serial port, stay attached until the client's verdict
    and then the line matching last, and come back. Returns the client's
    `vmbus: ` lines (the hypervisor's own `vmbus NAME: ` lines are not)."""
    m.command(f"console {name}", expect=f"attached to {name}")
    start = len(console_log(m))
    m.send(key)
    try:
        m.expect(VERDICT, timeout=RUN_TIMEOUT[m.backend])
    except AssertionError as e:
        raise AssertionError(f"{e}\n{diagnose(m, name)}") from None
    verdict = m.con.match.group(0)
    if "FAIL" not in verdict:
        m.expect(last, timeout=RUN_TIMEOUT[m.backend])
    m.send(ESCAPE)
    m.expect(f"detached from {name}")
    return re.findall(r"(?m)^(?:\[\S+\] )?vmbus: ([^\r\n]*)", console_log(m)[start:])


def line(lines, prefix):
    found = [l for l in lines if l.startswith(prefix)]
    assert len(found) == 1, (prefix, lines)
    return found[0]


def check_run(lines, offers):
    """The lines of one good run: every phase's figures as the protocol makes them."""
    assert not [l for l in lines if "FAIL" in l], lines
    v = fields(line(lines, "version "))
    assert line(lines, "version ").startswith("version 5.3 "), lines
    assert int(v["offers"]) == offers and int(v["relid"]) > 0, v
    opened = fields(line(lines, "open "))
    assert int(opened["bodies"]) >= 1, opened  # the ring GPADL needed a GPADL_BODY
    for name, count in PHASES.items():
        f = fields(line(lines, name + " packets="))
        assert int(f["packets"]) == count, (name, f)
        sent, back = (int(x) for x in f["wraps"].split("/"))
        assert sent + back > 0, (name, f)
    stream = fields(line(lines, "stream packets="))
    sent, back = (int(x) for x in stream["wraps"].split("/"))
    assert sent > 0 and back > 0, stream  # many packets through a small ring, both ways
    # Streaming with the receive ring's interrupt masked and many packets per signal.
    assert float(stream["spp"]) <= 0.05, stream
    gpa = fields(line(lines, "gpa-direct packets="))
    assert int(gpa["external"]) == PHASES["gpa-direct"] and int(gpa["truncated"]) > 0, gpa
    full = fields(line(lines, "full packets="))
    # The send ring filled, and every time the host signalled once room came back.
    assert int(full["full"]) > 0 and full["space_signals"] == full["full"], full
    assert line(lines, "bad messages ok "), lines
    # Answers queued beyond the SynIC slot all came, in order; so did the teardowns.
    flood = fields(line(lines, "flood "))
    assert int(flood["gpadls"]) >= int(flood["posted"]) >= 9, flood
    assert flood["torn_down"] == flood["gpadls"], flood
    # Packets the host must drop: none echoed (a completion for them is allowed).
    assert fields(line(lines, "bad packets ok "))["dropped"] == "7", lines
    # Closed with its GPADL's teardown pending, opened again over a new GPADL, the rings
    # going on from where they stopped.
    again = fields(line(lines, "reopen gpadl="))
    assert int(again["send_index"], 16) or int(again["recv_index"], 16), again
    ok = fields(line(lines, "echo ok "))
    assert int(ok["packets"]) == PACKETS, ok
    return int(v["relid"]), ok


def channel_line(m, name):
    m.command(f"channels {name}")
    return m.expect(rf"channel relid=(\d+) type={ECHO_TYPE} instance={ECHO_INSTANCE} "
                    r"state=(\S+) name=echo [^\r\n]*packets_in=(\d+) packets_out=(\d+)\r*\n")


@ALL_BACKENDS
@pytest.mark.timeout(1800)
def test_echo_client_drives_the_echo_vsp(machine_factory, backend):
    m = machine_factory(backend, guest_partition("alpha").replace("\n\n", "\nvmbus = echo\n\n")
                        + guest_partition("beta"))
    m.boot()
    m.expect_all([rf"\[{n}\] selftest: \d+ ok, 0 failed" for n in ("alpha", "beta")],
                 timeout=SELFTEST_TIMEOUT[backend])
    m.expect(r"\[beta\] tick 1", timeout=SELFTEST_TIMEOUT[backend])
    m.command("channels alpha", expect=r"vmbus partition=alpha version=none channels=1")

    # 'V': everything but the close; the channel stays open for the console to see.
    lines = run_client(m, "alpha", "V", r"vmbus: channel left open relid=\d+")
    relid, ok = check_run(lines, offers=1)
    ch = channel_line(m, "alpha")
    assert (int(ch.group(1)), ch.group(2)) == (relid, "open"), ch.group(0)
    assert int(ch.group(3)) == PACKETS, ch.group(0)  # every packet the guest sent
    # Echoes and completions, and nothing else.
    assert int(ch.group(4)) == PACKETS + int(ok["completions"]), ch.group(0)
    m.command("echo alpha")
    echo = fields(m.expect(r"echo partition=alpha [^\r\n]*\r*\n").group(0))
    assert echo["state"] == "open" and int(echo["packets"]) == PACKETS, echo
    assert echo["completions"] == ok["completions"] and echo["external"] == ok["external"], echo
    assert (echo["errors"], echo["dropped"]) == ("0", "0"), echo

    # 'v': from the start again (the host closes what the guest left open), then
    # close, teardown and unload, a refused version, a 4.1 reconnect.
    lines = run_client(m, "alpha", "v", r"vmbus: baseline memcpy [^\r\n]*\r*\n")
    assert relid == check_run(lines, offers=1)[0]
    assert line(lines, "broken ring ok ")  # a malformed packet stops the channel, no more
    assert line(lines, "close teardown unload ok")
    assert fields(line(lines, "reconnect "))["version"] == "4.1", lines
    assert int(fields(line(lines, "baseline memcpy "))["packets"]) == PHASES["stream"], lines
    m.command("channels alpha", expect=r"vmbus partition=alpha version=none channels=1")
    ch = channel_line(m, "alpha")
    assert ch.group(2) == "enabled" and int(ch.group(3)) == 2 * PACKETS, ch.group(0)

    # A partition without a VMBus: a clean refusal, and it runs on.
    lines = run_client(m, "beta", "v", None)
    assert lines and "FAIL" in lines[-1] and "status 0x12" in lines[-1], lines
    m.command("channels beta", expect=r"error: partition beta has no VMBus")

    # Both kept ticking through all of it.
    text = m.ticks_until({"alpha": 2, "beta": 2})
    assert len(ticks(text, "alpha")) >= 2 and len(ticks(text, "beta")) >= 2, text[-2000:]
    assert m.list_states() == {"alpha": "running", "beta": "running"}


@QEMU_ONLY
@pytest.mark.timeout(600)
def test_two_vmbus_partitions_and_the_ic_offers(machine_factory, backend):
    """Echo among the IC offers; two partitions with their own VMBus, one after the other,
    while a third ticks: each echo device counts only its own partition's packets."""
    cfg = (guest_partition("alpha").replace("\n\n", "\nvmbus = ic, echo\n\n")
           + guest_partition("gamma", rom=True).replace("\n\n", "\nvmbus = echo\n\n")
           + guest_partition("beta"))
    m = machine_factory(backend, cfg)
    m.boot()
    m.expect_all([rf"\[{n}\] selftest: \d+ ok, 0 failed" for n in ("alpha", "gamma", "beta")],
                 timeout=SELFTEST_TIMEOUT[backend])
    check_run(run_client(m, "alpha", "v", r"vmbus: baseline memcpy [^\r\n]*\r*\n"), offers=4)
    check_run(run_client(m, "gamma", "V", r"vmbus: channel left open relid=\d+"), offers=1)
    m.command("echo alpha", expect=rf"echo partition=alpha state=closed packets={PACKETS} ")
    m.command("echo gamma", expect=rf"echo partition=gamma state=open packets={PACKETS} ")
    m.command("channels alpha", expect=r"vmbus partition=alpha version=none channels=4")
    text = m.ticks_until({"alpha": 2, "gamma": 2, "beta": 2})
    assert all(len(ticks(text, n)) >= 2 for n in ("alpha", "gamma", "beta")), text[-2000:]
    assert m.list_states() == {"alpha": "running", "gamma": "running", "beta": "running"}
