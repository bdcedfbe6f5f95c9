"""Shared policy state: one JSON value per name in the store's ``policy_state`` table.

Workers share a circuit breaker or a retry budget through the store, inside
the same ``BEGIN IMMEDIATE`` transactions as the jobs they decide about, so a
decision and its consequence commit together. Used by ``budget`` (FM_004) and
``circuit_breaker`` (FM_005).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

SQL_GET = "SELECT value FROM policy_state WHERE name = ?"
SQL_PUT = "INSERT INTO policy_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"


def get(conn: sqlite3.Connection, name: str, default: dict[str, Any]) -> dict[str, Any]:
    row = conn.execute(SQL_GET, (name,)).fetchone()
    return {**default, **json.loads(row[0])} if row else dict(default)


def put(conn: sqlite3.Connection, name: str, value: dict[str, Any]) -> None:
    conn.execute(SQL_PUT, (name, json.dumps(value, sort_keys=True)))
