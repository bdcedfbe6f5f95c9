"""Explorer throughput, and time to find and shrink FM_001, on real worker processes.

Part 1, schedules per second: fm001 under policy naive and policy fenced, 2
jobs, faults clock,kill,pause, Bounds(preemptions=1, faults=1, depth=30)
(--preemptions 2 for the larger bound: ~4550 schedules, slow), exhaustive
DFS with stop_on_first=False, so both policies run the same known number of
schedules. Each in one process (parallel=1) and sharded over two processes
(parallel=2). Seconds are ``Outcome.elapsed`` (explore's own perf_counter
clock: from the start of explore() to the last schedule, shard process start
included; the re-run of naive's first failing schedule for its report is
not). "per core" = rate / parallel; "speed-up" = parallel-2 rate / parallel-1.

Part 2, find and shrink FM_001 from scratch under naive:
- dfs: 1 job, faults clock, default Bounds, explore(..., "dfs",
  max_schedules=1000) stops at the first failing schedule ("find ms" is its
  elapsed); then shrink(explorer, failing, "INV_001") in a fresh Explorer,
  timed with perf_counter around shrink() (the Explorer's first harness start
  included).
- random: the same with strategy random, seeds 1..R, 2 jobs, faults
  clock,kill,pause; the shrink target is INV_001 (the first violation's
  invariant if INV_001 is absent).
Steps are harness steps (enqueues and the final drain included), as
``ffq explore`` reports them.

Every figure is a median over R repeats (--repeat, default 5), after one
small untimed warm-up. Target (issue): >= 100 real-process schedules/s per
core. The machine has 2 cores: anything else running skews the figures.

    scripts/bench.sh explore [--repeat R] [--preemptions 2]
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import tempfile
from time import perf_counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from failure_modes.FM_001_duplicate_execution_after_lease_timeout.scenario import SCENARIO  # noqa: E402
from harness.explore import Bounds, Config, Explorer, jobs_of
from harness.search import explore  # noqa: E402
from harness.shrink import shrink  # noqa: E402

med = statistics.median
ALL_FAULTS = frozenset({"clock", "kill", "pause"})
TARGET = 100.0  # schedules/s per core


def throughput(policy, parallel, bounds, repeat):
    config = Config(SCENARIO, policy, jobs_of(SCENARIO, 2), ALL_FAULTS, bounds)
    runs = [explore(config, "dfs", max_schedules=10**9, parallel=parallel, stop_on_first=False)
            for _ in range(repeat)]
    counts = {o.schedules for o in runs}
    assert len(counts) == 1, f"schedule counts differ between repeats: {counts}"
    return {"schedules": runs[0].schedules, "exhausted": all(o.exhausted for o in runs),
            "seconds": med(o.elapsed for o in runs), "rate": med(o.rate for o in runs)}


def find_and_shrink(config, strategy, seed):
    outcome = explore(config, strategy, seed=seed, max_schedules=1000)
    assert outcome.failing, f"{strategy} seed {seed}: no violation in {outcome.schedules} schedules"
    first = outcome.failing[0]
    found = [v.invariant for v in first.violations]
    target = "INV_001" if "INV_001" in found else found[0]
    with Explorer(config) as ex:
        t0 = perf_counter()
        shrunk = shrink(ex, first, target)
        shrink_s = perf_counter() - t0
    return {"schedules": outcome.schedules, "find": outcome.elapsed, "shrink": shrink_s, "runs": shrunk.runs,
            "before": len(first.steps), "after": len(shrunk.schedule.steps), "target": target,
            "found": ",".join(sorted(set(found)))}


def leftovers():
    """Our child processes (from /proc) and explorer work directories still on disk."""
    pid, kids = os.getpid(), []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            kids += f.read().split()
    dirs = {d for base in ("/dev/shm", tempfile.gettempdir()) for d in glob.glob(f"{base}/ffq-explore-*")}
    return kids, dirs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--preemptions", type=int, default=1, choices=(1, 2))
    a = ap.parse_args()
    R, bounds = a.repeat, Bounds(a.preemptions, 1, 30)
    _, dirs_before = leftovers()
    warm = Config(SCENARIO, "fenced", jobs_of(SCENARIO, 2), ALL_FAULTS, bounds)
    explore(warm, "dfs", max_schedules=20, stop_on_first=False)  # warm-up: imports, page cache

    print(f"## Schedules per second, fm001, exhaustive DFS ({R} repeats, medians)\n")
    print(f"Config: 2 jobs, faults clock,kill,pause, bound: {bounds}; stop_on_first=False.\n")
    print("| policy | parallel | schedules | exhausted | median s | median schedules/s "
          "| schedules/s per core | speed-up vs parallel 1 |\n|---|---:|---:|---|---:|---:|---:|---:|")
    rows = []
    for policy in ("naive", "fenced"):
        one = None
        for parallel in (1, 2):
            r = throughput(policy, parallel, bounds, R)
            one = one or r["rate"]
            per_core = r["rate"] / parallel
            rows.append((policy, parallel, per_core))
            print(f"| {policy} | {parallel} | {r['schedules']} | {'yes' if r['exhausted'] else 'NO'} "
                  f"| {r['seconds']:.3f} | {r['rate']:.1f} | {per_core:.1f} | {r['rate'] / one:.2f}x |")
    print("\nMachine: 2 cores, shared and noisy; figures are medians, expect run-to-run spread. "
          "parallel=2 uses both cores, so this process and the OS compete with the shards.")

    print(f"\n## Find and shrink FM_001 from scratch, policy naive ({R} repeats, medians)\n")
    dfs_cfg = Config(SCENARIO, "naive", jobs_of(SCENARIO, 1), frozenset({"clock"}))
    rnd_cfg = Config(SCENARIO, "naive", jobs_of(SCENARIO, 2), ALL_FAULTS)
    print("| strategy | config | schedules to 1st violation | find ms | shrink ms | shrink runs "
          "| steps before → after | violated (shrink target) |\n|---|---|---:|---:|---:|---:|---|---|")
    for label, cfg, results in (
            ("dfs", dfs_cfg, [find_and_shrink(dfs_cfg, "dfs", 0) for _ in range(R)]),
            (f"random, seeds 1..{R}", rnd_cfg, [find_and_shrink(rnd_cfg, "random", s) for s in range(1, R + 1)])):
        m = lambda k: med(r[k] for r in results)  # noqa: E731
        found = "; ".join(sorted({f"{r['found']} ({r['target']})" for r in results}))
        print(f"| {label} | {len(cfg.jobs)} job(s), faults {','.join(sorted(cfg.faults))}, {cfg.bounds} "
              f"| {m('schedules'):g} | {m('find') * 1e3:.1f} | {m('shrink') * 1e3:.1f} | {m('runs'):g} "
              f"| {m('before'):g} → {m('after'):g} | {found} |")
        if label != "dfs":
            print("\nper seed: " + ", ".join(f"seed {s}: {r['schedules']} schedules, {r['before']} → {r['after']} "
                                             f"steps" for s, r in enumerate(results, 1)))

    print("\n## Target (issue, 2 cores)\n")
    for policy, parallel, per_core in rows:
        print(f"- >= {TARGET:.0f} schedules/s per core, {policy}, parallel {parallel}: {per_core:.1f} -> "
              f"{'met' if per_core >= TARGET else 'MISSED'}")
    kids, dirs = leftovers()
    print(f"- cleanup: child processes left {len(kids)}, explorer work dirs left {len(dirs - dirs_before)}")


if __name__ == "__main__":
    main()
