"""FM_008 reproduces: a commit torn in two transactions, killed between them, leaves state and history
disagreeing (INV_006)."""

from __future__ import annotations

from ..scenario import SCENARIO


def test_a_kill_between_the_two_transactions_tears_the_commit(tmp_path):
    run = SCENARIO.run("naive", "kill_mid_commit", tmp_path)
    # A was killed (SIGKILL) exactly between the job update and the history append
    (kill,) = [t for t in run.trace if t.op == "kill"]
    assert (kill.worker, kill.checkpoint, kill.detail["exitcode"]) == ("A", "commit_torn", -9)
    # the store says committed; the history never saw the commit
    assert run.jobs[0].state.value == "committed"
    assert "committed" not in [e.event for e in run.history]
    (v,) = run.violated("INV_006")
    assert "replays to 'leased'" in v.message
