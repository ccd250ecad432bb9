#!/usr/bin/env bash
# bench/soak.sh -- runs `cachefwd serve` under a fixed-rate mixed load for DURATION and reports
# what a long run shows and a short test does not: errors by kind, memory growth once the cache is
# full, and (with an ASan/UBSan build) any sanitizer report.
#
#   bench/soak.sh DURATION [SERVE_BINARY]        e.g. bench/soak.sh 10m build-asan/cmd/cachefwd
#
# Everything runs on loopback: `cachefwd origin`, the proxy (SERVE_BINARY, default
# build/cmd/cachefwd) with --admin, and side by side (bench takes one workload per process):
#   main     RATE req/s: KEYS keys, Zipf 0.9, 1-16 KiB bodies with ETags, NO_STORE no-store keys,
#            ERRORS keys answered 503, HEAD_FRACTION of requests as HEAD
#   large    LARGE_RATE req/s: 1-12 MiB bodies, some over --max-object-size (streamed, not stored)
#   down     DOWN_RATE req/s to a closed loopback port: 502 from the proxy
# and, during the run, every PURGE_EVERY seconds a purge (admin API by URL prefix, and the PURGE
# method on the proxy port, alternately) and every HUP_EVERY seconds a SIGHUP that reloads a
# config file whose TTL alternates. The proxy's RSS and cache counters are sampled every 2 s.
#
# Environment: RATE (400), LARGE_RATE (4), DOWN_RATE (5), KEYS (20000), MAX_BYTES (32MiB),
# NO_STORE (0.1), ERRORS (0.05), HEAD_FRACTION (0.1), PURGE_EVERY (3), HUP_EVERY (15),
# TOOLS (the cachefwd running origin and bench; default build/cmd/cachefwd when it exists, else
# SERVE_BINARY: a sanitizer build would measure itself), OUT (a directory for logs; default a
# new one under /tmp). Exit status: 0 clean, 1 sanitizer report, proxy crash or bench failure.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:?usage: bench/soak.sh DURATION [SERVE_BINARY]}
SERVE=${2:-build/cmd/cachefwd}
[[ -x "$SERVE" ]] || { echo "soak: no binary $SERVE" >&2; exit 2; }
TOOLS=${TOOLS:-}
if [[ -z "$TOOLS" ]]; then
  if [[ -x build/cmd/cachefwd ]]; then TOOLS=build/cmd/cachefwd; else TOOLS=$SERVE; fi
fi
RATE=${RATE:-400} LARGE_RATE=${LARGE_RATE:-4} DOWN_RATE=${DOWN_RATE:-5} KEYS=${KEYS:-20000}
MAX_BYTES=${MAX_BYTES:-32MiB} NO_STORE=${NO_STORE:-0.1} ERRORS=${ERRORS:-0.05}
HEAD_FRACTION=${HEAD_FRACTION:-0.1} PURGE_EVERY=${PURGE_EVERY:-3} HUP_EVERY=${HUP_EVERY:-15}
OUT=${OUT:-$(mktemp -d /tmp/cachefwd-soak.XXXXXX)}
mkdir -p "$OUT"
seconds=$(python3 -c "import re,sys; m=re.fullmatch(r'(\d+)(ms|s|m|h)?', sys.argv[1]); \
  print(int(m.group(1)) * {None:1,'s':1,'m':60,'h':3600}.get(m.group(2), 1) if m and m.group(2) != 'ms' else 0)" "$DURATION")
((seconds > 0)) || { echo "soak: DURATION like 60s or 10m" >&2; exit 2; }

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_log() {  # file pattern -> first match, waiting up to 10 s
  for _ in $(seq 100); do
    if grep -qE "$2" "$1" 2>/dev/null; then grep -m1 -oE "$2" "$1"; return 0; fi
    sleep 0.1
  done
  echo "soak: timed out waiting for '$2' in $1" >&2
  cat "$1" >&2
  return 1
}

# A port nothing listens on, for the unreachable-upstream share: bound (so that no other process
# on this machine can take it during the run) but never listening, so connecting is refused.
python3 -c "import socket, sys, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); \
print(s.getsockname()[1], flush=True); time.sleep(1e9)" >"$OUT/closed_port" &
pids+=($!)
for _ in $(seq 50); do [[ -s "$OUT/closed_port" ]] && break; sleep 0.1; done
closed_port=$(cat "$OUT/closed_port")

"$TOOLS" origin --listen 127.0.0.1:0 >"$OUT/origin.log" 2>&1 &
pids+=($!)
origin=$(wait_log "$OUT/origin.log" '127\.0\.0\.1:[0-9]+')

