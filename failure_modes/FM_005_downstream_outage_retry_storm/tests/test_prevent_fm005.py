"""FM_005 is prevented by circuit_breaker: calls during the outage stay within a bound independent of jobs."""

from __future__ import annotations

import pytest

from harness.search import explore_scenario
from policies.circuit_breaker import COOLDOWN, THRESHOLD, bound

from ..scenario import JOBS, OUTAGE, SCENARIO


@pytest.mark.parametrize("jobs", [2, 4, 8])
def test_calls_during_the_outage_are_bounded_whatever_the_job_count(jobs, tmp_path):
    steps = [JOBS[0] | {"payload": {"amount": n}} for n in range(jobs)] + [{"op": "drain"}]
    run = SCENARIO.run("circuit_breaker", steps=steps, workdir=tmp_path, drain=False)
    calls = [r for r in run.ledger if OUTAGE[0] <= r.at < OUTAGE[1]]
    assert len(calls) <= bound(OUTAGE[1] - OUTAGE[0]) == THRESHOLD + 4
    # and once the outage is over, every job is done exactly once
    assert run.drained and run.violations == []
    assert len(run.effects()) == jobs


def test_the_breaker_opens_probes_after_the_cooldown_and_closes(tmp_path):
    run = SCENARIO.run("circuit_breaker", "storm", tmp_path)
    unavailable = [r.at for r in run.ledger if r.outcome == "unavailable"]
    assert unavailable[:THRESHOLD] == [0.0] * THRESHOLD            # closed: the first failures
    assert unavailable[THRESHOLD:] == [COOLDOWN * k for k in range(1, len(unavailable) - THRESHOLD + 1)]
    first_success = min(r.at for r in run.ledger if r.applied)
    assert first_success >= OUTAGE[1]


def test_explorer_finds_fm005_and_nothing_under_the_breaker():
    def outcome(policy):
        return explore_scenario(SCENARIO, policy, jobs=2, faults={"clock"}, preemptions=1, max_schedules=300)
    found = outcome("naive")
    assert found.failing and "INV_007" in {v.invariant for v in found.failing[0].violations}
    clean = outcome("circuit_breaker")
    assert not clean.failing and clean.schedules >= 50
