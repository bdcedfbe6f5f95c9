"""The ``fenced`` commit policy: the fix for FM_001 (INV_001, INV_004).

Three guards, each closing one door a stale worker could use:

1. The ledger sees the fencing token (issued with every lease, +1 each time)
   and refuses an effect whose token is older than one it has already seen
   for that job (``fencing``).
2. Every effect carries one idempotency key per logical job (``job:<id>``);
   the ledger applies a key at most once and answers a repeat with the first
   record (``idempotency``). This covers the case fencing cannot: the stale
   worker acted *before* the new holder did, while its token was still the
   newest the ledger had seen.
3. The commit checks, inside its ``BEGIN IMMEDIATE`` transaction, that the
   job is still leased by this worker with this token. Otherwise it appends a
   ``commit_refused`` history row and raises ``StaleLease``.

A refused effect is also recorded in the history (``effect_refused``), so the
stale attempt is visible in the queue's own account, not only the ledger's.

Why this is sufficient for INV_001: an effect is applied only if its key has
never been applied (2), so at most one applied record per job exists,
whatever the interleaving of leases, pauses and kills. INV_004 follows from
(3). Limits: see failure_modes/FM_001_*/spec.md.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from runtime.effects import Effect
from runtime.errors import EffectRefused, StaleLease
from runtime.policy import JobContext, Policy
from runtime.queue import append_history
from runtime.states import decide

from . import register

SQL_FENCED_COMMIT = """
UPDATE jobs SET state = 'committed', lease_owner = NULL, lease_expires_at = NULL,
                visible_at = NULL, updated_at = :now
WHERE id = :id AND state = 'leased' AND lease_owner = :worker AND token = :token
RETURNING id
"""

SQL_HOLDER = "SELECT state, lease_owner, token FROM jobs WHERE id = ?"


def effect_key(job_id: int) -> str:
    """The idempotency key of a logical job: one per job, whatever the attempt."""
    return f"job:{job_id}"


@register
class FencedCommit(Policy):
    """Queue-side fencing only: commit, requeue and heartbeat check holder and token in their
    transaction. The outside world is told nothing (FM_006 shows why that is not enough)."""

    name = "fenced-commit"

    def commit(self, ctx: JobContext) -> None:
        if ctx.lease.taken:  # delete-on-dequeue: there is no row to fence
            return super().commit(ctx)
        fenced_commit(ctx)

    def on_error(self, ctx: JobContext, error: BaseException) -> str:
        if ctx.lease.taken:  # delete-on-dequeue: no row to fence or put back
            return super().on_error(ctx, error)
        fenced_fail(ctx, f"{type(error).__name__}: {error}")
        return "failed"

    def extend(self, ctx: JobContext, ttl: float):
        return fenced_extend(ctx, ttl)


@register
class Fenced(FencedCommit):
    """Fencing token + idempotency key at the ledger; holder-and-token check at commit."""

    name = "fenced"

    def ledger_options(self) -> dict[str, bool]:
        return {"idempotency": True, "fencing": True}

    def effect_key(self, lease) -> str:
        return effect_key(lease.job_id)

    def apply_effect(self, ctx: JobContext, body: Any) -> Effect:
        try:
            return super().apply_effect(ctx, body)
        except EffectRefused as exc:
            record_refusal(ctx, "effect_refused", str(exc))
            raise


@register
class Atomic(Policy):
    """The fix for FM_008: the commit is one transaction (job update and history row together),
    whatever the queue's commit design says. Otherwise naive."""

    name = "atomic"

    def commit(self, ctx: JobContext) -> None:
        if ctx.lease.taken:
            return super().commit(ctx)
        ctx.queue.commit(ctx.lease, inside=ctx.gate if ctx.design.gate_in_commit else None)


def record_refusal(ctx: JobContext, event: str, reason: str) -> None:
    """Append a non-transition history row saying a stale attempt was refused."""
    queue, lease = ctx.queue, ctx.lease
    now = queue.clock.now()
    with queue.store.transaction() as conn:
        state, holder, token = conn.execute(SQL_HOLDER, (lease.job_id,)).fetchone()
        append_history(conn, queue.stamp(now), lease.worker, lease.job_id, event, lease.token, state,
                       holder=holder, holder_token=token, reason=reason)


