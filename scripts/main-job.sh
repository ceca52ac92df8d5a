#!/usr/bin/env bash
# The main job on the bundled checkpoints: compile a float BERT, a TWS-split
# BinaryBERT W1A8 and a BiBERT W1A1 to native libraries with bq-compile, run
# each on examples/input.json with bq-run, and print the outputs, the size
# report and the latency against the float model. Builds nothing: it expects
# the tools in $BUILD_DIR/bin (default build/bin; `bash scripts/test.sh` or
# `bash scripts/quickstart.sh` builds them).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BIN=$BUILD_DIR/bin
REPEAT=${REPEAT:-200}
OUT=$BUILD_DIR/main-job
for tool in bq-compile bq-run; do
  [ -x "$BIN/$tool" ] || { echo "main-job: $BIN/$tool not found (build first, or set BUILD_DIR)" >&2; exit 1; }
done
mkdir -p "$OUT"

models="tiny-bert tiny-binarybert-tws tiny-bibert"
declare -A latency
for m in $models; do
  echo "=============================================================="
  echo "== $m: bq-compile examples/$m -o $OUT/$m.so --report"
  echo "=============================================================="
  "$BIN/bq-compile" "examples/$m" -o "$OUT/$m.so" --report --quiet > "$OUT/$m.report"
  echo "-- size report (totals; full report in $OUT/$m.report)"
  grep -E '^(model|bits|total|exact|full precision|savings):? ' "$OUT/$m.report"
  echo "-- bq-run $OUT/$m.so --input examples/input.json"
  "$BIN/bq-run" "$OUT/$m.so" --input examples/input.json --output "$OUT/$m.json"
  cat "$OUT/$m.json"
  echo "-- bq-run --repeat $REPEAT"
  "$BIN/bq-run" "$OUT/$m.so" --input examples/input.json --quiet \
    --repeat "$REPEAT" 2> "$OUT/$m.time"
  cat "$OUT/$m.time"
  latency[$m]=$(awk '/median latency/ { print $4 }' "$OUT/$m.time")
  [ -n "${latency[$m]}" ] || { echo "main-job: no latency from bq-run" >&2; exit 1; }
  echo
done

echo "=============================================================="
echo "== speed against float (median of $REPEAT runs, batch 2 x 8 tokens)"
echo "=============================================================="
printf '%-22s %12s %12s\n' model "latency ms" "speed-up"
for m in $models; do
  awk -v m="$m" -v t="${latency[$m]}" -v f="${latency[tiny-bert]}" \
    'BEGIN { printf "%-22s %12.5f %11.2fx\n", m, t, f / t }'
done
