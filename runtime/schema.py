"""The store's schema, as named SQL constants.

``jobs`` holds one row per logical job. ``visible_at`` is the one column the
claim reads: the time from which the job may be leased (its enqueue or retry
time while queued, its lease expiry while leased, NULL once terminal). A
partial index on it lets the claim be a single index range scan; an ``OR`` over
two states would make SQLite sort (see ``scripts/bench_queue.py``).

``history`` is append-only. Every transition appends exactly one row in the
same transaction as the change; refusals (``commit_refused``, ``effect_refused``)
append a row too, without changing the job. The invariant checks read it.

``PRAGMA user_version`` carries ``SCHEMA_VERSION``; ``MIGRATIONS`` upgrades older files.
"""

from __future__ import annotations

SCHEMA_VERSION = 3

CREATE_JOBS = """
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('queued', 'leased', 'committed', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at REAL,
    token            INTEGER NOT NULL DEFAULT 0,
    visible_at       REAL,
    prev_owner       TEXT,  -- the holder before the last transition (reclaim, release, commit)
    dedup_key        TEXT UNIQUE,
    last_error       TEXT,
    created_at       REAL    NOT NULL,
    updated_at       REAL    NOT NULL
)
"""

CREATE_CLAIM_INDEX = """
CREATE INDEX jobs_claim ON jobs (visible_at, id) WHERE visible_at IS NOT NULL
"""

# ``seq`` is the rowid: rows are only ever appended (never deleted within a run), so it
# increases with every row without AUTOINCREMENT's extra write to sqlite_sequence per insert.
CREATE_HISTORY = """
CREATE TABLE history (
    seq     INTEGER PRIMARY KEY,
    at      REAL    NOT NULL,
    worker  TEXT,
    job_id  INTEGER NOT NULL,
    event   TEXT    NOT NULL,
    token   INTEGER,
    state   TEXT,
    detail  TEXT    NOT NULL DEFAULT '{}'
)
"""

# State shared by the workers of a policy (the circuit breaker, the retry budget), one JSON
# value per name, read and written inside the same BEGIN IMMEDIATE transactions as the jobs.
CREATE_POLICY_STATE = """
CREATE TABLE policy_state (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
"""

CREATE_STATEMENTS = (CREATE_JOBS, CREATE_CLAIM_INDEX, CREATE_HISTORY, CREATE_POLICY_STATE)

# version found -> statements that bring it to the next version
MIGRATIONS = {
    1: (CREATE_POLICY_STATE,),
    # 3: history without AUTOINCREMENT and without its per-job index: every transition writes one
    # history row, and those two cost about a third of a commit's WAL pages (scripts/bench_queue.py).
    2: ("ALTER TABLE jobs RENAME COLUMN reclaimed_from TO prev_owner",
        "ALTER TABLE history RENAME TO history_v2",
        CREATE_HISTORY,
        "INSERT INTO history SELECT seq, at, worker, job_id, event, token, state, detail FROM history_v2",
        "DROP TABLE history_v2"),
}

# --- pragmas ---------------------------------------------------------------
# WAL + synchronous=NORMAL: a committed transaction survives the death of any
# process (the lab's crash model: SIGKILL), not a power cut. See docs/00_scope.md.
JOURNAL_MODE = "wal"
SYNCHRONOUS = "NORMAL"
# Small pages: a transition touches three or four small rows (the job, its claim-index entry, one
# history row), and every page it dirties is copied whole into the WAL and later checkpointed.
PAGE_SIZE = 1024
BUSY_TIMEOUT_MS = 5000  # well below the per-test timeout (60 s): SIGALRM cannot cut a busy wait
