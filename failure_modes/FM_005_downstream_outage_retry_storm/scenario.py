"""FM_005 — downstream outage and retry storm, as schedules.

The downstream is unavailable for the first 100 s of controlled time. The
naive policy retries every failed call at once, from every worker: the calls
that hit the failing dependency grow with workers, jobs and time (INV_007).
``circuit_breaker`` opens after 3 failures and lets one probe through per
30 s cooldown: at most 3 + ceil(100 / 30) = 7 calls during the outage,
however many jobs wait.
"""

from __future__ import annotations

from harness.scenario import Scenario
from policies.circuit_breaker import bound

TTL = 30.0
OUTAGE = (0.0, 100.0)
JOBS = [{"op": "enqueue", "kind": "charge", "payload": {"amount": n}} for n in (1, 2, 3, 4)]

SCENARIO = Scenario(
    name="fm005",
    title="downstream outage and retry storm",
    workers=("A", "B"),
    variants={"storm": JOBS + [{"op": "drain"}]},
    lease_ttl=TTL,
    naive="naive",
    fix="circuit_breaker",
    invariant="INV_007",
    max_attempts=20,
    harness_options={"downstream": {"outages": [list(OUTAGE)],
                                    "call_bound": bound(OUTAGE[1] - OUTAGE[0])}},
    explore={"faults": ("clock",), "jobs": 2},
)
