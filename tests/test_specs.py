"""The docs are the source of truth: every failure mode is in the catalog, and every spec's embedded
minimal counterexample is the one the explorer finds today."""

from __future__ import annotations

import os
import re

import pytest

from failure_modes import catalog
from harness.counterexample import BEGIN, END, embed, minimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("entry", catalog.entries(), ids=lambda e: e.id)
def test_spec_embeds_the_current_minimal_counterexample(entry):
    path = os.path.join(ROOT, entry.spec)
    text = open(path).read()
    assert BEGIN in text and END in text, f"{entry.spec} has no counterexample block"
    assert embed(text, minimal(entry.scenario)) == text, (
        f"{entry.spec} is out of date: run scripts/embed_counterexamples.py {entry.id}")


@pytest.mark.parametrize("entry", catalog.entries(), ids=lambda e: e.id)
def test_every_failure_mode_is_indexed_and_cites_its_invariant(entry):
    index = open(os.path.join(ROOT, "docs", "03_failure_modes.md")).read()
    assert entry.folder in index
    spec = open(os.path.join(ROOT, entry.spec)).read()
    assert entry.scenario.invariant in spec
    invariants = open(os.path.join(ROOT, "docs", "01_invariants.md")).read()
    assert re.search(rf"\b{entry.scenario.invariant}\b", invariants)
