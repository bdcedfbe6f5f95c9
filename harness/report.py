"""Run reports: a Mermaid sequence diagram and a self-contained HTML swimlane page.

Contract
- Both renderers draw ``harness.timeline.rows(trace, ledger)``, so they tell the
  same story as the text timeline; neither reads anything else of the run
  except the ``violations`` (``runtime.Violation``) given to them.
- ``mermaid(...)`` returns the text of a ``sequenceDiagram`` (no fences) that
  GitHub renders: participants ``C`` (clock), each worker, ``Q`` (queue) and
  ``L`` (ledger); arrows for lease / effect / commit / abandon / fail, notes for
  clock jumps, signals (SIGKILL, SIGSTOP, SIGCONT), restarts and crashes, and a
  final note per violated invariant. Poll, idle and the before/after
  checkpoints carry no action and are left out. ``mermaid_markdown`` fences it.
- ``html(...)`` returns one HTML page with inline CSS and no scripts, fonts or
  network references: a header (verdict, violations, ``meta`` table) and a
  swimlane table (clock column + one lane per worker). All text is escaped.
- ``write_reports(...)`` writes ``<basename>.html`` and ``<basename>.mmd`` and
  returns ``{"html": path, "mmd": path}``.
Same inputs give byte-identical outputs.
"""

from __future__ import annotations

import html as _html
import os
import re
from typing import Any, Mapping, Sequence

from runtime import Effect, Violation

from .timeline import Row, rows
from .trace import TraceEvent

QUIET = frozenset({"poll", "idle", "before_effect", "after_effect", "before_commit"})
_SIGNAL_NOTE = {"kill": "SIGKILL", "pause": "SIGSTOP (paused)", "resume": "SIGCONT (resumed)",
                "restart": "restart (new process)"}
_MERMAID_ESC = {";": "#59;", "#": "#35;", "%": "#37;", '"': "#quot;", "'": "#39;", "<": "#lt;", ">": "#gt;",
                "\n": " ", "\r": " "}
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_RESERVED = {"c", "q", "l", "end", "loop", "alt", "else", "opt", "par", "and", "rect", "note", "participant",
             "actor", "title", "critical", "break", "box", "autonumber", "activate", "deactivate"}


def _esc(text: str) -> str:
    """Message text Mermaid accepts verbatim (entity codes for what it would parse)."""
    return "".join(_MERMAID_ESC.get(ch, ch) for ch in str(text))


def _job_kinds(trace: Sequence[TraceEvent]) -> dict[int, str]:
    return {ev.job: str(ev.detail.get("kind") or "effect") for ev in trace
            if ev.op == "enqueue" and ev.job is not None}


def _effect_labels(all_rows: Sequence[Row]) -> dict[int, str]:
    """Per effect row (by index): applied / applied again / duplicate / stale."""
    seen: dict[int | None, int] = {}
    out: dict[int, str] = {}
    for i, r in enumerate(all_rows):
        if r.kind != "effect":
            continue
        if r.outcome == "applied":
            seen[r.job] = seen.get(r.job, 0) + 1
            out[i] = "applied" if seen[r.job] == 1 else f"applied AGAIN ({seen[r.job]}x)"
        else:
            out[i] = {"duplicate": "duplicate (not re-applied)", "stale": "REFUSED stale"}.get(r.outcome or "", str(r.outcome))
    return out


def _violation_summary(v: Violation) -> str:
    recs = [e for e in v.evidence if isinstance(e, Effect)]
    if v.invariant == "INV_001" and recs:
        who = ", ".join(f"{r.worker} t{r.token}" for r in recs)
        return f"{v.invariant} violated: job {v.job} applied {len(recs)} times ({who})"
    return str(v)


