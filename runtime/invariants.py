"""Every invariant of docs/01_invariants.md, as a function over the history and the ledger.

Each ``check_*`` function takes what a run left behind — the ``history`` rows
(``runtime.Event``), the ledger records (``runtime.Effect``), and the job
rows (``runtime.Job``) — and returns a list of ``Violation``; an empty list
means the invariant held. Nothing here trusts a worker's own account: the
history is written in the same transaction as each change, and the ledger is
the outside world's record.

``check_all`` runs them all. INV_002 (no lost job) is a liveness property and
is judged only when the caller says the run was drained (healthy workers ran
until idle with the clock past every expiry and retry time).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .effects import Effect
from .queue import Event, Job
from .states import TERMINAL, TRANSITIONS, JobState

DEFAULT_MAX_ATTEMPTS = 5

# history event -> the transition it records (refusals and enqueue are not transitions)
EVENT_ACTION = {"leased": "lease", "extended": "extend", "committed": "commit", "failed": "fail",
                "dead": "bury", "released": "release"}
LEASE_ENDING = ("committed", "failed", "dead", "released")  # the job leaves 'leased'
HOLDER_EVENTS = ("leased", "taken")  # the job gets a (new) holder

INVARIANTS = {
    "INV_001": "logical idempotency: at most one applied effect per job",
    "INV_002": "no lost job: after a drain every job is committed or dead",
    "INV_003": "lease exclusivity: at most one unexpired lease per job at any clock instant",
    "INV_004": "commit only by the current lease holder",
    "INV_005": "bounded attempts: no job is leased more than max_attempts times",
    "INV_006": "state and history agree: the job's state is the one its history replays to",
    "INV_007": "bounded calls to a failing dependency: calls during an outage window stay within a stated bound",
    "INV_008": "last writer is the latest holder: a job's final applied write carries its highest applied token",
    "INV_009": "one job per logical request: a producer's request is enqueued at most once",
}


@dataclass(frozen=True)
class Violation:
    """One broken invariant, with what is needed to explain it."""

    invariant: str
    job: int | None
    message: str
    workers: tuple[str, ...] = ()
    evidence: tuple[Any, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return f"{self.invariant} violated: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"invariant": self.invariant, "job": self.job, "message": self.message,
                "workers": list(self.workers)}


def _by_job(history: Iterable[Event]) -> dict[int, list[Event]]:
    out: dict[int, list[Event]] = defaultdict(list)
    for e in history:
        out[e.job_id].append(e)
    return out


def check_idempotency(ledger: Sequence[Effect]) -> list[Violation]:
    """INV_001: at most one ``applied`` ledger record per job."""
    applied: dict[int, list[Effect]] = defaultdict(list)
    for rec in ledger:
        if rec.applied:
            applied[rec.job].append(rec)
    out = []
    for job, recs in sorted(applied.items()):
        if len(recs) > 1:
            who = ", ".join(f"{r.worker} (token {r.token}, t={r.at:g})" for r in recs)
            out.append(Violation("INV_001", job, f"job {job}'s effect was applied {len(recs)} times: by {who}",
                                 tuple(r.worker for r in recs), tuple(recs)))
    return out


def check_no_lost_job(jobs: Sequence[Job], history: Sequence[Event] = ()) -> list[Violation]:
    """INV_002: after a drain, every enqueued job exists and is in a terminal state."""
    out = [Violation("INV_002", j.id, f"job {j.id} is still {j.state.value} after the drain"
                     + (f" (lease held by {j.lease_owner})" if j.lease_owner else ""),
                     (j.lease_owner,) if j.lease_owner else ())
           for j in jobs if j.state not in TERMINAL]
    present = {j.id for j in jobs}
    done = {e.job_id for e in history if e.event in ("committed", "dead")}
    for e in history:
        if e.event == "enqueued" and e.job_id not in present and e.job_id not in done:
            out.append(Violation("INV_002", e.job_id, f"job {e.job_id} was enqueued (seq {e.seq}) and no "
                                 "longer exists: it was deleted without reaching a terminal state"))
    return out


def check_lease_exclusivity(history: Sequence[Event]) -> list[Violation]:
    """INV_003: no lease of a job begins while another (worker, token) holds an unexpired one.

    Replays each job's history in order: a ``leased`` or ``extended`` row starts (or renews)
    its holder's lease until ``detail.expires_at`` (None: never); a row that takes the job out
    of ``leased`` ends every lease. A new lease or extension at time ``t`` while another
    holder's lease is still live at ``t`` (not ended, ``t < expires_at``) is a violation.
    """
    out = []
    for job, events in sorted(_by_job(history).items()):
        live: dict[tuple[str | None, int | None], tuple[float, Event]] = {}
        for e in events:
            if e.event in ("leased", "extended"):
                live = {k: v for k, v in live.items() if e.at < v[0]}  # expired leases are over
                for (w, t), (exp, row) in live.items():
                    if (w, t) != (e.worker, e.token):
                        out.append(Violation(
                            "INV_003", job,
                            f"job {job} had two live leases at t={e.at:g}: {w} (token {t}, until t={exp:g}) "
                            f"and {e.worker} (token {e.token}, {e.event} at t={e.at:g})", (w, e.worker), (row, e)))
                        break
                # expiry in the store's time when the lease was judged on another clock (FM_010)
                exp = e.detail.get("expires_at_store", e.detail.get("expires_at"))
                live[(e.worker, e.token)] = (float("inf") if exp is None else float(exp), e)
            elif e.event in LEASE_ENDING:
                live = {}
    return out


def check_commit_by_holder(history: Sequence[Event]) -> list[Violation]:
    """INV_004: each ``committed`` row's (worker, token) is that of the job's latest lease before it."""
    out = []
    for job, events in sorted(_by_job(history).items()):
        holder: tuple[str | None, int | None] = (None, None)
        for e in events:
            if e.event in HOLDER_EVENTS:
                holder = (e.worker, e.token)
            elif e.event == "committed" and (e.worker, e.token) != holder:
                out.append(Violation(
                    "INV_004", job, f"job {job} was committed by {e.worker} (token {e.token}) at t={e.at:g} "
                    f"while {holder[0]} (token {holder[1]}) held its lease", (e.worker, holder[0] or "-"), (e,)))
    return out


def check_bounded_attempts(history: Sequence[Event], max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> list[Violation]:
    """INV_005: no job is leased more than ``max_attempts`` times."""
    out = []
    for job, events in sorted(_by_job(history).items()):
        leases = [e for e in events if e.event == "leased"]
        if len(leases) > max_attempts:
            out.append(Violation("INV_005", job, f"job {job} was leased {len(leases)} times, more than the "
                                 f"bound of {max_attempts}", tuple(sorted({e.worker for e in leases}))))
    return out


def check_state_agrees(history: Sequence[Event], jobs: Sequence[Job]) -> list[Violation]:
    """INV_006: replaying each job's history through the state table gives its stored state."""
    out = []
    events = _by_job(history)
    for job in jobs:
        state: JobState | None = None
        for e in events.get(job.id, []):
            if e.event == "enqueued":
                state = JobState.QUEUED
                continue
            action = EVENT_ACTION.get(e.event)
            if action is None:  # a refusal: no transition, but it records the state it saw
                if e.state is not None and state is not None and e.state != state.value:
                    out.append(Violation("INV_006", job.id, f"job {job.id}'s '{e.event}' row (seq {e.seq}) "
                                         f"saw state {e.state!r} where its history replays to {state.value!r}",
                                         (e.worker,) if e.worker else (), (e,)))
                    break
                continue
            after = TRANSITIONS.get((state, action)) if state is not None else None
            if after is None or (e.state is not None and e.state != after.value):
                out.append(Violation("INV_006", job.id, f"job {job.id}'s history has '{e.event}' (seq {e.seq}) "
                                     f"from state {state and state.value!r}, which the state table does not allow",
                                     (e.worker,) if e.worker else (), (e,)))
                break
            state = after
        else:
            if state != job.state:
                out.append(Violation("INV_006", job.id, f"job {job.id} is {job.state.value} in the store but its "
                                     f"history replays to {state and state.value!r}"))
    return out


