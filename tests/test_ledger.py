"""The external effect ledger: append-only, shared, optionally idempotent and fenced."""

from __future__ import annotations

import pytest

from runtime import APPLIED, DUPLICATE, STALE, EffectRefused, Ledger, ManualClock, WrongProcess, read_ledger


@pytest.fixture
def ledger_path(tmp_path):
    return tmp_path / "ledger.jsonl"


def test_naive_ledger_applies_every_attempt(ledger_path):
    ledger = Ledger(ledger_path, ManualClock(3.0))
    ledger.apply(1, "A", 1, {"amount": 100}, key="job-1")
    ledger.apply(1, "B", 2, {"amount": 100}, key="job-1")
    assert [(e.worker, e.token, e.at, e.outcome) for e in ledger.effects(1)] == [
        ("A", 1, 3.0, APPLIED), ("B", 2, 3.0, APPLIED)]


def test_idempotency_key_returns_the_first_effect(ledger_path):
    ledger = Ledger(ledger_path, ManualClock(), idempotency=True)
    first = ledger.apply(1, "A", 1, key="job-1")
    again = ledger.apply(1, "B", 2, key="job-1")
    assert again.outcome == DUPLICATE and again.first_seq == first.seq
    assert [e.worker for e in ledger.effects(1)] == ["A"]


def test_fencing_refuses_a_stale_token(ledger_path):
    ledger = Ledger(ledger_path, ManualClock(), fencing=True)
    ledger.apply(1, "B", 2)
    with pytest.raises(EffectRefused, match="token 1 is older than token 2"):
        ledger.apply(1, "A", 1)
    assert [e.outcome for e in ledger.records(1)] == [APPLIED, STALE]
    assert len(ledger.effects(1)) == 1


def test_two_handles_see_each_others_appends(ledger_path):
    a = Ledger(ledger_path, ManualClock(), idempotency=True)
    b = Ledger(ledger_path, ManualClock(), idempotency=True)
    a.apply(7, "A", 1, key="job-7")
    assert b.apply(7, "B", 2, key="job-7").outcome == DUPLICATE
    assert [r.seq for r in read_ledger(ledger_path)] == [1, 2]


def test_a_torn_last_line_is_ignored(ledger_path):
    ledger = Ledger(ledger_path, ManualClock())
    ledger.apply(1, "A", 1)
    with open(ledger_path, "ab") as f:
        f.write(b'{"seq": 2, "job"')  # a writer killed mid-write
    assert len(read_ledger(ledger_path)) == 1
    assert len(Ledger(ledger_path, ManualClock()).records()) == 1


def test_a_ledger_used_after_fork_raises(ledger_path):
    import os
    ledger = Ledger(ledger_path, ManualClock())
    ledger._pid = os.getpid() + 1  # as if inherited from a parent
    with pytest.raises(WrongProcess, match="open a new Ledger in each process"):
        ledger.apply(1, "A", 1)
