"""FM_009 — lease extension race, as schedules.

Workers heartbeat (extend their lease) before acting. A's heartbeat is late:
its lease has expired and B has leased the job (token 2). The naive extend
acts on the job by id and makes A a holder again: two live leases at once
(INV_003). ``fenced-commit`` extends only with the current token and only
while unexpired; the late heartbeat is refused and A abandons the job.
"""

from __future__ import annotations

from harness.scenario import Scenario

TTL = 30.0
ENQUEUE = {"op": "enqueue", "kind": "charge", "payload": {"amount": 60}}

STEPS = [ENQUEUE, {"op": "run_until", "worker": "A", "checkpoint": "before_heartbeat"},
         {"op": "advance", "seconds": TTL + 1},
         {"op": "run_until", "worker": "B", "checkpoint": "before_heartbeat"},
         {"op": "step", "worker": "A"}, {"op": "drain"}]

SCENARIO = Scenario(
    name="fm009",
    title="lease extension race",
    workers=("A", "B"),
    variants={"late_heartbeat": STEPS},
    lease_ttl=TTL,
    naive="naive",
    fix="fenced-commit",
    invariant="INV_003",
    harness_options={"design": {"heartbeat": True}},
    explore={"faults": ("clock",), "invariants": ("INV_003",)},
)
