#!/usr/bin/env bash
# The synthesisable-subset check of hls/src (issue 8 §2; hls/README.md): fails on dynamic allocation
# (new, delete, malloc/free), recursion, virtual functions and virtual calls, exceptions (throw,
# try) and standard-library class types (containers, strings, smart pointers, std::function).
#
#   hls/tools/subset-check.sh [project root] [board]
#
# It parses every hls/src/*.cpp as Vitis does, with __SYNTHESIS__ defined (so the C-simulation-only
# code under #ifndef __SYNTHESIS__ is not seen; the house style keeps only heap buffers there),
# the vendor headers replaced by declaration stand-ins (hls/tools/synth-view), and reports what is
# written in hls/src: clang-query AST matchers for the constructs, clang-tidy's misc-no-recursion
# for call cycles. Prints "file:line:col: what" per violation; exit 1 if there is any, 2 if the
# tools are missing.
set -uo pipefail
ROOT="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
BOARD="${2:-kv260}"
QUERY="$(command -v clang-query-14 || command -v clang-query || true)"
TIDY="$(command -v clang-tidy-14 || command -v clang-tidy || true)"
if [ -z "$QUERY" ] || [ -z "$TIDY" ]; then
  echo "subset-check: clang-query and clang-tidy are needed (Debian: apt-get install clang-tidy clang-tools)" >&2
  exit 2
fi
cd "$ROOT" || exit 2
shopt -s nullglob
SOURCES=(hls/src/*.cpp)
if [ ${#SOURCES[@]} -eq 0 ]; then
  echo "subset-check: no sources in $ROOT/hls/src" >&2
  exit 2
fi
FLAGS=(-std=c++17 -D__SYNTHESIS__ -Wno-unknown-pragmas -Ihls/tools/synth-view -Ihls/include -Ihls/gen -Ihls/gen/"$BOARD" -Ihls/src)
IN_SRC='isExpansionInFileMatching("(^|/)hls/src/")'
STD_CLASS='hasUnqualifiedDesugaredType(recordType(hasDeclaration(namedDecl(matchesName("^::std::")))))'
MATCHERS=(
  "cxxNewExpr($IN_SRC).bind(\"dynamic_allocation_new\")"
  "cxxDeleteExpr($IN_SRC).bind(\"dynamic_allocation_delete\")"
  "callExpr($IN_SRC, callee(functionDecl(hasAnyName(\"malloc\", \"calloc\", \"realloc\", \"free\", \"aligned_alloc\")))).bind(\"dynamic_allocation_malloc\")"
  "cxxThrowExpr($IN_SRC).bind(\"exception_throw\")"
  "cxxTryStmt($IN_SRC).bind(\"exception_try\")"
  "cxxMethodDecl($IN_SRC, isVirtual()).bind(\"virtual_function\")"
  "cxxMemberCallExpr($IN_SRC, callee(cxxMethodDecl(isVirtual()))).bind(\"virtual_call\")"
  "declaratorDecl($IN_SRC, hasType($STD_CLASS)).bind(\"std_library_type\")"
  "functionDecl($IN_SRC, returns($STD_CLASS)).bind(\"std_library_type\")"
)
ARGS=(-c "set output diag" -c "set bind-root false")
for m in "${MATCHERS[@]}"; do ARGS+=(-c "match $m"); done
out=$("$QUERY" "${ARGS[@]}" "${SOURCES[@]}" -- "${FLAGS[@]}" 2>&1)
rc=$?
violations=$(printf '%s\n' "$out" | sed -n 's/^\(.*hls\/src\/[^:]*:[0-9]*:[0-9]*\): note: "\([a-z_]*\)" binds here$/\1: \2/p' | sed 's/_/ /g' | sort -u)
if [ $rc -ne 0 ] || printf '%s\n' "$out" | grep -q ' error: '; then
  printf '%s\n' "$out" | grep ' error: ' >&2
  echo "subset-check: clang-query could not parse hls/src" >&2
  exit 2
fi
recursion=$("$TIDY" --quiet --checks='-*,misc-no-recursion' "${SOURCES[@]}" -- "${FLAGS[@]}" 2>/dev/null \
  | sed -n 's/^\(.*hls\/src\/[^:]*:[0-9]*:[0-9]*\): warning: \(.*\) \[misc-no-recursion\]$/\1: recursion: \2/p' | sort -u)
all=$(printf '%s\n%s\n' "$violations" "$recursion" | sed '/^$/d')
if [ -n "$all" ]; then
  printf '%s\n' "$all"
  echo "subset-check: $(printf '%s\n' "$all" | wc -l) construct(s) outside the synthesisable subset in hls/src" >&2
  exit 1
fi
echo "subset-check: ${#SOURCES[@]} sources in the synthesisable subset"
