#!/usr/bin/env bash
# The demo: the bundled small model (models/tellme-shakespeare-6l), planned for the KV260,
# converted into a model image, uploaded to the virtual board (the C firmware over the simulated
# accelerator, as a board over its serial console) which streams the text; then its tokens are
# checked against the bit-accurate golden model's. Run through `make demo` (which installs
# dependencies and builds the CLI and the virtual board first).
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
prompt=${DEMO_PROMPT:-ROMEO:}
tokens=${DEMO_TOKENS:-100}
sampled=(--prompt "KING HENRY" --max-new-tokens 80 --temperature 0.8 --top-k 40 --seed 7)
echo "== 4. the virtual board (the C firmware over the simulated accelerator, sim/) streams the text: greedy"
tellme generate --sim csim --model "$image" --prompt "$prompt" --max-new-tokens "$tokens" --stats
echo
echo "== 5. sampled on the virtual board (temperature 0.8, top-k 40, seed 7): a seed reproduces the text on any backend"
tellme generate --sim csim --model "$image" "${sampled[@]}" --stats
echo
echo "== 6. the board's tokens are the golden model's (bit-accurate accelerator model, host/src/golden)"
ids() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).ids.join(",")))'; }
for run in greedy sampled; do
  if [ "$run" = greedy ]; then args=(--prompt "$prompt" --max-new-tokens "$tokens"); else args=("${sampled[@]}"); fi
  board=$(tellme generate --sim csim --model "$image" "${args[@]}" --json | ids)
  golden=$(tellme generate --model "$image" "${args[@]}" --json | ids)
  if [ "$board" != "$golden" ]; then
    echo "$run: the virtual board's tokens differ from the golden model's" >&2
    echo "  board:  $board" >&2
    echo "  golden: $golden" >&2
    exit 1
  fi
  echo "$run: identical, $(tr ',' '\n' <<< "$board" | wc -l) tokens"
done
