"""The SQLite store: one file, one connection per process, one transaction helper.

Contract
- WAL journal, ``synchronous=NORMAL``, a busy timeout (``runtime.schema``):
  what is committed survives a SIGKILL of any process; a power cut is out of
  scope (docs/00_scope.md).
- Every read-modify-write runs inside ``Store.transaction()``: ``BEGIN
  IMMEDIATE`` takes the write lock up front (a DEFERRED transaction that
  upgrades after another writer committed fails at once, without waiting),
  ``COMMIT`` on success, ``ROLLBACK`` on any exception.
- A store belongs to the process that opened it. Used from any other process
  (a connection inherited across ``fork``) it raises ``WrongProcess`` before
  touching SQLite.
- A file that is not a SQLite database, or whose schema version is unknown,
  raises ``CorruptDatabase`` / ``SchemaMismatch`` and is left byte-for-byte
  unchanged.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from typing import Any, Iterator

from . import schema
from .errors import CorruptDatabase, SchemaMismatch, StoreError, WrongProcess


class Store:
    """One process's connection to the lab's SQLite file."""

    def __init__(self, path: str, conn: sqlite3.Connection) -> None:
        self.path = str(path)
        self._conn = conn
        self._pid = os.getpid()

    # --- opening -----------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike, create: bool = True) -> "Store":
        """Open (and, if empty and ``create``, initialise) the store at ``path``."""
        path = os.fspath(path)
        if not create and not os.path.exists(path):
            raise StoreError(f"no store at {path}; create it first (Store.open(path, create=True))")
        conn = sqlite3.connect(path, isolation_level=None, timeout=schema.BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=False)
        try:
            version = cls._read_version(conn, path)
            if version > schema.SCHEMA_VERSION:
                raise SchemaMismatch(
                    f"{path} has schema version {version}, newer than this code's "
                    f"{schema.SCHEMA_VERSION}; upgrade the lab or use another file"
                )
            conn.execute(f"PRAGMA busy_timeout = {schema.BUSY_TIMEOUT_MS}")
            if version == 0:
                conn.execute(f"PRAGMA page_size = {schema.PAGE_SIZE}")  # only takes effect on a new file
            conn.execute(f"PRAGMA journal_mode = {schema.JOURNAL_MODE}")
            conn.execute(f"PRAGMA synchronous = {schema.SYNCHRONOUS}")
            store = cls(path, conn)
            if version == 0:
                store._create_schema()
            elif version < schema.SCHEMA_VERSION:
                store._migrate()
            return store
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def _read_version(conn: sqlite3.Connection, path: str) -> int:
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise CorruptDatabase(
                f"{path} is not a usable SQLite database ({exc}); it was left untouched. "
                "Point the lab at a new file or restore this one"
            ) from None
        if version == 0 and tables:
            raise SchemaMismatch(
                f"{path} is a SQLite database but not a lab store (tables {sorted(tables)}, "
                "no schema version); use a new file"
            )
        return version

    def _create_schema(self) -> None:
        with self.transaction() as conn:
            if conn.execute("PRAGMA user_version").fetchone()[0] != 0:
                return  # another process won the race to initialise
            for stmt in schema.CREATE_STATEMENTS:
                conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")

    def _migrate(self) -> None:
        with self.transaction() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            while version < schema.SCHEMA_VERSION:
                for stmt in schema.MIGRATIONS[version]:
                    conn.execute(stmt)
                version += 1
            conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")

    # --- use ---------------------------------------------------------------

    def connection(self) -> sqlite3.Connection:
        """This process's connection; raises ``WrongProcess`` in any other process."""
        if os.getpid() != self._pid:
            raise WrongProcess(
                f"store {self.path} was opened in process {self._pid} and used in {os.getpid()}; "
                "open a new Store in each process (never share a connection across fork)"
            )
        if self._conn is None:
            raise StoreError(f"store {self.path} is closed; open it again")
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; ``ROLLBACK`` and re-raise on any exception."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row | tuple]:
        """A read outside any write transaction (a consistent WAL snapshot)."""
        return self.connection().execute(sql, params).fetchall()

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: ``"ok"`` when the file is sound."""
        return self.connection().execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        # Closing an inherited connection in the wrong process is itself unsafe;
        # only drop our reference there.
        if self._conn is not None and os.getpid() == self._pid:
            self._conn.close()
        self._conn = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.path!r}, pid={self._pid})"
