#!/usr/bin/env bash
# Server CPU per cache hit, for comparing builds: `cachefwd serve` pinned to one CPU, `cachefwd
# bench` (with its own embedded origin) pinned to the other, 100 hot 1 KiB keys, 16 connections.
# The proxy's user+system CPU time (from /proc) over the measured interval, divided by the
# responses bench counted. Runs the binaries round-robin so drift hits both alike; prints each
# round and the median per binary.
# Usage: bench/hit_cpu.sh ROUNDS DURATION BIN [BIN...]     e.g. bench/hit_cpu.sh 5 5s old/cachefwd new/cachefwd
set -euo pipefail
rounds=$1 dur=$2
shift 2
bins=("$@")
tck=$(getconf CLK_TCK)
declare -A results
port=39111
for ((r = 1; r <= rounds; r++)); do
  for b in "${bins[@]}"; do
    port=$((port + 1))
    taskset -c 0 "$b" serve --listen "127.0.0.1:$port" 2>/dev/null &
    pid=$!
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    # warm: every key stored once
    taskset -c 1 "$b" bench --proxy "127.0.0.1:$port" --keys 100 --size 1KiB -c 16 -d 1s >/dev/null
    read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
    json=$(mktemp)
    taskset -c 1 "$b" bench --proxy "127.0.0.1:$port" --keys 100 --size 1KiB -c 16 -d "$dur" --json "$json" >/dev/null
    read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["responses"])' "$json")
    rm -f "$json"
    us=$(python3 -c "print(round((($u1-$u0)+($s1-$s0))/$tck*1e6/$n, 2))")
    echo "round $r  $b  responses $n  server CPU ${us} us/req"
    results[$b]+="$us "
  done
done
for b in "${bins[@]}"; do
  echo "median  $b  $(printf '%s\n' ${results[$b]} | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') us/req"
done
