"""FM_001 — duplicate execution caused by retry after lease timeout, as schedules.

Every variant has the same shape: A leases the job (ttl 30 s), the clock
passes A's expiry while A is still working, B leases the same job (token 2)
and finishes it, and A's late work then reaches the outside world. Only the
way A is late differs. Under ``naive`` each variant applies the effect twice
(INV_001); under ``fenced`` exactly once. See spec.md for the timeline.
"""

from __future__ import annotations

from harness.scenario import Scenario

TTL = 30.0
PAST_EXPIRY = TTL + 1  # 31 s: A's lease [0, 30) is over

ENQUEUE = {"op": "enqueue", "kind": "charge", "payload": {"amount": 100}}


def _run(worker: str, checkpoint: str) -> dict:
    return {"op": "run_until", "worker": worker, "checkpoint": checkpoint}


VARIANTS = {
    # A acts, then stalls past its expiry before committing; B redoes the job.
    "expire": [ENQUEUE, _run("A", "after_effect"), {"op": "advance", "seconds": PAST_EXPIRY},
               _run("B", "committed"), _run("A", "poll")],
    # A's effect itself is slow: it starts at t=0 and lands at t=31, after B's.
    "slow": [ENQUEUE, _run("A", "before_effect"), {"op": "advance", "seconds": PAST_EXPIRY},
             _run("B", "committed"), _run("A", "poll")],
    # A is frozen (SIGSTOP, a GC pause) before its effect, and resumed after B commits.
    "pause": [ENQUEUE, _run("A", "before_effect"), {"op": "pause", "worker": "A"},
              {"op": "advance", "seconds": PAST_EXPIRY}, _run("B", "committed"),
              {"op": "resume", "worker": "A"}, _run("A", "poll")],
    # A is SIGKILLed after its effect, before its commit; B retries once the lease expires.
    "kill": [ENQUEUE, _run("A", "after_effect"), {"op": "kill", "worker": "A"},
             {"op": "advance", "seconds": PAST_EXPIRY}, _run("B", "committed")],
}

SCENARIO = Scenario(
    name="fm001",
    title="duplicate execution caused by retry after lease timeout",
    workers=("A", "B"),
    variants=VARIANTS,
    lease_ttl=TTL,
    naive="naive",
    fix="fenced",
    invariant="INV_001",
    default="expire",
)
