#!/usr/bin/env bash
# Builds the Debian package from the ci build, unpacks it into a scratch root (dpkg -x, no root
# needed), checks that every package it depends on is installed, and runs the unpacked programs
# on the unpacked demo: what a user gets from `apt install ./quantscope_*.deb`.
# Usage: packaging/check-deb.sh [BUILD_DIR]   (default build/ci, already built)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/ci}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

(cd "$build" && cpack -G DEB -B "$scratch/pkg" >/dev/null)
deb=$(ls "$scratch"/pkg/quantscope_*.deb)
echo "package: $(basename "$deb") ($(du -h "$deb" | cut -f1))"

# Every dependency (the first installed alternative of each) must be on this machine.
missing=0
IFS=',' read -ra depends <<<"$(dpkg-deb -f "$deb" Depends)"
for dependency in "${depends[@]}"; do
  found=0
  IFS='|' read -ra alternatives <<<"$dependency"
  for alternative in "${alternatives[@]}"; do
    name=$(echo "$alternative" | sed -e 's/(.*)//' -e 's/[[:space:]]//g')
    if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed"; then
      found=1
      break
    fi
  done
  if [ "$found" = 0 ]; then
    echo "check-deb: error: dependency not installed: $dependency" >&2
    missing=1
  fi
done
[ "$missing" = 0 ]

root="$scratch/root"
dpkg -x "$deb" "$root"
demo="$root/usr/share/quantscope/demo"
test -f "$demo/digits_mlp.safetensors"

# The unpacked CLI on the unpacked demo.
"$root/usr/bin/quantscope-cli" info "$demo/digits_mlp.safetensors" >"$scratch/info.txt"
grep -q "fc1.weight" "$scratch/info.txt"
"$root/usr/bin/quantscope-cli" analyze "$demo/digits_mlp.safetensors" --dtype int4 --json "$scratch/a.json" >/dev/null
grep -q '"quantscope-qparams"' "$scratch/a.json"

# The unpacked GUI finds its demo beside itself (../share/quantscope/demo) and renders offscreen.
env -u DISPLAY -u WAYLAND_DISPLAY "$root/usr/bin/quantscope" --version
XDG_CONFIG_HOME="$scratch/config" "$root/usr/bin/quantscope" --demo --screenshot "$scratch/demo.png" \
  --size 1280x720
test -s "$scratch/demo.png"
echo "check-deb: the package installs, its dependencies are present, and both programs run"
