#!/usr/bin/env bash
# Installs what cachefwd needs to build and test, from Debian's packages, when it is missing.
# Usage: scripts/install-deps.sh [--bench] [--fuzz]
#   --bench adds wrk and the tools the benchmarks use; --fuzz adds clang 14 and its libFuzzer /
#   sanitizer runtimes (scripts/fuzz.sh).
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config libuv1-dev libcurl4-openssl-dev libcli11-dev libfmt-dev
      libgtest-dev libbenchmark-dev libhttp-parser-dev libssl-dev xz-utils nlohmann-json3-dev
      libtomlplusplus-dev
      nginx openssl)  # nginx, openssl: the TLS/HTTP2 origin of tests/integration/upstream_tls_test.cpp
for opt in "$@"; do
  case "$opt" in
    --bench) pkgs+=(wrk util-linux) ;;
    --fuzz) pkgs+=(clang-14 libclang-rt-14-dev) ;;
    *) echo "install-deps.sh: unknown option $opt" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
