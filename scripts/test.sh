#!/usr/bin/env bash
# Builds BinQ and runs every test: the GoogleTest unit tests and the lit
# suite (IR, transforms, lowering, execution tests), through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
binq_install_deps
binq_build build
ctest --test-dir build --output-on-failure -j2
