"""FM_007 reproduces: a producer killed after its enqueue retries it, and one request runs twice (INV_009)."""

from __future__ import annotations

from ..scenario import SCENARIO


def test_the_retried_request_becomes_a_second_job_and_runs_twice(tmp_path):
    # Given producer P, killed (SIGKILL) after its enqueue committed and before it journaled the success
    # When P is restarted and retries what it cannot prove it sent
    run = SCENARIO.run("naive", "kill_after_enqueue", tmp_path)
    # Then request order-7 exists as two jobs, and the outside world was charged twice for it
    enqueued = [(e.job_id, e.detail["request"]) for e in run.history if e.event == "enqueued"]
    assert enqueued == [(1, "order-7"), (2, "order-7")]
    assert len(run.effects()) == 2
    (v,) = run.violated("INV_009")
    assert "enqueued 2 times" in v.message
    assert any(t.op == "kill" and t.worker == "P" and t.detail["exitcode"] == -9 for t in run.trace)
