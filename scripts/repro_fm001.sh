#!/usr/bin/env bash
# FM_001 - duplicate execution after lease timeout, on real worker processes.
#   scripts/repro_fm001.sh [--variant expire|slow|pause|kill] [--kill WORKER:CHECKPOINT]
# Exit 0 when the naive run applies the effect twice and the fenced run exactly once.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/repro.sh" FM_001 "$@"
