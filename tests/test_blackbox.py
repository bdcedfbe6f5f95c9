"""Black-box mode: unmodified SQLite queue code, every statement a gate, found failures shrunk and replayed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.bbcli import load
from harness.bbexplore import BBConfig, BBExplorer, bb_shrink, run_steps
from harness.blackbox import BlackBox, check_blackbox, classify, normalize
from harness.cli import main
from runtime import HarnessError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOY = "tests.adapters.toy_queue:ToyQueue"
LITEQUEUE = "harness.adapters.litequeue_09:Adapter"


def test_statements_are_normalised_and_classified():
    assert normalize("UPDATE q SET s = 1, t = 'x''y'\n WHERE id = 42") == "UPDATE q SET s = ?, t = ? WHERE id = ?"
    assert normalize("SELECT * FROM maxsize_control_Queue2") == "SELECT * FROM maxsize_control_Queue2"
    assert [classify(s) for s in ("BEGIN IMMEDIATE", "BEGIN", "COMMIT", "ROLLBACK", "SELECT 1",
                                  "UPDATE t SET a = 1", "PRAGMA journal_mode = WAL", "PRAGMA user_version")] == [
        "begin_write", "begin", "end", "end", "read", "write", "write", "read"]


def test_every_statement_of_unmodified_code_is_a_gate():
    with BlackBox(None, TOY, ("A",), ("j1",)) as bb:
        for _ in range(4):
            bb.step("A")
        seen = [(t.checkpoint, t.detail.get("sql") or t.job) for t in bb.trace if t.op == "at"]
    assert seen == [("poll", None), ("sql", "SELECT name FROM jobs ORDER BY name LIMIT ?"),
                    ("sql", "DELETE FROM jobs WHERE name = ?"), ("delivered", "j1"), ("acked", "j1")]


def test_the_toy_queues_duplicate_delivery_is_found_and_shrunk():
    # Given the select-then-delete toy queue, two workers, two jobs, no faults
    config = BBConfig(TOY, ("A", "B"), ("j1", "j2"), frozenset(), invariants=frozenset({"INV_010"}))
    with BBExplorer(config) as ex:
        failing = next(s for s in ex.dfs() if s.failed)
        best, runs = bb_shrink(ex, failing, "INV_010")
    # Then the minimal schedule still delivers one job to both workers at once
    assert {v.invariant for v in best.violations} == {"INV_010"}
    assert len(best.jobs) == 1 and len(best.moves) <= len(failing.moves)
    again = run_steps(TOY, best.workers, best.jobs, best.steps)
    assert "INV_010" in {v.invariant for v in again.violations}


def test_the_toy_queues_lost_job_is_found_with_kills():
    config = BBConfig(TOY, ("A", "B"), ("j1", "j2"), frozenset({"kill"}), invariants=frozenset({"INV_011"}))
    with BBExplorer(config) as ex:
        failing = next(s for s in ex.dfs() if s.failed)
        best, _ = bb_shrink(ex, failing, "INV_011")
    assert {v.invariant for v in best.violations} == {"INV_011"}
    assert ("kill", "A") in best.moves or ("kill", "B") in best.moves
    assert len(best.moves) <= min(5, len(failing.moves))


def test_litequeue_holding_the_write_lock_is_never_stepped_past():
    # A is inside litequeue's BEGIN IMMEDIATE pop; B's own pop could only wait on the lock
    with BlackBox(None, LITEQUEUE, ("A", "B"), ("j1",)) as bb:
        while not (bb.txn["A"] == "write"):
            bb.step("A")
        while bb.can_run("B"):
            bb.step("B")
        assert bb.h.at("B").checkpoint == "sql" and classify(bb.h.at("B").detail) in ("begin_write", "write")
        with pytest.raises(HarnessError, match="A holds the write lock"):
            bb.step("B")
        assert bb.drain()
        assert check_blackbox(bb.trace, bb.jobs, drained=True) == []


def test_litequeue_strands_a_message_whose_consumer_is_killed():
    config = BBConfig(LITEQUEUE, ("A", "B"), ("j1",), frozenset({"kill"}), preemptions=1)
    with BBExplorer(config) as ex:
        failing = next(s for s in ex.dfs() if s.failed)
        best, _ = bb_shrink(ex, failing, "INV_011")
    assert {v.invariant for v in best.violations} == {"INV_011"}
    assert best.moves[-1][0] == "kill"


def test_litequeue_delivers_no_job_twice_within_a_small_bound():
    config = BBConfig(LITEQUEUE, ("A", "B"), ("j1", "j2"), frozenset(), preemptions=1)
    with BBExplorer(config) as ex:
        count = sum(1 for s in ex.dfs() if not s.failed or pytest.fail(str(s.violations)))
    assert count > 50


def test_cli_explore_saves_and_replay_reproduces(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    assert main(["blackbox", "explore", TOY, "--invariants", "INV_010", "--out", str(out)]) == 1
    (saved,) = [p for p in out.iterdir() if p.suffix == ".json"]
    assert (out / (saved.stem + ".mmd")).read_text().startswith("sequenceDiagram")
    assert load(str(saved))["adapter"] == TOY
    capsys.readouterr()
    assert main(["blackbox", "replay", str(saved)]) == 1
    assert "same trace: yes; same verdict: yes (INV_010" in capsys.readouterr().out


@pytest.mark.parametrize("ref, reason", [
    ("nocolon", "is not a module:object path"),
    ("no.such.module:Adapter", "cannot import adapter module 'no.such.module'"),
    ("tests.adapters.toy_queue:Missing", "has no 'Missing'"),
    ("tests.adapters.toy_queue:NOT_AN_ADAPTER", "has no setup() method"),
    ("tests.adapters.toy_queue:Broken", "raised in setup: RuntimeError: cannot reach the queue"),
])
def test_bad_adapters_exit_2_with_one_line(ref, reason, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["blackbox", "explore", ref, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1


def test_malformed_blackbox_file_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "ffq-blackbox/1", "adapter": TOY, "workers": ["A"], "jobs": ["j1"],
                                "steps": [{"op": "step", "worker": "Z"}]}))
    assert main(["blackbox", "replay", str(path)]) == 2
    assert "unknown worker 'Z'" in capsys.readouterr().err


def test_bad_adapter_from_the_shell():
    ffq = os.path.join(os.path.dirname(sys.executable), "ffq")
    proc = subprocess.run([ffq, "blackbox", "explore", "nowhere:Nothing"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_the_litequeue_exhibit_replays_with_the_same_trace(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = os.path.join(ROOT, "failure_modes", "BB_001_litequeue_message_stranded_after_kill", "counterexample.json")
    assert main(["blackbox", "replay", path]) == 1
    assert "same trace: yes; same verdict: yes (INV_011)" in capsys.readouterr().out
