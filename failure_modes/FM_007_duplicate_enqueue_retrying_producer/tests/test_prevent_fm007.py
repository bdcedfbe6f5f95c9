"""FM_007 is prevented by dedup: the request id is the job's dedup key, unique in the store."""

from __future__ import annotations

from harness.search import explore_scenario

from ..scenario import SCENARIO


def test_the_retry_finds_the_first_job(tmp_path):
    run = SCENARIO.run("dedup", "kill_after_enqueue", tmp_path)
    assert [(j.id, j.dedup_key) for j in run.jobs] == [(1, "order-7")]
    assert len(run.effects()) == 1
    # the restarted producer journaled the first job's id as the result of its retry
    assert [(t.worker, t.checkpoint, t.job) for t in run.trace if t.checkpoint == "acked"] == [("P", "acked", 1)]
    assert run.violations == []


def test_explorer_finds_fm007_and_nothing_under_dedup():
    def outcome(policy):
        return explore_scenario(SCENARIO, policy, jobs=2, faults={"kill"}, preemptions=2, max_schedules=2000)
    assert "INV_009" in {v.invariant for v in outcome("naive").failing[0].violations}
    clean = outcome("dedup")
    assert clean.exhausted and not clean.failing
