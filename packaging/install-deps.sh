#!/usr/bin/env bash
# Installs every Debian 12 package Quantscope needs to build, test and run.
# Used by the README's commands and by CI, so both see the same machine.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  qt6-base-dev qt6-base-dev-tools qt6-svg-dev libgl-dev
  libqcustomplot-dev
  libeigen3-dev libopenblas-dev
  nlohmann-json3-dev
  libzip-dev
  libssl-dev
  libstb-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libonnx-testdata  # ONNX's backend node tests, run by tests/core/tst_onnx_backend
  libbenchmark-dev
  qt6-qpa-plugins fonts-dejavu-core
  python3 clang-format
  clang libclang-rt-14-dev  # the sanitizer build and its libFuzzer targets (dev-asan, fuzz presets)
  file  # CPackDeb runs `file` on the binaries to find their library dependencies (cpack -G DEB)
)

run_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

export DEBIAN_FRONTEND=noninteractive
run_as_root apt-get update
run_as_root apt-get install -y --no-install-recommends "${packages[@]}"
