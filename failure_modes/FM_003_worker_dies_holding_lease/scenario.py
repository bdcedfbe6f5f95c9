"""FM_003 — a worker dies holding the lease, as schedules.

A leases the job and is SIGKILLed before doing anything with it. Under an
at-most-once queue design the job never comes back: with a lease that never
expires it is stranded in ``leased`` (variant ``stranded``); with delete on
dequeue its row is gone (variant ``lost``). Either way INV_002 is violated
once the surviving worker has drained the queue. ``reconcile`` makes every
lease expire and sweeps orphaned leases back to ``queued``.
"""

from __future__ import annotations

from harness.scenario import Scenario

TTL = 30.0
ENQUEUE = {"op": "enqueue", "kind": "charge", "payload": {"amount": 75}}

STEPS = [ENQUEUE, {"op": "run_until", "worker": "A", "checkpoint": "before_effect"},
         {"op": "kill", "worker": "A"}, {"op": "advance", "seconds": 10 * TTL}]

SCENARIO = Scenario(
    name="fm003",
    title="a worker dies holding the lease",
    workers=("A", "B"),
    variants={"stranded": STEPS, "lost": STEPS},
    variant_options={"stranded": {"delivery": "no-expiry"}, "lost": {"delivery": "delete"}},
    lease_ttl=TTL,
    naive="naive",
    fix="reconcile",
    invariant="INV_002",
    harness_options={"delivery": "no-expiry"},
    explore={"faults": ("clock", "kill")},
)
