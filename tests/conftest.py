"""Shared fixtures. The autouse reaper makes "no test leaves a process behind" a checked fact."""

from __future__ import annotations

import os
import signal

import pytest

from runtime import ManualClock, Queue, Store


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` from /proc (zombies included)."""
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(p) for p in f.read().split())
        except FileNotFoundError:
            pass
    return out


def _service_pids() -> set[int]:
    """multiprocess's own long-lived helpers (the spawn resource tracker): not leaks."""
    pids = set()
    try:
        from multiprocess import resource_tracker
        pid = getattr(resource_tracker._resource_tracker, "_pid", None)
        if pid:
            pids.add(pid)
    except ImportError:  # pragma: no cover
        pass
    return pids


@pytest.fixture(autouse=True)
def no_leaked_processes():
    """Fail a test that leaves a child process behind, after killing and reaping it."""
    before = set(_children(os.getpid()))
    yield
    leaked = [p for p in _children(os.getpid()) if p not in before and p not in _service_pids()]
    for pid in leaked:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    assert not leaked, f"test left child processes behind: {leaked}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(0.0)


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "queue.db")
    yield s
    s.close()


@pytest.fixture
def queue(store, clock) -> Queue:
    return Queue(store, clock, kinds={"charge", "email"})
