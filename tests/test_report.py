"""Run reports (harness.report): the Mermaid sequence diagram and the HTML swimlane page."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser

import pytest

from failure_modes.FM_001_duplicate_execution_after_lease_timeout.scenario import SCENARIO
from harness import report

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr"}


class _TagChecker(HTMLParser):
    """Counts tags and checks that every non-void element is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


@pytest.fixture(scope="module")
def paused_naive_run():
    # Given FM_001's 'pause' variant run under 'naive' on real worker processes
    run = SCENARIO.run("naive", "pause")
    assert run.violated("INV_001"), "the naive pause variant must reproduce the duplicate"
    return run


def test_mermaid_tells_the_duplicate_story(paused_naive_run):
    run = paused_naive_run
    # When the run is rendered as a Mermaid sequence diagram
    text = report.mermaid(run.trace, run.ledger, run.workers, run.violations, title="FM_001 pause; naive")
    lines = [line.strip() for line in text.splitlines()]
    # Then it is a sequence diagram with both workers and the three fixed participants
    assert text.startswith("sequenceDiagram\n") and "```" not in text
    for participant in ("participant A", "participant B", "participant Q as Queue (SQLite)",
                        "participant L as Ledger (outside world)", "participant C as Clock"):
        assert participant in lines
    # and it shows the SIGSTOP, the clock jump, both leases and both applied effects for job 1
    assert any(line.startswith("Note over A: SIGSTOP") for line in lines)
    assert "Note over C: t=31 (+31 s)" in lines
    assert "A->>Q: lease j1 → token 1" in lines and "B->>Q: lease j1 → token 2" in lines
    applied = [line for line in lines if re.match(r"[AB]->>L: charge j1 t\d .*applied", line)]
    assert len(applied) == 2 and "AGAIN" in applied[1]
    assert "B->>Q: commit j1 t2 ✓" in lines and "A-xQ: abandoned j1 t1" in lines
    # and a final note for INV_001; noise checkpoints are left out and ';' never reaches the parser raw
    assert lines[-1].startswith("Note over C,L: INV_001 violated: job 1 applied 2 times")
    arrows = [line for line in lines if "->>" in line or "-x" in line]
    assert not any(cp in line for line in arrows for cp in ("poll", "before_effect", "after_effect", "before_commit"))
    assert len(arrows) == 6  # 2 leases, 2 effects, 1 commit, 1 abandon, and nothing else

    assert all(";" not in line or "#" in line for line in lines[1:])  # only inside entity codes
    assert "title FM_001 pause, naive" in lines
    # and the markdown form is the same text in a mermaid fence
    md = report.mermaid_markdown(run.trace, run.ledger, run.workers, run.violations, title="FM_001 pause; naive")
    assert md == "```mermaid\n" + text + "```\n"


def test_mermaid_escapes_what_mermaid_would_parse():
    # Given message text with characters Mermaid's lexer treats specially
    # When it is escaped
    out = report._esc('a;b#c"d<e>f%g\nh')
    # Then none of them survive raw, and each became an entity code
    assert out == "a#59;b#35;c#quot;d#lt;e#gt;f#37;g h"


def test_html_is_a_self_contained_swimlane_page(paused_naive_run):
    run = paused_naive_run
    meta = {"scenario": SCENARIO.name, "variant": run.variant, "policy": run.policy, "steps": len(run.steps)}
    # When the run is rendered as HTML
    page = report.html(run.trace, run.ledger, run.workers, run.violations, title="FM_001 <pause> & naive", meta=meta)
    # Then it has a lane per worker, the violated invariant with its message, and the meta table
    assert "<th>worker A</th>" in page and "<th>worker B</th>" in page
    assert "<b>INV_001</b> violated" in page and "applied 2 times" in page
    assert "all invariants held" not in page
    assert "<td>policy</td><td>naive</td>" in page
    # and the clock jump band, the pause marker, and one first and one repeated application
    assert "clock +31 s → t=31" in page and "PAUSE (SIGSTOP)" in page
    assert page.count('class="ev first"') == 2 and page.count('class="ev again"') == 2  # legend + row each
    # and text is escaped, and nothing is loaded from anywhere
    assert "FM_001 &lt;pause&gt; &amp; naive" in page and "<pause>" not in page
    assert "<script" not in page and "http" not in page and "<link" not in page and "@import" not in page
    # and the markup is balanced enough for HTMLParser to consume it
    checker = _TagChecker()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    assert {"html", "head", "body", "table", "style"} <= set(checker.tags)


def test_html_says_all_invariants_held_when_none_were_violated(paused_naive_run):
    run = paused_naive_run
    # When the same trace is rendered with no violations
    page = report.html(run.trace, run.ledger, run.workers, [], title="t")
    # Then the verdict says so
    assert "all invariants held" in page and "violated" not in page


def test_write_reports_creates_both_files(paused_naive_run, tmp_path):
    run = paused_naive_run
    # When the reports are written under a directory that does not exist yet
    out = tmp_path / "reports"
    paths = report.write_reports(out, "fm001_pause_naive", run.trace, run.ledger, run.workers, run.violations,
                                 title="FM_001 pause", meta={"policy": run.policy})
    # Then both files exist there, and hold what the renderers return
    assert set(paths) == {"html", "mmd"}
    assert paths["html"] == os.path.join(out, "fm001_pause_naive.html")
    assert paths["mmd"] == os.path.join(out, "fm001_pause_naive.mmd")
    with open(paths["mmd"], encoding="utf-8") as f:
        assert f.read() == report.mermaid(run.trace, run.ledger, run.workers, run.violations, "FM_001 pause")
    with open(paths["html"], encoding="utf-8") as f:
        assert f.read() == report.html(run.trace, run.ledger, run.workers, run.violations, "FM_001 pause",
                                       {"policy": run.policy})
