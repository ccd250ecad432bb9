#!/usr/bin/env bash
# bench/bench_vs_wrk.sh -- the speed target of `cachefwd bench` (issue 5): against the same origin,
# `cachefwd bench --connections 64` should reach at least 90% of `wrk -t1 -c64` requests/s.
#
# Starts `cachefwd origin` pinned to ORIGIN_CPU, then runs wrk and cachefwd bench, each pinned to
# CLIENT_CPU, interleaved (the order alternates per round), ROUNDS rounds; prints each run, the
# medians and the ratio. Stops only the origin it started.
#
#   bench/bench_vs_wrk.sh [path/to/cachefwd]
#   ROUNDS=3 DURATION=10s CONNS=64 ORIGIN_CPU=0 CLIENT_CPU=1 SIZE=1024 bench/bench_vs_wrk.sh build/cachefwd
#
# Build cachefwd in Release (RelWithDebInfo or Release) before measuring; a Debug or sanitizer
# build measures the build, not the tool.
set -euo pipefail

CACHEFWD="${1:-${CACHEFWD:-}}"
if [[ -z "$CACHEFWD" ]]; then
  for c in build/cachefwd build/cmd/cachefwd; do [[ -x "$c" ]] && CACHEFWD="$c" && break; done
fi
[[ -x "$CACHEFWD" ]] || { echo "usage: $0 path/to/cachefwd" >&2; exit 2; }
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
CONNS="${CONNS:-64}"
ORIGIN_CPU="${ORIGIN_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
SIZE="${SIZE:-1024}"

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

RUN="$(mktemp -d /tmp/bench-vs-wrk.XXXXXX)"
ORIGIN_PID=""
cleanup() { [[ -n "$ORIGIN_PID" ]] && kill "$ORIGIN_PID" 2>/dev/null && wait "$ORIGIN_PID" 2>/dev/null; true; }
trap cleanup EXIT

taskset -c "$ORIGIN_CPU" "$CACHEFWD" origin --listen 127.0.0.1:0 >"$RUN/origin.out" 2>&1 &
ORIGIN_PID=$!
for _ in $(seq 50); do grep -q listening "$RUN/origin.out" && break; sleep 0.1; done
PORT="$(sed -n 's/^origin listening on .*:\([0-9]*\)$/\1/p' "$RUN/origin.out")"
[[ -n "$PORT" ]] || { echo "origin did not start:" >&2; cat "$RUN/origin.out" >&2; exit 1; }
URL="http://127.0.0.1:${PORT}/obj/1?size=${SIZE}"
echo "origin pid $ORIGIN_PID on cpu $ORIGIN_CPU, clients on cpu $CLIENT_CPU, $URL, $CONNS connections, $DURATION x $ROUNDS rounds"

# Each prints "requests/s cpu-seconds requests": CPU per request is the figure that survives an
# origin-bound or noisy run (the clients share nothing but the origin).
TIMEFORMAT='%U %S'
run_wrk() {
  local cpu
  cpu=$( { time taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$DURATION" "$URL" >"$RUN/wrk.$1.txt"; } 2>&1 )
  echo "$(awk '/^Requests\/sec:/ {print $2}' "$RUN/wrk.$1.txt")" \
    "$(awk '{print $1 + $2}' <<<"$cpu")" "$(awk '/requests in/ {print $1}' "$RUN/wrk.$1.txt")"
}
run_bench() {
  local cpu
  cpu=$( { time taskset -c "$CLIENT_CPU" "$CACHEFWD" bench --url "$URL" --connections "$CONNS" \
    --duration "$DURATION" --no-progress --json "$RUN/bench.$1.json" >"$RUN/bench.$1.txt"; } 2>&1 )
  echo "$(sed -n 's/^  "throughput_rps": \([0-9.e+]*\),$/\1/p' "$RUN/bench.$1.json")" \
    "$(awk '{print $1 + $2}' <<<"$cpu")" "$(sed -n 's/^  "responses": \([0-9]*\),$/\1/p' "$RUN/bench.$1.json")"
}

WRK=(); BENCH=(); WRK_US=(); BENCH_US=()
for r in $(seq "$ROUNDS"); do
  if (( r % 2 )); then w=($(run_wrk "$r")); b=($(run_bench "$r")); else b=($(run_bench "$r")); w=($(run_wrk "$r")); fi
  wus=$(awk -v c="${w[1]}" -v n="${w[2]}" 'BEGIN {printf "%.2f", c * 1e6 / n}')
  bus=$(awk -v c="${b[1]}" -v n="${b[2]}" 'BEGIN {printf "%.2f", c * 1e6 / n}')
  printf 'round %d: wrk %10.0f req/s (%s us CPU/req)   cachefwd bench %10.0f req/s (%s us CPU/req)\n' \
    "$r" "${w[0]}" "$wus" "${b[0]}" "$bus"
  WRK+=("${w[0]}"); BENCH+=("${b[0]}"); WRK_US+=("$wus"); BENCH_US+=("$bus")
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
MW=$(median "${WRK[@]}"); MB=$(median "${BENCH[@]}")
awk -v w="$MW" -v b="$MB" -v wu="$(median "${WRK_US[@]}")" -v bu="$(median "${BENCH_US[@]}")" 'BEGIN {
  printf "median: wrk %.0f req/s, cachefwd bench %.0f req/s, ratio %.3f (target >= 0.90)\n", w, b, b / w
  printf "client CPU per request (median): wrk %.2f us, cachefwd bench %.2f us\n", wu, bu }'
echo "raw outputs: $RUN"
