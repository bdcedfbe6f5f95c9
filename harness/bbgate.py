"""The worker side of black-box mode: statements as gates inside unmodified code.

``blackbox_main`` runs in a worker process: it wraps ``sqlite3.connect`` so
that every connection the code under test opens gets a trace callback, and
the callback reports each statement (``normalize``: literals become ``?``) to
the coordinator and blocks until released; ``report`` and ``poll`` are gates
too. ``classify`` tells the coordinator which statements take or release
SQLite's write lock; ``load_adapter`` loads ``module:object``. The
coordinator side is ``harness.blackbox``.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from typing import Any

from runtime import BadInput

from .gate import CRASH, GO, die_reporting, prepare_child

_STR = re.compile(r"'(?:[^']|'')*'")
_NUM = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "VACUUM", "REINDEX", "ANALYZE")


def normalize(sql: str) -> str:
    """The statement with string and number literals replaced by ``?`` and whitespace folded."""
    return " ".join(_NUM.sub("?", _STR.sub("?", sql)).split())


def classify(sql: str) -> str:
    """``begin_write``, ``begin``, ``end``, ``write`` or ``read`` — conservatively: when in doubt,
    a statement is taken to need the write lock (a wrong guess costs schedules, not a hang)."""
    words = sql.upper().split()
    head = words[0] if words else ""
    if head == "BEGIN":
        return "begin_write" if len(words) > 1 and words[1] in ("IMMEDIATE", "EXCLUSIVE") else "begin"
    if head in ("COMMIT", "END") or (head == "ROLLBACK" and "TO" not in words):
        return "end"
    if head in ("SELECT", "EXPLAIN", "SAVEPOINT", "RELEASE", "ROLLBACK"):
        return "read"
    if head == "PRAGMA":
        return "write" if "=" in sql else "read"
    if head == "WITH":
        return "write" if any(w in words for w in _WRITES[:4]) else "read"
    return "write"


def load_adapter(ref: str) -> Any:
    """The adapter at ``module:object``; ``BadInput`` with a one-line reason otherwise."""
    module, sep, attr = ref.partition(":")
    if not sep or not module or not attr:
        raise BadInput(f"adapter {ref!r} is not a module:object path (e.g. harness.adapters.litequeue_09:Adapter)")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # the user's own adapter, next to where they run ffq
    try:
        obj = getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise BadInput(f"cannot import adapter module {module!r}: {exc}") from None
    except AttributeError:
        raise BadInput(f"module {module!r} has no {attr!r}") from None
    try:
        adapter = obj() if isinstance(obj, type) else obj
    except Exception as exc:
        raise BadInput(f"adapter {ref!r} raised when created: {type(exc).__name__}: {exc}") from None
    for method in ("setup", "consume"):
        if not callable(getattr(adapter, method, None)):
            raise BadInput(f"adapter {ref!r} has no {method}() method; see the adapter contract in harness/blackbox.py")
    return adapter


def blackbox_main(spec: Any, conn: Any, inherited_fds: list[int] = ()) -> None:
    """Entry point of a black-box worker process (the harness starts it for role ``blackbox``)."""
    prepare_child(spec, inherited_fds)
    import sqlite3


    send, recv = conn.send_bytes, conn.recv_bytes

    def gate(kind: str, job: Any = None, sql: str | None = None) -> None:
        try:
            send(json.dumps([kind, job, None, 0.0, sql]).encode())
            if recv() != GO:
                os._exit(3)
        except (EOFError, OSError):
            os._exit(0)  # the coordinator is gone (also inside SQLite's trace callback, which swallows errors)

    original = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        c = original(*args, **kwargs)
        c.set_trace_callback(lambda stmt: gate("sql", sql=normalize(stmt)))
        return c

    sqlite3.connect = connect

    def report(event: str, job: Any) -> None:
        gate(str(event), job=str(job))

    try:
        adapter = load_adapter(spec.adapter)
        while True:
            gate("poll")
            adapter.consume(spec.adapter_dir, report)
    except BaseException as exc:  # the code under test raised: a finding, reported as a crash
        die_reporting(send, CRASH, exc)
