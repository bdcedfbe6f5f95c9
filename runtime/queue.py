"""A small, correct, lease-based job queue over the SQLite store.

Contract
- ``enqueue`` inserts a ``queued`` job; with a ``dedup_key`` a second enqueue of
  the same key returns the first job's id and changes nothing.
- ``lease`` claims, in one ``UPDATE … RETURNING`` statement inside a ``BEGIN
  IMMEDIATE`` transaction, the job that has been visible longest: a queued job,
  or a leased job whose lease has expired by the injected clock. It
  increments ``attempts`` and the job's fencing ``token``. A lease is valid
  while ``now < expires_at``.
- ``extend``, ``commit``, ``fail``, ``bury`` move a leased job; the state
  table in ``runtime.states`` decides legality and raises
  ``IllegalTransition`` otherwise.
- Every transition appends exactly one ``history`` row in the same
  transaction as the change (docs/01_invariants.md reads it).

This is the *naive* runtime, on purpose: ``commit`` and ``extend`` act on the
job by id and do not check who holds the lease or with which token. A worker
whose lease expired can still commit a job another worker now holds. That is
FM_001's enabling condition; ``policies/commit.py`` adds the check.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .clock import Clock
from .errors import InvalidArgument, InvalidPayload, UnknownJob, UnknownJobKind
from .states import TRANSITIONS, JobState, decide
from .store import Store

# --- SQL -------------------------------------------------------------------

SQL_INSERT_JOB = """
INSERT INTO jobs (kind, payload, state, visible_at, dedup_key, created_at, updated_at)
VALUES (:kind, :payload, 'queued', :now, :dedup_key, :now, :now)
ON CONFLICT (dedup_key) DO NOTHING
RETURNING id
"""

SQL_JOB_BY_DEDUP_KEY = "SELECT id FROM jobs WHERE dedup_key = ?"

# One statement: find the longest-visible claimable job and take it. The
# CASE keeps who held the lease before, when this lease reclaims an expired one.
SQL_CLAIM = """
UPDATE jobs SET
    prev_owner       = CASE WHEN state = 'leased' THEN lease_owner END,
    state            = 'leased',
    lease_owner      = :worker,
    lease_expires_at = :expires_at,
    visible_at       = :expires_at,
    attempts         = attempts + 1,
    token            = token + 1,
    updated_at       = :now
WHERE id = (
    SELECT id FROM jobs
    WHERE visible_at IS NOT NULL AND visible_at <= :now
    ORDER BY visible_at, id
    LIMIT 1
)
RETURNING id, kind, payload, token, attempts, prev_owner
"""

SQL_TAKE = """
DELETE FROM jobs WHERE id = (
    SELECT id FROM jobs WHERE visible_at IS NOT NULL AND visible_at <= :now ORDER BY visible_at, id LIMIT 1
)
RETURNING id, kind, payload, token, attempts
"""

SQL_RELEASE_EXPIRED = """
UPDATE jobs SET prev_owner = lease_owner, state = 'queued', lease_owner = NULL,
                lease_expires_at = NULL, updated_at = :now
WHERE state = 'leased' AND lease_expires_at IS NOT NULL AND lease_expires_at <= :now
RETURNING id, prev_owner, token
"""

SQL_GET_JOB = "SELECT * FROM jobs WHERE id = ?"
SQL_HOLDER = "SELECT id, state, lease_owner, token FROM jobs WHERE id = ?"

SQL_EXTEND = """
UPDATE jobs SET lease_owner = :worker, lease_expires_at = :expires_at, visible_at = :expires_at,
                updated_at = :now
WHERE id = :id
"""

SQL_FINISH = """
UPDATE jobs SET state = :state, lease_owner = NULL, lease_expires_at = NULL,
                visible_at = NULL, updated_at = :now
WHERE id = :id
"""

# The naive commit in one statement: legal only from the states the state table allows
# (``COMMIT_FROM``); it keeps the last holder's name in ``prev_owner`` for the history row.
COMMIT_FROM = tuple(sorted(s.value for (s, a) in TRANSITIONS if a == "commit"))
SQL_COMMIT = f"""
UPDATE jobs SET prev_owner = lease_owner, state = 'committed', lease_owner = NULL,
                lease_expires_at = NULL, visible_at = NULL, updated_at = :now
