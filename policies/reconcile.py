"""The ``reconcile`` policy: the fix for FM_002 (INV_001) and FM_003 (INV_002).

FM_002 — a worker applied the effect and died before committing. Its token
was valid when it acted, so fencing cannot refuse it, and a downstream that
does not deduplicate applies the retry again. Reconciliation: every effect
carries one key per logical job, and before acting, the worker that holds the
lease looks the key up in the ledger. An effect already applied is *adopted*:
the worker commits without acting. The lookup is a fencing read (it records
the worker's token as the highest seen), so an older holder that acts after
the lookup is refused: the window between look-up and act is closed.

FM_003 — a worker died holding the lease. Under an at-most-once design (a
lease that never expires, delete on dequeue) the job is stranded or lost.
Here leases always expire on the controlled clock, whatever design the queue
was configured with, and every lease attempt first sweeps expired leases back
to ``queued`` with a ``released`` history row naming the holder that
orphaned it (in the same transaction as the claim).

Builds on ``fenced``: the commit and the requeue still check holder and token.
"""

from __future__ import annotations

from runtime.effects import Effect
from runtime.errors import EffectRefused
from runtime.policy import JobContext
from runtime.queue import Lease, Queue, check_ttl

from . import register
from .commit import Fenced, record_refusal


@register
class Reconcile(Fenced):
    name = "reconcile"
    reconciles = True

    def lease(self, queue: Queue, worker: str, ttl: float, delivery: str = "lease") -> Lease | None:
        """Sweep, then claim, in one transaction; always an expiring lease, whatever ``delivery``
        the queue was configured with (the at-most-once designs are what FM_003 is about)."""
        ttl = check_ttl(ttl)
        now = queue.clock.now()
        with queue.store.transaction() as conn:
            queue.release_expired(conn, now, by=worker)
            return queue.claim(conn, worker, ttl, now)

    def reconcile(self, ctx: JobContext) -> Effect | None:
        lease = ctx.lease
        try:
            return ctx.ledger.lookup(self.effect_key(lease), lease.job_id, lease.worker, lease.token)
        except EffectRefused as exc:
            record_refusal(ctx, "effect_refused", str(exc))
            raise
