"""The lab's runtime: a lease-based SQLite job queue, an external effect ledger,
a worker loop with named checkpoints, and clocks. See docs/02_state_model.md."""

from .clock import Clock, ManualClock, SharedClock, SkewedClock, SystemClock
from .effects import APPLIED, DUPLICATE, LOOKUP, STALE, UNAVAILABLE, Effect, Ledger, read_ledger
from .errors import (BadInput, CircuitOpen, ClockError, DownstreamUnavailable, CorruptDatabase, EffectRefused, HarnessError,
                     IllegalTransition, InvalidArgument, InvalidPayload, LabError, ScheduleError,
                     SchemaMismatch, StaleLease, StoreError, UnknownJob, UnknownJobKind, UnreachableCheckpoint,
                     WrongProcess)
from .invariants import INVARIANTS, Violation, check_all
from .policy import NAIVE, Design, JobContext, Policy
from .producer import PRODUCER_CHECKPOINTS, Producer
from .queue import Event, Job, Lease, Queue, append_history
from .schema import SCHEMA_VERSION
from .states import TERMINAL, JobState, decide
from .store import Store
from .worker import CHECKPOINTS, Worker, no_checkpoint

__all__ = [
    "APPLIED", "BadInput", "CircuitOpen", "DownstreamUnavailable", "LOOKUP", "UNAVAILABLE", "CHECKPOINTS", "Clock", "ClockError", "Design", "CorruptDatabase", "DUPLICATE",
    "Effect", "EffectRefused", "Event", "HarnessError", "INVARIANTS", "IllegalTransition", "Violation", "check_all",
    "InvalidArgument", "InvalidPayload", "Job", "JobContext", "JobState", "LabError", "Lease",
    "Ledger", "ManualClock", "NAIVE", "PRODUCER_CHECKPOINTS", "Policy", "Producer", "Queue", "SCHEMA_VERSION", "STALE", "ScheduleError",
    "SchemaMismatch", "SharedClock", "StaleLease", "SkewedClock", "Store", "StoreError", "SystemClock", "TERMINAL",
    "UnknownJob", "UnknownJobKind", "UnreachableCheckpoint", "Worker", "WrongProcess",
    "append_history", "decide", "no_checkpoint", "read_ledger",
]
