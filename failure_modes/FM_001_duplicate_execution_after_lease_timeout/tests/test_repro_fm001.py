"""FM_001 reproduces under the naive policy: one logical job, two applied effects (INV_001)."""

from __future__ import annotations

import pytest

from ..scenario import SCENARIO


@pytest.mark.parametrize("variant", sorted(SCENARIO.variants))
def test_naive_policy_applies_the_effect_twice(variant, tmp_path):
    # Given one charge job, two workers, a 30 s lease, and the naive policy
    # When A's lease expires while A is still working (the variant says how) and B retries
    run = SCENARIO.run("naive", variant, tmp_path)
    # Then the outside world was charged twice for one job: by A (token 1) and by B (token 2)
    assert [(e.worker, e.token) for e in run.effects(1)] in ([("A", 1), ("B", 2)], [("B", 2), ("A", 1)])
    # And the INV_001 check reports it, naming the job and both workers
    (violation,) = run.violated("INV_001")
    assert violation.job == 1
    assert sorted(violation.workers) == ["A", "B"]
    assert "applied 2 times" in violation.message


def test_naive_stale_commit_is_not_refused_when_it_comes_first(tmp_path):
    # Given A at after_effect with an expired lease, and B's effect applied under token 2
    steps = SCENARIO.steps("expire")[:3] + [
        {"op": "run_until", "worker": "B", "checkpoint": "before_commit"},
        {"op": "run_until", "worker": "A", "checkpoint": "committed"},
        {"op": "run_until", "worker": "B", "checkpoint": "poll"},
    ]
    # When A commits first with its stale token
    run = SCENARIO.run("naive", steps=steps, workdir=tmp_path)
    # Then the naive commit accepts it (INV_004) on top of the duplicate effect (INV_001)
    assert {v.invariant for v in run.violations} == {"INV_001", "INV_004"}
    (v,) = run.violated("INV_004")
    assert "committed by A (token 1)" in v.message and "B (token 2) held its lease" in v.message
