#!/usr/bin/env bash
# Installs, builds and runs every test: the release build, then the same suite under
# AddressSanitizer + UndefinedBehaviorSanitizer (skip that pass with CACHEFWD_SKIP_ASAN=1), then
# every libFuzzer target for a bounded time (CACHEFWD_FUZZ_SECONDS per target, default 30; skip
# with CACHEFWD_SKIP_FUZZ=1; scripts/fuzz.sh alone for long runs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
echo "== tests (release build)"
ctest --test-dir build --output-on-failure -j2 --timeout 180
if [[ "${CACHEFWD_SKIP_ASAN:-0}" != 1 ]]; then
  echo "== tests (ASan + UBSan build)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCACHEFWD_SANITIZE=ON -DCACHEFWD_BUILD_BENCH=OFF \
    -DCACHEFWD_WERROR=ON $(command -v ccache >/dev/null && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache) >/dev/null
  cmake --build build-asan -j"$(nproc)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j2 --timeout 300
fi
if [[ "${CACHEFWD_SKIP_FUZZ:-0}" != 1 ]]; then
  echo "== fuzzing (libFuzzer, ${CACHEFWD_FUZZ_SECONDS:-30} s per target)"
  # A fixed seed: a finding in CI is reproduced by the same command here.
  FUZZ_SEED="${CACHEFWD_FUZZ_SEED:-1}" FUZZ_JOBS="$(nproc)" scripts/fuzz.sh "${CACHEFWD_FUZZ_SECONDS:-30}"
fi
