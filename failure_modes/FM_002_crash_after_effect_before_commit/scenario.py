"""FM_002 — crash after the effect, before the commit, as schedules.

A applies the effect and is SIGKILLed before it commits; its lease expires;
B re-runs the job and applies the effect again. The downstream of this
scenario keeps every effect it is sent (it offers lookups by key, but does not
deduplicate), so fencing cannot help: A's token was valid when it acted.
Naive and fenced both duplicate (INV_001); reconcile adopts A's effect.
"""

from __future__ import annotations

from harness.scenario import Scenario

TTL = 30.0
ENQUEUE = {"op": "enqueue", "kind": "charge", "payload": {"amount": 250}}


def _run(worker: str, checkpoint: str) -> dict:
    return {"op": "run_until", "worker": worker, "checkpoint": checkpoint}


VARIANTS = {
    # A is killed right after its effect; B retries once the lease has expired.
    "kill_after_effect": [ENQUEUE, _run("A", "after_effect"), {"op": "kill", "worker": "A"},
                          {"op": "advance", "seconds": TTL + 1}, _run("B", "committed")],
    # A is killed at the commit's door; a restarted A retries the job itself.
    "kill_before_commit": [ENQUEUE, _run("A", "before_commit"), {"op": "kill", "worker": "A"},
                           {"op": "advance", "seconds": TTL + 1}, {"op": "restart", "worker": "A"},
                           _run("A", "committed")],
}

SCENARIO = Scenario(
    name="fm002",
    title="crash after the effect, before the commit",
    workers=("A", "B"),
    variants=VARIANTS,
    lease_ttl=TTL,
    naive="naive",
    fix="reconcile",
    invariant="INV_001",
    harness_options={"downstream": {"idempotency": False}},
    # The spec's minimal counterexample is shown under fenced: the policy that cannot help.
    explore={"faults": ("clock", "kill"), "policy": "fenced"},
)
