"""Bad input gets a clear error and changes nothing (house rule 7)."""

from __future__ import annotations

import os
import sqlite3

import pytest

from runtime import (BadInput, CorruptDatabase, InvalidPayload, Ledger, ManualClock, Queue,
                     SchemaMismatch, Store, StoreError, UnknownJobKind)


def test_payload_that_is_not_json_is_refused(queue):
    with pytest.raises(InvalidPayload, match="not JSON-serialisable"):
        queue.enqueue("charge", {"when": object()})
    with pytest.raises(InvalidPayload):
        queue.enqueue("charge", {"amount": float("nan")})
    assert queue.jobs() == [] and queue.history() == []


def test_unknown_job_kind_is_refused(queue):
    with pytest.raises(UnknownJobKind, match="no handler is registered for job kind 'refund'"):
        queue.enqueue("refund", {})
    assert queue.jobs() == []


def test_a_file_that_is_not_a_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "queue.db"
    garbage = b"this is not a database, it is a grocery list\n" * 200
    path.write_bytes(garbage)
    with pytest.raises(CorruptDatabase, match="not a usable SQLite database"):
        Store.open(path)
    assert path.read_bytes() == garbage
    assert sorted(os.listdir(tmp_path)) == ["queue.db"]  # no -wal, no -shm


def test_a_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaMismatch, match="not a lab store"):
        Store.open(path)


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "queue.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(SchemaMismatch, match="schema version 99"):
        Store.open(path)


def test_every_bad_input_error_is_a_bad_input(tmp_path):
    # The CLI maps BadInput to exit 2; these must all be catchable as one.
    for cls in (InvalidPayload, UnknownJobKind, CorruptDatabase, SchemaMismatch):
        assert issubclass(cls, BadInput)


def test_reopening_a_store_keeps_its_jobs(tmp_path):
    path = tmp_path / "queue.db"
    with Store.open(path) as s:
        Queue(s, ManualClock()).enqueue("charge", {"amount": 1})
    with Store.open(path) as s:
        assert [j.payload for j in Queue(s, ManualClock()).jobs()] == [{"amount": 1}]
        assert s.integrity_check() == "ok"


def test_malformed_ledger_record_is_reported(tmp_path):
    path = tmp_path / "ledger.jsonl"
    path.write_text('{"seq": 1, "job": 1}\n')
    ledger = Ledger(path, ManualClock())
    with pytest.raises(StoreError, match="malformed record"):
        ledger.records()


def test_a_version_1_store_is_migrated_and_keeps_its_rows(tmp_path):
    # Given a store written by schema version 1 (AUTOINCREMENT history, no policy_state)
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE jobs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, payload TEXT NOT NULL,
            state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, lease_owner TEXT, lease_expires_at REAL,
            token INTEGER NOT NULL DEFAULT 0, visible_at REAL, reclaimed_from TEXT, dedup_key TEXT UNIQUE,
            last_error TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL);
        CREATE INDEX jobs_claim ON jobs (visible_at, id) WHERE visible_at IS NOT NULL;
        CREATE TABLE history (seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, worker TEXT,
            job_id INTEGER NOT NULL, event TEXT NOT NULL, token INTEGER, state TEXT, detail TEXT NOT NULL DEFAULT '{}');
        INSERT INTO jobs (kind, payload, state, visible_at, created_at, updated_at) VALUES ('charge', '{}', 'queued', 0, 0, 0);
        INSERT INTO history (at, worker, job_id, event, token, state) VALUES (0, 'producer', 1, 'enqueued', 0, 'queued');
        PRAGMA user_version = 1;
    """)
    conn.close()
    # When the lab opens it, Then it is upgraded in place and works
    with Store.open(path) as s:
        q = Queue(s, ManualClock())
        lease = q.lease("A", 30)
        q.commit(lease)
        assert [e.event for e in q.history()] == ["enqueued", "leased", "committed"]
        assert s.query("PRAGMA user_version")[0][0] == 3
        assert s.integrity_check() == "ok"
