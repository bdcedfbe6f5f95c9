"""Queue semantics under the manual clock (docs/02_state_model.md, INV_003, INV_005)."""

from __future__ import annotations

import pytest

from runtime import IllegalTransition, InvalidArgument, JobState

TTL = 30.0


def test_a_valid_lease_is_exclusive(queue, clock):
    # Given one job leased by A
    job = queue.enqueue("charge", {"amount": 100})
    a = queue.lease("A", TTL)
    # When B polls while A's lease is still valid (one tick before expiry)
    clock.advance(TTL - 0.001)
    b = queue.lease("B", TTL)
    # Then B gets nothing and A holds the job
    assert a is not None and a.job_id == job and a.token == 1
    assert b is None
    assert queue.get(job).lease_owner == "A"


def test_after_expiry_another_worker_leases_with_a_higher_token(queue, clock):
    # Given A's lease on the only job
    job = queue.enqueue("charge", {"amount": 100})
    a = queue.lease("A", TTL)
    # When the clock reaches the expiry and B polls
    clock.advance(TTL)
    b = queue.lease("B", TTL)
    # Then B holds the job, with the next token, and the history says whom it was taken from
    assert b is not None and b.job_id == job
    assert b.token == a.token + 1 == 2
    assert b.attempt == 2
    assert b.reclaimed_from == "A"
    leased = [e for e in queue.history(job) if e.event == "leased"]
    assert [(e.worker, e.token) for e in leased] == [("A", 1), ("B", 2)]
    assert leased[1].detail["reclaimed_from"] == "A"


def test_attempts_count_every_lease(queue, clock):
    job = queue.enqueue("charge", {})
    for n in range(1, 4):
        lease = queue.lease("A", TTL)
        assert lease.attempt == n
        queue.fail(lease, "boom")
    assert queue.get(job).attempts == 3
    assert queue.get(job).last_error == "boom"


def test_oldest_job_is_leased_first(queue):
    first = queue.enqueue("charge", {"n": 1})
    second = queue.enqueue("charge", {"n": 2})
    assert queue.lease("A", TTL).job_id == first
    assert queue.lease("B", TTL).job_id == second


def test_dedup_enqueue_returns_the_first_job(queue):
    # Given a job enqueued with a dedup key
    first = queue.enqueue("charge", {"amount": 1}, dedup_key="order-7")
    # When the producer enqueues the same key again (even with another payload)
    again = queue.enqueue("charge", {"amount": 2}, dedup_key="order-7")
    # Then there is one job, the first, and one enqueue in the history
    assert again == first
    assert len(queue.jobs()) == 1
    assert queue.get(first).payload == {"amount": 1}
    assert [e.event for e in queue.history()] == ["enqueued"]


def test_retry_at_hides_the_job_until_then(queue, clock):
    queue.enqueue("charge", {})
    lease = queue.lease("A", TTL)
    queue.fail(lease, "downstream 503", retry_at=clock.now() + 10)
    assert queue.lease("A", TTL) is None
    clock.advance(10)
    assert queue.lease("A", TTL) is not None


@pytest.mark.parametrize("action", ["commit", "extend", "fail", "bury"])
def test_illegal_transitions_raise_and_change_nothing(queue, action):
    # Given a committed job
    job = queue.enqueue("charge", {})
    lease = queue.lease("A", TTL)
    queue.commit(lease)
    rows = len(queue.history())
    # When any transition is attempted on it
    call = {"commit": lambda: queue.commit(lease), "extend": lambda: queue.extend(lease, TTL),
            "fail": lambda: queue.fail(lease, "x"), "bury": lambda: queue.bury(lease, "x")}[action]
    # Then it is refused with a message that names the job and its state
    with pytest.raises(IllegalTransition, match=rf"cannot {action} job {job} in state 'committed'"):
        call()
    assert queue.get(job).state is JobState.COMMITTED
    assert len(queue.history()) == rows


def test_history_holds_exactly_one_row_per_transition(queue, clock):
    job = queue.enqueue("charge", {})
    l1 = queue.lease("A", TTL)
    queue.fail(l1, "x")
    l2 = queue.lease("B", TTL)
    l2 = queue.extend(l2, TTL)
    clock.advance(TTL)
    l3 = queue.lease("A", TTL)
    queue.commit(l3)
    events = queue.history(job)
    assert [e.event for e in events] == ["enqueued", "leased", "failed", "leased", "extended", "leased",
                                         "committed"]
    assert [e.state for e in events] == ["queued", "leased", "queued", "leased", "leased", "leased",
                                         "committed"]
    assert [e.seq for e in events] == sorted(e.seq for e in events)


def test_naive_commit_does_not_check_the_holder(queue, clock):
    # The enabling condition of FM_001, stated as a fact about the naive runtime.
    job = queue.enqueue("charge", {})
    a = queue.lease("A", TTL)
    clock.advance(TTL)
    queue.lease("B", TTL)
    queue.commit(a)  # A's lease is stale, and still it commits
    committed = queue.history(job)[-1]
    assert (committed.event, committed.worker, committed.detail["holder"]) == ("committed", "A", "B")


def test_bury_is_terminal(queue):
    job = queue.enqueue("charge", {})
    lease = queue.lease("A", TTL)
    queue.bury(lease, "poison")
    assert queue.get(job).state is JobState.DEAD
    assert queue.lease("A", TTL) is None


@pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf")])
def test_bad_ttl_is_refused(queue, ttl):
    queue.enqueue("charge", {})
    with pytest.raises(InvalidArgument, match="ttl"):
        queue.lease("A", ttl)
    assert queue.counts()["queued"] == 1


def test_delete_on_dequeue_failure_drops_the_job_and_says_so(tmp_path):
    # Given the at-most-once delete-on-dequeue design and a handler that fails
    from runtime import Ledger, ManualClock, Queue, Store, Worker
    from runtime.policy import Design
    from runtime.invariants import check_no_lost_job

    clock = ManualClock()
    q = Queue(Store.open(tmp_path / "q.db"), clock)
    job = q.enqueue("poison", {})

    def boom(lease):
        raise RuntimeError("handler failed")
    w = Worker("A", q, Ledger(tmp_path / "l.jsonl", clock), {"poison": boom}, lease_ttl=30,
               design=Design(delivery="delete"))
    # When the worker takes the job and the handler raises
    assert w.run_once() == "failed"
    # Then the row is gone, the history says why, and INV_002 calls the job lost
    assert q.jobs() == []
    assert [e.event for e in q.history(job)] == ["enqueued", "taken", "dropped"]
    (v,) = check_no_lost_job(q.jobs(), q.history())
    assert v.job == job
