#!/usr/bin/env bash
# Smoke test of the transformers oracle (< 60 s on the GPU machine).
# Usage (from the repository root):  bash tools/hf-oracle/smoke.sh OUTDIR [MODEL_DIR ...]
#   OUTDIR     where to write (default /tmp/tellme-oracle-smoke); overwritten
#   MODEL_DIR  optional existing checkpoints to run the oracle on too (e.g. the smoke-trained packed/ model)
#   env BUNDLE=FILE.tar.gz  also pack OUTDIR into FILE (how results leave a lent GPU machine)
# Builds the two tiny random fixtures (packed + master), runs them on CPU and GPU, and the given models.
set -euo pipefail
OUTDIR="${1:-/tmp/tellme-oracle-smoke}"
shift || true
PY="${PYTHON:-python3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ARGS=()
for m in "$@"; do ARGS+=(--model "$m"); done
"$PY" "$HERE/hf_oracle.py" --out "$OUTDIR" --force --only tiny-h64-packed --only tiny-h64-master "${ARGS[@]}" \
  ${BUNDLE:+--bundle "$BUNDLE"}
