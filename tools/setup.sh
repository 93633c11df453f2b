#!/usr/bin/env bash
# Installs every Debian bookworm package that intentstream needs to build, test and run.
# Idempotent: when everything is present it only checks and returns.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git clang-format
  librdkafka-dev librocksdb-dev libtorch-dev libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev libcpp-httplib-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev
  kcat prometheus gnuplot-nox curl python3 python3-yaml
  # Debian's LibTorch calls the generic libblas.so.3; without OpenBLAS that is the
  # reference BLAS and matrix products run ~20x slower.
  libopenblas0-openmp
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
