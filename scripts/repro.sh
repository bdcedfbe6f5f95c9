#!/usr/bin/env bash
# Demo any failure mode: scripts/repro.sh FM_XXX [--variant V] [--kill WORKER:CHECKPOINT]
# Runs it on real worker processes under the naive policy and under its fix,
# prints both timelines and verdicts. Exit 0 when naive shows the failure and the fix prevents it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
cd "$ROOT"
exec "$PY" -m harness.demo "$@"
