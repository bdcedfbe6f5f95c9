"""``ffq``: run, explore and replay failure scenarios on real worker processes.

    ffq list
    ffq run SCENARIO_OR_FILE [--policy P] [--variant V] [--out DIR]
    ffq explore SCENARIO [--policy P] [--strategy dfs|random] [--max-schedules N] [--seed S]
                         [--faults kill,pause,clock] [--parallel K] [--out DIR]
                         [--jobs N] [--preemptions N] [--max-faults N] [--depth N] [--keep-going]
    ffq replay FILE [--out DIR]
    ffq blackbox explore module:Adapter [--workers 2] [--jobs 2] [--faults kill] [--max-schedules N]
                                        [--seed S] [--out DIR]
    ffq blackbox replay FILE

Exit status: 0 no violation, 1 a violation was found (or a replay diverged),
2 bad input, with a one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Sequence

from runtime import BadInput, HarnessError, LabError
from runtime.invariants import DEFAULT_MAX_ATTEMPTS

from . import schedule
from .explore import FAULTS, Bounds, Config, Explorer, jobs_of
from .search import Outcome, explore
from .scenario import RunResult, Scenario, load_scenario
from .shrink import shrink
from .timeline import render_summary, render_text
from .trace import digest

DEFAULT_OUT = "ffq-out"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: one line, exit 2
        raise BadInput(message)


def _scenario(ref: str) -> tuple[Scenario, str]:
    """A scenario by failure-mode id or name (``fm001``, ``FM_001``) or ``module:attr``."""
    if ":" in ref:
        return load_scenario(ref), ref
    from failure_modes import catalog
    entry = catalog.find(ref)
    return entry.scenario, entry.id



def _print_run(run: RunResult) -> None:
    print(render_summary(run))


def _reports(out: str | None, base: str, run: RunResult, title: str, meta: dict) -> None:
    if not out:
        return
    from .report import write_reports
    paths = write_reports(out, base, run.trace, run.ledger, run.workers, run.violations, title=title, meta=meta)
    print("reports: " + ", ".join(sorted(paths.values())))


def program_options(sc: Scenario) -> dict[str, Any]:
    """The harness options a scenario's runs need, for ``as_program``."""
    return {**sc.harness_options, "producers": tuple(sc.producers)}


def as_program(steps: Sequence[dict[str, Any]], workers: Sequence[str], policy: str, lease_ttl: float,
               violations=(), options: dict[str, Any] | None = None, max_attempts: int | None = None) -> str:
    """A schedule printed back as a program you can paste into a test (with the scenario's
    harness options, so that it reproduces as printed)."""
    extra = "".join(f", {k}={v!r}" for k, v in sorted((options or {}).items()) if v not in (None, (), {}))
    lines = [f"with Harness(workdir, workers={tuple(workers)!r}, policy={policy!r}, lease_ttl={lease_ttl!r}{extra}) as h:"]
    for s in steps:
        op = s["op"]
        if op == "enqueue":
            extra = f", dedup_key={s['dedup_key']!r}" if s.get("dedup_key") is not None else ""
            lines.append(f"    h.enqueue({s['kind']!r}, {s.get('payload')!r}{extra})")
        elif op == "run_until":
            lines.append(f"    h.run_until({s['worker']!r}, {s['checkpoint']!r})")
        elif op == "advance":
            lines.append(f"    h.advance({s['seconds']!r})")
        elif op == "drain":
            lines.append("    drained = h.drain()")
        elif op == "request":
            lines.append(f"    h.request({s['producer']!r}, {s['kind']!r}, {s.get('payload')!r}, request={s.get('request')!r})")
        else:
            lines.append(f"    h.{op}({s['worker']!r})")
    args = ["drained=drained"] if steps and steps[-1]["op"] == "drain" else []
    if max_attempts is not None and max_attempts != DEFAULT_MAX_ATTEMPTS:
        args.append(f"max_attempts={max_attempts}")
    lines.append(f"    h.check({', '.join(args)})" + "".join(f"  # {v.invariant}: {v.message}" for v in violations[:1]))
    return "\n".join(lines)


# --- commands ------------------------------------------------------------------


