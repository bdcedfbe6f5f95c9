"""FM_010 — clock skew between workers, as schedules.

B's clock runs 40 s ahead of the store's. A leases the job at t=0 for 30 s;
B polls at (store) t=0, reads 40 on its own clock, judges A's live lease
expired and takes the job: two holders at once (INV_003), and both act.
``store-clock`` judges lease expiry by the store's clock only.
"""

from __future__ import annotations

from harness.scenario import Scenario

TTL = 30.0
SKEW = 40.0
ENQUEUE = {"op": "enqueue", "kind": "charge", "payload": {"amount": 15}}

STEPS = [ENQUEUE, {"op": "run_until", "worker": "A", "checkpoint": "before_effect"},
         {"op": "step", "worker": "B"}, {"op": "drain"}]

SCENARIO = Scenario(
    name="fm010",
    title="clock skew between workers",
    workers=("A", "B"),
    variants={"fast_clock": STEPS},
    lease_ttl=TTL,
    naive="naive",
    fix="store-clock",
    invariant="INV_003",
    harness_options={"skew": {"B": (SKEW, 1.0)}},
    explore={"faults": ("clock",), "invariants": ("INV_003",)},
)
