"""The coordinator: real worker processes, one SQLite file, one controlled clock, every step gated.

Contract
- Each worker is a real OS process (``multiprocess``) running the ordinary
  ``runtime.Worker`` loop; its checkpoint function blocks on a pipe until the
  coordinator answers (``harness.gate``).
- Exactly one worker runs between checkpoints at any moment: every verb
  releases at most one worker and waits for its next report before it
  returns. A schedule (``harness.schedule``) therefore determines the run;
  replaying it gives the same trace.
- The coordinator owns the ``SharedClock``; workers read it lock-free and
  cannot write it.
- Every wait has a deadline (``step_timeout``). A worker that raises, dies, or
  does not reach its next checkpoint in time becomes a ``HarnessError`` naming
  the worker, its last checkpoint and the tail of its stderr.
- Every worker process is reaped on ``close()``: on success, on an exception
  in the body, on KeyboardInterrupt, and at interpreter exit.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import tempfile
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping

import multiprocess as mp
from multiprocess.connection import wait

import policies
from runtime import (CHECKPOINTS, TERMINAL, Violation, check_all, Effect, HarnessError, Ledger, Queue, ScheduleError, SharedClock,
                     Store, UnreachableCheckpoint, read_ledger)
from runtime.errors import InvalidArgument
from runtime.invariants import DEFAULT_MAX_ATTEMPTS
from runtime.errors import UnknownJobKind
from runtime.policy import Design
from runtime.producer import PRODUCER_CHECKPOINTS, append_line, pending, read_lines

from .bbgate import blackbox_main
from .gate import CRASH, ERROR, GO, RESET, WorkerSpec, worker_main
from .handlers import DEFAULT_HANDLERS
from .trace import Stop, TraceEvent

_REPORT_AFTER = frozenset({"poll", "idle"})  # arrivals that cannot have changed the store
LOCK_HOLDING = frozenset({"commit_open"})  # checkpoints inside an open write transaction
END_OF_WORK = frozenset({"committed", "failed", "abandoned", "acked"})
_LIVE: "weakref.WeakSet[Harness]" = weakref.WeakSet()


@atexit.register
def _reap_all() -> None:
    for h in list(_LIVE):
        h.close()


@dataclass
class _Worker:
    name: str
    spec: WorkerSpec
    proc: Any = None
    conn: Any = None
    at: Stop | None = None
    status: str = "new"  # new | at | paused | killed | crashed
    idle_version: int = -1
    exitcode: int | None = None
    incarnation: int = 0
    extra: dict = field(default_factory=dict)


_EMPTY_STORE: bytes | None = None


def _empty_store() -> bytes:
    """The bytes of a new, empty store (schema created, WAL checkpointed into the file).

    Creating the schema costs a few milliseconds a harness; copying these bytes does not."""
    global _EMPTY_STORE
    if _EMPTY_STORE is None:
        with tempfile.TemporaryDirectory(prefix="ffq-template-") as d:
            path = os.path.join(d, "empty.db")
            Store.open(path).close()  # the last connection to close checkpoints the WAL
            with open(path, "rb") as f:
                _EMPTY_STORE = f.read()
    return _EMPTY_STORE


def _current_cpu() -> int | None:
    """The CPU this process last ran on (field 39 of /proc/self/stat), if it can be read."""
    try:
        with open("/proc/self/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[36])
    except (OSError, ValueError, IndexError):
        return None


def _pin_to_current_cpu() -> set[int] | None:
    """Pin this process to the CPU it is on; return the affinity to restore (None if not pinned)."""
    try:
        saved = os.sched_getaffinity(0)
        cpu = _current_cpu()
        if cpu is None or cpu not in saved or len(saved) == 1:
            return None
        os.sched_setaffinity(0, {cpu})
        return saved
    except (AttributeError, OSError):
        return None


def _proc_state(pid: int) -> str:
    """Field 3 of /proc/<pid>/stat: R, S, T (stopped), Z (zombie)…"""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return "?"


class Harness:
    """Coordinate worker processes over one store. Use as a context manager."""

    def __init__(self, workdir: str | os.PathLike | None = None, workers: Iterable[str] = ("A", "B"),
                 policy: str = "naive", lease_ttl: float = 30.0,
                 handlers: Mapping[str, Callable] | None = None, start_method: str = "fork",
                 step_timeout: float = 10.0, clock_start: float = 0.0,
                 skew: Mapping[str, tuple[float, float]] | None = None, delivery: str = "lease",
                 downstream: Mapping[str, Any] | None = None, design: Mapping[str, Any] | None = None,
                 producers: Iterable[str] = (), blackbox: tuple[str, str] | None = None,
                 pin: bool = True) -> None:
        names = list(workers)
        producer_names = list(producers)
        everyone = names + producer_names
        if (not names or len(set(everyone)) != len(everyone)
                or not all(isinstance(n, str) and n for n in everyone)):
            raise ScheduleError(f"workers and producers must be distinct non-empty names, got "
                                f"{names!r} and {producer_names!r}")
        if not lease_ttl > 0:
            raise InvalidArgument(f"lease_ttl must be > 0, got {lease_ttl!r}")
        if start_method not in ("fork", "spawn", "forkserver"):
            raise InvalidArgument(f"start_method must be fork, spawn or forkserver, got {start_method!r}")
        self.policy_name = policies.get(policy).name  # validates the name in the coordinator
        self.design = {**(design or {}), "delivery": delivery} if delivery != "lease" else dict(design or {})
        try:
            Design(**self.design)  # validates in the coordinator, before any process starts
        except TypeError as exc:
            raise InvalidArgument(f"bad design {self.design!r}: {exc}") from None
        self.downstream = dict(downstream or {})
        self.lease_ttl = float(lease_ttl)
        self.handlers = dict(DEFAULT_HANDLERS if handlers is None else handlers)
        self.step_timeout = float(step_timeout)
        skew = dict(skew or {})
        for unknown in set(skew) - set(names):
            raise ScheduleError(f"skew names unknown worker {unknown!r}; workers are {', '.join(names)}")
        self._ctx = mp.get_context(start_method)
        # Exactly one process runs between checkpoints, so the coordinator and its workers lose
        # nothing by sharing one CPU, and every hand-off then stays in that CPU's caches: a gated
        # step costs about half as much as one that crosses CPUs (scripts/bench_harness.py).
        # Workers inherit the affinity; close() gives the coordinator its old one back.
        self._saved_affinity: set[int] | None = None  # set just before the workers start
        self._own_dir = workdir is None
        self.workdir = tempfile.mkdtemp(prefix="ffq-") if workdir is None else os.fspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.db_path = os.path.join(self.workdir, "queue.db")
        self.ledger_path = os.path.join(self.workdir, "ledger.jsonl")
        clock_path = os.path.join(self.workdir, "clock")
        self._clock_start = float(clock_start)
        self.clock = SharedClock.create(clock_path, start=clock_start)
        try:
            if not os.path.exists(self.db_path):
                with open(self.db_path, "wb") as f:  # an empty store, made once per process
                    f.write(_empty_store())
            self.store = Store.open(self.db_path)
        except BaseException:  # a corrupt or foreign file: leave nothing of ours behind
            self.clock.close()
            if self._own_dir:
                shutil.rmtree(self.workdir, ignore_errors=True)
            raise
        self.queue = Queue(self.store, self.clock, kinds=self.handlers)
        Ledger(self.ledger_path, self.clock)  # creates the file before any worker appends
        self._workers: dict[str, _Worker] = {}
        for name in everyone:
            offset, rate = skew.get(name, (0.0, 1.0))
            role = "producer" if name in producer_names else "blackbox" if blackbox else "worker"
            spec = WorkerSpec(name, self.db_path, self.ledger_path, clock_path,
                              os.path.join(self.workdir, f"{name}.stderr"), self.policy_name,
                              self.lease_ttl, self.handlers, offset, rate, self.design, self.downstream,
                              role, os.path.join(self.workdir, f"{name}.outbox"),
                              os.path.join(self.workdir, f"{name}.journal"),
                              *(blackbox or ("", "")))
            if role == "producer":
                for path in (spec.outbox_path, spec.journal_path):
                    open(path, "wb").close()
            self._workers[name] = _Worker(name, spec)
        self._trace: list[TraceEvent] = []
        self._steps: list[dict[str, Any]] = []
        self._version = 0
        self._closed = False
        self.last_drain: bool = False
        self.tolerate_crashes = False  # black-box mode sets it: an adapter that raises is a finding
        _LIVE.add(self)
        self._saved_affinity = _pin_to_current_cpu() if pin else None
        try:
            # launch every process, then take their first reports in order: the forks and the
            # children's start-up overlap, and the trace's order is still the names' order
            with self._no_connection_across_fork():
                for name in everyone:
                    self._start(self._workers[name], wait=False)
            for name in everyone:
                self._await(self._workers[name])
        except BaseException:
            self.close()
            raise

    # --- life cycle ------------------------------------------------------------

    def __enter__(self) -> "Harness":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """SIGKILL and reap every worker process; idempotent."""
        if self._closed:
            return
        self._closed = True
        for w in self._workers.values():  # kill them all first, then reap: the deaths overlap
            if w.proc is not None and w.proc.exitcode is None:
                try:
                    os.kill(w.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for w in self._workers.values():
            self._reap(w, kill=True)
        self.store.close()
        self.clock.close()
        if self._saved_affinity is not None:
            try:
                os.sched_setaffinity(0, self._saved_affinity)
            except OSError:
                pass
        _LIVE.discard(self)
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    @contextmanager
    def _no_connection_across_fork(self) -> Iterator[None]:
        """The coordinator's SQLite connection is closed while it forks ("How to corrupt", 2.6):
        a child that inherits an open connection inherits SQLite's per-process lock bookkeeping,
        and then takes no real lock of its own when it opens the file (so a later close in the
        coordinator could believe it is the last connection, checkpoint and drop the WAL)."""
        if self._ctx.get_start_method() != "fork":
            yield
            return
        self.store.close()
        try:
            yield
        finally:
            self.store = Store.open(self.db_path, create=False)
            self.queue.store = self.store

    def _start(self, w: _Worker, wait: bool = True) -> None:
        parent, child = self._ctx.Pipe(duplex=True)
        # Under fork the child inherits the coordinator's ends of the other workers' pipes;
        # it closes them so that each pipe has exactly one process at each end.
        inherited = ([o.conn.fileno() for o in self._workers.values() if o.conn is not None]
                     if self._ctx.get_start_method() == "fork" else [])
        target = blackbox_main if w.spec.role == "blackbox" else worker_main
        proc = self._ctx.Process(target=target, args=(w.spec, child, inherited),
                                 name=f"ffq-{w.name}", daemon=True)
        if wait:
            with self._no_connection_across_fork():
                proc.start()
        else:
            proc.start()  # the caller holds _no_connection_across_fork
        child.close()  # else a dead child never gives EOF
        w.proc, w.conn, w.status, w.at, w.exitcode = proc, parent, "new", None, None
        w.incarnation += 1
        if wait:
            self._await(w)

    def _reap(self, w: _Worker, kill: bool) -> None:
        if w.proc is None:
            return
        if kill and w.proc.exitcode is None:
            try:
                os.kill(w.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        w.proc.join(self.step_timeout)
        w.exitcode = w.proc.exitcode
        if w.conn is not None:
            w.conn.close()
        w.conn = None
        w.proc.close() if w.exitcode is not None else None
        w.proc = None

    def reset(self) -> None:
        """Start a new run on the same processes, store file and clock file.

        The store and the ledger are emptied, the clock is rewound to its start, paused workers
        are continued, live workers are sent back to their first ``poll``, and killed or crashed
        ones are restarted. Afterwards the harness is indistinguishable from a fresh one: the same
        schedule gives the same trace (the explorer relies on it; tests check it).
        """
        if self._closed:
            raise HarnessError("cannot reset: the harness is closed")
        for w in self._workers.values():
            if w.status == "paused":
                os.kill(w.proc.pid, signal.SIGCONT)
                self._wait_proc_state(w, "S", "R")
                w.status = "at"
        # Files first (a producer reads its outbox before its first gate), then the clock, then
        # every process back to its first gate (one inside an open transaction rolls it back as it
        # unwinds), and only then the store: emptying it earlier could wait on a worker's lock.
        os.truncate(self.ledger_path, 0)
        for w in self._workers.values():
            if w.spec.role == "producer":
                os.truncate(w.spec.outbox_path, 0)
                os.truncate(w.spec.journal_path, 0)
        self.clock.new_epoch(self._clock_start)
        self._trace, self._steps, self._version, self.last_drain = [], [], 0, False
        for w in self._workers.values():
            if w.status == "at":
                w.at = None
                w.conn.send_bytes(RESET)
                self._await(w)
            else:
                self._start(w)
        self.queue.empty()

    # --- the gate ----------------------------------------------------------------

    def _await(self, w: _Worker) -> Stop:
        """Wait (with a deadline) for ``w``'s next checkpoint report."""
        last = w.at
        ready = wait([w.conn, w.proc.sentinel], timeout=self.step_timeout)
        msg = None
        if w.conn in ready or w.conn.poll():
            try:
                msg = json.loads(w.conn.recv_bytes())
            except EOFError:
                msg = None
        if msg is not None and msg[0] == CRASH and self.tolerate_crashes:
            # black-box mode: the code under test raised; that is a finding, not a lab failure
            w.status = "crashed"
            self._reap(w, kill=True)
            error = msg[1].splitlines()[0].replace(self.workdir, "<workdir>")[:200]  # replayable
            self._record("crash", w.name, detail={"reason": "raised", "error": error})
            return w.at
        if msg is None or msg[0] == ERROR:
            if msg is not None:
                reason, kind = f"raised {msg[1]}", "raised"
            elif not ready:
                reason, kind = (f"did not reach its next checkpoint within {self.step_timeout:g} s "
                                "(blocked on a lock, or looping)"), "timeout"
            else:
                reason, kind = "died unexpectedly", "died"
            w.status = "crashed"
            self._reap(w, kill=True)
            where = f"after {last}" if last else "before its first checkpoint"
            self._record("crash", w.name, detail={"reason": kind})
            raise HarnessError(f"worker {w.name} {reason} {where}; exit code {w.exitcode}; "
                               f"stderr tail:\n{self._stderr_tail(w)}")
        name, job, token, clock = msg[:4]
        sql = msg[4] if len(msg) > 4 else None
        w.at = Stop(w.name, name, job, token, clock, sql)
        w.status = "at"
        if name == "idle":
            w.idle_version = self._version
        elif name not in _REPORT_AFTER:
            self._version += 1
        self._record("at", w.name, name, job, token, clock, detail={"sql": sql} if sql else None)
        return w.at

    def _stderr_tail(self, w: _Worker, lines: int = 15) -> str:
        try:
            with open(w.spec.stderr_path, errors="replace") as f:
                tail = f.read().splitlines()[-lines:]
        except FileNotFoundError:
            tail = []
        return "\n".join("    " + line for line in tail) or "    (empty)"

    def _record(self, op: str, worker: str | None = None, checkpoint: str | None = None,
                job: int | None = None, token: int | None = None, clock: float | None = None,
                detail: dict | None = None) -> None:
        self._trace.append(TraceEvent(len(self._trace) + 1, op, worker, checkpoint, job, token,
                                      self.clock.now() if clock is None else clock, detail or {}))

    def _worker(self, name: str) -> _Worker:
        try:
            return self._workers[name]
        except KeyError:
            raise ScheduleError(f"unknown worker {name!r}; workers are {', '.join(self._workers)}") from None

    def _live(self, name: str, verb: str) -> _Worker:
        if self._closed:
            raise HarnessError(f"cannot {verb} {name}: the harness is closed")
        w = self._worker(name)
        if w.status in ("killed", "crashed"):
            raise UnreachableCheckpoint(
                f"cannot {verb} worker {name}: it was {w.status} at {w.at}; restart({name!r}) first")
        return w

    # --- verbs -------------------------------------------------------------------

    def step(self, worker: str) -> Stop:
        """Release ``worker`` from its checkpoint and wait until it reaches the next one."""
        w = self._live(worker, "step")
        if w.status == "paused":
            raise HarnessError(f"worker {worker} is paused (SIGSTOP) at {w.at}; resume({worker!r}) first")
        self._steps.append({"op": "step", "worker": worker})
        return self._release(w)

    def _release(self, w: _Worker) -> Stop:
        for other in self._workers.values():
            if (other is not w and other.status in ("at", "paused") and other.at is not None
                    and other.at.checkpoint in LOCK_HOLDING):
                raise HarnessError(
                    f"{other.name} holds the store's write lock at {other.at}; releasing {w.name} now "
                    f"could only wait on it (busy timeout, then 'database is locked'): step, run or kill "
                    f"{other.name} first")
        w.conn.send_bytes(GO)
        return self._await(w)

    def run_until(self, worker: str, checkpoint: str, max_steps: int = 1000) -> Stop:
        """Step ``worker`` until it stops at ``checkpoint`` (no-op if it is there already)."""
        w = self._live(worker, "run")
        known = PRODUCER_CHECKPOINTS if w.spec.role == "producer" else CHECKPOINTS
        if checkpoint not in known:
            raise ScheduleError(f"unknown checkpoint {checkpoint!r} for {w.spec.role} {worker}; "
                                f"checkpoints are {', '.join(known)}")
        if w.status == "paused":
            raise HarnessError(f"worker {worker} is paused (SIGSTOP) at {w.at}; resume({worker!r}) first")
        self._steps.append({"op": "run_until", "worker": worker, "checkpoint": checkpoint})
        for _ in range(max_steps):
            if w.at.checkpoint == checkpoint:
                return w.at
            if w.at.checkpoint == "idle" and w.idle_version == self._version and checkpoint != "poll":
                raise UnreachableCheckpoint(
                    f"worker {worker} cannot reach '{checkpoint}': it stopped at {w.at}, idle, and nothing "
                    "has changed since it last polled; enqueue a job or advance the clock first")
            self._release(w)
        raise HarnessError(f"worker {worker} did not reach '{checkpoint}' within {max_steps} steps; "
                           f"it is at {w.at}")

    def advance(self, seconds: float) -> float:
        """Move the shared clock forward by ``seconds`` (every worker sees it at once)."""
        if self._closed:
            raise HarnessError("cannot advance the clock: the harness is closed")
        now = self.clock.advance(seconds)  # refuses a negative step
        self._version += 1
        self._steps.append({"op": "advance", "seconds": seconds})
        self._record("advance", detail={"seconds": seconds})
        return now

    def kill(self, worker: str) -> int:
        """SIGKILL the worker's real process where it stands; return its exit code (-9)."""
        w = self._live(worker, "kill")
        self._steps.append({"op": "kill", "worker": worker})
        os.kill(w.proc.pid, signal.SIGKILL)
        self._reap(w, kill=False)
        w.status = "killed"
        self._version += 1
        self._record("kill", worker, w.at.checkpoint, w.at.job, w.at.token, detail={"exitcode": w.exitcode})
        return w.exitcode

    def pause(self, worker: str) -> None:
        """SIGSTOP the worker at its checkpoint: frozen for real until ``resume``."""
        w = self._live(worker, "pause")
        if w.status == "paused":
            raise HarnessError(f"worker {worker} is already paused at {w.at}")
        self._steps.append({"op": "pause", "worker": worker})
        os.kill(w.proc.pid, signal.SIGSTOP)
        self._wait_proc_state(w, "T")
        w.status = "paused"
        self._record("pause", worker, w.at.checkpoint, w.at.job, w.at.token)

    def resume(self, worker: str) -> None:
        """SIGCONT a paused worker; it is again blocked at the checkpoint where it was paused."""
        w = self._live(worker, "resume")
        if w.status != "paused":
            raise HarnessError(f"worker {worker} is not paused (it is at {w.at})")
        self._steps.append({"op": "resume", "worker": worker})
        os.kill(w.proc.pid, signal.SIGCONT)
        self._wait_proc_state(w, "S", "R")
        w.status = "at"
        self._record("resume", worker, w.at.checkpoint, w.at.job, w.at.token)

    def _wait_proc_state(self, w: _Worker, *states: str) -> None:
        # Signal delivery is asynchronous; wait for /proc to agree, with a deadline.
        deadline = time.monotonic() + self.step_timeout
        while _proc_state(w.proc.pid) not in states:
            if time.monotonic() > deadline:
                raise HarnessError(f"worker {w.name} did not reach process state {states} within "
                                   f"{self.step_timeout:g} s")
            os.sched_yield()

    def restart(self, worker: str) -> Stop:
        """A fresh process under the same name, after a kill or a crash; it stops at its first ``poll``."""
        if self._closed:
            raise HarnessError(f"cannot restart {worker}: the harness is closed")
        w = self._worker(worker)
        if w.status not in ("killed", "crashed"):
            raise HarnessError(f"worker {worker} is running (at {w.at}); kill({worker!r}) it before restart")
        self._steps.append({"op": "restart", "worker": worker})
        self._record("restart", worker)
        self._version += 1
        self._start(w)
        return w.at

    def request(self, producer: str, kind: str, payload: Any = None, request: str | None = None) -> str:
        """Put a request in ``producer``'s outbox (the producer sends it when released); return its id."""
        p = self._worker(producer)
        if p.spec.role != "producer":
            raise ScheduleError(f"{producer} is a worker, not a producer; producers are "
                                f"{', '.join(n for n, x in self._workers.items() if x.spec.role == 'producer') or 'none'}")
        if kind not in self.handlers:
            raise UnknownJobKind(f"no handler is registered for job kind {kind!r}; known kinds: {sorted(self.handlers)}")
        rid = request or f"{producer}-{len(read_lines(p.spec.outbox_path)) + 1}"
        append_line(p.spec.outbox_path, {"request": rid, "kind": kind, "payload": payload})
        self._version += 1
        step: dict[str, Any] = {"op": "request", "producer": producer, "kind": kind, "payload": payload,
                                "request": rid}
        self._steps.append(step)
        self._record("request", producer, detail={"request": rid, "kind": kind})
        return rid

    def producers_pending(self, producer: str | None = None) -> bool:
        """Does a producer (any live one, or ``producer``) have requests it has not sent?"""
        return any(w.spec.role == "producer" and (producer is None or name == producer) and w.status == "at"
                   and pending(w.spec.outbox_path, w.spec.journal_path)
                   for name, w in self._workers.items())

    def claimable_for(self, worker: str) -> bool:
        """Would ``worker``'s next poll find a job? Judged on the clock its policy decides with:
        its own (possibly skewed, FM_010) or the store's."""
        spec = self._worker(worker).spec
        now = self.clock.now()
        if policies.get(self.policy_name).clock_authority == "worker":
            now = now * spec.clock_rate + spec.clock_offset
        return self.queue.claimable(now)

    def role(self, name: str) -> str:
        return self._worker(name).spec.role

    def enqueue(self, kind: str, payload: Any = None, dedup_key: str | None = None) -> int:
        """Enqueue a job from the coordinator (the producer); workers see it at their next poll."""
        job = self.queue.enqueue(kind, payload, dedup_key=dedup_key, producer="producer")
        self._version += 1
        step: dict[str, Any] = {"op": "enqueue", "kind": kind, "payload": payload}
        if dedup_key is not None:
            step["dedup_key"] = dedup_key
        self._steps.append(step)
        self._record("enqueue", job=job, detail={"kind": kind})
        return job

    # --- observation -------------------------------------------------------------

    @property
    def trace(self) -> list[TraceEvent]:
        """The ordered events of this run (no pids: equal runs give equal traces)."""
        return list(self._trace)

    @property
    def steps(self) -> list[dict[str, Any]]:
        """The steps performed so far, as schedule data (``harness.schedule``)."""
        return [dict(s) for s in self._steps]

    @property
    def workers(self) -> tuple[str, ...]:
        return tuple(n for n, w in self._workers.items() if w.spec.role != "producer")

    @property
    def producers(self) -> tuple[str, ...]:
        return tuple(n for n, w in self._workers.items() if w.spec.role == "producer")

    def at(self, worker: str) -> Stop | None:
        """Where ``worker`` is stopped (its last checkpoint, also after a kill)."""
        return self._worker(worker).at

    def status(self, worker: str) -> str:
        """``at``, ``paused``, ``killed`` or ``crashed``."""
        return self._worker(worker).status

    def pid(self, worker: str) -> int | None:
        w = self._worker(worker)
        return w.proc.pid if w.proc is not None else None

    def exitcode(self, worker: str) -> int | None:
        return self._worker(worker).exitcode

    def now(self) -> float:
        return self.clock.now()

    def history(self, job: int | None = None):
        """The queue's history rows (``runtime.Event``), in order."""
        return self.queue.history(job)

    def jobs(self):
        return self.queue.jobs()

    def ledger(self) -> list[Effect]:
        """Every effect attempt the ledger recorded (applied, duplicate, stale)."""
        return read_ledger(self.ledger_path)

    def effects(self, job: int | None = None) -> list[Effect]:
        """Applied effects (of ``job``, or all): what the outside world saw."""
        return [e for e in self.ledger() if e.applied and (job is None or e.job == job)]

    def check(self, drained: bool = False, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> list[Violation]:
        """Every invariant of docs/01_invariants.md over this run's history and ledger (INV_002 if ``drained``)."""
        return check_all(self.history(), self.ledger(), self.jobs(), drained=drained, max_attempts=max_attempts,
                         outages=self.downstream.get("outages", ()),
                         call_bound=self.downstream.get("call_bound"))

    def drain(self, max_steps: int = 2000) -> bool:
        """Let healthy workers finish the queue: live, unpaused workers run round-robin, a job's
        worth at a time, and only when none can make progress does the clock move, to the next
        lease expiry or retry time; until every job is terminal or nothing will ever be claimable
        (quiescence). Killed workers are not restarted, paused ones stay paused.
        Returns True when the run was drained — INV_002 may then be judged — and False when no
        healthy worker exists or ``max_steps`` ran out first (a job retried forever).
        """
        if self._closed:
            raise HarnessError("cannot drain: the harness is closed")
        self._steps.append({"op": "drain"})
        self.last_drain = self._drain(max_steps)
        return self.last_drain

    def _drain(self, max_steps: int) -> bool:
        steps = 0
        while steps < max_steps:
            healthy = [w for w in self._workers.values() if w.status == "at"]
            if (not [j for j in self.jobs() if j.state not in TERMINAL] and not self.producers_pending()
                    and all(w.at.checkpoint in ("poll", "idle") for w in healthy)):
                return True  # every job terminal and no healthy worker left mid-job
            if any(w.status == "paused" and w.at is not None and w.at.checkpoint in LOCK_HOLDING
                   for w in self._workers.values()):
                return False  # a frozen worker holds the write lock: everyone else could only wait
            if not healthy:
                return False  # nobody healthy to drain with: liveness cannot be judged
            # a worker holding the store's write lock goes first: anyone else would wait on it
            healthy.sort(key=lambda w: w.at.checkpoint not in LOCK_HOLDING)
            progressed = False
            for w in healthy:
                # one job's worth of steps, or until the worker finds nothing to do
                while steps < max_steps:
                    if w.at.checkpoint == "idle" and w.idle_version == self._version:
                        break
                    self._release(w)
                    steps += 1
                    if w.at.checkpoint in END_OF_WORK:
                        progressed = True
                        break
            if progressed:
                continue
            if all(w.at.checkpoint == "idle" and w.idle_version == self._version for w in healthy):
                # quiescent at this time: move the clock to the next lease expiry or retry time
                deadline = self.queue.next_deadline()
                if deadline is None:
                    return True  # nothing will ever become claimable: what is left is lost (INV_002)
                self.clock.set(deadline)
                self._version += 1
                self._record("advance", detail={"to": deadline, "drain": True})
        return False  # the step budget ran out: a livelock (a job retried forever), not a drain

    def integrity_check(self) -> str:
        return self.store.integrity_check()

    def __repr__(self) -> str:
        state = ", ".join(f"{n}:{w.status}@{w.at.checkpoint if w.at else '-'}" for n, w in self._workers.items())
        return f"Harness({self.workdir!r}, policy={self.policy_name}, {state})"
