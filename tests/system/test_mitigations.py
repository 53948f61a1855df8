"""Speculation mitigations a user sees (docs/security.md): the boot line that
says what is on, and the per-partition `mitigations = off` opt-out, on both
back ends."""

import pytest

from conftest import BOOT_TIMEOUT, backends, guest_partition, ticks

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
