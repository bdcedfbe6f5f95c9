"""Black-box exploration: schedules over an adapter's queue, shrinking, and replay of saved steps.

Each schedule runs on fresh processes and a fresh copy of the queue under
test (``harness.blackbox.BlackBox``); a move lets one worker run one gate (a
SQL statement or a report) or kills a worker. Depth-first with a preemption
bound, or seeded random. Shrinking is ddmin over moves, then fewer jobs and
workers; every candidate is run and kept only if it still violates the same
invariant.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from runtime import BadInput, Violation

from .blackbox import BLACKBOX_INVARIANTS, BlackBox
from .explore import depth_first, replaying
from .trace import TraceEvent

Move = tuple[str, str]


@dataclass
class BBSchedule:
    moves: list[Move]
    enabled: list[list[Move]]
    steps: list[dict[str, Any]]
    trace: list[TraceEvent]
    violations: list[Violation]
    workers: tuple[str, ...] = ()
    jobs: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.violations)


@dataclass
class BBConfig:
    adapter: str
    workers: tuple[str, ...] = ("A", "B")
    jobs: tuple[str, ...] = ("j1", "j2")
    faults: frozenset[str] = frozenset({"kill"})
    preemptions: int = 2
    max_faults: int = 1
    depth: int = 60
    invariants: frozenset[str] = frozenset()  # only these count (empty: all)

    def judge(self, violations: list[Violation]) -> list[Violation]:
        return [v for v in violations if not self.invariants or v.invariant in self.invariants]

    def __post_init__(self) -> None:
        unknown = set(self.invariants) - set(BLACKBOX_INVARIANTS)
        if unknown:
            raise BadInput(f"unknown black-box invariant {sorted(unknown)[0]!r}; they are "
                           f"{', '.join(BLACKBOX_INVARIANTS)}")
        if set(self.faults) - {"kill"}:
            raise BadInput(f"black-box faults are: kill (got {','.join(sorted(self.faults))})")
        if not self.workers or not self.jobs:
            raise BadInput("black-box exploration needs at least one worker and one job")

    def bound(self) -> str:
        return (f"workers {','.join(self.workers)}, jobs {len(self.jobs)}, faults {','.join(sorted(self.faults)) or 'none'};"
                f" bound: preemptions <= {self.preemptions}, faults <= {self.max_faults}, depth <= {self.depth}")


class BBExplorer:
    """Schedules over a black-box queue; each one on fresh processes and a fresh queue."""

    def __init__(self, config: BBConfig) -> None:
        self.config = config
        self.root = tempfile.mkdtemp(prefix="ffq-bbx-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
        self.count = 0

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "BBExplorer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, choose: Callable[[int, list[Move]], Move | None], workers=None, jobs=None,
                bounded: bool = True) -> BBSchedule:
        cfg = self.config
        workers = tuple(workers or cfg.workers)
        jobs = list(jobs or cfg.jobs)
        self.count += 1
        workdir = os.path.join(self.root, f"s{self.count}")
        try:
            return self._execute(workdir, choose, workers, jobs, bounded)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)  # /dev/shm is memory: one schedule at a time

    def _execute(self, workdir, choose, workers, jobs, bounded) -> BBSchedule:
        cfg = self.config
        with BlackBox(workdir, cfg.adapter, workers, jobs) as bb:
            moves: list[Move] = []
            log: list[list[Move]] = []
            last, preempt, faults = None, 0, 0
            for depth in range(cfg.depth):
                runnable = [w for w in workers if bb.can_run(w)]
                enabled = [("run", w) for w in runnable]
                if "kill" in cfg.faults and (not bounded or faults < cfg.max_faults):
                    enabled += [("kill", w) for w in workers if bb.alive(w) and bb.h.at(w).checkpoint != "poll"]
                if bounded and last in runnable and preempt >= cfg.preemptions:
                    enabled = [("run", last)]
                if not enabled:
                    break
                move = choose(depth, enabled)
                if move is None:
                    break
                log.append(enabled)
                moves.append(move)
                if last in runnable and move != ("run", last):
                    preempt += 1
                if move[0] == "run":
                    bb.step(move[1])
                    last = move[1]
                else:
                    bb.kill(move[1])
                    faults += 1
                    last = None
            drained = bb.drain()
            return BBSchedule(moves, log, list(bb.steps), bb.trace, cfg.judge(bb.check(drained)), workers, jobs)

    def replay(self, moves: Sequence[Move], workers=None, jobs=None) -> BBSchedule:
        return self.execute(replaying(moves), workers, jobs, bounded=False)

    def dfs(self) -> Iterator[BBSchedule]:
        return depth_first(self.execute)

    def random(self, seed: int) -> Iterator[BBSchedule]:
        import random as _random
        i = 0
        while True:
            rng = _random.Random(f"{seed}/bb/{i}")
            yield self.execute(lambda depth, enabled: enabled[rng.randrange(len(enabled))])
            i += 1


def bb_shrink(ex: BBExplorer, failing: BBSchedule, invariant: str) -> tuple[BBSchedule, int]:
    """ddmin over moves, then fewer jobs and workers; every candidate is run, and kept only if it
    still violates ``invariant``."""
    from .shrink import ddmin

    state = {"best": failing, "runs": 0}

    def attempt(moves, workers=None, jobs=None) -> BBSchedule | None:
        workers = workers or state["best"].workers
        if any(m[1] not in workers for m in moves):
            return None
        state["runs"] += 1
        s = ex.replay(moves, workers, jobs or state["best"].jobs)
        return s if any(v.invariant == invariant for v in s.violations) else None

    def fails(moves) -> bool:
        s = attempt(moves)
        if s is not None and len(s.moves) <= len(state["best"].moves):
            state["best"] = s
        return s is not None

    while True:
        before = (len(state["best"].moves), len(state["best"].jobs), len(state["best"].workers))
        ddmin(state["best"].moves, fails)
        for i in range(len(state["best"].jobs) - 1, -1, -1):
            jobs = state["best"].jobs[:i] + state["best"].jobs[i + 1:]
            if not jobs:
                continue
            moves = state["best"].moves
            # the moves as they are, or a suffix of them: with one job fewer, the moves that
            # went to it are the ones to drop
            for candidate in [moves] + [moves[k:] for k in range(1, len(moves))]:
                s = attempt(candidate, jobs=jobs)
                if s is not None:
                    state["best"] = s
                    break
        used = {m[1] for m in state["best"].moves}
        for w in state["best"].workers:
            if w not in used and len(state["best"].workers) > 1:
                s = attempt(state["best"].moves, workers=tuple(x for x in state["best"].workers if x != w))
                if s is not None:
                    state["best"] = s
        if (len(state["best"].moves), len(state["best"].jobs), len(state["best"].workers)) >= before:
            break
    return state["best"], state["runs"]


def collapse_bb(steps: Sequence[dict[str, Any]]) -> list[str]:
    """A black-box schedule in one line per step: ``A x6``, ``kill A``, ``drain``."""
    out = []
    for s in steps:
        if s["op"] == "step":
            out.append(f"step {s['worker']}" + (f" x{s['count']}" if s.get("count", 1) > 1 else ""))
        elif s["op"] == "kill":
            out.append(f"kill {s['worker']}")
        else:
            out.append(s["op"])
    return out


def run_steps(adapter: str, workers: Sequence[str], jobs: Sequence[str], steps: Sequence[dict[str, Any]],
              workdir: str | None = None) -> BBSchedule:
    """Replay a black-box schedule file's steps on fresh processes."""
    with BlackBox(workdir, adapter, workers, jobs) as bb:
        drained = False
        for s in steps:
            if s["op"] == "step":
                for _ in range(int(s.get("count", 1))):
                    bb.step(s["worker"])
            elif s["op"] == "kill":
                bb.kill(s["worker"])
            elif s["op"] == "drain":
                drained = bb.drain()
            else:
                raise BadInput(f"black-box schedules have step, kill and drain steps, not {s['op']!r}")
        return BBSchedule([], [], list(bb.steps), bb.trace, bb.check(drained), tuple(workers), list(jobs))



__all__ = ["BBConfig", "BBExplorer", "BBSchedule", "bb_shrink", "collapse_bb", "run_steps"]
