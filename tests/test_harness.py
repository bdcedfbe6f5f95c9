"""The harness: real processes, gated at named checkpoints, a shared clock, kills and pauses."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from faults import kill_at, slow_effect
from harness import Harness, dumps, schedule
from runtime import CHECKPOINTS, HarnessError, InvalidArgument, ScheduleError, UnreachableCheckpoint

from .conftest import _children

HAPPY_PATH = ["poll", "leased", "before_effect", "after_effect", "before_commit", "committed"]


def test_the_issue_example_works_as_a_test(harness):
    job = harness.enqueue("charge", {"amount": 100})
    harness.run_until("A", "after_effect")   # A runs, blocks at that checkpoint
    harness.advance(31)                       # A's lease has now expired
    harness.run_until("B", "committed")
    assert harness.kill("A") == -9
    assert [(e.worker, e.token) for e in harness.effects(job)] == [("A", 1), ("B", 2)]


def test_each_worker_is_a_distinct_real_process(harness):
    pids = {harness.pid("A"), harness.pid("B")}
    assert len(pids) == 2 and os.getpid() not in pids
    assert pids <= set(_children(os.getpid()))


def test_workers_do_nothing_before_they_are_released(harness):
    # Given both workers started, When the test enqueues, Then no worker has leased yet
    job = harness.enqueue("charge", {"amount": 1})
    assert [h.event for h in harness.history(job)] == ["enqueued"]
    assert harness.at("A").checkpoint == harness.at("B").checkpoint == "poll"


def test_step_walks_the_named_checkpoints_in_order(harness):
    harness.enqueue("charge", {"amount": 1})
    seen = [harness.at("A").checkpoint] + [harness.step("A").checkpoint for _ in range(5)]
    assert seen == HAPPY_PATH


@pytest.mark.parametrize("checkpoint", ["poll", "leased", "before_effect", "after_effect",
                                        "before_commit", "committed"])
def test_kill_at_every_checkpoint(harness, checkpoint):
    # Given a job, When A is SIGKILLed exactly at the checkpoint
    job = harness.enqueue("charge", {"amount": 5})
    schedule.apply(harness, kill_at("A", checkpoint))
    # Then its exit code is -9, the store is sound, and B (undisturbed) can finish the job
    assert harness.exitcode("A") == -9 and harness.status("A") == "killed"
    assert harness.integrity_check() == "ok"
    harness.advance(31)
    if checkpoint != "committed":
        harness.run_until("B", "committed")
    assert harness.status("B") == "at"
    events = [e.event for e in harness.history(job)]
    assert events[-1] == "committed" and events.count("committed") == 1
    state = {j.id: j.state.value for j in harness.jobs()}
    assert state[job] == harness.history(job)[-1].state == "committed"


def test_pause_freezes_the_process_while_the_clock_moves_and_others_run(harness):
    job = harness.enqueue("charge", {"amount": 1})
    harness.run_until("A", "before_effect")
    harness.pause("A")
    with open(f"/proc/{harness.pid('A')}/stat") as f:
        assert f.read().rsplit(")", 1)[1].split()[0] == "T"
    harness.advance(31)
    harness.run_until("B", "committed")
    with pytest.raises(HarnessError, match="paused"):
        harness.step("A")
    harness.resume("A")
    # A wakes up at the checkpoint where it was frozen, with its stale lease
    assert harness.step("A").checkpoint == "after_effect"
    assert [e.worker for e in harness.effects(job)] == ["B", "A"]


def test_the_shared_clock_is_the_same_in_every_worker_and_only_the_coordinator_moves_it(harness):
    harness.advance(12.5)
    harness.run_until("A", "idle")
    harness.run_until("B", "idle")
    assert harness.at("A").clock == harness.at("B").clock == harness.now() == 12.5
    # Workers hold read-only handles: the clock file is mapped without write permission in them
    for w in ("A", "B"):
        with open(f"/proc/{harness.pid(w)}/maps") as f:
            perms = [line.split()[1] for line in f if line.rstrip().endswith(harness.clock.path)]
        assert perms and all("w" not in p for p in perms)
    assert harness.clock.is_owner
    harness.clock.advance(0.5)
    harness.step("A"), harness.step("A")
    assert harness.at("A").clock == 13.0


def test_restart_after_kill_gives_a_fresh_process(harness):
    old = harness.pid("A")
    harness.kill("A")
    harness.restart("A")
    assert harness.pid("A") not in (None, old)
    assert harness.at("A").checkpoint == "poll"


def test_an_idle_worker_fails_clearly_instead_of_polling_forever(harness):
    with pytest.raises(UnreachableCheckpoint, match=r"worker A cannot reach 'committed': it stopped at 'idle'"):
        harness.run_until("A", "committed")


def test_a_killed_worker_cannot_be_run_and_says_where_it_stopped(harness):
    harness.enqueue("charge", {"amount": 1})
    schedule.apply(harness, kill_at("A", "before_commit"))
    with pytest.raises(UnreachableCheckpoint, match=r"killed at 'before_commit' \(job 1, token 1\)"):
        harness.run_until("A", "committed")
    with pytest.raises(UnreachableCheckpoint, match="restart"):
        harness.pause("A")


def _explodes(lease):
    raise SystemExit("the handler took the process down")


def test_a_worker_that_dies_unexpectedly_is_a_harness_error_with_its_stderr(make_harness):
    h = make_harness(handlers={"charge": _explodes})
    h.enqueue("charge", {})
    with pytest.raises(HarnessError, match=r"worker A raised SystemExit.*after 'before_effect'"):
        h.run_until("A", "after_effect")
    assert h.status("A") == "crashed"
    assert h.pid("A") is None  # reaped
    assert "the handler took the process down" in open(os.path.join(h.workdir, "A.stderr")).read()


def test_bad_input_gives_clear_errors_and_leaves_nothing_running(make_harness):
    h = make_harness()
    with pytest.raises(ScheduleError, match="unknown worker 'C'; workers are A, B"):
        h.step("C")
    with pytest.raises(ScheduleError, match="unknown checkpoint 'after_efect'"):
        h.run_until("A", "after_efect")
    with pytest.raises(InvalidArgument, match="time only moves forward"):
        h.advance(-1)
    h.kill("B")
    with pytest.raises(UnreachableCheckpoint, match="worker B"):
        h.step("B")
    with pytest.raises(ScheduleError):
        make_harness(workers=("A", "A"))
    assert h.status("A") == "at"
    pids = [h.pid("A")]
    h.close()
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)


def test_the_same_schedule_gives_the_same_trace_20_times(make_harness):
    steps = ([{"op": "enqueue", "kind": "charge", "payload": {"amount": 100}},
              {"op": "enqueue", "kind": "charge", "payload": {"amount": 7}}]
             + slow_effect("A", 31)
             + [{"op": "run_until", "worker": "B", "checkpoint": "committed"},
                {"op": "pause", "worker": "B"},
                {"op": "run_until", "worker": "A", "checkpoint": "committed"},
                {"op": "resume", "worker": "B"},
                {"op": "enqueue", "kind": "charge", "payload": {"amount": 9}}]
             + kill_at("B", "after_effect")
             + [{"op": "restart", "worker": "B"}, {"op": "advance", "seconds": 40},
                {"op": "run_until", "worker": "A", "checkpoint": "idle"}])
    schedule.validate_steps(steps, ("A", "B"))
    traces = set()
    for _ in range(20):
        with make_harness() as h:
            schedule.apply(h, steps)
            traces.add(dumps(h.trace) + json.dumps([e.as_dict() for e in h.history()]))
    assert len(traces) == 1


def test_steps_performed_replay_to_the_same_trace(make_harness, tmp_path):
    with make_harness() as h:
        h.enqueue("charge", {"amount": 1})
        h.run_until("A", "before_commit")
        h.advance(30)
        h.run_until("B", "committed")
        h.step("A")
        schedule.save(tmp_path / "s.json", h.steps, workers=h.workers, policy="naive", lease_ttl=30.0)
        first = dumps(h.trace)
    doc = schedule.load(tmp_path / "s.json")
    with make_harness(workers=doc["workers"], policy=doc["policy"], lease_ttl=doc["lease_ttl"]) as h:
        schedule.apply(h, doc["steps"])
        assert dumps(h.trace) == first


@pytest.mark.parametrize("bad, message", [
    ({"op": "teleport"}, "unknown op 'teleport'"),
    ({"op": "kill"}, "missing worker"),
    ({"op": "kill", "worker": "Z"}, "unknown worker 'Z'"),
    ({"op": "advance", "seconds": -3}, "seconds must be a number >= 0"),
    ({"op": "run_until", "worker": "A", "checkpoint": "lunch"}, "unknown checkpoint 'lunch'"),
    ("kill A", "not an object"),
])
def test_a_malformed_schedule_is_refused_before_anything_runs(bad, message):
    with pytest.raises(ScheduleError, match=message):
        schedule.validate_steps([{"op": "advance", "seconds": 1}, bad], ("A", "B"))


def test_a_body_that_raises_leaves_no_process(tmp_path):
    with pytest.raises(RuntimeError):
        with Harness(tmp_path, workers=("A", "B")) as h:
            pids = [h.pid("A"), h.pid("B")]
            raise RuntimeError("test body failed")
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}")


def test_spawned_workers_behave_like_forked_ones(make_harness):
    h = make_harness(start_method="spawn", step_timeout=30)
    job = h.enqueue("charge", {"amount": 3})
    h.run_until("A", "committed")
    assert [e.worker for e in h.effects(job)] == ["A"]


def test_kill_mid_effect_leaves_a_sound_database(harness):
    for n in range(3):
        harness.enqueue("charge", {"amount": n})
    harness.run_until("A", "after_effect")
    harness.kill("A")
    harness.run_until("B", "committed")
    conn = sqlite3.connect(harness.db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_checkpoint_names_are_the_documented_ones():
    # docs/02_state_model.md is the source of truth: every checkpoint the code can stop at is in it
    assert CHECKPOINTS[:6] == tuple(HAPPY_PATH)
    doc = open(os.path.join(os.path.dirname(__file__), "..", "docs", "02_state_model.md")).read()
    missing = [name for name in CHECKPOINTS if f"`{name}`" not in doc]
    assert missing == [], f"checkpoints not documented in docs/02_state_model.md: {missing}"


def test_reset_gives_the_same_trace_as_a_fresh_harness(make_harness):
    # Given a schedule with a kill, a pause and a clock jump
    steps = ([{"op": "enqueue", "kind": "charge", "payload": {"amount": 1}}] + slow_effect("A", 31)
             + [{"op": "run_until", "worker": "B", "checkpoint": "before_commit"}, {"op": "pause", "worker": "B"}]
             + kill_at("A", "before_commit") + [{"op": "drain"}])
    with make_harness() as fresh:
        schedule.apply(fresh, steps)
        expected = dumps(fresh.trace), [e.as_dict() for e in fresh.history()], fresh.ledger()
    # When the same schedule runs twice more on one harness, reset in between
    with make_harness() as h:
        pids = {h.pid("A"), h.pid("B")}
        for _ in range(2):
            h.reset()
            schedule.apply(h, steps)
            # Then each run is indistinguishable from the fresh one
            assert (dumps(h.trace), [e.as_dict() for e in h.history()], h.ledger()) == expected
        assert h.pid("B") in pids      # the paused worker was continued and reused
        assert h.pid("A") not in pids  # the killed one was restarted


def test_reset_while_a_worker_holds_the_write_lock(make_harness):
    # Given A stopped inside its commit's open transaction (it holds SQLite's write lock)
    h = make_harness(design={"gate_in_commit": True})
    h.enqueue("charge", {"amount": 1})
    h.run_until("A", "commit_open")
    # When the harness is reset for a new run, Then A's transaction rolls back and the store empties at once
    h.reset()
    assert h.jobs() == [] and h.history() == []
    assert [h.at(w).checkpoint for w in ("A", "B")] == ["poll", "poll"]


def test_a_harness_that_cannot_start_leaves_no_pin_and_no_directory(tmp_path):
    before = os.sched_getaffinity(0)
    with pytest.raises(ScheduleError, match="skew names unknown worker 'Z'"):
        Harness(None, skew={"Z": (1.0, 1.0)})
    assert os.sched_getaffinity(0) == before
    bad = tmp_path / "queue.db"
    bad.write_bytes(b"not a database" * 100)
    from runtime import CorruptDatabase
    with pytest.raises(CorruptDatabase):
        Harness(tmp_path)
    assert os.sched_getaffinity(0) == before
    assert bad.read_bytes() == b"not a database" * 100
