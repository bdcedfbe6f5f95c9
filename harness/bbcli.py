"""``ffq blackbox explore`` and ``ffq blackbox replay``: the CLI of black-box mode (``harness.blackbox``).

Same exit codes as the rest of ``ffq`` (0 none, 1 violation, 2 bad input),
same shrinking, schedule files and reports as ``ffq explore``.
"""

from __future__ import annotations

import json
import os
import string
import time
from typing import Any

from runtime import BadInput, ScheduleError

from .bbexplore import BBConfig, BBExplorer, bb_shrink, collapse_bb, run_steps
from .blackbox import BLACKBOX_INVARIANTS
from .report import _esc, collapse_cycles, html
from .schedule import read_document
from .timeline import render_text
from .trace import digest

FORMAT = "ffq-blackbox/1"



def mermaid(trace, workers, violations) -> str:
    """Sequence diagram of a black-box run: every statement an arrow to the database."""
    lines = ["sequenceDiagram"] + [f"    participant {w}" for w in workers] + ["    participant DB as SQLite file"]
    for ev in trace:
        if ev.op == "at" and ev.checkpoint == "sql":
            lines.append(f"    {ev.worker}->>DB: {_esc(ev.detail.get('sql', ''))[:90]}")
        elif ev.op == "at" and ev.checkpoint in ("delivered", "acked"):
            lines.append(f"    Note over {ev.worker}: {ev.checkpoint} {_esc(str(ev.job))}")
        elif ev.op in ("kill", "crash"):
            lines.append(f"    Note over {ev.worker}: {'SIGKILL' if ev.op == 'kill' else 'raised'}")
    for v in violations:
        lines.append(f"    Note over {workers[0]},DB: {_esc(str(v))[:160]}")
    return "\n".join(collapse_cycles(lines)) + "\n"



def _names(n: int, prefix: str = "") -> list[str]:
    if n < 1:
        raise BadInput("--workers and --jobs must be >= 1")
    return [f"{prefix}{i + 1}" for i in range(n)] if prefix else list(string.ascii_uppercase[:n])


def _report(out: str, base: str, sched, adapter: str, extra: dict) -> None:
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, base + ".html"), "w") as f:
        f.write(html(sched.trace, [], sched.workers, sched.violations, title=f"{adapter}: {base}", meta=extra))
    with open(os.path.join(out, base + ".mmd"), "w") as f:
        f.write(mermaid(sched.trace, sched.workers, sched.violations))
    print(f"reports: {os.path.join(out, base + '.html')}, {os.path.join(out, base + '.mmd')}")


def cmd_explore(args) -> int:
    invariants = frozenset(i for i in (args.invariants or "").split(",") if i)
    faults = frozenset(f for f in (args.faults if args.faults is not None else "").split(",") if f)
    config = BBConfig(args.adapter, tuple(_names(args.workers)), tuple(_names(args.jobs, "j")), faults,
                      args.preemptions, args.max_faults, args.depth, invariants)
    print(f"ffq blackbox explore: {args.adapter}, strategy {args.strategy}"
          + (f", seed {args.seed}" if args.strategy == "random" else ""))
    start = time.perf_counter()
    found, n, exhausted = None, 0, False
    with BBExplorer(config) as ex:
        it = ex.dfs() if args.strategy == "dfs" else ex.random(args.seed)
        for sched in it:
            n += 1
            if sched.failed:
                found = sched
                break
            if n >= args.max_schedules:
                break
        else:
            exhausted = args.strategy == "dfs"
        elapsed = time.perf_counter() - start
        how = ("exhausted: every schedule within the bound was run" if exhausted else
               "stopped at the first violation" if found else
               "NOT exhausted: --max-schedules reached before the bound was covered")
        judged = f"; judged on {','.join(sorted(invariants))}" if invariants else ""
        print(f"  explored {n} schedules in {elapsed:.2f} s ({n / elapsed if elapsed else 0:.0f}/s)")
        print(f"  covered: {config.bound()}{judged}; {how}")
        if found is None:
            print("  violations: none")
            return 0
        target = found.violations[0].invariant
        print(f"  violations: {', '.join(sorted({v.invariant for v in found.violations}))}")
        best, runs = bb_shrink(ex, found, target)
    again = run_steps(args.adapter, best.workers, best.jobs, best.steps)
    print(f"shrunk: {len(found.moves)} -> {len(best.moves)} moves ({runs} runs), still violates {target}")
    os.makedirs(args.out, exist_ok=True)
    base = f"blackbox-{os.path.basename(args.adapter.replace(':', '-'))}-{target}"
    path = os.path.join(args.out, base + ".json")
    doc = {"format": FORMAT, "adapter": args.adapter, "workers": list(best.workers), "jobs": list(best.jobs),
           "steps": best.steps, "seed": args.seed if args.strategy == "random" else None,
           "strategy": args.strategy, "bound": config.bound(), "invariant": target,
           "violated": sorted({v.invariant for v in again.violations}),
           "violations": [v.as_dict() for v in again.violations], "trace_sha256": digest(again.trace)}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"minimal schedule (saved to {path}; replay with: ffq blackbox replay {path}):")
    for s in collapse_bb(best.steps):
        print(f"  {s}")
    print(render_text(again.trace, [], again.workers, quiet=("poll",)))
    for v in again.violations:
        print(f"  {v}")
    _report(args.out, base, again, args.adapter, {"adapter": args.adapter, "bound": config.bound(),
                                                   "schedules explored": n})
    return 1