def cmd_list(args) -> int:
    from failure_modes import catalog
    print(f"{'id':<7} {'scenario':<9} {'invariant':<9} {'fix':<16} variants / title")
    for e in catalog.entries():
        sc = e.scenario
        print(f"{e.id:<7} {sc.name:<9} {sc.invariant:<9} {sc.fix:<16} {', '.join(sc.variants)}")
        print(f"{'':<7} {sc.title}  ({e.spec})")
    exhibits = sorted(d for d in os.listdir(catalog.HERE) if d.startswith("BB_"))
    if exhibits:
        print("\nblack-box exhibits (third-party queues, ffq blackbox replay <folder>/counterexample.json):")
        for d in exhibits:
            print(f"  {d}  (failure_modes/{d}/spec.md)")
    import policies
    print(f"\npolicies: {', '.join(policies.names())}")
    print(f"faults for explore: {', '.join(sorted(FAULTS))}")
    return 0


def cmd_run(args) -> int:
    if os.path.isfile(args.target) or args.target.endswith(".json"):
        return _replay(args.target, args.out, compare=False)
    sc, label = _scenario(args.target)
    policy = args.policy or sc.naive
    run = sc.run(policy, args.variant)
    print(f"ffq run: {label} {sc.title}; variant {run.variant}; policy {policy}")
    _print_run(run)
    _reports(args.out, f"{sc.name}-{run.variant}-{policy}", run, f"{label} {run.variant} under {policy}",
             {"scenario": sc.name, "variant": run.variant, "policy": policy})
    return 1 if run.violations else 0


def _replay(path: str, out: str | None, compare: bool = True) -> int:
    doc = schedule.load(path)
    ref = doc.get("scenario_ref") or doc.get("scenario")
    if not ref:
        raise BadInput(f"{path} names no scenario")
    sc, label = _scenario(ref)
    run = sc.run(doc["policy"], steps=doc["steps"], drain=False, workers=doc["workers"],
                 lease_ttl=doc["lease_ttl"])
    print(f"ffq replay: {path}: {label}, policy {doc['policy']}, {len(doc['steps'])} steps")
    _print_run(run)
    _reports(out, os.path.splitext(os.path.basename(path))[0], run, f"replay of {os.path.basename(path)}",
             {"file": path, "policy": doc["policy"], "seed": doc.get("seed")})
    found = sorted({v.invariant for v in run.violations})
    if compare and "trace_sha256" in doc:
        same_trace = digest(run.trace) == doc["trace_sha256"]
        same_verdict = found == sorted(doc.get("violated", []))
        print(f"replay: same trace: {'yes' if same_trace else 'NO'}; same verdict: {'yes' if same_verdict else 'NO'}"
              f" ({', '.join(found) or 'no violation'})")
        if not (same_trace and same_verdict):
            print("replay DIVERGED from the recorded run", file=sys.stderr)
            return 1
    return 1 if found else 0


def cmd_replay(args) -> int:
    return _replay(args.file, args.out)


