#!/usr/bin/env bash
# Set up .venv if missing, install the project with its test extra, run pytest.
# Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
cd "$ROOT"
exec "$PY" -m pytest "$@"
