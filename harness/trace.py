"""Records of a coordinated run: where a worker stopped, and the ordered trace.

A trace is the coordinator's account of a run: every arrival of a worker at a
checkpoint and every move the coordinator made (enqueue, clock advance, kill,
pause, resume, restart), in the order they happened. It holds no process ids,
so two runs of one schedule give byte-identical ``dumps(trace)``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable


@dataclass(frozen=True)
class Stop:
    """A worker blocked at a checkpoint: which, for which job and token, at what clock reading."""

    worker: str
    checkpoint: str
    job: int | str | None
    token: int | None
    clock: float
    detail: str | None = None  # black-box mode: the SQL statement about to run

    def __str__(self) -> str:
        where = f" (job {self.job}, token {self.token})" if self.job is not None else ""
        what = f" [{self.detail}]" if self.detail else ""
        return f"'{self.checkpoint}'{where}{what} at clock {self.clock:g}"


@dataclass(frozen=True)
class TraceEvent:
    """One line of the trace. ``op`` is ``at`` for a checkpoint arrival, else the coordinator's move."""

    seq: int
    op: str
    worker: str | None = None
    checkpoint: str | None = None
    job: int | None = None
    token: int | None = None
    clock: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        who = f"{self.worker:>3} " if self.worker else "    "
        if self.op == "at":
            what = f"at {self.checkpoint}"
            if self.job is not None:
                what += f" job={self.job}" + (f" token={self.token}" if self.token is not None else "")
            if self.detail.get("sql"):
                what += f" {self.detail['sql']}"
        else:
            what = self.op + (" " + json.dumps(self.detail, sort_keys=True) if self.detail else "")
        return f"{self.seq:4d}  t={self.clock:<8g} {who}{what}"


def dumps(trace: Iterable[TraceEvent]) -> str:
    """The canonical text of a trace: one JSON object per line, keys sorted."""
    return "".join(json.dumps(e.as_dict(), sort_keys=True) + "\n" for e in trace)


def digest(trace: Iterable[TraceEvent]) -> str:
    """SHA-256 of ``dumps(trace)``: what a schedule file records, and what a replay must match."""
    return hashlib.sha256(dumps(trace).encode()).hexdigest()


def loads(text: str) -> list[TraceEvent]:
    return [TraceEvent(**json.loads(line)) for line in text.splitlines() if line.strip()]
