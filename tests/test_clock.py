"""Clocks: monotonic, injected, and the shared one moved only by its owner."""

from __future__ import annotations

import pickle

import multiprocess as mp
import pytest

from runtime import ClockError, InvalidArgument, ManualClock, SharedClock, SkewedClock


def test_manual_clock_refuses_to_go_backwards():
    c = ManualClock(5.0)
    assert c.advance(2) == 7.0
    with pytest.raises(InvalidArgument):
        c.advance(-1)
    with pytest.raises(ClockError, match="monotonic"):
        c.set(6.0)
    assert c.now() == 7.0


def test_shared_clock_is_read_by_attached_handles(tmp_path):
    owner = SharedClock.create(tmp_path / "clock", start=10.0)
    reader = SharedClock.attach(tmp_path / "clock")
    owner.advance(31)
    assert reader.now() == owner.now() == 41.0
    with pytest.raises(ClockError, match="only the process that created it"):
        reader.advance(1)
    assert pickle.loads(pickle.dumps(owner)).now() == 41.0


def _child_reads_and_tries_to_write(clock, conn):
    seen = clock.now()
    try:
        clock.advance(5)
        outcome = "moved"
    except ClockError:
        outcome = "refused"
    conn.send((seen, outcome))
    conn.close()


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_only_the_owner_moves_the_shared_clock_across_processes(tmp_path, method):
    ctx = mp.get_context(method)
    owner = SharedClock.create(tmp_path / "clock", start=0.0)
    owner.advance(12.5)
    parent, child = ctx.Pipe()
    p = ctx.Process(target=_child_reads_and_tries_to_write, args=(owner, child))
    p.start()
    child.close()
    assert parent.poll(30)
    assert parent.recv() == (12.5, "refused")
    p.join(30)
    assert p.exitcode == 0
    assert owner.now() == 12.5


def test_skewed_clock():
    base = ManualClock(100.0)
    assert SkewedClock(base, offset=5).now() == 105.0
    assert SkewedClock(base, rate=2.0).now() == 200.0
