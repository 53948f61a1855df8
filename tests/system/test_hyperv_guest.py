"""The Hyper-V synthetic interface as a guest sees it, on both back ends: the
test guest's boot self-checks exercise CPUID leaves, synthetic MSRs, the
hypercall page, hypercall errors, the reference TSC page, SynIC and synthetic
timers one check each (tests/guest/README.md), and a guest that reports a
crash through the crash MSRs gets it printed on the console while the other
partitions run on."""
import re

import pytest

from conftest import ESCAPE, backends, guest_partition, console_log, ticks

ALL_BACKENDS = pytest.mark.parametrize("backend", backends())

# Every boot self-check of the test guest, in the order it runs them.
CHECKS = ["cpuid", "hypercall", "msr",
          "hv-cpuid", "hv-guest-os-id", "hv-hypercall-page", "hv-vp-index", "hv-ref-count",
          "hv-tsc-page", "hv-frequencies", "hv-hypercall-errors", "hv-synic", "hv-stimer",
          "hv-crash"]
# What the guest's 'p' command writes to HV_X64_MSR_CRASH_P0..P4.
CRASH_PARAMS = [0x7e57c0de00000000 + n for n in range(5)]




@ALL_BACKENDS
@pytest.mark.timeout(600)
def test_guest_sees_the_hyperv_interface(machine_factory, backend):
    m = machine_factory(backend, guest_partition("alpha"))
    m.boot()
    summary = m.expect(r"\[alpha\] selftest: (\d+) ok, (\d+) failed", timeout=120)
    results = dict(re.findall(r"\[alpha\] check (\S+) ([^\r\n]*)", console_log(m)))
    wrong = {name: results.get(name, "(no line)") for name in CHECKS
             if results.get(name) != "ok"}
    assert not wrong, wrong
    assert (int(summary.group(1)), int(summary.group(2))) == (len(CHECKS), 0), summary.group(0)


@ALL_BACKENDS
@pytest.mark.timeout(600)
def test_guest_crash_report_is_printed_and_others_run_on(machine_factory, backend):
    m = machine_factory(backend, guest_partition("alpha") + guest_partition("beta"))
    m.boot()
    m.expect_all([rf"\[{name}\] tick 1" for name in ("alpha", "beta")], timeout=120)
    params = " ".join(f"P{n}=0x{v:x}" for n, v in enumerate(CRASH_PARAMS))
    m.command("console alpha", expect="attached to alpha")
    m.send("p")
    # Both before the detach: a guest line it fell into would be shown in two pieces
    # (the first raw, the rest as "[alpha] ..."), and match nothing.
    m.expect_all([re.escape(f"partition alpha crashed: {params}"), "crash: reported"],
                 timeout=120)
    m.send(ESCAPE)
    m.expect("detached from alpha")
    text = m.ticks_until({"beta": 2})
    assert len(ticks(text, "beta")) >= 2, text[-2000:]
    assert m.list_states()["beta"] == "running"
