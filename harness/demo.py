"""The repro demo: one failure mode, under the policy that shows it and the one that fixes it.

    python -m harness.demo FM_001 [--variant pause] [--kill A:after_effect]

For each policy it prints the timeline (one column per worker, the clock,
every checkpoint, the kill/pause/clock steps, the effects), the effect count
per job and the invariant verdicts. Exit status: 0 when the naive run shows
the failure mode's invariant violated and the fixed run violates nothing;
1 otherwise; 2 for bad input.
"""

from __future__ import annotations

import argparse
import sys

from failure_modes import catalog
from runtime import BadInput, CHECKPOINTS, LabError

from .scenario import RunResult, Scenario
from .timeline import render_summary


def kill_schedule(scenario: Scenario, worker: str, checkpoint: str) -> list[dict]:
    """Enqueue the scenario's jobs, kill ``worker`` at ``checkpoint``, let the lease expire; the run drains."""
    if worker not in scenario.workers:
        raise BadInput(f"--kill names unknown worker {worker!r}; workers are {', '.join(scenario.workers)}")
    if checkpoint not in CHECKPOINTS:
        raise BadInput(f"--kill names unknown checkpoint {checkpoint!r}; checkpoints are {', '.join(CHECKPOINTS)}")
    enqueues = [s for s in scenario.steps() if s["op"] == "enqueue"]
    return enqueues + [{"op": "run_until", "worker": worker, "checkpoint": checkpoint},
                       {"op": "kill", "worker": worker}, {"op": "advance", "seconds": scenario.lease_ttl + 1}]


def report(run: RunResult, out=None) -> None:
    out = out or sys.stdout
    print(f"\n--- policy: {run.policy} ---", file=out)
    print(render_summary(run), file=out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="repro", description=__doc__.splitlines()[0])
    p.add_argument("mode", help="failure mode: FM_001, fm001, 1, …")
    p.add_argument("--variant", help="which schedule of the failure mode (default: its first)")
    p.add_argument("--kill", metavar="WORKER:CHECKPOINT", help="instead: kill WORKER at CHECKPOINT, then drain")
    p.add_argument("--naive", help="the policy that shows the failure (default: the scenario's)")
    p.add_argument("--fix", help="the policy that prevents it (default: the scenario's)")
    args = p.parse_args(argv)
    try:
        entry = catalog.find(args.mode)
        sc = entry.scenario
        if args.kill:
            worker, _, checkpoint = args.kill.partition(":")
            steps, label = kill_schedule(sc, worker, checkpoint), f"kill {worker} at {checkpoint}"
        else:
            steps, label = sc.steps(args.variant), f"variant '{args.variant or sc.default_variant}'"
        print(f"{entry.id} - {sc.title}; {label}; workers {', '.join(sc.workers)}; lease ttl {sc.lease_ttl:g} s")
        print(f"spec: {entry.spec}")
        runs = [sc.run(pol, variant=args.variant, steps=steps) for pol in (args.naive or sc.naive, args.fix or sc.fix)]
    except BadInput as exc:
        print(f"repro: {exc}", file=sys.stderr)
        return 2
    except LabError as exc:
        print(f"repro: the run failed: {exc}", file=sys.stderr)
        return 1
    for run in runs:
        report(run)
    naive, fixed = runs
    shown = bool(naive.violated(sc.invariant))
    judged = [v for v in fixed.violations if not sc.judged or v.invariant in sc.judged]
    print("\nverdict:")
    print(f"  {naive.policy}: " + (f"{sc.invariant} violated - the failure reproduces" if shown
                                   else f"{sc.invariant} held - this schedule does not reproduce the failure"))
    scope = "every invariant" if not sc.judged else ", ".join(sorted(sc.judged))
    print(f"  {fixed.policy}: " + (f"{scope} held - the fix prevents it" if not judged
                                   else f"violated {sorted({v.invariant for v in judged})}"))
    others = sorted({v.invariant for v in fixed.violations} - {v.invariant for v in judged})
    if others:
        print(f"  ({fixed.policy} is judged on {scope} only; it also violates {', '.join(others)}: "
              "another failure mode's, see the spec)")
    return 0 if shown and not judged else 1


if __name__ == "__main__":
    sys.exit(main())
