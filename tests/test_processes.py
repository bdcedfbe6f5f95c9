"""Real processes share one database file and one ledger (INV_001, INV_002, INV_003).

3 worker processes (``multiprocess``, fork) drain 2,000 jobs with a long lease.
Every job must be committed exactly once and have exactly one applied effect:
checked from the history and the ledger, not from the workers' own counts.
"""

from __future__ import annotations

from collections import Counter

import multiprocess as mp

from runtime import ManualClock, Ledger, Queue, Store, Worker, WrongProcess, check_all

JOBS = 2000
WORKERS = 3
TTL = 1e6  # never expires: this test is about exclusivity, not expiry


def _charge(lease):
    return {"amount": lease.payload["amount"]}


def _drain(db_path, ledger_path, name, conn):
    clock = ManualClock(0.0)
    store = Store.open(db_path)
    queue = Queue(store, clock)
    ledger = Ledger(ledger_path, clock)
    counts = Worker(name, queue, ledger, {"charge": _charge}, lease_ttl=TTL).run()
    store.close()
    conn.send(counts)
    conn.close()


def test_worker_processes_drain_every_job_exactly_once(tmp_path):
    # Given 2,000 queued jobs in one database file
    db, ledger_path = tmp_path / "queue.db", tmp_path / "ledger.jsonl"
    store = Store.open(db)
    queue = Queue(store, ManualClock(0.0))
    for i in range(JOBS):
        queue.enqueue("charge", {"amount": i})
    # When three real worker processes drain it concurrently
    ctx = mp.get_context("fork")
    procs, pipes = [], []
    for n in range(WORKERS):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_drain, args=(db, ledger_path, f"W{n}", child), daemon=True)
        p.start()
        child.close()
        procs.append(p)
        pipes.append(parent)
    results = []
    try:
        for parent in pipes:
            assert parent.poll(50), "a worker did not finish within 50 s"
            results.append(parent.recv())
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join()
    assert [p.exitcode for p in procs] == [0] * WORKERS
    pids = {p.pid for p in procs}
    assert len(pids) == WORKERS
    # Then every job is committed exactly once, in the history ...
    history = queue.history()
    commits = Counter(e.job_id for e in history if e.event == "committed")
    assert set(commits) == set(range(1, JOBS + 1))
    assert set(commits.values()) == {1}
    assert queue.counts()["committed"] == JOBS
    # ... and has exactly one applied effect, in the ledger
    effects = Counter(e.job for e in Ledger(ledger_path, ManualClock()).effects())
    assert set(effects) == set(range(1, JOBS + 1)) and set(effects.values()) == {1}
    # ... and every worker took part
    assert sum(r.get("committed", 0) for r in results) == JOBS
    assert all(r.get("committed", 0) > 0 for r in results)
    # ... and the invariant checker, over the same history and ledger, agrees: nothing violated
    ledger = Ledger(ledger_path, ManualClock()).records()
    assert check_all(history, ledger, queue.jobs(), drained=True) == []
    assert store.integrity_check() == "ok"
    store.close()


def _use_inherited(store, conn):
    try:
        store.query("SELECT 1")
        conn.send("used")
    except WrongProcess as exc:
        conn.send(str(exc))
    conn.close()


def test_a_store_inherited_across_fork_refuses_to_be_used(tmp_path):
    store = Store.open(tmp_path / "queue.db")
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    p = ctx.Process(target=_use_inherited, args=(store, child))
    p.start()
    child.close()
    assert parent.poll(30)
    message = parent.recv()
    p.join(10)
    assert "open a new Store in each process" in message
    assert store.query("SELECT 1") == [(1,)]  # the parent's connection is untouched
    store.close()
