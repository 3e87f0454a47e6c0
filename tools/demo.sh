#!/usr/bin/env bash
# The demo: the bundled small model (models/tellme-shakespeare-6l), planned for the KV260,
# converted into a model image, and run from that image by the bit-accurate golden model —
# the same bytes a board would get. Run through `make demo` (which installs dependencies and
# builds the CLI first).
set -euo pipefail
cd "$(dirname "$0")/.."
tellme() { node host/bin/tellme.js "$@"; }

model=models/tellme-shakespeare-6l
board=${DEMO_BOARD:-kv260}
image=build/demo/tellme-shakespeare-6l.$board.tlm
mkdir -p build/demo

echo "== 1. the checkpoint (Hugging Face format, packed like bitnet-b1.58-2B-4T)"
tellme inspect --model "$model"
echo
echo "== 2. will it fit the $board, and how fast will it run? (tellme plan; projections)"
tellme plan --model "$model" --board "$board" | awk '/^Layer/{exit} NR<=12 || /^Decode/{show=1} show'
echo
echo "== 3. convert it into a model image for the $board"
tellme convert --model "$model" --board "$board" -o "$image" --force
echo
echo "== 4. the golden model (bit-accurate accelerator model) runs the image: greedy"
tellme generate --model "$image" --prompt "${DEMO_PROMPT:-ROMEO:}" --max-new-tokens "${DEMO_TOKENS:-100}" --stats
echo
echo "== 5. sampled (temperature 0.8, top-k 40, seed 7): a seed reproduces the text on any backend"
tellme generate --model "$image" --prompt "KING HENRY" --max-new-tokens 80 --temperature 0.8 --top-k 40 --seed 7 --stats
