#!/usr/bin/env bash
# Installs the Debian packages, builds everything with warnings as errors and runs every test.
# This is the README's test command; CI runs it too.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${QUANTSCOPE_SKIP_DEPS:-0}" != "1" ]; then
  bash packaging/install-deps.sh
fi
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset ci
cmake --build --preset ci -j "$jobs"
export QT_QPA_PLATFORM=offscreen
ctest --preset ci -j "$jobs"
