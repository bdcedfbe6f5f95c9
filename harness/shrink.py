"""Shrinking: reduce a failing schedule to a minimal one that still violates the same invariant.

Soundness: every candidate is *run* on real processes and kept only if it
still violates the target invariant; the result is the last candidate that
did. So the shrunk schedule fails by construction, with the same invariant.

Passes, repeated until none makes progress:
1. delta debugging (ddmin) over the explorer's moves;
2. fewer jobs (drop one enqueue at a time);
3. fewer workers (drop a worker that has no move left);
4. smaller clock jumps (each ``advance`` step is cut to the smallest whole
   second that still fails, by bisection over the replayed harness steps).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

from .explore import Explorer, Move, Schedule

T = TypeVar("T")


@dataclass
class Shrunk:
    schedule: Schedule
    workers: tuple[str, ...]
    jobs: list[dict[str, Any]]
    runs: int
    invariant: str


def ddmin(items: Sequence[T], fails: Callable[[list[T]], bool]) -> list[T]:
    """Zeller's ddmin: a 1-minimal sub-sequence of ``items`` for which ``fails`` holds."""
    items = list(items)
    n = 2
    while len(items) >= 2:
        chunk = max(1, len(items) // n)
        subsets = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        progressed = False
        for i in range(len(subsets)):
            complement = [x for j, s in enumerate(subsets) if j != i for x in s]
            if fails(complement):
                items, n, progressed = complement, max(n - 1, 2), True
                break
        if not progressed:
            if n >= len(items):
                break
            n = min(len(items), n * 2)
    if len(items) == 1 and fails([]):
        return []
    return items


def shrink(explorer: Explorer, failing: Schedule, invariant: str | None = None) -> Shrunk:
    """Minimise ``failing`` (found by ``explorer``) keeping a violation of ``invariant``."""
    target = invariant or failing.violations[0].invariant
    cfg = explorer.config
    state = {"runs": 0, "best": failing, "workers": cfg.workers, "jobs": list(cfg.jobs)}

    def attempt(moves: Sequence[Move], jobs=None, workers=None) -> Schedule | None:
        jobs = state["jobs"] if jobs is None else jobs
        workers = state["workers"] if workers is None else workers
        known = tuple(workers) + tuple(cfg.scenario.producers)
        if any(m[1] is not None and m[1] not in known for m in moves):
            return None
        state["runs"] += 1
        s = explorer.replay_moves(moves, jobs=jobs, workers=workers, lenient=True)
        if s is not None and any(v.invariant == target for v in s.violations):
            return s
        return None

    def fails(moves: list[Move]) -> bool:
        s = attempt(moves)
        if s is not None and len(s.moves) <= len(state["best"].moves):
            state["best"] = s
        return s is not None

    progress = True
    while progress:
        progress = False
        before = (len(state["best"].moves), len(state["jobs"]), len(state["workers"]))
        ddmin(state["best"].moves, fails)
        for i in range(len(state["jobs"]) - 1, -1, -1):  # fewer jobs
            if len(state["jobs"]) == 1:
                break
            fewer = state["jobs"][:i] + state["jobs"][i + 1:]
            moves = state["best"].moves
            # the moves as they are, or only one worker's share of them (another worker's moves
            # may have needed the dropped job)
            for candidate in [moves] + [[m for m in moves if m[1] in (w, None)] for w in state["workers"]]:
                s = attempt(candidate, jobs=fewer)
                if s is not None:
                    state["jobs"], state["best"] = fewer, s
                    break
        used = {m[1] for m in state["best"].moves if m[1] is not None}
        for w in list(state["workers"]):  # fewer workers
            if w not in used and len(state["workers"]) > 1:
                fewer_w = tuple(x for x in state["workers"] if x != w)
                s = attempt(state["best"].moves, workers=fewer_w)
                if s is not None:
                    state["workers"], state["best"] = fewer_w, s
        progress = (len(state["best"].moves), len(state["jobs"]), len(state["workers"])) < before
    best = _smaller_clock_jumps(explorer, state["best"], state["workers"], target, state)
    return Shrunk(best, tuple(state["workers"]), state["jobs"], state["runs"], target)


def _smaller_clock_jumps(explorer: Explorer, best: Schedule, workers: Sequence[str], target: str,
                         state: dict) -> Schedule:
    steps = [dict(s) for s in best.steps]
    for i, step in enumerate(steps):
        if step["op"] != "advance" or step["seconds"] <= 1:
            continue
        lo, hi = 0, int(step["seconds"]) if float(step["seconds"]).is_integer() else int(step["seconds"]) + 1
        found = None
        while lo < hi:  # smallest whole second that still fails
            mid = (lo + hi) // 2
            trial = steps[:i] + [{**step, "seconds": mid}] + steps[i + 1:]
            state["runs"] += 1
            s = explorer.run_steps(trial, workers)
            if s is not None and any(v.invariant == target for v in s.violations):
                hi, found = mid, s
            else:
                lo = mid + 1
        if found is not None and found.steps[i]["seconds"] < step["seconds"]:
            steps, best = found.steps, found
    return best
