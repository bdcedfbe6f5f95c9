"""A producer with named checkpoints: it sends requests to the queue and records each success.

FM_007 needs producers as participants: a producer's enqueue can commit while
its caller never learns it did (it died, or timed out, before recording the
success), and its retry then enqueues the same logical request again.

Contract
- Requests come from an *outbox* (a JSON-lines file the caller appends to);
  each has a ``request`` id, a ``kind`` and a ``payload``.
- The producer's *journal* (its own JSON-lines file) records every request it
  knows was enqueued. On start, and on every loop, a request is pending if
  the outbox has it and the journal does not: a restarted producer retries
  exactly what it cannot prove was sent.
- One request, in order: ``produce`` -> [enqueue] -> ``enqueued`` -> [journal]
  -> ``acked``; ``idle`` when nothing is pending. Between two checkpoints the
  producer performs at most one action, as the worker does.
- The dedup key sent with the enqueue is the policy's ``enqueue_key(request)``:
  none under ``naive``, the request id under ``dedup``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable

from .policy import NAIVE, Policy
from .queue import Queue
from .worker import Checkpoint, no_checkpoint

PRODUCER_CHECKPOINTS = ("produce", "enqueued", "acked", "idle")


def read_lines(path: str) -> list[dict[str, Any]]:
    """JSON lines of ``path``; a last line without its newline (a writer killed mid-write) is ignored."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    end = data.rfind(b"\n")
    return [json.loads(line) for line in data[: end + 1].splitlines() if line.strip()]


def append_line(path: str, record: dict[str, Any]) -> None:
    """One ``os.write`` of one line on an ``O_APPEND`` descriptor."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(record, sort_keys=True) + "\n").encode())
    finally:
        os.close(fd)


def pending(outbox: str, journal: str) -> list[dict[str, Any]]:
    """Requests in ``outbox`` that ``journal`` does not record as sent, in order."""
    sent = {r["request"] for r in read_lines(journal)}
    return [r for r in read_lines(outbox) if r["request"] not in sent]


class Producer:
    """Sends the outbox's pending requests to the queue, one at a time."""

    def __init__(self, name: str, queue: Queue, outbox: str, journal: str, policy: Policy = NAIVE,
                 checkpoint: Checkpoint = no_checkpoint) -> None:
        self.name, self.queue, self.outbox, self.journal = name, queue, outbox, journal
        self.policy, self.checkpoint = policy, checkpoint

    def run_once(self) -> str:
        cp: Callable = self.checkpoint
        todo = pending(self.outbox, self.journal)
        if not todo:
            cp("idle", None, None)
            return "idle"
        req = todo[0]
        cp("produce", None, None)
        job = self.queue.enqueue(req["kind"], req.get("payload"), dedup_key=self.policy.enqueue_key(req["request"]),
                                 producer=self.name, request=req["request"])
        cp("enqueued", job, None)
        append_line(self.journal, {"request": req["request"], "job": job})
        cp("acked", job, None)
        return "acked"
