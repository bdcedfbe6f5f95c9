"""The worker loop, with a named checkpoint before and after every action.

One job, in order (docs/02_state_model.md):

    poll -> [lease] -> leased -> before_effect -> [effect] -> after_effect
         -> before_commit -> [commit] -> committed

and, instead: ``idle`` when there is nothing to lease; ``failed`` when the
handler raised and the policy put the job back (or buried it); ``abandoned``
when the job was taken away (the ledger refused a stale token, or the commit
was refused). A policy that reconciles (FM_002) stops at ``reconciled`` between
its ledger lookup and the effect, so the explorer can interleave the two.
Where the design asks for them: ``before_heartbeat`` / ``extended`` around a
lease extension before the effect (FM_009), ``commit_open`` inside the
commit's open transaction and ``commit_torn`` between the two transactions
of a torn commit (FM_008). Every name is a call to an injected ``checkpoint(name, job,
token)``, a no-op by default, so the same code runs in production and under
the harness, which blocks the worker at each call.

Between two checkpoints the worker performs at most one action on the store
or the ledger. That is what lets a schedule of checkpoints determine the run.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from .effects import Effect, Ledger
from .errors import EffectRefused, IllegalTransition, InvalidArgument, StaleLease, UnknownJobKind
from .policy import NAIVE, Design, JobContext, Policy
from .queue import Lease, Queue

CHECKPOINTS = ("poll", "leased", "before_effect", "after_effect", "before_commit", "committed",
               "idle", "failed", "abandoned", "reconciled", "before_heartbeat", "extended",
               "commit_open", "commit_torn")
"""Every checkpoint name a worker can stop at, in the order of one job's happy path."""

Checkpoint = Callable[[str, "int | None", "int | None"], None]
Handler = Callable[[Lease], Any]


def no_checkpoint(name: str, job: int | None, token: int | None) -> None:
    """Production mode: checkpoints cost one call and do nothing."""


class Worker:
    """Leases jobs, runs the handler for their kind, applies the effect, commits."""

    def __init__(self, name: str, queue: Queue, ledger: Ledger, handlers: Mapping[str, Handler], *,
                 lease_ttl: float, policy: Policy = NAIVE, checkpoint: Checkpoint = no_checkpoint,
                 design: Design = Design()) -> None:
        if not lease_ttl > 0:
            raise InvalidArgument(f"lease_ttl must be > 0, got {lease_ttl!r}")
        if not handlers:
            raise InvalidArgument(f"worker {name!r} has no handlers; register at least one job kind")
        self.name = name
        self.queue = queue
        self.ledger = ledger
        self.handlers = dict(handlers)
        self.lease_ttl = float(lease_ttl)
        self.policy = policy
        self.checkpoint = checkpoint
        self.design = design
        self.last_effect: Effect | None = None

    def run_once(self) -> str:
        """Take at most one job through the loop; return the last checkpoint reached."""
        cp = self.checkpoint
        cp("poll", None, None)
        lease = self.policy.lease(self.queue, self.name, self.lease_ttl, self.design.delivery)
        if lease is None:
            cp("idle", None, None)
            return "idle"
        job, token = lease.job_id, lease.token
        ctx = JobContext(self.queue, self.ledger, lease, cp, self.design)
        cp("leased", job, token)
        if self.design.heartbeat:
            cp("before_heartbeat", job, token)
            outcome = self._guard(ctx, lambda: self.policy.extend(ctx, self.lease_ttl))
            if isinstance(outcome, str):
                cp(outcome, job, token)
                return outcome
            ctx = JobContext(self.queue, self.ledger, outcome, cp, self.design)
            cp("extended", job, token)
        cp("before_effect", job, token)
        adopted = None
        if self.policy.reconciles:
            outcome = self._guard(ctx, lambda: self.policy.reconcile(ctx))
            if isinstance(outcome, str):
                cp(outcome, job, token)
                return outcome
            adopted = outcome
            cp("reconciled", job, token)
        if adopted is None:
            outcome = self._guard(ctx, lambda: self._act(ctx))
            if isinstance(outcome, str):
                cp(outcome, job, token)
                return outcome
        self.last_effect = adopted or outcome
        cp("after_effect", job, token)
        cp("before_commit", job, token)
        try:
            self.policy.commit(ctx)
        except (IllegalTransition, EffectRefused, StaleLease):
            cp("abandoned", job, token)
            return "abandoned"
        cp("committed", job, token)
        return "committed"

    def _guard(self, ctx: JobContext, action: Callable[[], Any]) -> Any:
        """Run ``action``; a refusal means 'abandoned', a failure goes to the policy ('failed')."""
        try:
            return action()
        except (EffectRefused, StaleLease, IllegalTransition):
            return "abandoned"
        except Exception as exc:  # the handler or the downstream failed: the policy decides
            try:
                self.policy.on_error(ctx, exc)
            except (IllegalTransition, StaleLease):
                return "abandoned"
            return "failed"

    def _act(self, ctx: JobContext) -> Effect:
        lease = ctx.lease
        handler = self.handlers.get(lease.kind)
        if handler is None:
            raise UnknownJobKind(f"worker {self.name!r} has no handler for job kind {lease.kind!r}")
        body = handler(lease)
        return self.policy.apply_effect(ctx, body)

    def run(self, max_jobs: int | None = None, stop_when_idle: bool = True) -> dict[str, int]:
        """Loop ``run_once``; stop at the first idle poll (or after ``max_jobs``). Returns outcome counts."""
        counts: dict[str, int] = {}
        done = 0
        while max_jobs is None or done < max_jobs:
            outcome = self.run_once()
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome == "idle":
                if stop_when_idle:
                    break
            else:
                done += 1
        return counts
