"""The lab's one exception hierarchy.

Every error the lab raises on purpose is a ``LabError``. Each class says when
it is raised; each message says what went wrong and what to do about it.
Callers that only want "the lab refused" catch ``LabError``; the CLI maps
``BadInput`` to exit code 2.
"""

from __future__ import annotations


class LabError(Exception):
    """Base class of every error the lab raises deliberately."""


class BadInput(LabError):
    """Raised when a caller passes something the lab cannot accept.

    Nothing has been changed when this is raised.
    """


class InvalidArgument(BadInput, ValueError):
    """Raised when an argument is out of range (a negative ttl, a negative clock step)."""


class InvalidPayload(BadInput, ValueError):
    """Raised when a job payload cannot be stored as JSON."""


class UnknownJobKind(BadInput, KeyError):
    """Raised when a job kind has no registered handler."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class UnknownJob(BadInput, KeyError):
    """Raised when a job id does not exist in the store."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# --- store -----------------------------------------------------------------


class StoreError(LabError):
    """Raised when the SQLite store cannot be used as asked."""


class CorruptDatabase(StoreError, BadInput):
    """Raised when the database file is not a SQLite database, or fails its integrity check.

    The file is left exactly as it was found.
    """


class SchemaMismatch(StoreError, BadInput):
    """Raised when the file's schema version (``PRAGMA user_version``) is not one this code knows."""


class WrongProcess(StoreError):
    """Raised when a store or ledger opened in one process is used in another.

    A SQLite connection carried across ``fork`` can corrupt the database
    (SQLite, "How to corrupt", 2.6). Open a new one in the child instead.
    """


# --- queue -----------------------------------------------------------------


class IllegalTransition(LabError):
    """Raised when a job is asked to make a transition its current state forbids."""


class StaleLease(LabError):
    """Raised when a fenced policy refuses a worker whose lease is no longer the job's current one.

    The refusal is recorded in the history. The worker must abandon the job.
    """


# --- clock -----------------------------------------------------------------


class ClockError(LabError):
    """Raised when a clock is moved backwards, or by a process that does not own it."""


# --- effects ---------------------------------------------------------------


class EffectRefused(LabError):
    """Raised when the external ledger refuses an effect (a stale fencing token).

    The effect was not applied. The worker must abandon the job.
    """


class DownstreamUnavailable(LabError):
    """Raised when the external system is in an outage window (FM_005): the call failed and
    applied nothing. The worker's policy decides when to try again."""


class CircuitOpen(LabError):
    """Raised by the circuit breaker instead of calling a downstream it has judged failing (FM_005)."""


# --- harness ---------------------------------------------------------------


class HarnessError(LabError):
    """Raised when a coordinated run cannot go on: a worker died, hung, or cannot reach a checkpoint."""


class UnreachableCheckpoint(HarnessError):
    """Raised when a worker is asked to run to a checkpoint it can no longer reach.

    The message names where the worker actually stopped.
    """


class ScheduleError(BadInput):
    """Raised when a schedule (steps as data) is malformed or names an unknown worker or checkpoint."""