WHERE id = :id AND state IN ({", ".join(f"'{s}'" for s in COMMIT_FROM)})
RETURNING prev_owner, token
"""

SQL_REQUEUE = """
UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,
                visible_at = :visible_at, last_error = :error, updated_at = :now
WHERE id = :id
"""

SQL_BURY = """
UPDATE jobs SET state = 'dead', lease_owner = NULL, lease_expires_at = NULL,
                visible_at = NULL, last_error = :error, updated_at = :now
WHERE id = :id
"""

SQL_APPEND_HISTORY = """
INSERT INTO history (at, worker, job_id, event, token, state, detail)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""

SQL_HISTORY_ALL = "SELECT seq, at, worker, job_id, event, token, state, detail FROM history ORDER BY seq"
SQL_HISTORY_JOB = (
    "SELECT seq, at, worker, job_id, event, token, state, detail FROM history WHERE job_id = ? ORDER BY seq"
)
SQL_ALL_JOBS = "SELECT * FROM jobs ORDER BY id"
SQL_VISIBLE_AT = "SELECT visible_at FROM jobs WHERE id = ?"
SQL_CLAIMABLE = "SELECT 1 FROM jobs WHERE visible_at IS NOT NULL AND visible_at <= ? LIMIT 1"
SQL_NEXT_VISIBLE = "SELECT MIN(visible_at) FROM jobs WHERE visible_at > ?"
SQL_COUNT_BY_STATE = "SELECT state, COUNT(*) FROM jobs GROUP BY state"
SQL_EMPTY = ("DELETE FROM jobs", "DELETE FROM history", "DELETE FROM policy_state")

# --- records ---------------------------------------------------------------


@dataclass(frozen=True)
class Lease:
    """A worker's claim on a job, valid while ``clock.now() < expires_at``."""

    job_id: int
    kind: str
    payload: Any
    worker: str
    token: int
    attempt: int
    leased_at: float
    expires_at: float
    reclaimed_from: str | None = None
    taken: bool = False  # delete-on-dequeue: the job row no longer exists


@dataclass(frozen=True)
class Job:
    """A snapshot of one row of ``jobs``."""

    id: int
    kind: str
    payload: Any
    state: JobState
    attempts: int
    lease_owner: str | None
    lease_expires_at: float | None
    token: int
    dedup_key: str | None
    last_error: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Event:
    """One row of ``history``: what happened to a job, when (controlled clock), by whom."""

    seq: int
    at: float
    worker: str | None
    job_id: int
    event: str
    token: int | None
    state: str | None
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"seq": self.seq, "at": self.at, "worker": self.worker, "job": self.job_id,
                "event": self.event, "token": self.token, "state": self.state, "detail": self.detail}


@dataclass(frozen=True)
class _Holder:
    id: int
    state: JobState
    lease_owner: str | None
    token: int


def _job(row: sqlite3.Row | tuple, cols: list[str]) -> Job:
    r = dict(zip(cols, row))
    return Job(id=r["id"], kind=r["kind"], payload=json.loads(r["payload"]), state=JobState(r["state"]),
               attempts=r["attempts"], lease_owner=r["lease_owner"], lease_expires_at=r["lease_expires_at"],
               token=r["token"], dedup_key=r["dedup_key"], last_error=r["last_error"],
               created_at=r["created_at"], updated_at=r["updated_at"])


def _event(row: tuple) -> Event:
    seq, at, worker, job_id, event, token, state, detail = row
    return Event(seq, at, worker, job_id, event, token, state, json.loads(detail))


def append_history(conn: sqlite3.Connection, at: float, worker: str | None, job_id: int, event: str,
                   token: int | None, state: JobState | str | None, **detail: Any) -> None:
    """Append one history row. Call only inside the transaction that makes the change."""
    conn.execute(SQL_APPEND_HISTORY, (at, worker, job_id, event, token,
                                      None if state is None else str(state),
                                      json.dumps(detail)))


