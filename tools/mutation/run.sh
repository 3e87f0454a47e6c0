#!/usr/bin/env bash
# Mutation testing of host/src folders with Stryker (too slow for every CI run):
#   npm run mutation -- numerics [tlmm quant golden image]
# One folder at a time; reports go to build/mutation/<folder>.{json,html} and the log to
# build/mutation/<folder>.log. docs/measurements.md records the scores and every survivor.
# Incremental: build/mutation/<folder>.incremental.json keeps the results, so a re-run after new
# tests re-tests only what changed (STRYKER_ARGS=--force re-tests everything). Runs at nice 10: the
# machine is shared. TELLME_MUTATE_TESTS=a.test.ts,b.test.ts runs only those tests (default: the
# folder's set in folders.mjs).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -eq 0 ]; then set -- numerics tlmm quant golden image; fi
mkdir -p build/mutation
for folder in "$@"; do
  echo "== mutation testing host/src/$folder"
  TELLME_MUTATE="$folder" nice -n 10 npx stryker run tools/mutation/stryker.config.mjs ${STRYKER_ARGS:-} 2>&1 | tee "build/mutation/$folder.log"
done
