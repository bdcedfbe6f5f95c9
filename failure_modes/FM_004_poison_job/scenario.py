"""FM_004 — a poison job, as schedules.

Two jobs whose handler always fails, enqueued before one healthy job. The
naive policy puts a failed job back at once; being the oldest visible jobs,
the poison jobs are leased again and again and the healthy job never runs.
``budget`` caps attempts (then dead-letters), backs off on the controlled
clock, and takes each retry from a global token bucket.
"""

from __future__ import annotations

from harness.scenario import Scenario

TTL = 30.0
POISON = {"op": "enqueue", "kind": "poison", "payload": {}}
HEALTHY = {"op": "enqueue", "kind": "charge", "payload": {"amount": 10}}

SCENARIO = Scenario(
    name="fm004",
    title="poison job: unbounded retries starve the queue",
    workers=("A", "B"),
    variants={"starve": [POISON, POISON, HEALTHY, {"op": "drain"}]},
    lease_ttl=TTL,
    naive="naive",
    fix="budget",
    invariant="INV_005",
    explore={"faults": ("clock",)},
)
