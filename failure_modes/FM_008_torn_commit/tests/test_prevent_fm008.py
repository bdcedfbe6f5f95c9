"""FM_008 is prevented by the single-transaction commit: kill anywhere in the commit path, including
inside the open transaction, and state and history still agree."""

from __future__ import annotations

import sqlite3

import pytest

from harness.search import explore_scenario

from ..scenario import SCENARIO, TTL

COMMIT_PATH = ["before_commit", "commit_open", "committed"]


@pytest.mark.parametrize("checkpoint", COMMIT_PATH)
def test_state_and_history_agree_after_a_kill_anywhere_in_the_commit(checkpoint, tmp_path):
    steps = [SCENARIO.steps()[0], {"op": "run_until", "worker": "A", "checkpoint": checkpoint},
             {"op": "kill", "worker": "A"}, {"op": "advance", "seconds": TTL + 1}, {"op": "drain"}]
    run = SCENARIO.run("atomic", steps=steps, workdir=tmp_path, drain=False)
    assert run.violated("INV_006") == []
    assert run.jobs[0].state.value == "committed"
    assert [e.event for e in run.history].count("committed") == 1
    conn = sqlite3.connect(tmp_path / "queue.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_a_kill_inside_the_open_transaction_rolls_the_commit_back(tmp_path):
    steps = [SCENARIO.steps()[0], {"op": "run_until", "worker": "A", "checkpoint": "commit_open"},
             {"op": "kill", "worker": "A"}]
    run = SCENARIO.run("atomic", steps=steps, workdir=tmp_path, drain=False)
    assert [(j.state.value, j.lease_owner) for j in run.jobs] == [("leased", "A")]
    assert [e.event for e in run.history] == ["enqueued", "leased"]


def test_the_harness_refuses_to_release_another_worker_while_one_holds_the_write_lock(tmp_path):
    from runtime import HarnessError
    with SCENARIO.harness(tmp_path, "atomic") as h:
        h.enqueue("charge", {"amount": 1})
        h.run_until("A", "commit_open")
        with pytest.raises(HarnessError, match="A holds the store's write lock"):
            h.step("B")
        h.step("A")
        h.step("B")


def test_explorer_finds_fm008_and_nothing_under_atomic():
    def outcome(policy):
        return explore_scenario(SCENARIO, policy, faults={"clock", "kill"}, preemptions=2, max_schedules=2000)
    assert "INV_006" in {v.invariant for v in outcome("naive").failing[0].violations}
    clean = outcome("atomic")
    assert clean.exhausted and not clean.failing
