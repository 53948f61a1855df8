"""Networking between partitions as a user meets it (docs/netvsp.md, docs/vswitch.md):
three stock Linux guests with Debian's hv_netvsc, two on `[switch lan]` (portstats and
firewall) and one on `[switch dmz]`. The two on lan ping each other without loss and move
16 MiB over TCP with matching checksums; the one on dmz cannot reach them; `switch lan`
counts what the guests say they sent; a firewall rule cuts a neighbour off and clearing it
lets it through again; a snapshot taken during a transfer restores with the NIC's session
and its port's rule and counters (the firewall's restore through PENDING), and the guest
carries on. One boot of the three serves every check (Linux boots are slow
under emulation): the steps are printed as they go."""
import os
import re

import pytest

from conftest import BUILD, ESCAPE, backends, linux_partition, linux_shell

# Three Linux guests share one emulated CPU: QEMU in CI, Bochs when asked (LINUX_BACKENDS).
LINUX_BACKENDS = [b for b in os.environ.get("LINUX_BACKENDS", "qemu").split(",")
                  if b in backends()]
BOOT_TIMEOUT = {"qemu": 900, "bochs": 3600}
STEP_TIMEOUT = {"qemu": 600, "bochs": 3600}
# partition -> (switch, address); default MACs 00:15:5d:00:PP:00 (PP: partition index)
GUESTS = {"alpha": ("lan", "10.0.0.1"), "beta": ("lan", "10.0.0.2"),
          "gamma": ("dmz", "10.0.0.3")}
MAC = {"alpha": "00:15:5d:00:00:00", "beta": "00:15:5d:00:01:00", "gamma": "00:15:5d:00:02:00"}
PORT_LINE = re.compile(r"port id=(\d+) partition=(\S+) nic=0 mac=(\S+) state=(\S+) "
                       r"rx_packets=(\d+) tx_packets=(\d+) rx_bytes=(\d+) tx_bytes=(\d+) "
                       r"drops=(\d+)")

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(BUILD, "linux", "vmlinux")),
                                reason="build/linux/vmlinux not built (make guests)")


def step(text):
    print(f"network: {text}", flush=True)


def config():
    cfg = ""
    for name, (switch, _) in GUESTS.items():
        cfg += linux_partition(name, memory="192M").rstrip("\n") + f"\nnic = {switch}\n\n"
    return cfg + "[switch lan]\nextensions = portstats, firewall\n\n[switch dmz]\n"


class Guests:
    """The machine, and a shell in whichever guest the console is attached to."""

    def __init__(self, m, backend):
        self.m, self.backend, self.attached = m, backend, None

    def sh(self, name, command, timeout=None):
        if self.attached != name:
            if self.attached:
                self.m.send(ESCAPE)
                self.m.expect(f"detached from {self.attached}")
            self.m.command(f"console {name}", expect=f"attached to {name}")
            self.attached = name
        return linux_shell(self.m, command, timeout or STEP_TIMEOUT[self.backend])

    def detach(self):
        if self.attached:
            self.m.send(ESCAPE)
            self.m.expect(f"detached from {self.attached}")
            self.attached = None

    def host(self, line, first):
        self.detach()
        return self.m.output(line, first)

    def host_quiet(self, line):
        """A console command that prints nothing when it works; `switch lan` after it shows
        the console took it (its output is matched, never a prompt left from before)."""
        self.detach()
        self.m.send(line + "\r")
        self.m.output("switch lan", "switch name=lan")

    def ports(self, switch):
        out = self.host(f"switch {switch}", f"switch name={switch}")
        return {p[1]: {"id": int(p[0]), "mac": p[2], "state": p[3], "rx": int(p[4]),
                       "tx": int(p[5]), "rx_bytes": int(p[6]), "tx_bytes": int(p[7]),
                       "drops": int(p[8])}
                for p in PORT_LINE.findall(out)}

    def stat(self, name, counter):
        out = self.sh(name, f"cat /sys/class/net/eth0/statistics/{counter}")
        return int(re.search(r"(\d+)", out).group(1))

    def ping(self, name, address, count):
        """busybox ping's summary: (transmitted, received). A neighbour that never
        answered ARP may end it early with "Host is unreachable": nothing received."""
        out = self.sh(name, f"ping -c {count} -i 0.2 -W 5 {address}")
        found = re.search(r"(\d+) packets transmitted, (\d+) packets received", out)
        if not found:
            assert re.search(r"unreachable", out, re.I), out
            return None, 0
        return int(found.group(1)), int(found.group(2))


