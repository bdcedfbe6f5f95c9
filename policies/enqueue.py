"""The ``dedup`` policy: the fix for FM_007, duplicate enqueue by a retrying producer (INV_009).

A producer whose enqueue committed but who died (or timed out) before it
recorded the success retries, and the same logical request becomes two jobs
that both run. The fix: the producer passes its request id as the job's dedup
key; the store keeps dedup keys unique (``jobs.dedup_key UNIQUE``), so the
retry's insert does nothing and returns the first job's id
(``Queue.enqueue``, ``ON CONFLICT DO NOTHING``). Otherwise naive.
"""

from __future__ import annotations

from runtime.policy import Policy

from . import register


@register
class Dedup(Policy):
    name = "dedup"

    def enqueue_key(self, request: str | None) -> str | None:
        return request
