#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang + ASan + UBSan, in build-fuzz/) and runs each for
# a bounded time, starting from its seed corpus (tests/fuzz/corpus/<target>/) with the HTTP
# dictionary. Prints, per target, executions, coverage (cov = edges, ft = features, from
# libFuzzer's final stats) and findings; exits non-zero when any target crashed, leaked, timed out
# or ran out of memory. Crashing inputs are kept in build-fuzz/fuzz-artifacts/<target>/.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
# Environment: FUZZ_SEED=N (default 0: random) makes a run repeatable; FUZZ_JOBS=N runs N targets at a time (default 1); FUZZ_CPUS=LIST pins the runs
# to those CPUs (taskset -c LIST); FUZZ_OUT=DIR puts the logs there (default build-fuzz/fuzz-runs).
# The corpus each run grows is kept in build-fuzz/fuzz-corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
jobs=${FUZZ_JOBS:-1}
seed=${FUZZ_SEED:-0}  # 0: libFuzzer picks one; CI fixes it so a finding there reproduces here

scripts/install-deps.sh --fuzz
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCACHEFWD_FUZZ=ON \
  -DCACHEFWD_BUILD_TESTS=OFF -DCACHEFWD_BUILD_BENCH=OFF -DCACHEFWD_WERROR=ON "${launcher[@]}" >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_targets

targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in tests/fuzz/*_fuzz.cpp; do
    n=$(basename "$f" _fuzz.cpp)
    targets+=("$n")
  done
fi

out=${FUZZ_OUT:-build-fuzz/fuzz-runs}
rm -rf "$out"
mkdir -p "$out"
pin=()
[[ -n "${FUZZ_CPUS:-}" ]] && pin=(taskset -c "$FUZZ_CPUS")

run_one() {
  local t=$1
  local work=build-fuzz/fuzz-corpus/$t art=build-fuzz/fuzz-artifacts/$t/ rc
  mkdir -p "$work" "$art" "tests/fuzz/corpus/$t"
  # -timeout: one input taking this long is a finding (a hang); -rss_limit_mb: so is a blow-up.
  # The seed directory comes second: read, never written.
  "${pin[@]}" "build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 -seed="$seed" \
    -dict=tests/fuzz/http.dict -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$art" \
    "$work" "tests/fuzz/corpus/$t" >"$out/$t.log" 2>&1 && rc=0 || rc=$?
  echo "$rc" >"$out/$t.rc"
}

running=0
for t in "${targets[@]}"; do
  if [[ ! -x build-fuzz/tests/fuzz/fuzz_$t ]]; then
    echo "fuzz.sh: no target $t" >&2
    exit 2
  fi
  run_one "$t" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

failed=0
printf '%-20s %12s %8s %8s %8s  %s\n' target executions exec/s cov ft findings
for t in "${targets[@]}"; do
  log=$out/$t.log
  rc=$(cat "$out/$t.rc" 2>/dev/null || echo 99)
  # `|| true`: a run that crashed on its first input prints no cov/ft line, and under pipefail a
  # grep that finds nothing would end the script before the summary says which target failed.
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | awk '{print $2}' | tail -1 || true)
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | awk '{print $2}' | tail -1 || true)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}' || true)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | awk '{print $2}' || true)
  finding=none
  skipped=$(grep -m1 -oE 'SKIPPED: .*' "$log" || true)
  [[ -n "$skipped" ]] && finding=$skipped
  if [[ "$rc" != 0 ]]; then
    failed=1
    finding=$(grep -m1 -oE '(ERROR|WARNING): [A-Za-z]+: [^(]*|runtime error: .*|deadly signal|Test unit written to .*' "$log" || true)
    finding="rc=$rc ${finding:-see $log}"
  fi
  printf '%-20s %12s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$finding"
  if [[ "$rc" != 0 ]]; then
    grep -m1 -A12 -E '==[0-9]+==ERROR|runtime error|deadly signal' "$log" | sed 's/^/    /' || true
    ls "build-fuzz/fuzz-artifacts/$t/" | sed 's/^/    artifact: /' || true
  fi
done
exit $failed
