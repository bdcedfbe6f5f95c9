"""FM_003 reproduces under at-most-once designs: the dead worker's job is stranded or lost (INV_002)."""

from __future__ import annotations

from ..scenario import SCENARIO


def test_a_lease_that_never_expires_strands_the_job(tmp_path):
    # Given a queue whose leases never expire, When A dies holding the job and B drains the queue
    run = SCENARIO.run("naive", "stranded", tmp_path)
    # Then the job is still leased by the dead A, forever
    assert run.drained
    (v,) = run.violated("INV_002")
    assert "still leased" in v.message and v.workers == ("A",)
    assert [(j.state.value, j.lease_owner) for j in run.jobs] == [("leased", "A")]
    assert run.effects() == []


def test_delete_on_dequeue_loses_the_job(tmp_path):
    run = SCENARIO.run("naive", "lost", tmp_path)
    assert run.drained and run.jobs == []
    (v,) = run.violated("INV_002")
    assert "no longer exists" in v.message
    assert [e.event for e in run.history] == ["enqueued", "taken"]
