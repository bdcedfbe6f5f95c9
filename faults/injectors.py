"""Deterministic fault injectors, expressed as schedule steps.

Each injector returns a list of steps (``harness.schedule``) so a fault is
data: it is saved with the schedule, replayed exactly, and shrunk like any
other step. Nothing here is random.

- ``kill_at(w, cp)``      SIGKILL worker ``w`` when it stops at checkpoint ``cp``.
- ``pause_at(w, cp)``     SIGSTOP ``w`` at ``cp`` (a GC pause); ``resume(w)`` ends it.
- ``clock_jump(s)``       the shared clock moves ``s`` seconds at once.
- ``slow_effect(w, s)``   ``w``'s effect takes ``s`` seconds of controlled time:
                          it stops before the effect, the clock moves, then
                          the effect lands (at the later time).
- ``failing_job(n)``      an enqueue step for a job whose handler fails its
                          first ``n`` attempts (the ``flaky`` handler counts
                          attempts in the store, so every process agrees).
- ``poison_job()``        a job whose handler always fails.
"""

from __future__ import annotations

from typing import Any

Step = dict[str, Any]


def kill_at(worker: str, checkpoint: str) -> list[Step]:
    return [{"op": "run_until", "worker": worker, "checkpoint": checkpoint}, {"op": "kill", "worker": worker}]


def pause_at(worker: str, checkpoint: str) -> list[Step]:
    return [{"op": "run_until", "worker": worker, "checkpoint": checkpoint}, {"op": "pause", "worker": worker}]


def resume(worker: str) -> list[Step]:
    return [{"op": "resume", "worker": worker}]


def clock_jump(seconds: float) -> list[Step]:
    return [{"op": "advance", "seconds": seconds}]


def slow_effect(worker: str, seconds: float) -> list[Step]:
    return [{"op": "run_until", "worker": worker, "checkpoint": "before_effect"},
            {"op": "advance", "seconds": seconds},
            {"op": "run_until", "worker": worker, "checkpoint": "after_effect"}]


def failing_job(fail_first: int, amount: int = 1) -> list[Step]:
    return [{"op": "enqueue", "kind": "flaky", "payload": {"fail_first": int(fail_first), "amount": amount}}]


def poison_job() -> list[Step]:
    return [{"op": "enqueue", "kind": "poison", "payload": {}}]
