"""A run as a timeline: the trace merged with the ledger, one lane per worker.

``rows(result)`` merges the coordinator's trace with the ledger's records:
an effect attempt is placed where it happened, between the worker's
``before_effect`` and its next checkpoint. Every renderer (the text timeline
here, the HTML and Mermaid reports) draws these rows, so they tell the same
story.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from runtime import Effect

from .trace import TraceEvent



@dataclass(frozen=True)
class Row:
    """One line of a timeline. ``worker`` is None for what every lane sees (clock, enqueue)."""

    clock: float
    worker: str | None
    kind: str
    text: str
    job: int | None = None
    token: int | None = None
    outcome: str | None = None  # for effects: applied / duplicate / stale


def _effect_text(rec: Effect) -> str:
    body = ", ".join(f"{k}={v}" for k, v in sorted((rec.body or {}).items())) if isinstance(rec.body, dict) else ""
    if rec.outcome == "lookup":
        found = (rec.body or {}).get("found")
        return f"lookup j{rec.job} t{rec.token}: " + (f"ADOPT ledger #{found}" if found else "nothing applied")
    label = {"applied": "effect APPLIED", "duplicate": "effect DEDUPLICATED",
             "stale": "effect REFUSED (stale)", "unavailable": "call FAILED (outage)"}.get(rec.outcome, rec.outcome)
    return f"{label} j{rec.job} t{rec.token}" + (f" {body}" if body and rec.applied else "")


def rows(trace: Sequence[TraceEvent], ledger: Sequence[Effect]) -> list[Row]:
    """Merge trace and ledger into timeline rows, in the order things happened."""
    pending = list(ledger)
    in_effect: dict[str, tuple[int | None, int | None]] = {}
    out: list[Row] = []
    for ev in trace:
        if ev.op == "at":
            w = ev.worker
            if w in in_effect:
                # arriving at 'reconciled', only the lookup has happened; the effect comes after
                lookup_only = ev.checkpoint == "reconciled"
                job, token = in_effect[w] if lookup_only else in_effect.pop(w)
                for rec in [r for r in pending if (r.worker, r.job, r.token) == (w, job, token)
                            and (r.outcome == "lookup") == lookup_only]:
                    pending.remove(rec)
                    out.append(Row(rec.at, w, "effect", _effect_text(rec), rec.job, rec.token, rec.outcome))
                    if lookup_only:
                        break
            if ev.checkpoint == "before_effect":
                in_effect[w] = (ev.job, ev.token)
            job = f"j{ev.job}" if isinstance(ev.job, int) else ev.job
            text = ev.checkpoint if ev.job is None else f"{ev.checkpoint} {job}" + (
                f" t{ev.token}" if ev.token is not None else "")
            if ev.detail.get("sql"):
                text = f"sql: {ev.detail['sql']}"
            out.append(Row(ev.clock, w, "checkpoint", text, ev.job, ev.token))
        elif ev.op == "advance":
            secs = ev.detail.get("seconds")
            text = f"clock +{secs:g} s -> t={ev.clock:g}" if secs is not None else f"clock -> t={ev.clock:g} (drain)"
            out.append(Row(ev.clock, None, "clock", text))
        elif ev.op == "request":
            out.append(Row(ev.clock, ev.worker, "enqueue",
                           f"request {ev.detail.get('request')} ({ev.detail.get('kind')}) in the outbox"))
        elif ev.op == "enqueue":
            out.append(Row(ev.clock, None, "enqueue", f"enqueue job {ev.job} ({ev.detail.get('kind')})", ev.job))
        elif ev.op == "kill":
            in_effect.pop(ev.worker, None)
            out.append(Row(ev.clock, ev.worker, "kill", f"KILL -9 at {ev.checkpoint}", ev.job, ev.token))
        elif ev.op == "pause":
            out.append(Row(ev.clock, ev.worker, "pause", f"PAUSE (SIGSTOP) at {ev.checkpoint}", ev.job, ev.token))
        elif ev.op == "resume":
            out.append(Row(ev.clock, ev.worker, "resume", "RESUME (SIGCONT)", ev.job, ev.token))
        elif ev.op == "restart":
            out.append(Row(ev.clock, ev.worker, "restart", "RESTART (new process)"))
        elif ev.op == "crash":
            out.append(Row(ev.clock, ev.worker, "crash", f"CRASHED ({ev.detail.get('reason')})"))
    for rec in pending:  # attempts the trace cannot place (a worker killed mid-effect)
        out.append(Row(rec.at, rec.worker, "effect", _effect_text(rec), rec.job, rec.token, rec.outcome))
    return out


def render_text(trace: Sequence[TraceEvent], ledger: Sequence[Effect], workers: Sequence[str],
                width: int = 36, quiet: Sequence[str] = ("poll", "idle")) -> str:
    """A fixed-width timeline: clock, then one column per worker. ``quiet`` checkpoints are left out."""
    head = f"{'clock':>7} | " + " | ".join(f"{w:<{width}}" for w in workers)
    lines = [head, "-" * len(head)]
    lane = {w: i for i, w in enumerate(workers)}
    for r in rows(trace, ledger):
        if r.kind == "checkpoint" and r.text.split()[0] in quiet:
            continue
        if r.worker is None:
            mark = "~~" if r.kind == "clock" else "++"
            lines.append(f"{r.clock:>7g} | {mark} {r.text}")
            continue
        text = {"effect": "$ ", "kill": "** ", "pause": "|| ", "resume": "> ", "restart": "> ",
                "crash": "!! "}.get(r.kind, "") + r.text
        cells = [" " * width] * len(workers)
        cells[lane.get(r.worker, 0)] = f"{text:<{width}}"[: max(width, len(text))]
        lines.append(f"{r.clock:>7g} | " + " | ".join(cells).rstrip())
    return "\n".join(lines)


def effect_counts(ledger: Sequence[Effect]) -> dict[int, dict[str, Any]]:
    """Per job: applied / duplicate / stale counts and who applied."""
    out: dict[int, dict[str, Any]] = {}
    for rec in ledger:
        c = out.setdefault(rec.job, {"applied": 0, "duplicate": 0, "stale": 0, "unavailable": 0, "lookup": 0,
                                     "by": []})
        c[rec.outcome] = c.get(rec.outcome, 0) + 1
        if rec.applied:
            c["by"].append(f"{rec.worker}/t{rec.token}")
    return out


def render_summary(run: Any, max_rows: int = 400) -> str:
    """A run (``harness.scenario.RunResult``) as text: the timeline (its middle elided past
    ``max_rows`` rows), the effects per job, and a verdict line per invariant checked."""
    from runtime.invariants import INVARIANTS, verdicts

    lines = render_text(run.trace, run.ledger, run.workers).splitlines()
    if len(lines) > max_rows:
        cut = len(lines) - max_rows
        lines = lines[: max_rows // 2] + [f"    ... {cut} rows elided ..."] + lines[-max_rows // 2:]
    lines.append("")
    lines.append("effects per job (from the ledger):")
    for job, c in sorted(effect_counts(run.ledger).items()):
        extra = "".join(f", {c[k]} {k}" for k in ("duplicate", "stale", "unavailable") if c.get(k))
        lines.append(f"  job {job}: {c['applied']} applied ({', '.join(c['by']) or '-'}){extra}")
    lines.append("invariants:")
    for inv, found in verdicts(run.violations, drained=run.drained, outage=run.outage).items():
        if not found:
            lines.append(f"  {inv} ok        {INVARIANTS[inv]}")
        for v in found:
            lines.append(f"  {inv} VIOLATED  {v.message}")
    return "\n".join(lines)
