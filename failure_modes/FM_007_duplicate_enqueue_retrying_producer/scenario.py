"""FM_007 — duplicate enqueue by a retrying producer, as schedules.

Producer P's enqueue of request r1 commits, and P is SIGKILLed before it
records the success in its journal (its caller saw a timeout). Restarted, P
retries what it cannot prove it sent: the same logical request becomes two
jobs, and both run (INV_009). ``dedup`` sends the request id as the job's
dedup key, unique in the store: the retry finds the first job.
"""

from __future__ import annotations

from harness.scenario import Scenario

TTL = 30.0
REQUEST = {"op": "request", "producer": "P", "kind": "charge", "payload": {"amount": 40}, "request": "order-7"}

STEPS = [REQUEST, {"op": "run_until", "worker": "P", "checkpoint": "enqueued"}, {"op": "kill", "worker": "P"},
         {"op": "restart", "worker": "P"}, {"op": "run_until", "worker": "P", "checkpoint": "acked"},
         {"op": "drain"}]

SCENARIO = Scenario(
    name="fm007",
    title="duplicate enqueue by a retrying producer",
    workers=("A",),
    producers=("P",),
    variants={"kill_after_enqueue": STEPS},
    lease_ttl=TTL,
    naive="naive",
    fix="dedup",
    invariant="INV_009",
    explore={"faults": ("kill",), "invariants": ("INV_009",)},
)
