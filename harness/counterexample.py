"""Minimal counterexamples for the catalog, and their embedding in each failure mode's spec.md.

``minimal(scenario)`` explores the scenario under its naive policy from
scratch (depth first, with the scenario's default faults and jobs), shrinks
the first violation of the scenario's invariant, and runs the result once
more to keep its trace and ledger. ``embed(spec, cex)`` writes the Mermaid
diagram and the schedule-as-program between two markers in ``spec.md``:

    <!-- counterexample:begin -->  …  <!-- counterexample:end -->

``scripts/embed_counterexamples.py`` does it for every failure mode; its
``--check`` mode (run by the tests) fails when a spec is out of date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runtime import LabError, Violation

from .explore import Bounds, Config, Explorer, jobs_of
from .search import explore
from .scenario import Scenario
from .shrink import shrink

BEGIN, END = "<!-- counterexample:begin -->", "<!-- counterexample:end -->"


@dataclass
class Counterexample:
    scenario: Scenario
    policy: str
    steps: list[dict[str, Any]]
    workers: tuple[str, ...]
    violations: list[Violation]
    trace: list
    ledger: list
    explored: int
    bound: str


def minimal(sc: Scenario, policy: str | None = None, max_schedules: int = 5000) -> Counterexample:
    policy = policy or sc.explore.get("policy", sc.naive)
    config = Config(sc, policy, jobs_of(sc, sc.explore.get("jobs")),
                    frozenset(sc.explore.get("faults", ("clock",))),
                    Bounds(sc.explore.get("preemptions", 2), sc.explore.get("max_faults", 1),
                           sc.explore.get("depth", 30)), invariants=frozenset(sc.explore.get("invariants", ())))
    outcome = explore(config, "dfs", max_schedules=max_schedules)
    failing = [s for s in outcome.failing if any(v.invariant == sc.invariant for v in s.violations)]
    if not failing:
        raise LabError(f"{sc.name}: no {sc.invariant} violation under {policy} within {outcome.coverage()}")
    with Explorer(config) as ex:
        shrunk = shrink(ex, failing[0], sc.invariant)
        final = ex.run_steps(shrunk.schedule.steps, shrunk.workers, keep=True)
    return Counterexample(sc, policy, final.steps, shrunk.workers, final.violations, final.trace,
                          final.ledger, outcome.schedules, str(config.bounds))


def block(cex: Counterexample) -> str:
    from .cli import as_program, program_options
    from .report import mermaid
    sc = cex.scenario
    diagram = mermaid(cex.trace, cex.ledger, tuple(cex.workers) + tuple(sc.producers), cex.violations,
                      title=f"{sc.name}: minimal counterexample under {cex.policy}")
    program = as_program(cex.steps, cex.workers, cex.policy, sc.lease_ttl, cex.violations, program_options(sc),
                         sc.max_attempts)
    return (f"{BEGIN}\n"
            f"Found by `ffq explore {sc.name} --policy {cex.policy}` from scratch ({cex.explored} schedule(s) "
            f"explored, bound: {cex.bound}) and shrunk to {len(cex.steps)} steps. Regenerate with "
            f"`scripts/embed_counterexamples.py`.\n\n"
            f"```mermaid\n{diagram}\n```\n\n```python\n{program}\n```\n{END}")


def embed(text: str, cex: Counterexample) -> str:
    """``text`` with its counterexample block replaced (or appended under a heading)."""
    new = block(cex)
    if BEGIN in text and END in text:
        return re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _: new, text, flags=re.S)
    return text.rstrip("\n") + "\n\n## Minimal counterexample (explorer)\n\n" + new + "\n"
