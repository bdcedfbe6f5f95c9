"""Queue throughput: ffq's runtime.Queue against bare SQLite and litequeue 0.9, in one run.

Per contender, R times (--repeat, 5), each time on a new database file:
- enqueue jobs/s: one process puts N jobs (--jobs, 5000), one write transaction each.
- drain jobs/s: P worker processes (--workers, 2; multiprocess, fork; connections opened
  in the child) claim and acknowledge until the queue is empty. Wall time: from the parent
  releasing all ready workers (an Event) to the last worker's final, empty claim
  (time.perf_counter is CLOCK_MONOTONIC, one clock for every process).
- delivered >1: ids handed out more than once (to two workers, or twice to one), summed
  over the R runs; "not delivered": ids no worker got. Rates mean nothing unless both are 0.

"ffq Queue": runtime.Queue over runtime.Store, ManualClock(0.0); per job lease(ttl=1e6),
commit: two BEGIN IMMEDIATE transactions, each also appending a history row. "bare
SQLite", the machine's floor: the same two transactions with one UPDATE each, the claim
through a partial index (no sort). "litequeue 0.9": pop(), done().

Reading it: medians of the R runs; "drain vs bare" = the row's drain rate / bare SQLite's
(the fraction of the floor reached), "drain vs litequeue" likewise. SQLite has one writer
at a time, so the P processes take turns on the write lock: a drain rate is about
1 / (time one job holds it). Targets (2 processes, 2 cores): ffq drain >= 0.5x bare and
>= 2x litequeue, 0 duplicates. Below: EXPLAIN QUERY PLAN of each claim ("USE TEMP B-TREE"
would mean every claim sorts). A drain whose worker failed is named under the table.

    scripts/bench.sh queue [--jobs N] [--workers P] [--repeat R] [--timeout S]
"""

from __future__ import annotations

import argparse
import glob
import math
import os
import sqlite3
import statistics
import struct
import sys
import tempfile
import time
import traceback
from array import array
from collections import Counter
from contextlib import closing

import multiprocess as mp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import litequeue  # noqa: E402
from runtime import ManualClock, Queue, Store  # noqa: E402
from runtime.queue import SQL_CLAIM  # noqa: E402

TTL = 1e6  # leases never expire here: this is pure queue cost

# --- bare SQLite: the floor -------------------------------------------------
BARE_SCHEMA = ("CREATE TABLE t (id INTEGER PRIMARY KEY, state TEXT NOT NULL, owner TEXT);"
               "CREATE INDEX t_queued ON t (id) WHERE state = 'queued';")
BARE_CLAIM = ("UPDATE t SET state = 'leased', owner = ? "
              "WHERE id = (SELECT id FROM t WHERE state = 'queued' ORDER BY id LIMIT 1) RETURNING id")
BARE_ACK = "UPDATE t SET state = 'done' WHERE id = ?"


def bare_connect(path):
    conn = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    conn.executescript("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = wal; PRAGMA synchronous = NORMAL")
    return conn


def in_tx(conn, sql, params=()):
    """One BEGIN IMMEDIATE transaction around one statement; RETURNING row fetched before COMMIT."""
    conn.execute("BEGIN IMMEDIATE")
    row = conn.execute(sql, params).fetchone()
    conn.execute("COMMIT")
    return row


# --- contenders -----------------------------------------------------------------
# *_producer(path) -> (put(i), close) for the enqueue. *_make(path, name) runs in the
# worker and returns take(): claim and acknowledge one job, return its id; None once empty.

def ffq_producer(path):
    q = Queue(Store.open(path), ManualClock(0.0))
    return (lambda i: q.enqueue("bench", i)), q.store.close


def ffq_make(path, name):
    q = Queue(Store.open(path), ManualClock(0.0))
    def take():
        lease = q.lease(name, ttl=TTL)
        if lease is not None:
            q.commit(lease)
            return lease.job_id
    return take


def bare_producer(path):
    conn = bare_connect(path)
    conn.executescript(BARE_SCHEMA)
    return (lambda i: in_tx(conn, "INSERT INTO t (state) VALUES ('queued')")), conn.close


