"""FM_010 reproduces: a worker whose clock runs ahead steals a live lease (INV_003), and both act."""

from __future__ import annotations

from ..scenario import SCENARIO, SKEW


def test_the_fast_clock_steals_a_live_lease(tmp_path):
    run = SCENARIO.run("naive", "fast_clock", tmp_path)
    leases = [(e.worker, e.token, e.at) for e in run.history if e.event == "leased"]
    assert leases == [("A", 1, 0.0), ("B", 2, 0.0)]  # store time: both at t=0
    # B judged by its own clock, which read 40 s
    assert [t.clock for t in run.trace if t.worker == "B" and t.checkpoint == "leased"] == [SKEW]
    (v, *_) = run.violated("INV_003")
    assert set(v.workers) == {"A", "B"}
    assert len(run.effects(1)) == 2
