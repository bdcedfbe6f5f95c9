"""The explorer: find invariant violations without a hand-written schedule.

Stateless model checking over real processes. A schedule is a sequence of
*moves*; every schedule runs from scratch: an empty store, an empty ledger, a
rewound clock (``Harness.reset`` on one harness per worker set; a killed
worker is a fresh process), then a final phase makes the run
eventually healthy — paused workers are resumed, killed ones restarted, and
the queue drained — and every invariant is checked.

Moves
- ``("run", W)``: W performs its next action (a lease attempt, the effect, or
  the commit) and stops before the one after. Checkpoints between which a
  worker does nothing shared are crossed in one move: stopping there is
  indistinguishable from stopping at the next action checkpoint.
- ``("clock", None)``: the clock jumps to the next deadline (the earliest
  future lease expiry or retry time). Allowed with fault ``clock``.
- ``("kill", W)``, ``("pause", W)``: SIGKILL / SIGSTOP W while it is mid-job
  (``MID_JOB``: it holds a lease, or a producer holds an unrecorded enqueue);
  never a pause while anyone holds the store's write lock. Faults ``kill`` / ``pause``.
- ``("resume", W)``: SIGCONT a paused W.

Bounds (reported with every result, so "found nothing" says within what)
- preemptions: how often a move other than ``run X`` is chosen right after
  ``run X`` while X could still run;
- faults: how many kill/pause moves one schedule may contain;
- depth: moves per schedule.

Strategies (``harness.search`` drives them, in one process or in shards)
- ``dfs``: bounded exhaustive, depth first. ``exhausted`` is true when every
  schedule within the bounds was run.
- ``random``: PCT-style random priorities: each worker gets a priority, the
  highest enabled one runs, and at ``d`` random change points the running
  worker is demoted or an environment move (clock, fault) is taken. Schedule
  ``i`` of seed ``s`` uses ``Random(f"{s}/{i}")``: the same seed explores the
  same schedules.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from runtime import BadInput, HarnessError, LabError, Violation
from runtime.invariants import INVARIANTS

from . import schedule
from .harness import Harness
from .scenario import Scenario
from .trace import TraceEvent

Move = tuple[str, Any]
FAULTS = frozenset({"clock", "kill", "pause"})
# A worker acts when released from these (a claim, the effect, the commit; a heartbeat, a
# reconcile lookup); a producer when released from ``produce`` (the enqueue) or ``enqueued``
# (recording the success).
ACTION_CHECKPOINTS = frozenset({"poll", "before_effect", "before_commit", "reconciled", "before_heartbeat",
                                "commit_torn", "commit_open", "produce", "enqueued"})
STOPS = ACTION_CHECKPOINTS | {"idle"}
MID_JOB = frozenset({"before_effect", "before_commit", "reconciled", "before_heartbeat", "commit_torn",
                     "commit_open", "enqueued"})
LOCK_HOLDING = frozenset({"commit_open"})  # inside an open write transaction


@dataclass(frozen=True)
class Bounds:
    preemptions: int = 2
    faults: int = 1
    depth: int = 30

    def __str__(self) -> str:
        return f"preemptions <= {self.preemptions}, faults <= {self.faults}, depth <= {self.depth}"


@dataclass
class Config:
    """What to explore: a scenario's workers and jobs, under one policy, with some faults allowed."""

    scenario: Scenario
    policy: str
    jobs: list[dict[str, Any]]
    faults: frozenset[str] = frozenset({"clock"})
    bounds: Bounds = field(default_factory=Bounds)
    workers: tuple[str, ...] = ()
    invariants: frozenset[str] = frozenset()  # only these count as violations (empty: all)

    def __post_init__(self) -> None:
        unknown = set(self.faults) - FAULTS
        if unknown:
            raise BadInput(f"unknown fault {sorted(unknown)[0]!r}; faults are {', '.join(sorted(FAULTS))}")
        self.workers = tuple(self.workers or self.scenario.workers)
        if not self.jobs:
            raise BadInput("nothing to explore: the scenario enqueues no job")
        unknown = set(self.invariants) - set(INVARIANTS)
        if unknown:
            raise BadInput(f"unknown invariant {sorted(unknown)[0]!r}; invariants are {', '.join(INVARIANTS)}")
        self.invariants = frozenset(self.invariants)

    def judge(self, violations: list[Violation]) -> list[Violation]:
        return [v for v in violations if not self.invariants or v.invariant in self.invariants]

    def describe(self) -> str:
        return (f"scenario {self.scenario.name}, policy {self.policy}, workers {','.join(self.workers)}, "
                f"jobs {len(self.jobs)}, faults {','.join(sorted(self.faults)) or 'none'}, {self.bounds}"
                + (f", invariants {','.join(sorted(self.invariants))}" if self.invariants else ""))


