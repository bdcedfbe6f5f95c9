"""Regenerate the minimal-counterexample block (Mermaid + schedule) in every failure mode's spec.md.

    python scripts/embed_counterexamples.py [FM_001 ...]   # rewrite the specs
    python scripts/embed_counterexamples.py --check        # exit 1 if any spec is out of date

Each block is produced by exploring the scenario from scratch under its naive
policy and shrinking the first violation (harness/counterexample.py). The
exploration is depth first, so the block is the same on every machine.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from failure_modes import catalog  # noqa: E402
from harness.counterexample import embed, minimal  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("modes", nargs="*", help="failure modes (default: all)")
    p.add_argument("--check", action="store_true", help="only report specs that are out of date")
    args = p.parse_args(argv)
    entries = [catalog.find(m) for m in args.modes] if args.modes else catalog.entries()
    stale = []
    for e in entries:
        path = os.path.join(os.path.dirname(catalog.HERE), e.spec)
        with open(path) as f:
            text = f.read()
        new = embed(text, minimal(e.scenario))
        if new != text:
            stale.append(e.id)
            if not args.check:
                with open(path, "w") as f:
                    f.write(new)
        print(f"{e.id}: {'out of date' if new != text and args.check else 'updated' if new != text else 'up to date'}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
