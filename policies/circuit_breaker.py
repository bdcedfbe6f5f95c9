"""The ``circuit_breaker`` policy: the fix for FM_005, the retry storm (INV_007).

During a downstream outage the naive policy retries every failed call at
once, from every worker, for every job: the calls hammering the failing
dependency grow with workers x jobs x time. The breaker is one record in the
store, shared by every worker, with three states on the controlled clock:

    closed  --THRESHOLD consecutive failures-->  open (opened_at = now)
    open    --now >= opened_at + COOLDOWN------>  half_open (one probe, by the worker that saw it)
    half_open --probe succeeds--> closed;  --probe fails--> open (opened_at = now)

While open (and while another worker's probe is out) no call is made: the
job fails with ``CircuitOpen`` and is retried when the breaker may next let a
call through. Bound: during an outage window of ``W`` seconds at most
``THRESHOLD + ceil(W / COOLDOWN)`` calls reach the dependency, independent of
the number of jobs and workers.

Each decision and its recording are one ``BEGIN IMMEDIATE`` transaction
before and one after the call; builds on ``fenced``.
"""

from __future__ import annotations

import math
from typing import Any

from runtime.effects import Effect
from runtime.errors import CircuitOpen, DownstreamUnavailable
from runtime.policy import JobContext

from . import register, state
from .commit import Fenced, fenced_fail

THRESHOLD = 3
COOLDOWN = 30.0
BREAKER = "breaker"
CLOSED = {"state": "closed", "failures": 0, "opened_at": None, "probe": None, "probe_at": None}


def bound(window: float) -> int:
    """The most calls an outage of ``window`` seconds can receive under this policy."""
    return THRESHOLD + math.ceil(window / COOLDOWN)


@register
class CircuitBreaker(Fenced):
    name = "circuit_breaker"

    def _admit(self, ctx: JobContext) -> None:
        now = ctx.queue.clock.now()
        with ctx.queue.store.transaction() as conn:
            b = state.get(conn, BREAKER, CLOSED)
            if b["state"] == "closed":
                return
            if b["state"] in ("open", "half_open") and now >= b["opened_at"] + COOLDOWN and \
                    (b["state"] == "open" or now >= b["probe_at"] + COOLDOWN):
                # open and cooled down; or a probe went out a whole cooldown ago and never came
                # back (its worker died): let this worker probe
                state.put(conn, BREAKER, {**b, "state": "half_open", "probe": ctx.lease.worker, "probe_at": now})
                return
            reopen = b["opened_at"] + COOLDOWN
        raise CircuitOpen(f"circuit open since t={b['opened_at']:g} ({b['state']}); no call until t={reopen:g}")

    def _record(self, ctx: JobContext, ok: bool) -> None:
        now = ctx.queue.clock.now()
        with ctx.queue.store.transaction() as conn:
            b = state.get(conn, BREAKER, CLOSED)
            if ok:
                new = dict(CLOSED)
            elif b["state"] == "half_open" or b["failures"] + 1 >= THRESHOLD:
                new = {**CLOSED, "state": "open", "failures": b["failures"] + 1, "opened_at": now}
            else:
                new = {**b, "failures": b["failures"] + 1}
            state.put(conn, BREAKER, new)

    def _release_probe(self, ctx: JobContext) -> None:
        with ctx.queue.store.transaction() as conn:
            b = state.get(conn, BREAKER, CLOSED)
            if b["state"] == "half_open" and b["probe"] == ctx.lease.worker:
                state.put(conn, BREAKER, {**b, "state": "open", "probe": None, "probe_at": None})

    def apply_effect(self, ctx: JobContext, body: Any) -> Effect:
        self._admit(ctx)
        try:
            effect = super().apply_effect(ctx, body)
        except DownstreamUnavailable:
            self._record(ctx, ok=False)
            raise
        except Exception:
            self._release_probe(ctx)  # not the downstream's failure: let the next worker probe
            raise
        self._record(ctx, ok=True)
        return effect

    def on_error(self, ctx: JobContext, error: BaseException) -> str:
        retry_at = None
        if isinstance(error, (CircuitOpen, DownstreamUnavailable)):
            with ctx.queue.store.transaction() as conn:
                b = state.get(conn, BREAKER, CLOSED)
            if b["opened_at"] is not None and b["state"] != "closed":
                retry_at = max(ctx.queue.clock.now(), b["opened_at"] + COOLDOWN)
        fenced_fail(ctx, f"{type(error).__name__}: {error}", retry_at)
        return "failed"