@dataclass
class Schedule:
    """One explored schedule and its verdict."""

    moves: list[Move]
    enabled: list[list[Move]]
    steps: list[dict[str, Any]]        # the harness schedule (replayable with ``harness.schedule.apply``)
    trace: list[TraceEvent]
    violations: list[Violation]
    history: list = field(default_factory=list)
    ledger: list = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.violations)


class _Run:
    """Book-keeping while one schedule executes."""

    def __init__(self, h: Harness, config: Config) -> None:
        self.h, self.config = h, config
        self.last_run: str | None = None
        self.preemptions = 0
        self.faults = 0
        self.steps: list[dict[str, Any]] = []

    def position(self, w: str) -> str:
        return self.h.at(w).checkpoint

    def participants(self) -> tuple[str, ...]:
        return tuple(self.config.workers) + tuple(self.h.producers)

    def lock_holder(self) -> str | None:
        for w in self.participants():
            if self.h.status(w) in ("at", "paused") and self.position(w) in LOCK_HOLDING:
                return w
        return None

    def can_run(self, w: str) -> bool:
        if self.h.status(w) != "at":
            return False
        holder = self.lock_holder()
        if holder is not None and holder != w:
            return False  # it could only wait on the write lock
        if self.h.role(w) == "producer":
            return self.position(w) != "idle" or self.h.producers_pending(w)
        if self.position(w) in ("poll", "idle"):
            return self.h.claimable_for(w)
        return True

    def enabled(self, bounded: bool = True) -> list[Move]:
        h, cfg = self.h, self.config
        runnable = [w for w in self.participants() if self.can_run(w)]
        moves: list[Move] = [("run", w) for w in runnable]
        env: list[Move] = []
        if "clock" in cfg.faults and h.queue.next_deadline() is not None:
            env.append(("clock", None))
        holder = self.lock_holder()
        for w in self.participants():
            status = h.status(w)
            mid = status in ("at", "paused") and self.position(w) in MID_JOB
            if "kill" in cfg.faults and mid and (not bounded or self.faults < cfg.bounds.faults):
                env.append(("kill", w))
            if ("pause" in cfg.faults and mid and status == "at" and holder is None
                    and (not bounded or self.faults < cfg.bounds.faults)):
                env.append(("pause", w))  # never while anyone holds the write lock: all would wait
            if status == "paused":
                env.append(("resume", w))
        if not bounded:
            return moves + env
        out = []
        preempting = self.last_run is not None and self.last_run in runnable
        for m in moves + env:
            if preempting and m != ("run", self.last_run) and self.preemptions >= cfg.bounds.preemptions:
                continue
            out.append(m)
        return out

    def apply(self, move: Move) -> None:
        h = self.h
        kind, w = move
        if self.last_run is not None and move != ("run", self.last_run) and self.can_run(self.last_run):
            self.preemptions += 1
        if kind == "run":
            start = self.position(w)
            arrivals: list[str] = []
            acted = False
            while True:
                acted = acted or h.at(w).checkpoint in ACTION_CHECKPOINTS
                arrivals.append(h.step(w).checkpoint)
                if acted and arrivals[-1] in STOPS:
                    break
            if arrivals[-1] != start and arrivals[-1] not in arrivals[:-1]:
                self.steps.append({"op": "run_until", "worker": w, "checkpoint": arrivals[-1]})
            else:
                self.steps.extend({"op": "step", "worker": w} for _ in arrivals)
            self.last_run = w
            return
        self.last_run = None
        if kind == "clock":
            seconds = h.queue.next_deadline() - h.now()
            h.advance(seconds)
            self.steps.append({"op": "advance", "seconds": seconds})
            return
        if kind in ("kill", "pause"):
            self.faults += 1
        getattr(h, kind)(w)
        self.steps.append({"op": kind, "worker": w})

    def finish(self) -> bool:
        """Eventually healthy: resume the paused, restart the killed, drain."""
        h = self.h
        for w in self.participants():
            if h.status(w) == "paused":
                h.resume(w)
                self.steps.append({"op": "resume", "worker": w})
        for w in self.participants():
            if h.status(w) in ("killed", "crashed"):
                h.restart(w)
                self.steps.append({"op": "restart", "worker": w})
        drained = h.drain()
        self.steps.append({"op": "drain"})
        return drained


