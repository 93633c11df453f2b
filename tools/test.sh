#!/usr/bin/env bash
# Installs what intentstream needs (Debian bookworm), builds it, runs every test, then
# builds the stream-processing tests under AddressSanitizer + UndefinedBehaviorSanitizer
# and runs them again, then builds the fuzz targets with clang and runs each for a bounded
# time on its corpus. Exits non-zero on the first failure (a fuzzer crash included).
#
#   bash tools/test.sh              # everything
#   SKIP_SANITIZERS=1 bash tools/test.sh
#   SKIP_FUZZ=1 bash tools/test.sh
#   FUZZ_SECONDS=300 bash tools/test.sh   # longer fuzzing (default 45 s per target)
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
  # Every test labelled `sanitize` (tests/CMakeLists.txt: decode, state, Kafka, HTTP,
  # lookups, crash safety, fault injection, the fuzz corpora) and what those tests run;
  # the LibTorch model is covered by the first run.
  cmake --build build-asan -j "$jobs" --target intentstream_sanitize_tests
  step "tests under sanitizers"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  ctest --test-dir build-asan --output-on-failure --no-tests=error -j 2 -L sanitize
fi

if [ "${SKIP_FUZZ:-0}" != "1" ]; then
  fuzz_seconds=${FUZZ_SECONDS:-45}
  step "build the fuzz targets (clang, libFuzzer, ASan + UBSan)"
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++-14 -DINTENTSTREAM_FUZZ=ON \
    -DINTENTSTREAM_BUILD_TESTS=OFF -DINTENTSTREAM_BUILD_BENCH=OFF
  cmake --build build-fuzz -j "$jobs" --target intentstream_fuzzers
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
  export LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  for seeds in tests/fuzz/corpus/*/; do
    name=$(basename "$seeds")
    step "fuzz $name for ${fuzz_seconds} s"
    # New inputs go to a scratch corpus, crashers to build-fuzz/artifacts/; add a
    # crasher to tests/fuzz/regressions/$name/ with its fix.
    mkdir -p "build-fuzz/corpus/$name" build-fuzz/artifacts
    regressions=()
    if [ -d "tests/fuzz/regressions/$name" ]; then regressions=("tests/fuzz/regressions/$name"); fi
    if ! "build-fuzz/tests/fuzz/$name" -max_total_time="$fuzz_seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$name-" \
      "build-fuzz/corpus/$name" "$seeds" "${regressions[@]}" > "build-fuzz/$name.log" 2>&1; then
      tail -n 80 "build-fuzz/$name.log"
      echo "fuzz: $name failed; the input is in build-fuzz/artifacts/ (log: build-fuzz/$name.log)"
      exit 1
    fi
    grep -E '^(Done|stat::(number_of_executed_units|new_units_added|peak_rss_mb))' \
      "build-fuzz/$name.log"
  done
fi
step "all tests passed"
