"""Driving an exploration: one process or shards over several, progress, and the outcome's bound.

``explore(config, strategy, …)`` runs ``harness.explore.Explorer`` schedules
until the first violation (or through the whole bound), in this process or
spread over ``parallel`` processes, one per CPU: depth-first shards split the
tree at its root, random shards take every ``parallel``-th schedule of the
seed. The ``Outcome`` says exactly what was covered: the bound, and whether
the depth-first search exhausted it. A shard that dies is an error, never a
silent "no violation".
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable, Iterator

from runtime import BadInput, HarnessError

from .explore import Config, Explorer, Move, Schedule, _Run

@dataclass
class Outcome:
    """What an exploration covered and found."""

    config: Config
    strategy: str
    seed: int | None
    schedules: int
    exhausted: bool
    failing: list[Schedule]
    elapsed: float
    shards: int = 1
    stopped_on_violation: bool = False

    @property
    def rate(self) -> float:
        return self.schedules / self.elapsed if self.elapsed > 0 else 0.0

    def coverage(self) -> str:
        cfg = self.config
        if self.strategy == "dfs":
            how = ("exhausted: every schedule within the bound was run" if self.exhausted
                   else "stopped at the first violation" if self.stopped_on_violation
                   else "NOT exhausted: --max-schedules reached before the bound was covered")
        else:
            how = f"random (PCT), seed {self.seed}: {self.schedules} schedules; no exhaustiveness claim"
        judged = f"; judged on {','.join(sorted(cfg.invariants))}" if cfg.invariants else ""
        return (f"workers {','.join(cfg.workers)}, jobs {len(cfg.jobs)}, faults "
                f"{','.join(sorted(cfg.faults)) or 'none'}; bound: {cfg.bounds}{judged}; {how}")


def _root_moves(explorer: Explorer) -> int:
    seen: list[list[Move]] = []

    def choose(depth: int, enabled: list[Move], run: _Run) -> None:
        seen.append(enabled)
        return None
    explorer.execute(choose)
    explorer.count -= 1  # a probe, not a schedule
    return len(seen[0]) if seen else 0


def _shard_iter(explorer: Explorer, strategy: str, seed: int, shard: int, shards: int) -> Iterator[Schedule]:
    if strategy == "random":
        yield from explorer.random(seed, start=shard, stride=shards)
        return
    if shards == 1:
        yield from explorer.dfs()
        return
    for first in range(shard, _root_moves(explorer), shards):
        yield from explorer.dfs(prefix=(first,))


def _run_shard(config: Config, strategy: str, seed: int, shard: int, shards: int, budget: int,
               stop_on_first: bool, emit: Callable[[tuple], bool]) -> None:
    """Explore one shard; ``emit`` a message per schedule; stop when ``emit`` returns False."""
    with Explorer(config) as explorer:
        n = 0
        exhausted = True
        for sched in _shard_iter(explorer, strategy, seed, shard, shards):
            n += 1
            if not emit(("schedule", n, sched.moves if sched.failed else None,
                         [v.as_dict() for v in sched.violations])):
                exhausted = False
                break
            if (sched.failed and stop_on_first) or n >= budget:
                exhausted = False
                break
        else:
            exhausted = strategy == "dfs"
        emit(("done", n, exhausted))


def _shard_main(config, strategy, seed, shard, shards, budget, stop_on_first, conn) -> None:
    try:  # one shard per CPU; its harness and workers stay there
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[shard % len(cpus)]})
    except (AttributeError, OSError):
        pass

    def emit(msg: tuple) -> bool:
        conn.send(msg)
        return not conn.poll()  # any message from the parent means "stop"
    try:
        _run_shard(config, strategy, seed, shard, shards, budget, stop_on_first, emit)
    finally:
        conn.close()


def explore(config: Config, strategy: str = "dfs", seed: int = 0, max_schedules: int = 1000,
            parallel: int = 1, stop_on_first: bool = True,
            progress: Callable[[int, int, float], None] | None = None, step_timeout: float = 120.0) -> Outcome:
    """Run an exploration, in this process or spread over ``parallel`` processes."""
    import multiprocess as mp
    from multiprocess.connection import wait

    if strategy not in ("dfs", "random"):
        raise BadInput(f"unknown strategy {strategy!r}; strategies are dfs, random")
    if max_schedules < 1 or parallel < 1:
        raise BadInput("--max-schedules and --parallel must be >= 1")
    start = time.perf_counter()
    failing_moves: list[list[Move]] = []
    counts = [0] * parallel
    exhausted = [False] * parallel

    def absorb(shard: int, msg: tuple) -> None:
        if msg[0] == "schedule":
            counts[shard] = msg[1]
            if msg[2] is not None:
                failing_moves.append(msg[2])
            if progress:
                progress(sum(counts), len(failing_moves), time.perf_counter() - start)
        elif msg[0] == "done":
            counts[shard], exhausted[shard] = msg[1], msg[2]

    if parallel == 1:
        def emit(msg: tuple) -> bool:
            absorb(0, msg)
            return True
        _run_shard(config, strategy, seed, 0, 1, max_schedules, stop_on_first, emit)
    else:
        ctx = mp.get_context("fork")
        budget = -(-max_schedules // parallel)
        procs, conns = [], {}
        for shard in range(parallel):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=_shard_main, name=f"ffq-explore-{shard}",
                            args=(config, strategy, seed, shard, parallel, budget, stop_on_first, child))
            p.start()
            child.close()
            procs.append(p)
            conns[parent] = shard
        try:
            live = dict(conns)
            while live:
                ready = wait(list(live), timeout=step_timeout)
                if not ready:
                    raise HarnessError(f"an exploration shard sent nothing for {step_timeout:g} s")
                for conn in ready:
                    try:
                        msg = conn.recv()
                    except EOFError:
                        raise HarnessError(f"exploration shard {live[conn]} died before it finished "
                                           "(see its stderr); its schedules were not covered") from None
                    absorb(live[conn], msg)
                    if msg[0] == "done":
                        del live[conn]
                    if failing_moves and stop_on_first:
                        for other in live:
                            try:
                                other.send("stop")
                            except OSError:
                                pass
        finally:
            for p in procs:
                p.join(10)
                if p.exitcode is None:
                    p.kill()
                    p.join()
            for conn in conns:
                conn.close()
    elapsed = time.perf_counter() - start
    # Re-run the first failing schedule here, keeping its history and ledger for the report.
    failing = []
    if failing_moves:
        with Explorer(config) as ex:
            s = ex.replay_moves(failing_moves[0])
            if s is not None:
                failing.append(s)
    return Outcome(config, strategy, seed if strategy == "random" else None, sum(counts),
                   all(exhausted), failing, elapsed, parallel, bool(failing_moves) and stop_on_first)


def explore_scenario(scenario, policy: str, jobs: int | None = None, faults=("clock",), preemptions: int = 2,
                     max_faults: int = 1, depth: int = 30, max_schedules: int = 2000) -> Outcome:
    """Depth-first exploration of ``scenario`` under ``policy``, judged on the scenario's own
    invariants (``Scenario.judged``; all of them when it names none), stopping at the first
    violation: what each failure mode's prevent tests ask of the explorer."""
    from .explore import Bounds, jobs_of

    config = Config(scenario, policy, jobs_of(scenario, jobs), frozenset(faults),
                    Bounds(preemptions, max_faults, depth), invariants=scenario.judged)
    return explore(config, "dfs", max_schedules=max_schedules)