def bare_make(path, name):
    conn = bare_connect(path)
    def take():
        row = in_tx(conn, BARE_CLAIM, (name,))
        if row is not None:
            in_tx(conn, BARE_ACK, (row[0],))
            return row[0]
    return take


def lq_producer(path):
    q = litequeue.LiteQueue(path, timeout=5.0)
    return (lambda i: q.put(str(i))), q.close


def lq_make(path, name):
    q = litequeue.LiteQueue(path, timeout=5.0)
    def take():
        msg = q.pop()
        if msg is not None:
            q.done(msg.message_id)
            return int(msg.data)
    return take


CONTENDERS = (("ffq Queue", ffq_producer, ffq_make), ("bare SQLite", bare_producer, bare_make),
              (f"litequeue {litequeue.__version__}", lq_producer, lq_make))


# --- the drain: P processes, a start barrier, pipes polled with a deadline ------

def worker(make, path, name, go, conn, wait_s):
    try:
        take = make(path, name)  # every connection is opened here, in the child
        conn.send_bytes(b"R")
        if not go.wait(wait_s):
            raise TimeoutError("never released")
        ids = array("q")
        while (job := take()) is not None:
            ids.append(job)
        conn.send_bytes(b"D" + struct.pack("d", time.perf_counter()) + ids.tobytes())
    except BaseException:
        conn.send_bytes(b"E" + traceback.format_exc().encode())
    finally:
        conn.close()


def recv(pipe, deadline, what):
    if not pipe.poll(max(0.0, deadline - time.perf_counter())):
        raise RuntimeError(f"a worker did not {what} before the deadline (--timeout)")
    try:
        msg = pipe.recv_bytes()
    except EOFError:
        raise RuntimeError("a worker died without a word") from None
    if msg[:1] == b"E":
        raise RuntimeError("a worker failed:\n" + msg[1:].decode())
    return msg


def drain(make, path, workers, timeout):
    """(wall seconds, the ids every worker got, concatenated); RuntimeError if one failed."""
    ctx = mp.get_context("fork")
    go, procs, pipes = ctx.Event(), [], []
    deadline = time.perf_counter() + timeout
    try:
        for n in range(workers):
            parent, child = ctx.Pipe(duplex=False)
            p = ctx.Process(target=worker, args=(make, path, f"W{n}", go, child, timeout), daemon=True)
            p.start()
            child.close()  # so a dead child gives EOF, not a hang
            procs.append(p)
            pipes.append(parent)
        for pipe in pipes:
            recv(pipe, deadline, "get ready")
        t0 = time.perf_counter()
        go.set()
        ends, ids = [], array("q")
        for pipe in pipes:
            msg = recv(pipe, deadline, "finish draining")
            ends.append(struct.unpack_from("d", msg, 1)[0])
            ids.frombytes(msg[9:])
        return max(ends) - t0, ids
    except BaseException:  # a worker failed or the deadline passed: stop the others now
        for p in procs:
            p.kill()
        raise
    finally:  # a worker that has reported exits at once
        for p in procs:
            p.join(5.0)
            if p.is_alive():
                p.kill()
                p.join()
        for pipe in pipes:
            pipe.close()


# --- plans, main, report --------------------------------------------------------

def plan(conn, sql, params=()):
    depth, out = {0: 0}, []
    for node, parent, _, detail in conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall():
        depth[node] = depth.get(parent, 0) + 1
        out.append("    " + "  " * (depth[node] - 1) + detail)
    return "\n".join(out)