def check_outage_calls(ledger: Sequence[Effect], outages: Sequence[Sequence[float]],
                       bound: int | None) -> list[Violation]:
    """INV_007: during each outage window, at most ``bound`` calls reach the failing dependency."""
    out = []
    if bound is None:
        return out
    for start, end in outages:
        calls = [r for r in ledger if start <= r.at < end and r.outcome != "stale"]
        if len(calls) > bound:
            workers = tuple(sorted({r.worker for r in calls}))
            out.append(Violation("INV_007", None, f"{len(calls)} calls reached the failing dependency during "
                                 f"the outage [{start:g}, {end:g}), more than the bound of {bound} "
                                 f"(jobs {sorted({r.job for r in calls})}, workers {', '.join(workers)})", workers))
    return out


def check_last_writer(ledger: Sequence[Effect]) -> list[Violation]:
    """INV_008: for every job, the last applied write (a last-writer-wins ``{"value": …}`` body,
    by ledger order) has the highest token
    among its applied writes; otherwise a stale holder overwrote a newer result (FM_006)."""
    out = []
    by_job: dict[int, list[Effect]] = defaultdict(list)
    for rec in ledger:
        if rec.applied and isinstance(rec.body, dict) and "value" in rec.body:  # writes, not increments
            by_job[rec.job].append(rec)
    for job, recs in sorted(by_job.items()):
        last, newest = recs[-1], max(recs, key=lambda r: r.token)
        if last.token < newest.token:
            out.append(Violation("INV_008", job, f"job {job}'s recorded result is {last.worker}'s (token "
                                 f"{last.token}, t={last.at:g}), written after {newest.worker}'s newer one "
                                 f"(token {newest.token}, t={newest.at:g}): a lost update",
                                 (last.worker, newest.worker), (last, newest)))
    return out


