"""Black-box mode: a third-party SQLite queue under the harness, every SQL statement a gate.

Contract
- The queue under test is reached through an *adapter* loaded by
  ``module:object`` (a class is instantiated with no arguments)::

      class Adapter:
          name = "litequeue"
          def setup(self, workdir: str, jobs: list[str]) -> None: ...   # coordinator: create, enqueue
          def consume(self, workdir: str, report) -> None: ...          # worker: take one job, then
              # report("delivered", job); do the work; ack it; report("acked", job)

- In each worker process ``sqlite3.connect`` is wrapped so that every
  connection gets a trace callback; the callback reports the statement about
  to run (normalised: literals become ``?``, so traces are stable) and blocks
  until the coordinator answers. ``report`` is a gate too, and so is ``poll``
  (before each ``consume``). The code under test is not changed.
- The coordinator follows each worker's transaction from the statements it
  has let run (``BEGIN IMMEDIATE``/``EXCLUSIVE``, the first write of a
  deferred transaction, an autocommit write, ``COMMIT``/``ROLLBACK``) and
  never releases a worker whose next statement needs the write lock while
  another worker holds it: such a move could only wait in SQLite's busy
  handler. A kill frees the victim's locks (the kernel drops them).
- An adapter that raises in a worker is a finding (the worker is recorded as
  crashed), not a lab failure. An adapter that cannot be loaded, or raises in
  ``setup``, is bad input.
- The lock model assumes WAL (readers never block writers), which is what
  SQLite queues use; in a rollback-journal database a reader's SHARED lock
  can make a writer's ``COMMIT`` wait, and that wait would be recorded as the
  adapter raising ``database is locked``. ``SAVEPOINT`` transactions are not
  tracked. Time read by the code under test is wall time: the lab does not
  control it (its literals are normalised out of traces, not out of behaviour).
- Invariants, from the reports and a final drain by the surviving workers:
  INV_010 no job delivered to a worker while another live worker holds it
  undelivered-and-unacked; INV_011 every job is acked once the survivors have
  drained the queue; INV_012 no job is acked twice.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, Sequence

from runtime import BadInput, HarnessError, Violation

from .bbgate import blackbox_main, classify, load_adapter, normalize
from .harness import Harness
from .trace import TraceEvent

BLACKBOX_INVARIANTS = {
    "INV_010": "no duplicate delivery: a job is not delivered while another live worker holds it",
    "INV_011": "no lost job: after kills, the surviving workers' drain acks every job",
    "INV_012": "no job is acked twice",
}


# --- the coordinator side -------------------------------------------------------------------


class BlackBox:
    """A harness over unmodified queue code: workers gated at every SQL statement and report."""

    def __init__(self, workdir: str | os.PathLike | None, adapter: str, workers: Sequence[str] = ("A", "B"),
                 jobs: Sequence[str] = ("j1", "j2"), step_timeout: float = 10.0) -> None:
        self.adapter_ref = adapter
        self.jobs = [str(j) for j in jobs]
        self._own = workdir is None
        self.workdir = tempfile.mkdtemp(prefix="ffq-bb-") if workdir is None else os.fspath(workdir)
        self.adapter_dir = os.path.join(self.workdir, "queue")
        os.makedirs(self.adapter_dir, exist_ok=True)
        try:
            ad = load_adapter(adapter)
            self.name = getattr(ad, "name", adapter)
            try:
                ad.setup(self.adapter_dir, list(self.jobs))
            except Exception as exc:
                raise BadInput(f"adapter {adapter!r} raised in setup: {type(exc).__name__}: {exc}") from None
            self.h = Harness(self.workdir, workers=workers, step_timeout=step_timeout,
                             blackbox=(adapter, self.adapter_dir))
        except BaseException:
            if self._own:
                shutil.rmtree(self.workdir, ignore_errors=True)
            raise
        self.h.tolerate_crashes = True
        self.txn: dict[str, str | None] = {w: None for w in workers}
        self.version = 0
        self.idle_at: dict[str, int] = {}
        self._delivered_since_poll: dict[str, bool] = {w: False for w in workers}
        self.steps: list[dict[str, Any]] = []

    # life cycle
    def close(self) -> None:
        self.h.close()
        if self._own:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "BlackBox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def workers(self) -> tuple[str, ...]:
        return self.h.workers

    @property
    def trace(self) -> list[TraceEvent]:
        return self.h.trace

    def alive(self, w: str) -> bool:
        return self.h.status(w) == "at"

    def lock_holder(self) -> str | None:
        return next((w for w, t in self.txn.items() if t == "write" and self.alive(w)), None)

    def can_run(self, w: str) -> bool:
        if not self.alive(w):
            return False
        stop = self.h.at(w)
        if stop.checkpoint == "poll" and self.idle_at.get(w) == self.version:
            return False  # its last consume found nothing and nothing has changed since
        if stop.checkpoint == "sql":
            kind = classify(stop.detail or "")
            holder = self.lock_holder()
            needs = kind in ("begin_write", "write") or (kind == "end" and self.txn[w] == "write")
            if needs and holder not in (None, w):
                return False  # it could only wait on the write lock
        return True

    def step(self, w: str) -> None:
        """Let ``w`` run its next statement (or report) and stop at the gate after it."""
        self._step(w, record=True)

    def _step(self, w: str, record: bool) -> None:
        if not self.can_run(w):
            raise HarnessError(f"{w} cannot run now: it is at {self.h.at(w)} "
                               + (f"and {self.lock_holder()} holds the write lock" if self.lock_holder() else
                                  "and has nothing to do"))
        stop = self.h.at(w)
        if stop.checkpoint == "sql":
            kind = classify(stop.detail or "")
            if kind == "begin_write":
                self.txn[w] = "write"
            elif kind == "begin":
                self.txn[w] = "read"
            elif kind == "end":
                if self.txn[w] == "write":
                    self.version += 1  # its writes become visible to everyone now
                self.txn[w] = None
            elif kind == "write":
                self.version += 1
                if self.txn[w] == "read":
                    self.txn[w] = "write"
        if not record:
            pass
        elif self.steps and self.steps[-1]["op"] == "step" and self.steps[-1]["worker"] == w:
            self.steps[-1]["count"] = self.steps[-1].get("count", 1) + 1
        else:
            self.steps.append({"op": "step", "worker": w})
        after = self.h.step(w)
        if after is not None and after.checkpoint == "delivered":
            self._delivered_since_poll[w] = True
        if self.h.status(w) != "at":  # crashed: the kernel dropped its locks
            self.txn[w] = None
            self.version += 1
        elif after.checkpoint == "poll":
            if not self._delivered_since_poll[w]:
                self.idle_at[w] = self.version
            self._delivered_since_poll[w] = False

    def kill(self, w: str) -> None:
        self.steps.append({"op": "kill", "worker": w})
        self.h.kill(w)
        self.txn[w] = None
        self.version += 1

    def drain(self, rounds: int = 50, max_steps: int = 5000) -> bool:
        """The surviving workers finish what they are doing, then consume, round after round,
        until a round in which every survivor ran a whole consume and none delivered or acked.
        True if it got there; False with no survivor (nothing can be judged) or out of budget."""
        self.steps.append({"op": "drain"})
        budget = [max_steps]

        def run_to_poll(w: str, leave: bool) -> bool:
            """Step ``w`` to its next ``poll`` (first off it, if ``leave``); True if it reported."""
            reported = False
            if leave:
                if not self.can_run(w):
                    return False
                self._step(w, record=False)
                budget[0] -= 1
            while self.alive(w) and self.h.at(w).checkpoint != "poll" and self.can_run(w) and budget[0] > 0:
                self._step(w, record=False)
                budget[0] -= 1
                if self.alive(w) and self.h.at(w).checkpoint in ("delivered", "acked"):
                    reported = True
            return reported

        for _ in range(rounds):
            order = sorted((w for w in self.workers if self.alive(w)), key=lambda w: self.txn[w] != "write")
            if not order:
                return False  # no survivor: whether a job is lost cannot be judged
            progressed = False
            for w in order:
                progressed |= run_to_poll(w, leave=False)  # finish the consume in progress
                if self.alive(w) and self.h.at(w).checkpoint == "poll":
                    progressed |= run_to_poll(w, leave=True)  # one whole consume
            if budget[0] <= 0:
                return False
            if not progressed:
                return True
        return False

    def check(self, drained: bool) -> list[Violation]:
        return check_blackbox(self.trace, self.jobs, drained)


def check_blackbox(trace: Sequence[TraceEvent], jobs: Sequence[str], drained: bool) -> list[Violation]:
    """INV_010–INV_012 from the workers' reports (and the drain, for INV_011)."""
    out: list[Violation] = []
    holders: dict[str, dict[str, int]] = {}
    acked: dict[str, str] = {}
    for ev in trace:
        if ev.op in ("kill", "crash"):
            for h in holders.values():
                h.pop(ev.worker, None)  # a dead worker has given its jobs up
        if ev.op != "at" or ev.job is None:
            continue
        job, w = str(ev.job), ev.worker
        if ev.checkpoint == "delivered":
            others = {x: seq for x, seq in holders.get(job, {}).items() if x != w}
            for x, seq in others.items():
                out.append(Violation("INV_010", None, f"job {job} was delivered to {w} (trace #{ev.seq}) while "
                                     f"{x} still held it (delivered at #{seq}, not acked, {x} alive)", (x, w)))
            holders.setdefault(job, {})[w] = ev.seq
        elif ev.checkpoint == "acked":
            if job in acked:
                out.append(Violation("INV_012", None, f"job {job} was acked twice: by {acked[job]} and by {w} "
                                     f"(trace #{ev.seq})", (acked[job], w)))
            acked.setdefault(job, w)
            holders.get(job, {}).pop(w, None)
    if drained:
        for job in jobs:
            if job not in acked:
                out.append(Violation("INV_011", None, f"job {job} was never acked, though the surviving "
                                     "workers drained the queue: it is lost"))
    return out


__all__ = ["BLACKBOX_INVARIANTS", "BlackBox", "blackbox_main", "check_blackbox", "classify", "load_adapter",
           "normalize"]
