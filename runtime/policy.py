"""The policy hooks the worker calls, with the naive behaviour as their defaults.

A policy is a small object in the style of a middleware: each hook has a
documented default that is exactly what the naive runtime does, and a policy
in ``policies/`` overrides only the hooks it needs. Policies are stateless
and picklable (the harness names them; each worker process builds its own).

Hooks, in the order the worker calls them for one job:
- ``ledger_options()``  — options for opening the ledger (idempotency, fencing).
- ``lease(queue, worker, ttl, delivery)`` — take a job (the claim).
- ``reconcile(ctx)``    — before the effect: return an already-applied
                          ``Effect`` to adopt instead of acting, or None.
- ``effect_key(lease)`` — the idempotency key sent with the effect.
- ``apply_effect(ctx, body)`` — act on the outside world.
- ``commit(ctx)``       — record success in the queue.
- ``on_error(ctx, error)`` — the handler raised: retry or give up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InvalidArgument

if TYPE_CHECKING:  # pragma: no cover
    from .effects import Effect, Ledger
    from .queue import Lease, Queue


@dataclass(frozen=True)
class JobContext:
    """What a hook may use: the worker's queue, ledger and current lease."""

    queue: "Queue"
    ledger: "Ledger"
    lease: "Lease"


DELIVERIES = ("lease", "no-expiry", "delete")


class Policy:
    """The naive policy: no fencing, no idempotency key, blind commit, immediate retry."""

    name = "naive"
    reconciles = False  # True: the worker calls ``reconcile`` and stops at ``reconciled``

    def lease(self, queue: "Queue", worker: str, ttl: float, delivery: str = "lease") -> "Lease | None":
        """Default: the queue's design decides. ``lease`` (expiring leases, at-least-once), or the
        at-most-once designs of FM_003: ``no-expiry`` (a lease that never expires) and ``delete``
        (delete on dequeue)."""
        if delivery == "lease":
            return queue.lease(worker, ttl)
        if delivery == "no-expiry":
            return queue.lease(worker, ttl, expires=False)
        if delivery == "delete":
            return queue.take(worker)
        raise InvalidArgument(f"unknown delivery design {delivery!r}; designs are {', '.join(DELIVERIES)}")

    def ledger_options(self) -> dict[str, bool]:
        """Keyword options for ``Ledger``. Default: no idempotency, no fencing."""
        return {"idempotency": False, "fencing": False}

    def reconcile(self, ctx: JobContext) -> "Effect | None":
        """Default: never look; always act."""
        return None

    def effect_key(self, lease: "Lease") -> str | None:
        """Default: no idempotency key (the outside world cannot tell two attempts apart)."""
        return None

    def apply_effect(self, ctx: JobContext, body: Any) -> "Effect":
        """Default: apply the effect with the lease's token and ``effect_key``."""
        lease = ctx.lease
        return ctx.ledger.apply(lease.job_id, lease.worker, lease.token, body, key=self.effect_key(lease))

    def commit(self, ctx: JobContext) -> None:
        """Default: the runtime's naive commit (no holder or token check)."""
        if ctx.lease.taken:
            ctx.queue.record_done(ctx.lease)
        else:
            ctx.queue.commit(ctx.lease)

    def on_error(self, ctx: JobContext, error: BaseException) -> str:
        """Default: put the job back, visible at once, without bound. Returns the history event name."""
        ctx.queue.fail(ctx.lease, f"{type(error).__name__}: {error}")
        return "failed"

    def __repr__(self) -> str:
        return f"<policy {self.name}>"


NAIVE = Policy()