def load(path: str) -> dict[str, Any]:
    """Read and validate a black-box schedule file; ``ScheduleError`` with a one-line reason otherwise."""
    doc = read_document(path, FORMAT, "black-box schedule file")
    for key in ("workers", "jobs"):
        if not isinstance(doc.get(key), list) or not doc[key] or not all(isinstance(x, str) for x in doc[key]):
            raise ScheduleError(f"{path}: {key!r} must be a non-empty list of names")
    if not isinstance(doc.get("adapter"), str):
        raise ScheduleError(f"{path}: 'adapter' must be a module:object path")
    steps = doc.get("steps")
    if not isinstance(steps, list):
        raise ScheduleError(f"{path}: 'steps' must be a list")
    for i, s in enumerate(steps, 1):
        if not isinstance(s, dict) or s.get("op") not in ("step", "kill", "drain"):
            raise ScheduleError(f"{path}: step {i} must be a step, kill or drain, got {s!r}")
        if s["op"] != "drain" and s.get("worker") not in doc["workers"]:
            raise ScheduleError(f"{path}: step {i} names unknown worker {s.get('worker')!r}")
    return doc


def cmd_replay(args) -> int:
    doc = load(args.file)
    again = run_steps(doc["adapter"], doc["workers"], doc["jobs"], doc["steps"])
    print(f"ffq blackbox replay: {args.file}: {doc['adapter']}, {len(doc['steps'])} steps")
    print(render_text(again.trace, [], again.workers, quiet=("poll",)))
    for v in again.violations:
        print(f"  {v}")
    found = sorted({v.invariant for v in again.violations})
    if "trace_sha256" in doc:
        same_trace = digest(again.trace) == doc["trace_sha256"]
        same_verdict = found == sorted(doc.get("violated", []))
        print(f"replay: same trace: {'yes' if same_trace else 'NO'}; same verdict: {'yes' if same_verdict else 'NO'}"
              f" ({', '.join(found) or 'no violation'})")
        if not (same_trace and same_verdict):
            return 1
    if args.out:
        _report(args.out, os.path.splitext(os.path.basename(args.file))[0], again, doc["adapter"], {"file": args.file})
    return 1 if found else 0


def add_parser(sub) -> None:
    bb = sub.add_parser("blackbox", help="run a third-party SQLite queue under the harness")
    bsub = bb.add_subparsers(dest="bb_command", required=True, parser_class=type(sub._parser_class()))
    e = bsub.add_parser("explore", help="search schedules of an adapter for duplicate deliveries and lost jobs")
    e.add_argument("adapter", help="module:object implementing setup() and consume()")
    e.add_argument("--workers", type=int, default=2)
    e.add_argument("--jobs", type=int, default=2)
    e.add_argument("--faults", help="comma-separated: kill (default: none)")
    e.add_argument("--strategy", choices=("dfs", "random"), default="dfs")
    e.add_argument("--max-schedules", type=int, default=2000)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--preemptions", type=int, default=2)
    e.add_argument("--max-faults", type=int, default=1)
    e.add_argument("--depth", type=int, default=60)
    e.add_argument("--invariants", help=f"comma-separated, of {', '.join(BLACKBOX_INVARIANTS)} (default: all)")
    e.add_argument("--out", default="ffq-out")
    e.set_defaults(func=cmd_explore)
    r = bsub.add_parser("replay", help="run a saved black-box schedule again and compare")
    r.add_argument("file")
    r.add_argument("--out")
    r.set_defaults(func=cmd_replay)
