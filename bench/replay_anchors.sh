#!/usr/bin/env bash
# Reproduces shared/traces/ANCHORS.md §1a with `cachefwd replay --simulate` and measures the
# simulator's throughput.
#
#   bench/replay_anchors.sh                 # builds a Release cachefwd in $BUILD_DIR, then runs
#   CACHEFWD=/path/to/cachefwd bench/replay_anchors.sh   # uses that binary
#
# 1. Miss counts and missed bytes on cloudphysics_sample.oracleGeneral.bin at 128 MiB..1 GiB are
#    compared with libCacheSim's test fixture (1a1a11a/libCacheSim test/test_evictionAlgo.c, the
#    numbers behind ANCHORS.md §1a). LRU, FIFO and Belady must match exactly (exit 1 otherwise);
#    S3-FIFO (as published = libCacheSim S3FIFOv0, the §1a row), SIEVE and s3fifo-warm (libCacheSim's
#    current S3FIFO.c) are reported against their fixture rows.
# 2. Requests/second of each policy's simulation (simulator time only, reading excluded), pinned
#    with `taskset -c $CPU`, median of 3 runs, on the decompressed scarab trace (1.25 M requests,
#    10% of its objects) and on the CloudPhysics sample at 256 MiB.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
traces=${TRACES:-$repo/../shared/traces}
build=${BUILD_DIR:-$repo/../build-release}
cpu=${CPU:-1}
runs=${RUNS:-3}

if [[ -z "${CACHEFWD:-}" ]]; then
  # -Wno-error=restrict: GCC 12 at -O3 reports a false -Wrestrict inside libstdc++'s string code
  # for `"literal" + std::string` (GCC bug 105329); -O3 is what the figures are for.
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-Wno-error=restrict >/dev/null
  cmake --build "$build" --target cachefwd -j2 >/dev/null
  CACHEFWD=$build/cmd/cachefwd
fi
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp_trace=$traces/cloudphysics_sample.oracleGeneral.bin
"$CACHEFWD" replay --simulate "$cp_trace" --cache-size 128MiB,256MiB,384MiB,512MiB,640MiB,768MiB,896MiB,1024MiB \
  --policy lru,fifo,s3fifo,s3fifo-warm,sieve,belady --json "$tmp/anchors.json" --quiet

python3 - "$tmp/anchors.json" <<'PY'
import json, sys
# libCacheSim test/test_evictionAlgo.c: miss_cnt_true / miss_byte_true per algorithm, 128 MiB steps.
fixture = {
  "lru":    ([93374, 89783, 83572, 81722, 72494, 72104, 71972, 71704],
             [4214303232, 4061242368, 3778040320, 3660569600, 3100927488, 3078128640, 3075403776, 3061662720]),
  "fifo":   ([93403, 89386, 84387, 84025, 72498, 72228, 72182, 72140],
             [4213112832, 4052646400, 3829170176, 3807412736, 3093146112, 3079525888, 3079210496, 3077547520]),
  "belady": ([79256, 70724, 65481, 61594, 59645, 57599, 50873, 48974],
             [3472532480, 2995165696, 2726689792, 2537648128, 2403427840, 2269212672, 2134992896, 2029769728]),
  "s3fifo": ([89307, 82387, 77041, 76791, 71300, 70343, 70455, 70355],
             [4040718336, 3703628800, 3353047552, 3282235904, 3038256128, 2980646912, 2984458752, 2979649536]),
  "s3fifo-warm": ([90117, 80915, 75060, 72191, 69815, 65542, 60799, 56045],
             [4058576896, 3573827584, 3244417024, 3061737984, 2898109952, 2628363776, 2425027072, 2327934464]),
  "sieve":  ([91699, 86720, 78578, 76707, 69945, 66221, 64445, 64376],
             [4158632960, 3917211648, 3536227840, 3455379968, 3035580416, 2801699328, 2699456000, 2696345600]),
}
must_match = {"lru", "fifo", "belady"}
res = json.load(open(sys.argv[1]))
assert res["requests"] == 113872, res["requests"]
got = {}
for r in res["results"]:
    got.setdefault(r["policy"], []).append(r)
failed = False
print("ANCHORS.md §1a, cloudphysics_sample.oracleGeneral.bin (113,872 requests): misses / missed bytes")
print(f"{'policy':<12} {'size':>8}  {'misses':>7} {'fixture':>7}  {'miss ratio':>10}  {'byte miss':>9}  match")
for policy, (misses, mbytes) in fixture.items():
    rows = got[policy]
    ok_all = True
    for i, r in enumerate(rows):
        ok = r["misses"] == misses[i] and r["bytes_missed"] == mbytes[i]
        ok_all &= ok
        print(f"{policy:<12} {r['cache_size']:>8}  {r['misses']:>7} {misses[i]:>7}  {r['miss_ratio']:>10.4f}  "
              f"{r['byte_miss_ratio']:>9.4f}  {'exact' if ok else 'DIFFERS'}")
    if policy in must_match and not ok_all:
        failed = True
    print(f"  -> {policy}: {'all 8 sizes exact' if ok_all else 'MISMATCH'}")
sys.exit(1 if failed else 0)
PY

if ! command -v taskset >/dev/null; then echo "taskset not found: throughput not measured" >&2; exit 0; fi
xz -dc "$traces/scarab-recs.trace.xz" >"$tmp/scarab.bin"
echo
echo "Simulation throughput (requests/s of simulator time, taskset -c $cpu, median of $runs)"
for policy in lru fifo sieve s3fifo belady; do
  for spec in "scarab:$tmp/scarab.bin:10%" "oracle-general:$cp_trace:256MiB"; do
    IFS=: read -r fmt file size <<<"$spec"
    for i in $(seq "$runs"); do
      taskset -c "$cpu" "$CACHEFWD" replay --simulate "$file" --format "$fmt" --cache-size "$size" --policy "$policy" \
        --json "$tmp/t.$i.json" --quiet
    done
    python3 - "$policy" "$fmt" "$size" "$tmp"/t.*.json <<'PY'
import json, statistics, sys
policy, fmt, size, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
rates = sorted(json.load(open(f))["results"][0]["requests_per_second"] for f in files)
req = json.load(open(files[0]))["requests"]
print(f"{policy:<7} {fmt:<15} {size:>7} {req:>9} req  median {statistics.median(rates)/1e6:6.2f} M req/s  "
      f"(runs: {', '.join(f'{r/1e6:.2f}' for r in rates)})")
PY
    rm -f "$tmp"/t.*.json
  done
done
