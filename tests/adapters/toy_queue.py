"""A deliberately broken queue, for testing black-box mode: its two flaws are on purpose.

- The claim is select-then-delete in two autocommit statements: two workers
  can both select the same job before either deletes it (duplicate delivery).
- Delete on dequeue: a worker killed after the delete and before it finishes
  takes the job with it (lost job).
"""

from __future__ import annotations

import os
import sqlite3


class ToyQueue:
    name = "toy (select-then-delete)"

    def setup(self, workdir: str, jobs: list[str]) -> None:
        conn = sqlite3.connect(os.path.join(workdir, "toy.db"), isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE jobs (name TEXT PRIMARY KEY)")
        conn.executemany("INSERT INTO jobs (name) VALUES (?)", [(j,) for j in jobs])
        conn.close()

    def consume(self, workdir: str, report) -> None:
        conn = sqlite3.connect(os.path.join(workdir, "toy.db"), isolation_level=None, timeout=5)
        try:
            row = conn.execute("SELECT name FROM jobs ORDER BY name LIMIT 1").fetchone()
            if row is None:
                return
            conn.execute("DELETE FROM jobs WHERE name = ?", row)
            report("delivered", row[0])
            report("acked", row[0])
        finally:
            conn.close()


class Broken:
    """An adapter that raises in setup (bad input for the CLI)."""

    def setup(self, workdir: str, jobs: list[str]) -> None:
        raise RuntimeError("cannot reach the queue")

    def consume(self, workdir: str, report) -> None:  # pragma: no cover
        pass


NOT_AN_ADAPTER = object()
