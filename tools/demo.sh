#!/usr/bin/env bash
# The demo: the bundled small model, generated text from the bit-accurate golden model.
# Run through `make demo` (which installs dependencies and builds the CLI first).
set -euo pipefail
cd "$(dirname "$0")/.."
tellme() { node host/bin/tellme.js "$@"; }

model=""
for m in models/*/; do
  [ -f "$m/config.json" ] && model="${m%/}" && break
done
if [ -z "$model" ]; then
  # No trained model committed yet: generate a small random BitNet checkpoint instead.
  model=build/demo-model
  echo "== no bundled model under models/: generating a random test model in $model"
  tellme make-test-model --preset bitnet-tiny-packed --out "$model" --force
fi

echo "== the checkpoint"
tellme inspect --model "$model"
echo
echo "== golden model (bit-accurate accelerator model), greedy"
tellme generate --model "$model" --prompt "${DEMO_PROMPT:-ROMEO:}" --max-new-tokens "${DEMO_TOKENS:-120}" --stats
