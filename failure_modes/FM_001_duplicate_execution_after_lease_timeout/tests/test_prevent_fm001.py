"""FM_001 is prevented by the fenced policy: same schedules, one applied effect, stale attempts refused."""

from __future__ import annotations

import pytest

from ..scenario import SCENARIO

REFUSALS = {"commit_refused", "effect_refused"}


@pytest.mark.parametrize("variant", sorted(SCENARIO.variants))
def test_fenced_policy_applies_the_effect_exactly_once(variant, tmp_path):
    # Given the very schedule that duplicates the effect under naive
    # When it runs under the fenced policy
    run = SCENARIO.run("fenced", variant, tmp_path)
    # Then the outside world saw exactly one effect for the job
    assert len(run.effects(1)) == 1
    # And the job ends committed exactly once, by its current holder, with every invariant holding
    assert [e.event for e in run.history].count("committed") == 1
    assert run.jobs[0].state.value == "committed"
    assert run.drained and run.violations == []


@pytest.mark.parametrize("variant", ["expire", "slow", "pause"])
def test_the_stale_workers_attempt_is_refused_and_recorded(variant, tmp_path):
    run = SCENARIO.run("fenced", variant, tmp_path)
    refused = [e for e in run.history if e.event in REFUSALS]
    assert [(e.worker, e.token) for e in refused] == [("A", 1)]
    assert refused[0].detail["holder_token"] == 2 or refused[0].state == "committed"
    # A came back to the loop having abandoned the job
    assert any(t.worker == "A" and t.checkpoint == "abandoned" for t in run.trace)


def test_killed_worker_retry_is_answered_by_the_idempotency_key(tmp_path):
    # A applied the effect and died; B's retry must not charge again
    run = SCENARIO.run("fenced", "kill", tmp_path)
    outcomes = [(r.worker, r.outcome) for r in run.ledger]
    assert outcomes == [("A", "applied"), ("B", "duplicate")]
    committed = [e for e in run.history if e.event == "committed"]
    assert [(e.worker, e.token) for e in committed] == [("B", 2)]


def test_a_stale_commit_that_comes_first_is_refused(tmp_path):
    # Given A at after_effect with an expired lease, and B (token 2) at before_commit
    steps = SCENARIO.steps("expire")[:3] + [
        {"op": "run_until", "worker": "B", "checkpoint": "before_commit"},
        {"op": "run_until", "worker": "A", "checkpoint": "poll"},
        {"op": "run_until", "worker": "B", "checkpoint": "poll"},
    ]
    # When A tries to commit first, under fenced
    run = SCENARIO.run("fenced", steps=steps, workdir=tmp_path)
    # Then A's commit is refused and recorded, B commits, and INV_004 (and every other) holds
    refused = [e for e in run.history if e.event == "commit_refused"]
    assert [(e.worker, e.token, e.detail["holder"], e.detail["holder_token"]) for e in refused] == [("A", 1, "B", 2)]
    assert [(e.worker, e.token) for e in run.history if e.event == "committed"] == [("B", 2)]
    assert run.violations == []


def _fails_when_stale(lease):
    if lease.token == 1:
        raise RuntimeError("A's handler gives up")
    return {"amount": 100}


def test_a_stale_worker_cannot_requeue_a_job_another_worker_holds(tmp_path):
    # Given A paused before its effect, and B holding the job after A's lease expired
    steps = SCENARIO.steps("pause")[:4] + [{"op": "run_until", "worker": "B", "checkpoint": "before_commit"},
                                          {"op": "resume", "worker": "A"},
                                          {"op": "run_until", "worker": "A", "checkpoint": "poll"},
                                          {"op": "run_until", "worker": "B", "checkpoint": "poll"}]
    # When A's handler fails and the policy would put the job back
    run = SCENARIO.run("fenced", steps=steps, workdir=tmp_path, handlers={"charge": _fails_when_stale})
    # Then A's requeue is refused, B's lease stands and B commits
    assert [e.worker for e in run.history if e.event == "fail_refused"] == ["A"]
    assert [e.worker for e in run.history if e.event == "committed"] == ["B"]
    assert run.violations == []
