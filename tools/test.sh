#!/usr/bin/env bash
# Installs what intentstream needs (Debian bookworm), builds it, runs every test, then
# builds the stream-processing tests under AddressSanitizer + UndefinedBehaviorSanitizer
# and runs them again. Exits non-zero on the first failure.
#
#   bash tools/test.sh            # everything
#   SKIP_SANITIZERS=1 bash tools/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh

jobs=$(nproc)
step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "format (clang-format, .clang-format at the root)"
if git rev-parse --git-dir > /dev/null 2>&1; then
  git ls-files '*.cc' '*.h'
else
  find src tests tools -name '*.cc' -o -name '*.h'
fi | xargs clang-format --dry-run --Werror

step "build (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$jobs"

step "tests"
ctest --test-dir build --output-on-failure --no-tests=error -j 2

if [ "${SKIP_SANITIZERS:-0}" != "1" ]; then
  step "build with AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DINTENTSTREAM_SANITIZE=ON \
    -DINTENTSTREAM_BUILD_BENCH=OFF
  # The stream-processing tests (decode, state, Kafka, HTTP, crash safety) and the
  # processor binary the crash test runs; the LibTorch model is covered by the first run.
  cmake --build build-asan -j "$jobs" --target unit_tests pipeline_test crash_test intentstream
  step "tests under sanitizers"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  ctest --test-dir build-asan --output-on-failure --no-tests=error -j 2 \
    -R '^(Kafka|Fnv|CategoryFromPath|HashQuery|ToSessionEvent|Decoder|WireFormat|Sessionization|Window|Merge|Offers|Config|Store|Keys|BatchProcessor|HttpServer|ProcessorProbe|ExpiryFilter|VisitorTable|Pipeline|CrashSafety)'
fi
step "all tests passed"
