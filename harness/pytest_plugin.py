"""pytest plugin (entry point ``pytest11``): the ``harness`` and ``make_harness`` fixtures.

    def test_duplicate(harness):                      # two workers, naive, ttl 30
        job = harness.enqueue("charge", {"amount": 100})
        harness.run_until("A", "after_effect")
        ...

    @pytest.mark.harness(policy="fenced", workers=("A", "B", "C"))
    def test_fenced(harness): ...

    def test_two_runs(make_harness):                   # several harnesses in one test
        with make_harness(policy="naive") as h: ...

Every harness made here lives under ``tmp_path`` and is closed (its worker
processes SIGKILLed and reaped) in teardown, whatever the test did.
"""

from __future__ import annotations

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "harness(**kwargs): options for the harness fixture "
                                       "(workers, policy, lease_ttl, handlers, start_method, ...)")


@pytest.fixture
def make_harness(tmp_path):
    from .harness import Harness

    made = []

    def make(**kwargs):
        workdir = kwargs.pop("workdir", None) or tmp_path / f"run{len(made) + 1}"
        h = Harness(workdir, **kwargs)
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


@pytest.fixture
def harness(request, make_harness):
    marker = request.node.get_closest_marker("harness")
    return make_harness(**(marker.kwargs if marker else {}))
