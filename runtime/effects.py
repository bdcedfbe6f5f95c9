"""The external effect ledger: the outside world a job acts on (think: a payment provider).

Contract
- The ledger is a JSON-lines file of its own, *outside* the queue's SQLite
  transaction: applying an effect and committing the job can never be atomic.
  That gap is what the failure modes live in.
- Appends are serialised across processes by a ``filelock`` (flock: the
  kernel frees it when a holder is SIGKILLed). Each record is one
  ``os.write`` of one line on an ``O_APPEND`` descriptor; a reader ignores a
  trailing line without its newline (a writer killed mid-write).
- Every attempt is recorded, applied or not: ``job``, ``worker``, ``token``,
  clock time ``at``, ``key``, ``outcome``.
- Outage windows (FM_005): a call at a clock time inside one fails with
  ``DownstreamUnavailable``, applies nothing, and is recorded as ``unavailable``.
- ``lookup`` (reconciliation, FM_002) finds the applied record for a key; with
  a job and token it is recorded (``lookup``) and takes part in fencing.
- Two checks, off by default (the naive world): ``idempotency`` — a second
  effect with an already-applied key is not applied again and the first
  record is returned (``outcome == "duplicate"``); ``fencing`` — an effect
  whose token is lower than the highest token already seen for that job is
  refused (``EffectRefused``, recorded as ``outcome == "stale"``).

INV_001 is judged from this file: at most one ``applied`` record per job.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from filelock import FileLock

from .clock import Clock
from .errors import DownstreamUnavailable, EffectRefused, StoreError, WrongProcess

APPLIED, DUPLICATE, STALE = "applied", "duplicate", "stale"
LOOKUP, UNAVAILABLE = "lookup", "unavailable"  # not effects: a reconcile read, a call that hit an outage


@dataclass(frozen=True)
class Effect:
    """One attempt to act on the outside world, as the ledger recorded it."""

    seq: int
    job: int
    worker: str
    token: int
    at: float
    outcome: str
    key: str | None = None
    body: Any = None
    first_seq: int | None = None  # for a duplicate: the record that was applied

    @property
    def applied(self) -> bool:
        return self.outcome == APPLIED


@dataclass
class _Index:
    offset: int = 0
    count: int = 0
    by_key: dict[str, int] = field(default_factory=dict)  # key -> seq of the applied record
    max_token: dict[int, int] = field(default_factory=dict)  # job -> highest token seen
    records: list[Effect] = field(default_factory=list)


class Ledger:
    """Append-only effect ledger shared by many processes."""

    def __init__(self, path: str | os.PathLike, clock: Clock, *, idempotency: bool = False,
                 fencing: bool = False, outages: Sequence[Sequence[float]] = ()) -> None:
        self.path = os.fspath(path)
        self.clock = clock
        self.idempotency = idempotency
        self.fencing = fencing
        self.outages = [(float(a), float(b)) for a, b in outages]
        self._pid = os.getpid()
        self._lock = FileLock(self.path + ".lock", is_singleton=True)
        self._index = _Index()
        if not os.path.exists(self.path):
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o644)
            os.close(fd)

    def _check_process(self) -> None:
        if os.getpid() != self._pid:
            raise WrongProcess(
                f"ledger {self.path} was opened in process {self._pid} and used in {os.getpid()}; "
                "open a new Ledger in each process"
            )

    def _catch_up(self) -> None:
        """Read records appended since the last call (by any process) into the index."""
        with open(self.path, "rb") as f:
            f.seek(self._index.offset)
            data = f.read()
        end = data.rfind(b"\n")
        if end < 0:
            return
        for line in data[: end + 1].splitlines():
            try:
                rec = Effect(**json.loads(line))
            except (ValueError, TypeError) as exc:
                raise StoreError(f"ledger {self.path} has a malformed record ({exc}): {line[:80]!r}") from None
            self._absorb(rec)
        self._index.offset += end + 1

    def _absorb(self, rec: Effect) -> None:
        ix = self._index
        ix.count = max(ix.count, rec.seq)
        ix.records.append(rec)
        if rec.applied:
            if rec.key is not None:
                ix.by_key.setdefault(rec.key, rec.seq)
        if rec.outcome not in (STALE, UNAVAILABLE):
            ix.max_token[rec.job] = max(ix.max_token.get(rec.job, 0), rec.token)

    def _append(self, rec: Effect) -> None:
        line = (json.dumps(asdict(rec), sort_keys=True) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        self._absorb(rec)
        self._index.offset += len(line)

    def _outage(self, at: float, job: int, worker: str, token: int, key: str | None, seq: int) -> None:
        for start, end in self.outages:
            if start <= at < end:
                self._append(Effect(seq, job, worker, token, at, UNAVAILABLE, key))
                raise DownstreamUnavailable(
                    f"the downstream is unavailable at t={at:g} (outage [{start:g}, {end:g})); "
                    f"{worker}'s call for job {job} failed and applied nothing")

    def apply(self, job: int, worker: str, token: int, body: Any = None, key: str | None = None) -> Effect:
        """Act on the outside world once for ``job``; return the record (applied, or the duplicate).

        Raises ``EffectRefused`` when fencing is on and ``token`` is stale, and
        ``DownstreamUnavailable`` during an outage window (nothing is applied).
        """
        self._check_process()
        with self._lock:
            self._catch_up()
            ix = self._index
            seq = ix.count + 1
            at = self.clock.now()
            self._outage(at, job, worker, token, key, seq)
            if self.fencing and token < ix.max_token.get(job, 0):
                rec = Effect(seq, job, worker, token, at, STALE, key, body)
                self._append(rec)
                raise EffectRefused(
                    f"ledger refused {worker}'s effect for job {job}: token {token} is older than "
                    f"token {ix.max_token[job]} already seen; the worker's lease is stale, abandon the job"
                )
            if self.idempotency and key is not None and key in ix.by_key:
                rec = Effect(seq, job, worker, token, at, DUPLICATE, key, body, first_seq=ix.by_key[key])
            else:
                rec = Effect(seq, job, worker, token, at, APPLIED, key, body)
            self._append(rec)
            return rec

    def lookup(self, key: str, job: int | None = None, worker: str = "", token: int | None = None) -> Effect | None:
        """The applied record for ``key``, if any (reconciliation, FM_002).

        Given ``job`` and ``token``, the lookup is itself recorded, and with fencing on it is a
        fencing read: a stale token is refused (``EffectRefused``) and a current one becomes the
        highest the ledger has seen for the job, so an older holder's later effect is refused.
        That closes the window between a reconcile lookup and the effect that follows it.
        """
        self._check_process()
        with self._lock:
            self._catch_up()
            ix = self._index
            if job is not None and token is not None:
                at = self.clock.now()
                self._outage(at, job, worker, token, key, ix.count + 1)
                if self.fencing and token < ix.max_token.get(job, 0):
                    self._append(Effect(ix.count + 1, job, worker, token, at, STALE, key))
                    raise EffectRefused(
                        f"ledger refused {worker}'s lookup for job {job}: token {token} is older than token "
                        f"{ix.max_token[job]} already seen; the worker's lease is stale, abandon the job")
                self._append(Effect(ix.count + 1, job, worker, token, at, LOOKUP, key, {"found": ix.by_key.get(key)}))
            seq = ix.by_key.get(key)
            return ix.records[seq - 1] if seq else None


    def records(self, job: int | None = None) -> list[Effect]:
        """Every recorded attempt, in order (optionally for one job)."""
        self._check_process()
        with self._lock:
            self._catch_up()
            recs = list(self._index.records)
        return recs if job is None else [r for r in recs if r.job == job]

    def effects(self, job: int | None = None) -> list[Effect]:
        """Applied effects only: what the outside world actually saw."""
        return [r for r in self.records(job) if r.applied]


def read_ledger(path: str | os.PathLike) -> list[Effect]:
    """Read a ledger file without a lock or a clock (for reports and checks after a run)."""
    out: list[Effect] = []
    if not os.path.exists(path):
        return out
    with open(path, "rb") as f:
        data = f.read()
    end = data.rfind(b"\n")
    for line in data[: end + 1].splitlines():
        out.append(Effect(**json.loads(line)))
    return out
