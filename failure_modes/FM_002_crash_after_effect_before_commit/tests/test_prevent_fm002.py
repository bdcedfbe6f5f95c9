"""FM_002 is prevented by reconcile: the retry looks the key up, adopts A's effect and commits."""

from __future__ import annotations

import pytest

from harness.search import explore_scenario

from ..scenario import SCENARIO


@pytest.mark.parametrize("variant", sorted(SCENARIO.variants))
def test_reconcile_adopts_the_effect_of_the_dead_worker(variant, tmp_path):
    # Given the schedule that duplicates under naive and fenced
    run = SCENARIO.run("reconcile", variant, tmp_path)
    # Then one effect, by the dead A with token 1, adopted by the retry (token 2) through a lookup
    assert [(e.worker, e.token) for e in run.effects(1)] == [("A", 1)]
    lookups = [r for r in run.ledger if r.outcome == "lookup"]
    applied = run.effects(1)[0]
    assert [(r.token, r.body["found"]) for r in lookups] == [(1, None), (2, applied.seq)]
    assert [(e.event, e.token) for e in run.history if e.event == "committed"] == [("committed", 2)]
    assert run.violations == []


def test_explorer_finds_fm002_under_fenced_and_nothing_under_reconcile():
    def outcome(policy, preemptions):
        fixing = policy == "reconcile"
        return explore_scenario(SCENARIO, policy, jobs=2 if fixing else 1, preemptions=preemptions,
                                faults={"clock", "kill", "pause"} if fixing else {"clock", "kill"},
                                max_schedules=3000)
    found = outcome("fenced", preemptions=2)
    assert found.failing and "INV_001" in {v.invariant for v in found.failing[0].violations}
    clean = outcome("reconcile", preemptions=1)
    assert clean.exhausted and not clean.failing
