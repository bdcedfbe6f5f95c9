"""FM_005 reproduces under naive: during the outage every retry hits the failing dependency (INV_007)."""

from __future__ import annotations

from ..scenario import OUTAGE, SCENARIO


def test_retries_hammer_the_failing_dependency(tmp_path):
    run = SCENARIO.run("naive", "storm", tmp_path)
    calls = [r for r in run.ledger if OUTAGE[0] <= r.at < OUTAGE[1]]
    assert len(calls) > 100 and {r.outcome for r in calls} == {"unavailable"}
    (v,) = run.violated("INV_007")
    assert set(v.workers) == {"A", "B"}


def test_the_storm_grows_with_the_number_of_workers(tmp_path):
    # Given the same 5 rounds of steps for each worker, When one worker, then two, retry at will
    def calls(workers):
        rounds = [{"op": "run_until", "worker": w, "checkpoint": cp}
                  for _ in range(5) for w in workers for cp in ("failed", "poll")]
        run = SCENARIO.run("naive", steps=SCENARIO.steps()[:-1] + rounds, workers=workers,
                           workdir=tmp_path / "-".join(workers), drain=False)
        return len([r for r in run.ledger if r.outcome == "unavailable"])
    # Then the calls hitting the failing dependency double with the workers: no back-pressure at all
    assert calls(("A",)) == 5
    assert calls(("A", "B")) == 10
