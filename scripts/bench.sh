#!/usr/bin/env bash
# Run a benchmark: scripts/bench.sh NAME [args]  ->  scripts/bench_NAME.py [args]
# Sets up .venv (scripts/_venv.sh) and installs the project's bench extra if needed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
NAME="${1:?usage: scripts/bench.sh NAME [args]   (e.g. scripts/bench.sh queue --jobs 5000)}"
shift
if ! "$PY" -c "import litequeue" 2>/dev/null; then
    "$PY" -m pip install -q --disable-pip-version-check -e "$ROOT[bench]" >&2
fi
cd "$ROOT"
exec "$PY" "scripts/bench_$NAME.py" "$@"
