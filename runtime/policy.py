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
from typing import TYPE_CHECKING, Any, Callable

from .errors import InvalidArgument

if TYPE_CHECKING:  # pragma: no cover
    from .effects import Effect, Ledger
    from .queue import Lease, Queue


DELIVERIES = ("lease", "no-expiry", "delete")
COMMITS = ("atomic", "torn")


@dataclass(frozen=True)
class Design:
    """How the queue is configured: the knobs that naive deployments get wrong.

    The naive policy follows them; a policy that fixes a failure mode overrides
    the knob the failure mode is about (``reconcile`` always leases with expiry,
    ``atomic`` always commits in one transaction).
    """

    delivery: str = "lease"       # lease | no-expiry | delete (FM_003)
    commit: str = "atomic"        # atomic | torn: job update and history row in one or two transactions (FM_008)
    heartbeat: bool = False       # the worker extends its lease before acting (FM_009)
    gate_in_commit: bool = False  # a checkpoint inside the commit's open transaction (FM_008)

    def __post_init__(self) -> None:
        if self.delivery not in DELIVERIES:
            raise InvalidArgument(f"unknown delivery design {self.delivery!r}; designs are {', '.join(DELIVERIES)}")
        if self.commit not in COMMITS:
            raise InvalidArgument(f"unknown commit design {self.commit!r}; designs are {', '.join(COMMITS)}")


def _no_checkpoint(name: str, job: "int | None", token: "int | None") -> None:
    pass


@dataclass(frozen=True)
class JobContext:
    """What a hook may use: the worker's queue, ledger, current lease, checkpoint function and design."""

    queue: "Queue"
    ledger: "Ledger"
    lease: "Lease"
    checkpoint: Callable[[str, "int | None", "int | None"], None] = _no_checkpoint
    design: Design = Design()

    def gate(self, name: str) -> None:
        """Stop at checkpoint ``name`` for this job (a no-op outside the harness)."""
        self.checkpoint(name, self.lease.job_id, self.lease.token)


class Policy:
    """The naive policy: no fencing, no idempotency key, blind commit, immediate retry."""

    name = "naive"
    reconciles = False  # True: the worker calls ``reconcile`` and stops at ``reconciled``
    clock_authority = "worker"  # whose clock judges lease expiry: the worker's own, or the store's (FM_010)

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

    def enqueue_key(self, request: str | None) -> str | None:
        """The dedup key a producer sends with its request. Default: none (FM_007)."""
        return None

    def effect_key(self, lease: "Lease") -> str | None:
        """Default: no idempotency key (the outside world cannot tell two attempts apart)."""
        return None

    def apply_effect(self, ctx: JobContext, body: Any) -> "Effect":
        """Default: apply the effect with the lease's token and ``effect_key``."""
        lease = ctx.lease
        return ctx.ledger.apply(lease.job_id, lease.worker, lease.token, body, key=self.effect_key(lease))

    def extend(self, ctx: JobContext, ttl: float) -> "Lease":
        """Default: the naive heartbeat (pushes the expiry for this worker, whoever holds the job)."""
        return ctx.queue.extend(ctx.lease, ttl)

    def commit(self, ctx: JobContext) -> None:
        """Default: the runtime's naive commit (no holder or token check), as the design says:
        one transaction, or the torn two (FM_008)."""
        inside = ctx.gate if ctx.design.gate_in_commit else None
        if ctx.lease.taken:
            ctx.queue.record_done(ctx.lease)
        elif ctx.design.commit == "torn":
            ctx.queue.commit_torn(ctx.lease, between=ctx.gate)
        else:
            ctx.queue.commit(ctx.lease, inside=inside)

    def on_error(self, ctx: JobContext, error: BaseException) -> str:
        """Default: put the job back, visible at once, without bound. Returns the history event name.

        A job taken by delete-on-dequeue has no row to put back: its failure is recorded
        (``dropped``) and the job is gone, which is what that design means (FM_003)."""
        if ctx.lease.taken:
            ctx.queue.record_dropped(ctx.lease, f"{type(error).__name__}: {error}")
            return "dropped"
        ctx.queue.fail(ctx.lease, f"{type(error).__name__}: {error}")
        return "failed"

    def __repr__(self) -> str:
        return f"<policy {self.name}>"


NAIVE = Policy()
