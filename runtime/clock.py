"""Clocks: the only source of time in the lab.

Contract
- ``Clock.now()`` returns seconds as a float. Nothing in ``runtime/`` reads
  wall time except ``SystemClock``; nothing anywhere sleeps on wall time.
- ``ManualClock`` is moved by hand, in one process, and refuses to go back.
- ``SharedClock`` lives in an 8-byte file mapped into memory. Its owner (the
  process that created it: the harness coordinator) is the only one that can
  move it; every other process attaches read-only (and a forked child drops
  the owner's writable mapping it inherited), so a worker physically cannot
  write it, and reads take no lock (a worker killed while reading
  leaves nothing held).
- ``SkewedClock`` wraps another clock with an offset and a rate, to model a
  worker whose clock disagrees (FM_010).

Invariant enforced here: controlled time is monotonic. ``advance`` refuses a
negative step and ``set`` refuses a value earlier than the current one.
"""

from __future__ import annotations

import mmap
import os
import struct
import time
import weakref
from typing import Protocol, runtime_checkable

from .errors import ClockError, InvalidArgument

_DOUBLE = struct.Struct("d")


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now() -> float`` (seconds)."""

    def now(self) -> float: ...


class SystemClock:
    """Wall time, for production use. Never used by the lab's tests or harness."""

    def now(self) -> float:
        return time.time()


def _check_step(seconds: float) -> float:
    seconds = float(seconds)
    if seconds != seconds or seconds < 0:
        raise InvalidArgument(
            f"cannot advance a clock by {seconds!r} s: time only moves forward; pass a step >= 0"
        )
    return seconds


class ManualClock:
    """A clock for one process, moved by hand. It never goes backwards."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        self._now += _check_step(seconds)
        return self._now

    def set(self, when: float) -> float:
        when = float(when)
        if when < self._now:
            raise ClockError(f"cannot set the clock back from {self._now} to {when}; clocks are monotonic")
        self._now = when
        return self._now

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now})"


class SharedClock:
    """A controlled clock that any process can read and only its owner can move.

    ``SharedClock.create(path)`` makes the file and returns the owner's handle;
    ``SharedClock.attach(path)`` returns a read-only handle for any process.
    A handle pickles as its path, so it can be passed to a spawned process.
    """

    def __init__(self, path: str, owner: bool) -> None:
        self.path = str(path)
        self._owner_pid = os.getpid() if owner else None
        mode = os.O_RDWR if owner else os.O_RDONLY
        fd = os.open(self.path, mode)
        try:
            access = mmap.ACCESS_WRITE if owner else mmap.ACCESS_READ
            self._map = mmap.mmap(fd, _DOUBLE.size, access=access)
        finally:
            os.close(fd)
        if owner:
            # A forked child inherits the owner's writable mapping; it is swapped for a
            # read-only one there, so that only the owner's process can write the clock at all.
            _OWNED.add(self)

    @classmethod
    def create(cls, path: str, start: float = 0.0) -> "SharedClock":
        with open(path, "wb") as f:
            f.write(_DOUBLE.pack(float(start)))
        return cls(path, owner=True)

    @classmethod
    def attach(cls, path: str) -> "SharedClock":
        if not os.path.exists(path):
            raise ClockError(f"no shared clock at {path}; the coordinator creates it with SharedClock.create")
        return cls(path, owner=False)

    def now(self) -> float:
        return _DOUBLE.unpack_from(self._map, 0)[0]

    @property
    def is_owner(self) -> bool:
        return self._owner_pid == os.getpid()

    def _write(self, value: float) -> None:
        if not self.is_owner:
            raise ClockError(
                f"process {os.getpid()} tried to move the shared clock at {self.path}; "
                "only the process that created it (the coordinator) may"
            )
        _DOUBLE.pack_into(self._map, 0, value)

    def advance(self, seconds: float) -> float:
        value = self.now() + _check_step(seconds)
        self._write(value)
        return value

    def set(self, when: float) -> float:
        when = float(when)
        current = self.now()
        if when < current:
            raise ClockError(f"cannot set the clock back from {current} to {when}; clocks are monotonic")
        self._write(when)
        return when

    def new_epoch(self, start: float = 0.0) -> float:
        """Rewind to ``start`` for a new run. Owner only, and only while every reader is parked
        (the harness calls it from ``Harness.reset`` with all workers blocked at a gate):
        within a run, time never goes back."""
        self._write(float(start))
        return float(start)

    def close(self) -> None:
        if not self._map.closed:
            self._map.close()

    def __reduce__(self):
        return (SharedClock.attach, (self.path,))

    def __repr__(self) -> str:
        role = "owner" if self.is_owner else "reader"
        return f"SharedClock({self.path!r}, {role}, now={self.now()})"


_OWNED: "weakref.WeakSet[SharedClock]" = weakref.WeakSet()


def _readonly_in_child() -> None:
    """In a forked child: every owned clock's writable mapping becomes a read-only one."""
    for clock in list(_OWNED):
        _unmap_in_child(clock)
    _OWNED.clear()


def _unmap_in_child(clock: "SharedClock") -> None:
    if clock._map.closed:
        return
    fd = os.open(clock.path, os.O_RDONLY)
    try:
        readonly = mmap.mmap(fd, _DOUBLE.size, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)
    clock._map.close()
    clock._map = readonly


os.register_at_fork(after_in_child=_readonly_in_child)


class SkewedClock:
    """``base.now() * rate + offset``: a worker whose clock disagrees with the others (FM_010)."""

    def __init__(self, base: Clock, offset: float = 0.0, rate: float = 1.0) -> None:
        if rate <= 0:
            raise InvalidArgument(f"clock rate must be > 0, got {rate!r}")
        self.base, self.offset, self.rate = base, float(offset), float(rate)

    def now(self) -> float:
        return self.base.now() * self.rate + self.offset
