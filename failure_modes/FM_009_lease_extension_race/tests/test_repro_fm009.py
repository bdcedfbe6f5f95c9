"""FM_009 reproduces: a late heartbeat resurrects an expired lease, and two workers hold the job (INV_003)."""

from __future__ import annotations

from ..scenario import SCENARIO


def test_the_late_heartbeat_makes_two_holders(tmp_path):
    run = SCENARIO.run("naive", "late_heartbeat", tmp_path)
    ext = [e for e in run.history if e.event == "extended" and e.worker == "A"]
    assert ext and ext[0].token == 1 and ext[0].detail["holder"] == "B"  # A extended B's lease row
    (v, *_) = run.violated("INV_003")
    assert set(v.workers) == {"A", "B"} and "two live leases" in v.message
