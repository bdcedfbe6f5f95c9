"""Schedules: a run as data. A list of steps, JSON-serialisable, saved to a file and replayed.

A step is a dict with an ``op`` and its arguments:

    {"op": "enqueue", "kind": "charge", "payload": {"amount": 100}}
    {"op": "run_until", "worker": "A", "checkpoint": "after_effect"}
    {"op": "step", "worker": "A"}
    {"op": "advance", "seconds": 31}
    {"op": "kill" | "pause" | "resume" | "restart", "worker": "A"}
    {"op": "drain"}     healthy workers finish the queue (Harness.drain)
    {"op": "request", "producer": "P", "kind": "charge", "payload": {...}, "request": "r1"}

A schedule file wraps the steps with what is needed to set the run up again:

    {"format": "ffq-schedule/1", "scenario": "fm001", "policy": "naive",
     "workers": ["A", "B"], "lease_ttl": 30.0, "seed": null, "steps": [...]}

``validate_steps`` rejects a malformed schedule with a ``ScheduleError`` that
names the step, before anything runs. ``apply`` performs the steps on a
``Harness``; ``save`` and ``load`` write and read schedule files (``ffq replay``
runs one again and compares its trace digest and verdict).
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable

from runtime import CHECKPOINTS, PRODUCER_CHECKPOINTS, ScheduleError

FORMAT = "ffq-schedule/1"

# op -> (required arguments, optional arguments)
OPS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "enqueue": (frozenset({"kind"}), frozenset({"payload", "dedup_key"})),
    "run_until": (frozenset({"worker", "checkpoint"}), frozenset()),
    "step": (frozenset({"worker"}), frozenset({"count"})),
    "advance": (frozenset({"seconds"}), frozenset()),
    "kill": (frozenset({"worker"}), frozenset()),
    "pause": (frozenset({"worker"}), frozenset()),
    "resume": (frozenset({"worker"}), frozenset()),
    "restart": (frozenset({"worker"}), frozenset()),
    "drain": (frozenset(), frozenset()),
    "request": (frozenset({"producer", "kind"}), frozenset({"payload", "request"})),
}


def validate_steps(steps: Any, workers: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Return ``steps`` as a list of dicts, or raise ``ScheduleError`` naming the first bad step."""
    if not isinstance(steps, list):
        raise ScheduleError(f"a schedule is a list of steps, got {type(steps).__name__}")
    known = None if workers is None else set(workers)
    out = []
    for i, step in enumerate(steps, 1):
        if not isinstance(step, dict) or "op" not in step:
            raise ScheduleError(f"step {i} is not an object with an 'op': {step!r}")
        op = step["op"]
        if op not in OPS:
            raise ScheduleError(f"step {i}: unknown op {op!r}; ops are {', '.join(OPS)}")
        required, optional = OPS[op]
        args = set(step) - {"op"}
        if required - args:
            raise ScheduleError(f"step {i} ({op}) is missing {', '.join(sorted(required - args))}")
        if args - required - optional:
            raise ScheduleError(f"step {i} ({op}) has unknown fields {', '.join(sorted(args - required - optional))}")
        if "producer" in step and known is not None and step["producer"] not in known:
            raise ScheduleError(f"step {i} ({op}) names unknown producer {step['producer']!r}; "
                                f"participants are {', '.join(sorted(known))}")
        if "worker" in step and known is not None and step["worker"] not in known:
            raise ScheduleError(f"step {i} ({op}) names unknown worker {step['worker']!r}; "
                                f"workers are {', '.join(sorted(known))}")
        if op == "run_until" and step["checkpoint"] not in CHECKPOINTS + PRODUCER_CHECKPOINTS:
            raise ScheduleError(f"step {i}: unknown checkpoint {step['checkpoint']!r}; "
                                f"checkpoints are {', '.join(CHECKPOINTS)}")
        if op == "step" and "count" in step and (isinstance(step["count"], bool)
                                                  or not isinstance(step["count"], int) or step["count"] < 1):
            raise ScheduleError(f"step {i} (step): count must be a whole number >= 1, got {step['count']!r}")
        if op == "advance":
            secs = step["seconds"]
            if isinstance(secs, bool) or not isinstance(secs, (int, float)) or not secs >= 0:
                raise ScheduleError(f"step {i} (advance): seconds must be a number >= 0, got {secs!r}")
        out.append(dict(step))
    return out


def apply(harness: Any, steps: Iterable[dict[str, Any]]) -> None:
    """Perform ``steps`` on ``harness`` in order (validate first with ``validate_steps``)."""
    for step in steps:
        op = step["op"]
        if op == "enqueue":
            harness.enqueue(step["kind"], step.get("payload"), dedup_key=step.get("dedup_key"))
        elif op == "run_until":
            harness.run_until(step["worker"], step["checkpoint"])
        elif op == "advance":
            harness.advance(step["seconds"])
        elif op == "drain":
            harness.drain()
        elif op == "step":
            for _ in range(int(step.get("count", 1))):
                harness.step(step["worker"])
        elif op == "request":
            harness.request(step["producer"], step["kind"], step.get("payload"), request=step.get("request"))
        else:
            getattr(harness, op)(step["worker"])


def save(path: str | os.PathLike, steps: list[dict[str, Any]], *, workers: Iterable[str],
         policy: str, lease_ttl: float, scenario: str | None = None, seed: int | None = None,
         producers: Iterable[str] = (), **extra: Any) -> dict[str, Any]:
    """Write a schedule file; return its content."""
    workers, producers = list(workers), list(producers)
    doc = {"format": FORMAT, "scenario": scenario, "policy": policy, "workers": workers,
           "producers": producers, "lease_ttl": lease_ttl, "seed": seed,
           "steps": validate_steps(steps, workers + producers), **extra}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    return doc


def read_document(path: str | os.PathLike, fmt: str, what: str = "schedule file") -> dict[str, Any]:
    """The JSON object in ``path`` if its ``format`` is ``fmt``; ``ScheduleError`` otherwise."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise ScheduleError(f"no schedule file at {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScheduleError(f"{path} is not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise ScheduleError(f"{path} is not a {what} (expected \"format\": \"{fmt}\")")
    return doc


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a schedule file; ``ScheduleError`` with a one-line reason otherwise."""
    doc = read_document(path, FORMAT)
    workers = doc.get("workers")
    if not isinstance(workers, list) or not workers or not all(isinstance(w, str) for w in workers):
        raise ScheduleError(f"{path}: 'workers' must be a non-empty list of names")
    ttl = doc.get("lease_ttl")
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl > 0:
        raise ScheduleError(f"{path}: 'lease_ttl' must be a number > 0, got {ttl!r}")
    if not isinstance(doc.get("policy"), str):
        raise ScheduleError(f"{path}: 'policy' must be a policy name")
    producers = doc.setdefault("producers", [])
    if not isinstance(producers, list) or not all(isinstance(p, str) for p in producers):
        raise ScheduleError(f"{path}: 'producers' must be a list of names")
    doc["steps"] = validate_steps(doc.get("steps"), workers + producers)
    return doc