ttl_a='ttl = "0"' ttl_b='ttl = "30s"'
write_config() { printf '%s\nmax-object-size = "8MiB"\n' "$1" >"$OUT/serve.toml"; }
write_config "$ttl_a"
# Sanitizer reports go to serve.log with everything else the proxy says; leaks are checked at exit.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
  "$SERVE" serve --listen 127.0.0.1:0 --admin 127.0.0.1:0 --config "$OUT/serve.toml" --max-bytes "$MAX_BYTES" \
  --drain-timeout 5s 2>"$OUT/serve.log" &
serve_pid=$!
pids+=($serve_pid)
proxy=$(wait_log "$OUT/serve.log" 'listening on 127\.0\.0\.1:[0-9]+' | grep -oE '127\.0\.0\.1:[0-9]+')
admin=$(wait_log "$OUT/serve.log" 'admin API on 127\.0\.0\.1:[0-9]+' | grep -oE '127\.0\.0\.1:[0-9]+')
echo "soak: $DURATION; serve $SERVE (pid $serve_pid) on $proxy, admin $admin, origin $origin; logs in $OUT"

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
stat_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))" "$1" "$2"; }

# Samples: seconds, RSS KiB, entries, bytes, evictions.
echo "t_s rss_kib entries bytes evictions" >"$OUT/samples.txt"
sample() {
  curl -s --max-time 2 "http://$admin/stats" >"$OUT/stats.json" || return 0
  echo "$1 $(rss_kib "$serve_pid") $(stat_field "$OUT/stats.json" entries) $(stat_field "$OUT/stats.json" bytes) \
$(stat_field "$OUT/stats.json" evictions)" >>"$OUT/samples.txt"
}
sample 0

bench_common=(--proxy "$proxy" -d "$DURATION" --timeout 10s --no-progress)
"$TOOLS" bench "${bench_common[@]}" --origin "$origin" --keys "$KEYS" --zipf 0.9 --size 1KiB-16KiB \
  --no-store-fraction "$NO_STORE" --error-fraction "$ERRORS" --head-fraction "$HEAD_FRACTION" --query etag=1 \
  --rate "$RATE" --connections 32 --seed 1 --admin "http://$admin/stats" --proxy-pid "$serve_pid" \
  --json "$OUT/main.json" >"$OUT/main.txt" 2>&1 &
bench_main=$!
"$TOOLS" bench "${bench_common[@]}" --origin "$origin" --keys 40 --size 1MiB-12MiB --rate "$LARGE_RATE" \
  --connections 8 --seed 2 --json "$OUT/large.json" >"$OUT/large.txt" 2>&1 &
bench_large=$!
"$TOOLS" bench "${bench_common[@]}" --url "http://127.0.0.1:$closed_port/down" --rate "$DOWN_RATE" \
  --connections 2 --json "$OUT/down.json" >"$OUT/down.txt" 2>&1 &
bench_down=$!
pids+=($bench_main $bench_large $bench_down)

purges=0 purge_failures=0 hups=0
start=$(date +%s)
next_purge=$PURGE_EVERY next_hup=$HUP_EVERY next_sample=2
while kill -0 "$bench_main" 2>/dev/null; do
  sleep 0.5
  now=$(($(date +%s) - start))
  if ((now >= next_sample)); then sample "$now"; next_sample=$((now + 2)); fi
  if ((now >= next_purge)); then
    k=$((RANDOM % 200))
    if ((purges % 2 == 0)); then
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "http://$admin/purge?prefix=http://$origin/obj/$k")
    else
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X PURGE --proxy "http://$proxy" "http://$origin/obj/$k")
    fi
    purges=$((purges + 1))
    [[ "$code" == 200 || "$code" == 404 ]] || purge_failures=$((purge_failures + 1))
    next_purge=$((now + PURGE_EVERY))
  fi
  if ((now >= next_hup)); then
    if ((hups % 2 == 0)); then write_config "$ttl_b"; else write_config "$ttl_a"; fi
    kill -HUP "$serve_pid" 2>/dev/null || true
    hups=$((hups + 1))
    next_hup=$((now + HUP_EVERY))
  fi
done
bench_rc=0
for b in $bench_main $bench_large $bench_down; do wait "$b" || bench_rc=1; done
sample $(($(date +%s) - start))

# Graceful stop, so that LeakSanitizer runs at exit.
serve_alive=1
kill -0 "$serve_pid" 2>/dev/null || serve_alive=0
kill -TERM "$serve_pid" 2>/dev/null || true
serve_rc=0
wait "$serve_pid" || serve_rc=$?

