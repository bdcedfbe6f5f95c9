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
