#!/usr/bin/env bash
# Installs every Debian bookworm package that intentstream needs to build, test and run.
# Idempotent: when everything is present it only checks and returns.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git clang-format
  librdkafka-dev librocksdb-dev libtorch-dev libprotobuf-dev protobuf-compiler
  # libssl-dev: TLS of the HTTP endpoint, bearer-token and dead-letter digests (OpenSSL).
  prometheus-cpp-dev libcpp-httplib-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  # SQLite's FTS5 (bm25) indexes the catalogue's product documents for grounded messages.
  libsqlite3-dev
  # xgboost's C API: the gradient-boosted baseline of the offer model's trainer.
  libxgboost-dev
  kcat prometheus gnuplot-nox curl python3 python3-yaml
  # JSON that is not a protobuf (the catalogue's files), and tool flags.
  nlohmann-json3-dev libcli11-dev
  # The fuzz step of tools/test.sh: clang with libFuzzer and the sanitizer runtimes.
  clang libclang-rt-14-dev
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
