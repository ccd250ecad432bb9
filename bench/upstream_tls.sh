#!/usr/bin/env bash
# CPU per miss of `cachefwd serve` (gateway) over plain http, https HTTP/1.1 and https HTTP/2, in
# one run against one loopback nginx (no-store objects: every request is a miss). The proxy is
# pinned to CPU 1, nginx and the load generator to CPU 0. Prints median CPU µs per request of N runs.
# Usage: bench/upstream_tls.sh [BUILD_DIR] [RUNS] [DURATION]
set -euo pipefail
build=${1:-build}; runs=${2:-3}; dur=${3:-5s}
bin=$(realpath "$build/cmd/cachefwd")
dir=$(mktemp -d /tmp/cachefwd-tlsbench-XXXXXX)
trap 'kill $(cat "$dir/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$dir"' EXIT
cd "$dir"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca 2>/dev/null
openssl req $ec -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
echo "subjectAltName=IP:127.0.0.1" > ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext 2>/dev/null
mkdir -p tmp
cat > nginx.conf <<CONF
daemon off; master_process off; worker_processes 1; pid $dir/nginx.pid; error_log $dir/error.log;
events { worker_connections 4096; }
http {
  access_log off; default_type text/plain; keepalive_requests 1000000;
  client_body_temp_path $dir/tmp/b; proxy_temp_path $dir/tmp/p; fastcgi_temp_path $dir/tmp/f;
  uwsgi_temp_path $dir/tmp/u; scgi_temp_path $dir/tmp/s;
  server {
    listen 127.0.0.1:18443 ssl http2; listen 127.0.0.1:18080;
    ssl_certificate $dir/server.pem; ssl_certificate_key $dir/server.key;
    location / { add_header Cache-Control no-store always; return 200 "\$request_uri 1KiB-ish body padding padding padding\n"; }
  }
}
CONF
taskset -c 0 /usr/sbin/nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" &
sleep 0.5
measure() {  # label, serve flags...
  local label=$1; shift
  local samples=()
  for ((i = 0; i < runs; i++)); do
    taskset -c 1 "$bin" serve --listen 127.0.0.1:13128 "$@" 2>/dev/null &
    local pid=$!
    sleep 0.3
    taskset -c 0 "$bin" bench --url http://127.0.0.1:13128/x -c 32 -d 1s --no-progress >/dev/null 2>&1  # warm
    local t0; t0=$(awk '{print $14+$15}' /proc/$pid/stat)
    taskset -c 0 "$bin" bench --url http://127.0.0.1:13128/x -c 32 -d "$dur" --no-progress --json out.json >/dev/null 2>&1
    local t1; t1=$(awk '{print $14+$15}' /proc/$pid/stat)
    local n; n=$(python3 -c 'import json;d=json.load(open("out.json"));print(d["responses"])')
    samples+=("$(python3 -c "print(($t1-$t0)/$(getconf CLK_TCK)*1e6/$n)")")
    kill $pid; wait $pid 2>/dev/null || true
  done
  printf '%-22s %s  (runs: %s)\n' "$label" "$(printf '%s\n' "${samples[@]}" | sort -g | awk '{a[NR]=$1} END{printf "%.1f us CPU/miss", a[int((NR+1)/2)]}')" "${samples[*]}"
}
measure "http  (HTTP/1.1)" --upstream http://127.0.0.1:18080
measure "https HTTP/1.1" --upstream https://127.0.0.1:18443 --upstream-ca ca.pem --upstream-http2 off
measure "https HTTP/2" --upstream https://127.0.0.1:18443 --upstream-ca ca.pem --upstream-http2 auto
