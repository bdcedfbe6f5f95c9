"""``ffq``: commands, exit codes (0 none, 1 violation, 2 bad input), replay equality."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_explore_naive_finds_shrinks_saves_and_replay_reproduces(tmp_path, capsys):
    out = tmp_path / "out"
    # When the explorer runs from scratch under naive
    assert main(["explore", "fm001", "--policy", "naive", "--out", str(out)]) == 1
    text = capsys.readouterr().out
    saved = out / "fm001-naive-INV_001.json"
    # Then it saved the minimal counterexample, with reports
    assert saved.exists() and (out / "fm001-naive-INV_001.html").exists()
    assert (out / "fm001-naive-INV_001.mmd").read_text().startswith("sequenceDiagram")
    doc = json.loads(saved.read_text())
    assert doc["scenario"] == "fm001" and doc["policy"] == "naive" and "INV_001" in doc["violated"]
    assert len(doc["steps"]) <= 5
    assert "h.check(drained=drained)  # INV_001" in text
    # And replaying the file gives the same trace and the same verdict
    assert main(["replay", str(saved)]) == 1
    assert "same trace: yes; same verdict: yes" in capsys.readouterr().out


def test_explore_fenced_finds_nothing_and_states_the_bound(tmp_path, capsys):
    code = main(["explore", "fm001", "--policy", "fenced", "--faults", "kill,pause,clock", "--jobs", "2",
                 "--preemptions", "1", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert code == 0
    assert "violations: none" in text
    assert "bound: preemptions <= 1, faults <= 1, depth <= 30; exhausted" in text


def test_explore_random_strategy_with_seed(tmp_path, capsys):
    assert main(["explore", "fm001", "--strategy", "random", "--seed", "5", "--faults", "clock,pause",
                 "--out", str(tmp_path)]) == 1
    assert json.loads((tmp_path / "fm001-naive-INV_001.json").read_text())["seed"] == 5


def test_run_scenario_exit_codes(capsys):
    assert main(["run", "fm001", "--variant", "pause"]) == 1
    assert main(["run", "fm001", "--variant", "pause", "--policy", "fenced"]) == 0
    assert "PAUSE (SIGSTOP)" in capsys.readouterr().out


def test_list_shows_the_catalog(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(f"FM_{n:03d}" in out for n in range(1, 11))
    assert "BB_001_litequeue_message_stranded_after_kill" in out


def test_a_diverging_replay_is_reported(tmp_path, capsys):
    assert main(["explore", "fm001", "--out", str(tmp_path)]) == 1
    path = tmp_path / "fm001-naive-INV_001.json"
    doc = json.loads(path.read_text())
    doc["trace_sha256"] = "0" * 64
    path.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["replay", str(path)]) == 1
    assert "same trace: NO" in capsys.readouterr().out


@pytest.mark.parametrize("argv, reason", [
    (["replay", "/no/such/file.json"], "no schedule file at /no/such/file.json"),
    (["explore", "fm999"], "unknown failure mode or scenario 'fm999'"),
    (["explore", "fm001", "--policy", "optimistic"], "unknown policy 'optimistic'"),
    (["explore", "fm001", "--faults", "meteor"], "unknown fault 'meteor'"),
    (["explore", "fm001", "--strategy", "bfs"], "invalid choice"),
    (["run", "fm001", "--variant", "nope"], "has no variant 'nope'"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_bad_input_exits_2_with_one_line(argv, reason, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1 and err.startswith("ffq: ")


@pytest.mark.parametrize("content, reason", [
    ("not json at all", "is not JSON"),
    ('{"format": "something-else"}', "is not a schedule file"),
    ('{"format": "ffq-schedule/1", "workers": ["A"], "lease_ttl": 30, "policy": "naive", "scenario": "fm001",'
     ' "steps": [{"op": "kill", "worker": "Z"}]}', "unknown worker 'Z'"),
    ('{"format": "ffq-schedule/1", "workers": ["A"], "lease_ttl": -1, "policy": "naive", "steps": []}',
     "'lease_ttl' must be a number > 0"),
])
def test_malformed_schedule_files_exit_2(tmp_path, content, reason, capsys):
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["replay", str(path)]) == 2
    assert reason in capsys.readouterr().err


def test_the_console_script_is_installed():
    ffq = os.path.join(os.path.dirname(sys.executable), "ffq")
    proc = subprocess.run([ffq, "explore", "nope"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and proc.stderr.startswith("ffq: unknown failure mode")
