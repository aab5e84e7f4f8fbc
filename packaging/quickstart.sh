#!/usr/bin/env bash
# Installs the Debian packages, builds Quantscope and opens it on the bundled digits demo.
# Without a display the same build analyses the demo's weights on the command line instead.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${QUANTSCOPE_SKIP_DEPS:-0}" != "1" ]; then
  bash packaging/install-deps.sh
fi
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset release
cmake --build --preset release -j "$jobs"

if [ -x build/release/app/quantscope ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ] || [ -n "${QT_QPA_PLATFORM:-}" ]; }; then
  exec build/release/app/quantscope --demo "$@"
fi
echo "No display: analysing the demo weights on the command line." >&2
exec build/release/app/quantscope-cli analyze resources/demo/digits_mlp.safetensors --scheme symmetric --granularity channel "$@"
