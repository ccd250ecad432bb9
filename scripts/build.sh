#!/usr/bin/env bash
# Installs missing dependencies and builds cachefwd into build/ (release with debug info).
# Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCACHEFWD_WERROR=ON "${launcher[@]}" "$@" >/dev/null
cmake --build build -j"$(nproc)"
