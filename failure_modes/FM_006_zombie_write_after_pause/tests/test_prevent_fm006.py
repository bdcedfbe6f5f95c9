"""FM_006 is prevented when the outside world checks the fencing token itself (policy fenced)."""

from __future__ import annotations

from harness.search import explore_scenario

from ..scenario import SCENARIO


def test_the_downstream_refuses_the_stale_write(tmp_path):
    run = SCENARIO.run("fenced", "pause", tmp_path)
    assert [(r.worker, r.token, r.outcome) for r in run.ledger] == [("B", 2, "applied"), ("A", 1, "stale")]
    assert "token 2" in run.effects(1)[-1].body["value"]
    assert [e.worker for e in run.history if e.event == "effect_refused"] == ["A"]
    assert run.violations == []


def test_explorer_finds_fm006_and_nothing_under_fenced():
    def outcome(policy):
        return explore_scenario(SCENARIO, policy, faults={"clock", "pause"}, preemptions=2, max_schedules=2000)
    assert "INV_008" in {v.invariant for v in outcome("naive").failing[0].violations}
    clean = outcome("fenced")
    assert clean.exhausted and not clean.failing
