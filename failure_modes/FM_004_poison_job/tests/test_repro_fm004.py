"""FM_004 reproduces under naive: the poison job is retried without bound and starves the queue (INV_005)."""

from __future__ import annotations

from ..scenario import SCENARIO


def test_poison_jobs_are_retried_without_bound_and_starve_the_healthy_job(tmp_path):
    # Given two poison jobs enqueued before a healthy one, and the naive retry-at-once policy
    # When both workers try to drain the queue
    run = SCENARIO.run("naive", "starve", tmp_path)
    # Then the drain never completes: the step budget runs out on retries
    assert not run.drained
    # And a poison job is leased far beyond the bound, while the healthy job waits
    (v, *_) = run.violated("INV_005")
    assert v.job == 1
    leases = [e.job_id for e in run.history if e.event == "leased"]
    assert leases.count(1) > 100
    assert 3 not in leases[:100], "the healthy job should be starved by the retries"
