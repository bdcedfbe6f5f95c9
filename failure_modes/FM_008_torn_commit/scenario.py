"""FM_008 — torn commit, as schedules.

The queue is configured with a commit that updates the job and appends its
history row in two transactions (``design.commit = "torn"``). A is SIGKILLed
between them: the job is committed in ``jobs`` and not in its history
(INV_006). ``atomic`` commits in one transaction; its prevent test kills A
inside the open transaction (``commit_open``) and everything rolls back.
The schedule is the same under both: A is stopped one step past
``before_commit`` (``commit_torn`` or ``commit_open``) and killed there.
"""

from __future__ import annotations

from harness.scenario import Scenario

TTL = 30.0
ENQUEUE = {"op": "enqueue", "kind": "charge", "payload": {"amount": 9}}

STEPS = [ENQUEUE, {"op": "run_until", "worker": "A", "checkpoint": "before_commit"},
         {"op": "step", "worker": "A"}, {"op": "kill", "worker": "A"},
         {"op": "advance", "seconds": TTL + 1}, {"op": "drain"}]

SCENARIO = Scenario(
    name="fm008",
    title="torn commit",
    workers=("A", "B"),
    variants={"kill_mid_commit": STEPS},
    lease_ttl=TTL,
    naive="naive",
    fix="atomic",
    invariant="INV_006",
    harness_options={"design": {"commit": "torn", "gate_in_commit": True}},
    explore={"faults": ("clock", "kill"), "invariants": ("INV_006",)},
)
