"""The explorer finds FM_001 from scratch, shrinks it soundly, and is deterministic for a seed."""

from __future__ import annotations

import pytest

from failure_modes.FM_001_duplicate_execution_after_lease_timeout.scenario import SCENARIO
from harness.explore import Bounds, Config, Explorer, jobs_of
from harness.search import explore
from harness.shrink import ddmin, shrink
from harness.trace import dumps
from runtime import BadInput

HAND_WRITTEN = min(len(steps) for steps in SCENARIO.variants.values())


def _config(policy="naive", faults=("clock",), jobs=1, preemptions=2):
    return Config(SCENARIO, policy, jobs_of(SCENARIO, jobs), frozenset(faults), Bounds(preemptions, 1, 30))


def test_naive_exploration_finds_inv001_from_scratch():
    # Given no schedule at all, only the scenario's workers and job under the naive policy
    # When the explorer searches depth first
    outcome = explore(_config(), "dfs", max_schedules=200)
    # Then it finds a schedule violating INV_001
    assert outcome.failing
    assert "INV_001" in {v.invariant for v in outcome.failing[0].violations}


def test_the_shrunk_schedule_still_fails_with_the_same_invariant_and_is_short():
    config = _config(faults=("clock", "kill", "pause"), jobs=2)
    with Explorer(config) as ex:
        failing = next(s for s in ex.random(seed=7) if s.failed)
        result = shrink(ex, failing, "INV_001")
        # soundness: run the shrunk steps again from scratch, on a fresh harness
        again = ex.run_steps(result.schedule.steps, result.workers)
    assert "INV_001" in {v.invariant for v in again.violations}
    assert len(result.schedule.steps) <= HAND_WRITTEN
    assert len(result.schedule.steps) < len(failing.steps)
    assert len(result.jobs) == 1


def test_random_exploration_is_deterministic_for_a_seed():
    def sample(seed):
        with Explorer(_config(faults=("clock", "kill", "pause"), jobs=2)) as ex:
            it = ex.random(seed=seed)
            return [(s.moves, dumps(s.trace)) for s in (next(it) for _ in range(15))]
    first = sample(11)
    assert sample(11) == first
    assert sample(12) != first


def test_dfs_is_exhaustive_and_reports_it():
    outcome = explore(_config(), "dfs", max_schedules=1000, stop_on_first=False)
    assert outcome.exhausted and outcome.schedules == 36
    assert "exhausted" in outcome.coverage() and "preemptions <= 2" in outcome.coverage()
    capped = explore(_config(), "dfs", max_schedules=10, stop_on_first=False)
    assert not capped.exhausted and "NOT exhausted" in capped.coverage()


def test_fenced_finds_nothing_within_the_bound_with_every_fault():
    # 2 workers, 2 jobs, clock + kill + pause; one preemption covers every FM_001 variant
    outcome = explore(_config("fenced", ("clock", "kill", "pause"), jobs=2, preemptions=1), "dfs",
                      max_schedules=5000)
    assert outcome.exhausted and not outcome.failing
    assert outcome.schedules > 100


def test_parallel_exploration_covers_the_same_schedules():
    serial = explore(_config(), "dfs", max_schedules=1000, stop_on_first=False)
    spread = explore(_config(), "dfs", max_schedules=1000, stop_on_first=False, parallel=2)
    assert (spread.schedules, spread.exhausted) == (serial.schedules, serial.exhausted)


def test_ddmin_finds_a_one_minimal_subsequence():
    assert ddmin(list(range(10)), lambda xs: 3 in xs and 7 in xs) == [3, 7]


@pytest.mark.parametrize("kwargs, message", [
    ({"strategy": "bfs"}, "unknown strategy"),
    ({"max_schedules": 0}, ">= 1"),
])
def test_bad_exploration_arguments(kwargs, message):
    with pytest.raises(BadInput, match=message):
        explore(_config(), **kwargs)


def test_unknown_fault_is_bad_input():
    with pytest.raises(BadInput, match="unknown fault 'teleport'"):
        _config(faults=("teleport",))
