"""Built-in job handlers for coordinated runs, registered by job kind.

A handler takes the ``Lease`` and returns the body of the effect the worker
applies to the ledger. Handlers are deterministic: a failure depends only on
the job's payload and attempt number (both in the store), never on chance or
on which process runs it.

- ``charge``: the effect is ``{"amount": payload["amount"]}`` (FM_001's payment).
- ``write``: the effect is ``{"value": payload["value"]}`` (a last-writer-wins write).
- ``flaky``: raises on attempts ``<= payload["fail_first"]``, then acts like ``charge``.
- ``poison``: always raises (FM_004).
"""

from __future__ import annotations

from typing import Any

from runtime.queue import Lease


class HandlerFailed(Exception):
    """Raised by a handler on purpose, to model a failing job (never a lab bug)."""


def charge(lease: Lease) -> Any:
    payload = lease.payload or {}
    return {"amount": payload.get("amount")}


def write(lease: Lease) -> Any:
    """A last-writer-wins write; the result it computes depends on the lease it computed it under."""
    return {"value": f"{(lease.payload or {}).get('value')} (computed under token {lease.token})"}


def flaky(lease: Lease) -> Any:
    fail_first = int((lease.payload or {}).get("fail_first", 1))
    if lease.attempt <= fail_first:
        raise HandlerFailed(f"attempt {lease.attempt} of job {lease.job_id} fails (fail_first={fail_first})")
    return charge(lease)


def poison(lease: Lease) -> Any:
    raise HandlerFailed(f"job {lease.job_id} is poison: its handler always fails")


DEFAULT_HANDLERS = {"charge": charge, "write": write, "flaky": flaky, "poison": poison}
