#!/usr/bin/env bash
# Fast smoke test of the demo-model trainer (< 60 s on one H200; ~1-2 min on a laptop CPU).
# Usage (from the repository root):  bash tools/train-demo-model/smoke.sh DATA OUTDIR
#   DATA   tinyshakespeare.txt (default .device/data/tinyshakespeare.txt)
#   OUTDIR where to write (default /tmp/tellme-tdm-smoke); overwritten
#   env BUNDLE=FILE.tar.gz  also pack OUTDIR (without master/) into FILE (how results leave a lent GPU machine)
# Runs the CPU unit tests, then a tiny training run with the same code path as the real one
# (tokenizer, HF BitNetForCausalLM + fake-quant QAT, export of packed/ and master/, verification with
# transformers). Exit status is the trainer's: 0 ok, 2 verification failed, 1 error.
set -euo pipefail
DATA="${1:-.device/data/tinyshakespeare.txt}"
OUTDIR="${2:-/tmp/tellme-tdm-smoke}"
PY="${PYTHON:-python3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
echo "== unit tests"
"$PY" "$HERE/test_local.py" 2>&1 | tail -n 4
echo "== tiny training run -> $OUTDIR"
"$PY" "$HERE/train.py" --data "$DATA" --out "$OUTDIR" --force \
  --data-limit-chars 300000 --vocab-size 1024 --layers 2 --hidden 128 --heads 4 --kv-heads 2 --ffn 256 \
  --max-pos 128 --seq-len 128 --batch-size 16 --warmup 20 --eval-every 25 --time-budget-s 15 \
  --plateau-min-step 0 --min-decay-steps 20 --gen-tokens 40 \
  --recipe-command "bash tools/train-demo-model/smoke.sh (tiny smoke configuration)" \
  ${BUNDLE:+--bundle "$BUNDLE"}