def mermaid(trace: Sequence[TraceEvent], ledger: Sequence[Effect], workers: Sequence[str],
            violations: Sequence[Violation] = (), title: str | None = None) -> str:
    """The run as a Mermaid ``sequenceDiagram`` (text without fences)."""
    ids: dict[str, str] = {}
    for n, w in enumerate(workers, 1):
        alias = f"W{n}"
        while alias in workers:
            alias += "_"
        ids[w] = w if _IDENT.match(w) and w.lower() not in _RESERVED else alias
    lines = ["sequenceDiagram"]
    if title:
        # the lexer ends a title at '#', ';' or a newline, and entity codes are '#...;': substitute
        clean = " ".join(title.replace("#", "No.").replace(";", ",").replace("%", " pct").split())
        lines.append(f"    title {clean}")
    lines.append("    participant C as Clock")
    for w in workers:
        lines.append(f"    participant {ids[w]}" + ("" if ids[w] == w else f" as {_esc(w)}"))
    lines += ["    participant Q as Queue (SQLite)", "    participant L as Ledger (outside world)"]
    all_rows = rows(trace, ledger)
    kinds, labels = _job_kinds(trace), _effect_labels(all_rows)
    for i, r in enumerate(all_rows):
        w = ids.get(r.worker or "", "")
        jt = f"j{r.job} t{r.token}"
        if r.kind == "clock":
            m = re.match(r"clock \+(\S+) s", r.text)
            lines.append(f"    Note over C: t={r.clock:g}" + (f" (+{m.group(1)} s)" if m else " (drain)"))
        elif r.kind == "enqueue":
            lines.append(f"    Note over Q: {_esc(r.text)}")
        elif not w:
            continue  # a row for a worker not in ``workers``: nothing to draw it on
        elif r.kind == "effect":
            arrow = "-x" if r.outcome == "stale" else "->>"
            text = f"{kinds.get(r.job or 0, 'effect')} {jt} · {labels[i]}"
            lines.append(f"    {w}{arrow}L: {_esc(text)}")
        elif r.kind in _SIGNAL_NOTE:
            where = f" at {r.text.rsplit(' at ', 1)[1]}" if r.kind in ("kill", "pause") and " at " in r.text else ""
            lines.append(f"    Note over {w}: {_esc(_SIGNAL_NOTE[r.kind] + where)}")
        elif r.kind == "crash":
            lines.append(f"    Note over {w}: {_esc(r.text)}")
        elif r.kind == "checkpoint":
            name = r.text.split()[0]
            if name == "leased":
                lines.append(f"    {w}->>Q: {_esc(f'lease j{r.job} → token {r.token}')}")
            elif name == "committed":
                lines.append(f"    {w}->>Q: {_esc(f'commit {jt} ✓')}")
            elif name == "extended":
                lines.append(f"    {w}->>Q: {_esc(f'heartbeat: extend {jt}')}")
            elif name in ("enqueued", "acked"):
                lines.append(f"    {w}->>Q: {_esc(f'{name} {jt}')}")
            elif name in ("abandoned", "failed"):
                lines.append(f"    {w}-xQ: {_esc(f'{name} {jt}')}")
    for v in violations:
        lines.append(f"    Note over C,L: {_esc(_violation_summary(v))}")
    return "\n".join(collapse_cycles(lines)) + "\n"


def collapse_cycles(lines: list[str], longest: int = 12, keep: int = 2) -> list[str]:
    """Fold a run of identical blocks (lines equal once their numbers are ignored: tokens,
    attempts, clock) into ``keep`` copies and a note saying how many more there were. A
    retry storm of a thousand leases stays a readable diagram."""
    shape = [re.sub(r"\d+(\.\d+)?", "#", line) for line in lines]
    out: list[str] = []
    i = 0
    while i < len(lines):
        best = None
        for size in range(1, longest + 1):
            reps = 1
            while shape[i + reps * size: i + (reps + 1) * size] == shape[i: i + size] and \
                    i + (reps + 1) * size <= len(lines):
                reps += 1
            if reps > keep and (best is None or reps * size > best[0] * best[1]):
                best = (reps, size)
        if best is None:
            out.append(lines[i])
            i += 1
            continue
        reps, size = best
        out.extend(lines[i: i + keep * size])
        out.append(f"    Note over C,L: … the {size} step(s) above repeat {reps - keep} more time(s) …")
        i += reps * size
    return out