@pytest.fixture(scope="module")
def net(request):
    backend = request.param
    from conftest import Machine
    m = Machine(backend, config(), mem="1536M")
    try:
        m.expect_all([f"partition {n} started: 192 MiB" for n in GUESTS], timeout=300)
        m.boot()
        m.expect_all([rf"\[{n}\] bulkhead-linux: init ready" for n in GUESTS],
                     timeout=BOOT_TIMEOUT[backend])
        step("three Linux guests booted")
        g = Guests(m, backend)
        for name, (_, address) in GUESTS.items():
            out = g.sh(name, "modprobe hv_vmbus && modprobe hv_netvsc && "
                       "until [ -e /sys/class/net/eth0 ]; do sleep 1; done && "
                       f"ip addr add {address}/24 dev eth0 && ip link set eth0 up && "
                       "until [ \"$(cat /sys/class/net/eth0/operstate)\" = up ]; do sleep 1; "
                       "done && cat /sys/class/net/eth0/address")
            assert MAC[name] in out, out
            step(f"{name}: eth0 up as {address} ({MAC[name]})")
        yield g
    finally:
        m.close()


BACKENDS = pytest.mark.parametrize("net", LINUX_BACKENDS, indirect=True)


@BACKENDS
@pytest.mark.timeout(3600)
def test_ping_both_ways_without_loss(net):
    assert net.ping("alpha", "10.0.0.2", 100) == (100, 100)
    step("alpha -> beta: 100 of 100")
    assert net.ping("beta", "10.0.0.1", 100) == (100, 100)
    step("beta -> alpha: 100 of 100")
    ports = net.ports("lan")
    assert ports["alpha"]["state"] == "up" and ports["beta"]["state"] == "up", ports
    assert ports["alpha"]["tx"] >= 200 and ports["beta"]["tx"] >= 200, ports


@BACKENDS
@pytest.mark.timeout(3600)
def test_tcp_transfer_checksums_match(net):
    out = net.sh("beta", "dd if=/dev/urandom of=/tmp/f bs=1M count=16 2>/dev/null && "
                 "md5sum /tmp/f && printf '#!/bin/sh\\ncat /tmp/f\\n' >/tmp/serve && "
                 "chmod +x /tmp/serve && (nc -l -p 5000 -e /tmp/serve &) && echo serving")
    sent = re.search(r"([0-9a-f]{32})  /tmp/f", out).group(1)
    assert "serving" in out, out
    before = net.ports("lan")
    out = net.sh("alpha", "nc 10.0.0.2 5000 >/tmp/r; wc -c </tmp/r; md5sum /tmp/r")
    size = int(re.search(r"^\s*(\d+)\s*$", out, re.M).group(1))
    got = re.search(r"([0-9a-f]{32})  /tmp/r", out).group(1)
    assert size == 16 << 20, out
    assert got == sent, (got, sent)
    after = net.ports("lan")
    moved = after["beta"]["tx_bytes"] - before["beta"]["tx_bytes"]
    assert moved >= 16 << 20, (before, after)
    step(f"16 MiB beta -> alpha over TCP, md5 {got} at both ends; "
         f"beta's port sent {moved} bytes in {after['beta']['tx'] - before['beta']['tx']} frames")


@BACKENDS
@pytest.mark.timeout(3600)
def test_other_switch_is_unreachable(net):
    assert net.ping("gamma", "10.0.0.1", 5)[1] == 0
    assert net.ping("gamma", "10.0.0.2", 5)[1] == 0
    lan = net.ports("lan")
    assert "gamma" not in lan, lan
    dmz = net.ports("dmz")
    assert set(dmz) == {"gamma"} and dmz["gamma"]["tx"] > 0, dmz  # it did send (ARP)
    step("gamma on dmz: 100% loss to both, its ARP stayed on dmz")


@BACKENDS
@pytest.mark.timeout(3600)
def test_switch_counters_match_the_guests(net):
    # Quiet first: what each guest says it sent is what its port took (nothing refused).
    ports = net.ports("lan")
    for name in ("alpha", "beta"):
        tx = net.stat(name, "tx_packets")
        rx = net.stat(name, "rx_packets")
        ports = net.ports("lan")
        port = ports[name]
        # A guest's background frames (IPv6 neighbour discovery) may fall between readings.
        assert tx - 8 <= port["tx"] <= tx + 8, (name, tx, port)
        assert rx - 8 <= port["rx"] <= rx + 8, (name, rx, port)
        step(f"{name}: guest tx={tx} rx={rx}, port tx={port['tx']} rx={port['rx']}")


@BACKENDS
@pytest.mark.timeout(3600)
def test_firewall_blocks_and_clears(net):
    alpha = net.ports("lan")["alpha"]["id"]
    net.host_quiet(f"firewall lan {alpha} allow 02:00:00:00:00:99")
    out = net.host("firewall lan", "rule switch=lan")
    assert f"rule switch=lan port={alpha} allow=02:00:00:00:00:99" in out, out
    drops = net.ports("lan")["alpha"]["drops"]
    assert net.ping("beta", "10.0.0.1", 5)[1] == 0
    assert net.ports("lan")["alpha"]["drops"] >= drops + 5
    step("firewall: alpha accepts only 02:00:00:00:00:99, beta's pings are dropped")
    net.host_quiet(f"firewall lan {alpha} clear")
    assert net.ping("beta", "10.0.0.1", 5) == (5, 5)
    step("firewall cleared: beta reaches alpha again")