def check_ttl(ttl: float) -> float:
    ttl = float(ttl)
    if not ttl > 0 or math.isinf(ttl):
        raise InvalidArgument(f"lease ttl must be a finite number of seconds > 0, got {ttl!r}")
    return ttl


# --- the queue -------------------------------------------------------------


class Queue:
    """Lease-based job queue. Time comes from the injected ``clock``; nothing here reads wall time."""

    def __init__(self, store: Store, clock: Clock, kinds: Iterable[str] | None = None,
                 history_clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock
        self.kinds = frozenset(kinds) if kinds is not None else None
        self.history_clock = history_clock

    def stamp(self, now: float) -> float:
        """The time written in history rows: the store's clock when one is given (a worker's own
        clock may be skewed, FM_010), else ``now`` — the time the decision was made with."""
        return self.history_clock.now() if self.history_clock is not None else now

    # --- producer side -------------------------------------------------------

    def enqueue(self, kind: str, payload: Any = None, dedup_key: str | None = None,
                producer: str | None = None, request: str | None = None) -> int:
        """Insert a queued job and return its id (the first job's id on a repeated ``dedup_key``)."""
        if self.kinds is not None and kind not in self.kinds:
            raise UnknownJobKind(
                f"no handler is registered for job kind {kind!r}; known kinds: {sorted(self.kinds)}"
            )
        try:
            body = json.dumps(payload, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidPayload(f"payload for {kind!r} jobs is not JSON-serialisable ({exc}); nothing was enqueued") from None
        now = self.clock.now()
        with self.store.transaction() as conn:
            row = conn.execute(SQL_INSERT_JOB, {"kind": kind, "payload": body, "now": now,
                                                "dedup_key": dedup_key}).fetchone()
            if row is None:  # dedup hit: the first job stands
                return conn.execute(SQL_JOB_BY_DEDUP_KEY, (dedup_key,)).fetchone()[0]
            job_id = row[0]
            detail = {"kind": kind, "dedup_key": dedup_key}
            if request is not None:
                detail["request"] = request
            append_history(conn, self.stamp(now), producer, job_id, "enqueued", 0, JobState.QUEUED, **detail)
        return job_id

    # --- worker side ---------------------------------------------------------

    def lease(self, worker: str, ttl: float, expires: bool = True) -> Lease | None:
        """Claim the longest-visible claimable job for ``ttl`` seconds, or return None.

        ``expires=False`` is the at-most-once design of FM_003: the lease never expires, so a
        job whose holder dies is stranded for good.
        """
        ttl = check_ttl(ttl)
        with self.store.transaction() as conn:
            return self.claim(conn, worker, ttl, self.clock.now(), expires)

    def claim(self, conn: sqlite3.Connection, worker: str, ttl: float, now: float,
              expires: bool = True) -> Lease | None:
        """The claim, inside the caller's transaction (for policies that do more in the same one)."""
        expires_at = now + ttl if expires else None
        row = conn.execute(SQL_CLAIM, {"worker": worker, "now": now, "expires_at": expires_at}).fetchone()
        if row is None:
            return None
        job_id, kind, payload, token, attempts, reclaimed_from = row
        detail = {"attempt": attempts, "expires_at": expires_at}
        if self.stamp(now) != now and expires_at is not None:  # decided on a clock that is not the store's
            detail["expires_at_store"] = self.stamp(now) + ttl
        if reclaimed_from is not None:
            detail["reclaimed_from"] = reclaimed_from
        append_history(conn, self.stamp(now), worker, job_id, "leased", token, JobState.LEASED, **detail)
        return Lease(job_id, kind, json.loads(payload), worker, token, attempts, now,
                     math.inf if expires_at is None else expires_at, reclaimed_from)

    def take(self, worker: str) -> Lease | None:
        """Delete-on-dequeue (the other at-most-once design of FM_003): the job row is gone once
        taken; only its ``taken`` history row remains until the worker records it done."""
        now = self.clock.now()
        with self.store.transaction() as conn:
            row = conn.execute(SQL_TAKE, {"now": now}).fetchone()
            if row is None:
                return None
            job_id, kind, payload, token, attempts = row
            append_history(conn, self.stamp(now), worker, job_id, "taken", token + 1, None, attempt=attempts + 1)
        return Lease(job_id, kind, json.loads(payload), worker, token + 1, attempts + 1, now, math.inf,
                     None, taken=True)

    def record_done(self, lease: Lease) -> None:
        """A taken (deleted) job was processed: say so in the history (there is no row to update)."""
        now = self.clock.now()
        with self.store.transaction() as conn:
            append_history(conn, self.stamp(now), lease.worker, lease.job_id, "committed", lease.token, JobState.COMMITTED,
                           taken=True)

    def record_dropped(self, lease: Lease, error: str) -> None:
        """A taken (deleted) job's handler failed: there is nothing to put back; say so."""
        now = self.clock.now()
        with self.store.transaction() as conn:
            append_history(conn, self.stamp(now), lease.worker, lease.job_id, "dropped", lease.token, None,
                           error=error)

    def release_expired(self, conn: sqlite3.Connection, now: float, by: str | None) -> list[tuple[int, str]]:
        """Reconcile sweep, inside the caller's transaction: every expired lease goes back to
        ``queued`` with a ``released`` history row naming the holder that orphaned it."""
        released = conn.execute(SQL_RELEASE_EXPIRED, {"now": now}).fetchall()
        for job_id, owner, token in released:
            append_history(conn, self.stamp(now), by, job_id, "released", token, JobState.QUEUED, orphaned_by=owner)
        return [(job_id, owner) for job_id, owner, _ in released]

    def extend(self, lease: Lease, ttl: float) -> Lease:
        """Naive heartbeat: push the job's lease to ``now + ttl`` for ``lease.worker``, whoever holds it now."""
        ttl = check_ttl(ttl)
        now = self.clock.now()
        with self.store.transaction() as conn:
            job = self._holder(conn, lease.job_id)
            decide(job.state, "extend", job.id)
            conn.execute(SQL_EXTEND, {"id": job.id, "worker": lease.worker, "expires_at": now + ttl, "now": now})
            extra = {"expires_at_store": self.stamp(now) + ttl} if self.stamp(now) != now else {}
            append_history(conn, self.stamp(now), lease.worker, job.id, "extended", lease.token, JobState.LEASED,
                           expires_at=now + ttl, holder=job.lease_owner, holder_token=job.token, **extra)
        return Lease(lease.job_id, lease.kind, lease.payload, lease.worker, lease.token, lease.attempt,
                     lease.leased_at, now + ttl, lease.reclaimed_from, lease.taken)

    def commit(self, lease: Lease, inside: Callable[[str], None] | None = None) -> None:
        """Naive commit: mark the job committed by id. No check of holder or token (FM_001).

        ``inside(name)`` is called inside the open transaction, after the writes, before
        ``COMMIT`` (FM_008: a kill there must roll everything back).
        """
        now = self.clock.now()
        with self.store.transaction() as conn:
            # One statement decides and writes; the state table is consulted for the refusal.
            row = conn.execute(SQL_COMMIT, {"id": lease.job_id, "now": now}).fetchone()
            if row is None:
                job = self._holder(conn, lease.job_id)
                decide(job.state, "commit", job.id)  # raises IllegalTransition, naming the state
            holder, token = row
            append_history(conn, self.stamp(now), lease.worker, lease.job_id, "committed", lease.token,
                           JobState.COMMITTED, holder=holder, holder_token=token)
            if inside is not None:
                inside("commit_open")

    def commit_torn(self, lease: Lease, between: Callable[[str], None]) -> None:
        """The torn commit of FM_008: the job update and its history row in two transactions,
        with ``between("commit_torn")`` in the gap. A crash there leaves them disagreeing."""
        now = self.clock.now()
        with self.store.transaction() as conn:
            job = self._holder(conn, lease.job_id)
            new = decide(job.state, "commit", job.id)
            conn.execute(SQL_FINISH, {"id": job.id, "state": new.value, "now": now})
        between("commit_torn")
        with self.store.transaction() as conn:
            append_history(conn, self.stamp(now), lease.worker, job.id, "committed", lease.token, new,
                           holder=job.lease_owner, holder_token=job.token)

    def fail(self, lease: Lease, error: str, retry_at: float | None = None) -> None:
        """Return the job to the queue, visible again at ``retry_at`` (default: now), keeping ``error``."""
        now = self.clock.now()
        visible = now if retry_at is None else float(retry_at)
        with self.store.transaction() as conn:
            job = self._holder(conn, lease.job_id)
            new = decide(job.state, "fail", job.id)
            conn.execute(SQL_REQUEUE, {"id": job.id, "visible_at": visible, "error": str(error), "now": now})
            append_history(conn, self.stamp(now), lease.worker, job.id, "failed", lease.token, new,
                           error=str(error), retry_at=visible)

    def bury(self, lease: Lease, error: str) -> None:
        """Move the job to the terminal ``dead`` state (dead letter), keeping ``error``."""
        now = self.clock.now()
        with self.store.transaction() as conn:
            job = self._holder(conn, lease.job_id)
            new = decide(job.state, "bury", job.id)
            conn.execute(SQL_BURY, {"id": job.id, "error": str(error), "now": now})
            append_history(conn, self.stamp(now), lease.worker, job.id, "dead", lease.token, new, error=str(error))

    # --- reading -------------------------------------------------------------

    def _holder(self, conn: sqlite3.Connection, job_id: int) -> "_Holder":
        """What a transition needs of the job (state, holder, token), without decoding the row."""
        row = conn.execute(SQL_HOLDER, (job_id,)).fetchone()
        if row is None:
            raise UnknownJob(f"no job with id {job_id} in {self.store.path}")
        return _Holder(row[0], JobState(row[1]), row[2], row[3])

    def _get(self, conn: sqlite3.Connection, job_id: int) -> Job:
        cur = conn.execute(SQL_GET_JOB, (job_id,))
        row = cur.fetchone()
        if row is None:
            raise UnknownJob(f"no job with id {job_id} in {self.store.path}")
        return _job(row, [d[0] for d in cur.description])

    def get(self, job_id: int) -> Job:
        return self._get(self.store.connection(), job_id)

    def visible_at(self, job_id: int) -> float | None:
        """When the job can next be leased (its retry time, or its lease expiry); None once terminal."""
        rows = self.store.query(SQL_VISIBLE_AT, (job_id,))
        if not rows:
            raise UnknownJob(f"no job with id {job_id} in {self.store.path}")
        return rows[0][0]

    def claimable(self, at: float | None = None) -> bool:
        """Would a ``lease`` now (or at time ``at``, on the deciding clock) find a job?"""
        return bool(self.store.query(SQL_CLAIMABLE, (self.clock.now() if at is None else at,)))

    def next_deadline(self) -> float | None:
        """The earliest future time at which a job becomes claimable (a lease expiry or retry time)."""
        return self.store.query(SQL_NEXT_VISIBLE, (self.clock.now(),))[0][0]

    def jobs(self) -> list[Job]:
        cur = self.store.connection().execute(SQL_ALL_JOBS)
        cols = [d[0] for d in cur.description]
        return [_job(r, cols) for r in cur.fetchall()]

    def history(self, job_id: int | None = None) -> list[Event]:
        if job_id is None:
            rows = self.store.query(SQL_HISTORY_ALL)
        else:
            rows = self.store.query(SQL_HISTORY_JOB, (job_id,))
        return [_event(r) for r in rows]

    def empty(self) -> None:
        """Delete every job and history row and restart the numbering (a new run on the same file)."""
        with self.store.transaction() as conn:
            for stmt in SQL_EMPTY:
                conn.execute(stmt)

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in JobState}
        counts.update(dict(self.store.query(SQL_COUNT_BY_STATE)))
        return counts