def mermaid_markdown(trace: Sequence[TraceEvent], ledger: Sequence[Effect], workers: Sequence[str],
                     violations: Sequence[Violation] = (), title: str | None = None) -> str:
    """``mermaid(...)`` in a ```mermaid fence, ready for a GitHub markdown file."""
    return "```mermaid\n" + mermaid(trace, ledger, workers, violations, title) + "```\n"


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:24px;background:#fff}
h1{font-size:18px;margin:0 0 8px}h2{font-size:15px;margin:16px 0 6px}
.verdict{padding:8px 12px;border-radius:4px;margin:8px 0}.bad{background:#fde8e8;border:1px solid #e5a3a3}
.good{background:#e6f4ea;border:1px solid #9fd3ae}.verdict ul{margin:4px 0 0 18px;padding:0}
table{border-collapse:collapse}table.meta td{padding:2px 10px 2px 0;font-size:13px}table.meta td:first-child{color:#656d76}
table.lanes{width:100%;table-layout:fixed;font:12.5px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.lanes th{background:#f6f8fa;border:1px solid #d0d7de;padding:6px;text-align:left;font-family:system-ui,sans-serif}
.lanes td{border:1px solid #d0d7de;border-top:0;border-bottom:1px solid #eef0f2;padding:2px 6px;vertical-align:top}
.lanes td.t{width:70px;text-align:right;color:#656d76;border-right:2px solid #d0d7de}.lanes td.same{color:#c0c6cc}
.lanes th.t{width:70px}
.cp{color:#1f2328}.quiet{color:#8c959f}.ev{display:inline-block;padding:1px 6px;border-radius:3px;border:1px solid}
.first{background:#e6f4ea;border-color:#9fd3ae}.again{background:#fde8e8;border-color:#d1242f;color:#a40e26;font-weight:600}
.noop{background:#eef0f2;border-color:#c8ccd0;color:#57606a}
.sig{font-weight:700;color:#8250df}.sig.kill,.sig.crash{color:#cf222e}
tr.band td{background:#fff8c5;border:1px solid #e7d77c;font-weight:600;text-align:center}
tr.enq td{background:#ddf4ff;border:1px solid #9cd0f0;text-align:center}
.legend span{margin-right:12px}
"""


def _e(text: Any) -> str:
    return _html.escape(str(text), quote=True)


def html(trace: Sequence[TraceEvent], ledger: Sequence[Effect], workers: Sequence[str],
         violations: Sequence[Violation] = (), title: str = "", meta: Mapping[str, Any] | None = None) -> str:
    """The run as one self-contained HTML page: verdict, meta, and a swimlane timeline."""
    all_rows = rows(trace, ledger)
    labels = _effect_labels(all_rows)
    lane = {w: i for i, w in enumerate(workers)}
    n = len(workers)
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{_e(title or 'run report')}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f"<h1>{_e(title or 'run report')}</h1>"]
    if violations:
        items = "".join(f"<li><b>{_e(v.invariant)}</b> violated: {_e(v.message)}</li>" for v in violations)
        out.append(f'<div class="verdict bad"><b>{len(violations)} invariant violation(s)</b><ul>{items}</ul></div>')
    else:
        out.append('<div class="verdict good"><b>all invariants held</b></div>')
    if meta:
        cells = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in meta.items())
        out.append(f'<table class="meta">{cells}</table>')
    out.append('<h2>Timeline</h2><p class="legend"><span class="ev first">applied</span>'
               '<span class="ev again">applied again</span><span class="ev noop">deduplicated / refused</span>'
               '<span class="sig">signal / restart</span><span class="quiet">quiet checkpoint</span></p>')
    out.append('<table class="lanes"><thead><tr><th class="t">clock</th>'
               + "".join(f"<th>worker {_e(w)}</th>" for w in workers) + "</tr></thead><tbody>")
    last: float | None = None
    for i, r in enumerate(all_rows):
        t_cls = "t same" if last == r.clock else "t"
        t_cell = f'<td class="{t_cls}">{r.clock:g}</td>'
        last = r.clock
        if r.worker is None or r.worker not in lane:
            cls = "band" if r.kind == "clock" else "enq"
            text = r.text.replace(" -> ", " → ")
            if r.worker is not None:
                text = f"{r.worker}: {text}"
            out.append(f'<tr class="{cls}">{t_cell}<td colspan="{max(n, 1)}">{_e(text)}</td></tr>')
            continue
        if r.kind == "effect":
            cls = {"applied": "first"}.get(r.outcome or "", "noop")
            if r.outcome == "applied" and labels[i] != "applied":
                cls = "again"
            body = f'<span class="ev {cls}">{_e(r.text)}' + (f" — {_e(labels[i])}" if cls == "again" else "") + "</span>"
        elif r.kind == "checkpoint":
            cls = "quiet" if r.text.split()[0] in QUIET else "cp"
            body = f'<span class="{cls}">{_e(r.text)}</span>'
        else:
            body = f'<span class="sig {_e(r.kind)}">{_e(r.text)}</span>'
        cells = ["<td></td>"] * n
        cells[lane[r.worker]] = f"<td>{body}</td>"
        out.append(f"<tr>{t_cell}{''.join(cells)}</tr>")
    out += ["</tbody></table>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def write_reports(out_dir: str | os.PathLike, basename: str, trace: Sequence[TraceEvent], ledger: Sequence[Effect],
                  workers: Sequence[str], violations: Sequence[Violation] = (), title: str = "",
                  meta: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Write ``<basename>.html`` and ``<basename>.mmd`` under ``out_dir``; return their paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {"html": os.path.join(out_dir, f"{basename}.html"), "mmd": os.path.join(out_dir, f"{basename}.mmd")}
    texts = {"html": html(trace, ledger, workers, violations, title, meta),
             "mmd": mermaid(trace, ledger, workers, violations, title or None)}
    for key, path in paths.items():
        with open(path, "w", encoding="utf-8") as f:
            f.write(texts[key])
    return paths
