#!/usr/bin/env bash
# The TypeScript reference board as a virtual-board executable (docs/protocol.md §11); tests set
# TELLME_VBOARD to this file until the C virtual board (sim/) exists.
exec node --import tsx "$(dirname "$0")/ts-vboard.ts" "$@"
