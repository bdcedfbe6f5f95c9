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
