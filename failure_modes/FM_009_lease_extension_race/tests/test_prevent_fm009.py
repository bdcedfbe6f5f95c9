"""FM_009 is prevented by fenced-commit: extend only with the current token and only while unexpired."""

from __future__ import annotations

from harness.search import explore_scenario

from ..scenario import SCENARIO


def test_the_late_heartbeat_is_refused_and_the_worker_abandons(tmp_path):
    run = SCENARIO.run("fenced-commit", "late_heartbeat", tmp_path)
    refused = [e for e in run.history if e.event == "extend_refused"]
    assert [(e.worker, e.token, e.detail["holder"]) for e in refused] == [("A", 1, "B")]
    assert any(t.worker == "A" and t.checkpoint == "abandoned" for t in run.trace)
    assert [e.worker for e in run.effects(1)] == ["B"]
    assert run.violations == []


def test_explorer_finds_fm009_and_nothing_under_fenced_commit():
    def outcome(policy):
        return explore_scenario(SCENARIO, policy, faults={"clock"}, preemptions=2, max_schedules=2000)
    assert "INV_003" in {v.invariant for v in outcome("naive").failing[0].violations}
    clean = outcome("fenced-commit")
    assert clean.exhausted and not clean.failing
