"""The failure-mode catalog: every ``failure_modes/FM_XXX_<name>/scenario.py``, found on disk.

``docs/03_failure_modes.md`` is the catalog in prose. A failure mode is
addressed by its number in any common spelling (``FM_001``, ``fm001``,
``FM-001``, ``1``) or by its scenario name.
"""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass

from runtime import BadInput

HERE = os.path.dirname(os.path.abspath(__file__))
_FOLDER = re.compile(r"^FM_(\d{3})_([a-z0-9_]+)$")


@dataclass(frozen=True)
class Entry:
    id: str          # "FM_001"
    folder: str      # "FM_001_duplicate_execution_after_lease_timeout"
    module: str      # importable module of its scenario

    @property
    def spec(self) -> str:
        return f"failure_modes/{self.folder}/spec.md"

    @property
    def scenario(self):
        return importlib.import_module(self.module).SCENARIO


def entries() -> list[Entry]:
    out = []
    for name in sorted(os.listdir(HERE)):
        m = _FOLDER.match(name)
        if m and os.path.exists(os.path.join(HERE, name, "scenario.py")):
            out.append(Entry(f"FM_{m.group(1)}", name, f"failure_modes.{name}.scenario"))
    return out


def find(ref: str) -> Entry:
    """The entry for ``ref`` (``FM_001``, ``fm001``, ``1``, or a scenario name); ``BadInput`` if none."""
    m = re.fullmatch(r"(?i)(?:fm[_-]?)?0*(\d{1,3})", ref.strip())
    all_entries = entries()
    for e in all_entries:
        if (m and int(m.group(1)) == int(e.id[3:])) or ref in (e.folder, e.scenario.name):
            return e
    known = ", ".join(f"{e.id} ({e.scenario.name})" for e in all_entries)
    raise BadInput(f"unknown failure mode or scenario {ref!r}; known: {known}")