def _workroot() -> str:
    # tmpfs when there is one: a schedule's store is created and thrown away in milliseconds.
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    return tempfile.mkdtemp(prefix="ffq-explore-", dir=base)


class Explorer:
    """Runs schedules of one ``Config`` on real processes."""

    def __init__(self, config: Config, workroot: str | None = None) -> None:
        self.config = config
        self._own_root = workroot is None
        self.workroot = workroot or _workroot()
        self.count = 0
        self._harnesses: dict[tuple[str, ...], Harness] = {}
        self._made = 0

    def close(self) -> None:
        for h in self._harnesses.values():
            h.close()
        self._harnesses.clear()
        if self._own_root:
            shutil.rmtree(self.workroot, ignore_errors=True)

    def __enter__(self) -> "Explorer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, choose: Callable[[int, list[Move], _Run], Move | None],
                jobs: Sequence[dict[str, Any]] | None = None, workers: Sequence[str] | None = None,
                bounded: bool = True, keep: bool = False) -> Schedule:
        """Run one schedule: enqueue the jobs, then ``choose`` a move at each point, then finish and check."""
        cfg = self.config
        workers = tuple(workers or cfg.workers)
        jobs = list(cfg.jobs if jobs is None else jobs)
        self.count += 1
        sc = cfg.scenario
        h = self._harness(workers)
        if True:
            run = _Run(h, Config(sc, cfg.policy, jobs, cfg.faults, cfg.bounds, workers, cfg.invariants))
            for job in jobs:
                schedule.apply(h, [job])
                run.steps.append(dict(job))
            moves: list[Move] = []
            enabled_log: list[list[Move]] = []
            for depth in range(cfg.bounds.depth):
                enabled = run.enabled(bounded)
                if not enabled:
                    break
                move = choose(depth, enabled, run)
                if move is None:
                    break
                enabled_log.append(enabled)
                moves.append(move)
                run.apply(move)
            drained = run.finish()
            violations = cfg.judge(h.check(drained=drained, max_attempts=sc.max_attempts))
            return Schedule(moves, enabled_log, run.steps, h.trace, violations,
                            h.history() if keep else [], h.ledger() if keep else [])

    def _harness(self, workers: tuple[str, ...]) -> Harness:
        """One harness per worker set, reused across schedules (``Harness.reset``)."""
        h = self._harnesses.get(workers)
        if h is not None:
            try:
                h.reset()
                return h
            except HarnessError:
                h.close()
        cfg = self.config
        self._made += 1  # never reuse a directory: a replaced harness must not see an old run's files
        workdir = os.path.join(self.workroot, "-".join(workers) + f".{self._made}")
        h = Harness(workdir, workers=workers, policy=cfg.policy, lease_ttl=cfg.scenario.lease_ttl,
                    producers=cfg.scenario.producers, **cfg.scenario.harness_options)
        self._harnesses[workers] = h
        return h

    def replay_moves(self, moves: Sequence[Move], jobs=None, workers=None, lenient: bool = False) -> Schedule | None:
        """Run ``moves`` (no bounds). A move that is not possible where it falls makes the replay
        fail (None), or, if ``lenient``, is skipped: the result's ``moves`` are those applied."""
        try:
            return self.execute(replaying(moves, lenient), jobs=jobs, workers=workers, bounded=False)
        except _NotEnabled:
            return None

    def run_steps(self, steps: Sequence[dict[str, Any]], workers: Sequence[str] | None = None,
                  keep: bool = False, judge: bool = True) -> Schedule | None:
        """Run harness ``steps`` as they are (a schedule file's content); None if they cannot run."""
        cfg = self.config
        workers = tuple(workers or cfg.workers)
        self.count += 1
        h = self._harness(workers)
        try:
            schedule.apply(h, steps)
        except HarnessError:
            return None
        drained = bool(steps) and steps[-1]["op"] == "drain" and h.last_drain
        violations = h.check(drained=drained, max_attempts=cfg.scenario.max_attempts)
        violations = cfg.judge(violations) if judge else violations
        return Schedule([], [], h.steps, h.trace, violations,
                        h.history() if keep else [], h.ledger() if keep else [])

    # --- strategies ------------------------------------------------------------

    def dfs(self, prefix: Sequence[int] = ()) -> Iterator[Schedule]:
        """Every schedule within the bounds, depth first (children of ``prefix`` only, if given)."""
        return depth_first(self.execute, prefix)

    def random(self, seed: int, start: int = 0, stride: int = 1, change_points: int = 3) -> Iterator[Schedule]:
        """PCT-style schedules ``start, start+stride, …`` of ``seed`` (endless; the caller stops)."""
        i = start
        while True:
            rng = random.Random(f"{seed}/{i}")
            everyone = list(self.config.workers) + list(self.config.scenario.producers)
            prio = {w: p for p, w in enumerate(rng.sample(everyone, len(everyone)))}
            points = set(rng.sample(range(self.config.bounds.depth), min(change_points, self.config.bounds.depth)))

            def choose(depth: int, enabled: list[Move], run: _Run) -> Move:
                runs = [m for m in enabled if m[0] == "run"]
                env = [m for m in enabled if m[0] != "run"]
                if depth in points or not runs:
                    if env and (not runs or rng.random() < 0.7):
                        return env[rng.randrange(len(env))]
                    if runs:
                        top = max(runs, key=lambda m: prio[m[1]])
                        prio[top[1]] = min(prio.values()) - 1  # demote the running worker
                return max(runs, key=lambda m: prio[m[1]]) if runs else env[0]
            yield self.execute(choose)
            i += stride


