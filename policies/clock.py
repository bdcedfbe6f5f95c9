"""The ``store-clock`` policy: the fix for FM_010, clock skew between workers (INV_003).

A worker whose clock runs ahead judges a live lease expired and takes the
job while its holder still works on it. The fix: lease expiry (the claim, the
heartbeat, the commit's time) is judged by one authority, the store's clock,
never by the worker's own. In the lab the store's clock is the coordinator's
shared clock; a worker's skewed clock is only its view. Otherwise naive.
"""

from __future__ import annotations

from runtime.policy import Policy

from . import register


@register
class StoreClock(Policy):
    name = "store-clock"
    clock_authority = "store"