@BACKENDS
@pytest.mark.timeout(3600)
def test_snapshot_and_restore_during_a_transfer(net):
    alpha = net.ports("lan")["alpha"]["id"]
    # The snapshot's port state: a firewall rule letting only beta in, and its counters.
    net.host_quiet(f"firewall lan {alpha} allow {MAC['beta']}")
    out = net.sh("beta", "dd if=/dev/urandom of=/tmp/h bs=1M count=16 2>/dev/null && "
                 "printf '#!/bin/sh\\ncat /tmp/h\\n' >/tmp/serve3 && chmod +x /tmp/serve3 && "
                 "(nc -l -p 5002 -e /tmp/serve3 &) && echo serving")
    assert "serving" in out, out
    # A transfer into alpha runs (the guest says it has its first MiB) while the snapshot
    # is taken: receive sections are out, frames wait in the switch.
    net.sh("alpha", "(nc 10.0.0.2 5002 >/tmp/bgr 2>/dev/null &); "
           "until [ $(wc -c </tmp/bgr) -ge 1048576 ]; do sleep 0.1; done; echo running")
    # The counters just before the snapshot: the snapshot's are these or a little more.
    at_snapshot = net.ports("lan")["alpha"]
    m = net.m
    m.command("snapshot alpha", expect=r"snapshot partition=alpha slot=(\d+) pages=\d+ "
              r"state=running ms=\d+\r*\n", timeout=STEP_TIMEOUT[net.backend])
    nic = net.host("nic alpha", "nic partition=alpha")
    step(f"snapshot of alpha during a 16 MiB transfer: port tx={at_snapshot['tx']} "
         f"rx={at_snapshot['rx']}; {nic.split('rx_sections=')[1].split(' rx_packets')[0]}")
    # Afterwards the rule goes and traffic moves the counters on.
    net.host_quiet(f"firewall lan {alpha} clear")
    assert net.ping("beta", "10.0.0.1", 20) == (20, 20)
    net.sh("alpha", "until [ $(wc -c </tmp/bgr) -ge 16777216 ]; do sleep 0.2; done; echo all")
    before_restore = net.ports("lan")["alpha"]
    assert before_restore["rx"] >= at_snapshot["rx"] + 20, (at_snapshot, before_restore)
    net.detach()
    # The port takes the snapshot's runtime state back: the firewall's restore answers
    # PENDING (the port is `restoring`) and completes on the switch's next pass.
    m.send("restore alpha\r")
    m.expect(rf"vswitch: switch lan port {alpha}: restoring, 1 extension pending",
             timeout=STEP_TIMEOUT[net.backend])
    m.expect_all([r"restored partition=alpha slot=\d+ pages=\d+ copied=\d+ state=running",
                  rf"vswitch: switch lan port {alpha}: runtime state restored "
                  r"\(status 0x00000000\)"], timeout=STEP_TIMEOUT[net.backend])
    rules = net.host("firewall lan", "rule switch=lan")
    assert f"rule switch=lan port={alpha} allow={MAC['beta']}" in rules, rules
    after = net.ports("lan")["alpha"]
    assert after["state"] == "up", after
    assert at_snapshot["rx"] <= after["rx"] < before_restore["rx"], (at_snapshot, after,
                                                                   before_restore)
    step(f"restored alpha: PENDING then restored, rule back, port rx={after['rx']} "
         f"(snapshot {at_snapshot['rx']}, before the restore {before_restore['rx']})")
    out = net.host("nic alpha", "nic partition=alpha")
    assert "state=open nvsp=0x60001 rndis=up" in out, out
    # The restored guest carries on: its NIC was never negotiated again.
    assert net.ping("alpha", "10.0.0.2", 20) == (20, 20)
    assert net.ping("beta", "10.0.0.1", 20) == (20, 20)
    out = net.sh("beta", "dd if=/dev/urandom of=/tmp/g bs=1M count=4 2>/dev/null && "
                 "md5sum /tmp/g && printf '#!/bin/sh\\ncat /tmp/g\\n' >/tmp/serve2 && "
                 "chmod +x /tmp/serve2 && (nc -l -p 5001 -e /tmp/serve2 &) && echo serving")
    sent = re.search(r"([0-9a-f]{32})  /tmp/g", out).group(1)
    out = net.sh("alpha", "nc 10.0.0.2 5001 >/tmp/r2; md5sum /tmp/r2")
    assert re.search(r"([0-9a-f]{32})  /tmp/r2", out).group(1) == sent, out
    net.host_quiet(f"firewall lan {alpha} clear")
    step("after the restore: 20 pings each way and a new 4 MiB TCP transfer, md5 matching")
