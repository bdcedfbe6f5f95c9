"""FM_010 is prevented by store-clock: lease expiry is judged by the store's clock only."""

from __future__ import annotations

from harness.search import explore_scenario

from ..scenario import SCENARIO


def test_the_skewed_worker_sees_no_expired_lease(tmp_path):
    run = SCENARIO.run("store-clock", "fast_clock", tmp_path)
    assert [(e.worker, e.token) for e in run.history if e.event == "leased"] == [("A", 1)]
    assert [e.worker for e in run.effects(1)] == ["A"]
    assert run.violations == []


def test_explorer_finds_fm010_and_nothing_under_store_clock():
    def outcome(policy):
        return explore_scenario(SCENARIO, policy, jobs=2, faults={"clock"}, preemptions=2, max_schedules=2000)
    assert "INV_003" in {v.invariant for v in outcome("naive").failing[0].violations}
    clean = outcome("store-clock")
    assert clean.exhausted and not clean.failing
