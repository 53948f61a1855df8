"""The virtual switch as a user meets it before any NIC exists (docs/vswitch.md): the
switches a configuration makes, their `switch` and `firewall` commands and errors, and a
bad `[switch NAME]` section refused with its one line while the console still comes up.
NICs (netvsp) and traffic come with issue 12's next slice."""

import pytest

from conftest import BOOT_TIMEOUT, backends, guest_partition

QEMU_ONLY = pytest.mark.parametrize("backend", [b for b in backends() if b == "qemu"])
SWITCHES = "[switch lan]\nextensions = portstats, firewall\n\n[switch dmz]\nports = 2\n\n"


@QEMU_ONLY
@pytest.mark.timeout(300)
def test_switches_from_the_config_and_their_commands(machine_factory, backend):
    m = machine_factory(backend, guest_partition("alpha") + SWITCHES)
    m.boot()
    out = m.output("switch lan", "switch name=")
    assert out.strip() == "switch name=lan ports=0 extensions=portstats,firewall", out
    out = m.output("switch dmz", "switch name=")
    assert out.strip() == "switch name=dmz ports=0 extensions=", out
    m.command("switch wan", expect="error: no switch named 'wan'")
    m.command("switch", expect=r"error: usage: switch NAME")
    m.command("firewall dmz", expect=r"error: switch dmz has no firewall")
    m.command("firewall lan 0 clear", expect="error: switch lan has no port '0'")
    m.command("firewall lan 0 allow 00:15:5d:00:00:00",
              expect="error: switch lan has no port '0'")
    m.command("firewall lan 0 deny x", expect=r"error: usage: firewall SWITCH")
    assert m.list_states() == {"alpha": "running"}


@QEMU_ONLY
@pytest.mark.timeout(300)
def test_unknown_extension_is_reported_and_console_works(machine_factory, backend):
    cfg = guest_partition("alpha") + "[switch lan]\nextensions = portstats, nat\n"
    m = machine_factory(backend, cfg)
    m.expect(r"error: bulkhead.cfg:\d+: extensions: unknown extension 'nat' \(known: "
             r"portstats, firewall\); no partitions started", timeout=BOOT_TIMEOUT[backend])
    m.boot()
    m.command("list", expect="no partitions")