def fenced_commit(ctx: JobContext) -> None:
    """Commit only if ``ctx.lease`` is still the job's current lease; else record and raise ``StaleLease``."""
    queue, lease = ctx.queue, ctx.lease
    now = queue.clock.now()
    with queue.store.transaction() as conn:
        if conn.execute(SQL_FENCED_COMMIT, {"id": lease.job_id, "worker": lease.worker, "token": lease.token,
                                            "now": now}).fetchone():
            append_history(conn, queue.stamp(now), lease.worker, lease.job_id, "committed", lease.token,
                           decide("leased", "commit"), holder=lease.worker, holder_token=lease.token)
            if ctx.design.gate_in_commit:
                ctx.gate("commit_open")
            return
        state, holder, token = conn.execute(SQL_HOLDER, (lease.job_id,)).fetchone()
        reason = (f"job {lease.job_id} is {state}" + (f", held by {holder} with token {token}" if holder else "")
                  + f"; {lease.worker}'s token {lease.token} is stale")
        append_history(conn, queue.stamp(now), lease.worker, lease.job_id, "commit_refused", lease.token, state,
                       holder=holder, holder_token=token, reason=reason)
    raise StaleLease(f"commit refused: {reason}; abandon the job")


SQL_FENCED_REQUEUE = """
UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,
                visible_at = :visible_at, last_error = :error, updated_at = :now
WHERE id = :id AND state = 'leased' AND lease_owner = :worker AND token = :token
RETURNING id
"""


def fenced_fail(ctx: JobContext, error: str, retry_at: float | None = None) -> None:
    """Put the job back only if ``ctx.lease`` is still current; a stale worker must not requeue
    a job another worker holds. Otherwise record ``fail_refused`` and raise ``StaleLease``."""
    queue, lease = ctx.queue, ctx.lease
    now = queue.clock.now()
    visible = now if retry_at is None else float(retry_at)
    with queue.store.transaction() as conn:
        if conn.execute(SQL_FENCED_REQUEUE, {"id": lease.job_id, "worker": lease.worker, "token": lease.token,
                                             "visible_at": visible, "error": error, "now": now}).fetchone():
            append_history(conn, queue.stamp(now), lease.worker, lease.job_id, "failed", lease.token,
                           decide("leased", "fail"), error=error, retry_at=visible)
            return
        state, holder, token = conn.execute(SQL_HOLDER, (lease.job_id,)).fetchone()
        append_history(conn, queue.stamp(now), lease.worker, lease.job_id, "fail_refused", lease.token, state,
                       holder=holder, holder_token=token, error=error)
    raise StaleLease(f"fail refused: job {lease.job_id} is {state}; {lease.worker}'s token {lease.token} is stale")


SQL_FENCED_EXTEND = """
UPDATE jobs SET lease_expires_at = :expires_at, visible_at = :expires_at, updated_at = :now
WHERE id = :id AND state = 'leased' AND lease_owner = :worker AND token = :token
  AND lease_expires_at IS NOT NULL AND lease_expires_at > :now
RETURNING id
"""


def fenced_extend(ctx: JobContext, ttl: float):
    """Heartbeat only with the current token and only while the lease is unexpired (FM_009).
    A late heartbeat is recorded (``extend_refused``) and tells the worker to abandon the job."""
    queue, lease = ctx.queue, ctx.lease
    now = queue.clock.now()
    with queue.store.transaction() as conn:
        if conn.execute(SQL_FENCED_EXTEND, {"id": lease.job_id, "worker": lease.worker, "token": lease.token,
                                            "expires_at": now + ttl, "now": now}).fetchone():
            extra = {"expires_at_store": queue.stamp(now) + ttl} if queue.stamp(now) != now else {}
            append_history(conn, queue.stamp(now), lease.worker, lease.job_id, "extended", lease.token,
                           decide("leased", "extend"), expires_at=now + ttl, holder=lease.worker,
                           holder_token=lease.token, **extra)
            return replace(lease, expires_at=now + ttl)
        state, holder, token = conn.execute(SQL_HOLDER, (lease.job_id,)).fetchone()
        reason = (f"{lease.worker}'s lease on job {lease.job_id} (token {lease.token}, until t={lease.expires_at:g}) "
                  f"is no longer current at t={now:g}: the job is {state}"
                  + (f", held by {holder} with token {token}" if holder else ""))
        append_history(conn, queue.stamp(now), lease.worker, lease.job_id, "extend_refused", lease.token, state,
                       holder=holder, holder_token=token, reason=reason)
    raise StaleLease(f"heartbeat refused: {reason}; abandon the job")