def check_one_job_per_request(history: Sequence[Event]) -> list[Violation]:
    """INV_009: each producer request id appears in at most one ``enqueued`` history row (FM_007)."""
    jobs: dict[str, list[Event]] = defaultdict(list)
    for e in history:
        if e.event == "enqueued" and e.detail.get("request") is not None:
            jobs[e.detail["request"]].append(e)
    return [Violation("INV_009", rows[1].job_id, f"request {req!r} was enqueued {len(rows)} times, as jobs "
                      f"{[r.job_id for r in rows]} (by {', '.join(sorted({r.worker or '?' for r in rows}))})",
                      tuple(sorted({r.worker or "?" for r in rows})), tuple(rows))
            for req, rows in sorted(jobs.items()) if len(rows) > 1]


def check_all(history: Sequence[Event], ledger: Sequence[Effect], jobs: Sequence[Job], *,
              drained: bool = False, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
              outages: Sequence[Sequence[float]] = (), call_bound: int | None = None) -> list[Violation]:
    """Every invariant; INV_002 only when ``drained``; INV_007 only where an outage and a bound are stated."""
    out = check_idempotency(ledger)
    if drained:
        out += check_no_lost_job(jobs, history)
    out += check_lease_exclusivity(history)
    out += check_commit_by_holder(history)
    out += check_bounded_attempts(history, max_attempts)
    out += check_state_agrees(history, jobs)
    out += check_outage_calls(ledger, outages, call_bound)
    out += check_last_writer(ledger)
    out += check_one_job_per_request(history)
    return out


def verdicts(violations: Sequence[Violation], drained: bool = False,
             outage: bool = False) -> dict[str, list[Violation]]:
    """Violations grouped by invariant, with an (empty) entry for every invariant that was checked
    (INV_002 only after a drain, INV_007 only where an outage and a bound were stated)."""
    out: dict[str, list[Violation]] = {k: [] for k in INVARIANTS
                                       if (drained or k != "INV_002") and (outage or k != "INV_007")}
    for v in violations:
        out.setdefault(v.invariant, []).append(v)
    return out