def plans(tmp):
    """The claims' plans on new databases (nothing runs ANALYZE, so data does not change them)."""
    with Store.open(os.path.join(tmp, "plan-ffq.db")) as store:
        p_ffq = plan(store.connection(), SQL_CLAIM, {"worker": "w", "now": 0.0, "expires_at": TTL})
    with closing(bare_connect(os.path.join(tmp, "plan-bare.db"))) as conn:
        conn.executescript(BARE_SCHEMA)
        p_bare = plan(conn, BARE_CLAIM, ("w",))
    with closing(litequeue.LiteQueue(os.path.join(tmp, "plan-lq.db"))) as q:
        p_lq = plan(q.conn, f"SELECT rowid FROM {q.table} WHERE status = 0 ORDER BY message_id LIMIT 1")
    return p_ffq, p_bare, p_lq


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=5000, help="jobs enqueued and drained per run (5000)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes for the drain (2)")
    ap.add_argument("--repeat", type=int, default=5, help="runs per contender; medians are reported (5)")
    ap.add_argument("--timeout", type=float, default=300.0, help="deadline in s for one drain (300)")
    a = ap.parse_args(argv)
    if min(a.jobs, a.workers, a.repeat) < 1:
        ap.error("--jobs, --workers and --repeat must be >= 1")
    res = {name: {"enq": [], "drain": [], "dup": 0, "lost": 0, "err": []} for name, _, _ in CONTENDERS}
    with tempfile.TemporaryDirectory(prefix="ffq-bench-") as tmp:
        for r in range(a.repeat):  # interleaved, so drift on the machine hits every contender alike
            for name, producer, make in CONTENDERS:
                path, v = os.path.join(tmp, f"run{r}-{name.split()[0]}.db"), res[name]
                put, close = producer(path)
                t0 = time.perf_counter()
                for i in range(1, a.jobs + 1):
                    put(i)
                v["enq"].append(a.jobs / (time.perf_counter() - t0))
                close()  # before the fork: no connection crosses it
                try:
                    wall, ids = drain(make, path, a.workers, a.timeout)
                    v["drain"].append(a.jobs / wall)
                    v["dup"] += sum(1 for c in Counter(ids).values() if c > 1)
                    v["lost"] += a.jobs - len(set(ids) & set(range(1, a.jobs + 1)))
                except RuntimeError as exc:  # reported under the table; the other runs still count
                    v["err"].append(str(exc).strip().splitlines()[-1])
                for f in glob.glob(path + "*"):
                    os.remove(f)
        report(a, res, plans(tmp))
    return 0


def report(a, res, plans_):
    enq = {n: statistics.median(v["enq"]) for n, v in res.items()}
    dr = {n: statistics.median(v["drain"]) if v["drain"] else math.nan for n, v in res.items()}
    bare, lq, ffq = dr["bare SQLite"], dr[CONTENDERS[2][0]], res["ffq Queue"]
    def fx(x, fmt, unit=""):  # n/a: every drain of that contender failed
        return "n/a" if math.isnan(x) else format(x, fmt) + unit
    print(f"\n{a.jobs} jobs, {a.workers} worker processes (fork), median of {a.repeat} runs; "
          f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    print("| contender | enqueue jobs/s | drain jobs/s | drain vs bare | drain vs litequeue "
          f"| delivered >1 (all {a.repeat} runs) | not delivered |\n|---|---:|---:|---:|---:|---:|---:|")
    for n, v in res.items():
        print(f"| {n} | {enq[n]:,.0f} | {fx(dr[n], ',.0f')} | {fx(dr[n] / bare, '.2f', 'x')} "
              f"| {fx(dr[n] / lq, '.2f', 'x')} | {v['dup']} | {v['lost']} |")
    clean = float(ffq["dup"] == ffq["lost"] == 0 and not ffq["err"])
    targets = (("ffq drain >= 0.5x bare", dr["ffq Queue"] / bare, 0.5),
               ("ffq drain >= 2x litequeue", dr["ffq Queue"] / lq, 2.0),
               ("ffq 0 delivered >1, 0 not delivered", clean, 1.0))
    print("\nTargets: " + "; ".join(f"{k}: {'n/a' if math.isnan(x) else 'met' if x >= bound else 'MISSED'}"
                                    for k, x, bound in targets))
    for n, v in res.items():
        if v["err"]:
            print(f"\n{n}: {len(v['err'])} of {a.repeat} drains failed, left out above: {v['err'][0]}")
    for what, p in zip(("ffq claim (runtime.queue.SQL_CLAIM)", "bare claim",
                        "litequeue pop's inner SELECT, for reference"), plans_):
        print(f"\nEXPLAIN QUERY PLAN, {what}:\n{p}")
    if "TEMP B-TREE" in plans_[0] + plans_[1]:
        print("\nwarning: the ffq or the bare claim sorts (USE TEMP B-TREE): every claim pays for it")


if __name__ == "__main__":
    sys.exit(main())
