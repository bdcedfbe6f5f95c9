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
    def calls(workers):
        steps = SCENARIO.steps()[:-1] + [{"op": "run_until", "worker": w, "checkpoint": "failed"}
                                         for _ in range(5) for w in workers]
        run = SCENARIO.run("naive", steps=steps, workers=workers, workdir=tmp_path / "-".join(workers), drain=False)
        return len([r for r in run.ledger if r.outcome == "unavailable"])
    assert calls(("A", "B")) == 2 * calls(("A",))
