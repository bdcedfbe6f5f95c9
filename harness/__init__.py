"""The coordinator that gates real worker processes at named checkpoints.

    from harness import Harness
    with Harness(workdir, workers=("A", "B"), policy="naive", lease_ttl=30.0) as h:
        job = h.enqueue("charge", {"amount": 100})
        h.run_until("A", "after_effect")
        h.advance(31)
        h.run_until("B", "committed")
"""

from . import schedule
from .handlers import DEFAULT_HANDLERS, HandlerFailed
from .harness import Harness
from .trace import Stop, TraceEvent, dumps

__all__ = ["DEFAULT_HANDLERS", "HandlerFailed", "Harness", "Stop", "TraceEvent", "dumps", "schedule"]
