"""FM_002 reproduces under naive, and the fenced commit cannot help: A's token was valid when it acted."""

from __future__ import annotations

import pytest

from ..scenario import SCENARIO


@pytest.mark.parametrize("policy", ["naive", "fenced"])
@pytest.mark.parametrize("variant", sorted(SCENARIO.variants))
def test_a_crash_between_effect_and_commit_duplicates_the_effect(policy, variant, tmp_path):
    # Given a downstream that keeps every effect it is sent
    # When A is SIGKILLed after its effect and the job is retried after A's lease expires
    run = SCENARIO.run(policy, variant, tmp_path)
    # Then the outside world saw the effect twice: token 1 (the dead A) and token 2 (the retry)
    assert [e.token for e in run.effects(1)] == [1, 2]
    (v,) = run.violated("INV_001")
    assert v.job == 1 and "applied 2 times" in v.message
    # and the kill was a real SIGKILL of a real process
    assert any(t.op == "kill" and t.detail["exitcode"] == -9 for t in run.trace)


def test_the_fenced_commit_is_satisfied_because_the_retry_holds_the_current_lease(tmp_path):
    run = SCENARIO.run("fenced", "kill_after_effect", tmp_path)
    assert [e.event for e in run.history] == ["enqueued", "leased", "leased", "committed"]
    assert not [e for e in run.history if e.event.endswith("_refused")]
