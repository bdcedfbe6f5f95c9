"""The repro demo (scripts/repro_fm001.sh, scripts/repro.sh): output and exit codes."""

from __future__ import annotations

import os
import subprocess

import pytest

from harness import demo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("variant", ["expire", "slow", "pause", "kill"])
def test_every_fm001_variant_reproduces_and_is_prevented(variant, capsys):
    assert demo.main(["FM_001", "--variant", variant]) == 0
    out = capsys.readouterr().out
    assert "--- policy: naive ---" in out and "--- policy: fenced ---" in out
    assert "job 1: 2 applied" in out and "job 1: 1 applied" in out
    assert "INV_001 VIOLATED" in out


def test_a_kill_that_cannot_cause_the_duplicate_exits_1(capsys):
    assert demo.main(["fm001", "--kill", "A:poll"]) == 1
    assert "does not reproduce" in capsys.readouterr().out


def test_kill_after_the_effect_reproduces(capsys):
    assert demo.main(["1", "--kill", "A:before_commit"]) == 0


@pytest.mark.parametrize("argv, reason", [
    (["FM_999"], "unknown failure mode"),
    (["FM_001", "--variant", "nope"], "has no variant 'nope'"),
    (["FM_001", "--kill", "Z:leased"], "unknown worker 'Z'"),
    (["FM_001", "--kill", "A:lunch"], "unknown checkpoint 'lunch'"),
])
def test_bad_input_exits_2_with_one_line(argv, reason, capsys):
    assert demo.main(argv) == 2
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1


def test_the_script_runs_from_the_shell():
    proc = subprocess.run([os.path.join(ROOT, "scripts", "repro_fm001.sh"), "--variant", "pause"],
                          capture_output=True, text=True, timeout=50)
    assert proc.returncode == 0, proc.stderr
    assert "PAUSE (SIGSTOP)" in proc.stdout and "fenced: every invariant held" in proc.stdout


@pytest.mark.parametrize("mode", [f"FM_{n:03d}" for n in range(1, 11)])
def test_every_failure_mode_demo_reproduces_and_is_prevented(mode, capsys):
    # scripts/repro.sh FM_XXX: the naive run shows the failure, the fix prevents it
    assert demo.main([mode]) == 0, capsys.readouterr().out[-2000:]
