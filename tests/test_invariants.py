"""The invariant checks find what they claim to find, from history and ledger alone."""

from __future__ import annotations

from runtime import Ledger, ManualClock, Queue, Store
from runtime.invariants import (INVARIANTS, check_all, check_bounded_attempts, check_commit_by_holder,
                                check_lease_exclusivity, check_no_lost_job, check_state_agrees, verdicts)


def _world(tmp_path):
    clock = ManualClock()
    store = Store.open(tmp_path / "q.db")
    return clock, Queue(store, clock), Ledger(tmp_path / "l.jsonl", clock)


def test_a_clean_run_violates_nothing(tmp_path):
    clock, q, ledger = _world(tmp_path)
    job = q.enqueue("charge", {})
    lease = q.lease("A", 30)
    ledger.apply(job, "A", lease.token)
    q.commit(lease)
    assert check_all(q.history(), ledger.records(), q.jobs(), drained=True) == []
    assert set(verdicts([], drained=True)) == set(INVARIANTS) - {"INV_007"}  # INV_007 needs an outage


def test_a_late_naive_heartbeat_breaks_lease_exclusivity(tmp_path):
    # FM_009's shape: A's extend arrives after B took the expired lease
    clock, q, _ = _world(tmp_path)
    q.enqueue("charge", {})
    a = q.lease("A", 30)
    clock.advance(30)
    q.lease("B", 30)
    clock.advance(5)
    q.extend(a, 30)
    (v,) = check_lease_exclusivity(q.history())
    assert v.invariant == "INV_003" and set(v.workers) == {"A", "B"}


def test_reclaim_at_expiry_is_not_an_overlap(tmp_path):
    clock, q, _ = _world(tmp_path)
    q.enqueue("charge", {})
    q.lease("A", 30)
    clock.advance(30)
    q.lease("B", 30)
    assert check_lease_exclusivity(q.history()) == []


def test_stale_commit_breaks_commit_by_holder(tmp_path):
    clock, q, _ = _world(tmp_path)
    q.enqueue("charge", {})
    a = q.lease("A", 30)
    clock.advance(31)
    q.lease("B", 30)
    q.commit(a)
    (v,) = check_commit_by_holder(q.history())
    assert v.workers == ("A", "B")


def test_attempts_beyond_the_bound(tmp_path):
    clock, q, _ = _world(tmp_path)
    q.enqueue("poison", {})
    for _ in range(6):
        q.fail(q.lease("A", 30), "boom")
    (v,) = check_bounded_attempts(q.history(), max_attempts=5)
    assert "leased 6 times" in v.message


def test_a_job_left_leased_after_drain_is_lost(tmp_path):
    clock, q, _ = _world(tmp_path)
    q.enqueue("charge", {})
    q.lease("A", 30)
    (v,) = check_no_lost_job(q.jobs())
    assert v.invariant == "INV_002" and v.workers == ("A",)


def test_a_torn_history_is_seen(tmp_path):
    # A commit whose history row was lost (FM_008's shape), forged by hand here
    clock, q, _ = _world(tmp_path)
    job = q.enqueue("charge", {})
    q.lease("A", 30)
    with q.store.transaction() as conn:
        conn.execute("UPDATE jobs SET state = 'committed', visible_at = NULL WHERE id = ?", (job,))
    (v,) = check_state_agrees(q.history(), q.jobs())
    assert v.invariant == "INV_006" and "replays to 'leased'" in v.message
