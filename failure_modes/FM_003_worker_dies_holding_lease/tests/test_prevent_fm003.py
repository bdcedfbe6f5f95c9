"""FM_003 is prevented by reconcile: leases always expire and the sweep returns the orphaned job."""

from __future__ import annotations

import pytest

from harness.search import explore_scenario

from ..scenario import SCENARIO


@pytest.mark.parametrize("variant", sorted(SCENARIO.variants))
def test_the_orphaned_job_is_released_and_finished(variant, tmp_path):
    # Given the same at-most-once queue configuration and the same kill
    run = SCENARIO.run("reconcile", variant, tmp_path)
    # Then the history shows the reclaim, and B finishes the job once
    events = [(e.event, e.worker) for e in run.history]
    assert ("released", "B") in events
    released = next(e for e in run.history if e.event == "released")
    assert released.detail["orphaned_by"] == "A"
    assert [e.worker for e in run.effects(1)] == ["B"]
    assert run.drained and run.violations == []


def test_explorer_finds_fm003_from_scratch_and_nothing_under_reconcile():
    def outcome(policy):
        return explore_scenario(SCENARIO, policy, jobs=2, faults={"clock", "kill"}, preemptions=1, max_schedules=3000)
    found = outcome("naive")
    assert found.failing and "INV_002" in {v.invariant for v in found.failing[0].violations}
    clean = outcome("reconcile")
    assert clean.exhausted and not clean.failing
