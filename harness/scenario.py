"""Scenarios: a failure mode's set-up and schedules as data, run the same way by tests, demos and ``ffq``.

A ``Scenario`` names its workers, lease ttl, the policy that shows the failure
(``naive``) and the one that fixes it, and one or more *variants*: schedules
(``harness.schedule`` steps) that differ in how the failure is triggered.
Repro and prevent tests run the very same variant and differ only in the
policy.

``Scenario.run`` executes a variant on real worker processes and returns a
``RunResult``: the trace, the history, the ledger, the jobs and the invariant
verdicts, captured before the harness is closed.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Sequence

from runtime import BadInput, Effect, Event, Job, Violation

from . import schedule
from .harness import Harness
from .trace import TraceEvent


@dataclass(frozen=True)
class RunResult:
    """Everything a run left behind, and the invariants' verdict on it."""

    scenario: str
    variant: str
    policy: str
    steps: list[dict[str, Any]]
    trace: list[TraceEvent]
    history: list[Event]
    ledger: list[Effect]
    jobs: list[Job]
    violations: list[Violation]
    drained: bool
    workers: tuple[str, ...] = ()
    lease_ttl: float = 30.0
    outage: bool = False  # an outage and a call bound were stated: INV_007 was checked

    def effects(self, job: int | None = None) -> list[Effect]:
        return [e for e in self.ledger if e.applied and (job is None or e.job == job)]

    def violated(self, invariant: str | None = None) -> list[Violation]:
        return [v for v in self.violations if invariant is None or v.invariant == invariant]

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class Scenario:
    """A failure mode's reproduction, as data."""

    name: str
    title: str
    workers: tuple[str, ...]
    variants: dict[str, list[dict[str, Any]]]
    lease_ttl: float = 30.0
    naive: str = "naive"
    fix: str = "fenced"
    invariant: str = "INV_001"
    default: str = ""
    harness_options: dict[str, Any] = field(default_factory=dict)
    max_attempts: int = 5
    explore: dict[str, Any] = field(default_factory=dict)  # defaults for ffq explore: faults, jobs
    variant_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # harness options per variant
    producers: tuple[str, ...] = ()  # producer processes (FM_007), besides the workers

    @property
    def judged(self) -> frozenset[str]:
        """The invariants this scenario's fix is judged on (empty: all of them)."""
        return frozenset(self.explore.get("invariants", ()))

    @property
    def participants(self) -> tuple[str, ...]:
        return tuple(self.workers) + tuple(self.producers)

    def __post_init__(self) -> None:
        for variant, steps in self.variants.items():
            schedule.validate_steps(steps, self.participants)

    @property
    def default_variant(self) -> str:
        return self.default or next(iter(self.variants))

    def steps(self, variant: str | None = None) -> list[dict[str, Any]]:
        variant = variant or self.default_variant
        try:
            return [dict(s) for s in self.variants[variant]]
        except KeyError:
            raise BadInput(f"scenario {self.name} has no variant {variant!r}; "
                           f"variants: {', '.join(self.variants)}") from None

    def harness(self, workdir: str | os.PathLike | None, policy: str, workers: Sequence[str] | None = None,
                lease_ttl: float | None = None, **options: Any) -> Harness:
        return Harness(workdir, workers=tuple(workers or self.workers), policy=policy,
                       lease_ttl=self.lease_ttl if lease_ttl is None else lease_ttl,
                       producers=self.producers, **{**self.harness_options, **options})

    def run(self, policy: str, variant: str | None = None, workdir: str | os.PathLike | None = None,
            steps: Sequence[dict[str, Any]] | None = None, drain: bool = True,
            workers: Sequence[str] | None = None, lease_ttl: float | None = None, **options: Any) -> RunResult:
        """Run a variant (or explicit ``steps``) under ``policy`` on real processes; drain; check.

        With ``drain=False`` the run is judged drained only if its steps end with a ``drain`` step.
        """
        variant = variant or self.default_variant
        workers = tuple(workers or self.workers)
        steps = (self.steps(variant) if steps is None
                 else schedule.validate_steps(list(steps), workers + tuple(self.producers)))
        with tempfile.TemporaryDirectory(prefix=f"ffq-{self.name}-") as tmp:
            options = {**self.variant_options.get(variant, {}), **options}
            with self.harness(workdir or tmp, policy, workers, lease_ttl, **options) as h:
                schedule.apply(h, steps)
                if drain:
                    drained = h.drain()
                else:
                    drained = bool(steps) and steps[-1]["op"] == "drain" and h.last_drain
                return RunResult(self.name, variant, h.policy_name, h.steps, h.trace, h.history(), h.ledger(),
                                 h.jobs(), h.check(drained=drained, max_attempts=self.max_attempts), drained,
                                 workers + tuple(self.producers), h.lease_ttl, bool(h.downstream.get("outages")) and
                                 h.downstream.get("call_bound") is not None)


def load_scenario(ref: str) -> Scenario:
    """A scenario by ``module:attribute`` path."""
    module, _, attr = ref.partition(":")
    try:
        obj = getattr(importlib.import_module(module), attr or "SCENARIO")
    except (ImportError, AttributeError) as exc:
        raise BadInput(f"cannot load scenario {ref!r}: {exc}") from None
    if not isinstance(obj, Scenario):
        raise BadInput(f"{ref!r} is a {type(obj).__name__}, not a Scenario")
    return obj