class _NotEnabled(LabError):
    pass


def depth_first(execute: Callable, prefix: Sequence[int] = ()) -> Iterator[Any]:
    """Stateless depth-first search: ``execute(choose)`` runs one schedule from scratch, calling
    ``choose(depth, enabled, ...)`` at each point; the next schedule takes the next alternative at
    the deepest point that has one (below ``prefix``, which stays fixed). Each result must carry
    ``enabled``, the list of moves offered at each depth."""
    fixed = len(prefix)
    choice = list(prefix)
    while True:
        taken: list[int] = []

        def choose(depth: int, enabled: list, *_: Any) -> Any:
            i = choice[depth] if depth < len(choice) else 0
            taken.append(i)
            return enabled[i]
        result = execute(choose)
        yield result
        for d in range(len(taken) - 1, fixed - 1, -1):
            if taken[d] + 1 < len(result.enabled[d]):
                choice = taken[:d] + [taken[d] + 1]
                break
        else:
            return


def replaying(moves: Sequence[Any], lenient: bool = True) -> Callable:
    """A ``choose`` that plays ``moves`` in order and then stops; a move not offered where it
    falls is skipped (``lenient``) or ends the replay with ``_NotEnabled``."""
    pending = list(moves)

    def choose(depth: int, enabled: list, *_: Any) -> Any:
        while pending:
            move = pending.pop(0)
            if move in enabled:
                return move
            if not lenient:
                raise _NotEnabled()
        return None
    return choose


def jobs_of(scenario: Scenario, count: int | None = None) -> list[dict[str, Any]]:
    """The scenario's set-up steps (enqueues, producer requests); with ``count``, repeated or cut."""
    base = [dict(s) for s in scenario.steps() if s["op"] in ("enqueue", "request")]
    if not base:
        raise BadInput(f"scenario {scenario.name} enqueues no job")
    if count is None:
        return base
    if count < 1:
        raise BadInput(f"--jobs must be >= 1, got {count}")
    out = []
    for i in range(count):
        step = dict(base[i % len(base)])
        if i >= len(base):
            step.pop("request", None)  # a repeated request is a new logical request
        out.append(step)
    return out


__all__ = ["Bounds", "Config", "Explorer", "FAULTS", "Move", "Schedule", "jobs_of"]
