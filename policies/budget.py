"""The ``budget`` policy: the fix for FM_004, the poison job (INV_005).

A job whose handler always fails is retried without bound by the naive
policy, and, being the oldest visible job, it is leased again before younger
jobs: it starves them. Three limits, all on the controlled clock:

- per job: at most ``MAX_ATTEMPTS`` leases; the failure of the last attempt
  buries the job (terminal ``dead``, its last error kept), and so does the
  expiry of the last attempt's lease (its holder died: the next lease attempt
  buries it instead of leasing it again);
- per retry: exponential backoff, ``BACKOFF_BASE * 2 ** (attempt - 1)``
  seconds before the job is visible again, so younger jobs get their turn;
- globally: a token bucket shared through the store (``BUDGET_CAPACITY``
  tokens, refilled at ``BUDGET_RATE`` per second of controlled time). Each
  retry takes a token; when none is left the retry waits until one will be.
  Retries started in any window of ``T`` seconds are at most
  ``BUDGET_CAPACITY + BUDGET_RATE * T``, however many jobs fail.

Builds on ``fenced``: a stale worker cannot requeue or bury a job it lost.
"""

from __future__ import annotations

from runtime.errors import StaleLease
from runtime.policy import JobContext, Policy
from runtime.queue import Lease, Queue, append_history, check_ttl
from runtime.states import decide

from . import register, state
from .commit import SQL_HOLDER, Fenced

MAX_ATTEMPTS = 5
BACKOFF_BASE = 1.0
BUDGET_CAPACITY = 10.0
BUDGET_RATE = 0.5
BUDGET = "retry_budget"

SQL_FENCED_BURY = """
UPDATE jobs SET state = 'dead', lease_owner = NULL, lease_expires_at = NULL,
                visible_at = NULL, last_error = :error, updated_at = :now
WHERE id = :id AND state = 'leased' AND lease_owner = :worker AND token = :token
RETURNING id
"""

# A lease that expired on the job's last allowed attempt (its holder died or stalled): the job
# goes to the dead letters instead of being leased a (MAX_ATTEMPTS + 1)-th time.
SQL_BURY_EXHAUSTED = """
UPDATE jobs SET prev_owner = lease_owner, state = 'dead', lease_owner = NULL, lease_expires_at = NULL,
                visible_at = NULL, last_error = 'lease expired on the last allowed attempt', updated_at = :now
WHERE state = 'leased' AND lease_expires_at IS NOT NULL AND lease_expires_at <= :now AND attempts >= :max
RETURNING id, prev_owner, token, attempts
"""

SQL_FENCED_RETRY = """
UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,
                visible_at = :visible_at, last_error = :error, updated_at = :now
WHERE id = :id AND state = 'leased' AND lease_owner = :worker AND token = :token
RETURNING id
"""


def backoff(attempt: int) -> float:
    return BACKOFF_BASE * 2 ** (attempt - 1)


@register
class Budget(Fenced):
    name = "budget"

    def lease(self, queue: Queue, worker: str, ttl: float, delivery: str = "lease") -> Lease | None:
        """Bury jobs whose last allowed lease expired, then claim: no job is leased more than
        ``MAX_ATTEMPTS`` times, even when its holders die instead of failing."""
        ttl = check_ttl(ttl)
        now = queue.clock.now()
        with queue.store.transaction() as conn:
            for job_id, owner, token, attempts in conn.execute(SQL_BURY_EXHAUSTED,
                                                                {"now": now, "max": MAX_ATTEMPTS}).fetchall():
                append_history(conn, queue.stamp(now), worker, job_id, "dead", token, decide("leased", "bury"),
                               error="lease expired on the last allowed attempt", orphaned_by=owner,
                               attempts=attempts)
            return queue.claim(conn, worker, ttl, now)

    def on_error(self, ctx: JobContext, error: BaseException) -> str:
        if ctx.lease.taken:  # delete-on-dequeue: no row to fence or put back
            return Policy.on_error(self, ctx, error)
        queue, lease = ctx.queue, ctx.lease
        now = queue.clock.now()
        message = f"{type(error).__name__}: {error}"
        args = {"id": lease.job_id, "worker": lease.worker, "token": lease.token, "error": message, "now": now}
        with queue.store.transaction() as conn:
            if lease.attempt >= MAX_ATTEMPTS:
                if conn.execute(SQL_FENCED_BURY, args).fetchone():
                    append_history(conn, queue.stamp(now), lease.worker, lease.job_id, "dead", lease.token,
                                   decide("leased", "bury"), error=message, attempts=lease.attempt)
                    return "dead"
            else:
                bucket = state.get(conn, BUDGET, {"tokens": BUDGET_CAPACITY, "at": now})
                tokens = min(BUDGET_CAPACITY, bucket["tokens"] + BUDGET_RATE * max(0.0, now - bucket["at"]))
                tokens -= 1  # taken now; below zero it is a debt that the refill pays off
                wait = 0.0 if tokens >= 0 else -tokens / BUDGET_RATE
                retry_at = now + max(backoff(lease.attempt), wait)
                if conn.execute(SQL_FENCED_RETRY, {**args, "visible_at": retry_at}).fetchone():
                    state.put(conn, BUDGET, {"tokens": tokens, "at": now})
                    append_history(conn, queue.stamp(now), lease.worker, lease.job_id, "failed", lease.token,
                                   decide("leased", "fail"), error=message, retry_at=retry_at,
                                   backoff=backoff(lease.attempt), budget_wait=wait)
                    return "failed"
            st, holder, token = conn.execute(SQL_HOLDER, (lease.job_id,)).fetchone()
            append_history(conn, queue.stamp(now), lease.worker, lease.job_id, "fail_refused", lease.token, st,
                           holder=holder, holder_token=token, error=message)
        raise StaleLease(f"job {lease.job_id} is {st}; {lease.worker}'s token {lease.token} is stale")
