"""The worker side of the checkpoint gate: what runs inside each worker process.

Contract
- The child opens its own store, ledger and clock handle (never one carried
  across fork), then runs the ordinary ``runtime.Worker`` loop with a
  checkpoint function that reports ``[checkpoint, job, token, clock]`` over
  the pipe and blocks until the coordinator answers ``GO``.
- The first report is the first ``poll`` (a producer's: ``idle`` or
  ``produce``): the process touches the queue only after the coordinator has
  released it from there.
- ``RESET`` instead of ``GO`` starts a new run in the same process (the
  coordinator has emptied the store and the ledger and rewound the clock):
  the worker unwinds to the top of its loop and reports its first ``poll``.
- If the worker loop raises, the child reports ``["!error", text]`` and exits
  with status 1; if the coordinator goes away (EOF), the child exits at once.
- The child takes no multiprocess lock, so a SIGKILL at any point leaves
  nothing held but SQLite's and flock's locks, which the kernel frees.

Messages are JSON over ``send_bytes``/``recv_bytes``: small, and without the
pickling cost of ``send``/``recv``.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

GO = b"g"
RESET = b"r"
ERROR = "!error"
CRASH = "!crash"  # black-box mode: the code under test raised


class _Reset(BaseException):
    """The coordinator starts a new run on the same store: unwind to the top of the loop.

    A BaseException so that no ``except Exception`` in a handler or policy can swallow it.
    """


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker process needs, all of it plain data (safe under spawn)."""

    name: str
    db_path: str
    ledger_path: str
    clock_path: str
    stderr_path: str
    policy: str
    lease_ttl: float
    handlers: dict[str, Callable] = field(default_factory=dict)
    clock_offset: float = 0.0
    clock_rate: float = 1.0
    design: dict = field(default_factory=dict)
    downstream: dict = field(default_factory=dict)
    role: str = "worker"  # or "producer" (FM_007), or "blackbox" (code under test)
    outbox_path: str = ""
    journal_path: str = ""
    adapter: str = ""       # black-box mode: module:object of the adapter
    adapter_dir: str = ""   # black-box mode: where the queue under test keeps its files

    def ledger_options(self, policy) -> dict:
        """What the policy asks of the ledger, limited by what this downstream offers."""
        opts = dict(policy.ledger_options())
        for cap in ("idempotency", "fencing"):
            if self.downstream.get(cap) is False:
                opts[cap] = False
        opts["outages"] = self.downstream.get("outages", ())
        return opts


def _redirect_stderr(path: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)


def prepare_child(spec: WorkerSpec, inherited_fds: list[int] = ()) -> None:
    """In a new worker process: close the other participants' pipe ends; stderr to its file."""
    for fd in inherited_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    _redirect_stderr(spec.stderr_path)


def worker_main(spec: WorkerSpec, conn: Any, inherited_fds: list[int] = ()) -> None:
    """Entry point of a worker (or producer) process. ``inherited_fds``: the coordinator's other
    pipe ends, to close."""
    prepare_child(spec, inherited_fds)
    # Imports here, so a spawned child pays for them once and a forked one not at all.
    import policies
    from runtime import Ledger, Producer, Queue, SharedClock, SkewedClock, Store, Worker
    from runtime.policy import Design

    send, recv = conn.send_bytes, conn.recv_bytes
    try:
        clock = shared = SharedClock.attach(spec.clock_path)
        if spec.clock_offset or spec.clock_rate != 1.0:
            clock = SkewedClock(shared, spec.clock_offset, spec.clock_rate)
        now = clock.now
        policy = policies.get(spec.policy)
        store = Store.open(spec.db_path, create=False)
        authority = shared  # the store's clock: the coordinator's, unskewed
        # Lease expiry is judged by the worker's own clock unless the policy says the store's (FM_010);
        # history rows and the outside world always carry the store's time.
        queue = Queue(store, clock if policy.clock_authority == "worker" else authority, history_clock=authority)

        def checkpoint(name: str, job: int | None, token: int | None) -> None:
            send(json.dumps([name, job, token, now()]).encode())
            answer = recv()
            if answer == GO:
                return
            if answer == RESET:
                raise _Reset()
            raise SystemExit(3)  # pragma: no cover - protocol guard

        while True:
            # A new run starts here: the ledger index is rebuilt (the file was truncated);
            # the store connection and the clock mapping are kept, warm.
            if spec.role == "producer":
                worker = Producer(spec.name, queue, spec.outbox_path, spec.journal_path, policy, checkpoint)
            else:
                ledger = Ledger(spec.ledger_path, shared, **spec.ledger_options(policy))
                worker = Worker(spec.name, queue, ledger, spec.handlers, lease_ttl=spec.lease_ttl,
                                policy=policy, checkpoint=checkpoint, design=Design(**spec.design))
            try:
                while True:
                    worker.run_once()
            except _Reset:
                continue
    except (EOFError, BrokenPipeError, ConnectionResetError):
        os._exit(0)  # the coordinator is gone: nothing to report to
    except BaseException as exc:  # report, then die: the coordinator turns it into a HarnessError
        die_reporting(send, ERROR, exc)


def die_reporting(send: Any, tag: str, exc: BaseException) -> None:
    """Write the traceback to stderr, tell the coordinator (``[tag, message]``), exit with 1."""
    sys.stderr.write("".join(traceback.format_exception(exc)))
    sys.stderr.flush()
    try:
        send(json.dumps([tag, f"{type(exc).__name__}: {exc}"]).encode())
    except OSError:
        pass
    os._exit(1)