report_rc=0
python3 - "$OUT" "$MAX_BYTES" "$purges" "$purge_failures" "$hups" "$serve_alive" "$serve_rc" <<'EOF' || report_rc=$?
import json, re, sys
out, max_bytes_text, purges, purge_failures, hups, alive, serve_rc = sys.argv[1:]
units = {"": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
m = re.fullmatch(r"(\d+)(KiB|MiB|GiB)?", max_bytes_text)
max_bytes = int(m.group(1)) * units[m.group(2) or ""]
def load(name):
    try:
        return json.load(open(f"{out}/{name}.json"))
    except Exception:
        return None
print(f"{'workload':<8} {'sent':>9} {'responses':>9} {'2xx':>8} {'3xx':>5} {'4xx':>5} {'5xx':>7} "
      f"{'connect':>7} {'timeout':>7} {'io':>5} {'parse':>5} {'hit%':>6} {'p99 ms':>8}")
total = {"sent": 0, "responses": 0, "errors": 0}
for name in ("main", "large", "down"):
    r = load(name)
    if r is None:
        print(f"{name:<8} (no report: see {out}/{name}.txt)")
        continue
    s, e = r["status"], r["errors"]
    total["sent"] += r["sent"]; total["responses"] += r["responses"]; total["errors"] += e["total"]
    print(f"{name:<8} {r['sent']:>9} {r['responses']:>9} {s['2xx']:>8} {s['3xx']:>5} {s['4xx']:>5} {s['5xx']:>7} "
          f"{e['connect']:>7} {e['timeout']:>7} {e['io']:>5} {e['parse']:>5} "
          f"{100 * r['cache']['hit_ratio']:>6.1f} {r['latency']['all']['p99_ns'] / 1e6:>8.2f}")
print(f"total: {total['sent']} sent, {total['responses']} responses, {total['errors']} client-side errors "
      f"(connect/timeout/io/parse); 5xx are the workload's 503 keys and the unreachable upstream's 502s")
try:
    st = json.load(open(f"{out}/stats.json"))
    print("proxy counters: " + ", ".join(f"{k} {st.get(k, 0)}" for k in (
        "requests", "hits", "misses", "stored", "not_stored", "too_large", "evictions", "purged", "revalidated",
        "coalesced", "upstream_errors", "upstream_timeouts", "upstream_connect_errors", "client_errors",
        "entries", "bytes")))
except Exception:
    pass
log = open(f"{out}/serve.log", errors="replace").read()
reloads = log.count("configuration reloaded")
print(f"purges sent {purges} ({purge_failures} failed), SIGHUPs sent {hups}, reloads logged {reloads}")

rows = [list(map(int, l.split())) for l in open(f"{out}/samples.txt").read().splitlines()[1:] if l.strip()]
if rows:
    mib = lambda kib: kib / 1024
    start = rows[1] if len(rows) > 1 else rows[0]  # the first sample under load
    filled = next((r for r in rows if r[3] >= 0.9 * max_bytes or r[4] > 0), None)
    end = rows[-1]
    print(f"proxy RSS: idle {mib(rows[0][1]):.1f} MiB, start of load {mib(start[1]):.1f} MiB (t={start[0]} s)", end="")
    if filled:
        after = [r for r in rows if r[0] >= filled[0]]
        peak = max(r[1] for r in after)
        print(f", cache full {mib(filled[1]):.1f} MiB (t={filled[0]} s, {filled[2]} entries, "
              f"{filled[3] / 2**20:.1f} MiB stored), end {mib(end[1]):.1f} MiB (t={end[0]} s); "
              f"after full: peak {mib(peak):.1f} MiB, end - full {mib(end[1] - filled[1]):+.1f} MiB")
        # Growth over the second half of the time after the cache filled: a steady leak shows there.
        half = [r for r in after if r[0] >= filled[0] + (end[0] - filled[0]) / 2]
        if len(half) > 1:
            print(f"  second half after full: {mib(half[0][1]):.1f} -> {mib(half[-1][1]):.1f} MiB "
                  f"({mib(half[-1][1] - half[0][1]):+.1f} MiB over {half[-1][0] - half[0][0]} s)")
    else:
        print(f", end {mib(end[1]):.1f} MiB (t={end[0]} s); the cache never filled (raise RATE or the duration)")
    print(f"  samples: {out}/samples.txt (t_s rss_kib entries bytes evictions)")

findings = re.findall(r"(ERROR: (?:AddressSanitizer|LeakSanitizer)[^\n]*|runtime error:[^\n]*|SUMMARY: [^\n]*)", log)
print(f"proxy exit: {'ran to the end' if alive == '1' else 'DIED DURING THE RUN'}, status after SIGTERM {serve_rc}")
if findings:
    print(f"sanitizer reports ({len(findings)}):")
    for f in findings[:10]:
        print("  " + f)
else:
    print("sanitizer reports: none")
sys.exit(1 if findings or alive != "1" or serve_rc not in ("0",) else 0)
EOF
trap - EXIT
cleanup
exit $((report_rc || bench_rc))