def _progress_printer(enabled: bool):
    import time
    last = [0.0]

    def show(n: int, bad: int, elapsed: float) -> None:
        now = time.monotonic()
        if now - last[0] < 0.25:
            return
        last[0] = now
        rate = n / elapsed if elapsed else 0.0
        bar = "#" * min(30, n * 30 // max(1, show.total))
        sys.stderr.write(f"\r  [{bar:<30}] {n} schedules  {rate:6.1f}/s  violations {bad}")
        sys.stderr.flush()
    show.total = 1
    return show if enabled else None


def cmd_explore(args) -> int:
    sc, label = _scenario(args.scenario)
    import policies
    policy = policies.get(args.policy or sc.naive).name
    faults = (frozenset(f for f in args.faults.split(",") if f) if args.faults is not None
              else frozenset(sc.explore.get("faults", ("clock",))))
    judged = (frozenset(i for i in args.invariants.split(",") if i) if args.invariants is not None
              else frozenset(sc.explore.get("invariants", ())))
    config = Config(sc, policy, jobs_of(sc, args.jobs if args.jobs is not None else sc.explore.get("jobs")), faults,
                    Bounds(args.preemptions, args.max_faults, args.depth), invariants=judged)
    progress = _progress_printer(args.progress or sys.stderr.isatty())
    if progress:
        progress.total = args.max_schedules
    print(f"ffq explore: {label} ({sc.title}), policy {policy}, strategy {args.strategy}"
          + (f", seed {args.seed}" if args.strategy == "random" else "") + f", parallel {args.parallel}")
    outcome: Outcome = explore(config, args.strategy, args.seed, args.max_schedules, args.parallel,
                               stop_on_first=not args.keep_going, progress=progress)
    if progress:
        sys.stderr.write("\n")
    print(f"  explored {outcome.schedules} schedules in {outcome.elapsed:.2f} s ({outcome.rate:.0f}/s)")
    print(f"  covered: {outcome.coverage()}")
    if not outcome.failing:
        print("  violations: none")
        return 0
    first = outcome.failing[0]
    found = [v.invariant for v in first.violations]
    target = sc.invariant if sc.invariant in found else found[0]  # the scenario's own invariant first
    print(f"  violations: {', '.join(sorted({v.invariant for v in first.violations}))} "
          f"(first failing schedule: {len(first.moves)} moves, {len(first.steps)} steps)")
    with Explorer(config) as ex:
        shrunk = shrink(ex, first, target) if not args.no_shrink else None
        final = shrunk.schedule if shrunk else first
        workers = shrunk.workers if shrunk else config.workers
        replayed = ex.run_steps(final.steps, workers, keep=True, judge=False)  # the file records every verdict
        if replayed is None:
            raise HarnessError("the shrunk schedule could not be run again; the exploration is not reproducible")
    print(f"shrunk: {len(first.steps)} -> {len(final.steps)} steps "
          f"({shrunk.runs if shrunk else 0} runs), still violates {target}")
    os.makedirs(args.out, exist_ok=True)
    base = f"{sc.name}-{policy}-{target}"
    path = os.path.join(args.out, base + ".json")
    violated = sorted({v.invariant for v in replayed.violations})
    schedule.save(path, final.steps, workers=workers, producers=sc.producers, policy=policy,
                  lease_ttl=sc.lease_ttl, scenario=sc.name,
                  seed=args.seed if args.strategy == "random" else None, strategy=args.strategy,
                  bound=str(config.bounds), faults=sorted(faults), invariant=target, violated=violated,
                  violations=[v.as_dict() for v in replayed.violations], trace_sha256=digest(replayed.trace))
    print(f"minimal schedule (saved to {path}; replay with: ffq replay {path}):")
    print(as_program(final.steps, workers, policy, sc.lease_ttl, replayed.violations, program_options(sc),
                     sc.max_attempts))
    run = RunResult(sc.name, "shrunk", policy, final.steps, replayed.trace, replayed.history, replayed.ledger,
                    [], replayed.violations, True, tuple(workers) + tuple(sc.producers), sc.lease_ttl)
    print(render_text(run.trace, run.ledger, run.workers))
    _reports(args.out, base, run, f"{label}: minimal counterexample under {policy}",
             {"scenario": sc.name, "policy": policy, "strategy": args.strategy, "seed": args.seed,
              "bound": str(config.bounds), "schedules explored": outcome.schedules})
    return 1


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ffq", description="Failure-first job-queue lab: run, explore, replay.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="scenarios and failure modes").set_defaults(func=cmd_list)

    r = sub.add_parser("run", help="run a scenario's variant, or a schedule file")
    r.add_argument("target", metavar="SCENARIO_OR_FILE")
    r.add_argument("--policy")
    r.add_argument("--variant")
    r.add_argument("--out", help="write HTML and Mermaid reports here")
    r.set_defaults(func=cmd_run)

    e = sub.add_parser("explore", help="search schedules for an invariant violation")
    e.add_argument("scenario")
    e.add_argument("--policy")
    e.add_argument("--strategy", choices=("dfs", "random"), default="dfs")
    e.add_argument("--max-schedules", type=int, default=5000)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--faults", help="comma-separated: clock,kill,pause (default: the scenario's, else clock)")
    e.add_argument("--parallel", type=int, default=1)
    e.add_argument("--out", default=DEFAULT_OUT)
    e.add_argument("--jobs", type=int, help="number of jobs (default: the scenario's)")
    e.add_argument("--preemptions", type=int, default=2)
    e.add_argument("--max-faults", type=int, default=1)
    e.add_argument("--depth", type=int, default=30)
    e.add_argument("--invariants", help="comma-separated: only these count as violations "
                                        "(default: the scenario's judged invariants, else all)")
    e.add_argument("--keep-going", action="store_true", help="do not stop at the first violation")
    e.add_argument("--no-shrink", action="store_true")
    e.add_argument("--progress", action="store_true", help="progress bar even when stderr is not a terminal")
    e.set_defaults(func=cmd_explore)

    from . import bbcli
    bbcli.add_parser(sub)

    rp = sub.add_parser("replay", help="run a saved schedule file again and compare")
    rp.add_argument("file")
    rp.add_argument("--out", help="write HTML and Mermaid reports here")
    rp.set_defaults(func=cmd_replay)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except BadInput as exc:
        print(f"ffq: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except HarnessError as exc:
        print(f"ffq: the run failed: {exc}", file=sys.stderr)
        return 1
    except LabError as exc:
        print(f"ffq: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ffq: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
