"""FM_006 reproduces: a paused worker's stale write lands over the newer one (INV_008), and fencing in
the queue alone cannot stop it."""

from __future__ import annotations

import pytest

from ..scenario import SCENARIO


@pytest.mark.parametrize("policy", ["naive", "fenced-commit"])
def test_the_stale_write_overwrites_the_newer_result(policy, tmp_path):
    # Given A frozen (SIGSTOP) before its write, and B's newer write committed after A's lease expired
    # When A is resumed
    run = SCENARIO.run(policy, "pause", tmp_path)
    # Then the outside world's last write is A's stale one, computed under token 1
    writes = run.effects(1)
    assert [(w.worker, w.token) for w in writes] == [("B", 2), ("A", 1)]
    assert "token 1" in writes[-1].body["value"]
    (v,) = run.violated("INV_008")
    assert "lost update" in v.message and v.workers == ("A", "B")


def test_fenced_commit_refuses_the_commit_but_too_late(tmp_path):
    run = SCENARIO.run("fenced-commit", "pause", tmp_path)
    assert [e.worker for e in run.history if e.event == "commit_refused"] == ["A"]
    assert run.violated("INV_008")
