"""FM_004 is prevented by budget: bounded attempts, a dead letter with the last error, backoff, a global bucket."""

from __future__ import annotations

from harness.search import explore_scenario
from policies.budget import BUDGET_CAPACITY, BUDGET_RATE, MAX_ATTEMPTS

from ..scenario import SCENARIO


def test_poison_jobs_are_dead_lettered_and_the_healthy_job_runs(tmp_path):
    run = SCENARIO.run("budget", "starve", tmp_path)
    assert run.drained and run.violations == []
    states = {j.id: (j.state.value, j.attempts) for j in run.jobs}
    assert states == {1: ("dead", MAX_ATTEMPTS), 2: ("dead", MAX_ATTEMPTS), 3: ("committed", 1)}
    assert all("poison" in j.last_error for j in run.jobs if j.state.value == "dead")
    # the healthy job ran before the poison jobs had used their attempts
    leases = [e.job_id for e in run.history if e.event == "leased"]
    assert leases.index(3) < 4


def test_retries_back_off_exponentially_on_the_controlled_clock(tmp_path):
    run = SCENARIO.run("budget", "starve", tmp_path)
    fails = [e for e in run.history if e.event == "failed" and e.job_id == 1]
    assert [f.detail["backoff"] for f in fails] == [1.0, 2.0, 4.0, 8.0]
    assert all(f.detail["retry_at"] >= f.at + f.detail["backoff"] for f in fails)


def test_the_global_budget_bounds_retries_over_any_window(tmp_path):
    run = SCENARIO.run("budget", "starve", tmp_path)
    retries = [e for e in run.history if e.event == "failed"]
    elapsed = run.history[-1].at - run.history[0].at
    assert len(retries) <= BUDGET_CAPACITY + BUDGET_RATE * elapsed


def test_explorer_finds_fm004_and_nothing_under_budget_even_with_kills():
    def outcome(policy, faults):
        return explore_scenario(SCENARIO, policy, faults=faults, preemptions=1, max_schedules=400)
    found = outcome("naive", {"clock"})
    assert found.failing and "INV_005" in {v.invariant for v in found.failing[0].violations}
    clean = outcome("budget", {"clock", "kill"})
    assert not clean.failing and clean.schedules >= 50
