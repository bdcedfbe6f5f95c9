"""FM_006 — zombie write after a pause (lost update), as schedules.

The effect is a last-writer-wins write of a computed value. A is frozen
(SIGSTOP) before writing; its lease expires; B leases, writes a newer result
and commits; A resumes and writes its stale result over B's (INV_008).
Fencing in the queue alone (``fenced-commit``) refuses A's commit, but too
late: the write already landed. ``fenced`` makes the outside world check the
token itself and refuse any write older than one it has seen.
"""

from __future__ import annotations

from harness.scenario import Scenario

TTL = 30.0
ENQUEUE = {"op": "enqueue", "kind": "write", "payload": {"value": "balance=120"}}

STEPS = [ENQUEUE, {"op": "run_until", "worker": "A", "checkpoint": "before_effect"},
         {"op": "pause", "worker": "A"}, {"op": "advance", "seconds": TTL + 1},
         {"op": "run_until", "worker": "B", "checkpoint": "committed"},
         {"op": "resume", "worker": "A"}, {"op": "run_until", "worker": "A", "checkpoint": "poll"},
         {"op": "drain"}]

SCENARIO = Scenario(
    name="fm006",
    title="zombie write after a pause (lost update)",
    workers=("A", "B"),
    variants={"pause": STEPS},
    lease_ttl=TTL,
    naive="naive",
    fix="fenced",
    invariant="INV_008",
    explore={"faults": ("clock", "pause"), "invariants": ("INV_008",)},
)
