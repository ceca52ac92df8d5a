#!/usr/bin/env bash
# Installs the Debian packages BinQ builds and runs with, when any is missing.
# Sourced by scripts/test.sh and scripts/quickstart.sh.
set -euo pipefail

BINQ_PACKAGES=(
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools clang-22 lld-22
  libclang-rt-22-dev
  cmake ninja-build libgtest-dev libbenchmark-dev libopenblas-dev python3
)

binq_install_deps() {
  local missing=()
  for package in "${BINQ_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$package")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "== installing: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
}

# Configures BinQ in $1 with extra CMake arguments.
binq_configure() {
  local dir="$1"
  shift
  cmake -S . -B "$dir" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=/usr/lib/llvm-22/bin/clang \
    -DCMAKE_CXX_COMPILER=/usr/lib/llvm-22/bin/clang++ \
    -DLLVM_USE_LINKER=lld "$@"
}

# Configures and builds BinQ in $1 (default: build/).
binq_build() {
  local dir="${1:-build}"
  shift || true
  binq_configure "$dir" "$@"
  cmake --build "$dir"
}
