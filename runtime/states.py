"""Job states and the one table that decides every transition.

``docs/02_state_model.md`` is this module in prose; they must agree.

    queued --lease--> leased --commit--> committed
      ^                 |  |
      |---fail/expire---+  +--bury--> dead
    leased --lease (expired, another worker)--> leased   (reclaim: FM_001's trigger)
    leased --extend--> leased

``committed`` and ``dead`` are terminal: no transition leaves them.
"""

from __future__ import annotations

from enum import Enum

from .errors import IllegalTransition


class JobState(str, Enum):
    QUEUED = "queued"
    LEASED = "leased"
    COMMITTED = "committed"
    DEAD = "dead"

    def __str__(self) -> str:
        return self.value


TERMINAL = frozenset({JobState.COMMITTED, JobState.DEAD})

# (state before, action) -> state after. Anything absent is illegal.
TRANSITIONS: dict[tuple[JobState, str], JobState] = {
    (JobState.QUEUED, "lease"): JobState.LEASED,
    (JobState.LEASED, "lease"): JobState.LEASED,  # only once the lease has expired
    (JobState.LEASED, "extend"): JobState.LEASED,
    (JobState.LEASED, "commit"): JobState.COMMITTED,
    (JobState.LEASED, "fail"): JobState.QUEUED,
    (JobState.LEASED, "bury"): JobState.DEAD,
    (JobState.LEASED, "release"): JobState.QUEUED,  # reconcile sweep of an orphaned lease
}


def decide(state: JobState | str, action: str, job_id: int | None = None) -> JobState:
    """Return the state after ``action``; raise ``IllegalTransition`` if it is not allowed."""
    state = JobState(state)
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        legal = sorted(a for (s, a) in TRANSITIONS if s == state) or ["none: it is terminal"]
        who = f"job {job_id}" if job_id is not None else "a job"
        raise IllegalTransition(
            f"cannot {action} {who} in state {state.value!r}; legal actions from "
            f"{state.value!r}: {', '.join(legal)}"
        ) from None
